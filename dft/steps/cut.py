"""Step ``cut``: Fault removes the flip-flops, leaving the combinational test view.

Each matched flop (see :func:`dft.sky130.flop_matches`) becomes a pseudo primary input named
after the instance (its Q) and a pseudo primary output ``<instance>.d`` (its D).
"""

from __future__ import annotations

import re
import time

from dft import sky130
from dft.config import dft_settings
from dft.fault_tool import run_fault
from dft.steps.common import cells, liberty, pass_through
from gptnano.step import StepContext, StepError

PRODUCES = ("cut.v",)


def run(ctx: StepContext) -> dict[str, float | int | str]:
    start = time.monotonic()
    settings = dft_settings(ctx.design)
    netlist = ctx.input("vg")
    lib = liberty()
    config = sky130.scl_config(cells(lib), ctx.workdir / "sky130hd_scl.yml")
    out = ctx.output("cut.v")
    args = ["cut", "--scl-config", str(config.resolve()), "--clock", ctx.design.clock_port,
            "-o", str(out.resolve()), str(netlist.resolve())]
    if settings.reset:
        args[1:1] = ["--reset", settings.reset]
    run_fault(args, ctx.reports_dir / "fault_cut.log", ctx.workdir)
    if not out.is_file():
        raise StepError(f"fault cut wrote no {out}; log: {ctx.reports_dir / 'fault_cut.log'}")
    # one "output \<instance>.d ;" pseudo output per cut flop
    flops = len(re.findall(r"^\s*output\s+\\\S+\.d\s*;", out.read_text(), re.M))
    if flops == 0:
        raise StepError(f"fault cut found no flip-flops in {netlist} (cell names not matched?)")
    pass_through(ctx, PRODUCES)
    return {"dft_cut_flops": flops, "dft_cut_runtime_s": round(time.monotonic() - start, 2)}
