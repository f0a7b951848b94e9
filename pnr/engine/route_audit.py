"""Router self-audit: the routed metal of different nets checked against each other.

The router (:mod:`pnr.engine.route`) only creates shapes whose spacing it checked while
searching, but those checks run on its own bookkeeping (pads per grid node, mcon offsets,
reservations), and a rip-up transaction that is undone puts old routes back without searching
again.  A bookkeeping slip therefore reaches the GDS as a spacing error that only KLayout and
Magic see, 20 minutes later (job s45r: two met1 mcon pads of n_2838 and n_2847 0.121 um apart).
This audit reads the geometry the router *produced* (:meth:`Router.geometry`, drawn exactly as
the GDS writer draws it, :func:`pnr.engine.layout.net_rects`) and checks every pair of
rectangles of different nets on met1..met4: closer than the layer's spacing (corner to
corner, squared in integer nm) or touching (a short) is a violation.  Same-net gaps are the
DRC repair step's business (:mod:`pnr.engine.drc_repair`) and are not counted here.

Why hand-written and not a KLayout DRC run: the check needs net identity (a per-net Region
and an inter-net separation check for every pair of nets would be quadratic in nets), and
the router's rectangles are few and axis-aligned, so a uniform bin grid (every rectangle
entered in the bins it covers grown by the spacing, then all pairs within a bin compared)
finds each close pair in about a second on ``small``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pnr.engine import tech
from pnr.engine.layout import net_rects

LAYERS = ("met1", "met2", "met3", "met4")
BIN = 2000  # nm: bin edge of the spatial hash


@dataclass(frozen=True)
class Violation:
    layer: str
    net_a: str
    net_b: str
    rect_a: tuple[int, int, int, int]
    rect_b: tuple[int, int, int, int]
    gap: float  # nm, 0 for touching/overlapping shapes (a short)

    def line(self) -> str:
        a = ", ".join(f"{v / 1000:.3f}" for v in self.rect_a)
        b = ", ".join(f"{v / 1000:.3f}" for v in self.rect_b)
        kind = "short" if self.gap == 0 else f"gap {self.gap / 1000:.3f} um"
        return f"{self.layer} {kind}: {self.net_a} ({a}) vs {self.net_b} ({b})"


def _layer_pairs(rects: np.ndarray, nets: np.ndarray, space: int) -> list[tuple[int, int]]:
    """Index pairs (a < b) of rectangles of different nets closer than `space`."""
    if len(rects) < 2:
        return []
    lo = (rects[:, :2] - space) // BIN
    hi = (rects[:, 2:] + space) // BIN
    nbx = hi[:, 0] - lo[:, 0] + 1
    nby = hi[:, 1] - lo[:, 1] + 1
    count = nbx * nby
    idx = np.repeat(np.arange(len(rects)), count)
    start = np.repeat(np.cumsum(count) - count, count)
    off = np.arange(len(idx)) - start
    bx = lo[idx, 0] + off % nbx[idx]
    by = lo[idx, 1] + off // nbx[idx]
    key = (by - by.min()) * (int(bx.max() - bx.min()) + 1) + (bx - bx.min())
    order = np.lexsort((idx, key))
    key, idx = key[order], idx[order]
    # every pair within a bin: entry e against entry e + t of the same bin, t = 1, 2, ...
    # (vectorized over all entries; the loop runs to the largest bin's size)
    pairs = []
    s2 = space * space
    for t in range(1, len(key)):
        same = np.flatnonzero(key[t:] == key[:-t])
        if not len(same):
            break
        a, b = idx[same], idx[same + t]
        a, b = a[nets[a] != nets[b]], b[nets[a] != nets[b]]
        ra, rb = rects[a], rects[b]
        dx = np.maximum(np.maximum(ra[:, 0] - rb[:, 2], rb[:, 0] - ra[:, 2]), 0)
        dy = np.maximum(np.maximum(ra[:, 1] - rb[:, 3], rb[:, 1] - ra[:, 3]), 0)
        bad = dx * dx + dy * dy < s2
        pairs.append(np.stack([np.minimum(a, b)[bad], np.maximum(a, b)[bad]], 1))
    found = {(int(a), int(b)) for a, b in np.concatenate(pairs or [np.zeros((0, 2), np.int64)])}
    return sorted(found)


def audit(routes: dict[str, dict]) -> list[Violation]:
    """Every pair of different-net rectangles on met1..met4 of `routes` (net -> route as in
    ``layout.routes``) closer than the layer spacing, sorted by layer and position.  Two
    shapes of one pair of nets that are both too close are reported separately (KLayout also
    flags each edge pair)."""
    names = sorted(routes)
    per_layer: dict[str, tuple[list, list]] = {layer: ([], []) for layer in LAYERS}
    for n, name in enumerate(names):
        for layer, rects in net_rects(routes[name]).items():
            if layer in per_layer:
                per_layer[layer][0].extend(rects)
                per_layer[layer][1].extend([n] * len(rects))
    out: list[Violation] = []
    for layer in LAYERS:
        rl, nl = per_layer[layer]
        rects = np.asarray(rl, np.int64).reshape(-1, 4)
        nets = np.asarray(nl, np.int64)
        for a, b in _layer_pairs(rects, nets, tech.SPACING[layer]):
            ra, rb = rects[a], rects[b]
            dx = max(ra[0] - rb[2], rb[0] - ra[2], 0)
            dy = max(ra[1] - rb[3], rb[1] - ra[3], 0)
            va = (layer, names[nets[a]], tuple(int(v) for v in ra))
            vb = (layer, names[nets[b]], tuple(int(v) for v in rb))
            va, vb = sorted((va, vb), key=lambda v: (v[2], v[1]))
            out.append(Violation(layer, va[1], vb[1], va[2], vb[2], float(np.hypot(dx, dy))))
    out.sort(key=lambda v: (LAYERS.index(v.layer), v.rect_a, v.rect_b, v.net_a, v.net_b))
    return out


def report(violations: list[Violation], limit: int = 200) -> str:
    """Text for ``reports/route_audit.rpt``: the count per layer, then the first `limit`."""
    counts = {layer: 0 for layer in LAYERS}
    for v in violations:
        counts[v.layer] += 1
    lines = [f"different-net spacing violations {len(violations)}",
             "  " + " ".join(f"{k}:{v}" for k, v in counts.items())]
    lines += [v.line() for v in violations[:limit]]
    if len(violations) > limit:
        lines.append(f"... {len(violations) - limit} more")
    return "\n".join(lines) + "\n"
