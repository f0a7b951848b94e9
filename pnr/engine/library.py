"""The sky130hd cell library views the engine uses (LEF, GDS, CDL), located via gptnano.paths."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from gptnano.paths import require, sky130_base_dir, sky130hd_dir
from pnr.engine.lef import LefMacro, read_lef

PREFIX = "sky130_fd_sc_hd__"
TAP_CELL = PREFIX + "tapvpwrvgnd_1"
# Gap fillers, widest first (sites): decaps add supply capacitance, fill_1/2 close odd gaps.
FILLERS = ((12, PREFIX + "decap_12"), (8, PREFIX + "decap_8"), (6, PREFIX + "decap_6"),
           (4, PREFIX + "decap_4"), (3, PREFIX + "decap_3"), (2, PREFIX + "fill_2"),
           (1, PREFIX + "fill_1"))
POWER_PINS = ("VPWR", "VGND", "VPB", "VNB")


def cell_lef() -> Path:
    return require(sky130hd_dir() / "lef" / "sky130_fd_sc_hd_merged.lef", "sky130hd cell LEF")


def tech_lef() -> Path:
    return require(sky130_base_dir() / "apr" / "sky130_fd_sc.tlef", "sky130 tech LEF")


def cell_gds() -> Path:
    return require(sky130hd_dir() / "gds" / "sky130_fd_sc_hd.gds", "sky130hd cell GDS")


def cell_cdl() -> Path:
    return require(sky130hd_dir() / "cdl" / "sky130_fd_sc_hd.cdl", "sky130hd cell CDL")


@lru_cache(maxsize=1)
def cells() -> dict[str, LefMacro]:
    return read_lef(cell_lef())
