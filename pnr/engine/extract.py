"""Extraction step: Magic reads the GDS and writes the LVS netlist and a parasitic netlist.

Reads ``<top>.gds``; writes ``<top>.spice`` (``ext2spice lvs``: devices and connectivity, the
standard cells kept as sub-circuits, for netgen) and ``<top>.pex.spice`` (the same with lumped
coupling/ground capacitances above 0.01 fF, for parasitic-aware simulation).  Magic 8.3.105
writes no SPEF; the route step writes an estimated ``<top>.spef`` from its own geometry
(:mod:`pnr.engine.spef`).
"""

from __future__ import annotations

import re
import shutil
import time

from gptnano.magic import load_gds, run_magic
from gptnano.step import StepContext, StepError


def run(ctx: StepContext) -> dict[str, float | int | str]:
    t0 = time.monotonic()
    gds = ctx.input("gds").resolve()
    work = ctx.reports_dir / "magic"
    work.mkdir(parents=True, exist_ok=True)
    top = ctx.top
    script = load_gds(gds, top) + f"""
extract no all
extract do local
extract all
ext2spice lvs
ext2spice subcircuit top on
ext2spice -o {top}.spice
ext2spice cthresh 0.01
ext2spice -o {top}.pex.spice
"""
    log = run_magic(script, work, "extract")
    for ext in ("spice", "pex.spice"):
        src = work / f"{top}.{ext}"
        if not src.is_file():
            raise StepError(f"extract: magic wrote no {src.name}, see {log}")
        shutil.copy(src, ctx.output(ext))
    text = ctx.output("spice").read_text()
    devices = len(re.findall(r"^X", text, flags=re.M))
    warnings = len(re.findall(r"warning", log.read_text(), flags=re.I))
    return {"extracted_instances": devices, "magic_warnings": warnings,
            "runtime_s": round(time.monotonic() - t0, 2)}
