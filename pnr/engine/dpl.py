"""Legalization and detailed placement onto the rows and sites of the core.

Algorithms and sources:

* **Legalization: Abacus** (Spindler, Schlichtmann, Johannes, "Abacus: Fast Legalization of
  Standard Cell Circuits with Minimal Movement", ISPD 2008). Cells are taken in order of their
  global-placement x; each is tried in the rows near its global y (nearest first, stopping
  once the vertical distance alone exceeds the best cost found) and, in each row, in the free
  segments between fixed cells (the tap columns) around its x. A trial appends the cell to the
  segment's last cluster and collapses clusters -- each cluster sits at the weighted mean of
  its cells' wanted positions, rounded to a site and clamped into the segment, and merges
  with its left neighbour while they overlap -- without changing anything; the cell goes to
  the (row, segment) where its own displacement is smallest, and that trial is then committed.
  Sites are integers throughout, so the result is on the site grid by construction.
* **Detailed placement: moves into white space toward the optimal region** (the "global swap"
  of FastPlace-DP, Pan, Viswanathan, Chu, ISPD 2005 / TCAD 2008, restricted to moves into free
  sites: no cell is displaced by another). For each cell the optimal region is the box between
  the medians of its nets' bounding boxes computed without the cell; if the cell is outside
  it, the free gaps nearest to the region's closest point (same and adjacent rows) are tried
  and the cell moves to the first one that lowers the half-perimeter wirelength of its nets.

Fixed components (tap cells, anything not of kind ``logic`` that is already placed) are never
moved; legalization works around them.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

from pnr.engine import library, tech
from pnr.engine.context import StepError
from pnr.engine.gpl import Problem
from pnr.engine.layout import Layout


@dataclass
class _Cluster:
    x: int            # first site
    e: float          # total weight
    q: float          # Abacus' q: sum of e_i * (wanted x_i - width before cell i)
    w: int            # total width (sites)
    cells: list[int] = field(default_factory=list)


@dataclass
class _Segment:
    s0: int
    s1: int           # free sites [s0, s1)
    used: int = 0
    clusters: list[_Cluster] = field(default_factory=list)

    def trial(self, want: float, w: int) -> int:
        """First site the cell (width ``w``, wanted first site ``want``) gets if appended."""
        e, q, wt, idx = 1.0, want, w, len(self.clusters)
        while True:
            x = min(max(int(round(q / e)), self.s0), self.s1 - wt)
            if idx > 0 and self.clusters[idx - 1].x + self.clusters[idx - 1].w > x:
                p = self.clusters[idx - 1]
                q, e, wt, idx = p.q + q - e * p.w, p.e + e, p.w + wt, idx - 1
            else:
                return x + wt - w

    def add(self, cell: int, want: float, w: int) -> None:
        """Append the cell and collapse (the committed version of :meth:`trial`)."""
        c = _Cluster(0, 1.0, want, w, [cell])
        while True:
            c.x = min(max(int(round(c.q / c.e)), self.s0), self.s1 - c.w)
            if self.clusters and self.clusters[-1].x + self.clusters[-1].w > c.x:
                p = self.clusters.pop()
                c = _Cluster(0, p.e + c.e, p.q + c.q - c.e * p.w, p.w + c.w, p.cells + c.cells)
            else:
                self.clusters.append(c)
                self.used += w
                return


def free_segments(layout: Layout) -> list[list[tuple[int, int]]]:
    """Per row, the maximal runs [s0, s1) of sites not covered by a placed fixed component."""
    lib = library.cells()
    cx0, _, cx1, _ = layout.core
    nsites = (cx1 - cx0) // tech.SITE_W
    row_of = {y: r for r, (y, _) in enumerate(layout.rows)}
    blocked = np.zeros((len(layout.rows), nsites + 1), dtype=bool)
    blocked[:, nsites] = True
    for c in layout.components:
        if c.kind != "logic" and c.placed and c.y in row_of:
            s0 = (c.x - cx0) // tech.SITE_W
            blocked[row_of[c.y], max(0, s0):s0 + lib[c.cell].width // tech.SITE_W] = True
    out = []
    for r in range(len(layout.rows)):
        edges = np.flatnonzero(np.diff(np.concatenate([[1], blocked[r].astype(np.int8)])))
        runs = edges.reshape(-1, 2) if len(edges) % 2 == 0 else edges[:-1].reshape(-1, 2)
        out.append([(int(a), int(b)) for a, b in runs])
    return out


def legalize(layout: Layout, prob: Problem, x: np.ndarray, y: np.ndarray) -> float:
    """Abacus: put every movable cell of ``prob`` on a free row segment; returns the mean
    displacement (nm) from the global positions (cell centres ``x``, ``y``)."""
    cx0, cy0 = layout.core[0], layout.core[1]
    widths = (prob.width // tech.SITE_W).astype(int)
    segs = [[_Segment(a, b) for a, b in row] for row in free_segments(layout)]
    starts = [[s.s0 for s in row] for row in segs]
    nrows = len(segs)
    if int(widths.sum()) > sum(s.s1 - s.s0 for row in segs for s in row):
        raise StepError(f"placement: {int(widths.sum())} sites of cells do not fit in the "
                        f"{sum(s.s1 - s.s0 for row in segs for s in row)} free sites of the core")
    want_s = (x - prob.width / 2 - cx0) / tech.SITE_W
    want_r = (y - prob.height / 2 - cy0) / tech.ROW_H
    for k in np.argsort(want_s, kind="stable"):
        w, ws, wr = int(widths[k]), float(want_s[k]), float(want_r[k])
        best: tuple[float, _Segment] | None = None
        r0 = min(max(int(round(wr)), 0), nrows - 1)
        for d in range(nrows):
            dy = (abs(d) - 0.5) * tech.ROW_H if d else 0.0
            if best is not None and dy > best[0]:
                break
            for r in ((r0,) if d == 0 else (r0 - d, r0 + d)):
                if not 0 <= r < nrows:
                    continue
                cost_y = abs(r - wr) * tech.ROW_H
                row, first = segs[r], starts[r]
                i = max(0, bisect.bisect_right(first, ws) - 1)
                # the segment under the cell, then outward on each side while the x gap
                # alone can still beat the best cost found
                for js in (range(i, len(row)), range(i - 1, -1, -1)):
                    for j in js:
                        s = row[j]
                        gap = max(s.s0 - ws, ws + w - s.s1, 0.0) * tech.SITE_W
                        if best is not None and cost_y + gap >= best[0]:
                            break
                        if s.s1 - s.s0 - s.used < w:
                            continue
                        cost = cost_y + abs(s.trial(ws, w) - ws) * tech.SITE_W
                        if best is None or cost < best[0]:
                            best = (cost, s)
        if best is None:
            raise StepError(f"placement: no free row segment for {prob.movable[k].name}")
        best[1].add(int(k), ws, w)
    total = 0.0
    for r, row in enumerate(segs):
        y_row, orient = layout.rows[r]
        for s in row:
            for cl in s.clusters:
                site = cl.x
                for k in cl.cells:
                    c = prob.movable[k]
                    c.x, c.y, c.orient, c.placed = cx0 + site * tech.SITE_W, y_row, orient, True
                    total += abs(c.x + prob.width[k] / 2 - x[k]) + \
                        abs(c.y + prob.height[k] / 2 - y[k])
                    site += int(widths[k])
    return total / max(1, prob.n)


class _Pins:
    """Pin coordinates of the legal placement, per cell and per net, for HPWL deltas."""

    def __init__(self, layout: Layout, prob: Problem) -> None:
        self.prob = prob
        flip = {y: o == "FS" for y, o in layout.rows}
        self.cx = np.array([c.x for c in prob.movable], dtype=float) + prob.width / 2
        self.cy = np.array([c.y for c in prob.movable], dtype=float) + prob.height / 2
        self.sign = np.array([-1.0 if flip[c.y] else 1.0 for c in prob.movable])
        mov = np.flatnonzero(prob.pin_cell >= 0)
        order = mov[np.argsort(prob.pin_cell[mov], kind="stable")]
        cell_pins = np.split(order, np.searchsorted(prob.pin_cell[order], np.arange(1, prob.n)))
        self.cell_nets = [np.unique(prob.pin_net[p]) for p in cell_pins]
        self._cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def coords(self, pins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = self.prob
        cell = p.pin_cell[pins]
        mov = cell >= 0
        c = np.maximum(cell, 0)
        px = np.where(mov, self.cx[c] + p.pin_dx[pins], p.pin_fx[pins])
        py = np.where(mov, self.cy[c] + self.sign[c] * p.pin_dy[pins], p.pin_fy[pins])
        return px, py

    def of_cell(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All pins of cell k's nets, each net's start in that list, and which pins are not
        on k itself (computed once per cell)."""
        if k not in self._cache:
            st = self.prob.net_start
            nets = self.cell_nets[k]
            lens = st[nets + 1] - st[nets]
            pins = np.concatenate([np.arange(st[a], st[a + 1]) for a in nets])
            offs = np.concatenate([[0], np.cumsum(lens)[:-1]])
            self._cache[k] = (pins, offs, self.prob.pin_cell[pins] != k)
        return self._cache[k]

    def hpwl(self, pins: np.ndarray, offs: np.ndarray) -> float:
        px, py = self.coords(pins)
        return float((np.maximum.reduceat(px, offs) - np.minimum.reduceat(px, offs)).sum()
                     + (np.maximum.reduceat(py, offs) - np.minimum.reduceat(py, offs)).sum())

    def optimal_point(self, k: int) -> tuple[float, float] | None:
        """The point of cell k's optimal region nearest to where it is, or None if k has no
        net with another pin: the region spans the medians of its nets' bounding boxes
        without k (FastPlace-DP)."""
        pins, offs, others = self.of_cell(k)
        px, py = self.coords(pins)
        out = []
        for v, here in ((px, self.cx[k]), (py, self.cy[k])):
            v = np.where(others, v, np.nan)
            lo, hi = np.fmin.reduceat(v, offs), np.fmax.reduceat(v, offs)
            ok = ~np.isnan(lo)
            if not ok.any():
                return None
            ends = np.sort(np.concatenate([lo[ok], hi[ok]]))
            h = int(ok.sum())
            out.append(min(max(here, ends[h - 1]), ends[h]))
        return out[0], out[1]


def improve(layout: Layout, prob: Problem, passes: int = 2, window_sites: int = 40) -> int:
    """Detailed placement: move cells into free sites toward their optimal region while that
    lowers HPWL. Returns the number of cells moved. Legal in, legal out."""
    from pnr.engine.place import site_occupancy
    if prob.n == 0:
        return 0
    cx0, cy0 = layout.core[0], layout.core[1]
    occ = site_occupancy(layout)
    nrows = len(occ)
    pins = _Pins(layout, prob)
    widths = (prob.width // tech.SITE_W).astype(int)
    moved = 0
    for _ in range(passes):
        moved_pass = 0
        for k in range(prob.n):
            if len(pins.cell_nets[k]) == 0:
                continue
            target = pins.optimal_point(k)
            if target is None:
                continue
            tx, ty = target
            if abs(tx - pins.cx[k]) < tech.SITE_W and abs(ty - pins.cy[k]) < tech.ROW_H / 2:
                continue
            allp, offs, _ = pins.of_cell(k)
            w = int(widths[k])
            comp = prob.movable[k]
            r_old = (comp.y - cy0) // tech.ROW_H
            s_old = (comp.x - cx0) // tech.SITE_W
            before = pins.hpwl(allp, offs)
            occ[r_old][s_old:s_old + w] = bytes(w)
            want_s = int(round((tx - prob.width[k] / 2 - cx0) / tech.SITE_W))
            want_r = min(max(int(round((ty - prob.height[k] / 2 - cy0) / tech.ROW_H)), 0),
                         nrows - 1)
            best: tuple[float, int, int] | None = None
            old = (pins.cx[k], pins.cy[k], pins.sign[k])
            for r in (want_r, want_r - 1, want_r + 1):
                if not 0 <= r < nrows:
                    continue
                s = _gap_near(occ[r], w, want_s, window_sites)
                if s is None or (r == r_old and s == s_old):
                    continue
                pins.cx[k] = cx0 + s * tech.SITE_W + prob.width[k] / 2
                pins.cy[k] = cy0 + r * tech.ROW_H + prob.height[k] / 2
                pins.sign[k] = -1.0 if layout.rows[r][1] == "FS" else 1.0
                gain = before - pins.hpwl(allp, offs)
                if gain > 0 and (best is None or gain > best[0]):
                    best = (gain, r, s)
            pins.cx[k], pins.cy[k], pins.sign[k] = old
            if best is None:
                occ[r_old][s_old:s_old + w] = b"\x01" * w
                continue
            _, r, s = best
            occ[r][s:s + w] = b"\x01" * w
            comp.x, comp.y = cx0 + s * tech.SITE_W, layout.rows[r][0]
            comp.orient = layout.rows[r][1]
            pins.cx[k] = comp.x + prob.width[k] / 2
            pins.cy[k] = comp.y + prob.height[k] / 2
            pins.sign[k] = -1.0 if comp.orient == "FS" else 1.0
            moved_pass += 1
        moved += moved_pass
        if moved_pass == 0:
            break
    return moved


def _gap_near(row: bytearray, w: int, want: int, window: int) -> int | None:
    """The start of the ``w`` free sites nearest to site ``want`` within ``window`` sites."""
    n = len(row)
    want = min(max(want, 0), n - w)
    free = bytes(w)
    right = row.find(free, want, min(n, want + window + w))
    left = row.rfind(free, max(0, want - window), want + w)
    cands = [s for s in (left, right) if s >= 0]
    return min(cands, key=lambda s: abs(s - want)) if cands else None
