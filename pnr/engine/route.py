"""Detailed routing step: a grid maze router whose geometry is DRC-correct by construction.

Reads ``<top>.layout.json`` (placed); writes it back with ``routes`` filled, plus ``<top>.def``,
``<top>.spef`` (estimated parasitics, :mod:`pnr.engine.spef`), ``reports/route.rpt`` and a
progress log ``reports/route.log`` (nets/s, searches, failed and ripped-up nets per round).

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
* the few geometries that are *not* safe on this grid are forbidden while searching: met1 via
  pads or mcons of different nets closer than met1 spacing (checked exactly, rectangle to
  rectangle), two mcons on vertically adjacent nodes, two different nets on adjacent met2 nodes
  of one track, and a via2/via3 stack on one met3 node (its met3 island would be under the
  0.24 um^2 minimum area);
* access nodes of li1 pins with few choices are reserved for their net, including room for
  the mcon pad they will need; a node two nets' pins need is reserved for neither;
* same-net met1/met2 pads left on adjacent nodes are bridged afterwards with a pad-wide patch.

After routing, :mod:`pnr.engine.route_audit` checks the produced geometry of different nets
against each other by exact rectangles (met1..met4) and reports what it finds
(``reports/route_audit.rpt``, metric ``drc_errors_self``): the rules above are promises, the
audit is the check that they were kept.

Nets are routed shortest first with A* (nets with many pins aim at the pin nearest the tree
built so far).  Nets that fail go through rip-up rounds of transactions: a probe route that
may cross other nets at a high cost names exactly the nets in the way; those are ripped up,
the failed net is routed, they are rerouted (victims that fail now are probed in turn, a short
chain), and the contested nodes get a history cost.  A transaction that leaves no fewer nets
unrouted (nor moves the one failure onto a net with a smaller bounding box) is undone, so a
round never ends with more failed nets than it started with.  From round 2 on, a net whose
transaction is undone gets a region rip-up (:meth:`Router._reroute_window`): its neighbours
within a window are rerouted with it, the contested pins' access choices and orders tried.
Rounds stop on a round budget (:data:`MAX_ROUNDS`), never on the clock,
and ties between nets are broken by net id, so the routed geometry depends only on the placed
layout.

The state is a set of flat numpy arrays and the search and legality checks are compiled with
numba (:mod:`pnr.engine.route_core`): the pure-Python version did not finish the ``small``
accelerator (3.3 M grid nodes) in 39 CPU-minutes.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field

import numpy as np

from pnr.engine import antenna_repair, grt, library, pin_access, route_audit, tech
from pnr.engine import route_core as core
from pnr.engine.context import StepContext, StepError
from pnr.engine.layout import Component, Layout, grid_x, grid_y, place_rect, write_def
from pnr.engine.spef import write_spef

L1, L2, L3, L4 = 0, 1, 2, 3
LAYER_NAMES = tech.LAYERS
# footprints (half sizes x, y) of whatever may sit on a node of each layer: the wire to the
# half-way point of the neighbouring nodes, and the widest via pad
# (from the technology model: half pitches, half widths and the LEF via pads; on sky130hd
# met1 (230, 70) and (160, 130), met2 (140, 185), met3 (460, 150) and (190, 165), met4
# (150, 340) and (165, 165))
_HW = {m: tech.WIDTH[m] // 2 for m in tech.LAYERS}
_V1, _V2, _V3 = (tech.VIAS[v] for v in ("M1M2", "M2M3", "M3M4"))
FOOT = {L1: ((tech.GRID_DX // 2, _HW["met1"]), _V1[2][1:]),
        L2: (tuple(max(a, b) for a, b in zip(_V1[3][1:], _V2[2][1:], strict=True)),),
        L3: ((tech.GRID_DX, _HW["met3"]),
             tuple(max(a, b) for a, b in zip(_V2[3][1:], _V3[2][1:], strict=True))),
        L4: ((_HW["met4"], tech.GRID_DY), _V3[3][1:])}
SPACE = {k: tech.SPACING[m] for k, m in enumerate(tech.LAYERS)}
# What a node itself must leave room for (the node's via pad, or the start of a wire): met1 is
# split into this centre and the two wire halves to the neighbouring nodes (MET1_HALVES), so a
# node whose only problem is a neighbour's shape to one side can still be used through a via
# or an mcon, and a wire may still leave it the other way.  The other layers keep the whole
# footprint (their via pads reach as far as their wires).
CENTER = {L1: (_V1[2][1:],), L2: FOOT[L2], L3: FOOT[L3], L4: FOOT[L4]}
# west, east (x0, y0, x1, y1) offsets
MET1_HALVES = ((-tech.GRID_DX // 2, -_HW["met1"], 0, _HW["met1"]),
               (0, -_HW["met1"], tech.GRID_DX // 2, _HW["met1"]))
# Step cost on met1..met4, then the via cost.  met1 is cheap (it is the pin layer and runs
# along the rows), met3 dear (its 0.68 um pitch makes every met3 track worth two met1 tracks).
STEP_COSTS = np.array([30.0, 34.0, 100.0, 54.0, 160.0])
FREE, BLOCKED = core.FREE, core.BLOCKED
HARD_RESERVE = 3
# An mcon shifted further than this from its node has a pad within met1 spacing of a wire
# ending on the next node of the track, so that node is claimed for the pin's net.
CLAIM_OFFSET = core.CLAIM_OFFSET
SKIP_NETS = ("VPWR", "VGND")
FOCUS_PINS = 8          # nets with more pins left than this aim at the nearest one
PROBE_COST = 1000.0     # extra cost per node where a rip-up probe crosses another net
HIST_STEP = 40.0        # history cost added to a contested node per rip-up
UNTANGLE_NETS = 3       # rip-up cycles among at most this many nets are untangled
CHAIN_DEPTH = 3         # a rip-up transaction follows failing victims this many steps
CHAIN_NETS = 60         # ... and rips up at most this many nets
GUIDE_COST = 40.0       # extra cost per node outside the net's global-route guide
WINDOW = 8              # a stuck net's neighbours within this many nodes of its pins are rerouted
WINDOW_NETS = 40        # ... unless the window holds more nets than this
WINDOW_COMBOS = 16      # access node choices tried for the pins of the contested spot
WINDOW_ROUND = 2        # from this rip-up round on, a failed transaction gets a window
WINDOW_ORDERS = 4       # ... each in every order of its nets, up to this many nets (else 2)
PATIENCE = 8            # rip-up rounds without fewer failed nets before giving up
SEARCH_BOUND = (0.0, 0.0)
"""First-pass search bound (mul, add), off: with ``mul > 0`` a first-pass search gives up once
every open path costs more than ``mul`` x its straight-line estimate + ``add``
(:func:`pnr.engine.route_core.search`; rip-up rounds always search unbounded, a rip-up's
victims need their detours: with the bound in rounds too, ``small`` ended with 9 failed nets
instead of 0).  Off because it did not pay, measured 7 Dec on fresh placements at load 2-6:
riscv32i first pass 109 -> 82 s (time in failing nets 56 -> 34 s) but 291 -> 294 failed;
aes 138 -> 101 s but 726 -> 740 failed (with (3, 6000): 776), and a failed net costs about
10 s in a rip-up round.  (An earlier 500 -> 252 s on riscv32i was measured at load 11-13 and
did not hold at lower load.)"""
MAX_ROUNDS = 60
"""Round budget: at most this many rip-up rounds, whatever the machine's speed, so the routed
result depends only on the input (it used to be a 900 s wall-clock limit, which could stop a
slow or busy machine a round earlier than a fast one).  Rounds stop earlier when nothing is
left to route or after PATIENCE rounds without fewer failed nets.  Measured: the probe needs
1 round, ``small`` 7 (15 nets failed after the first pass; 1 round after a later design
change), and a congested probe (met3/met4 and a third of met2 blocked, see
``pnr/tests/test_determinism.py``) stops on PATIENCE after 13; so 60 only cuts off a run
that keeps improving for far longer than any seen.
``route: {max_rounds: N}`` in the design config overrides it."""
TIME_GUARD_S = 3600.0
"""Wall-clock guard: a run still routing after this long fails with a StepError naming the
limit (``route: {time_guard_s: S}`` overrides it).  It never stops rounds silently, so it can
turn a run into a failure but never change the routed geometry.  ``small`` routes in
60-115 s on two shared cores, so an hour means the router is far outside the designs it was
measured on."""


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
    """The router's grid state; the layout of each array is described in route_core."""

    nx: int
    ny: int
    block: np.ndarray
    owner: np.ndarray
    hard: np.ndarray
    cand: np.ndarray
    hist: np.ndarray
    pads_net: np.ndarray
    pads_rect: np.ndarray
    mcon_x: np.ndarray
    mcon: np.ndarray          # net of the mcon on each met1 node (FREE if none)
    side: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    """met1 wire halves (plane x 2: west, east): FREE, BLOCKED or the one net that may use it"""


def _rect_gap(a, b) -> float:
    dx = max(a[0] - b[2], b[0] - a[2], 0)
    dy = max(a[1] - b[3], b[1] - a[3], 0)
    return math.hypot(dx, dy)


def _overlaps(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def static_blockage(layout: Layout, nx: int, ny: int,
                    net_id: dict[str, int]) -> tuple[np.ndarray, np.ndarray, list]:
    """Per node: FREE, BLOCKED, or a net id that alone may use it (it touches that net's pin);
    the same for the west and east met1 wire halves of every met1 node (plane x 2); and the
    met1 obstacles (rect, net id or BLOCKED) for the pin-access checks."""
    lib = library.cells()
    obstacles: list[tuple[int, tuple, int]] = []  # (layer, rect, net or BLOCKED)
    conn = {}
    for net, pins in layout.nets.items():
        for inst, pin in pins:
            conn[(inst, pin)] = net
    layer_idx = {name: k for k, name in enumerate(LAYER_NAMES)}
    # The floorplan's rails run across the whole core; a cell's own rail lies inside one and
    # would only block the same nodes again (it was half of all obstacles), so it is skipped.
    rails: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for _net, layer, r in layout.power:
        if layer == "met1":
            rails.setdefault((r[1], r[3]), []).append((r[0], r[2]))

    def on_rail(r: tuple) -> bool:
        return any(a <= r[0] and r[2] <= b for a, b in rails.get((r[1], r[3]), ()))

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
                    placed = [place_rect(r, c, m.height) for r in rects]
                    if pin.name in library.POWER_PINS and layer == "met1":
                        placed = [r for r in placed if not on_rail(r)]
                    obstacles += [(layer_idx[layer], r, tag) for r in placed]
    for _net, layer, rect in layout.power:
        if layer in layer_idx:
            obstacles.append((layer_idx[layer], rect, BLOCKED))
    for p in layout.ports.values():
        # a port whose net has nothing else to connect is just an obstacle
        obstacles.append((layer_idx[p.layer], p.rect, net_id.get(p.name, BLOCKED)))
    die = layout.die
    xs = grid_x(np.arange(nx))
    ys = grid_y(np.arange(ny))
    even = (np.arange(ny)[:, None] % 2 == 0) & (np.arange(nx)[None, :] % 2 == 0)
    planes = np.full((4, ny, nx), FREE, np.int32)
    for layer in range(4):
        hx = max(f[0] for f in FOOT[layer])
        hy = max(f[1] for f in FOOT[layer])
        bad_x = (xs - hx < die[0] + 300) | (xs + hx > die[2] - 300)
        bad_y = (ys - hy < die[1]) | (ys + hy > die[3])
        bad = bad_y[:, None] | bad_x[None, :]
        if layer >= L3:
            bad |= ~even
        planes[layer][bad] = BLOCKED
    block = planes.reshape(-1).tolist()  # lists while filling: element access is faster
    side = np.repeat(planes[L1].reshape(-1), 2).tolist()

    def mark(arr: list, k: int, feet: list[tuple], rect: tuple, tag: int, s: int) -> None:
        if all(_rect_gap(f, rect) >= s for f in feet):
            return
        if tag >= 0 and any(_overlaps(f, rect) for f in feet) and arr[k] in (FREE, tag):
            arr[k] = tag
        else:
            arr[k] = BLOCKED

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
                k = (layer * ny + j) * nx + i
                mark(block, k, [(x - fx, y - fy, x + fx, y + fy) for fx, fy in CENTER[layer]],
                     rect, tag, s)
                if layer == L1:
                    for h, (a0, b0, a1, b1) in enumerate(MET1_HALVES):
                        mark(side, 2 * k + h, [(x + a0, y + b0, x + a1, y + b1)], rect, tag, s)
    for p in layout.ports.values():  # the port's own node sits on the die edge by design
        i, j = p.node
        if p.name in net_id:
            block[(layer_idx[p.layer] * ny + j) * nx + i] = net_id[p.name]
    met1 = [(r, t) for layer, r, t in obstacles if layer == L1]
    return np.asarray(block, np.int32), np.asarray(side, np.int32), met1


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
    """Access nodes for every pin of every net (index = net id).

    A cell pin's access points come from its master (:func:`pin_access.master_access`,
    computed once per master and orientation); here each is only checked against what the
    instance's neighbourhood adds: the node's own footprint (``state.block``: neighbouring
    cells' pins, obstructions, rails), the mcon's pad when it sits off the node, and the next
    node along the track when the mcon is shifted far enough to claim it."""
    bins: dict[tuple[int, int], list] = {}
    for r, tag in met1:
        for bx in range(r[0] // 5000, r[2] // 5000 + 1):
            for by in range(r[1] // 5000, r[3] // 5000 + 1):
                bins.setdefault((bx, by), []).append((r, tag))
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
            if c.x % tech.GRID_DX or c.y % tech.GRID_DY:
                raise StepError(f"route: cell {inst} ({c.cell}) at ({c.x}, {c.y}) is off the "
                                f"{tech.GRID_DX}x{tech.GRID_DY} nm routing grid")
            points = pin_access.master_access(c.cell, c.orient)[pname]
            i0, j0 = c.x // tech.GRID_DX, c.y // tech.GRID_DY
            offsets: dict[int, int] = {}
            for ap in points:  # best first: the first point on a node wins
                i, j = i0 + ap.di, j0 + ap.dj
                if not (0 <= i < nx and 0 <= j < ny) or j * nx + i in offsets:
                    continue
                k, d = j * nx + i, ap.d
                if state.block[k] not in (FREE, n):
                    continue
                if abs(d) > CLAIM_OFFSET:
                    q = k + (1 if d > 0 else -1)
                    if not 0 <= q - j * nx < nx or state.block[q] not in (FREE, n):
                        continue
                if abs(d) > 15:
                    x = grid_x(i) + d
                    y = grid_y(j)
                    if not _met1_clear(bins, (x - 145, y - 115, x + 145, y + 115), n):
                        continue
                offsets[k] = d
            if not offsets:
                raise StepError(
                    f"route: pin {inst}/{pname} ({c.cell}, {c.orient} at {c.x / 1000:g}, "
                    f"{c.y / 1000:g} um) has no legal access point: all {len(points)} access "
                    f"points of the master are blocked by neighbouring cells or rails")
            pins[n].append(Pin(n, f"{inst}/{pname}", list(offsets), bool(points[0].mcon),
                               offsets))
    return pins


class Router:
    """Routes every signal net of a placed layout on the grid (see the module docstring).

    The state lives in numpy arrays (:class:`RouteState`) so the compiled kernels in
    :mod:`pnr.engine.route_core` can read it; this class keeps the per-net bookkeeping (paths,
    pin access nodes, claimed nodes) and the rip-up strategy.
    """

    def __init__(self, layout: Layout, cost: np.ndarray | None = None):
        self.layout = layout
        self.nx, self.ny = layout.grid_size
        names = [n for n in layout.nets if n not in SKIP_NETS and len(layout.nets[n]) >= 2]
        self.names = names
        self.net_id = {n: k for k, n in enumerate(names)}
        block, side, met1 = static_blockage(layout, self.nx, self.ny, self.net_id)
        size = 4 * self.nx * self.ny
        plane = self.nx * self.ny
        self.s = RouteState(
            self.nx, self.ny, block,
            owner=np.full(size, FREE, np.int32),
            hard=np.tile(np.array([FREE, core.NO_MCON], np.int64), (plane, 1)),
            cand=np.full(plane, FREE, np.int32),
            hist=np.zeros(size),
            pads_net=np.full((plane, core.PAD_SLOTS), FREE, np.int32),
            pads_rect=np.zeros((plane, core.PAD_SLOTS, 4), np.int64),
            mcon_x=np.full(plane, core.NO_MCON, np.int64),
            mcon=np.full(plane, FREE, np.int32), side=side)
        self.pins = pin_candidates(layout, self.s, self.net_id, met1)
        self._reserve_pin_nodes()
        self.cost = STEP_COSTS.copy() if cost is None else cost
        self.paths: dict[int, list[list[int]]] = {}
        self.claimed: dict[int, list[int]] = {}
        self.access: dict[int, dict[str, int]] = {}
        self.unreached: list[Pin] = []
        self.searches = 0
        self.rounds_run = 0       # rip-up rounds the last run() used
        # work arrays of the compiled A* (valid where seen/closed == the search's stamp)
        self._tgt_pin = np.full(size, -1, np.int32)
        self._tgt_off = np.zeros(size, np.int64)
        self._tgt_mcon = np.zeros(size, np.bool_)
        self._g = np.zeros(size)
        self._parent = np.zeros(size, np.int64)
        self._seen = np.zeros(size, np.int32)
        self._closed = np.zeros(size, np.int32)
        self._stamp = 0
        self.bound = SEARCH_BOUND  # search cost bound (mul, add), see route_core.search
        self._bounded = False      # ... applied in the first pass only
        # route guides (set by set_guides): GCell indices per net, GCell size (gw, gh, gnx)
        self.guides: dict[int, np.ndarray] = {}
        self.gcell = (1 << 30, 1 << 30, 1)
        self.guide_cost = 0.0
        self._guide = np.zeros(1, np.int32)

    def global_route(self, log=None) -> grt.GlobalRoute:
        """Global-route every net over GCells (:mod:`pnr.engine.grt`, capacities from this
        router's static blockage) and take its corridors as route guides."""
        plane = self.nx * self.ny
        terminals = [[p.nodes[0] % plane for p in pins] for pins in self.pins]
        result = grt.global_route(terminals, self.s.block, self.s.side, self.nx, self.ny, log)
        self.set_guides(result.guides, (grt.GCELL_X, grt.GCELL_Y, result.gnx),
                        result.gnx * result.gny, GUIDE_COST)
        return result

    def set_guides(self, guides: dict[int, np.ndarray], gcell: tuple[int, int, int],
                   ngcells: int, cost: float) -> None:
        """Route guides from the global router: per net the GCells (indices ``gy * gnx + gx``
        for GCells of ``gw`` x ``gh`` nodes) of its corridor; a step outside them costs
        `cost` extra in every search of that net."""
        self.guides = guides
        self.gcell = gcell
        self.guide_cost = float(cost)
        self._guide = np.zeros(ngcells, np.int32)

    def _reserve_pin_nodes(self) -> None:
        """Mark pin access nodes: `cand` (some net's pin may need it: others pay extra) and
        `hard` (an li1 pin with few access points: no other net may take the node or crowd
        its future mcon).  A node that two nets' pins need is reserved for neither: whichever
        routes first takes it, and the other uses its remaining access points."""
        s = self.s
        plane = self.nx * self.ny
        contested: set[int] = set()
        for n, plist in enumerate(self.pins):
            for p in plist:
                for k in p.nodes:
                    if k >= plane:
                        continue
                    s.cand[k] = n if s.cand[k] in (FREE, n) else BLOCKED
                    if len(p.nodes) > HARD_RESERVE or not p.mcon or k in contested:
                        continue
                    if s.hard[k, 0] == FREE:
                        s.hard[k] = (n, grid_x(k % self.nx) + p.offset[k])
                    elif s.hard[k, 0] != n:
                        contested.add(k)
                        s.hard[k] = (FREE, core.NO_MCON)

    # -- legality (thin wrappers over the compiled checks) -----------------------------------
    def _enter_ok(self, n: int, k: int) -> bool:
        s = self.s
        return core.enter_ok(n, k, s.block, s.owner, s.hard, self.nx, self.nx * self.ny)

    def _mcon_ok(self, n: int, p: int, d: int) -> bool:
        s = self.s
        return core.mcon_ok(n, p, d, s.block, s.owner, s.hard, s.pads_net, s.pads_rect,
                            s.mcon_x, self.nx, self.ny)

    def _access_ok(self, n: int, pin: Pin, k: int) -> bool:
        """Net n may start or end at access node k of `pin` (with its mcon, if any)."""
        plane = self.nx * self.ny
        return self._enter_ok(n, k) and (
            not pin.mcon or self._mcon_ok(n, k % plane, pin.offset[k]))

    def _state(self, n: int, pin: Pin, k: int) -> int:
        """For a rip-up probe: OK, CONFLICT (other nets' wires are in the way) or NEVER."""
        s = self.s
        plane = self.nx * self.ny
        st = core.enter_state(n, k, s.block, s.owner, s.hard, self.nx, plane)
        if st == core.NEVER or not pin.mcon:
            return st
        return max(st, core.mcon_state(n, k % plane, pin.offset[k], s.block, s.owner, s.hard,
                                       s.pads_net, s.pads_rect, s.mcon_x, self.nx, self.ny))

    @staticmethod
    def _m1m2_rect(x: int, y: int) -> tuple[int, int, int, int]:
        return (x - 160, y - 130, x + 160, y + 130)

    @staticmethod
    def _l1m1_rect(x: int, y: int, d: int) -> tuple[int, int, int, int]:
        """The mcon's met1 pad at x + d plus the stub back to the node at x."""
        xm = x + d
        return (min(xm - 145, x), y - 115, max(xm + 145, x), y + 115)

    def _node_xy(self, p: int) -> tuple[int, int]:
        j, i = divmod(p, self.nx)
        return grid_x(i), grid_y(j)

    # -- search --------------------------------------------------------------------------------
    def _search(self, n: int, sources: list[int], targets: dict[int, int], bbox: tuple,
                margin: int, soft: float = -1.0) -> list[int] | None:
        """A* (compiled) from `sources` to any key of `targets` (node -> pin index)."""
        s = self.s
        pins = self.pins[n]
        ks = np.fromiter(targets, np.int64, len(targets))
        self._tgt_pin[ks] = [targets[k] for k in targets]
        self._tgt_off[ks] = [pins[targets[k]].offset.get(k, 0) for k in targets]
        self._tgt_mcon[ks] = [pins[targets[k]].mcon for k in targets]
        self._stamp += 1
        self.searches += 1
        tx0, ty0, tx1, ty1 = bbox
        cells = self.guides.get(n)
        if cells is None or self.guide_cost <= 0:
            gw = gh = 1 << 30
            gnx, gstamp, guide_cost = 1, 0, 0.0
        else:
            gw, gh, gnx = self.gcell
            gstamp = self._stamp
            self._guide[cells] = gstamp
            guide_cost = self.guide_cost
        try:
            path = core.search(
                n, np.asarray(sources, np.int64), tx0, ty0, tx1, ty1, margin, self._tgt_pin,
                self._tgt_off, self._tgt_mcon, s.block, s.owner, s.hard, s.cand, s.hist,
                s.pads_net, s.pads_rect, s.mcon_x, s.side, self._guide, gw, gh, gnx, gstamp,
                guide_cost, self._g, self._parent, self._seen,
                self._closed, self._stamp, self.nx, self.ny, soft, self.cost,
                *(self.bound if soft < 0 and self._bounded else (0.0, 0.0)))
        finally:
            self._tgt_pin[ks] = -1
        return path.tolist() if len(path) else None

    def _bbox(self, nodes) -> tuple[int, int, int, int]:
        plane = self.nx * self.ny
        js, is_ = np.divmod(np.asarray(list(nodes), np.int64) % plane, self.nx)
        return int(is_.min()), int(js.min()), int(is_.max()), int(js.max())

    # -- nets ----------------------------------------------------------------------------------
    def _connect(self, n: int, soft: float = -1.0) -> tuple[list[list[int]], dict[str, int]] | None:
        """Find paths joining every pin of net n, given the current state.  When routing
        (``soft < 0``) each path is claimed as soon as it is found, so the net's later
        searches see its own pads and mcons; a probe (``soft >= 0``) claims nothing.

        Pins join one at a time: the pin with fewest access points starts the tree, then each
        search runs from the whole tree to the remaining pins.  For nets with many pins, the
        search aims at the one pin nearest the tree (a tight A* target instead of a box over
        the whole net, where the heuristic would be zero).  Returns (paths, access) or None
        (then ``self.unreached`` lists the pins not reached).
        """
        plane = self.nx * self.ny
        pins = self.pins[n]
        probe = soft >= 0
        order = sorted(range(len(pins)), key=lambda t: len(pins[t].nodes))
        first = order[0]
        if probe:
            srcs = [k for k in pins[first].nodes if self._state(n, pins[first], k) != core.NEVER]
        else:
            srcs = [k for k in pins[first].nodes if self._access_ok(n, pins[first], k)]
        if not srcs:
            self.unreached = [pins[first]]
            return None
        # A pin none of whose access nodes can be entered now is unreachable whatever the
        # searches do (this net's own claims never free another net's node): fail before
        # searching.  A failing search explores its whole window, which on long nets of a
        # congested design took seconds each.
        for t in order[1:]:
            if probe:
                ok = any(self._state(n, pins[t], k) != core.NEVER for k in pins[t].nodes)
            else:
                ok = any(self._access_ok(n, pins[t], k) for k in pins[t].nodes)
            if not ok:
                self.unreached = [pins[t]]
                return None
        remaining = set(order[1:])
        all_targets = {k: t for t in remaining for k in pins[t].nodes}
        pin_ij = {t: divmod(pins[t].nodes[0] % plane, self.nx) for t in remaining}
        nearest = {t: math.inf for t in remaining}
        tree: list[int] = []
        paths: list[list[int]] = []
        access: dict[str, int] = {}
        while remaining:
            if len(remaining) > FOCUS_PINS and tree:
                t_next = min(remaining, key=lambda t: (nearest[t], t))
                targets = {k: t_next for k in pins[t_next].nodes}
            else:
                targets = {k: t for k, t in all_targets.items() if t in remaining}
            bbox = self._bbox(targets)
            sources = tree if tree else srcs
            path = self._search(n, sources, targets, bbox, 12, soft)
            if path is None:
                path = self._search(n, sources, targets, bbox, 60, soft)
            if path is None:
                self.unreached = [pins[t] for t in remaining] + ([] if tree else [pins[first]])
                return None
            joined = {} if tree else {pins[first].name: path[0]}
            t = targets[path[-1]]
            joined[pins[t].name] = path[-1]
            remaining.discard(t)
            for k in path:  # a path may also cross other pins' access nodes: connect those
                tt = all_targets.get(k)
                if tt is not None and tt in remaining and (
                        probe or not pins[tt].mcon or
                        self._mcon_ok(n, k % plane, pins[tt].offset[k])):
                    joined[pins[tt].name] = k
                    remaining.discard(tt)
            access.update(joined)
            if not probe:
                self._claim(n, [path], joined)
            paths.append(path)
            tree.extend(path)
            if len(remaining) > FOCUS_PINS:
                rem = np.asarray(path, np.int64) % plane
                pj, pi = np.divmod(rem, self.nx)
                for t in remaining:
                    j0, i0 = pin_ij[t]
                    d = float((np.abs(pi - i0) * 46 + np.abs(pj - j0) * 34).min())
                    if d < nearest[t]:
                        nearest[t] = d
        if not paths:  # every pin merged into one: just the source
            access[pins[first].name] = srcs[0]
            paths.append([srcs[0]])
            if not probe:
                self._claim(n, paths, access)
        return paths, access

    def route_net(self, n: int) -> bool:
        """Route net n into the state; False (and nothing of n left) if a pin is unreachable."""
        self.paths[n], self.access[n] = [], {}
        if self._connect(n) is None:
            self.rip_up(n)
            return False
        return True

    def connect_pin(self, net: str, comp: Component, pin: str, near: str) -> bool:
        """Join pin ``pin`` of ``comp``, a cell placed in free sites after routing (a
        post-route antenna diode, :mod:`pnr.engine.antenna_repair`), to the routed ``net``:
        one search from the access node of the net's pin ``near`` (``inst/pin``) to the new
        pin's legal access nodes, claimed like any path; the rest of the net stays as routed.
        False, with the state unchanged, when the net is not routed, the pin has no legal
        access node, or no path is found.  Only access points within 15 nm of a grid node
        are taken (the met1 obstacles that checking farther ones needs are not kept after
        construction).  The caller adds ``comp`` and the connection to the layout."""
        n = self.net_id[net]
        src = self.access.get(n, {}).get(near)
        if src is None:
            return False
        view = Layout(self.layout.top, self.layout.die, self.layout.core, self.layout.rows,
                      [comp], {}, {net: [(comp.name, pin)]})
        try:
            (new,) = pin_candidates(view, self.s, self.net_id, [])[n]
        except StepError:
            return False
        self.pins[n].append(new)
        t = len(self.pins[n]) - 1
        targets = {k: t for k in new.nodes
                   if abs(new.offset.get(k, 0)) <= 15 and self._access_ok(n, new, k)}
        path = None
        for margin in (12, 60) if targets else ():
            path = self._search(n, [src], targets, self._bbox(targets), margin)
            if path is not None:
                break
        if path is None:
            self.pins[n].pop()
            return False
        self._claim(n, [path], {new.name: path[-1]})
        return True

    def _claim(self, n: int, paths: list[list[int]], access: dict[str, int]) -> None:
        """Occupy the nodes, via pads and mcons of new `paths` and newly joined pins
        (`access`: pin name -> node) for net n, which :meth:`route_net` is routing."""
        s = self.s
        plane = self.nx * self.ny
        by_name = {p.name: p for p in self.pins[n]}
        for name, k in access.items():
            self.access[n][name] = k
            pin = by_name[name]
            s.owner[k] = n
            if not pin.mcon:
                continue
            p = k % plane
            d = pin.offset[k]
            x, y = self._node_xy(p)
            s.mcon[p] = n
            s.mcon_x[p] = x + d
            self._add_pad(p, n, self._l1m1_rect(x, y, d))
            if abs(d) > CLAIM_OFFSET:
                q = p + (1 if d > 0 else -1)
                s.owner[q] = n
                self.claimed.setdefault(n, []).append(q)
        for path in paths:
            self.paths[n].append(path)
            for a, b in zip(path, path[1:], strict=False):
                if a // plane != b // plane and min(a // plane, b // plane) == L1:
                    p = a % plane
                    self._add_pad(p, n, self._m1m2_rect(*self._node_xy(p)))
            s.owner[path] = n

    def _add_pad(self, p: int, n: int, rect: tuple[int, int, int, int]) -> None:
        s = self.s
        slots = s.pads_net[p]
        for t in range(core.PAD_SLOTS):
            if slots[t] == n and tuple(s.pads_rect[p, t]) == rect:
                return
        free = np.flatnonzero(slots == FREE)
        if not len(free):
            raise StepError(f"route: more than {core.PAD_SLOTS} via pads on grid node "
                            f"{divmod(p, self.nx)[::-1]} (net {self.names[n]})")
        s.pads_net[p, free[0]] = n
        s.pads_rect[p, free[0]] = rect

    def rip_up(self, n: int) -> None:
        """Remove net n from the state (its wires, pads, mcons and claimed nodes)."""
        s = self.s
        plane = self.nx * self.ny
        paths = self.paths.pop(n, [])
        access = self.access.pop(n, {})
        nodes = [k for path in paths for k in path] + list(access.values()) + \
            self.claimed.pop(n, [])
        if not nodes:
            return
        arr = np.asarray(nodes, np.int64)
        mine = arr[s.owner[arr] == n]
        s.owner[mine] = FREE
        for p in set((arr % plane).tolist()):
            s.pads_net[p][s.pads_net[p] == n] = FREE
            if s.mcon[p] == n:
                s.mcon[p] = FREE
                s.mcon_x[p] = core.NO_MCON

    def net_bbox(self, n: int) -> tuple[int, int, int, int]:
        return self._bbox(k for p in self.pins[n] for k in p.nodes)

    def _hpwl(self, n: int) -> int:
        i0, j0, i1, j1 = self.net_bbox(n)
        return (i1 - i0) * 46 + (j1 - j0) * 34

    # -- rip-up ------------------------------------------------------------------------------
    def _probe(self, n: int) -> dict[int, set[int]] | None:
        """Where would net n go if it could cross other nets' wires (at PROBE_COST a node)?

        Returns {node: nets in the way there} ({} if nothing is in the way), or None if the
        net cannot be routed even so (blockages or other nets' reserved pins).  The nodes are
        where the other nets sit (their wire, pad or mcon), so the history cost put on them
        steers *those* nets elsewhere when they are rerouted."""
        found = self._connect(n, soft=PROBE_COST)
        if found is None:
            return None
        paths, access = found
        hot: dict[int, set[int]] = {}
        plane = self.nx * self.ny
        s = self.s

        def blame(k: int, nets) -> None:
            nets = {int(m) for m in nets if m >= 0 and m != n}
            if nets:
                hot.setdefault(k, set()).update(nets)

        for path in paths:
            for k in path:
                blame(k, [s.owner[k]])
                if plane <= k < 2 * plane:
                    for kk in (k - self.nx, k + self.nx):
                        if plane <= kk < 2 * plane:
                            blame(kk, [s.owner[kk]])
            for a, b in zip(path, path[1:], strict=False):
                if a // plane != b // plane and min(a // plane, b // plane) == L1:
                    p = a % plane
                    self._blame_pads(n, p, self._m1m2_rect(*self._node_xy(p)), blame)
        by_name = {p.name: p for p in self.pins[n]}
        for name, k in access.items():
            pin = by_name[name]
            if not pin.mcon:
                continue
            p, d = k % plane, pin.offset[k]
            x, y = self._node_xy(p)
            self._blame_pads(n, p, self._l1m1_rect(x, y, d), blame)
            j, i = divmod(p, self.nx)
            for jj in (j - 1, j + 1):
                for ii in (i - 1, i, i + 1):
                    if 0 <= jj < self.ny and 0 <= ii < self.nx:
                        q = jj * self.nx + ii
                        if s.mcon_x[q] != core.NO_MCON and \
                                abs(s.mcon_x[q] - x - d) < core.MCON_PITCH:
                            blame(q, [s.mcon[q]])
            if abs(d) > CLAIM_OFFSET:
                q = p + (1 if d > 0 else -1)
                blame(q, [s.owner[q]])
        return hot

    def _blame_pads(self, n: int, p: int, rect: tuple[int, int, int, int], blame) -> None:
        """Blame the nets whose met1 pads near plane node p are closer than met1 spacing to
        `rect`, at the node of their pad."""
        s = self.s
        for q in (p + dj + di for dj in (-self.nx, 0, self.nx) for di in (-1, 0, 1)):
            if 0 <= q < len(s.pads_net):
                for t in range(core.PAD_SLOTS):
                    m = s.pads_net[q, t]
                    if m >= 0 and m != n and \
                            _rect_gap(rect, s.pads_rect[q, t]) < tech.SPACING["met1"]:
                        blame(q, [m])

    def _negotiate(self, n: int, stale: int) -> tuple[list[int], int]:
        """One rip-up transaction for the failed net n; returns (nets of it left unrouted,
        nets ripped up).

        A probe names the nets in n's way; they are ripped up, n is routed, they are rerouted.
        Victims that now fail get the same treatment in turn (a chain of at most
        :data:`CHAIN_DEPTH` steps and :data:`CHAIN_NETS` ripped nets), which lets a net push
        the one in its way onto a detour, as the ripple of a negotiated router would.  The
        transaction is kept only if it leaves fewer nets unrouted than before (none), or moves
        the one failure onto a net with a smaller bounding box (a potential that strictly
        decreases, so transactions cannot cycle); otherwise every net it touched gets its old
        route back: the route it had *before* the transaction, recorded the first time it
        is ripped up (a net ripped up twice in one chain, or n itself, must not get an
        in-transaction route back: job s45r's undo restored two such routes that had never
        been checked against each other, 0.121 um apart on met1).  This makes a round never
        worse, where committing every rip-up made
        riscv32i's round 1 go from 198 to 207 failed nets and aes's from 606 to 722.  The
        history cost put on contested nodes stays either way, so the next probe of n looks
        elsewhere (the negotiation of PathFinder, McMurchie & Ebeling 1995)."""
        saved: dict[int, tuple[list[list[int]], dict[str, int]]] = {}
        touched = [n]
        ripped = 0
        todo = [n]
        for _depth in range(CHAIN_DEPTH):
            nxt: list[int] = []
            for m in todo:
                if m in self.paths:
                    continue
                hot = self._probe(m)
                if hot is None:
                    continue
                if not hot:  # nothing in the way (history moved the search): just route
                    self.route_net(m)
                    continue
                victims = sorted(set().union(*hot.values()))  # ints: order = net id
                if len(saved) + len(victims) > CHAIN_NETS:
                    continue
                for k in hot:  # growing while nothing improves: breaks two-net cycles
                    self.s.hist[k] += HIST_STEP * (1 + stale)
                for v in victims:
                    # the route v had before the transaction, recorded once: a net ripped
                    # up again later in the chain (or n itself, which had none) must not
                    # have an in-transaction route put back by the undo
                    if v != n and v not in saved:
                        saved[v] = (self.paths[v], self.access[v])
                    self.rip_up(v)
                ripped += len(victims)
                unreached = list(self.unreached)
                if not self.route_net(m):
                    unreached = list(self.unreached)
                for v in sorted(victims, key=self._hpwl):  # stable: ties by net id
                    self.route_net(v)
                touched += [v for v in victims if v not in touched]
                lost = [x for x in (m, *victims) if x not in self.paths]
                if lost and stale and len(victims) <= UNTANGLE_NETS:
                    self._untangle(m, victims, unreached)
                nxt += [x for x in (m, *victims) if x not in self.paths]
            todo = nxt
            if not todo:
                break
        lost = [x for x in touched if x not in self.paths]
        if not lost or (len(lost) == 1 and lost[0] != n and
                        (self._hpwl(lost[0]), lost[0]) < (self._hpwl(n), n)):
            return lost, ripped
        for m in touched:  # undo: every touched net gets its old route back
            self.rip_up(m)
        self._put_back(saved)
        return [n], ripped

    def _put_back(self, saved: dict[int, tuple[list[list[int]], dict[str, int]]]) -> None:
        """Give the (ripped-up) nets of `saved` their recorded paths and access nodes back."""
        for v in sorted(saved):
            self.paths[v], self.access[v] = [], {}
            self._claim(v, *saved[v])

    def _pins_near(self, nets, spots) -> list[tuple[int, Pin]]:
        """(net, pin) of the pins of `nets` with an access node within two nodes of a plane
        node in `spots`: the pins contesting the place a failed net could not reach."""
        plane = self.nx * self.ny
        return [(m, pin) for m in nets for pin in self.pins[m]
                if any(abs(k % plane % self.nx - q % self.nx) <= 2 and
                       abs(k % plane // self.nx - q // self.nx) <= 2
                       for k in pin.nodes for q in spots)]

    def _reroute_window(self, n: int) -> bool:
        """Region rip-up and reroute for a net its transactions have not routed.

        Every net with a wire, pad or mcon within :data:`WINDOW` nodes of the pins n cannot
        reach is ripped up with n (at most :data:`WINDOW_NETS` of them).  The pins of these
        nets within two nodes of that spot form the contested cluster: for each choice of
        their access nodes (fixed, at most :data:`WINDOW_COMBOS`) and each order of their
        nets, the cluster is routed first; when it routes, the other nets follow, shortest
        first, and the first choice that routes them all is kept.  Otherwise every net gets
        its old route back.  Why: a transaction rips up only the nets a probe names, which
        have no room to move while their own neighbours stay, and :meth:`_untangle` tries
        one pin's access nodes at a time in two orders.  On orfs_riscv32i (job nb1, no ABC
        buffers) three pins of one mux4_1 (A2, A3, S1, two access nodes each, three nets)
        routed only with the window cleared, one access combination and one of six orders;
        transactions cycled through the same 4-5 victims for eight rounds.  Rerouting a
        whole region around a failure is the classic remedy (the search-and-repair of
        detailed routers such as TritonRoute, which rips up and reroutes every net in a
        window around a violation)."""
        if self.route_net(n):
            return True
        s = self.s
        plane = self.nx * self.ny
        spots = sorted({k % plane for pin in self.unreached for k in pin.nodes})
        if not spots:
            return False
        window: set[int] = set()
        for p in spots:
            j, i = divmod(p, self.nx)
            rows = np.arange(max(0, j - WINDOW), min(self.ny, j + WINDOW + 1))
            cols = np.arange(max(0, i - WINDOW), min(self.nx, i + WINDOW + 1))
            window.update((rows[:, None] * self.nx + cols[None, :]).ravel().tolist())
        idx = np.asarray(sorted(window), np.int64)
        found = np.concatenate([s.owner[idx + layer * plane] for layer in range(4)] +
                               [s.pads_net[idx].ravel(), s.mcon[idx]])
        nets = sorted({int(m) for m in found if m >= 0 and m != n and m in self.paths})
        if len(nets) > WINDOW_NETS:
            return False
        saved = {v: (self.paths[v], self.access[v]) for v in nets}
        near_pins = self._pins_near((n, *nets), spots)
        near = [pin for _m, pin in near_pins]
        cluster = sorted({m for m, _pin in near_pins} | {n})
        rest = sorted(set(nets) - set(cluster), key=lambda v: (self._hpwl(v), v))
        combos = itertools.islice(itertools.product(*[pin.nodes for pin in near]),
                                  WINDOW_COMBOS)
        kept = [pin.nodes for pin in near]
        for v in nets:
            self.rip_up(v)
        for combo in combos:
            orders = itertools.permutations(cluster) if len(cluster) <= WINDOW_ORDERS \
                else (cluster, cluster[::-1])
            for order in orders:
                for pin, k in zip(near, combo, strict=True):
                    pin.nodes = [k]
                try:
                    ok = all(self.route_net(m) for m in order)
                finally:
                    for pin, nodes in zip(near, kept, strict=True):
                        pin.nodes = nodes
                if ok and all([self.route_net(v) for v in rest]):
                    return True
                for m in (*cluster, *rest):
                    self.rip_up(m)
                if ok:      # the cluster routed but the rest did not: next access choice
                    break
        self._put_back(saved)
        return False

    def _untangle(self, n: int, victims: list[int], unreached: list[Pin]) -> bool:
        """Two or three nets that keep ripping each other up (rip-up cycles on one cell whose
        pins sit on neighbouring tracks): try every access node of each pin near the
        contested spot, fixed, routing the cluster in both orders, and keep the first
        combination that routes all of them.  Greedy routing picks each net's cheapest
        access point, which can be exactly the one that leaves the other pin none."""
        cluster = [n, *victims]
        plane = self.nx * self.ny
        spots = {k % plane for pin in unreached for k in pin.nodes}
        if not spots:
            return False
        for _m, pin in self._pins_near(cluster, spots):
            nodes = pin.nodes
            for k in nodes:
                for order in (cluster, cluster[::-1]):
                    for m in cluster:
                        self.rip_up(m)
                    pin.nodes = [k]
                    try:
                        ok = all([self.route_net(m) for m in order])
                    finally:
                        pin.nodes = nodes
                    if ok:
                        return True
        for m in cluster:  # no combination: route as well as the usual order can
            self.rip_up(m)
        for m in cluster:
            self.route_net(m)
        return False

    def _snapshot(self) -> tuple:
        s = self.s
        return (s.owner.copy(), s.pads_net.copy(), s.pads_rect.copy(), s.mcon_x.copy(),
                s.mcon.copy(), {n: list(p) for n, p in self.paths.items()},
                {n: dict(a) for n, a in self.access.items()},
                {n: list(c) for n, c in self.claimed.items()})

    def _restore(self, snap: tuple) -> None:
        s = self.s
        (s.owner, s.pads_net, s.pads_rect, s.mcon_x, s.mcon, self.paths, self.access,
         self.claimed) = snap

    def run(self, rounds: int = MAX_ROUNDS, log=None,
            time_guard_s: float = TIME_GUARD_S) -> list[int]:
        """Route every net; returns the ids of the nets still unrouted.

        Nets go shortest first.  Then at most `rounds` rip-up rounds: each failed net gets a
        transaction (:meth:`_negotiate`: probe, rip up the nets in the way, route, reroute,
        undo unless fewer nets are left unrouted).  Nodes found contested get a history
        cost, so the next rounds spread out.  The best state seen is kept; rounds also stop
        after PATIENCE rounds without improvement.  Nothing here depends on the clock: a run
        still going after `time_guard_s` seconds raises a StepError instead of stopping
        early.  `log(str)` gets progress lines."""
        if rounds < 0:
            raise ValueError(f"route: the round budget must be >= 0, got {rounds}")
        t0 = time.monotonic()
        failed = self.first_pass(log)
        return self.repair(failed, rounds, log, time_guard_s, t0)

    def first_pass(self, log=None) -> list[int]:
        """Route every net once, shortest bounding box first; returns the failed net ids."""
        order = sorted(range(len(self.names)), key=self._hpwl)
        failed = []
        t0 = time.monotonic()
        self._bounded = True
        try:
            for count, n in enumerate(order, 1):
                if not self.route_net(n):
                    failed.append(n)
                if log and (count % 500 == 0 or count == len(order)):
                    dt = time.monotonic() - t0
                    log(f"{dt:7.1f}s routed {count}/{len(order)} nets "
                        f"({count / max(dt, 1e-9):.0f} nets/s, {self.searches} searches), "
                        f"failed {len(failed)}")
        finally:
            self._bounded = False
        return failed

    def repair(self, failed: list[int], rounds: int, log=None,
               time_guard_s: float = TIME_GUARD_S, t0: float | None = None) -> list[int]:
        """Rip-up rounds on the `failed` nets of a first pass (see :meth:`run`)."""
        t0 = time.monotonic() if t0 is None else t0
        best_failed = list(failed)
        best = self._snapshot() if failed else None
        stale = 0
        self.rounds_run = 0
        for rnd in range(1, rounds + 1):
            if not failed or stale >= PATIENCE:
                break
            elapsed = time.monotonic() - t0
            if elapsed > time_guard_s:
                raise StepError(
                    f"route: still routing after {elapsed:.0f} s, over the wall-clock guard of "
                    f"{time_guard_s:.0f} s (route.time_guard_s); {len(failed)} nets failed "
                    f"before rip-up round {rnd} of at most {rounds}")
            self.rounds_run = rnd
            still: list[int] = []
            ripped = 0
            for count, n in enumerate(failed, 1):
                if log and count % 25 == 0:  # rounds on big designs take many minutes
                    log(f"{time.monotonic() - t0:7.1f}s rip-up round {rnd}: {count}/"
                        f"{len(failed)} failed nets retried, ripped up {ripped}, "
                        f"{len(still)} still failed")
                if n in self.paths:
                    continue
                lost, k = self._negotiate(n, stale)
                ripped += k
                if lost == [n] and rnd >= WINDOW_ROUND and self._reroute_window(n):
                    lost = []
                still += lost
            failed = [n for n in dict.fromkeys(still) if n not in self.paths]
            if len(failed) < len(best_failed):
                best_failed, stale = list(failed), 0
                best = self._snapshot() if failed else None
            else:
                stale += 1
            if log:
                log(f"{time.monotonic() - t0:7.1f}s rip-up round {rnd}: ripped up {ripped}, "
                    f"failed {len(failed)} (best {len(best_failed)}), {self.searches} searches")
        if len(failed) > len(best_failed) and best is not None:
            self._restore(best)
            failed = best_failed
            if log:
                log(f"kept the best state: failed {len(failed)}")
        return failed

    # -- output --------------------------------------------------------------------------------
    def geometry(self) -> dict[str, dict]:
        """Per net: segments (layer, i1, j1, i2, j2), vias (kind, i, j[, x offset]) and
        patches (layer, x0, y0, x1, y1), each list sorted and the nets in net-id order: the
        result depends only on the routed state, not on the order rip-up rounds left the
        nets in or on set iteration order (vias are tuples with strings, whose set order
        changes with PYTHONHASHSEED)."""
        plane = self.nx * self.ny
        out: dict[str, dict] = {}
        pad1_nodes: dict[int, list[tuple[int, int, int]]] = {}
        pad2_nodes: dict[int, dict[tuple[int, int], int]] = {}
        for n in sorted(self.paths):
            paths = self.paths[n]
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
            vias = [list(v) for v in sorted({tuple(v) for v in vias})]
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
            for rem in sorted(owned):
                j, i = divmod(rem, self.nx)
                if rem + self.nx in owned and (i, j) not in edges:
                    both = (i, j) in d and (i, j + 1) in d
                    hx = min(d[(i, j)], d[(i, j + 1)]) if both else 70
                    out[self.names[n]]["patches"].append(
                        ["met2", grid_x(i) - hx, grid_y(j), grid_x(i) + hx, grid_y(j + 1)])
        for route in out.values():
            for shapes in route.values():
                shapes.sort()
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


def settings(ctx: StepContext) -> tuple[int, float]:
    """(round budget, wall-clock guard in s) from ``route:`` of the design config, over
    :data:`MAX_ROUNDS` and :data:`TIME_GUARD_S`; anything else there is an error."""
    given = ctx.design.extra.get("route", {}) or {}
    where = f"{ctx.design.folder / 'config.yaml'}: route:"
    if not isinstance(given, dict) or set(given) - {"max_rounds", "time_guard_s",
                                                    "antenna_repair"}:
        raise StepError(f"{where} accepts only max_rounds, time_guard_s and antenna_repair, "
                        f"got {given!r}")
    rounds = given.get("max_rounds", MAX_ROUNDS)
    guard = given.get("time_guard_s", TIME_GUARD_S)
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 0:
        raise StepError(f"{where} max_rounds must be a whole number >= 0, got {rounds!r}")
    if isinstance(guard, bool) or not isinstance(guard, int | float) or guard <= 0:
        raise StepError(f"{where} time_guard_s must be a number of seconds > 0, got {guard!r}")
    return rounds, float(guard)


def run(ctx: StepContext) -> dict[str, float | int | str]:
    t0 = time.monotonic()
    rounds, guard = settings(ctx)
    layout = Layout.load(ctx.input("layout.json"))
    router = Router(layout)
    progress = ctx.reports_dir / "route.log"
    with open(progress, "w") as fh:
        def log(line: str) -> None:
            print(line, file=fh, flush=True)

        tg = time.monotonic()
        groute = router.global_route(log=log)
        groute.write_reports(ctx.reports_dir)
        grt_metrics = groute.metrics()
        log(f"{time.monotonic() - tg:7.1f}s global route: " +
            " ".join(f"{k}={v}" for k, v in grt_metrics.items()))
        failed = router.run(rounds, log=log, time_guard_s=guard)
        layout.routes = router.geometry()
        # post-route antenna repair: diodes at the violating gates, joined by the router
        # (pnr.engine.antenna_repair); also writes the netlist the later steps read
        antenna = antenna_repair.run_in_route(ctx, layout, router, log)
    violations = route_audit.audit(layout.routes)
    (ctx.reports_dir / "route_audit.rpt").write_text(route_audit.report(violations))
    layout.save(ctx.output("layout.json"))
    write_def(layout, ctx.output("def"))
    spef_nets = write_spef(layout, ctx.output("spef"),
                           coupling=ctx.design.setting("parasitics.coupling"))
    wl = 0
    for r in layout.routes.values():
        for _layer, i1, j1, i2, j2 in r["segs"]:
            wl += abs(grid_x(i2) - grid_x(i1)) + abs(grid_y(j2) - grid_y(j1))
    vias = sum(len(r["vias"]) for r in layout.routes.values())
    names = [router.names[n] for n in failed]
    (ctx.reports_dir / "route.rpt").write_text(
        f"nets {len(router.names)}\nfailed {len(names)}\n" + "".join(f"  {n}\n" for n in names) +
        f"self-audit: {len(violations)} different-net spacing violations "
        f"(reports/route_audit.rpt)\n")
    return {"nets": len(router.names), "failed_nets": len(names),
            "drc_errors_self": len(violations),
            "rip_up_rounds": router.rounds_run, **grt_metrics, **antenna,
            "cells": sum(c.kind == "logic" for c in layout.components),
            "wirelength_um": round(wl / 1000, 1), "vias": vias, "spef_nets": spef_nets,
            "runtime_s": round(time.monotonic() - t0, 2)}
