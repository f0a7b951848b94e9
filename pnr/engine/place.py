"""Placement step: global quadratic placement, then row legalization onto the site grid.

Reads ``<top>.layout.json`` (from floorplan); writes it back with every logic cell placed, plus
``<top>.def``.

Why our own placer rather than graywolf: graywolf's output must be legalized anyway (qflow's
``addspacers`` leaves cells off the 0.46 um site grid, which is what broke earlier runs), the
tap columns must be respected, and for blocks of a few thousand cells a quadratic placement
(clique net model, IO pins as anchors, solved with numpy) followed by order-preserving row
legalization gives routable results in seconds.  Cells are spread evenly along each row so the
white space the floorplan reserved is distributed where the router needs it.  The spread is
set by ``floorplan.core_utilization`` (``placement.density`` is not used by this placer).
"""

from __future__ import annotations

import time

import numpy as np

from pnr.engine import library, tech
from pnr.engine.context import StepContext, StepError
from pnr.engine.layout import Layout, write_def

MAX_NET_PINS = 24   # wider nets (clock, reset) do not pull placement


def global_place(layout: Layout) -> tuple[np.ndarray, np.ndarray, list]:
    """Quadratic placement of the logic cells; returns x, y (nm) of each cell centre."""
    movable = [c for c in layout.components if c.kind == "logic"]
    index = {c.name: k for k, c in enumerate(movable)}
    n = len(movable)
    a = np.zeros((n, n))
    bx = np.zeros(n)
    by = np.zeros(n)
    cx0, cy0, cx1, cy1 = layout.core
    centre = ((cx0 + cx1) / 2, (cy0 + cy1) / 2)
    anchor = 1e-3
    a[np.arange(n), np.arange(n)] += anchor
    bx += anchor * centre[0]
    by += anchor * centre[1]
    for pins in layout.nets.values():
        if len(pins) < 2 or len(pins) > MAX_NET_PINS:
            continue
        w = 1.0 / (len(pins) - 1)
        nodes = []
        for inst, pin in pins:
            if inst == "PIN":
                r = layout.ports[pin].rect
                nodes.append(("fixed", ((r[0] + r[2]) / 2, (r[1] + r[3]) / 2)))
            else:
                nodes.append(("mov", index[inst]))
        for p in range(len(nodes)):
            for q in range(p + 1, len(nodes)):
                (tp, vp), (tq, vq) = nodes[p], nodes[q]
                if tp == "mov" and tq == "mov":
                    a[vp, vp] += w
                    a[vq, vq] += w
                    a[vp, vq] -= w
                    a[vq, vp] -= w
                elif tp == "mov" or tq == "mov":
                    m, f = (vp, vq) if tp == "mov" else (vq, vp)
                    a[m, m] += w
                    bx[m] += w * f[0]
                    by[m] += w * f[1]
    x = np.linalg.solve(a, bx)
    y = np.linalg.solve(a, by)
    return x, y, movable


def legalize(layout: Layout, x: np.ndarray, y: np.ndarray, movable: list) -> None:
    """Assign cells to rows by y order (equal fill per row), then place each row's cells in
    x order, spread evenly over the row's free sites, never over a tap column."""
    lib = library.cells()
    cx0, _, cx1, _ = layout.core
    nsites = (cx1 - cx0) // tech.SITE_W
    taps = {(t - cx0) // tech.SITE_W for t in layout.tap_columns}
    widths = np.array([lib[c.cell].width // tech.SITE_W for c in movable])
    free_sites = nsites - len(taps)
    total = int(widths.sum())
    nrows = len(layout.rows)
    if total > free_sites * nrows:
        raise StepError(f"placement: {total} sites of cells do not fit in {free_sites * nrows}")
    order = np.lexsort((x, y))
    per_row = total / nrows
    assignment: list[list[int]] = [[] for _ in range(nrows)]
    acc = 0
    for k in order:
        r = min(nrows - 1, int(acc // per_row))
        assignment[r].append(k)
        acc += widths[k]
    # repair rows that overflow (large cells at a boundary) by pushing cells upward/downward
    for r in range(nrows):
        while sum(widths[k] for k in assignment[r]) > free_sites - 2:
            k = max(assignment[r], key=lambda k: y[k])
            assignment[r].remove(k)
            assignment[(r + 1) % nrows].append(k)
    for r, members in enumerate(assignment):
        members.sort(key=lambda k: x[k])
        for gap_scale in (1.0, 0.5, 0.0):
            if _place_row(layout, r, members, widths, movable, taps, nsites, gap_scale):
                break
        else:
            raise StepError(f"placement: row {r} overflows while legalizing")
    _check_overlaps(layout, nsites)


def _place_row(layout: Layout, r: int, members: list[int], widths: np.ndarray, movable: list,
               taps: set[int], nsites: int, gap_scale: float) -> bool:
    """Place one row's cells left to right with equal gaps; False if the row overflows."""
    row_y, orient = layout.rows[r]
    cx0 = layout.core[0]
    free_sites = nsites - len(taps)
    used = int(sum(widths[k] for k in members))
    gap = gap_scale * (free_sites - used) / (len(members) + 1)
    cursor, before = 0, 0
    spots = []
    for t, k in enumerate(members):
        want = _real_site(int(round((t + 1) * gap)) + before, taps)
        start = max(cursor, want)
        while any(s in taps for s in range(start, start + int(widths[k]))):
            start += 1
        if start + widths[k] > nsites:
            return False
        spots.append(start)
        cursor = start + int(widths[k])
        before += int(widths[k])
    for k, start in zip(members, spots, strict=True):
        c = movable[k]
        c.x, c.y, c.orient, c.placed = cx0 + start * tech.SITE_W, row_y, orient, True
    return True


def _real_site(free: int, taps: set[int]) -> int:
    """The row site index of the `free`-th site that is not a tap column."""
    real = 0
    count = 0
    while True:
        if real not in taps:
            if count == free:
                return real
            count += 1
        real += 1


def _check_overlaps(layout: Layout, nsites: int) -> None:
    lib = library.cells()
    cx0 = layout.core[0]
    occupied: dict[tuple[int, int], str] = {}
    for c in layout.components:
        if not c.placed:
            raise StepError(f"placement: {c.name} left unplaced")
        s0 = (c.x - cx0) // tech.SITE_W
        for s in range(s0, s0 + lib[c.cell].width // tech.SITE_W):
            if s >= nsites or (s, c.y) in occupied:
                raise StepError(f"placement: {c.name} overlaps {occupied.get((s, c.y))} "
                                "or leaves the row")
            occupied[(s, c.y)] = c.name


def run(ctx: StepContext) -> dict[str, float | int | str]:
    t0 = time.monotonic()
    layout = Layout.load(ctx.input("layout.json"))
    x, y, movable = global_place(layout)
    legalize(layout, x, y, movable)
    layout.save(ctx.output("layout.json"))
    write_def(layout, ctx.output("def"))
    hpwl = 0.0
    pos = {c.name: (c.x, c.y) for c in layout.components}
    for pins in layout.nets.values():
        pts = [((layout.ports[p].rect[0] + layout.ports[p].rect[2]) / 2, layout.ports[p].rect[1])
               if i == "PIN" else pos[i] for i, p in pins]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        hpwl += (max(xs) - min(xs)) + (max(ys) - min(ys))
    return {"cells": len(movable), "hpwl_um": round(hpwl / 1000, 1),
            "runtime_s": round(time.monotonic() - t0, 2)}
