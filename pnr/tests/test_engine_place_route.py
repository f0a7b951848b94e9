"""Floorplan, legalizer and router on a small synthetic netlist (fast, no external tools)."""

from __future__ import annotations

from pathlib import Path

import gdstk
import pytest

from pnr.engine import library, tech
from pnr.engine.fill import fill_rows
from pnr.engine.floorplan import build_floorplan
from pnr.engine.gds import net_shapes
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
        for layer, polys in net_shapes(route).items():
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
