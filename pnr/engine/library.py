"""The sky130hd cell library views the engine uses: the PDK files (from :mod:`gptnano.pdk`,
re-exported here for the engine modules), the parsed cell LEF and the physical-only cells."""

from __future__ import annotations

from functools import lru_cache

from gptnano.pdk import PREFIX, cell_cdl, cell_gds, cell_lef, tech_lef
from pnr.engine.lef import LefMacro, read_lef

__all__ = ["FILLERS", "POWER_PINS", "PREFIX", "TAP_CELL", "cell_cdl", "cell_gds", "cell_lef",
           "cells", "tech_lef"]

TAP_CELL = PREFIX + "tapvpwrvgnd_1"
# Gap fillers, widest first (sites): decaps add supply capacitance, fill_1/2 close odd gaps.
FILLERS = ((12, PREFIX + "decap_12"), (8, PREFIX + "decap_8"), (6, PREFIX + "decap_6"),
           (4, PREFIX + "decap_4"), (3, PREFIX + "decap_3"), (2, PREFIX + "fill_2"),
           (1, PREFIX + "fill_1"))
POWER_PINS = ("VPWR", "VGND", "VPB", "VNB")


@lru_cache(maxsize=1)
def cells() -> dict[str, LefMacro]:
    return read_lef(cell_lef())
