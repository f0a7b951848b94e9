"""SPEF parasitics from the routed geometry: one distributed RC tree per net, min and max corner.

Magic 8.3.105 writes no SPEF, so the route step writes ``<top>.spef`` (max corner, for setup)
and ``<top>.min.spef`` (min corner, for hold) from its own wires and vias -- the job OpenRCX
does in OpenROAD: per-layer resistance and ground capacitance per unit length from the PDK's
OpenRCX rules (:mod:`pnr.engine.rcx`), per-cut via resistance from the tech LEF and coupling
from the routed neighbours (below).

The network (IEEE 1481 ``*D_NET`` with ``*CONN``/``*CAP``/``*RES``):

* every routed segment is cut at each point where something attaches (a via, another
  segment's end, a pin) and each piece becomes one pi-segment: its resistance between the two
  points and half its capacitance on each -- the Elmore delay of a pi equals that of the
  distributed line it stands for, and pieces end at every branch so no branch is lumped;
* a via is a resistor between its two landing nodes (the cut's LEF resistance);
* an li1 pin hangs off its met1 node through the mcon (``L1M1``) resistance plus the met1 stub
  to the node's grid point; a met1 pin or an IO port is the grid node it sits on;
* the PDK rules' coupling columns are all zero, so the rules give ground capacitance only
  (measured against Magic in pnr/README.md: ~0.9 of Magic's substrate C, ~0.18 of the wire
  load Magic's top cell holds); via pads, the router's small met1 patches and stubs are left
  out, the wiring inside the cells is Liberty's;
* ``coupling=True`` (:func:`write_spef`; the route step's default, design config
  ``parasitics.coupling``; ~0.54 of Magic's wire load) adds coupling from the routed
  neighbourhood
  (:class:`Neighbours`), folded into ground capacitance (Miller factor 1, both corners):
  sidewall coupling to other nets' wires on the adjacent tracks and to supply shapes, and
  overlap coupling to what crosses a piece on the layers above and below (other nets' wires,
  supply rails and straps, and under met1 the cells' li1), with the constants of Magic's
  sky130A.tech (the extractor signoff runs) -- ``k * length / separation`` for sidewalls as
  Magic computes it (to the nearest shape on each side within Magic's 2 um ``sidehalo``),
  area plus side-overlap for crossings.

A net whose pieces do not meet in the routed geometry (a pin reached at two access points joined
only by the cell's li1, a pin with no access via in the route) is closed with 1 milliohm links
so OpenSTA sees every load; :func:`write_spef` counts them in ``stats``.

With ``rc`` given (the placement estimate of :mod:`pnr.engine.rsz`, before any route exists) or
``model="star"`` each net is the old lumped star instead: the driver through half the net's
resistance to one centre node holding all the capacitance, each load through the other half.

Ports, nets, nodes and resistors are written in sorted order with fixed-format numbers (fF to
10 zF, ohm to 0.1 milliohm); the ``*DATE`` header line is the only one that changes from run to
run on the same routed layout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from pnr.engine import library, rcx, tech
from pnr.engine.layout import Layout, grid_x, grid_y, place_rect

# Per-layer R and C (AREA_CAP, EDGE_CAP, SHEET_R, VIA_R: the tech LEF) and Magic's coupling
# model (SIDEWALL_AF, CROSS_AF, SIDE_HALO_NM: its sky130A tech file) are read by the
# technology model, :mod:`pnr.engine.tech`.
LINK_OHM = 0.001        # closes a gap the routed geometry leaves between pieces of one net
BIN_NM = tech.ROW_H     # bins of the cells' li1 shapes (one row high)

Node = tuple[int, int, int]          # (layer index in tech.LAYERS, i, j)


def net_rc(route: dict) -> tuple[float, float]:
    """(capacitance pF, resistance ohm) of one routed net from the tech LEF's values (the
    lumped star model's totals)."""
    cap = res = 0.0
    for layer, i1, j1, i2, j2 in route.get("segs", []):
        length = (abs(grid_x(i2) - grid_x(i1)) + abs(grid_y(j2) - grid_y(j1))) / 1000
        width = tech.WIDTH[layer] / 1000
        cap += length * width * tech.AREA_CAP[layer] + 2 * length * tech.EDGE_CAP[layer]
        res += tech.SHEET_R[layer] * length / width
    for kind, *_ in route.get("vias", []):
        res += tech.VIA_R[kind]
    return cap, res


class RcTree:
    """One net's RC network: node capacitances (pF) and resistors (ohm) between named nodes.
    Grid nodes are keyed by :data:`Node`; pins by their SPEF name (``inst:pin`` or port)."""

    def __init__(self) -> None:
        self.cap: dict[Node | str, float] = {}
        self.res: list[tuple[Node | str, Node | str, float]] = []
        self.alias: dict[Node, str] = {}      # grid node -> the pin that sits on it
        self.links = 0                        # LINK_OHM joins added

    def add_cap(self, node: Node | str, c: float) -> None:
        self.cap[node] = self.cap.get(node, 0.0) + c

    def total_cap(self) -> float:
        return sum(self.cap[k] for k in sorted(self.cap, key=_key))

    def total_res(self) -> float:
        return sum(r for _, _, r in self.res)


class Neighbours:
    """Who runs beside a wire: every routed segment's centre line per (layer, track) and the
    supply shapes per layer, for the sidewall coupling folded into ground capacitance.

    A piece of wire couples to the nearest other-net wire or supply shape of its layer on
    each side within Magic's 2 um side halo, over the length they run side by side, with
    Magic's ``k * length / separation`` (:data:`tech.SIDEWALL_AF`; :meth:`coupling_pf`).  The
    coupling goes to ground unscaled (Miller factor 1), in both corners: STA without signal
    integrity sees a neighbour as a grounded load."""

    def __init__(self, layout: Layout) -> None:
        self._pieces: dict[tuple[str, str, int, int, int], tuple[float, float]] = {}
        self.tracks: dict[tuple[str, int], list[tuple[int, int, str]]] = {}
        for net, route in sorted(layout.routes.items()):
            for layer, i1, j1, i2, j2 in route.get("segs", []):
                if tech.HORIZONTAL[layer]:
                    key, lo, hi = (layer, j1), *sorted((grid_x(i1), grid_x(i2)))
                else:
                    key, lo, hi = (layer, i1), *sorted((grid_y(j1), grid_y(j2)))
                self.tracks.setdefault(key, []).append((lo, hi, net))
        for rows in self.tracks.values():
            rows.sort()
        self.power: dict[str, list[tuple[int, int, int, int]]] = {}
        for _net, layer, rect in sorted(layout.power):
            if layer in tech.SIDEWALL_AF:
                self.power.setdefault(layer, []).append(tuple(rect))
        # the placed cells' li1 (pins, supply pins, obstructions) under met1, binned; a shape
        # of a pin the net itself connects to is not a load on it
        self.pins = {net: set(pins) for net, pins in layout.nets.items()}
        self.li1: list[tuple[tuple[int, int, int, int], tuple[str, str] | None]] = []
        self.bins: dict[tuple[int, int], list[int]] = {}
        lib = library.cells()
        for comp in sorted(layout.components, key=lambda c: c.name):
            if not comp.placed:
                continue
            macro = lib[comp.cell]
            shapes = [(r, (comp.name, p.name) if p.use not in ("POWER", "GROUND") else None)
                      for p in macro.pins.values() for r in p.shapes.get("li1", [])]
            shapes += [(r, None) for r in macro.obs.get("li1", [])]
            for r, owner in shapes:
                x0, y0, x1, y1 = place_rect(r, comp, macro.height)
                self.li1.append(((x0, y0, x1, y1), owner))
                for bx in range(x0 // BIN_NM, x1 // BIN_NM + 1):
                    for by in range(y0 // BIN_NM, y1 // BIN_NM + 1):
                        self.bins.setdefault((bx, by), []).append(len(self.li1) - 1)

    def piece_pf(self, net: str, layer: str, track: int, lo: int, hi: int
                 ) -> tuple[float, float]:
        """(:meth:`coupling_pf`, :meth:`crossing_pf`) of a piece, computed once: both depend
        on the geometry alone (Magic's coupling model has one set of coefficients), and every
        extraction corner asks again for the same pieces.  Before this cache the second corner
        recomputed them: on riscv32i (7,676 nets) the two SPEFs took 295 of the route step's
        565 s under cProfile, 267 s of it in these two functions."""
        key = (net, layer, track, lo, hi)
        found = self._pieces.get(key)
        if found is None:
            found = self._pieces[key] = (self.coupling_pf(net, layer, track, lo, hi),
                                         self.crossing_pf(net, layer, track, lo, hi))
        return found

    def coupling_pf(self, net: str, layer: str, track: int, lo: int, hi: int) -> float:
        """Sidewall coupling (pF) of ``net``'s piece on ``track`` from ``lo`` to ``hi`` nm.

        Magic's nearest-neighbour rule (ExtCouple.c ``extWalkTop`` and friends: "the edge
        boundary is subdivided into lengths occupied by the nearest neighbor"): on each side,
        every stretch of the piece couples to the closest shape of its layer facing it within
        :data:`tech.SIDE_HALO_NM` -- a wire on any grid line or a supply shape -- with
        ``k * length / separation``; a nearer shape shields what lies behind it, and one of the
        net itself shields without coupling."""
        horizontal = tech.HORIZONTAL[layer]
        half = tech.WIDTH[layer] // 2
        centre = grid_y(track) if horizontal else grid_x(track)
        pitch = tech.GRID_DY if horizontal else tech.GRID_DX
        k = tech.SIDEWALL_AF[layer]
        af = 0.0
        for side in (-1, 1):
            # (separation nm, along0, along1, couples) of every facing shape within the halo
            found: list[tuple[int, int, int, bool]] = []
            m = 1
            while m * pitch - 2 * half <= tech.SIDE_HALO_NM:
                for a, b, other in self.tracks.get((layer, track + side * m), []):
                    if min(hi, b) > max(lo, a):
                        found.append((m * pitch - 2 * half, a, b, other != net))
                m += 1
            for x0, y0, x1, y1 in self.power.get(layer, []):
                a, b, c0, c1 = (x0, x1, y0, y1) if horizontal else (y0, y1, x0, x1)
                sep = c0 - (centre + half) if side > 0 else (centre - half) - c1
                if 0 < sep <= tech.SIDE_HALO_NM and min(hi, b) > max(lo, a):
                    found.append((sep, a, b, True))
            free = [(lo, hi)]            # stretches of the piece not yet facing a nearer shape
            for sep, a, b, couples in sorted(found):
                rest = []
                for u, v in free:
                    x, y = max(u, a), min(v, b)
                    if y <= x:
                        rest.append((u, v))
                        continue
                    if couples:
                        af += k * (y - x) / sep
                    rest += [r for r in ((u, x), (y, v)) if r[1] > r[0]]
                free = rest
                if not free:
                    break
        return af * 1e-6

    def crossing_pf(self, net: str, layer: str, track: int, lo: int, hi: int) -> float:
        """Overlap coupling (pF) of ``net``'s piece with what crosses it on the layers just
        above and below: other nets' wires, supply shapes and, under met1, the cells' li1
        (area plus side-overlap of the edges, :data:`tech.CROSS_AF`).  A crossing on a piece's end
        point is shared by the two pieces that meet there, each taking the part on its side."""
        k = tech.LAYERS.index(layer)
        horizontal = tech.HORIZONTAL[layer]
        half = tech.WIDTH[layer] // 2
        centre = grid_y(track) if horizontal else grid_x(track)
        # the piece's rectangle as (along0, along1, across0, across1)
        mine = (lo, hi, centre - half, centre + half)
        af = 0.0
        below = ["li1"] if layer == "met1" else list(tech.LAYERS[max(k - 1, 0):k])
        for other_layer in below + list(tech.LAYERS[k + 1:k + 2]):
            upper = layer if other_layer in below else other_layer
            lower = layer if upper == other_layer else other_layer
            ov, side_up, side_low = tech.CROSS_AF[(upper, lower)]
            shapes: list[tuple[tuple[int, int, int, int], bool]] = []
            if other_layer == "li1":
                x0, y0, x1, y1 = (lo, centre - half, hi, centre + half) if horizontal else \
                    (centre - half, lo, centre + half, hi)
                seen: set[int] = set()
                for bx in range(x0 // BIN_NM, x1 // BIN_NM + 1):
                    for by in range(y0 // BIN_NM, y1 // BIN_NM + 1):
                        seen.update(self.bins.get((bx, by), []))
                for n in sorted(seen):
                    (a, b, c, d), owner = self.li1[n]
                    if owner is None or owner not in self.pins.get(net, ()):
                        shapes.append(((a, c, b, d) if horizontal else (b, d, a, c), True))
            oh = tech.WIDTH.get(other_layer, 0) // 2
            if other_layer != "li1" and tech.HORIZONTAL[other_layer] != horizontal:
                origin, pitch = (tech.GRID_X0, tech.GRID_DX) if horizontal else \
                    (tech.GRID_Y0, tech.GRID_DY)
                for t in range(-(-(lo - oh - origin) // pitch), (hi + oh - origin) // pitch + 1):
                    pos = origin + pitch * t
                    for a, b, other in self.tracks.get((other_layer, t), []):
                        if other != net and a <= centre <= b:
                            # (along0, along1, across0, across1) in the piece's frame
                            shapes.append(((pos - oh, pos + oh, a - oh, b + oh), False))
            for x0, y0, x1, y1 in self.power.get(other_layer, []):
                rect = (x0, x1, y0, y1) if horizontal else (y0, y1, x0, x1)
                shapes.append((rect, True))
            for (a0, a1, c0, c1), is_power in shapes:
                along = min(hi, a1) - max(lo, a0)
                across = min(mine[3], c1) - max(mine[2], c0)
                if along <= 0 or across <= 0:
                    continue
                # my long edges (across = c) inside the other shape, and its edges inside mine
                mine_in = sum(along for e in (mine[2], mine[3]) if c0 < e < c1)
                theirs_in = sum(across for e in (a0, a1) if lo < e < hi)
                if is_power:    # a supply or cell shape's other two edges too
                    theirs_in += sum(along for e in (c0, c1) if mine[2] < e < mine[3])
                up_in, low_in = (theirs_in, mine_in) if upper == other_layer else \
                    (mine_in, theirs_in)
                af += ov * along * across / 1e6 + side_up * up_in / 1e3 + \
                    side_low * low_in / 1e3
        return af * 1e-6


def _key(node: Node | str) -> tuple:
    return (1, node, ()) if isinstance(node, str) else (0, "", node)


def _pin_rects(layout: Layout, inst: str, pin: str, layer: str) -> list[tuple[int, ...]]:
    comp = layout.comp(inst)
    macro = library.cells()[comp.cell]
    return [place_rect(r, comp, macro.height) for r in macro.pins[pin].shapes.get(layer, [])]


def _inside(x: int, y: int, rects: list[tuple[int, ...]]) -> bool:
    return any(r[0] <= x <= r[2] and r[1] <= y <= r[3] for r in rects)


def _xy(node: Node) -> tuple[int, int]:
    return grid_x(node[1]), grid_y(node[2])


def net_tree(layout: Layout, net: str, route: dict, corner: str = "max",
             neighbours: Neighbours | None = None) -> RcTree:
    """The RC tree of one routed net at extraction corner ``corner`` (see module docstring);
    with ``neighbours`` each piece also carries its sidewall coupling, grounded."""
    layer_rc = rcx.layer_rc(corner)
    index = {name: k for k, name in enumerate(tech.LAYERS)}
    tree = RcTree()
    points: set[Node] = set()
    segs = [(index[s[0]], *s[1:]) for s in route.get("segs", [])]
    for m, i1, j1, i2, j2 in segs:
        points.update({(m, i1, j1), (m, i2, j2)})
    mcons: list[tuple[int, int, int]] = []
    for kind, i, j, *off in route.get("vias", []):
        if kind == "L1M1":
            mcons.append((i, j, off[0] if off else 0))
            points.add((index["met1"], i, j))
        else:
            lower = index[tech.VIAS[kind][2][0]]
            points.update({(lower, i, j), (lower + 1, i, j)})
            tree.res.append(((lower, i, j), (lower + 1, i, j), tech.VIA_R[kind]))
    pins = sorted(layout.nets[net])
    for inst, pin in pins:                         # met1 pins and ports sit on a grid node
        if inst == "PIN":
            port = layout.ports[pin]
            node = (index[port.layer], *port.node) if port.layer in index else None
            if node is not None:
                points.add(node)
                _attach(tree, node, pin)
    m1 = index["met1"]
    for inst, pin in pins:
        if inst == "PIN":
            continue
        name = f"{inst}:{pin}"
        li1 = _pin_rects(layout, inst, pin, "li1")
        hit = [(i, j, d) for i, j, d in sorted(mcons)
               if li1 and _inside(grid_x(i) + d, grid_y(j), li1)]
        if hit:
            i, j, d = hit[0]
            stub_um = abs(d) / 1000
            tree.res.append(((m1, i, j), name,
                             tech.VIA_R["L1M1"] + layer_rc["met1"].res_ohm_per_um * stub_um))
            tree.add_cap((m1, i, j), layer_rc["met1"].cap_pf_per_um * stub_um)
            continue
        met1 = _pin_rects(layout, inst, pin, "met1")
        on = [p for p in sorted(points) if p[0] == m1 and _inside(*_xy(p), met1)]
        if on:
            _attach(tree, on[0], name)
    # cut every segment at the points on it; one pi-segment per piece
    seen: set[tuple[Node, Node]] = set()
    by_line: dict[tuple[int, str, int], list[Node]] = {}
    for p in points:
        by_line.setdefault((p[0], "h", p[2]), []).append(p)
        by_line.setdefault((p[0], "v", p[1]), []).append(p)
    for m, i1, j1, i2, j2 in sorted(segs):
        rc = layer_rc[tech.LAYERS[m]]
        if j1 == j2:
            lo, hi = sorted((i1, i2))
            line = sorted(p for p in by_line[(m, "h", j1)] if lo <= p[1] <= hi)
        else:
            lo, hi = sorted((j1, j2))
            line = sorted(p for p in by_line[(m, "v", i1)] if lo <= p[2] <= hi)
        for a, b in zip(line, line[1:], strict=False):
            if (a, b) in seen:
                continue
            seen.add((a, b))
            (xa, ya), (xb, yb) = _xy(a), _xy(b)
            length_um = (abs(xb - xa) + abs(yb - ya)) / 1000
            tree.res.append((a, b, rc.res_ohm_per_um * length_um))
            cap = rc.cap_pf_per_um * length_um
            if neighbours is not None:
                layer = tech.LAYERS[m]
                track, lo, hi = (j1, xa, xb) if tech.HORIZONTAL[layer] else (i1, ya, yb)
                side_pf, cross_pf = neighbours.piece_pf(net, layer, track, lo, hi)
                cap += side_pf
                cap += cross_pf
            tree.add_cap(a, cap / 2)
            tree.add_cap(b, cap / 2)
    for p in points:
        tree.add_cap(p, 0.0)
    _connect(tree, layout, pins)
    return tree


def _attach(tree: RcTree, node: Node, name: str) -> None:
    """Pin ``name`` sits on grid ``node``: it becomes the node's name, or (a second pin on the
    same node) hangs off it through a link."""
    if node in tree.alias:
        tree.res.append((node, name, LINK_OHM))
        tree.links += 1
    else:
        tree.alias[node] = name


def _connect(tree: RcTree, layout: Layout, pins: list[tuple[str, str]]) -> None:
    """Join the tree's connected pieces (and pins the geometry did not reach) with links from
    each piece to its nearest node in the piece holding the first pin -- union-find over the
    resistors, nearest by Manhattan distance, ties by sorted node order."""
    names = [p if i == "PIN" else f"{i}:{p}" for i, p in pins]
    parent: dict[Node | str, Node | str] = {}

    def find(x: Node | str) -> Node | str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def name_of(x: Node | str) -> Node | str:
        return tree.alias.get(x, x) if not isinstance(x, str) else x

    for a, b, _ in tree.res:
        ra, rb = find(name_of(a)), find(name_of(b))
        if ra != rb:
            parent[ra] = rb
    grid = sorted((n for n in tree.cap if not isinstance(n, str)), key=_key)
    for n in grid:
        find(name_of(n))
    for n in names:
        find(n)

    def where(x: Node | str) -> tuple[int, int] | None:
        if not isinstance(x, str):
            return _xy(x)
        inst, _, pin = x.rpartition(":")
        if not inst:
            r = layout.ports[x].rect
            return (r[0] + r[2]) // 2, (r[1] + r[3]) // 2
        rects = [r for layer in ("li1", "met1") for r in _pin_rects(layout, inst, pin, layer)]
        return ((rects[0][0] + rects[0][2]) // 2, (rects[0][1] + rects[0][3]) // 2) \
            if rects else None

    members: list[Node | str] = sorted({name_of(n) for n in grid} | set(names), key=_key)
    root = find(names[0]) if names else None
    while True:
        groups: dict[Node | str, list[Node | str]] = {}
        for m in members:
            groups.setdefault(find(m), []).append(m)
        if len(groups) <= 1 or root is None:
            return
        main = groups[find(names[0])]
        other = next(g for r, g in sorted(groups.items(), key=lambda kv: _key(kv[1][0]))
                     if r != find(names[0]))
        best: tuple[int, tuple, tuple, Node | str, Node | str] | None = None
        for a in other:
            pa = where(a)
            for b in main:
                pb = where(b)
                if pa is None or pb is None:
                    d = 1 << 60
                else:
                    d = abs(pa[0] - pb[0]) + abs(pa[1] - pb[1])
                cand = (d, _key(a), _key(b), a, b)
                if best is None or cand[:3] < best[:3]:
                    best = cand
        assert best is not None
        _, _, _, a, b = best
        tree.res.append((a, b, LINK_OHM))
        tree.links += 1
        parent[find(a)] = find(b)


def _tree_lines(net: str, tree: RcTree, conns: list[str]) -> list[str]:
    """``*D_NET`` block of a tree: internal nodes numbered in sorted grid order, caps in fF."""
    names: dict[Node | str, str] = {}
    k = 0
    for node in sorted(tree.cap, key=_key):
        if isinstance(node, str):
            names[node] = node
        elif node in tree.alias:
            names[node] = tree.alias[node]
        else:
            k += 1
            names[node] = f"{net}:{k}"
    for a, b, _ in tree.res:
        for x in (a, b):
            if x not in names:
                names[x] = tree.alias.get(x, x) if not isinstance(x, str) else x
    caps = [(names[n], tree.cap[n] * 1000) for n in sorted(tree.cap, key=_key)]
    total = sum(c for _, c in caps)
    caps = [(n, c) for n, c in caps if c > 0]
    out = ["", f"*D_NET {net} {total:.5f}", "*CONN", *conns, "*CAP"]
    out += [f"{k} {n} {c:.5f}" for k, (n, c) in enumerate(caps, 1)]
    out.append("*RES")
    res = sorted((min(names[a], names[b]), max(names[a], names[b]), r) for a, b, r in tree.res)
    out += [f"{k} {a} {b} {r:.4f}" for k, (a, b, r) in enumerate(res, 1)]
    out.append("*END")
    return out


def _star_lines(net: str, cap: float, res: float, conns: list[str], driver: str,
                loads: list[str]) -> list[str]:
    centre = f"{net}:1"
    out = ["", f"*D_NET {net} {cap:.6g}", "*CONN", *conns, "*CAP", f"1 {centre} {cap:.6g}",
           "*RES", f"1 {driver} {centre} {res / 2:.6g}"]
    out += [f"{k} {centre} {load} {res / 2:.6g}" for k, load in enumerate(loads, 2)]
    out.append("*END")
    return out


def corner_path(path: Path, corner: str) -> Path:
    """Where :func:`write_spef` puts a corner other than the first: ``<top>.<corner>.spef``
    beside ``path`` (the route step's ``<top>.min.spef`` view)."""
    return path.with_name(f"{path.name.removesuffix('.spef')}.{corner}.spef")


def write_spef(layout: Layout, path: Path,
               rc: Callable[[str], tuple[float, float] | None] | None = None,
               corners: tuple[str, ...] = ("max", "min"), model: str = "tree",
               stats: dict[str, int] | None = None, coupling: bool = False) -> int:
    """Write the SPEF; returns the number of nets written.

    Without ``rc`` each routed net becomes its RC tree (:func:`net_tree`), written once per
    extraction corner: the first of ``corners`` to ``path`` (max: the file every reader takes
    by default, setup and power), the others to :func:`corner_path` (``<top>.min.spef``, read
    with ``read_spef -min`` for hold).  ``rc(net)`` gives a net's lumped (capacitance pF,
    resistance ohm) or ``None`` to leave it out (the placement estimate of
    :mod:`pnr.engine.rsz`): one star per net, to ``path`` only; ``model="star"`` writes that
    star from :func:`net_rc` of the route (the model before the RC trees, kept for comparison).
    ``coupling=True`` adds the neighbours' coupling (:class:`Neighbours`) to the trees; the
    route step passes the design config's ``parasitics.coupling`` (default true: signoff
    times the wire load Magic sees, not the rules' ground capacitance alone, ~0.18 of it; see
    pnr/README.md "Parasitics"), and the rsz step's placement estimate is scaled to it with
    ``estimate.wire_c_scale``.  The argument's default (ground only) serves the estimate and the
    comparisons.  ``stats`` (if given) receives ``links``: the 1 milliohm joins added (module
    docstring)."""
    if model not in ("tree", "star"):
        raise ValueError(f"SPEF model must be 'tree' or 'star', not {model!r}")
    star = rc is not None or model == "star"
    targets = [(corners[0], path)] if star else \
        [(c, path if k == 0 else corner_path(path, c)) for k, c in enumerate(corners)]
    lib = library.cells()
    cells = {c.name: c.cell for c in layout.components}
    neighbours = None if star or not coupling else Neighbours(layout)
    count = 0
    links = 0
    for corner, target in targets:
        out = ['*SPEF "IEEE 1481-1998"', f'*DESIGN "{layout.top}"',
               f'*DATE "{time.strftime("%a %b %d %H:%M:%S %Y")}"', '*VENDOR "gpt-nano-asic"',
               '*PROGRAM "pnr.engine.spef"', '*VERSION "2"',
               f'*DESIGN_FLOW "ROUTED" "{"STAR" if star else "RC_TREE " + corner.upper()}"',
               "*DIVIDER /", "*DELIMITER :", "*BUS_DELIMITER [ ]",
               "*T_UNIT 1 NS", f"*C_UNIT 1 {'PF' if star else 'FF'}", "*R_UNIT 1 OHM",
               "*L_UNIT 1 HENRY", "", "*PORTS"]
        for _name, p in sorted(layout.ports.items()):
            out.append(f"{p.name} {'I' if p.direction == 'input' else 'O'}")
        count = links = 0
        for net, pins in sorted(layout.nets.items()):
            route = layout.routes.get(net)
            if rc is not None:
                lumped = rc(net)
                if lumped is None:
                    continue
            elif not route:
                continue
            conns, driver, loads = [], None, []
            for inst, pin in sorted(pins):
                if inst == "PIN":
                    is_driver = layout.ports[pin].direction == "input"
                    conns.append(f"*P {pin} {'I' if is_driver else 'O'}")
                    name = pin
                else:
                    is_driver = lib[cells[inst]].pins[pin].direction == "OUTPUT"
                    conns.append(f"*I {inst}:{pin} {'O' if is_driver else 'I'}")
                    name = f"{inst}:{pin}"
                if is_driver and driver is None:
                    driver = name
                else:
                    loads.append(name)
            if driver is None:
                driver, loads = loads[0], loads[1:]
            if star:
                cap, res = lumped if rc is not None else net_rc(route)
                out += _star_lines(net, cap, res, conns, driver, loads)
            else:
                tree = net_tree(layout, net, route, corner, neighbours)
                links += tree.links
                out += _tree_lines(net, tree, conns)
            count += 1
        target.write_text("\n".join(out) + "\n")
    if stats is not None:
        stats["links"] = links
    return count
