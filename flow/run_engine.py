"""Standalone runner for the physical engine (development and the probe test).

    python -m flow.run_engine --design probe --out build/engine_probe

Runs synth (``gptnano.synth``) -> floorplan -> place -> cts -> rsz -> ant -> route ->
drc_repair -> fill -> gds -> extract -> KLayout DRC -> Magic DRC -> LVS, each step in
``<out>/<nn>_<step>/{inputs,outputs,reports}`` with the previous step's outputs copied into
its inputs, and prints/writes the metrics of every step to ``<out>/metrics.json``.  An
existing ``<out>`` is never overwritten.
"""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import sys
import time
from pathlib import Path

from flow.tasks.steps import CHECK_TASKS, LAYOUT_TASKS
from gptnano.design_config import DesignConfigError, check_tool_path, load_design
from gptnano.paths import MissingDataError
from gptnano.step import StepContext, StepError

# The flow's own step order and modules (flow.tasks.steps), so this runner cannot drift from
# the SiliconCompiler flowgraph; signoff checks that read the GDS views only.
LAYOUT_MODULES = {cls.NAME: cls.MODULE for cls in LAYOUT_TASKS}
CHECK_MODULES = {cls.NAME: cls.MODULE for cls in CHECK_TASKS}
STEPS = tuple(LAYOUT_MODULES)
SIGNOFF = tuple(CHECK_MODULES)


def _synth(design, workdir: Path) -> Path:
    from gptnano import synth

    ctx = StepContext.standalone(design, workdir)
    for f in design.rtl:
        shutil.copy(f, ctx.inputs_dir / f.name)
    if len(design.rtl) == 1:
        shutil.copy(design.rtl[0], ctx.inputs_dir / f"{design.top}.v")
    synth.run(ctx)
    return ctx.output("vg")


def run_flow(design_name: str, out: Path, until: str | None = None,
             netlist: Path | None = None) -> dict[str, dict]:
    design = load_design(design_name)
    out = out.resolve()
    if out.exists():
        raise StepError(f"{out} exists; choose a new --out (earlier runs are never overwritten)")
    out.mkdir(parents=True)
    metrics: dict[str, dict] = {}
    t0 = time.monotonic()
    if netlist is None:
        netlist = _synth(design, out / "00_synth")
        metrics["synth"] = {"runtime_s": round(time.monotonic() - t0, 2)}
    prev_outputs: list[Path] = [netlist]
    steps = [*LAYOUT_MODULES.items(), *CHECK_MODULES.items()]
    views: dict[str, Path] = {}
    for k, (name, module) in enumerate(steps, 1):
        ctx = StepContext.standalone(design, out / f"{k:02d}_{name}")
        for f in prev_outputs:
            views[f.name.split(".", 1)[1] if "." in f.name else f.name] = f
        for ext, f in views.items():
            shutil.copy(f, ctx.inputs_dir / f"{design.top}.{ext}")
        ts = time.monotonic()
        result = importlib.import_module(module).run(ctx)
        result.setdefault("runtime_s", round(time.monotonic() - ts, 2))
        metrics[name] = result
        print(f"[{name}] " + " ".join(f"{a}={b}" for a, b in result.items()), flush=True)
        prev_outputs = sorted(p for p in ctx.outputs_dir.iterdir() if p.is_file())
        if until == name:
            break
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--design", default="probe")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--until", choices=STEPS + SIGNOFF)
    ap.add_argument("--netlist", type=Path, help="use this gate netlist instead of synthesizing")
    args = ap.parse_args(argv)
    if args.out.exists():
        print(f"error: {args.out.resolve()} exists; choose a new --out (earlier runs are never "
              "overwritten)", file=sys.stderr)
        return 2
    try:
        load_design(args.design)
        check_tool_path(args.out.resolve(), "--out")
    except DesignConfigError as exc:  # the user's input: 2, like every CLI here
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        run_flow(args.design, args.out, args.until, args.netlist)
    except (StepError, MissingDataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
