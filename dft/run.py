"""``python -m dft.run --design <name>`` (``make dft``): synthesis + DFT standalone.

Runs, in ``build/<name>/dft/``: synthesis (``pnr.engine.synth`` when the flow provides it, else
:mod:`dft.synth`), then the steps ``cut``, ``atpg``, ``chain``, ``asm`` (each in its own folder
with ``inputs/``, ``outputs/``, ``reports/``, fed by the previous step's outputs), and writes the
summary ``build/<name>/dft.json`` (:mod:`dft.summary`): ``scan_flops``, ``chains``,
``chain_lengths``, ``stuck_at_coverage`` (percent), ``vectors``, ``runtime_s`` (the DFT steps)
and per-step runtimes; ``total_runtime_s`` includes synthesis.
"""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import sys
import time
from pathlib import Path

from dft import synth
from dft.steps import asm, atpg, chain, cut
from dft.steps.common import DFT_CORNER
from dft.summary import DftSummaryError, summarize, write_step_metrics, write_summary
from gptnano.design_config import DesignConfig, DesignConfigError, check_tool_path, load_design
from gptnano.paths import MissingDataError, build_root
from gptnano.pdk import DFT_DONT_USE, filtered_liberty
from gptnano.step import StepContext, StepError

STEPS = (("cut", cut), ("atpg", atpg), ("chain", chain), ("asm", asm))


def _flow_synth():
    """The flow's synthesis step module, if that part of the project exists yet."""
    try:
        module = importlib.import_module("pnr.engine.synth")
    except ImportError:
        return None
    return module if hasattr(module, "run") else None


def synthesize(design: DesignConfig, workdir: Path, use_flow: bool = True) -> tuple[Path, str]:
    """Gate netlist ``<top>.vg`` (+ SDC) in ``workdir/outputs``; returns it and the tool used.
    ``use_flow=False`` forces the stand-in :mod:`dft.synth` even when the flow's step exists."""
    ctx = StepContext.standalone(design, workdir)
    rtl = ctx.inputs_dir / f"{design.top}.v"
    rtl.write_text("".join(Path(f).read_text() + "\n" for f in design.rtl))
    shutil.copyfile(design.sdc, ctx.inputs_dir / f"{design.top}.sdc")
    flow_synth = _flow_synth() if use_flow else None
    if flow_synth is not None:
        flow_synth.run(ctx)
        used = "pnr.engine.synth"
    else:
        filtered = filtered_liberty(DFT_CORNER, DFT_DONT_USE, "dft")
        synth.synthesize(list(design.rtl), design.top, filtered, ctx.output("vg"),
                         ctx.reports_dir / "yosys.log")
        shutil.copyfile(design.sdc, ctx.output("sdc"))
        used = "dft.synth (yosys fallback)"
    if not ctx.output("vg").is_file():
        raise StepError(f"synthesis wrote no netlist {ctx.output('vg')}")
    return ctx.output("vg"), used


def _log(message: str) -> None:
    print(message, flush=True)


def run_dft(design: DesignConfig, root: Path | None = None, log=_log,
            flow_synth: bool = True) -> dict:
    """Synthesis + all DFT steps; returns (and writes) the summary (:mod:`dft.summary`)."""
    base = ((root or build_root()) / design.name).resolve()
    workdir = base / "dft"
    if workdir.exists():
        shutil.rmtree(workdir)
    start = time.monotonic()
    t0 = time.monotonic()
    _netlist, synth_tool = synthesize(design, workdir / "syn", flow_synth)
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
    parser.add_argument("--synth", choices=("flow", "yosys"), default="flow",
                        help="flow: pnr.engine.synth when present (default); yosys: dft.synth")
    args = parser.parse_args(argv)
    try:
        design = load_design(args.design)
        check_tool_path((args.build or build_root()).resolve(), "build folder")
        summary = run_dft(design, args.build, flow_synth=args.synth == "flow")
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
