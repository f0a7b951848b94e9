"""DRC repair step (``drc_repair``, after ``route``): each routed net's metal made legal on its
own, written back into the layout database as rectangles.

Why a step of its own: the router builds every net from grid wires, via pads and patches whose
spacing to *other* nets it checked, but pads of one net on neighbouring nodes can leave gaps,
notches, diagonal corners, small holes and thin necks that the signoff decks flag on the
merged layer (:mod:`pnr.engine.same_net` explains each and how they are closed). That closing
used to run inside the GDS writer, so the GDS held metal that the DEF and the SPEF did not
describe. Here it runs on the layout database instead, as OpenROAD's detailed router fixes
its own DRC on its database before any view is written: what the closing adds to a net is
decomposed into rectangles and stored in the net's route (``route["repair"]``), so every later
view (DEF with ``RECT`` routing points, the GDS, the parasitics) reads the same geometry
through :func:`pnr.engine.layout.net_rects`.

The closing of one net only adds metal: it is checked (a net that would lose metal is an
error, not silently written). A neck is widened only where no other net's metal, as routed, is
within the spacing (``foreign`` is every net's metal before repair, the rails and the straps).

Reads ``<top>.layout.json`` (routed); writes it back with the repair rectangles, plus
``<top>.def``.
"""

from __future__ import annotations

import time

import klayout.db as kdb

from pnr.engine import same_net, tech
from pnr.engine.context import StepContext, StepError
from pnr.engine.layout import Layout, Rect, net_rects, write_def

# sky130hd cell rails: 0.48 um met1 centred on every row boundary, rows 2.72 um tall


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
    for y in {y for y, _o in layout.rows} | {y + tech.ROW_H for y, _o in layout.rows}:
        rects.setdefault("met1", []).append((x0, y - tech.RAIL_HALF, x1, y + tech.RAIL_HALF))
    return {layer: same_net.merge(rs) for layer, rs in rects.items() if layer in tech.WIDTH}


def repaired_shapes(route: dict, foreign: dict[str, kdb.Region] | None = None,
                    ) -> dict[str, kdb.Region]:
    """All shapes of one routed net per layer, merged and made legal on their own.

    Routing metals go through :func:`same_net.shape_net`: gaps narrower than the layer
    spacing closed (legal gaps left alone), small holes filled, too-narrow necks widened where
    ``foreign`` (all metal per layer, see :func:`layer_metal`) shows room. li1 (cell-owned
    notches) and cut layers are only merged."""
    out: dict[str, kdb.Region] = {}
    for layer, rects in net_rects(route).items():
        if layer in tech.SPACING and layer != "li1":
            out[layer] = same_net.shape_net(rects, tech.SPACING[layer], tech.WIDTH[layer],
                                            same_net.MIN_HOLE_AREA[layer],
                                            (foreign or {}).get(layer))
        else:
            out[layer] = same_net.merge(rects)
    return out


def rectangles(region: kdb.Region) -> list[Rect]:
    """``region`` (rectilinear) as disjoint rectangles, sorted: KLayout's horizontal trapezoid
    decomposition, whose pieces of a rectilinear polygon are rectangles."""
    out: list[Rect] = []
    for poly in region.each_merged():
        for piece in poly.decompose_trapezoids(kdb.Polygon.TD_htrapezoids):
            box = piece.bbox()
            if piece.num_points() != 4 or kdb.Polygon(box) != kdb.Polygon(piece):
                raise StepError(f"drc_repair: a repair shape is not rectilinear at {box}")
            out.append((box.left, box.bottom, box.right, box.top))
    return sorted(out)


def repair_rects(net: str, route: dict, foreign: dict[str, kdb.Region] | None = None,
                 ) -> list[list[int | str]]:
    """The rectangles (layer, x0, y0, x1, y1) the closing adds to ``route``, sorted."""
    drawn = net_rects(route)
    added: list[list[int | str]] = []
    for layer, region in sorted(repaired_shapes(route, foreign).items()):
        original = same_net.merge(drawn[layer])
        lost = original - region
        if not lost.is_empty():
            raise StepError(f"drc_repair: net {net} would lose {layer} metal at "
                            f"{lost.bbox()} (the closing must only add)")
        added += [[layer, *r] for r in rectangles(region - original)]
    return added


def repair_layout(layout: Layout) -> tuple[int, int]:
    """Store each net's repair rectangles in its route; (nets repaired, rectangles added).
    Earlier repair rectangles are dropped first, so repairing twice gives the same layout."""
    for route in layout.routes.values():
        route.pop("repair", None)
    foreign = layer_metal(layout)
    nets = rects = 0
    for net in sorted(layout.routes):
        added = repair_rects(net, layout.routes[net], foreign)
        if added:
            layout.routes[net]["repair"] = added
            nets += 1
            rects += len(added)
    return nets, rects


def run(ctx: StepContext) -> dict[str, float | int | str]:
    t0 = time.monotonic()
    layout = Layout.load(ctx.input("layout.json"))
    nets, rects = repair_layout(layout)
    layout.save(ctx.output("layout.json"))
    write_def(layout, ctx.output("def"))
    return {"drc_repair_nets": nets, "drc_repair_rects": rects,
            "runtime_s": round(time.monotonic() - t0, 2)}
