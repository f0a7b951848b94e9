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
from numba import njit

from pnr.engine import library, tech
from pnr.engine.context import StepError
from pnr.engine.gpl import BinGrid, Problem
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


def legalize(layout: Layout, prob: Problem, x: np.ndarray, y: np.ndarray, pad: int = 0) -> float:
    """Abacus: put every movable cell of ``prob`` on a free row segment; returns the mean
    displacement (nm) from the global positions (cell centres ``x``, ``y``).

    ``pad`` free sites are kept to the right of every cell and at the start of every segment,
    so a logic cell has at least ``pad`` free sites on both sides, next to another cell or to
    a tap cell: OpenROAD's detailed-placement cell padding, which leaves the router room to
    reach pins between neighbours (a cell abutting a tap column once left a pin unroutable
    on ``small``)."""
    cx0, cy0 = layout.core[0], layout.core[1]
    widths = (prob.width // tech.SITE_W).astype(int) + pad
    runs = free_segments(layout)
    widest = max((b - a for row in runs for a, b in row), default=0)
    for k in np.flatnonzero(widths > widest - pad):
        c = prob.movable[k]
        raise StepError(f"placement: {c.name} ({c.cell}, {widths[k] - pad} sites) with {pad} "
                        f"padding sites each side does not fit in the widest free run between "
                        f"tap columns ({widest} sites); lower placement.cell_pad_sites or widen "
                        f"floorplan.tap_pitch_um")
    segs = [[_Segment(a + pad, b) for a, b in row if b - a > pad] for row in runs]
    starts = [[s.s0 for s in row] for row in segs]
    nrows = len(segs)
    room = sum(s.s1 - s.s0 for row in segs for s in row)
    if int(widths.sum()) > room:
        raise StepError(f"placement: {int(widths.sum())} sites of cells (with {pad} padding "
                        f"sites each) do not fit in the {room} free sites of the core")
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


def improve(layout: Layout, prob: Problem, density: float | None = None, passes: int = 2,
            window_sites: int = 40, pad: int = 0) -> int:
    """Detailed placement: move cells into free sites toward their optimal region while that
    lowers HPWL. Returns the number of cells moved. Legal in, legal out; a moved cell lands
    in a gap with ``pad`` free sites on both sides, so it keeps the legalizer's padding.

    With ``density``, a move into another placement bin is made only if that bin stays within
    ``density`` (the global placer's bins): detailed placement must not undo the spreading
    that leaves the router room. The loop over cells is compiled with numba
    (:func:`_improve_kernel`): in Python it took 277 s on 54k cells."""
    from pnr.engine.place import site_occupancy
    n = prob.n
    if n == 0:
        return 0
    cx0, cy0 = layout.core[0], layout.core[1]
    occ = np.array([np.frombuffer(bytes(r), dtype=np.uint8) for r in site_occupancy(layout)])
    flip = np.array([o == "FS" for _, o in layout.rows])
    row = np.array([(c.y - cy0) // tech.ROW_H for c in prob.movable], dtype=np.int64)
    site = np.array([(c.x - cx0) // tech.SITE_W for c in prob.movable], dtype=np.int64)
    # nets of each cell (CSR), from the pins stored net by net
    mov = np.flatnonzero(prob.pin_cell >= 0)
    pairs = np.unique(np.stack([prob.pin_cell[mov], prob.pin_net[mov]]), axis=1)
    cell_ptr = np.searchsorted(pairs[0], np.arange(n + 1)).astype(np.int64)
    grid = BinGrid(prob, density if density is not None else 1.0)
    cx = cx0 + site * tech.SITE_W + prob.width / 2
    cy = cy0 + row * tech.ROW_H + prob.height / 2
    usage = grid.usage(prob, cx, cy)
    cap = grid.capacity if density is not None else np.full_like(usage, np.inf)
    moved = _improve_kernel(
        prob.pin_cell, prob.pin_dx, prob.pin_dy, prob.pin_fx, prob.pin_fy, prob.net_start,
        cell_ptr, pairs[1].astype(np.int64), (prob.width // tech.SITE_W).astype(np.int64),
        prob.width, prob.height, prob.area, row, site, occ, flip, grid.xs, grid.ys, usage, cap,
        float(cx0), float(cy0), float(tech.SITE_W), float(tech.ROW_H), pad, window_sites, passes)
    for k, c in enumerate(prob.movable):
        c.x, c.y = cx0 + int(site[k]) * tech.SITE_W, layout.rows[row[k]][0]
        c.orient = layout.rows[row[k]][1]
    return int(moved)


@njit(cache=True)
def _cell_hpwl(k, rk, sk, pin_cell, pin_dx, pin_dy, pin_fx, pin_fy, net_start, nets, row, site,
               flip, width, height, cx0, cy0, site_w, row_h):
    """HPWL of ``nets`` with cell k at row rk, site sk (other cells where they are)."""
    total = 0.0
    for net in nets:
        x0, x1, y0, y1 = np.inf, -np.inf, np.inf, -np.inf
        for p in range(net_start[net], net_start[net + 1]):
            c = pin_cell[p]
            if c < 0:
                px, py = pin_fx[p], pin_fy[p]
            else:
                r, s = (rk, sk) if c == k else (row[c], site[c])
                sgn = -1.0 if flip[r] else 1.0
                px = cx0 + s * site_w + width[c] / 2 + pin_dx[p]
                py = cy0 + r * row_h + height[c] / 2 + sgn * pin_dy[p]
            x0, x1, y0, y1 = min(x0, px), max(x1, px), min(y0, py), max(y1, py)
        total += (x1 - x0) + (y1 - y0)
    return total


@njit(cache=True)
def _free_run(occ_row, start, length):
    if start < 0 or start + length > occ_row.shape[0]:
        return False
    for s in range(start, start + length):
        if occ_row[s]:
            return False
    return True


@njit(cache=True)
def _improve_kernel(pin_cell, pin_dx, pin_dy, pin_fx, pin_fy, net_start, cell_ptr, cell_nets,
                    wsites, width, height, area, row, site, occ, flip, xs, ys, usage, cap,
                    cx0, cy0, site_w, row_h, pad, window, passes):
    """The cell loop of :func:`improve` over flat arrays; updates row/site/occ/usage."""
    n = wsites.shape[0]
    nrows, nsites = occ.shape
    nx, ny = xs.shape[0] - 1, ys.shape[0] - 1
    moved = 0
    for _ in range(passes):
        moved_pass = 0
        for k in range(n):
            nets = cell_nets[cell_ptr[k]:cell_ptr[k + 1]]
            if nets.shape[0] == 0:
                continue
            # optimal region: medians of the nets' bounding boxes without cell k
            los_x, his_x = np.empty(nets.shape[0]), np.empty(nets.shape[0])
            los_y, his_y = np.empty(nets.shape[0]), np.empty(nets.shape[0])
            h = 0
            for net in nets:
                x0, x1, y0, y1 = np.inf, -np.inf, np.inf, -np.inf
                for p in range(net_start[net], net_start[net + 1]):
                    c = pin_cell[p]
                    if c == k:
                        continue
                    if c < 0:
                        px, py = pin_fx[p], pin_fy[p]
                    else:
                        sgn = -1.0 if flip[row[c]] else 1.0
                        px = cx0 + site[c] * site_w + width[c] / 2 + pin_dx[p]
                        py = cy0 + row[c] * row_h + height[c] / 2 + sgn * pin_dy[p]
                    x0, x1, y0, y1 = min(x0, px), max(x1, px), min(y0, py), max(y1, py)
                if x0 <= x1:
                    los_x[h], his_x[h], los_y[h], his_y[h] = x0, x1, y0, y1
                    h += 1
            if h == 0:
                continue
            ex = np.sort(np.concatenate((los_x[:h], his_x[:h])))
            ey = np.sort(np.concatenate((los_y[:h], his_y[:h])))
            here_x = cx0 + site[k] * site_w + width[k] / 2
            here_y = cy0 + row[k] * row_h + height[k] / 2
            tx = min(max(here_x, ex[h - 1]), ex[h])
            ty = min(max(here_y, ey[h - 1]), ey[h])
            if abs(tx - here_x) < site_w and abs(ty - here_y) < row_h / 2:
                continue
            w = wsites[k]
            r_old, s_old = row[k], site[k]
            before = _cell_hpwl(k, r_old, s_old, pin_cell, pin_dx, pin_dy, pin_fx, pin_fy,
                                net_start, nets, row, site, flip, width, height, cx0, cy0,
                                site_w, row_h)
            occ[r_old, s_old:s_old + w] = 0
            bx_old = min(max(np.searchsorted(xs, here_x, side="right") - 1, 0), nx - 1)
            by_old = min(max(np.searchsorted(ys, here_y, side="right") - 1, 0), ny - 1)
            want_s = int(round((tx - width[k] / 2 - cx0) / site_w))
            want_r = min(max(int(round((ty - height[k] / 2 - cy0) / row_h)), 0), nrows - 1)
            best_gain, best_r, best_s = 0.0, -1, -1
            for dr in (0, -1, 1):
                r = want_r + dr
                if r < 0 or r >= nrows:
                    continue
                # the free run of w + 2 pad sites nearest to want_s - pad, within the window
                s = -1
                lo = min(max(want_s - pad, 0), nsites - w - 2 * pad)
                for d in range(window + 1):
                    if _free_run(occ[r], lo + d, w + 2 * pad):
                        s = lo + d
                        break
                    if _free_run(occ[r], lo - d, w + 2 * pad):
                        s = lo - d
                        break
                if s < 0:
                    continue
                s += pad
                if r == r_old and s == s_old:
                    continue
                nxc = cx0 + s * site_w + width[k] / 2
                nyc = cy0 + r * row_h + height[k] / 2
                bx = min(max(np.searchsorted(xs, nxc, side="right") - 1, 0), nx - 1)
                by = min(max(np.searchsorted(ys, nyc, side="right") - 1, 0), ny - 1)
                if (bx != bx_old or by != by_old) and usage[bx, by] + area[k] > cap[bx, by]:
                    continue
                gain = before - _cell_hpwl(k, r, s, pin_cell, pin_dx, pin_dy, pin_fx, pin_fy,
                                           net_start, nets, row, site, flip, width, height,
                                           cx0, cy0, site_w, row_h)
                if gain > best_gain:
                    best_gain, best_r, best_s = gain, r, s
            if best_r < 0:
                occ[r_old, s_old:s_old + w] = 1
                continue
            nxc = cx0 + best_s * site_w + width[k] / 2
            nyc = cy0 + best_r * row_h + height[k] / 2
            bx = min(max(np.searchsorted(xs, nxc, side="right") - 1, 0), nx - 1)
            by = min(max(np.searchsorted(ys, nyc, side="right") - 1, 0), ny - 1)
            usage[bx_old, by_old] -= area[k]
            usage[bx, by] += area[k]
            occ[best_r, best_s:best_s + w] = 1
            row[k], site[k] = best_r, best_s
            moved_pass += 1
        moved += moved_pass
        if moved_pass == 0:
            break
    return moved
