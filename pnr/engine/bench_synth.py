"""Synthesis benchmark: yosys build x ABC script, per design: runtime, cells, area, slack.

    python -m pnr.engine.bench_synth                              # probe orfs_gcd small ...
    python -m pnr.engine.bench_synth --designs orfs_gcd --yosys debian pyosys --abc sized area
    python -m pnr.engine.bench_synth --designs orfs_gcd --period 1.1 2.2 4.4   # clock sweep

Each combination runs the flow's own synthesis step (:mod:`gptnano.synth`, flow mode, with the
config's ``synth:`` keys overridden) and then OpenSTA on the netlist at tt and ss without
parasitics (pin capacitances only, ideal wires; the clock net unbuffered, so the propagated
clock arrives at every flop at the same time) -- a comparison of the netlists, not signoff.
It prints one row per combination and, with ``--json``, writes all rows. The netlist digest
column shows whether two settings gave the same netlist (the clock sweep's check that ABC
really uses the clock as its delay target).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from gptnano import synth
from gptnano.design_config import DesignConfig, load_design
from gptnano.opensta import StaSession, load_script
from gptnano.pdk import corner_liberty
from gptnano.step import StepContext

DEFAULT_DESIGNS = ("probe", "orfs_gcd", "small", "orfs_riscv32i")
CORNERS = ("tt", "ss")


def variant(design: DesignConfig, yosys: str, abc: str, period: float | None) -> DesignConfig:
    """``design`` with ``synth: {yosys, abc}`` set and optionally another clock period (ABC's
    delay target only: STA still times against the SDC's clock)."""
    extra = {**design.extra, "synth": {**design.extra.get("synth", {}), "yosys": yosys,
                                       "abc": abc}}
    changes: dict[str, Any] = {"extra": extra}
    if period is not None:
        changes["clock_period_ns"] = period
    return dataclasses.replace(design, **changes)


def measure(design: DesignConfig, workdir: Path) -> dict[str, Any]:
    """Synthesize ``design`` in ``workdir`` and time the netlist at :data:`CORNERS`."""
    ctx = StepContext.standalone(design, workdir)
    start = time.monotonic()
    metrics = synth.run(ctx)
    row: dict[str, Any] = {"runtime_s": round(time.monotonic() - start, 2),
                           "cells": metrics["cells"], "area_um2": metrics["cellarea"]}
    netlist = ctx.output("vg")
    row["digest"] = hashlib.sha256(netlist.read_bytes()).hexdigest()[:10]
    for corner in CORNERS:
        with StaSession(workdir / f"sta_{corner}.log") as sta:
            sta.eval(load_script(corner_liberty(corner), netlist, design.top, ctx.output("sdc"),
                                 None))
            row[f"setup_ws_{corner}"] = round(float(sta.eval("sta::worst_slack -max")), 3)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--designs", nargs="+", default=list(DEFAULT_DESIGNS))
    ap.add_argument("--yosys", nargs="+", default=list(synth.YOSYS_IMPLS),
                    choices=synth.YOSYS_IMPLS)
    ap.add_argument("--abc", nargs="+", default=["sized"], choices=sorted(synth.ABC_MODES))
    ap.add_argument("--period", nargs="+", type=float, default=[None],
                    help="clock periods (ns) to sweep instead of the config's")
    ap.add_argument("--json", type=Path, help="write all rows to this file")
    args = ap.parse_args(argv)
    rows = []
    print(f"{'design':14} {'yosys':7} {'abc':6} {'clk':>5} {'s':>6} {'cells':>6} "
          f"{'um2':>9} {'tt WS':>7} {'ss WS':>8} digest", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench_synth_") as tmp:
        for name in args.designs:
            base = load_design(name)
            for yosys in args.yosys:
                for abc in args.abc:
                    for period in args.period:
                        design = variant(base, yosys, abc, period)
                        work = Path(tmp) / f"{name}_{yosys}_{abc}_{period}"
                        row = {"design": name, "yosys": yosys, "abc": abc,
                               "period_ns": design.clock_period_ns, **measure(design, work)}
                        rows.append(row)
                        print(f"{name:14} {yosys:7} {abc:6} {row['period_ns']:5} "
                              f"{row['runtime_s']:6} {row['cells']:6} {row['area_um2']:9.1f} "
                              f"{row['setup_ws_tt']:7} {row['setup_ws_ss']:8} {row['digest']}",
                              flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
