"""Detailed routing step: a grid maze router whose geometry is DRC-correct by construction.

Reads ``<top>.layout.json`` (placed); writes it back with ``routes`` filled, plus ``<top>.def``,
``<top>.spef`` (estimated parasitics, :mod:`pnr.engine.spef`) and ``reports/route.rpt``.

Why our own router: qrouter 1.4.71 on sky130hd left thousands of spacing violations (contacts
dropped on neighbouring 0.34 um tracks, li1 routing beside cell li1, met3 min-area) that no
configuration removed.  This router never routes on li1; it reaches each li1 pin through one
mcon placed inside the pin, and it only creates shapes whose spacing was checked against the
rules listed in :mod:`pnr.engine.tech`:

* grid nodes are (layer, i, j) at x = 230 + 460 i, y = 170 + 340 j; met1 runs horizontally and
  met2 vertically on every grid line, met3 horizontally on even j and met4 vertically on even i,
  both only at even (i, j), so each layer stays on its own pitch;
* a node is blocked when its worst-case footprint (wire to the half-way point of its
  neighbours, or the widest via pad) would come closer than the layer spacing to a cell
  obstruction, a supply rail/strap or a pin of another net (:func:`static_blockage`);
* the few geometries that are *not* safe on this grid are forbidden while searching: two met1
  via pads or two mcons on vertically adjacent nodes, two different nets on adjacent met2 nodes
  of one track, and a via2/via3 stack on one met3 node (its met3 island would be under the
  0.24 um^2 minimum area);
* same-net met1/met2 pads left on adjacent nodes are bridged afterwards with a pad-wide patch.

Nets are routed shortest first with A*; nets that fail are retried after ripping up the nets
that occupy their bounding box (a few rounds).
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass, field

from pnr.engine import library, tech
from pnr.engine.context import StepContext, StepError
from pnr.engine.layout import Layout, grid_x, grid_y, place_rect, write_def
from pnr.engine.spef import write_spef

L1, L2, L3, L4 = 0, 1, 2, 3
LAYER_NAMES = tech.LAYERS
# footprints (half sizes x, y) of whatever may sit on a node of each layer: the wire to the
# half-way point of the neighbouring nodes, and the widest via pad
FOOT = {L1: ((230, 70), (160, 130)), L2: ((140, 185),), L3: ((460, 150), (190, 165)),
        L4: ((150, 340), (165, 165))}
SPACE = {L1: 140, L2: 140, L3: 300, L4: 300}
STEP_COST = {L1: 60, L2: 34, L3: 74, L4: 54}
VIA_COST = 160
FREE, BLOCKED = -1, -2
HARD_RESERVE = 3
# An mcon shifted further than this from its node has a pad within met1 spacing of a wire
# ending on the next node of the track, so that node is claimed for the pin's net.
CLAIM_OFFSET = 105
SKIP_NETS = ("VPWR", "VGND")


@dataclass
class Pin:
    net: int
    name: str
    nodes: list[int]          # candidate access nodes (met1 for cell pins, met2 for ports)
    mcon: bool                # True: li1 pin reached through an mcon at the access node
    # x offset (nm) of the mcon from its grid node: sky130hd pins are not all on the 0.46 um
    # grid, so the mcon sits inside the pin and a met1 stub joins it to the node.  An offset
    # beyond 15 nm makes the stub's pad reach the next node on the track, which is then claimed.
    offset: dict[int, int] = field(default_factory=dict)


@dataclass
class RouteState:
    nx: int
    ny: int
    block: list[int]
    owner: list[int]
    pads: dict[int, list[tuple[int, tuple[int, int, int, int]]]]
    mcon: list[int]
    cand: list[int]
    mcon_x: dict[int, int] = field(default_factory=dict)
    hist: list[float] = field(default_factory=list)


def _rect_gap(a: tuple, b: tuple) -> float:
    dx = max(a[0] - b[2], b[0] - a[2], 0)
    dy = max(a[1] - b[3], b[1] - a[3], 0)
    return math.hypot(dx, dy)


def _overlaps(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def node_ok_on_layer(layer: int, i: int, j: int) -> bool:
    if layer >= L3:
        return i % 2 == 0 and j % 2 == 0
    return True


def static_blockage(layout: Layout, nx: int, ny: int, net_id: dict[str, int]) -> list[int]:
    """Per node: FREE, BLOCKED, or a net id that alone may use it (it touches that net's pin)."""
    lib = library.cells()
    block = [FREE] * (4 * nx * ny)
    obstacles: list[tuple[int, tuple, int]] = []  # (layer, rect, net or BLOCKED)
    conn = {}
    for net, pins in layout.nets.items():
        for inst, pin in pins:
            conn[(inst, pin)] = net
    layer_idx = {name: k for k, name in enumerate(LAYER_NAMES)}
    for c in layout.components:
        m = lib[c.cell]
        for layer, rects in m.obs.items():
            if layer in layer_idx:
                obstacles += [(layer_idx[layer], place_rect(r, c, m.height), BLOCKED)
                              for r in rects]
        for pin in m.pins.values():
            net = conn.get((c.name, pin.name))
            tag = net_id.get(net, BLOCKED) if net else BLOCKED
            for layer, rects in pin.shapes.items():
                if layer in layer_idx:
                    obstacles += [(layer_idx[layer], place_rect(r, c, m.height), tag)
                                  for r in rects]
    for _net, layer, rect in layout.power:
        if layer in layer_idx:
            obstacles.append((layer_idx[layer], rect, BLOCKED))
    for p in layout.ports.values():
        # a port whose net has nothing else to connect is just an obstacle
        obstacles.append((layer_idx[p.layer], p.rect, net_id.get(p.name, BLOCKED)))
    die = layout.die
    for layer in range(4):
        hx = max(f[0] for f in FOOT[layer])
        hy = max(f[1] for f in FOOT[layer])
        for j in range(ny):
            for i in range(nx):
                x, y = grid_x(i), grid_y(j)
                if (not node_ok_on_layer(layer, i, j) or x - hx < die[0] + 300 or
                        x + hx > die[2] - 300 or y - hy < die[1] or y + hy > die[3]):
                    block[(layer * ny + j) * nx + i] = BLOCKED
    for layer, rect, tag in obstacles:
        hx = max(f[0] for f in FOOT[layer])
        hy = max(f[1] for f in FOOT[layer])
        s = SPACE[layer]
        i0 = max(0, (rect[0] - hx - s - tech.GRID_X0) // tech.GRID_DX)
        i1 = min(nx - 1, (rect[2] + hx + s - tech.GRID_X0) // tech.GRID_DX + 1)
        j0 = max(0, (rect[1] - hy - s - tech.GRID_Y0) // tech.GRID_DY)
        j1 = min(ny - 1, (rect[3] + hy + s - tech.GRID_Y0) // tech.GRID_DY + 1)
        for j in range(j0, j1 + 1):
            y = grid_y(j)
            for i in range(i0, i1 + 1):
                x = grid_x(i)
                feet = [(x - fx, y - fy, x + fx, y + fy) for fx, fy in FOOT[layer]]
                if all(_rect_gap(f, rect) >= s for f in feet):
                    continue
                k = (layer * ny + j) * nx + i
                if tag >= 0 and any(_overlaps(f, rect) for f in feet) and block[k] in (FREE, tag):
                    block[k] = tag
                else:
                    block[k] = BLOCKED
    for p in layout.ports.values():  # the port's own node sits on the die edge by design
        i, j = p.node
        if p.name in net_id:
            block[(layer_idx[p.layer] * ny + j) * nx + i] = net_id[p.name]
    met1 = [(r, t) for layer, r, t in obstacles if layer == L1]
    return block, met1


def _met1_clear(bins: dict, rect: tuple, net: int) -> bool:
    """True if a met1 shape `rect` of `net` keeps met1 spacing to every obstacle of another
    net (or of no net)."""
    for bx in range(rect[0] // 5000 - 1, rect[2] // 5000 + 2):
        for by in range(rect[1] // 5000 - 1, rect[3] // 5000 + 2):
            for r, tag in bins.get((bx, by), ()):
                if tag != net and _rect_gap(r, rect) < tech.SPACING["met1"]:
                    return False
    return True


def pin_candidates(layout: Layout, state: RouteState, net_id: dict[str, int],
                   met1: list) -> list[list[Pin]]:
    """Access nodes for every pin of every net (index = net id)."""
    bins: dict[tuple[int, int], list] = {}
    for r, tag in met1:
        for bx in range(r[0] // 5000, r[2] // 5000 + 1):
            for by in range(r[1] // 5000, r[3] // 5000 + 1):
                bins.setdefault((bx, by), []).append((r, tag))
    lib = library.cells()
    nx, ny = state.nx, state.ny
    comps = {c.name: c for c in layout.components}
    pins: list[list[Pin]] = [[] for _ in net_id]
    for net, members in layout.nets.items():
        if net not in net_id:
            continue
        n = net_id[net]
        for inst, pname in members:
            if inst == "PIN":
                p = layout.ports[pname]
                layer = LAYER_NAMES.index(p.layer)
                i, j = p.node
                pins[n].append(Pin(n, f"PIN/{pname}", [(layer * ny + j) * nx + i], False))
                continue
            c = comps[inst]
            m = lib[c.cell]
            shape = m.pins[pname].shapes
            nodes: list[int] = []
            direct = "met1" in shape
            rects = [place_rect(r, c, m.height) for r in shape.get("met1" if direct else "li1", [])]
            offsets: dict[int, int] = {}
            for r in rects:
                j_lo = (r[1] - tech.GRID_Y0) // tech.GRID_DY
                for j in range(max(0, j_lo), min(ny, (r[3] - tech.GRID_Y0) // tech.GRID_DY + 2)):
                    y = grid_y(j)
                    if direct:
                        if not r[1] <= y <= r[3]:
                            continue
                        xr0, xr1 = r[0], r[2]
                    else:
                        if not (r[1] <= y - 85 and y + 85 <= r[3]):
                            continue
                        xr0, xr1 = r[0] + 85, r[2] - 85
                    if xr0 > xr1:
                        continue
                    i_lo = max(0, (xr0 - 230 - tech.GRID_X0) // tech.GRID_DX)
                    for i in range(i_lo, min(nx, (xr1 + 230 - tech.GRID_X0) // tech.GRID_DX + 2)):
                        x = grid_x(i)
                        if direct and not xr0 <= x <= xr1:
                            continue
                        xp = min(max(x, xr0), xr1)
                        d = xp - x
                        if abs(d) > 230:
                            continue
                        k = j * nx + i
                        if state.block[k] not in (FREE, n):
                            continue
                        if abs(d) > CLAIM_OFFSET:
                            q = k + (1 if d > 0 else -1)
                            if not 0 <= q - j * nx < nx or state.block[q] not in (FREE, n):
                                continue
                        if abs(d) > 15:
                            pad = (xp - 145, y - 115, xp + 145, y + 115)
                            if not _met1_clear(bins, pad, n):
                                continue
                        if k not in offsets or abs(d) < abs(offsets[k]):
                            offsets[k] = d
            nodes = sorted(offsets, key=lambda k: abs(offsets[k]))
            if not nodes:
                raise StepError(f"route: pin {inst}/{pname} ({c.cell}) has no legal access point")
            pins[n].append(Pin(n, f"{inst}/{pname}", nodes, not direct, offsets))
    return pins


class Router:
    def __init__(self, layout: Layout):
        self.layout = layout
        self.nx, self.ny = layout.grid_size
        names = [n for n in layout.nets if n not in SKIP_NETS and len(layout.nets[n]) >= 2]
        self.names = names
        self.net_id = {n: k for k, n in enumerate(names)}
        block, met1 = static_blockage(layout, self.nx, self.ny, self.net_id)
        size = 4 * self.nx * self.ny
        plane = self.nx * self.ny
        self.s = RouteState(self.nx, self.ny, block, owner=[FREE] * size, pads={},
                            mcon=[FREE] * plane, cand=[FREE] * plane, hist=[0.0] * size)
        self.pins = pin_candidates(layout, self.s, self.net_id, met1)
        # access nodes of pins with few choices are reserved for their net: no other net may
        # route over them or put a via pad beside them
        self.hard = [FREE] * plane
        for n, plist in enumerate(self.pins):
            for p in plist:
                for k in p.nodes:
                    if k < plane:
                        self.s.cand[k] = n if self.s.cand[k] in (FREE, n) else BLOCKED
                        if len(p.nodes) <= HARD_RESERVE and p.mcon:
                            self.hard[k] = n if self.hard[k] in (FREE, n) else BLOCKED
        self.paths: dict[int, list[list[int]]] = {}
        self.claimed: dict[int, list[int]] = {}
        self.access: dict[int, dict[str, int]] = {}

    # -- legality ----------------------------------------------------------------------------
    def _enter_ok(self, n: int, k: int) -> bool:
        s = self.s
        b = s.block[k]
        if b != FREE and b != n:
            return False
        o = s.owner[k]
        if o != FREE and o != n:
            return False
        plane = self.nx * self.ny
        if k < plane and self.hard[k] not in (FREE, n):
            return False
        if plane <= k < 2 * plane:  # met2: no other net on the adjacent nodes of the track
            if self.hard[k - plane] not in (FREE, n):
                return False
            for d in (-self.nx, self.nx):
                kk = k + d
                if plane <= kk < 2 * plane and (s.owner[kk] not in (FREE, n) or
                                                self.hard[kk - plane] not in (FREE, n)):
                    return False
        return True

    def _pad_fits(self, n: int, p: int, rect: tuple[int, int, int, int]) -> bool:
        """A met1 via pad `rect` of net n near plane node p keeps met1 spacing to the pads of
        other nets around it, and leaves the nodes above/below that are reserved for another
        net's pin access alone."""
        nx = self.nx
        pads = self.s.pads
        for dj in (-nx, 0, nx):
            for di in (-1, 0, 1):
                for m, r in pads.get(p + dj + di, ()):
                    if m != n and _rect_gap(rect, r) < tech.SPACING["met1"]:
                        return False
        for q in (p - nx, p + nx):
            if 0 <= q < len(self.hard) and self.hard[q] not in (FREE, n):
                return False
        return True

    def _m1m2_rect(self, p: int) -> tuple[int, int, int, int]:
        j, i = divmod(p, self.nx)
        x, y = grid_x(i), grid_y(j)
        return (x - 160, y - 130, x + 160, y + 130)

    def _l1m1_rect(self, p: int, d: int) -> tuple[int, int, int, int]:
        j, i = divmod(p, self.nx)
        x, y = grid_x(i) + d, grid_y(j)
        return (min(x - 145, x - d), y - 115, max(x + 145, x - d), y + 115)

    def _pad1_ok(self, n: int, p: int) -> bool:
        """An M1M2 via at plane node p for net n."""
        return self._pad_fits(n, p, self._m1m2_rect(p))

    def _mcon_ok(self, n: int, p: int, d: int) -> bool:
        """An mcon (with its met1 pad and stub) for net n at node p shifted by d nm in x."""
        s = self.s
        nx = self.nx
        if not self._pad_fits(n, p, self._l1m1_rect(p, d)):
            return False
        if abs(d) > CLAIM_OFFSET:
            q = p + (1 if d > 0 else -1)
            if s.block[q] not in (FREE, n) or s.owner[q] not in (FREE, n) or \
                    self.hard[q] not in (FREE, n):
                return False
        j, i = divmod(p, nx)
        xp = grid_x(i) + d
        for jj in (j - 1, j + 1):
            if not 0 <= jj < self.ny:
                continue
            for ii in range(max(0, i - 1), min(nx, i + 2)):
                other = s.mcon_x.get(jj * nx + ii)
                if other is not None and abs(other - xp) < 255:
                    return False
        return True

    # -- search --------------------------------------------------------------------------------
    def _neighbours(self, k: int):
        nx, ny = self.nx, self.ny
        plane = nx * ny
        layer, rem = divmod(k, plane)
        j, i = divmod(rem, nx)
        if layer == L1:
            if i > 0:
                yield k - 1, STEP_COST[L1]
            if i < nx - 1:
                yield k + 1, STEP_COST[L1]
            yield k + plane, VIA_COST
        elif layer == L2:
            if j > 0:
                yield k - nx, STEP_COST[L2]
            if j < ny - 1:
                yield k + nx, STEP_COST[L2]
            yield k - plane, VIA_COST
            if i % 2 == 0 and j % 2 == 0:
                yield k + plane, VIA_COST
        elif layer == L3:
            if i > 1:
                yield k - 2, STEP_COST[L3]
            if i < nx - 2:
                yield k + 2, STEP_COST[L3]
            yield k - plane, VIA_COST
            yield k + plane, VIA_COST
        else:
            if j > 1:
                yield k - 2 * nx, STEP_COST[L4]
            if j < ny - 2:
                yield k + 2 * nx, STEP_COST[L4]
            yield k - plane, VIA_COST

    def _search(self, n: int, sources: list[int], targets: dict[int, int], bbox,
                margin: int) -> list[int] | None:
        nx, plane = self.nx, self.nx * self.ny
        tx0, ty0, tx1, ty1 = bbox
        s = self.s

        def h(k: int) -> float:
            rem = k % plane
            j, i = divmod(rem, nx)
            dx = max(tx0 - i, i - tx1, 0) * 36.8
            dy = max(ty0 - j, j - ty1, 0) * 26.9
            return dx + dy

        g: dict[int, float] = {}
        parent: dict[int, int] = {}
        heap: list[tuple[float, float, int]] = []
        for k in sources:
            g[k] = 0.0
            parent[k] = -1
            heapq.heappush(heap, (h(k), 0.0, k))
        # search window: the sources/targets box plus a margin
        xs = [(k % plane) % nx for k in sources] + [tx0, tx1]
        ys = [(k % plane) // nx for k in sources] + [ty0, ty1]
        wx0, wx1 = min(xs) - margin, max(xs) + margin
        wy0, wy1 = min(ys) - margin, max(ys) + margin
        closed = set()
        while heap:
            f, gk, k = heapq.heappop(heap)
            if k in closed:
                continue
            closed.add(k)
            if k in targets and parent[k] != -1:
                path = [k]
                while parent[path[-1]] != -1:
                    path.append(parent[path[-1]])
                return path[::-1]
            pk = parent[k]
            for v, cost in self._neighbours(k):
                if v in closed:
                    continue
                rem = v % plane
                vj, vi = divmod(rem, nx)
                if not (wx0 <= vi <= wx1 and wy0 <= vj <= wy1):
                    continue
                if not self._enter_ok(n, v):
                    continue
                lk, lv = k // plane, v // plane
                if lk != lv:
                    lo_layer = min(lk, lv)
                    if lo_layer == L1 and not self._pad1_ok(n, rem):
                        continue
                    # no via2+via3 stack on one met3 node (met3 minimum area)
                    if lk == L3 and pk != -1 and pk // plane != L3 and pk % plane == k % plane:
                        continue
                if v in targets:
                    t = targets[v]
                    pin = self.pins[n][t]
                    if lv == L1 and pin.mcon and not self._mcon_ok(n, rem, pin.offset[v]):
                        continue
                extra = 0.0
                c = s.cand[rem] if lv == L1 else FREE
                if c != FREE and c != n:
                    extra += 400
                ng = gk + cost + extra + s.hist[v]
                if ng < g.get(v, 1e18):
                    g[v] = ng
                    parent[v] = k
                    heapq.heappush(heap, (ng + h(v), ng, v))
        return None

    # -- nets ----------------------------------------------------------------------------------
    def route_net(self, n: int) -> bool:
        plane = self.nx * self.ny
        pins = self.pins[n]
        # start from the pin with fewest access points
        order = sorted(range(len(pins)), key=lambda t: len(pins[t].nodes))
        first = order[0]
        srcs = [k for k in pins[first].nodes if self._enter_ok(n, k) and
                (not pins[first].mcon or self._mcon_ok(n, k % plane, pins[first].offset[k]))]
        if not srcs:
            self.unreached = [pins[first]]
            return False
        remaining = set(order[1:])
        tree: list[int] = []
        paths: list[list[int]] = []
        access: dict[str, int] = {}
        while remaining:
            targets = {}
            for t in remaining:
                for k in pins[t].nodes:
                    targets[k] = t
            ijs = [divmod(k % plane, self.nx) for k in targets]
            bbox = (min(i for _, i in ijs), min(j for j, _ in ijs),
                    max(i for _, i in ijs), max(j for j, _ in ijs))
            sources = tree if tree else srcs
            path = self._search(n, sources, targets, bbox, 12)
            if path is None:
                path = self._search(n, sources, targets, bbox, 60)
            if path is None:
                self._release(n, paths, access)
                self.unreached = [pins[t] for t in remaining] + ([] if tree else [pins[first]])
                return False
            if not tree:
                access[pins[first].name] = path[0]
                self._claim_access(n, pins[first], path[0])
            t = targets[path[-1]]
            access[pins[t].name] = path[-1]
            self._claim_access(n, pins[t], path[-1])
            remaining.discard(t)
            # a path may also cross other pins' access nodes: connect those too
            for k in path:
                if k in targets and targets[k] in remaining:
                    tt = targets[k]
                    if not pins[tt].mcon or self._mcon_ok(n, k % plane, pins[tt].offset[k]):
                        access[pins[tt].name] = k
                        self._claim_access(n, pins[tt], k)
                        remaining.discard(tt)
            self._claim_path(n, path)
            paths.append(path)
            tree.extend(path)
        if not paths:  # single-pin-after-merge nets: claim the source
            self._claim_access(n, pins[first], srcs[0])
            access[pins[first].name] = srcs[0]
            paths.append([srcs[0]])
            self.s.owner[srcs[0]] = n
        self.paths[n] = paths
        self.access[n] = access
        return True

    def _claim_access(self, n: int, pin: Pin, k: int) -> None:
        plane = self.nx * self.ny
        self.s.owner[k] = n
        if pin.mcon:
            p = k % plane
            d = pin.offset[k]
            self.s.mcon[p] = n
            self.s.mcon_x[p] = grid_x(p % self.nx) + d
            self.s.pads.setdefault(p, []).append((n, self._l1m1_rect(p, d)))
            if abs(d) > CLAIM_OFFSET:
                q = p + (1 if d > 0 else -1)
                self.s.owner[q] = n
                self.claimed.setdefault(n, []).append(q)

    def _claim_path(self, n: int, path: list[int]) -> None:
        plane = self.nx * self.ny
        for a, b in zip(path, path[1:], strict=False):
            if a // plane != b // plane and min(a // plane, b // plane) == L1:
                p = a % plane
                self.s.pads.setdefault(p, []).append((n, self._m1m2_rect(p)))
        for k in path:
            self.s.owner[k] = n

    def _release(self, n: int, paths: list[list[int]], access: dict[str, int]) -> None:
        plane = self.nx * self.ny
        touched = {k % plane for path in paths for k in path} | {k % plane for k in access.values()}
        for p in touched:
            if p in self.s.pads:
                self.s.pads[p] = [e for e in self.s.pads[p] if e[0] != n]
            if self.s.mcon[p] == n:
                self.s.mcon[p] = FREE
                self.s.mcon_x.pop(p, None)
        for path in paths:
            for k in path:
                if self.s.owner[k] == n:
                    self.s.owner[k] = FREE
        for k in list(access.values()) + self.claimed.pop(n, []):
            if self.s.owner[k] == n:
                self.s.owner[k] = FREE

    def rip_up(self, n: int) -> None:
        self._release(n, self.paths.pop(n, []), self.access.pop(n, {}))

    def net_bbox(self, n: int) -> tuple[int, int, int, int]:
        plane = self.nx * self.ny
        ks = [k % plane for p in self.pins[n] for k in p.nodes]
        js = [k // self.nx for k in ks]
        is_ = [k % self.nx for k in ks]
        return min(is_), min(js), max(is_), max(js)

    def run(self, rounds: int = 6, log=None) -> list[int]:
        """Route every net; returns the ids of the nets still unrouted. `log(str)` gets
        progress lines (long runs)."""
        order = sorted(range(len(self.names)), key=lambda n: self._hpwl(n))
        failed = []
        t0 = time.monotonic()
        for count, n in enumerate(order, 1):
            if not self.route_net(n):
                failed.append(n)
            if log and count % 250 == 0:
                log(f"{time.monotonic() - t0:7.1f}s routed {count}/{len(order)}, "
                    f"failed {len(failed)}")
        for rnd in range(rounds):
            if log:
                log(f"{time.monotonic() - t0:7.1f}s rip-up round {rnd + 1}: {len(failed)} nets")
            if not failed:
                break
            still = []
            for n in failed:
                if n in self.paths or self.route_net(n):
                    continue
                victims = set()
                plane = self.nx * self.ny
                for pin in getattr(self, "unreached", []):
                    for k in pin.nodes[:6]:
                        j0, i0 = divmod(k % plane, self.nx)
                        for layer in range(3):
                            for j in range(max(0, j0 - 3), min(self.ny, j0 + 4)):
                                for i in range(max(0, i0 - 3), min(self.nx, i0 + 4)):
                                    kk = layer * plane + j * self.nx + i
                                    o = self.s.owner[kk]
                                    if o >= 0 and o != n:
                                        victims.add(o)
                                        self.s.hist[kk] += 40
                for v in victims:
                    self.rip_up(v)
                if not self.route_net(n):
                    still.append(n)
                for v in sorted(victims, key=self._hpwl):
                    if v not in self.paths and not self.route_net(v):
                        still.append(v)
            failed = [n for n in dict.fromkeys(still) if n not in self.paths]
        return failed

    def _hpwl(self, n: int) -> int:
        i0, j0, i1, j1 = self.net_bbox(n)
        return (i1 - i0) * 46 + (j1 - j0) * 34

    # -- output --------------------------------------------------------------------------------
    def geometry(self) -> dict[str, dict]:
        """Per net: segments (layer, i1, j1, i2, j2), vias (kind, i, j) and patches."""
        plane = self.nx * self.ny
        out: dict[str, dict] = {}
        pad1_nodes: dict[int, list[tuple[int, int, int]]] = {}
        pad2_nodes: dict[int, dict[tuple[int, int], int]] = {}
        for n, paths in self.paths.items():
            segs, vias = [], []
            for path in paths:
                for a, b in zip(path, path[1:], strict=False):
                    la, ra = divmod(a, plane)
                    lb, rb = divmod(b, plane)
                    ja, ia = divmod(ra, self.nx)
                    jb, ib = divmod(rb, self.nx)
                    if la == lb:
                        segs.append([LAYER_NAMES[la], ia, ja, ib, jb])
                    else:
                        lo = min(la, lb)
                        kind = tech.VIA_BETWEEN[(LAYER_NAMES[lo], LAYER_NAMES[lo + 1])]
                        vias.append([kind, ia, ja])
            vias = [list(v) for v in {tuple(v) for v in vias}]
            patches = []
            for pin in self.pins[n]:
                k = self.access[n].get(pin.name)
                if k is not None and pin.mcon:
                    j, i = divmod(k % plane, self.nx)
                    d = pin.offset[k]
                    vias.append(["L1M1", i, j, d])
                    if d:
                        x, y = grid_x(i), grid_y(j)
                        patches.append(["met1", min(x, x + d), y - 70, max(x, x + d), y + 70])
            for kind, i, j, *rest in vias:
                if kind in ("L1M1", "M1M2"):
                    xc = grid_x(i) + (rest[0] if rest else 0)
                    half = 145 if kind == "L1M1" else 160
                    pad1_nodes.setdefault(n, []).append((i, j, xc - half, xc + half))
                if kind in ("M1M2", "M2M3"):
                    half = 130 if kind == "M1M2" else 140
                    d = pad2_nodes.setdefault(n, {})
                    d[(i, j)] = min(d.get((i, j), half), half)
            out[self.names[n]] = {"segs": _merge_segments(segs), "vias": vias, "patches": patches}
        # bridge same-net pads on vertically adjacent nodes (met1) and on adjacent met2 nodes
        for n, nodes in pad1_nodes.items():
            extent: dict[tuple[int, int], tuple[int, int]] = {}
            for i, j, lo, hi in nodes:
                old = extent.get((i, j), (lo, hi))
                extent[(i, j)] = (min(old[0], lo), max(old[1], hi))
            for (i, j), (lo, hi) in extent.items():
                if (i, j + 1) in extent:
                    lo2, hi2 = extent[(i, j + 1)]
                    if max(lo, lo2) < min(hi, hi2):
                        out[self.names[n]]["patches"].append(
                            ["met1", max(lo, lo2), grid_y(j), min(hi, hi2), grid_y(j + 1)])
        for n, d in pad2_nodes.items():
            owned = {(k % plane) for k in _flatten(self.paths[n]) if k // plane == L2}
            owned |= {j * self.nx + i for (i, j) in d}
            edges = set()
            for layer, i1, j1, i2, j2 in out[self.names[n]]["segs"]:  # noqa: B007
                if layer == "met2":
                    edges |= {(i1, j) for j in range(min(j1, j2), max(j1, j2))}
            for rem in owned:
                j, i = divmod(rem, self.nx)
                if rem + self.nx in owned and (i, j) not in edges:
                    both = (i, j) in d and (i, j + 1) in d
                    hx = min(d[(i, j)], d[(i, j + 1)]) if both else 70
                    out[self.names[n]]["patches"].append(
                        ["met2", grid_x(i) - hx, grid_y(j), grid_x(i) + hx, grid_y(j + 1)])
        return out


def _flatten(paths: list[list[int]]) -> list[int]:
    return [k for p in paths for k in p]


def _merge_segments(segs: list[list]) -> list[list]:
    """Unit segments -> maximal straight segments per layer and track."""
    by_track: dict[tuple, set[int]] = {}
    for layer, i1, j1, i2, j2 in segs:
        if j1 == j2:
            key = (layer, "h", j1)
            step = 2 if layer == "met3" else 1
            for i in range(min(i1, i2), max(i1, i2), step):
                by_track.setdefault(key, set()).add(i)
        else:
            key = (layer, "v", i1)
            step = 2 if layer == "met4" else 1
            for j in range(min(j1, j2), max(j1, j2), step):
                by_track.setdefault(key, set()).add(j)
    out = []
    for (layer, d, c), starts in by_track.items():
        step = 2 if layer in ("met3", "met4") else 1
        run_start = prev = None
        for s in sorted(starts):
            if prev is not None and s == prev + step:
                prev = s
                continue
            if run_start is not None:
                out.append(_seg(layer, d, c, run_start, prev + step))
            run_start = prev = s
        if run_start is not None:
            out.append(_seg(layer, d, c, run_start, prev + step))
    return out


def _seg(layer: str, d: str, c: int, a: int, b: int) -> list:
    return [layer, a, c, b, c] if d == "h" else [layer, c, a, c, b]


def run(ctx: StepContext) -> dict[str, float | int | str]:
    t0 = time.monotonic()
    layout = Layout.load(ctx.input("layout.json"))
    router = Router(layout)
    progress = ctx.reports_dir / "route.log"
    with open(progress, "w") as fh:
        failed = router.run(log=lambda line: print(line, file=fh, flush=True))
    layout.routes = router.geometry()
    layout.save(ctx.output("layout.json"))
    write_def(layout, ctx.output("def"))
    spef_nets = write_spef(layout, ctx.output("spef"))
    wl = 0
    for r in layout.routes.values():
        for _layer, i1, j1, i2, j2 in r["segs"]:
            wl += abs(grid_x(i2) - grid_x(i1)) + abs(grid_y(j2) - grid_y(j1))
    vias = sum(len(r["vias"]) for r in layout.routes.values())
    names = [router.names[n] for n in failed]
    (ctx.reports_dir / "route.rpt").write_text(
        f"nets {len(router.names)}\nfailed {len(names)}\n" + "".join(f"  {n}\n" for n in names))
    return {"nets": len(router.names), "failed_nets": len(names),
            "wirelength_um": round(wl / 1000, 1), "vias": vias, "spef_nets": spef_nets,
            "runtime_s": round(time.monotonic() - t0, 2)}
