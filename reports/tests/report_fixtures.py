"""Fixture run outputs in the shapes the flow, DFT and model stages write (see reports.collect)."""

from __future__ import annotations

import json
from pathlib import Path

import gdstk
import pytest

SIGNOFF = {
    "cells": 812, "core_area_um2": 4100.0, "die_area_um2": 6400.0, "utilization": 0.41,
    "clock_ns": 10.0, "wns_ns": {"ss": 0.5, "tt": 2.0, "ff": 4.0},
    "hold_wns_ns": {"ss": 0.3, "tt": 0.2, "ff": 0.1}, "fmax_mhz": 105.3,
    "power_mw": {"dynamic": 0.9, "leakage": 0.1}, "drc_klayout": 0, "drc_magic": 0,
    "lvs_clean": True, "gds": "layout.gds", "engine": "embedded",
    "runtime_s": {"syn": 1.5, "place": 2.0, "route": 3.5, "drc": 4.0},
    "reports": {"wns_ns": "reports/sta.rpt", "drc_klayout": "reports/drc.lyrdb",
                "cells": "reports/missing.rpt"},
}
DFT = {"scan_flops": 39, "chains": 1, "chain_lengths": [39], "stuck_at_coverage": 98.5,
       "vectors": 61, "runtime_s": 2.8}
DEF = """VERSION 5.8 ;
DESIGN top ;
UNITS DISTANCE MICRONS 1000 ;
DIEAREA ( 0 0 ) ( 80000 80000 ) ;
COMPONENTS 4 ;
- u1 sky130_fd_sc_hd__inv_1 + PLACED ( 10000 10000 ) N ;
- u2 sky130_fd_sc_hd__nand2_1
   + PLACED ( 20000 12720 ) FS ;
- fill1 sky130_fd_sc_hd__fill_1 + PLACED ( 30000 10000 ) N ;
- u3 sky130_fd_sc_hd__dfxtp_1 + FIXED ( 70000 70000 ) N ;
END COMPONENTS
END DESIGN
"""


def write_gds(path: Path, squares: int = 20) -> Path:
    """A small GDS on sky130 drawing layers (met1/met2/poly) plus a via layer."""
    lib = gdstk.Library()
    top = lib.new_cell("top")
    for i in range(squares):
        top.add(gdstk.rectangle((i * 4, 0), (i * 4 + 2, 60), layer=68, datatype=20))
        top.add(gdstk.rectangle((0, i * 3), (80, i * 3 + 1), layer=69, datatype=20))
        top.add(gdstk.rectangle((i * 4, 0), (i * 4 + 0.2, 0.2), layer=68, datatype=44))
    lib.write_gds(str(path))
    return path


def write_design(build: Path, name: str, signoff: dict | None = None, dft: dict | None = None,
                 gds: bool = True) -> Path:
    folder = build / name
    (folder / "reports").mkdir(parents=True, exist_ok=True)
    (folder / "reports" / "sta.rpt").write_text("wns report\n")
    (folder / "reports" / "drc.lyrdb").write_text("<report-database/>\n")
    if gds:
        write_gds(folder / "layout.gds")
        (folder / "top.def").write_text(DEF)
    (folder / "signoff.json").write_text(json.dumps(SIGNOFF if signoff is None else signoff))
    if dft is not None:
        (folder / "dft.json").write_text(json.dumps(dft))
    return folder


@pytest.fixture
def workspace(tmp_path: Path) -> dict[str, Path]:
    """A build tree with two designs, model results and an RTL manifest."""
    build = tmp_path / "build"
    designs = tmp_path / "designs"
    for name, variant in (("probe", None), ("small", "int8")):
        (designs / name).mkdir(parents=True)
        config = f"name: {name}\ntop: {'gpt_accel' if variant else 'probe_mac'}\n"
        if variant:
            config += f"variant: {variant}\n"
        (designs / name / "config.yaml").write_text(config)
    write_design(build, "probe", dft=DFT)
    write_design(build, "small", dict(SIGNOFF, cells=2500, core_area_um2=12000.0))
    experiments = tmp_path / "experiments.csv"
    experiments.write_text("variant,params,bytes,val_ppl,next_token_acc\n"
                           "fp32,120000,480000,11.5,0.41\nint8,120000,120000,11.9,0.40\n"
                           "int4,120000,60000,13.2,0.37\n")
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"top": "gpt_accel", "memory_bits": 65536,
                                    "cycles_per_token": {"int8": 20000, "int4": 12000}}))
    return {"build": build, "designs": designs, "experiments": experiments,
            "manifest": manifest, "db": tmp_path / "h.sqlite", "out": tmp_path / "out"}
