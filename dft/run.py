"""``python -m dft.run --design <name>`` (``make dft``): synthesis + DFT standalone.

Runs, in ``build/<name>/dft/``: synthesis (:mod:`gptnano.synth`, ``--synth flow`` or ``dft``),
then the steps ``cut``, ``atpg``, ``chain``, ``asm`` (each in its own folder with ``inputs/``,
``outputs/``, ``reports/``, fed by the previous step's outputs), and writes the summary
``build/<name>/dft.json`` (:mod:`dft.summary`): ``scan_flops``, ``chains``, ``chain_lengths``,
``stuck_at_coverage`` (percent), ``vectors``, ``runtime_s`` (the DFT steps) and per-step
runtimes; ``total_runtime_s`` includes synthesis.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from dft.steps import asm, atpg, chain, cut
from dft.summary import DftSummaryError, summarize, write_step_metrics, write_summary
from gptnano import synth
from gptnano.design_config import DesignConfig, DesignConfigError, check_tool_path, load_design
from gptnano.paths import MissingDataError, build_root
from gptnano.step import StepContext, StepError

STEPS = (("cut", cut), ("atpg", atpg), ("chain", chain), ("asm", asm))


def synthesize(design: DesignConfig, workdir: Path, mode: str = "flow") -> tuple[Path, str]:
    """Gate netlist ``<top>.vg`` (+ SDC) in ``workdir/outputs`` through the one synthesis entry
    point (:mod:`gptnano.synth`); returns it and the mode used. ``flow`` is the flow's own
    ``syn`` step, ``dft`` the scan-ready mode (DFT keep-out cells cut from the Liberty)."""
    ctx = StepContext.standalone(design, workdir)
    if mode == "flow":
        synth.run(ctx)
    else:
        synth.synthesize(design.rtl, design.top, ctx.output("vg"), ctx.reports_dir, mode)
        shutil.copyfile(design.sdc, ctx.output("sdc"))
    return ctx.output("vg"), f"gptnano.synth ({mode})"


def _log(message: str) -> None:
    print(message, flush=True)


def run_dft(design: DesignConfig, root: Path | None = None, log=_log,
            synth_mode: str = "flow") -> dict:
    """Synthesis + all DFT steps; returns (and writes) the summary (:mod:`dft.summary`)."""
    base = ((root or build_root()) / design.name).resolve()
    workdir = base / "dft"
    if workdir.exists():
        shutil.rmtree(workdir)
    start = time.monotonic()
    t0 = time.monotonic()
    _netlist, synth_tool = synthesize(design, workdir / "syn", synth_mode)
    syn_s = round(time.monotonic() - t0, 2)
    log(f"[dft] syn ({synth_tool}): {syn_s} s")
    previous = workdir / "syn" / "outputs"
    step_dirs: dict[str, Path] = {}
    for name, module in STEPS:
        ctx = StepContext.standalone(design, workdir / name)
        for f in previous.iterdir():
            shutil.copyfile(f, ctx.inputs_dir / f.name)
        metrics = module.run(ctx)
        write_step_metrics(ctx.workdir, name, metrics)
        log(f"[dft] {name}: {metrics[f'dft_{name}_runtime_s']} s")
        step_dirs[name] = ctx.workdir
        previous = ctx.outputs_dir
    summary = summarize(design, step_dirs, {"source": "dft.run", "synthesis": synth_tool})
    summary["step_runtime_s"] = {"syn": syn_s, **summary["step_runtime_s"]}
    summary["total_runtime_s"] = round(time.monotonic() - start, 2)
    write_summary(base, summary)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--design", required=True,
                        help="design name (designs/<name>) or a config.yaml path")
    parser.add_argument("--build", type=Path, default=None, help="build root (default: build/)")
    parser.add_argument("--synth", choices=("flow", "dft"), default="flow",
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
