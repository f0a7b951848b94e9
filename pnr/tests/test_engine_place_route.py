"""Floorplan, legalizer and router on a small synthetic netlist (fast, no external tools)."""

from __future__ import annotations

from pathlib import Path

import gdstk
import numpy as np
import pytest

from pnr.engine import library, tech
from pnr.engine.fill import fill_rows
from pnr.engine.floorplan import build_floorplan
from pnr.engine.gds import net_polygons
from pnr.engine.layout import Layout, grid_x, grid_y
from pnr.engine.place import global_place, legalize
from pnr.engine.route import Router, _merge_segments
from pnr.engine.spef import net_rc, write_spef

CHAIN = 24


def _netlist(tmp_path: Path) -> Path:
    """A chain of inverters and NAND gates with a register: small but with real pins."""
    lines = ["module chain(clk, a, b, y);", "  input clk; input a; input b; output y;"]
    prev = "a"
    for k in range(CHAIN):
        out = f"n{k}"
        lines.append(f"  wire {out};")
        if k % 3 == 2:
            lines.append(f"  sky130_fd_sc_hd__nand2_1 g{k} (.A({prev}), .B(b), .Y({out}));")
        else:
            lines.append(f"  sky130_fd_sc_hd__inv_1 g{k} (.A({prev}), .Y({out}));")
        prev = out
    lines.append(f"  sky130_fd_sc_hd__dfxtp_1 r (.CLK(clk), .D({prev}), .Q(y));")
    lines.append("endmodule")
    path = tmp_path / "chain.vg"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def routed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Layout, Router]:
    tmp = tmp_path_factory.mktemp("chain")
    layout = build_floorplan("chain", _netlist(tmp), {"core_utilization": 0.3,
                                                     "core_margin_um": 10})
    x, y, movable = global_place(layout)
    legalize(layout, x, y, movable)
    router = Router(layout)
    failed = router.run()
    assert failed == []
    layout.routes = router.geometry()
    return layout, router


def test_floorplan_grid_alignment(routed: tuple[Layout, Router]) -> None:
    layout, _ = routed
    cx0, cy0, cx1, cy1 = layout.core
    assert cx0 % tech.SITE_W == 0 and cy0 % tech.GRID_DY == 0
    assert (cx1 - cx0) % tech.SITE_W == 0 and (cy1 - cy0) % tech.ROW_H == 0
    assert len(layout.ports) == 4
    taps = [c for c in layout.components if c.kind == "tap"]
    assert len(taps) == len(layout.rows) * len(layout.tap_columns)


def test_legalized_cells_on_sites_without_overlap(routed: tuple[Layout, Router]) -> None:
    layout, _ = routed
    lib = library.cells()
    cx0 = layout.core[0]
    rows = {y: o for y, o in layout.rows}
    seen: set[tuple[int, int]] = set()
    for c in layout.components:
        assert c.placed and (c.x - cx0) % tech.SITE_W == 0
        assert rows[c.y] == c.orient
        for s in range((c.x - cx0) // tech.SITE_W, (c.x - cx0 + lib[c.cell].width) // tech.SITE_W):
            assert (s, c.y) not in seen
            seen.add((s, c.y))


def test_fill_closes_every_gap(routed: tuple[Layout, Router]) -> None:
    layout, _ = routed
    copy = Layout(**{k: getattr(layout, k) for k in ("top", "die", "core", "rows", "ports",
                                                     "nets", "power", "tap_columns")},
                  components=list(layout.components))
    fill_rows(copy)
    lib = library.cells()
    width = layout.core[2] - layout.core[0]
    for y, _ in layout.rows:
        assert sum(lib[c.cell].width for c in copy.components if c.y == y) == width


def test_every_pin_connected_once(routed: tuple[Layout, Router]) -> None:
    layout, router = routed
    for n, name in enumerate(router.names):
        assert len(router.access[n]) == len(router.pins[n]), name
    # one mcon per li1 pin
    mcons = sum(1 for r in layout.routes.values() for v in r["vias"] if v[0] == "L1M1")
    li1_pins = sum(1 for plist in router.pins for p in plist if p.mcon)
    assert mcons == li1_pins


def test_route_shapes_keep_spacing_between_nets(routed: tuple[Layout, Router]) -> None:
    """Geometric check of the router's promise: shapes of different nets on one layer are at
    least the layer spacing apart (both grown by just under half the spacing never touch)."""
    layout, _ = routed
    grown: dict[str, list[tuple[str, list]]] = {}
    for net, route in layout.routes.items():
        for layer, polys in net_polygons(route).items():
            if layer in ("met1", "met2", "met3", "met4"):
                d = tech.SPACING[layer] / 2000 - 0.001
                grown.setdefault(layer, []).append((net, gdstk.offset(polys, d, join="miter")))
    checked = 0
    for _layer, items in grown.items():
        for a in range(len(items)):
            for b in range(a + 1, len(items)):
                touch = gdstk.boolean(items[a][1], items[b][1], "and")
                assert not touch, (items[a][0], items[b][0], touch[0].bounding_box())
                checked += 1
    assert checked > 100


def test_merge_segments() -> None:
    segs = [["met1", 3, 5, 4, 5], ["met1", 4, 5, 5, 5], ["met2", 7, 1, 7, 2], ["met1", 9, 5, 8, 5]]
    merged = sorted(_merge_segments(segs))
    assert merged == [["met1", 3, 5, 5, 5], ["met1", 8, 5, 9, 5], ["met2", 7, 1, 7, 2]]


def test_grid_matches_library_pitches() -> None:
    assert grid_x(0) == 230 and grid_x(1) - grid_x(0) == 460
    assert grid_y(0) == 170 and grid_y(8) - grid_y(0) == tech.ROW_H


def test_spef_has_every_routed_net(routed: tuple[Layout, Router], tmp_path: Path) -> None:
    layout, _ = routed
    path = tmp_path / "chain.spef"
    assert write_spef(layout, path) == len(layout.routes)
    text = path.read_text()
    assert text.count("*D_NET ") == len(layout.routes)
    assert "*I g0:A I" in text and "*P y O" in text
    cap, res = net_rc(layout.routes["n0"])
    assert 0 < cap < 0.1 and 0 < res < 1000  # pF, ohm for a net a few microns long


def test_net_rc_of_one_wire() -> None:
    # 4.6 um of met1 (0.14 um wide): area + two fringe edges; R = 0.125 ohm/sq * 4.6 / 0.14
    cap, res = net_rc({"segs": [["met1", 0, 0, 10, 0]], "vias": [["M1M2", 0, 0]]})
    assert cap == pytest.approx(4.6 * 0.14 * 25.7784e-6 + 2 * 4.6 * 40.567e-6)
    assert res == pytest.approx(0.125 * 4.6 / 0.14 + 4.5)


# -- compiled router core (pnr.engine.route_core) on a tiny hand-made grid --------------------

def _grid(nx: int = 12, ny: int = 12) -> dict:
    """Empty state arrays for an nx x ny grid, laid out as Router keeps them."""
    from pnr.engine import route_core as core
    plane = nx * ny
    return {
        "nx": nx, "ny": ny, "plane": plane,
        "block": np.full(4 * plane, core.FREE, np.int32),
        "owner": np.full(4 * plane, core.FREE, np.int32),
        "hard": np.tile(np.array([core.FREE, core.NO_MCON], np.int64), (plane, 1)),
        "cand": np.full(plane, core.FREE, np.int32),
        "hist": np.zeros(4 * plane),
        "pads_net": np.full((plane, core.PAD_SLOTS), core.FREE, np.int32),
        "pads_rect": np.zeros((plane, core.PAD_SLOTS, 4), np.int64),
        "mcon_x": np.full(plane, core.NO_MCON, np.int64),
    }


def _search(st: dict, n: int, src: int, dst: int, soft: float = -1.0) -> list[int]:
    from pnr.engine import route_core as core
    size = 4 * st["plane"]
    tgt = np.full(size, -1, np.int32)
    tgt[dst] = 0
    j, i = divmod(dst % st["plane"], st["nx"])
    path = core.search(
        n, np.array([src], np.int64), i, j, i, j, 4, tgt, np.zeros(size, np.int64),
        np.zeros(size, np.bool_), st["block"], st["owner"], st["hard"], st["cand"], st["hist"],
        st["pads_net"], st["pads_rect"], st["mcon_x"], np.full(2 * st["plane"], -1, np.int32),
        np.zeros(1, np.int32), 1 << 20, 1 << 20, 1, 0, 0.0, np.zeros(size),
        np.zeros(size, np.int64),
        np.zeros(size, np.int32), np.zeros(size, np.int32), 1, st["nx"], st["ny"], soft,
        np.array([60.0, 34.0, 74.0, 54.0, 160.0]))
    return path.tolist()


def test_core_search_straight_met1_path() -> None:
    st = _grid()
    path = _search(st, 0, 5 * 12 + 2, 5 * 12 + 7)  # met1 is horizontal: one straight run
    assert path == list(range(5 * 12 + 2, 5 * 12 + 8))


def test_core_search_detours_around_other_net_and_probe_crosses_it() -> None:
    st = _grid()
    nx, plane = st["nx"], st["plane"]
    # net 1 owns column i=6 on every layer (met3/met4 use even columns only, so an odd
    # column would not stop them)
    wall = [layer * plane + j * nx + 6 for layer in range(4) for j in range(st["ny"])]
    st["owner"][wall] = 1
    src, dst = 5 * nx + 2, 5 * nx + 9
    free = _search(_grid(), 0, src, dst)
    assert free and free[-1] == dst
    assert _search(st, 0, src, dst) == []                     # no legal way across
    probe = _search(st, 0, src, dst, soft=1500.0)             # a probe may cross net 1
    assert probe and probe[-1] == dst
    assert any(st["owner"][k] == 1 for k in probe)
    st["block"][wall] = -2                  # a blockage is never crossed, not even by a probe
    assert _search(st, 0, src, dst, soft=1500.0) == []


def test_core_met2_keeps_other_nets_off_adjacent_track_nodes() -> None:
    from pnr.engine import route_core as core
    st = _grid()
    nx, plane = st["nx"], st["plane"]
    k = plane + 4 * nx + 4                  # met2 node (4, 4)
    st["owner"][k + nx] = 1                 # net 1 on the met2 node above
    args = (st["block"], st["owner"], st["hard"], nx, plane)
    assert not core.enter_ok(0, k, *args)
    assert core.enter_ok(1, k, *args)
    assert core.enter_state(0, k, *args) == core.CONFLICT
    st["hard"][4 * nx + 4] = (1, grid_x(4))  # net 1's reserved pin below: never for net 0
    assert core.enter_state(0, k, *args) == core.NEVER


def test_core_via_pad_spacing() -> None:
    from pnr.engine import route_core as core
    st = _grid()
    nx = st["nx"]
    p = 4 * nx + 4
    x, y = grid_x(4), grid_y(4)
    # net 1's M1M2 pad on the node to the right: 460 - 2 * 160 = 140 nm apart -> legal
    q = p + 1
    st["pads_net"][q, 0] = 1
    st["pads_rect"][q, 0] = (x + 460 - 160, y - 130, x + 460 + 160, y + 130)
    assert core.pad1_ok(0, p, st["pads_net"], st["pads_rect"], st["hard"], nx)
    # the same pad shifted 10 nm closer violates met1 spacing
    st["pads_rect"][q, 0] -= np.array([10, 0, 10, 0])
    assert not core.pad1_ok(0, p, st["pads_net"], st["pads_rect"], st["hard"], nx)
    assert core.pad1_ok(1, p, st["pads_net"], st["pads_rect"], st["hard"], nx)  # own pad


def test_rip_up_blockers_are_the_crossed_nets(routed: tuple[Layout, Router]) -> None:
    """The probe behind rip-up names the nets a route would have to cross."""
    _layout, router = routed
    plane = router.nx * router.ny
    n = max(router.paths, key=lambda m: len(router.paths[m][0]))
    hot = router._probe(n)      # n's own wires are still in place: nothing is in its way
    assert hot == {}
    owned = [k for path in router.paths[n] for k in path]
    other = (n + 1) % len(router.names)
    saved = router.s.owner[owned].copy()
    router.s.owner[owned] = other   # pretend another net sits exactly on n's route
    try:
        router.rip_up(n)
        router.s.owner[owned] = other
        hot = router._probe(n)
    finally:
        router.s.owner[owned] = saved
    assert hot is not None and any(other in nets for nets in hot.values())
    assert all(0 <= k < 4 * plane for k in hot)


def test_core_pad_leaves_room_for_reserved_mcon_above() -> None:
    from pnr.engine import route_core as core
    st = _grid()
    nx = st["nx"]
    p = 4 * nx + 4
    x, y = grid_x(4), grid_y(4)
    st["hard"][p + nx] = (1, x)             # net 1's pin will put its mcon right above p
    pad = (x - 145, y - 115, x + 145, y + 115)
    assert not core.reserved_clear(0, p, *pad, st["hard"], nx)  # 110 nm < met1 spacing
    assert core.reserved_clear(1, p, *pad, st["hard"], nx)      # net 1 itself may
    far = (x - 145, y - 115 - 340, x + 145, y + 115 - 340)      # one node further down
    assert core.reserved_clear(0, p - nx, *far, st["hard"], nx)
    st["hard"][p + nx] = (core.BLOCKED, core.NO_MCON)
    assert not core.reserved_clear(0, p, *pad, st["hard"], nx)


def test_window_reroute_gives_every_net_its_route_back_when_it_fails(
        routed: tuple[Layout, Router]) -> None:
    """Region rip-up (``Router._reroute_window``) for a net whose pin no reroute can reach:
    the neighbours it ripped up get exactly their old routes back."""
    _layout, router = routed
    snap = router._snapshot()
    try:
        inside = [m for m in router.paths  # a net of cell pins: among other nets' wires
                  if not any(p.name.startswith("PIN/") for p in router.pins[m])]
        n = max(inside, key=lambda m: (len(router.pins[m]), m))
        before = router._snapshot()
        router.rip_up(n)
        pin = router.pins[n][0]
        nodes = np.asarray(pin.nodes, np.int64)
        router.s.owner[nodes] = len(router.names) + 7   # a net that is not there blocks it
        ripped: list[int] = []
        rip_up = router.rip_up
        router.rip_up = lambda m: (ripped.append(m), rip_up(m))[1]  # type: ignore[method-assign]
        try:
            assert router._reroute_window(n) is False
        finally:
            del router.rip_up
        assert set(ripped) - {n}, "the window held no other net: nothing was tested"
        assert n not in router.paths
        for v, paths in before[5].items():
            if v != n:
                assert router.paths[v] == paths
        mine = np.zeros(len(router.s.owner), bool)
        mine[[k for path in before[5][n] for k in path] + list(before[6][n].values()) +
             before[7].get(n, [])] = True
        mine[nodes] = True
        assert (router.s.owner[~mine] == before[0][~mine]).all()
    finally:
        router._restore(snap)
