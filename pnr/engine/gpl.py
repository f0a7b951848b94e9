"""Global placement: sparse quadratic wirelength (Bound2Bound) with SimPL-style density spreading.

Algorithms and sources:

* **Bound2Bound net model** (Spindler, Schlichtmann, Johannes, "Kraftwerk2 -- A Fast
  Force-Directed Quadratic Placement Approach Using an Accurate Net Model", IEEE TCAD 27(8),
  2008). Per axis, every pin of a ``p``-pin net is tied to the net's two extreme pins (and
  the extremes to each other) with weight ``2 / ((p - 1) * |x_i - x_j|)``, so the quadratic
  cost equals the half-perimeter wirelength at the current positions. The system is rebuilt
  from the current positions before every solve. Pin offsets inside cells are kept.
* The linear system is assembled with ``scipy.sparse`` (``2p - 3`` springs per net: memory
  is linear in the pin count) and solved by conjugate gradient with a Jacobi (diagonal)
  preconditioner, warm-started from the previous positions. IO pins are fixed anchors.
* **Density spreading**: SimPL (Kim, Lee, Markov, "SimPL: An Effective Placement Algorithm",
  ICCAD 2010). Each iteration alternates a *lower bound* (the B2B solve, with pseudo-nets
  pulling every cell toward its last spread position, weight growing linearly with the
  iteration) and an *upper bound* from look-ahead legalization: bins whose movable area
  exceeds ``target density x free area`` are grown into regions that can hold their cells,
  and each region's cells are split by recursive bisection -- sorted along the longer side
  and divided in proportion to the capacity on each side -- down to single bins, inside which
  cells are scaled linearly. Cells outside overfilled regions are not moved. The loop stops
  when the upper bound's overflow is below ``TARGET_OVERFLOW`` (RePlAce/OpenROAD ``gpl``
  uses the same 10 % overflow criterion) or after ``MAX_ITERS``.

* **Timing-driven net weights** (optional, after OpenROAD ``gpl -timing_driven``,
  ``src/gpl/src/timingBase.cpp``): when the lower bound's overflow first drops below each of
  :data:`TIMING_OVERFLOWS` (OpenROAD's default reweighting points), a caller-supplied
  ``reweight(x, y)`` -- :class:`pnr.engine.tdp.TimingWeights`, STA on the spread positions --
  returns a weight per net, and every B2B spring of a net is multiplied by it from then on.
  Without ``reweight`` nothing changes: ``net_weight`` stays ``None`` and the arithmetic is
  the wirelength-only one.

* **Routability-driven spreading** (``routability=True``; after RePlAce / OpenROAD ``gpl
  -routability_driven``, ``src/gpl/src/routeBase.cpp``: C.-K. Cheng, A. B. Kahng, I. Kang,
  L. Wang, "RePlAce: Advancing Solution Quality and Routability Validation in Global
  Placement", IEEE TCAD 38(9), 2019): once SimPL has converged, :func:`routability_rounds`
  estimates routing congestion with RUDY (:mod:`pnr.engine.rudy`) on the global router's
  GCell grid and, while the congestion metric (mean of the top 0.5 % and 1 % tile ratios,
  OpenROAD's) is at least :data:`RD_TARGET_RC`, inflates the area of every cell in a tile of
  ratio ``r >= RD_MIN_RATIO`` by ``min(r ** RD_COEF, RD_MAX_INFLATION)`` (OpenROAD's
  defaults) and re-spreads with SimPL iterations. Our RUDY over-estimates the peaks
  against the global router (top tiles ~2x where grt's are ~1.2), so the formula alone would
  ask for more area than the core has; each round's added area is therefore capped at
  :data:`RD_ROOM_SHARE` of the room left under :data:`RD_MAX_DENSITY` (by default
  ``1 / RD_MAX_ROUNDS``, the share OpenROAD aims at with ``targetInflationDeltaAreaRatio``),
  all tiles' inflations scaled down together. The
  bin target density rises with the inflated area, as OpenROAD's does when it removes
  fillers. :data:`RD_ESTIMATE` chooses the tile ratios: area RUDY (default) or the
  boundary-crossing variant (:func:`pnr.engine.rudy.crossing_ratio`; on riscv32i it left
  grt overflow 77 at 397,912 um HPWL where RUDY left 29 at 419,376 um, measured at the place
  step). The placement of lowest congestion is kept; the inflation only affects density
  (legalization and detailed placement see the real cell sizes).

What this module does not do: macros (the engine has only standard cells and fixed tap cells).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, cg
from threadpoolctl import threadpool_limits

from pnr.engine import library, tech
from pnr.engine.context import StepError
from pnr.engine.layout import Component, Layout

MAX_NET_PINS = 100      # clock and reset nets are buffered by cts afterwards; they do not pull
B2B_INITIAL_ITERS = 5   # pure-wirelength B2B solves before spreading starts
MAX_ITERS = 60          # SimPL iterations (lower/upper bound pairs)
TARGET_OVERFLOW = 0.10  # stop when at most this share of the cell area sits in overfull bins
ANCHOR_STEP = 0.1       # SimPL pseudo-net weight alpha = this x iteration (a 2-pin net = 1)
MIN_DIST_NM = float(tech.SITE_W)  # B2B distances below this are clamped (weight 1/d would blow up)
CG_RTOL = 1e-6
BIN_CELLS = 12          # cells per placement bin: fewer and one cell's area is a large overflow
DEFAULT_DENSITY = 0.7   # OpenROAD gpl's default target density
# Overflows at which timing-driven placement re-weights the nets (OpenROAD gpl's default
# timing_driven_net_reweight_overflow list, as fractions).
TIMING_OVERFLOWS = (0.79, 0.64, 0.49, 0.29, 0.21, 0.15)
# Routability-driven rounds (OpenROAD gpl's RouteBaseVars defaults unless said otherwise)
RD_TARGET_RC = 1.01     # stop when the RUDY congestion metric is below this (targetRC)
RD_MIN_RATIO = 1.01     # tiles at or above this ratio inflate their cells (minInflationRatio)
RD_COEF = 3.0           # inflation = ratio ** this (inflationRatioCoef)
RD_MAX_INFLATION = 6.0  # per cell, cumulative (maxInflationRatio)
RD_MAX_DENSITY = 0.90   # the bin density may rise to this to hold the inflated area (maxDensity)
RD_MAX_ROUNDS = 4       # inflation rounds (maxInflationIter)
RD_ROOM_SHARE = 1 / RD_MAX_ROUNDS  # area a round may add: this x the room under RD_MAX_DENSITY
RD_ESTIMATE = "rudy"    # tile ratios from rudy.usage_ratio ("rudy") or rudy.crossing_ratio
RD_STALL = 3            # stop after this many rounds without less congestion
RD_SIMPL_ITERS = 15     # SimPL iterations per round at most (re-spread after inflating)


@dataclass
class Problem:
    """The placement problem as flat arrays (all lengths in nm).

    Pins are stored net by net (``net_start`` is the CSR pointer). A pin on a movable cell has
    ``pin_cell >= 0`` and an offset from the cell centre; a fixed pin (IO port, or a pin of a
    cell that is not movable) has ``pin_cell == -1`` and its absolute position in ``pin_fx/fy``.
    """

    movable: list[Component]
    width: np.ndarray
    height: np.ndarray
    pin_cell: np.ndarray
    pin_dx: np.ndarray
    pin_dy: np.ndarray
    pin_fx: np.ndarray
    pin_fy: np.ndarray
    net_start: np.ndarray
    core: tuple[int, int, int, int]
    fixed_rects: list[tuple[int, int, int, int]]
    pad: float = 0.0   # nm added to every cell's width when measuring density (cell padding)
    net_names: list[str] = field(default_factory=list)   # layout net of each problem net
    net_weight: np.ndarray | None = None   # per problem net (timing-driven), None = all 1
    inflate: np.ndarray | None = None      # per cell area factor (routability-driven), None = 1

    @property
    def n(self) -> int:
        return len(self.movable)

    @property
    def area(self) -> np.ndarray:
        """Each cell's area for density, padding (and routability inflation) included."""
        area = (self.width + self.pad) * self.height
        return area if self.inflate is None else area * self.inflate

    @property
    def pin_net(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.net_start) - 1), np.diff(self.net_start))


def _pin_offset(cell: str, pin: str, cache: dict[tuple[str, str], tuple[float, float]]
                ) -> tuple[float, float]:
    """A pin's centre relative to its cell's centre (cell in orientation N)."""
    key = (cell, pin)
    if key not in cache:
        macro = library.cells()[cell]
        rects = [r for shapes in macro.pins[pin].shapes.values() for r in shapes] \
            if pin in macro.pins else []
        if rects:
            x = (min(r[0] for r in rects) + max(r[2] for r in rects)) / 2
            y = (min(r[1] for r in rects) + max(r[3] for r in rects)) / 2
            cache[key] = (x - macro.width / 2, y - macro.height / 2)
        else:
            cache[key] = (0.0, 0.0)
    return cache[key]


def build_problem(layout: Layout, max_net_pins: int = MAX_NET_PINS) -> Problem:
    """Flatten the layout's logic cells and nets (2..max_net_pins pins) into a :class:`Problem`."""
    lib = library.cells()
    movable = [c for c in layout.components if c.kind == "logic"]
    index = {c.name: k for k, c in enumerate(movable)}
    comps = {c.name: c for c in layout.components}
    width = np.array([lib[c.cell].width for c in movable], dtype=float)
    height = np.array([lib[c.cell].height for c in movable], dtype=float)
    cache: dict[tuple[str, str], tuple[float, float]] = {}
    cell_l: list[int] = []
    dx_l: list[float] = []
    dy_l: list[float] = []
    fx_l: list[float] = []
    fy_l: list[float] = []
    starts = [0]
    names = []
    for name, pins in layout.nets.items():
        if not 2 <= len(pins) <= max_net_pins:
            continue
        names.append(name)
        for inst, pin in pins:
            if inst == "PIN":
                r = layout.ports[pin].rect
                cell_l.append(-1)
                dx_l.append(0.0)
                dy_l.append(0.0)
                fx_l.append((r[0] + r[2]) / 2)
                fy_l.append((r[1] + r[3]) / 2)
                continue
            comp = comps[inst]
            ox, oy = _pin_offset(comp.cell, pin, cache)
            if inst in index:
                cell_l.append(index[inst])
                dx_l.append(ox)
                dy_l.append(oy)
                fx_l.append(0.0)
                fy_l.append(0.0)
            else:  # a fixed, placed component (not expected today, but keep it an anchor)
                m = lib[comp.cell]
                cell_l.append(-1)
                dx_l.append(0.0)
                dy_l.append(0.0)
                fx_l.append(comp.x + m.width / 2 + ox)
                fy_l.append(comp.y + m.height / 2 + oy)
        starts.append(len(cell_l))
    fixed_rects = []
    for c in layout.components:
        if c.kind != "logic" and c.placed:
            m = lib[c.cell]
            fixed_rects.append((c.x, c.y, c.x + m.width, c.y + m.height))
    return Problem(movable, width, height, np.array(cell_l, dtype=np.int64),
                   np.array(dx_l), np.array(dy_l), np.array(fx_l), np.array(fy_l),
                   np.array(starts, dtype=np.int64), layout.core, fixed_rects,
                   net_names=names)


def b2b_system(prob: Problem, pos: np.ndarray, axis: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """The Bound2Bound system ``A p = b`` for one axis at cell-centre positions ``pos``.

    ``A`` is symmetric positive semi-definite, ``n x n`` with O(pins) non-zeros."""
    n = prob.n
    cell = prob.pin_cell
    mov = cell >= 0
    off = prob.pin_dx if axis == 0 else prob.pin_dy
    fixed = prob.pin_fx if axis == 0 else prob.pin_fy
    coord = np.where(mov, pos[np.maximum(cell, 0)] + off, fixed) if n else fixed.copy()
    pin_net = prob.pin_net
    order = np.lexsort((coord, pin_net))
    first, last = prob.net_start[:-1], prob.net_start[1:] - 1
    lo, hi = order[first], order[last]
    k = np.arange(len(cell))
    lo_k, hi_k = lo[pin_net], hi[pin_net]
    e1 = k != lo_k
    e2 = e1 & (k != hi_k)
    a = np.concatenate([k[e1], k[e2]])
    b = np.concatenate([lo_k[e1], hi_k[e2]])
    p = np.diff(prob.net_start)[pin_net[a]]
    w = 2.0 / ((p - 1) * np.maximum(np.abs(coord[a] - coord[b]), MIN_DIST_NM))
    if prob.net_weight is not None:
        w = w * prob.net_weight[pin_net[a]]
    ca, cb = cell[a], cell[b]
    ma, mb = ca >= 0, cb >= 0
    both = ma & mb & (ca != cb)
    only_a = ma & ~mb
    only_b = mb & ~ma
    diag = (np.bincount(ca[both], w[both], n) + np.bincount(cb[both], w[both], n)
            + np.bincount(ca[only_a], w[only_a], n) + np.bincount(cb[only_b], w[only_b], n))
    # energy w * (x_a + o_a - x_b - o_b)^2: the offsets move to the right-hand side
    d_off = off[a[both]] - off[b[both]]
    rhs = (np.bincount(ca[both], -w[both] * d_off, n) + np.bincount(cb[both], w[both] * d_off, n)
           + np.bincount(ca[only_a], w[only_a] * (fixed[b[only_a]] - off[a[only_a]]), n)
           + np.bincount(cb[only_b], w[only_b] * (fixed[a[only_b]] - off[b[only_b]]), n))
    rows = np.concatenate([ca[both], cb[both], np.arange(n)])
    cols = np.concatenate([cb[both], ca[both], np.arange(n)])
    vals = np.concatenate([-w[both], -w[both], diag])
    return sp.csr_matrix((vals, (rows, cols)), shape=(n, n)), rhs


def _solve(a: sp.csr_matrix, rhs: np.ndarray, x0: np.ndarray) -> np.ndarray:
    """Conjugate gradient with a Jacobi preconditioner.

    BLAS is held to one thread: CG's dot products are on vectors far too short to gain from
    threads, and on a loaded 2-core machine OpenBLAS' spinning threads made each ``dot`` of a
    10k vector 1500x slower (measured: a 10k-cell solve took 9.8 s instead of 0.26 s)."""
    inv = 1.0 / a.diagonal()
    pre = LinearOperator(a.shape, matvec=lambda v: inv * v, dtype=float)
    with threadpool_limits(limits=1, user_api="blas"):
        x, info = cg(a, rhs, x0=x0, rtol=CG_RTOL, maxiter=max(100, 4 * a.shape[0]), M=pre)
    if info < 0:
        raise StepError(f"placement: conjugate gradient failed (scipy info {info})")
    return x


def solve_quadratic(prob: Problem, x: np.ndarray, y: np.ndarray,
                    anchor: tuple[float, np.ndarray, np.ndarray] | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """One B2B solve per axis from positions (x, y).

    ``anchor`` = (alpha, ax, ay) adds SimPL pseudo-nets pulling each cell toward (ax, ay) with
    weight ``alpha / max(d, MIN_DIST_NM)`` (``d`` = the cell's distance to its anchor): like a
    B2B spring, its pull ``alpha`` does not depend on the distance, and a net's pull on each of
    its pins is ``2 / (p - 1)``, so alpha is in the units of one two-pin net.
    A tiny pull toward the core centre keeps cells on no net (and nets with no fixed pin) from
    making the system singular."""
    cx0, cy0, cx1, cy1 = prob.core
    out = []
    for axis, (pos, centre) in enumerate(((x, (cx0 + cx1) / 2), (y, (cy0 + cy1) / 2))):
        a, rhs = b2b_system(prob, pos, axis)
        d = a.diagonal()
        scale = float(np.median(d[d > 0])) if np.any(d > 0) else 1.0 / MIN_DIST_NM
        reg = 1e-6 * scale
        extra = np.full(prob.n, reg)
        rhs = rhs + reg * centre
        if anchor is not None:
            alpha, ax, ay = anchor
            target = ax if axis == 0 else ay
            wgt = alpha / np.maximum(np.abs(pos - target), MIN_DIST_NM)
            extra = extra + wgt
            rhs = rhs + wgt * target
        a = a + sp.diags(extra)
        out.append(_solve(a.tocsr(), rhs, pos))
    lo = np.array([cx0, cy0])[:, None] + np.vstack([prob.width, prob.height]) / 2
    hi = np.array([cx1, cy1])[:, None] - np.vstack([prob.width, prob.height]) / 2
    return np.clip(out[0], lo[0], hi[0]), np.clip(out[1], lo[1], hi[1])


class BinGrid:
    """Placement bins over the core: capacity = target density x (bin area - fixed area)."""

    def __init__(self, prob: Problem, density: float, bin_nm: float | None = None) -> None:
        cx0, cy0, cx1, cy1 = prob.core
        if bin_nm is None:  # room for ~BIN_CELLS average cells at the target density
            mean_area = float(prob.area.mean()) if prob.n else 1.0
            bin_nm = max(2 * tech.ROW_H, float(np.sqrt(BIN_CELLS * mean_area / density)),
                         max(cx1 - cx0, cy1 - cy0) / 256)
        self.nx = max(1, int(round((cx1 - cx0) / bin_nm)))
        self.ny = max(1, int(round((cy1 - cy0) / bin_nm)))
        self.xs = np.linspace(cx0, cx1, self.nx + 1)
        self.ys = np.linspace(cy0, cy1, self.ny + 1)
        free = np.outer(np.diff(self.xs), np.diff(self.ys))
        for r in prob.fixed_rects:
            free -= _overlap_area(r, self.xs, self.ys)
        self.free = np.maximum(free, 0.0)
        self.capacity = density * self.free

    def bin_of(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        bx = np.clip(np.searchsorted(self.xs, x, side="right") - 1, 0, self.nx - 1)
        by = np.clip(np.searchsorted(self.ys, y, side="right") - 1, 0, self.ny - 1)
        return bx, by

    def usage(self, prob: Problem, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Movable cell area per bin (each cell counted in the bin of its centre)."""
        bx, by = self.bin_of(x, y)
        u = np.zeros((self.nx, self.ny))
        np.add.at(u, (bx, by), prob.area)
        return u

    def overflow(self, prob: Problem, x: np.ndarray, y: np.ndarray) -> float:
        """Share of the movable area above bin capacity (RePlAce's overflow measure)."""
        total = float(prob.area.sum())
        over = np.maximum(self.usage(prob, x, y) - self.capacity, 0.0).sum()
        return float(over / total) if total else 0.0


def _overlap_area(r: tuple[int, int, int, int], xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    ox = np.clip(np.minimum(xs[1:], r[2]) - np.maximum(xs[:-1], r[0]), 0, None)
    oy = np.clip(np.minimum(ys[1:], r[3]) - np.maximum(ys[:-1], r[1]), 0, None)
    return np.outer(ox, oy)


def spread(prob: Problem, grid: BinGrid, x: np.ndarray, y: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """SimPL look-ahead legalization: the upper-bound positions (copies of x, y)."""
    x, y = x.copy(), y.copy()
    area = prob.area
    usage = grid.usage(prob, x, y)
    cap = grid.capacity
    done = np.zeros_like(usage, dtype=bool)
    over = np.argwhere(usage > cap * (1 + 1e-9))
    if len(over) == 0:
        return x, y
    ratio = usage[over[:, 0], over[:, 1]] / np.maximum(cap[over[:, 0], over[:, 1]], 1.0)
    bx, by = grid.bin_of(x, y)
    # cells per bin, so a region's cells are found without scanning all cells
    flat = bx * grid.ny + by
    order = np.argsort(flat, kind="stable")
    bounds = np.searchsorted(flat[order], np.arange(grid.nx * grid.ny + 1))
    csum_u = _csum2(usage)
    csum_c = _csum2(cap)
    for i, j in over[np.argsort(-ratio, kind="stable")]:
        if done[i, j]:
            continue
        i0, i1, j0, j1 = i, i + 1, j, j + 1
        step = 0
        while _box(csum_u, i0, i1, j0, j1) > _box(csum_c, i0, i1, j0, j1):
            if i0 == 0 and j0 == 0 and i1 == grid.nx and j1 == grid.ny:
                break  # the whole core: the density check before placement makes this fit
            # grow alternately in x and y (SimPL expands the cluster box until it fits)
            if step % 2 == 0 or (j0 == 0 and j1 == grid.ny):
                i0, i1 = max(0, i0 - 1), min(grid.nx, i1 + 1)
            if step % 2 == 1 or (i0 == 0 and i1 == grid.nx):
                j0, j1 = max(0, j0 - 1), min(grid.ny, j1 + 1)
            step += 1
        done[i0:i1, j0:j1] = True
        cells = np.concatenate([order[bounds[a * grid.ny + j0]:bounds[a * grid.ny + j1]]
                                for a in range(i0, i1)])
        _bisect(grid, cap, x, y, area, cells, i0, i1, j0, j1)
    return x, y


def _csum2(a: np.ndarray) -> np.ndarray:
    out = np.zeros((a.shape[0] + 1, a.shape[1] + 1))
    out[1:, 1:] = a.cumsum(0).cumsum(1)
    return out


def _box(cs: np.ndarray, i0: int, i1: int, j0: int, j1: int) -> float:
    return float(cs[i1, j1] - cs[i0, j1] - cs[i1, j0] + cs[i0, j0])


def _bisect(grid: BinGrid, cap: np.ndarray, x: np.ndarray, y: np.ndarray, area: np.ndarray,
            cells: np.ndarray, i0: int, i1: int, j0: int, j1: int) -> None:
    """Split ``cells`` over bins [i0,i1) x [j0,j1) in proportion to capacity (in place)."""
    stack = [(cells, i0, i1, j0, j1)]
    while stack:
        cells, i0, i1, j0, j1 = stack.pop()
        if len(cells) == 0:
            continue
        if i1 - i0 == 1 and j1 - j0 == 1:
            _scale_into(x, cells, grid.xs[i0], grid.xs[i1])
            _scale_into(y, cells, grid.ys[j0], grid.ys[j1])
            continue
        w_nm = grid.xs[i1] - grid.xs[i0]
        h_nm = grid.ys[j1] - grid.ys[j0]
        cut_x = i1 - i0 > 1 and (w_nm >= h_nm or j1 - j0 == 1)
        if cut_x:
            m = (i0 + i1) // 2
            c_lo, c_hi = cap[i0:m, j0:j1].sum(), cap[m:i1, j0:j1].sum()
            key = x[cells]
        else:
            m = (j0 + j1) // 2
            c_lo, c_hi = cap[i0:i1, j0:m].sum(), cap[i0:i1, m:j1].sum()
            key = y[cells]
        cells = cells[np.argsort(key, kind="stable")]
        share = c_lo / (c_lo + c_hi) if c_lo + c_hi > 0 else 0.5
        acc = np.cumsum(area[cells])
        split = int(np.searchsorted(acc - area[cells] / 2, share * acc[-1]))
        if cut_x:
            stack.append((cells[:split], i0, m, j0, j1))
            stack.append((cells[split:], m, i1, j0, j1))
        else:
            stack.append((cells[:split], i0, i1, j0, m))
            stack.append((cells[split:], i0, i1, m, j1))


def _scale_into(v: np.ndarray, cells: np.ndarray, lo: float, hi: float) -> None:
    """Map the cells' coordinates linearly into the bin's interior, keeping their order: the
    outermost centres land half a cell-slot inside the edges, so no centre counts toward the
    neighbouring bin."""
    cur = v[cells]
    c0, c1 = float(cur.min()), float(cur.max())
    pad = (hi - lo) / (2 * len(cells))
    lo, hi = lo + pad, hi - pad
    if c1 - c0 < 1e-9:
        v[cells] = (lo + hi) / 2
    elif c0 < lo or c1 > hi:
        v[cells] = lo + (cur - c0) * (hi - lo) / (c1 - c0)


def hpwl(prob: Problem, x: np.ndarray, y: np.ndarray) -> float:
    """Half-perimeter wirelength (nm) of the nets in the problem, pin offsets included."""
    total = 0.0
    mov = prob.pin_cell >= 0
    for pos, off, fixed in ((x, prob.pin_dx, prob.pin_fx), (y, prob.pin_dy, prob.pin_fy)):
        c = np.where(mov, pos[np.maximum(prob.pin_cell, 0)] + off, fixed) if prob.n else fixed
        starts = prob.net_start[:-1]
        if len(starts):
            total += float((np.maximum.reduceat(c, starts) - np.minimum.reduceat(c, starts)).sum())
    return total


@dataclass
class GplResult:
    x: np.ndarray
    y: np.ndarray
    iterations: int
    overflow: float
    hpwl_lower_nm: float
    hpwl_upper_nm: float
    reweights: int = 0
    routability: RoutabilityResult | None = None


@dataclass
class RoutabilityResult:
    """What the routability-driven rounds did (:func:`routability_rounds`)."""

    rounds: int                  # inflation rounds run
    rc_first: float              # RUDY congestion (top 0.5 %/1 % tile ratios) before them
    rc_kept: float               # ... of the placement returned (the lowest seen)
    density: float               # bin target density of the placement returned
    inflated_share: float        # inflated area / cell area of the placement returned
    inflate: np.ndarray          # per-cell area factor of the placement returned


def utilization(prob: Problem, padded: bool = False) -> float:
    """Movable cell area (with ``padded``: including padding) / free core area (core minus
    fixed cells)."""
    cx0, cy0, cx1, cy1 = prob.core
    free = (cx1 - cx0) * (cy1 - cy0) - sum((r[2] - r[0]) * (r[3] - r[1])
                                           for r in prob.fixed_rects)
    area = prob.area if padded else prob.width * prob.height
    return float(area.sum() / free) if free > 0 else float("inf")


def global_place(prob: Problem, density: float,
                 reweight: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
                 routability: bool = False) -> GplResult:
    """B2B wirelength placement, then SimPL iterations until overflow <= TARGET_OVERFLOW.

    Returns the upper-bound (spread) positions: cell centres that respect ``density`` per bin
    up to the overflow tolerance, ready for row legalization. ``reweight`` (timing-driven
    placement, module docstring) gets the spread positions at :data:`TIMING_OVERFLOWS` and
    returns the net weights."""
    n = prob.n
    cx0, cy0, cx1, cy1 = prob.core
    if n == 0:
        return GplResult(np.zeros(0), np.zeros(0), 0, 0.0, 0.0, 0.0)
    # start in the middle with a deterministic tiny spread (B2B needs distinct positions)
    rng = np.random.default_rng(12)
    x = (cx0 + cx1) / 2 + rng.uniform(-1, 1, n) * (cx1 - cx0) * 0.01
    y = (cy0 + cy1) / 2 + rng.uniform(-1, 1, n) * (cy1 - cy0) * 0.01
    for _ in range(B2B_INITIAL_ITERS):
        x, y = solve_quadratic(prob, x, y)
    grid = BinGrid(prob, density)
    ux, uy = spread(prob, grid, x, y)
    it = 0
    pending = list(TIMING_OVERFLOWS) if reweight is not None else []
    reweights = 0
    for it in range(1, MAX_ITERS + 1):
        if grid.overflow(prob, ux, uy) <= TARGET_OVERFLOW and \
                grid.overflow(prob, x, y) <= TARGET_OVERFLOW:
            break
        if pending and reweight is not None:
            over = grid.overflow(prob, x, y)
            if over <= pending[0]:
                while pending and over <= pending[0]:
                    pending.pop(0)
                prob.net_weight = reweight(ux, uy)
                reweights += 1
        x, y = solve_quadratic(prob, x, y, (ANCHOR_STEP * it, ux, uy))
        ux, uy = spread(prob, grid, x, y)
    rd = None
    if routability:
        x, y, ux, uy, grid, rd = routability_rounds(prob, grid, density, x, y, ux, uy, it)
    return GplResult(ux, uy, it, grid.overflow(prob, ux, uy), hpwl(prob, x, y),
                     hpwl(prob, ux, uy), reweights, rd)


def routability_rounds(prob: Problem, grid: BinGrid, density: float, x: np.ndarray,
                       y: np.ndarray, ux: np.ndarray, uy: np.ndarray, it: int
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, BinGrid,
                                  RoutabilityResult]:
    """Routability-driven spreading after a converged SimPL run (module docstring).

    Each round estimates congestion with RUDY at the spread positions, inflates the cells of
    every tile whose ratio is at least :data:`RD_MIN_RATIO` by ``min(ratio ** RD_COEF,
    RD_MAX_INFLATION)`` (cumulative over rounds, capped at RD_MAX_INFLATION), raises the bin
    density if the inflated area no longer fits (up to :data:`RD_MAX_DENSITY`), and runs
    SimPL iterations until the overflow is back under TARGET_OVERFLOW. The placement with the
    lowest congestion is returned; ``prob.inflate`` is left at that placement's factors."""
    from pnr.engine import rudy

    tiles = rudy.TileGrid.over(prob.core)
    bin_nm = float(grid.xs[1] - grid.xs[0])
    free_total = float(grid.free.sum())
    infl = np.ones(prob.n)

    def rc_of(px: np.ndarray, py: np.ndarray) -> tuple[float, np.ndarray]:
        boxes = rudy.net_boxes(prob.pin_cell, prob.pin_dx, prob.pin_dy, prob.pin_fx,
                               prob.pin_fy, prob.net_start, px, py)
        ratio = rudy.crossing_ratio(boxes, tiles) if RD_ESTIMATE == "crossings" \
            else rudy.usage_ratio(boxes, tiles)
        return rudy.congestion_rc(ratio), ratio

    rc, ratio = rc_of(ux, uy)
    rc_first = rc
    best = (rc, x, y, ux, uy, grid, infl, density)
    stall = 0
    rounds = 0
    for _ in range(RD_MAX_ROUNDS):
        if rc < RD_TARGET_RC:
            break
        rounds += 1
        tile_infl = np.where(ratio >= RD_MIN_RATIO,
                             np.minimum(ratio ** RD_COEF, RD_MAX_INFLATION), 1.0)
        tx, ty = tiles.of(ux, uy)
        prob.inflate = infl
        area_now = float(prob.area.sum())
        grow = np.minimum(infl * tile_infl[tx, ty], RD_MAX_INFLATION) / infl - 1.0
        added = float((prob.area * grow).sum())
        # at most 1/RD_MAX_ROUNDS of the room left under RD_MAX_DENSITY per round (OpenROAD
        # aims at the same share of its white space, targetInflationDeltaAreaRatio): the
        # inflations are scaled down together when they would add more
        budget = (RD_MAX_DENSITY * free_total - area_now) * RD_ROOM_SHARE
        if added <= 0 or budget <= 0:
            break
        infl = infl * (1.0 + grow * min(1.0, budget / added))
        prob.inflate = infl
        need = float(prob.area.sum()) / free_total
        density = max(density, need)
        grid = BinGrid(prob, density, bin_nm)
        ux, uy = spread(prob, grid, x, y)
        for _k in range(RD_SIMPL_ITERS):
            if grid.overflow(prob, ux, uy) <= TARGET_OVERFLOW and \
                    grid.overflow(prob, x, y) <= TARGET_OVERFLOW:
                break
            it += 1
            x, y = solve_quadratic(prob, x, y, (ANCHOR_STEP * it, ux, uy))
            ux, uy = spread(prob, grid, x, y)
        rc, ratio = rc_of(ux, uy)
        if rc < best[0] - 1e-3:
            best, stall = (rc, x, y, ux, uy, grid, infl, density), 0
        else:
            stall += 1
            if stall >= RD_STALL:
                break
    rc, x, y, ux, uy, grid, infl, density = best
    prob.inflate = infl
    base = (prob.width + prob.pad) * prob.height
    share = float((base * (infl - 1)).sum() / base.sum()) if prob.n else 0.0
    return x, y, ux, uy, grid, RoutabilityResult(rounds, rc_first, rc, density, share, infl)

