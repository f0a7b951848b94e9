"""Floorplan step: die and core size, rows, tap columns, IO pins and the power grid.

Reads ``<top>.vg``; writes ``<top>.layout.json`` and ``<top>.def``.

Geometry choices (all to keep later steps correct by construction):
* the die origin is 0,0 and the core origin is a multiple of the 0.46 um site and 0.34 um met1
  pitch, so every cell pin lands on the routing grid of :mod:`pnr.engine.tech`;
* rows alternate N / FS so neighbouring rows share their supply rail (even boundaries VGND,
  odd ones VPWR) and their n-wells merge;
* the rails are extended past both core edges onto 1 um met2 straps (VGND inner, VPWR outer),
  joined by via1 cut arrays; the straps carry the VPWR/VGND pins;
* welltap cells sit in fixed columns every ``tap_pitch_um`` (default 13.8 um, inside sky130's
  15 um latch-up distance from any transistor to a tap);
* signal pins are met2 stubs on the bottom (inputs) and top (outputs) die edges.
"""

from __future__ import annotations

import math
import re
import time

from gptnano.netlist import read_netlist
from pnr.engine import iop, library, tech
from pnr.engine.context import StepContext, StepError
from pnr.engine.layout import Component, Layout, write_def


def _natural(name: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _snap_up(v: float, step: int) -> int:
    return int(math.ceil(v / step)) * step


def power_geometry(core: tuple[int, int, int, int], nrows: int) -> list[tuple[str, str, tuple]]:
    """Rail extensions (met1), straps (met2) and via1 cuts for both supplies."""
    cx0, cy0, cx1, _ = core
    shapes: list[tuple[str, str, tuple]] = []
    offsets = {"VGND": (1760, 2760), "VPWR": (3600, 4600)}
    for net, (near, far) in offsets.items():
        ys = [cy0 + b * tech.ROW_H for b in range(nrows + 1) if (b % 2 == 0) == (net == "VGND")]
        if not ys:
            continue
        for sx0, sx1, cut_x in ((cx0 - far, cx0, cx0 - (near + far) // 2),
                                (cx1, cx1 + far, cx1 + (near + far) // 2)):
            strap = (cut_x - tech.STRAP_W // 2, min(ys) - tech.RAIL_HALF,
                     cut_x + tech.STRAP_W // 2, max(ys) + tech.RAIL_HALF)
            shapes.append((net, "met2", strap))
            for y in ys:
                shapes.append((net, "met1", (sx0, y - tech.RAIL_HALF, sx1, y + tech.RAIL_HALF)))
                for dx in (-tech.VIA1_PITCH, 0, tech.VIA1_PITCH):
                    c = tech.VIA1_CUT // 2
                    shapes.append((net, "via", (cut_x + dx - c, y - c, cut_x + dx + c, y + c)))
        for y in ys:  # the rail across the core: gaps are filled after routing, so the router
            # must already see the whole rail (the cells' own rails lie on top of it)
            shapes.append((net, "met1", (cx0, y - tech.RAIL_HALF, cx1, y + tech.RAIL_HALF)))
    return shapes


def build_floorplan(top: str, netlist_path, fp: dict) -> Layout:
    nl = read_netlist(netlist_path)
    if nl.top != top:
        raise StepError(f"{netlist_path}: module is {nl.top}, design top is {top}")
    lib = library.cells()
    comps = []
    for inst in nl.instances:
        if inst.cell not in lib:
            raise StepError(f"{netlist_path}: cell {inst.cell} (instance {inst.name}) not in "
                            f"{library.cell_lef()}")
        comps.append(Component(inst.name, inst.cell))
    util = float(fp.get("core_utilization", 0.4))
    aspect = float(fp.get("aspect_ratio", 1.0))
    margin = float(fp.get("core_margin_um", 10.0)) * 1000
    tap_pitch = float(fp.get("tap_pitch_um", 13.8)) * 1000
    if not 0.05 <= util <= 0.8:
        raise StepError(f"floorplan.core_utilization {util} outside 0.05..0.8")
    if margin < 8000:
        raise StepError("floorplan.core_margin_um must be >= 8 (power straps and IO routing)")
    cell_area = sum(lib[c.cell].width * lib[c.cell].height for c in comps)
    tap = lib[library.TAP_CELL]
    pitch_sites = max(2, int(tap_pitch // tech.SITE_W))
    area = cell_area / util * (1 + 1 / pitch_sites)
    core_h = _snap_up(math.sqrt(area * aspect), tech.ROW_H)
    core_w = _snap_up(area / core_h, tech.SITE_W * pitch_sites)
    cx0 = _snap_up(margin, tech.SITE_W)
    cy0 = _snap_up(margin, tech.ROW_H // 8)  # multiple of the 0.34 um met1 pitch
    core = (cx0, cy0, cx0 + core_w, cy0 + core_h)
    die = (0, 0, core[2] + cx0, core[3] + cy0)
    nrows = core_h // tech.ROW_H
    rows = [(cy0 + r * tech.ROW_H, "N" if r % 2 == 0 else "FS") for r in range(nrows)]
    tap_cols = list(range(cx0, core[2], pitch_sites * tech.SITE_W))
    for r, (y, orient) in enumerate(rows):
        for k, x in enumerate(tap_cols):
            comps.append(Component(f"TAP_{r}_{k}", tap.name, x, y, orient, "tap", True))
    nets = {n: pins for n, pins in nl.nets().items()}
    layout = Layout(top=top, die=die, core=core, rows=rows, components=comps, ports={},
                    nets=nets, power=power_geometry(core, nrows), tap_columns=tap_cols)
    i_lo, i_hi = iop.edge_columns(layout)
    inputs = sorted((p for p, d in nl.ports.items() if d == "input"), key=_natural)
    outputs = sorted((p for p, d in nl.ports.items() if d != "input"), key=_natural)
    for side, names in (("bottom", inputs), ("top", outputs)):
        if not names:
            continue
        span = i_hi - i_lo
        if span < 2 * len(names):
            raise StepError(f"{len(names)} pins do not fit on the {side} edge; raise the core size")
        for k, name in enumerate(names):
            i = i_lo + int(round((k + 0.5) * span / len(names)))
            i -= i % 2
            layout.ports[name] = iop.edge_port(layout, name, nl.ports[name], side, i)
    return layout


def run(ctx: StepContext) -> dict[str, float | int | str]:
    t0 = time.monotonic()
    layout = build_floorplan(ctx.top, ctx.input("vg"), ctx.design.floorplan)
    layout.save(ctx.output("layout.json"))
    write_def(layout, ctx.output("def"))
    lib = library.cells()
    logic = [c for c in layout.components if c.kind == "logic"]
    cell_area = sum(lib[c.cell].width * lib[c.cell].height for c in logic) / 1e6
    cx0, cy0, cx1, cy1 = layout.core
    core_area = (cx1 - cx0) * (cy1 - cy0) / 1e6
    return {
        "cells": len(logic),
        "taps": sum(c.kind == "tap" for c in layout.components),
        "rows": len(layout.rows),
        "core_area_um2": round(core_area, 2),
        "die_area_um2": round(layout.die[2] * layout.die[3] / 1e6, 2),
        "utilization": round(cell_area / core_area, 4),
        "io_pins": len(layout.ports),
        "runtime_s": round(time.monotonic() - t0, 2),
    }
