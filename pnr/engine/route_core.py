"""Compiled inner loops of the maze router (:mod:`pnr.engine.route`): legality checks and A*.

Why a separate module: the router's rules live in :mod:`pnr.engine.route` (its docstring lists
them); this module is the same rules written over flat numpy arrays so numba can compile them.
The pure-Python A* did not finish the ``small`` accelerator (3.3 M grid nodes) in 39
CPU-minutes; the compiled search is the same algorithm, node for node (same heap order
``(f, g, node)``): with equal costs it reproduced the Python router's probe layout exactly.

State arrays (all indexed by node ``k = (layer * ny + j) * nx + i`` or plane node ``p = j * nx +
i``), owned by :class:`pnr.engine.route.Router`:

* ``block``/``owner`` (4 planes): FREE, BLOCKED or a net id;
* ``hard`` (met1 plane x 2): pin access nodes reserved for one net (column 0) and the x of
  that pin's mcon on the node (column 1, NO_MCON if unknown);
* ``cand`` (met1 plane): pin access nodes of some net (entering them costs other nets extra);
* ``hist`` (4 planes): history cost added by rip-up rounds;
* ``pads_net``/``pads_rect`` (plane x PAD_SLOTS): met1 via pads (net, rect) on each node;
* ``mcon_x`` (plane): x of the mcon on a node, NO_MCON if none;
* ``side`` (met1 plane x 2): static state of the west/east met1 wire half of each node.

``cache=True`` keeps the compiled code in ``__pycache__`` so only the first run on a machine
pays the compile (measured: probe route 4.2 s cold, 1.6 s with the cache).
"""

from __future__ import annotations

import heapq

import numpy as np
from numba import njit

from pnr.engine import tech

FREE, BLOCKED = -1, -2
L1, L2, L3, L4 = 0, 1, 2, 3
# Technology numbers (nm) from the technology model, bound here as module globals so numba
# compiles them in as constants.
GRID_X0, GRID_DX = tech.GRID_X0, tech.GRID_DX
GRID_Y0, GRID_DY = tech.GRID_Y0, tech.GRID_DY
MET1_SPACE2 = tech.SPACING["met1"] ** 2   # met1 spacing, squared (rect gaps compared squared)
VIA1_PAD_X, VIA1_PAD_Y = tech.VIAS["M1M2"][2][1:]   # the M1M2 via's met1 pad, half sizes
MCON_PAD_X, MCON_PAD_Y = tech.VIAS["L1M1"][3][1:]   # the mcon's met1 pad, half sizes
# An mcon shifted further than this from its node has a pad within met1 spacing of a wire
# ending on the next node of the track (460 - 70 - 145 - 140 = 105 on sky130hd).
CLAIM_OFFSET = GRID_DX - tech.WIDTH["met1"] // 2 - MCON_PAD_X - tech.SPACING["met1"]
MCON_PITCH = 255              # two mcons on vertically adjacent nodes need this x separation
CAND_PENALTY = 400.0
PAD_SLOTS = 4
NO_MCON = -(1 << 40)
INF = 1e18
OK, CONFLICT, NEVER = 0, 1, 2


@njit(cache=True)
def _free_or(v: int, n: int) -> bool:
    return v == FREE or v == n


@njit(cache=True)
def gap2_below(a0: int, a1: int, a2: int, a3: int, b: np.ndarray, s2: int) -> bool:
    """True if rectangles a and b are closer than sqrt(s2) (corner-to-corner distance)."""
    dx = max(a0 - b[2], b[0] - a2, 0)
    dy = max(a1 - b[3], b[1] - a3, 0)
    return dx * dx + dy * dy < s2


@njit(cache=True)
def enter_ok(n: int, k: int, block: np.ndarray, owner: np.ndarray, hard: np.ndarray,
             nx: int, plane: int) -> bool:
    """Net n may occupy node k: not blocked, not owned by another net, not another net's
    reserved pin access; on met2 also no other net on the adjacent nodes of the track."""
    if not _free_or(block[k], n) or not _free_or(owner[k], n):
        return False
    if k < plane and not _free_or(hard[k, 0], n):
        return False
    if plane <= k < 2 * plane:
        if not _free_or(hard[k - plane, 0], n):
            return False
        for kk in (k - nx, k + nx):
            if plane <= kk < 2 * plane and (not _free_or(owner[kk], n) or
                                            not _free_or(hard[kk - plane, 0], n)):
                return False
    return True


@njit(cache=True)
def pad_fits(n: int, p: int, r0: int, r1: int, r2: int, r3: int, pads_net: np.ndarray,
             pads_rect: np.ndarray, hard: np.ndarray, nx: int) -> bool:
    """A met1 via pad (r0, r1, r2, r3) of net n near plane node p keeps met1 spacing to the
    pads of other nets on the 3x3 nodes around p, and leaves the nodes above/below that are
    reserved for another net's pin access alone."""
    plane = pads_net.shape[0]
    for dj in (-nx, 0, nx):
        for di in (-1, 0, 1):
            q = p + dj + di
            if q < 0 or q >= plane:
                continue
            for s in range(pads_net.shape[1]):
                m = pads_net[q, s]
                if m != FREE and m != n and gap2_below(r0, r1, r2, r3, pads_rect[q, s],
                                                       MET1_SPACE2):
                    return False
    return reserved_clear(n, p, r0, r1, r2, r3, hard, nx)


@njit(cache=True)
def reserved_clear(n: int, p: int, r0: int, r1: int, r2: int, r3: int, hard: np.ndarray,
                   nx: int) -> bool:
    """A met1 pad (r0..r3) at node p leaves room for the mcon pad that another net's
    reserved pin will need on the node above/below (that pad is not placed yet, so
    pad_fits cannot see it)."""
    for q in (p - nx, p + nx):
        if q < 0 or q >= hard.shape[0] or _free_or(hard[q, 0], n):
            continue
        xq = hard[q, 1]
        if hard[q, 0] == BLOCKED or xq == NO_MCON:
            return False
        jq = q // nx
        d = xq - (GRID_X0 + GRID_DX * (q - jq * nx))
        yq = GRID_Y0 + GRID_DY * jq
        # the pad's box as scalars: an np.array here was a heap allocation per via check
        b0, b2 = min(xq - MCON_PAD_X, xq - d), max(xq + MCON_PAD_X, xq - d)
        dx = max(r0 - b2, b0 - r2, 0)
        dy = max(r1 - (yq + MCON_PAD_Y), (yq - MCON_PAD_Y) - r3, 0)
        if dx * dx + dy * dy < MET1_SPACE2:
            return False
    return True


@njit(cache=True)
def pad1_ok(n: int, p: int, pads_net: np.ndarray, pads_rect: np.ndarray, hard: np.ndarray,
            nx: int) -> bool:
    """An M1M2 via (met1 pad 0.32 x 0.26 um) at plane node p for net n."""
    j = p // nx
    i = p - j * nx
    x = GRID_X0 + GRID_DX * i
    y = GRID_Y0 + GRID_DY * j
    return pad_fits(n, p, x - VIA1_PAD_X, y - VIA1_PAD_Y, x + VIA1_PAD_X, y + VIA1_PAD_Y,
                    pads_net, pads_rect, hard, nx)


@njit(cache=True)
def mcon_ok(n: int, p: int, d: int, block: np.ndarray, owner: np.ndarray, hard: np.ndarray,
            pads_net: np.ndarray, pads_rect: np.ndarray, mcon_x: np.ndarray, nx: int,
            ny: int) -> bool:
    """An mcon (with its met1 pad and stub) for net n at node p shifted by d nm in x."""
    j = p // nx
    i = p - j * nx
    x = GRID_X0 + GRID_DX * i + d
    y = GRID_Y0 + GRID_DY * j
    if not pad_fits(n, p, min(x - MCON_PAD_X, x - d), y - MCON_PAD_Y,
                    max(x + MCON_PAD_X, x - d), y + MCON_PAD_Y, pads_net, pads_rect, hard, nx):
        return False
    if abs(d) > CLAIM_OFFSET:
        q = p + (1 if d > 0 else -1)
        if not _free_or(block[q], n) or not _free_or(owner[q], n) or not _free_or(hard[q, 0], n):
            return False
    for jj in (j - 1, j + 1):
        if jj < 0 or jj >= ny:
            continue
        for ii in range(max(0, i - 1), min(nx, i + 2)):
            other = mcon_x[jj * nx + ii]
            if other != NO_MCON and abs(other - x) < MCON_PITCH:
                return False
        q = jj * nx + i   # the reserved pin's future mcon (its pad: reserved_clear)
        if not _free_or(hard[q, 0], n) and abs(hard[q, 1] - x) < MCON_PITCH:
            return False
    return True


@njit(cache=True)
def enter_state(n: int, k: int, block: np.ndarray, owner: np.ndarray, hard: np.ndarray,
                nx: int, plane: int) -> int:
    """Like :func:`enter_ok` for a rip-up probe: OK, CONFLICT (only other nets' wires are in
    the way, so ripping them up frees the node) or NEVER (blocked or another net's pin)."""
    if not _free_or(block[k], n) or (k < plane and not _free_or(hard[k, 0], n)):
        return NEVER
    state = OK if _free_or(owner[k], n) else CONFLICT
    if plane <= k < 2 * plane:
        if not _free_or(hard[k - plane, 0], n):
            return NEVER
        for kk in (k - nx, k + nx):
            if plane <= kk < 2 * plane:
                if not _free_or(hard[kk - plane, 0], n):
                    return NEVER
                if not _free_or(owner[kk], n):
                    state = CONFLICT
    return state


@njit(cache=True)
def pad_state(n: int, p: int, r0: int, r1: int, r2: int, r3: int, pads_net: np.ndarray,
              pads_rect: np.ndarray, hard: np.ndarray, nx: int) -> int:
    """:func:`pad_fits` for a rip-up probe (OK / CONFLICT / NEVER, see enter_state)."""
    if not reserved_clear(n, p, r0, r1, r2, r3, hard, nx):
        return NEVER
    if pad_fits(n, p, r0, r1, r2, r3, pads_net, pads_rect, hard, nx):
        return OK
    return CONFLICT


@njit(cache=True)
def mcon_state(n: int, p: int, d: int, block: np.ndarray, owner: np.ndarray, hard: np.ndarray,
               pads_net: np.ndarray, pads_rect: np.ndarray, mcon_x: np.ndarray, nx: int,
               ny: int) -> int:
    """:func:`mcon_ok` for a rip-up probe (OK / CONFLICT / NEVER, see enter_state)."""
    j = p // nx
    x = GRID_X0 + GRID_DX * (p - j * nx) + d
    y = GRID_Y0 + GRID_DY * j
    if not reserved_clear(n, p, min(x - MCON_PAD_X, x - d), y - MCON_PAD_Y,
                          max(x + MCON_PAD_X, x - d), y + MCON_PAD_Y, hard, nx):
        return NEVER
    for q in (p - nx, p + nx):
        if 0 <= q < hard.shape[0] and not _free_or(hard[q, 0], n) and \
                abs(hard[q, 1] - x) < MCON_PITCH:
            return NEVER
    if abs(d) > CLAIM_OFFSET:
        q = p + (1 if d > 0 else -1)
        if not _free_or(block[q], n) or not _free_or(hard[q, 0], n):
            return NEVER
    if mcon_ok(n, p, d, block, owner, hard, pads_net, pads_rect, mcon_x, nx, ny):
        return OK
    return CONFLICT


@njit(cache=True)
def search(n: int, sources: np.ndarray, tx0: int, ty0: int, tx1: int, ty1: int, margin: int,
           tgt_pin: np.ndarray, tgt_off: np.ndarray, tgt_mcon: np.ndarray,
           block: np.ndarray, owner: np.ndarray, hard: np.ndarray, cand: np.ndarray,
           hist: np.ndarray, pads_net: np.ndarray, pads_rect: np.ndarray, mcon_x: np.ndarray,
           side: np.ndarray, guide: np.ndarray, gw: int, gh: int, gnx: int, gstamp: int,
           guide_cost: float, g: np.ndarray, parent: np.ndarray, seen: np.ndarray,
           closed: np.ndarray, stamp: int, nx: int, ny: int, soft: float,
           cost: np.ndarray, bound_mul: float = 0.0, bound_add: float = 0.0) -> np.ndarray:
    """A* from `sources` to any node with ``tgt_pin[k] >= 0`` inside the window (sources and
    target box grown by `margin`).  Returns the path (source first) or an empty array.

    `g`/`parent` are valid where ``seen == stamp`` and a node is closed where ``closed ==
    stamp``: the caller passes a fresh stamp per search so nothing is cleared in between.

    ``soft < 0``: the router's search, only legal nodes.  ``soft >= 0``: a rip-up probe that
    may also cross other nets' wires and pads at `soft` extra cost per node (never blockages
    or other nets' reserved pins); the caller rips up the nets it crossed.
    ``cost``: step cost on met1..met4, then the via cost.  ``side`` (met1 plane x 2): the
    static state of the west and east met1 wire halves of each node; a met1 step needs the
    facing halves of both nodes free (or this net's).

    Route guides (from the global router, :mod:`pnr.engine.grt`): the plane is cut into
    GCells of ``gw`` x ``gh`` nodes (``gnx`` per row); a node whose GCell has
    ``guide[gcell] != gstamp`` lies outside the net's corridor and costs ``guide_cost`` extra
    (0: no guides).

    ``bound_mul > 0``: the search gives up once the cheapest open node's f exceeds
    ``bound_mul * f0 + bound_add`` (f0: the sources' f), i.e. when any path would be that
    much longer than the straight-line estimate.  A failing search otherwise explores its
    whole window, which for a net across the die is the whole die on four layers."""
    plane = nx * ny
    heap = [(0.0, 0.0, np.int64(0))]
    heap.pop()
    wx0, wx1, wy0, wy1 = tx0, tx1, ty0, ty1
    for k in sources:
        rem = k % plane
        j = rem // nx
        i = rem - j * nx
        wx0 = min(wx0, i)
        wx1 = max(wx1, i)
        wy0 = min(wy0, j)
        wy1 = max(wy1, j)
        g[k] = hist[k]  # a contested access node costs its history as a source too
        parent[k] = -1
        seen[k] = stamp
        hh = max(tx0 - i, i - tx1, 0) * 36.8 + max(ty0 - j, j - ty1, 0) * 26.9
        heapq.heappush(heap, (hh + g[k], g[k], np.int64(k)))
    wx0 -= margin
    wx1 += margin
    wy0 -= margin
    wy1 += margin
    nbr = np.empty(6, np.int64)
    nco = np.empty(6, np.float64)
    fmax = INF
    if bound_mul > 0.0 and len(heap) > 0:
        fmax = bound_mul * heap[0][0] + bound_add
    while len(heap) > 0:
        _f, gk, k = heapq.heappop(heap)
        if _f > fmax:
            break
        if closed[k] == stamp:
            continue
        closed[k] = stamp
        pk = parent[k]
        if tgt_pin[k] >= 0 and pk != -1:
            count = 1
            q = k
            while parent[q] != -1:
                q = parent[q]
                count += 1
            path = np.empty(count, np.int64)
            q = k
            for t in range(count - 1, -1, -1):
                path[t] = q
                q = parent[q]
            return path
        layer = k // plane
        rem = k - layer * plane
        j = rem // nx
        i = rem - j * nx
        # along the layer's own track (met1/met3 horizontal, met2/met4 vertical; met3/met4
        # use every other node), then the via down and the via up, in that order
        step = 1 if layer < L3 else 2
        if layer % 2 == 0:
            c, lim, delta = i, nx, step
        else:
            c, lim, delta = j, ny, step * nx
        m = 0
        if c >= step:
            nbr[m] = k - delta
            nco[m] = cost[layer]
            m += 1
        if c < lim - step:
            nbr[m] = k + delta
            nco[m] = cost[layer]
            m += 1
        if layer > L1:
            nbr[m] = k - plane
            nco[m] = cost[4]
            m += 1
        if layer < L4 and (layer != L2 or (i % 2 == 0 and j % 2 == 0)):
            nbr[m] = k + plane
            nco[m] = cost[4]
            m += 1
        for t in range(m):
            v = nbr[t]
            if closed[v] == stamp:
                continue
            lv = v // plane
            vrem = v - lv * plane
            vj = vrem // nx
            vi = vrem - vj * nx
            if not (wx0 <= vi <= wx1 and wy0 <= vj <= wy1):
                continue
            if layer == L1 and lv == L1:
                if v > k:
                    ok = _free_or(side[2 * rem + 1], n) and _free_or(side[2 * vrem], n)
                else:
                    ok = _free_or(side[2 * rem], n) and _free_or(side[2 * vrem + 1], n)
                if not ok:
                    continue
            if layer != lv and layer == L3 and pk != -1 and pk // plane != L3 and \
                    pk % plane == rem:
                continue  # no via2+via3 stack on one met3 node (met3 minimum area)
            extra = 0.0
            if soft < 0:
                if not enter_ok(n, v, block, owner, hard, nx, plane):
                    continue
                if layer != lv and min(layer, lv) == L1 and not pad1_ok(
                        n, vrem, pads_net, pads_rect, hard, nx):
                    continue
                if tgt_pin[v] >= 0 and lv == L1 and tgt_mcon[v] and not mcon_ok(
                        n, vrem, tgt_off[v], block, owner, hard, pads_net, pads_rect, mcon_x,
                        nx, ny):
                    continue
            else:
                st = enter_state(n, v, block, owner, hard, nx, plane)
                if st == NEVER:
                    continue
                conflict = st == CONFLICT
                if layer != lv and min(layer, lv) == L1:
                    xx = GRID_X0 + GRID_DX * vi
                    yy = GRID_Y0 + GRID_DY * vj
                    st = pad_state(n, vrem, xx - VIA1_PAD_X, yy - VIA1_PAD_Y, xx + VIA1_PAD_X,
                                   yy + VIA1_PAD_Y, pads_net, pads_rect, hard, nx)
                    if st == NEVER:
                        continue
                    conflict = conflict or st == CONFLICT
                if tgt_pin[v] >= 0 and lv == L1 and tgt_mcon[v]:
                    st = mcon_state(n, vrem, tgt_off[v], block, owner, hard, pads_net,
                                    pads_rect, mcon_x, nx, ny)
                    if st == NEVER:
                        continue
                    conflict = conflict or st == CONFLICT
                if conflict:
                    extra += soft
            if guide_cost > 0.0 and guide[(vj // gh) * gnx + vi // gw] != gstamp:
                extra += guide_cost
            if lv == L1:
                c = cand[vrem]
                if c != FREE and c != n:
                    extra += CAND_PENALTY
            ng = gk + nco[t] + extra + hist[v]
            if seen[v] != stamp or ng < g[v]:
                g[v] = ng
                parent[v] = k
                seen[v] = stamp
                hh = (max(tx0 - vi, vi - tx1, 0) * 36.8 + max(ty0 - vj, vj - ty1, 0) * 26.9)
                heapq.heappush(heap, (ng + hh, ng, v))
    return np.empty(0, np.int64)
