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
from pnr.engine.layout import Component, Layout, write_def

MAX_NET_PINS = 24   # wider nets (clock, reset) do not pull placement
MIN_LEAF_NM = 20_000  # bisection stops splitting a row below this width (a leaf's cells are
                      # then spread evenly over it, which keeps white space for the router)


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
    """Spread the quadratic placement over the core by recursive bisection, then place each
    leaf's cells on its row segment in x order, evenly spaced, never over a tap column.

    Why bisection: the quadratic solution clumps cells in the centre. Spreading by y rank into
    rows and then by x rank *within each row* (the first version) stretched every row on its
    own, so cells that were neighbours ended up far apart in x (on ``small`` the nets' x span
    was 4.6x their y span and the router ran out of horizontal tracks). Bisection keeps the
    relative order in both directions: each region's cells are split by their coordinate
    across the region's longer side, in proportion to the free sites on each side.
    """
    lib = library.cells()
    cx0, _, cx1, _ = layout.core
    nsites = (cx1 - cx0) // tech.SITE_W
    taps = {(t - cx0) // tech.SITE_W for t in layout.tap_columns}
    free_prefix = np.concatenate([[0], np.cumsum([s not in taps for s in range(nsites)])])
    widths = np.array([lib[c.cell].width // tech.SITE_W for c in movable])
    nrows = len(layout.rows)
    total = int(widths.sum())
    if total > int(free_prefix[-1]) * nrows:
        raise StepError(f"placement: {total} sites of cells do not fit in "
                        f"{int(free_prefix[-1]) * nrows}")

    def free(s0: int, s1: int) -> int:
        return int(free_prefix[s1] - free_prefix[s0])

    leaves: list[tuple[int, int, int, list[int]]] = []   # (row, s0, s1, cells)
    stack = [(0, nrows, 0, nsites, list(range(len(movable))))]
    while stack:
        r0, r1, s0, s1, cells = stack.pop()
        height_nm, width_nm = (r1 - r0) * tech.ROW_H, (s1 - s0) * tech.SITE_W
        if r1 - r0 == 1 and (width_nm <= MIN_LEAF_NM or len(cells) <= 1):
            leaves.append((r0, s0, s1, cells))
            continue
        if r1 - r0 > 1 and (height_nm >= width_nm or width_nm <= MIN_LEAF_NM):
            cut = (r0 + r1) // 2
            share = (cut - r0) / (r1 - r0)
            cells.sort(key=lambda k: y[k])
            halves = ((r0, cut, s0, s1), (cut, r1, s0, s1))
        else:
            cut = (s0 + s1) // 2
            share = free(s0, cut) / max(1, free(s0, s1))
            cells.sort(key=lambda k: x[k])
            halves = ((r0, r1, s0, cut), (r0, r1, cut, s1))
        want = share * float(widths[cells].sum()) if cells else 0.0
        acc, split = 0.0, 0
        while split < len(cells) and acc + widths[cells[split]] / 2 <= want:
            acc += widths[cells[split]]
            split += 1
        stack.append((*halves[0], cells[:split]))
        stack.append((*halves[1], cells[split:]))
    leftover: list[int] = []
    for r, s0, s1, members in leaves:
        members.sort(key=lambda k: x[k])
        for gap_scale in (1.0, 0.5, 0.0):
            if _place_row(layout, r, members, widths, movable, taps, s0, s1, gap_scale):
                break
        else:  # a wide cell beside a tap column, or rounding at a cut: placed afterwards
            leftover += members
    if leftover:
        occ = site_occupancy(layout)
        for k in leftover:
            place_in_free_sites(layout, movable[k], x[k], y[k], occ)
    check_overlaps(layout, nsites)


def _place_row(layout: Layout, r: int, members: list[int], widths: np.ndarray, movable: list,
               taps: set[int], s0: int, s1: int, gap_scale: float) -> bool:
    """Place cells on sites [s0, s1) of row r, left to right with equal gaps; False if they
    do not fit."""
    row_y, orient = layout.rows[r]
    cx0 = layout.core[0]
    free_sites = sum(1 for s in range(s0, s1) if s not in taps)
    used = int(sum(widths[k] for k in members))
    gap = gap_scale * (free_sites - used) / (len(members) + 1)
    cursor, before = s0, 0
    spots = []
    for t, k in enumerate(members):
        want = _real_site(int(round((t + 1) * gap)) + before, taps, s0)
        start = max(cursor, want)
        while any(s in taps for s in range(start, start + int(widths[k]))):
            start += 1
        if start + widths[k] > s1:
            return False
        spots.append(start)
        cursor = start + int(widths[k])
        before += int(widths[k])
    for k, start in zip(members, spots, strict=True):
        c = movable[k]
        c.x, c.y, c.orient, c.placed = cx0 + start * tech.SITE_W, row_y, orient, True
    return True


def _real_site(free: int, taps: set[int], first: int = 0) -> int:
    """The row site index of the `free`-th site from ``first`` that is not a tap column."""
    real = first
    count = 0
    while True:
        if real not in taps:
            if count == free:
                return real
            count += 1
        real += 1


def check_overlaps(layout: Layout, nsites: int) -> None:
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


def site_occupancy(layout: Layout) -> list[bytearray]:
    """Per row, one byte per site: 1 where a placed component (logic or tap) sits."""
    lib = library.cells()
    cx0, _, cx1, _ = layout.core
    nsites = (cx1 - cx0) // tech.SITE_W
    row_of = {y: r for r, (y, _) in enumerate(layout.rows)}
    occ = [bytearray(nsites) for _ in layout.rows]
    for c in layout.components:
        if c.placed:
            s0 = (c.x - cx0) // tech.SITE_W
            occ[row_of[c.y]][s0:s0 + lib[c.cell].width // tech.SITE_W] = \
                b"\x01" * (lib[c.cell].width // tech.SITE_W)
    return occ


def place_in_free_sites(layout: Layout, comp: Component, x: float, y: float,
                        occ: list[bytearray]) -> None:
    """Put one new component into the free sites nearest to (``x``, ``y``) (its centre, nm),
    leaving every placed cell where it is; updates ``occ``.

    Why not re-run :func:`legalize`: cells added after placement (clock and fanout buffers)
    must not move the cells their positions were computed from; the placer's even spreading
    leaves free sites in every row, so a nearest-gap search is enough."""
    lib = library.cells()
    cx0, cy0 = layout.core[0], layout.core[1]
    width = lib[comp.cell].width // tech.SITE_W
    nsites = len(occ[0]) if occ else 0
    want_s = (x - cx0) / tech.SITE_W - width / 2
    want_r = (y - cy0) / tech.ROW_H - 0.5
    best: tuple[float, int, int] | None = None
    for dr in range(len(occ)):
        if best is not None and (dr - 1) * tech.ROW_H > best[0]:
            break
        for r in {int(round(want_r)) - dr, int(round(want_r)) + dr}:
            if not 0 <= r < len(occ):
                continue
            s = _nearest_gap(occ[r], width, int(round(want_s)), nsites)
            if s is None:
                continue
            cost = abs(s - want_s) * tech.SITE_W + abs(r - want_r) * tech.ROW_H
            if best is None or cost < best[0]:
                best = (cost, r, s)
    if best is None:
        raise StepError(f"placement: no {width} free sites left for {comp.name}")
    _, r, s = best
    comp.x, comp.y, comp.orient = cx0 + s * tech.SITE_W, layout.rows[r][0], layout.rows[r][1]
    comp.placed = True
    occ[r][s:s + width] = b"\x01" * width


def _nearest_gap(row: bytearray, width: int, want: int, nsites: int) -> int | None:
    """First site index nearest to ``want`` where ``width`` free sites start, or None."""
    free = b"\x00" * width
    for d in range(nsites):
        for s in (want - d, want + d):
            if 0 <= s <= nsites - width and row[s:s + width] == free:
                return s
    return None


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
