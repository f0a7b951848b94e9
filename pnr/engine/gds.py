"""GDS step: the routed layout as GDSII, merged with the sky130hd cell layouts.

Reads ``<top>.layout.json``; writes ``<top>.gds``.  Written directly with gdstk from the
engine's own geometry (not by a DEF->GDS conversion) so every via, pad and patch the router
reasoned about appears exactly as it was checked, with the rectangles the DRC repair step
(:mod:`pnr.engine.drc_repair`) added -- the writer itself changes no shape, so the DEF and the
GDS hold the same metal; the cell layouts are copied from the library GDS as referenced
sub-cells.  Pins get drawn, pin-purpose and label shapes so Magic's
extraction names the ports (signals on met2, VPWR/VGND on the met2 straps).
"""

from __future__ import annotations

import time
from datetime import datetime

import gdstk

from pnr.engine import library, same_net, tech
from pnr.engine.context import StepContext, StepError
from pnr.engine.layout import Layout, net_rects

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


def net_polygons(route: dict) -> dict[str, list[gdstk.Polygon]]:
    """All shapes of one routed net per layer (:func:`pnr.engine.layout.net_rects`: wires,
    vias, patches and the DRC repair step's rectangles), merged into polygons."""
    return {layer: [gdstk.Polygon([(x / 1000, y / 1000) for x, y in pts])
                    for pts in same_net.polygons(same_net.merge(rects))]
            for layer, rects in net_rects(route).items()}


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
    for route in layout.routes.values():
        for layer, polys in net_polygons(route).items():
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
