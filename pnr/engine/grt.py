"""Global routing on a GCell grid with negotiated congestion: congestion map and route guides.

What it does, as OpenROAD's global router ``grt`` (FastRoute) does for its detailed router:

* the die is cut into GCells of :data:`GCELL_X` x :data:`GCELL_Y` routing-grid nodes (6.9 x 6.8 um,
  about 15 met2 / 20 met1 tracks);
* the capacity of each GCell boundary is counted from the detailed router's own static
  blockage (:func:`pnr.engine.route.static_blockage`, built from the cell LEF's pins and
  obstructions, the rails and straps, and the track pitches of :mod:`pnr.engine.tech`): a
  horizontal layer's track crosses a vertical boundary when both grid nodes beside the
  boundary are usable, and so on; the layers of one direction are summed (a 2-D global route,
  as FastRoute's before layer assignment), each scaled by :data:`LAYER_ADJUST`;
* each net is a tree over the GCells of its pins, grown one pin at a time by a maze search
  from the whole tree to the nearest remaining pin (Prim-like Steiner tree construction on the
  GCell graph);
* congestion is negotiated as in PathFinder (L. McMurchie and C. Ebeling, "PathFinder: a
  negotiation-based performance-driven router for FPGAs", FPGA 1995), the scheme FastRoute and
  ``grt`` use for rip-up and reroute: an edge costs ``(1 + history) * (1 + present *
  overflow_if_taken)``; after each iteration every net that crosses an overflowing edge is
  ripped up and rerouted (in net-id order), the history of overflowing edges grows by their
  overflow and the present factor grows geometrically; rounds stop when nothing overflows,
  after :data:`STALL` rounds without less overflow, or after :data:`ITERATIONS`, and the
  least-overflow state is kept;
* the result is the congestion map (usage / capacity per GCell edge, written as JSON and a
  PNG) and, per net, a route guide: the GCells its tree touches, grown by one GCell.  The
  detailed router charges extra for every step outside the net's guide
  (:meth:`pnr.engine.route.Router.set_guides`), as ``drt`` follows ``grt``'s guides.

Everything is integer/float arithmetic in a fixed order over arrays (no hash order, no clock),
so the guides depend only on the placed layout.
"""

from __future__ import annotations

import heapq
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

from pnr.engine import tech

GCELL_X = 15   # routing-grid nodes (0.46 um) per GCell in x
GCELL_Y = 20   # routing-grid nodes (0.34 um) per GCell in y
LAYER_ADJUST = (0.5, 0.8, 0.8, 0.8)
"""Fraction of each layer's free tracks (met1..met4) the global router may plan to fill, as
OpenROAD's ``set_global_routing_layer_adjustment``; the rest is left for pin access, vias and
detours.  met1 is halved because it is the pin layer (every mcon lands on it); the others
keep 0.8.  A choice, not a calibration: ORFS's own settings vary by design (aes: 0.3 on
met1-met5, where met5 adds capacity we do not route on)."""
ITERATIONS = 30      # negotiation rounds at most
STALL = 4            # ... and stop after this many rounds without less overflow
PRES_START = 0.5     # present-congestion factor of the first reroute round
PRES_GROWTH = 1.5    # ... multiplied by this every round
HIST_STEP = 1.0      # history added per unit of overflow on an edge each round
MARGIN = 10          # GCells a net's search may leave its pins' bounding box
GUIDE_GROW = 1       # guides: the tree's GCells grown by this many GCells each way
FREE_OR_NET = -1     # block values >= -1 (FREE or a net id) are usable; BLOCKED is -2


@dataclass
class GlobalRoute:
    """Result of :func:`global_route`."""

    gnx: int
    gny: int
    hcap: np.ndarray       # (gny, gnx - 1): capacity of the boundary right of GCell (gx, gy)
    vcap: np.ndarray       # (gny - 1, gnx): capacity of the boundary above GCell (gx, gy)
    huse: np.ndarray
    vuse: np.ndarray
    guides: dict[int, np.ndarray]   # net id -> sorted GCell indices gy * gnx + gx
    iterations: int
    wirelength_gcells: int

    def metrics(self) -> dict[str, float | int]:
        over_h = np.maximum(self.huse - self.hcap, 0)
        over_v = np.maximum(self.vuse - self.vcap, 0)
        ratios = np.concatenate([
            (self.huse / np.maximum(self.hcap, 1e-9))[self.hcap > 0],
            (self.vuse / np.maximum(self.vcap, 1e-9))[self.vcap > 0]])
        return {
            "grt_overflow": int(over_h.sum() + over_v.sum()),
            "grt_overflow_edges": int((over_h > 0).sum() + (over_v > 0).sum()),
            "grt_max_usage": round(float(ratios.max()) if len(ratios) else 0.0, 3),
            "grt_mean_usage": round(float(ratios.mean()) if len(ratios) else 0.0, 4),
            "grt_iterations": self.iterations,
            "grt_wirelength_um": round(self.wirelength_gcells *
                                       (GCELL_X * tech.GRID_DX + GCELL_Y * tech.GRID_DY)
                                       / 2000, 1),
            "grt_gcells": self.gnx * self.gny,
        }

    def usage_map(self) -> np.ndarray:
        """Per GCell: the highest usage/capacity of its four boundaries (inf where something
        crosses a boundary of capacity 0)."""
        m = np.zeros((self.gny, self.gnx))
        with np.errstate(divide="ignore", invalid="ignore"):
            rh = np.where(self.hcap > 0, self.huse / self.hcap,
                          np.where(self.huse > 0, np.inf, 0.0))
            rv = np.where(self.vcap > 0, self.vuse / self.vcap,
                          np.where(self.vuse > 0, np.inf, 0.0))
        m[:, :-1] = np.maximum(m[:, :-1], rh)
        m[:, 1:] = np.maximum(m[:, 1:], rh)
        m[:-1, :] = np.maximum(m[:-1, :], rv)
        m[1:, :] = np.maximum(m[1:, :], rv)
        return m

    def write_reports(self, folder: Path) -> None:
        """Write ``congestion.json`` (capacities, usage, metrics) and ``congestion.png``."""
        data = {
            "gcell_nodes": [GCELL_X, GCELL_Y],
            "gcell_um": [GCELL_X * tech.GRID_DX / 1000, GCELL_Y * tech.GRID_DY / 1000],
            "gnx": self.gnx, "gny": self.gny,
            "layer_adjust": list(LAYER_ADJUST),
            "metrics": self.metrics(),
            "h_capacity": self.hcap.round(2).tolist(), "h_usage": self.huse.tolist(),
            "v_capacity": self.vcap.round(2).tolist(), "v_usage": self.vuse.tolist(),
        }
        (folder / "congestion.json").write_text(json.dumps(data))
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        m = np.minimum(self.usage_map(), 2.0)
        fig, ax = plt.subplots(figsize=(6, 6 * self.gny / max(self.gnx, 1) + 0.6))
        im = ax.imshow(m, origin="lower", cmap="inferno", vmin=0.0, vmax=1.5,
                       extent=(0, self.gnx * data["gcell_um"][0], 0,
                               self.gny * data["gcell_um"][1]))
        fig.colorbar(im, ax=ax, label="GCell usage / capacity (max of its edges)")
        mt = data["metrics"]
        ax.set_title(f"global route: overflow {mt['grt_overflow']}, "
                     f"max {mt['grt_max_usage']:.2f}, mean {mt['grt_mean_usage']:.2f}")
        ax.set_xlabel("x (um)")
        ax.set_ylabel("y (um)")
        fig.savefig(folder / "congestion.png", dpi=90, bbox_inches="tight",
                    metadata={"Software": None})
        plt.close(fig)


def capacities(block: np.ndarray, side: np.ndarray, nx: int, ny: int
               ) -> tuple[int, int, np.ndarray, np.ndarray]:
    """(gnx, gny, hcap, vcap) from the detailed router's static state: a track counts on a
    boundary when the nodes on both sides of it are usable (and, on met1, the wire halves
    facing each other), scaled by :data:`LAYER_ADJUST` and rounded down to whole tracks."""
    gnx = -(-nx // GCELL_X)
    gny = -(-ny // GCELL_Y)
    planes = block.reshape(4, ny, nx) >= FREE_OR_NET
    sides = side.reshape(ny, nx, 2) >= FREE_OR_NET
    hcap = np.zeros((gny, max(gnx - 1, 0)))
    vcap = np.zeros((max(gny - 1, 0), gnx))
    rows = np.arange(ny) // GCELL_Y
    cols = np.arange(nx) // GCELL_X
    for gx in range(gnx - 1):
        i = (gx + 1) * GCELL_X - 1                      # last node column of GCell gx
        m1 = planes[0, :, i] & planes[0, :, i + 1] & sides[:, i, 1] & sides[:, i + 1, 0]
        ie = i - (i % 2)                                # met3 nodes sit on even columns
        m3 = planes[2, :, ie] & planes[2, :, min(ie + 2, nx - 1)]
        m3 &= np.arange(ny) % 2 == 0
        hcap[:, gx] = (np.bincount(rows, m1, gny) * LAYER_ADJUST[0] +
                       np.bincount(rows, m3, gny) * LAYER_ADJUST[2])
    for gy in range(gny - 1):
        j = (gy + 1) * GCELL_Y - 1
        m2 = planes[1, j, :] & planes[1, j + 1, :]
        je = j - (j % 2)
        m4 = planes[3, je, :] & planes[3, min(je + 2, ny - 1), :]
        m4 &= np.arange(nx) % 2 == 0
        vcap[gy, :] = (np.bincount(cols, m2, gnx) * LAYER_ADJUST[1] +
                       np.bincount(cols, m4, gnx) * LAYER_ADJUST[3])
    return gnx, gny, np.floor(hcap), np.floor(vcap)


@njit(cache=True)
def _edge_cost(use: float, cap: float, hist: float, pres: float) -> float:
    over = use + 1.0 - cap
    return (1.0 + hist) * (1.0 + pres * max(over, 0.0))


@njit(cache=True)
def _route_tree(terms: np.ndarray, gnx: int, gny: int, hcap: np.ndarray, vcap: np.ndarray,
                huse: np.ndarray, vuse: np.ndarray, hhist: np.ndarray, vhist: np.ndarray,
                pres: float, margin: int, dist: np.ndarray, prev: np.ndarray,
                seen: np.ndarray, intree: np.ndarray, stamp: int) -> np.ndarray:
    """Tree over the GCells `terms` (first one is the root): repeatedly a Dijkstra search from
    every GCell of the tree to the nearest terminal not yet in it.  Returns the tree's edges
    as codes ``2 * cell + d`` (d = 0: to the right neighbour, 1: to the one above)."""
    x0, y0, x1, y1 = gnx, gny, -1, -1
    for t in terms:
        gx = t % gnx
        gy = t // gnx
        x0, x1 = min(x0, gx), max(x1, gx)
        y0, y1 = min(y0, gy), max(y1, gy)
    x0, y0 = max(0, x0 - margin), max(0, y0 - margin)
    x1, y1 = min(gnx - 1, x1 + margin), min(gny - 1, y1 + margin)
    edges = np.empty(0, np.int64)
    intree[terms[0]] = stamp
    tree = [terms[0]]
    left = len(terms) - 1
    is_term = np.zeros(len(terms), np.bool_)
    is_term[0] = True
    sub = 0
    while left > 0:
        sub += 1
        mark = stamp * (1 << 20) + sub
        heap = [(0.0, np.int64(0))]
        heap.pop()
        for c in tree:
            dist[c] = 0.0
            prev[c] = -1
            seen[c] = mark
            heapq.heappush(heap, (0.0, np.int64(c)))
        found = -1
        while len(heap) > 0:
            dc, c = heapq.heappop(heap)
            if dc > dist[c]:
                continue
            hit = False
            for t in range(len(terms)):
                if not is_term[t] and terms[t] == c:
                    is_term[t] = True
                    hit = True
            if hit:
                found = c
                break
            gx = c % gnx
            gy = c // gnx
            for d in range(4):
                if d == 0:
                    if gx >= x1:
                        continue
                    v = c + 1
                    w = _edge_cost(huse[gy, gx], hcap[gy, gx], hhist[gy, gx], pres)
                elif d == 1:
                    if gx <= x0:
                        continue
                    v = c - 1
                    w = _edge_cost(huse[gy, gx - 1], hcap[gy, gx - 1], hhist[gy, gx - 1], pres)
                elif d == 2:
                    if gy >= y1:
                        continue
                    v = c + gnx
                    w = _edge_cost(vuse[gy, gx], vcap[gy, gx], vhist[gy, gx], pres)
                else:
                    if gy <= y0:
                        continue
                    v = c - gnx
                    w = _edge_cost(vuse[gy - 1, gx], vcap[gy - 1, gx], vhist[gy - 1, gx], pres)
                nd = dc + w
                if seen[v] != mark or nd < dist[v]:
                    seen[v] = mark
                    dist[v] = nd
                    prev[v] = c
                    heapq.heappush(heap, (nd, np.int64(v)))
        if found < 0:
            break
        # walk back to the tree, adding edges and GCells
        c = found
        new = []
        while prev[c] != -1 and intree[c] != stamp:
            p = prev[c]
            a, b = min(p, c), max(p, c)
            new.append(2 * a + (0 if b - a == 1 else 1))
            intree[c] = stamp
            tree.append(c)
            c = p
        if intree[found] != stamp:
            intree[found] = stamp
            tree.append(found)
        left = 0
        for t in range(len(terms)):
            if not is_term[t]:
                if intree[terms[t]] == stamp:
                    is_term[t] = True
                else:
                    left += 1
        if len(new) > 0:
            edges = np.concatenate((edges, np.array(new, np.int64)))
    return edges


@njit(cache=True)
def _apply(edges: np.ndarray, gnx: int, huse: np.ndarray, vuse: np.ndarray, sign: float) -> None:
    for e in edges:
        c = e // 2
        if e % 2 == 0:
            huse[c // gnx, c % gnx] += sign
        else:
            vuse[c // gnx, c % gnx] += sign


@njit(cache=True)
def _overflowing(edges: np.ndarray, gnx: int, hcap: np.ndarray, vcap: np.ndarray,
                 huse: np.ndarray, vuse: np.ndarray) -> bool:
    for e in edges:
        c = e // 2
        if e % 2 == 0:
            if huse[c // gnx, c % gnx] > hcap[c // gnx, c % gnx]:
                return True
        elif vuse[c // gnx, c % gnx] > vcap[c // gnx, c % gnx]:
            return True
    return False


def global_route(terminals: list[list[int]], block: np.ndarray, side: np.ndarray, nx: int,
                 ny: int, log=None) -> GlobalRoute:
    """Route every net (``terminals[n]``: the routing-grid plane nodes ``j * nx + i`` of its
    pins) on the GCell grid; see the module docstring."""
    gnx, gny, hcap, vcap = capacities(block, side, nx, ny)
    huse = np.zeros_like(hcap)
    vuse = np.zeros_like(vcap)
    hhist = np.zeros_like(hcap)
    vhist = np.zeros_like(vcap)
    ncell = gnx * gny
    dist = np.zeros(ncell)
    prev = np.zeros(ncell, np.int64)
    seen = np.zeros(ncell, np.int64)
    intree = np.zeros(ncell, np.int64)
    terms: list[np.ndarray] = []
    for nodes in terminals:
        arr = np.asarray(nodes, np.int64)
        cells = (arr // nx) // GCELL_Y * gnx + (arr % nx) // GCELL_X
        terms.append(np.unique(cells))   # sorted: the lowest GCell is the root
    routes: list[np.ndarray] = [np.empty(0, np.int64)] * len(terms)
    stamp = 0

    def route(n: int, pres: float) -> None:
        nonlocal stamp
        stamp += 1
        if len(terms[n]) > 1:
            routes[n] = _route_tree(terms[n], gnx, gny, hcap, vcap, huse, vuse, hhist, vhist,
                                    pres, MARGIN, dist, prev, seen, intree, stamp)
            _apply(routes[n], gnx, huse, vuse, 1.0)

    order = sorted(range(len(terms)), key=lambda n: (len(terms[n]), n))
    for n in order:
        route(n, PRES_START)
    pres = PRES_START
    iterations = 0

    def overflow() -> int:
        return int(np.maximum(huse - hcap, 0).sum() + np.maximum(vuse - vcap, 0).sum())

    best = (overflow(), list(routes), huse.copy(), vuse.copy())
    stall = 0
    for it in range(1, ITERATIONS + 1):
        if best[0] == 0 or stall >= STALL:
            break
        iterations = it
        hhist += HIST_STEP * np.maximum(huse - hcap, 0)
        vhist += HIST_STEP * np.maximum(vuse - vcap, 0)
        pres *= PRES_GROWTH
        redo = [n for n in order if len(routes[n]) and
                _overflowing(routes[n], gnx, hcap, vcap, huse, vuse)]
        for n in redo:
            _apply(routes[n], gnx, huse, vuse, -1.0)
            route(n, pres)
        over = overflow()
        if over < best[0]:
            best, stall = (over, list(routes), huse.copy(), vuse.copy()), 0
        else:
            stall += 1
        if log:
            log(f"grt iteration {it}: rerouted {len(redo)} nets, overflow {over}")
    _, routes, huse, vuse = best
    guides: dict[int, np.ndarray] = {}
    for n, edges in enumerate(routes):
        cells = np.concatenate([terms[n], edges // 2, edges // 2 + np.where(edges % 2, gnx, 1)])
        gx = cells % gnx
        gy = cells // gnx
        grown = set()
        for dy in range(-GUIDE_GROW, GUIDE_GROW + 1):
            for dx in range(-GUIDE_GROW, GUIDE_GROW + 1):
                ok = (gx + dx >= 0) & (gx + dx < gnx) & (gy + dy >= 0) & (gy + dy < gny)
                grown.update(((gy[ok] + dy) * gnx + gx[ok] + dx).tolist())
        guides[n] = np.array(sorted(grown), np.int64)
    wl = int(sum(len(e) for e in routes))
    return GlobalRoute(gnx, gny, hcap, vcap, huse, vuse, guides, iterations, wl)
