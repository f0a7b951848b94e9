"""Fixture run outputs in the shapes the flow, DFT and model stages write (see reports.collect)."""

from __future__ import annotations

import json
from pathlib import Path

import gdstk
import pytest

SETUP, HOLD, FMAX = ("timing__setup__ws__corner:", "timing__hold__ws__corner:",
                     "timing__fmax__corner:")
METRICS = {
    "design__instance__count": 812, "design__core__area": 4100.0, "design__die__area": 6400.0,
    "design__instance__utilization": 0.41, "clock__period": 10.0,
    SETUP + "ss": 0.5, SETUP + "tt": 2.0, SETUP + "ff": 4.0,
    HOLD + "ss": 0.3, HOLD + "tt": 0.2, HOLD + "ff": 0.1, "timing__fmax": 105.3,
    "power__dynamic__total": 0.9, "power__leakage__total": 0.1, "power__total": 1.0,
    "klayout__drc_error__count": 0, "magic__drc_error__count": 0, "design__lvs__clean": True,
    "flow__complete": True, "flow__passed": True,
    "runtime__total__step:syn": 1.5, "runtime__total__step:place": 2.0,
    "runtime__total__step:route": 3.5, "runtime__total__step:drc": 4.0,
}


def signoff(fields: dict | None = None, **metrics: object) -> dict:
    """A signoff.json as flow.summary writes it; ``metrics`` change registry metrics
    (``None`` drops one), ``fields`` the top-level keys."""
    merged = {k: v for k, v in dict(METRICS, **metrics).items() if v is not None}
    return {"gds": "layout.gds", "engine": "embedded", "failures": [], "not_run": [],
            "metrics": merged,
            "reports": {"timing__setup__ws": "reports/sta.rpt",
                        "klayout__drc_error__count": "reports/drc.lyrdb",
                        "design__instance__count": "reports/missing.rpt"},
            **(fields or {})}


SIGNOFF = signoff()
# the same run as signoff.json was written before the metric registry (gptnano.metrics)
LEGACY_SIGNOFF = {
    "cells": 812, "core_area_um2": 4100.0, "die_area_um2": 6400.0, "utilization": 0.41,
    "clock_ns": 10.0, "wns_ns": {"ss": 0.5, "tt": 2.0, "ff": 4.0},
    "hold_wns_ns": {"ss": 0.3, "tt": 0.2, "ff": 0.1}, "fmax_mhz": 105.3,
    "power_mw": {"dynamic": 0.9, "leakage": 0.1, "total": 1.0}, "drc_klayout": 0,
    "drc_magic": 0, "lvs_clean": True, "complete": True, "passed": True, "gds": "layout.gds",
    "engine": "embedded", "failures": [], "not_run": [],
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
    write_design(build, "small", signoff(design__instance__count=2500,
                                         design__core__area=12000.0))
    experiments = tmp_path / "experiments.csv"
    experiments.write_text("variant,params,bytes,val_ppl,next_token_acc\n"
                           "fp32,120000,480000,11.5,0.41\nint8,120000,120000,11.9,0.40\n"
                           "int4,120000,60000,13.2,0.37\n")
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"top": "gpt_accel", "memory_bits": 65536,
                                    "cycles_per_token": {"int8": 20000, "int4": 12000}}))
    return {"build": build, "designs": designs, "experiments": experiments,
            "manifest": manifest, "db": tmp_path / "h.sqlite", "out": tmp_path / "out"}
