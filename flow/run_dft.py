"""``python -m flow.run_dft --design <name>`` (also ``python -m dft.run``, ``make dft``):
synthesis + the DFT steps without the physical flow.

Runs, in ``build/<name>/dft/``: synthesis (:mod:`gptnano.synth`, ``--synth flow`` -- the flow's
own ``syn`` step, the default -- or ``dft``, the scan-ready mode), then the DFT steps of
:data:`flow.tasks.dft.TASKS` in their order (``cut``, ``atpg``, ``chain``, ``asm``), each
through its flow task's :meth:`~flow.tasks.dft.DftStepTask.call_engine` in its own folder with
``inputs/``, ``outputs/``, ``reports/`` fed by the previous step's outputs, and writes the
summary ``build/<name>/dft.json`` (:mod:`dft.summary`): ``scan_flops``, ``chains``,
``chain_lengths``, ``stuck_at_coverage`` (percent), ``vectors``, ``runtime_s`` (the DFT steps)
and per-step runtimes; ``total_runtime_s`` includes synthesis.

Why beside the SiliconCompiler flow: the DFT tests and the nightly DFT stage need the four
steps on a netlist in seconds, without floorplan to signoff. The step list, the step code and
the metric files are the flow's own, so both paths give the same ``dft.json``
(``dft/tests/test_tasks.py`` compares them).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from dft.summary import DftSummaryError, summarize, write_summary
from flow.tasks.dft import TASKS
from gptnano import synth
from gptnano.design_config import DesignConfig, DesignConfigError, check_tool_path, load_design
from gptnano.paths import MissingDataError, build_root
from gptnano.step import StepContext, StepError

SYNTH_MODES = ("flow", "dft")


def synthesize(design: DesignConfig, workdir: Path, mode: str = "flow") -> tuple[Path, str]:
    """Gate netlist ``<top>.vg`` (+ SDC) in ``workdir/outputs`` through the one synthesis entry
    point; returns it and the mode used."""
    ctx = StepContext.standalone(design, workdir)
    if mode == "flow":
        synth.run(ctx)
    elif mode == "dft":
        synth.synthesize(design.rtl, design.top, ctx.output("vg"), ctx.reports_dir, mode)
        shutil.copyfile(design.sdc, ctx.output("sdc"))
    else:
        raise StepError(f"unknown DFT synthesis mode '{mode}'; known: {list(SYNTH_MODES)}")
    return ctx.output("vg"), f"gptnano.synth ({mode})"


def _log(message: str) -> None:
    print(message, flush=True)


def run_dft(design: DesignConfig, root: Path | None = None,
            log: Callable[[str], None] = _log, synth_mode: str = "flow") -> dict:
    """Synthesis + all DFT steps; returns (and writes) the summary (:mod:`dft.summary`)."""
    base = ((root or build_root()) / design.name).resolve()
    workdir = base / "dft"
    if workdir.exists():
        shutil.rmtree(workdir)
    start = time.monotonic()
    _netlist, synth_tool = synthesize(design, workdir / "syn", synth_mode)
    syn_s = round(time.monotonic() - start, 2)
    log(f"[dft] syn ({synth_tool}): {syn_s} s")
    previous = workdir / "syn" / "outputs"
    step_dirs: dict[str, Path] = {}
    for cls in TASKS:
        ctx = StepContext.standalone(design, workdir / cls.NAME)
        for f in previous.iterdir():
            shutil.copyfile(f, ctx.inputs_dir / f.name)
        metrics = cls().call_engine(ctx)  # the flow node's own call: step + metrics file
        log(f"[dft] {cls.NAME}: {metrics[f'dft_{cls.NAME}_runtime_s']} s")
        step_dirs[cls.NAME] = ctx.workdir
        previous = ctx.outputs_dir
    summary = summarize(design, step_dirs, {"source": "dft.run", "synthesis": synth_tool})
    summary["step_runtime_s"] = {"syn": syn_s, **summary["step_runtime_s"]}
    summary["total_runtime_s"] = round(time.monotonic() - start, 2)
    write_summary(base, summary)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--design", required=True,
                        help="design name (designs/<name>) or a config.yaml path")
    parser.add_argument("--build", type=Path, default=None, help="build root (default: build/)")
    parser.add_argument("--synth", choices=SYNTH_MODES, default="flow",
                        help="gptnano.synth mode: flow (the flow's netlist, default) or dft "
                             "(scan-ready: DFT keep-out cells removed)")
    args = parser.parse_args(argv)
    try:
        design = load_design(args.design)
        check_tool_path((args.build or build_root()).resolve(), "build folder")
        summary = run_dft(design, args.build, synth_mode=args.synth)
    except (DesignConfigError, MissingDataError) as exc:  # the user's config or setup: 2
        print(f"dft: error: {exc}", file=sys.stderr)
        return 2
    except (StepError, DftSummaryError, ValueError, FileNotFoundError) as exc:
        print(f"dft: error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
