"""GDS step: the routed layout as GDSII, merged with the sky130hd cell layouts.

Reads ``<top>.layout.json``; writes ``<top>.gds``.  Written directly with gdstk from the
engine's own geometry (not by a DEF->GDS conversion) so every via, pad and patch the router
reasoned about appears exactly as it was checked; the cell layouts are copied from the library
GDS as referenced sub-cells.  Pins get drawn, pin-purpose and label shapes so Magic's
extraction names the ports (signals on met2, VPWR/VGND on the met2 straps).
"""

from __future__ import annotations

import time
from datetime import datetime

import gdstk
import klayout.db as kdb

from pnr.engine import library, same_net, tech
from pnr.engine.context import StepContext, StepError
from pnr.engine.layout import Layout, grid_x, grid_y
from pnr.engine.same_net import Rect

# sky130hd cell rails: 0.48 um met1 centred on every row boundary, rows 2.72 um tall
RAIL_HALF, RAIL_PITCH = 240, 2720
WIRE_EXT = {"met1": 70, "met2": 70, "met3": 150, "met4": 150}
# The library's creation/modification date (GDS BGNLIB/BGNSTR).  gdstk writes the current
# time unless told otherwise; a fixed date makes two runs on the same layout byte-identical
# (no tool in the flow reads these fields).
GDS_TIMESTAMP = datetime(2000, 1, 1)


def _box(x0: int, y0: int, x1: int, y1: int, lay: int, dt: int) -> gdstk.Polygon:
    return gdstk.rectangle((x0 / 1000, y0 / 1000), (x1 / 1000, y1 / 1000), layer=lay, datatype=dt)


def _rect(cell: gdstk.Cell, layer: str, x0: int, y0: int, x1: int, y1: int) -> None:
    cell.add(_box(x0, y0, x1, y1, *tech.GDS[layer]))


def _pin(cell: gdstk.Cell, layer: str, r: tuple, name: str) -> None:
    """Pin-purpose shape plus its text, which Magic turns into a port."""
    cell.add(_box(*r, *tech.GDS_PIN[layer]))
    lay, dt = tech.GDS_LABEL[layer]
    centre = ((r[0] + r[2]) / 2000, (r[1] + r[3]) / 2000)
    cell.add(gdstk.Label(name, centre, layer=lay, texttype=dt))


def net_rects(route: dict) -> dict[str, list[Rect]]:
    """Every drawn rectangle (nm) of one routed net per layer: wires, via cuts and pads, patches."""
    rects: dict[str, list[Rect]] = {}

    def add(layer: str, x0: int, y0: int, x1: int, y1: int) -> None:
        rects.setdefault(layer, []).append((x0, y0, x1, y1))

    for layer, i1, j1, i2, j2 in route["segs"]:
        e, hw = WIRE_EXT[layer], tech.WIDTH[layer] // 2
        xa, xb = sorted((grid_x(i1), grid_x(i2)))
        ya, yb = sorted((grid_y(j1), grid_y(j2)))
        if ya == yb:
            add(layer, xa - e, ya - hw, xb + e, ya + hw)
        else:
            add(layer, xa - hw, ya - e, xa + hw, yb + e)
    for kind, i, j, *offset in route["vias"]:
        cut, half, lower, upper = tech.VIAS[kind]
        x, y = grid_x(i) + (offset[0] if offset else 0), grid_y(j)
        add(cut, x - half, y - half, x + half, y + half)
        for lay, hx, hy in (lower, upper):
            add(lay, x - hx, y - hy, x + hx, y + hy)
    for layer, x0, y0, x1, y1 in route.get("patches", []):
        add(layer, x0, y0, x1, y1)
    return rects


def net_shapes(route: dict, foreign: dict[str, kdb.Region] | None = None,
               ) -> dict[str, list[gdstk.Polygon]]:
    """All shapes of one routed net per layer, merged and made legal on their own.

    Routing metals go through ``same_net.shape_net``: gaps narrower than the layer spacing
    closed (legal gaps left alone), small holes filled, too-narrow necks widened where
    ``foreign`` (all metal per layer, see ``layer_metal``) shows room; it is done in KLayout's
    integer engine rather than with gdstk offsets, see ``same_net`` for why.  li1 (cell-owned
    notches) and cut layers are only merged.
    """
    out: dict[str, list[gdstk.Polygon]] = {}
    for layer, rects in net_rects(route).items():
        if layer in tech.SPACING and layer != "li1":
            region = same_net.shape_net(rects, tech.SPACING[layer], tech.WIDTH[layer],
                                        same_net.MIN_HOLE_AREA[layer],
                                        (foreign or {}).get(layer))
        else:
            region = same_net.merge(rects)
        out[layer] = [gdstk.Polygon([(x / 1000, y / 1000) for x, y in pts])
                      for pts in same_net.polygons(region)]
    return out


def layer_metal(layout: Layout) -> dict[str, kdb.Region]:
    """Every routing-metal rectangle per layer: all nets, the power shapes and the cell rails
    (met1, 0.48 um on every row boundary), the neighbourhood a neck widening must keep clear."""
    rects: dict[str, list[Rect]] = {}
    for route in layout.routes.values():
        for layer, rs in net_rects(route).items():
            rects.setdefault(layer, []).extend(rs)
    for _net, layer, r in layout.power:
        rects.setdefault(layer, []).append(tuple(r))
    x0, _y0, x1, _y1 = layout.core
    for y in {y for y, _o in layout.rows} | {y + RAIL_PITCH for y, _o in layout.rows}:
        rects.setdefault("met1", []).append((x0, y - RAIL_HALF, x1, y + RAIL_HALF))
    return {layer: same_net.merge(rs) for layer, rs in rects.items() if layer in tech.WIDTH}


def build_gds(layout: Layout) -> gdstk.Library:
    src = gdstk.read_gds(str(library.cell_gds()))
    by_name = {c.name: c for c in src.cells}
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    top = gdstk.Cell(layout.top)
    used = sorted({c.cell for c in layout.components})
    for name in used:
        if name not in by_name:
            raise StepError(f"gds: cell {name} missing from {library.cell_gds()}")
        for dep in [by_name[name], *by_name[name].dependencies(True)]:
            if dep.name not in {c.name for c in lib.cells}:
                lib.add(dep)
    lefs = library.cells()
    for c in layout.components:
        h = lefs[c.cell].height
        if c.orient == "N":
            top.add(gdstk.Reference(by_name[c.cell], (c.x / 1000, c.y / 1000)))
        else:
            top.add(gdstk.Reference(by_name[c.cell], (c.x / 1000, (c.y + h) / 1000),
                                    x_reflection=True))
    for _net, layer, (x0, y0, x1, y1) in layout.power:
        _rect(top, layer, x0, y0, x1, y1)
    foreign = layer_metal(layout)
    for route in layout.routes.values():
        for layer, polys in net_shapes(route, foreign).items():
            lay, dt = tech.GDS[layer]
            for poly in polys:
                poly.layer, poly.datatype = lay, dt
                top.add(poly)
    for p in layout.ports.values():
        _rect(top, p.layer, *p.rect)
        _pin(top, p.layer, p.rect, p.name)
    for net, layer, rect in layout.power:
        if layer == "met2":  # the straps carry the supply pins
            _pin(top, layer, rect, net)
    lib.add(top)
    return lib


def run(ctx: StepContext) -> dict[str, float | int | str]:
    t0 = time.monotonic()
    layout = Layout.load(ctx.input("layout.json"))
    lib = build_gds(layout)
    lib.write_gds(str(ctx.output("gds")), timestamp=GDS_TIMESTAMP)
    return {"gds_cells": len(lib.cells), "gds_bytes": ctx.output("gds").stat().st_size,
            "runtime_s": round(time.monotonic() - t0, 2)}
