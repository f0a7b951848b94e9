"""Fixture run outputs in the shapes the flow, DFT and model stages write (see reports.collect)."""

from __future__ import annotations

import json
from pathlib import Path

import gdstk
import pytest
from matplotlib.figure import Figure

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
    return {"gds": "layout.gds", "engine": "embedded", "failures": [], "not_run": [], "job": "job0",
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


# OpenSTA report_checks output (path_end format of the flow's sta step), trimmed.
SETUP_RPT = """Startpoint: rst_n (input port clocked by clk)
Endpoint: n_767 (recovery check against rising-edge clock clk)
Path Group: **async_default**
Path Type: max

                             26.392   data required time
                             -6.606   data arrival time
---------------------------------------------------------------------------
                             19.786   slack (MET)


Startpoint: acc_reg_3 (rising edge-triggered flip-flop clocked by clk)
Endpoint: acc_reg_7 (rising edge-triggered flip-flop clocked by clk)
Path Group: clk
Path Type: max

                             10.210   data required time
                            -10.710   data arrival time
---------------------------------------------------------------------------
                             -0.500   slack (VIOLATED)
"""
HOLD_RPT = """Startpoint: n_783 (rising edge-triggered flip-flop clocked by clk)
Endpoint: n_766 (rising edge-triggered flip-flop clocked by clk)
Path Group: clk
Path Type: min

                              0.300   slack (MET)
"""
# SC record times of a job whose DRC and LVS ran in parallel after extract (seconds).
SPANS = {("syn", "0"): (0, 10), ("route", "0"): (10, 30), ("drc_klayout", "0"): (30, 80),
         ("lvs", "0"): (30, 35), ("sta", "tt"): (35, 40), ("power", "0"): (80, 82)}
EDGES = {("syn", "0"): [], ("route", "0"): [("syn", "0")],
         ("drc_klayout", "0"): [("route", "0")], ("lvs", "0"): [("route", "0")],
         ("sta", "tt"): [("route", "0")], ("power", "0"): [("route", "0")]}


def sc_manifest(spans: dict = SPANS, edges: dict = EDGES, timed: bool = True) -> dict:
    """The parts of a SiliconCompiler ``<design>.pkg.json`` the dashboard reads."""
    def stamp(seconds: float) -> str:
        return f"2026-12-07 04:{int(seconds) // 60:02d}:{seconds % 60:09.6f}"

    def per_node(values: dict) -> dict:
        out: dict = {"default": {"default": None}}
        for (step, index), value in values.items():
            out.setdefault(step, {})[index] = {"value": value, "signature": None}
        return {"node": out}

    flow = {step: {} for step, _ in edges}
    for (step, index), inputs in edges.items():
        flow[step][index] = {"input": {"node": {"*": {"*": {"value": [list(i) for i in inputs]}},
                                                "default": {"default": {"value": []}}}}}
    record = {"starttime": per_node({n: stamp(a) for n, (a, _) in spans.items()} if timed
                                    else {}),
              "endtime": per_node({n: stamp(b) for n, (_, b) in spans.items()} if timed else {})}
    return {"record": record, "flowgraph": {"default": {}, "testflow": flow}}


def write_job(folder: Path, route_failed: int = 0, drc: dict | None = None) -> Path:
    """Node reports of one flow job as the flow writes them under ``<design>/<job>/``."""
    job = folder / "job0"
    for corner in ("ss", "tt"):
        (job / "sta" / corner / "reports").mkdir(parents=True, exist_ok=True)
        (job / "sta" / corner / "reports" / "setup.rpt").write_text(SETUP_RPT)
        (job / "sta" / corner / "reports" / "hold.rpt").write_text(HOLD_RPT)
    route = job / "route" / "0" / "reports"
    route.mkdir(parents=True, exist_ok=True)
    (route / "metrics.json").write_text(json.dumps({
        "step": "route", "index": "0", "status": "ok",
        "metrics": {"route__net": 439, "route__net__failed": route_failed},
        "details": {"rip_up_rounds": 3}}))
    fig = Figure(figsize=(1, 1))
    fig.add_subplot().imshow([[0, 1], [1, 0]])
    fig.savefig(route / "congestion.png")
    drc_dir = job / "drc_klayout" / "0" / "reports"
    drc_dir.mkdir(parents=True, exist_ok=True)
    (drc_dir / "drc_klayout.json").write_text(json.dumps(drc or {}))
    (job / "top.pkg.json").write_text(json.dumps(sc_manifest()))
    return job


def write_design(build: Path, name: str, signoff: dict | None = None, dft: dict | None = None,
                 gds: bool = True) -> Path:
    folder = build / name
    write_job(folder)
    (folder / "reports").mkdir(parents=True, exist_ok=True)
    (folder / "reports" / "sta.rpt").write_text("wns report\n")
    (folder / "reports" / "drc.lyrdb").write_text("<report-database/>\n")
    if gds:
        write_gds(folder / "layout.gds")
        (folder / "job0" / "route" / "0" / "outputs").mkdir(parents=True, exist_ok=True)
        (folder / "job0" / "route" / "0" / "outputs" / "top.def").write_text(DEF)
    (folder / "signoff.json").write_text(json.dumps(SIGNOFF if signoff is None else signoff))
    if dft is not None:
        (folder / "dft.json").write_text(json.dumps(dft))
    return folder


def write_config(designs: Path, name: str, top: str, variant: str | None = None) -> Path:
    """A design config that :func:`gptnano.design_config.load_design` accepts."""
    folder = designs / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "top.v").write_text(f"module {top}(input clk); endmodule\n")
    (folder / "constraint.sdc").write_text("create_clock -period 10 [get_ports clk]\n")
    config = (f"name: {name}\ntop: {top}\nrtl: [{folder / 'top.v'}]\nsdc: constraint.sdc\n"
              "clock: {port: clk, period_ns: 10.0}\n")
    if variant:
        config += f"variant: {variant}\n"
    (folder / "config.yaml").write_text(config)
    return folder


@pytest.fixture
def workspace(tmp_path: Path) -> dict[str, Path]:
    """A build tree with two designs, model results and an RTL manifest."""
    build = tmp_path / "build"
    designs = tmp_path / "designs"
    for name, variant in (("probe", None), ("small", "int8")):
        write_config(designs, name, "gpt_accel" if variant else "probe_mac", variant)
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
