"""Pin access per cell master (:mod:`pnr.engine.pin_access`) and its use by the router.

The riscv32i benchmark failed with ``pin n_10830/B1 (sky130_fd_sc_hd__o21ai_0) has no legal
access point``: o21ai_0's B1 has a single access node, 85 nm (less than met1 spacing) from the
met1 S0 pin of a mux4_2 abutting on the right, and the router blocked the whole node for the
met1 wire that might leave it eastwards -- although an mcon plus a via up needs no wire there.
``test_o21ai_0_abutting_mux4_2_routes`` is that placement; it failed before the node's
footprint was split into centre and wire halves.
"""

from __future__ import annotations

from pathlib import Path

import klayout.db as kdb
import pytest

from pnr.engine import library, tech
from pnr.engine.floorplan import build_floorplan
from pnr.engine.layout import Layout, net_rects, place_rect
from pnr.engine.pin_access import ORIENTS, allowed_masters, master_access, orient_rect
from pnr.engine.route import Router

P = library.PREFIX


def test_every_pin_of_every_allowed_master_has_an_access_point() -> None:
    """Each signal pin of each cell the flow may map to (sky130hd LEF minus dont-use), in
    both row orientations, has an access point, and each point's mcon cut lies inside the
    pin's li1 (checked here independently, on the union of the pin's rectangles)."""
    masters = allowed_masters()
    assert len(masters) > 300 and P + "o21ai_0" in masters and P + "conb_1" not in masters
    lib = library.cells()
    missing = []
    for cell in masters:
        m = lib[cell]
        for orient in ORIENTS:
            for pin, points in master_access(cell, orient).items():
                if not points:
                    missing.append(f"{cell}/{pin} {orient}")
                    continue
                shapes = m.pins[pin].shapes
                if "met1" in shapes:
                    continue
                region = kdb.Region([kdb.Box(*orient_rect(r, orient, m.height))
                                     for r in shapes["li1"]])
                for ap in points:
                    x = tech.GRID_X0 + tech.GRID_DX * ap.di + ap.d
                    y = tech.GRID_Y0 + tech.GRID_DY * ap.dj
                    cut = kdb.Region(kdb.Box(x - 85, y - 85, x + 85, y + 85))
                    assert (cut - region).is_empty(), (cell, pin, orient, ap)
                    assert abs(ap.d) <= 230 and ap.mcon
    assert missing == []


def test_split_pins_use_their_union() -> None:
    """a211oi_4/A1 is one bar drawn as three rectangles, none tall enough for an mcon: only
    their union holds it (the per-rectangle search found no access point at all)."""
    assert master_access(P + "a211oi_4", "N")["A1"]
    assert master_access(P + "o32a_2", "FS")["B1"]


def _pair(tmp_path: Path, orient_row: int) -> Layout:
    """o21ai_0 with a mux4_2 abutting on its right in row `orient_row` (0: N, 1: FS), as the
    placer put them in riscv32i; every pin on its own net."""
    text = f"""module pair(a1, a2, b1, s0, s1, c1, c2, c3, x);
input a1; input a2; input b1; input s0; input s1; input c1; input c2; input c3; output x;
wire y;
{P}o21ai_0 u1 (.A1(a1), .A2(a2), .B1(b1), .Y(y));
{P}mux4_2 u2 (.A0(y), .A1(c1), .A2(c2), .A3(c3), .S0(s0), .S1(s1), .X(x));
endmodule
"""
    (tmp_path / "pair.vg").write_text(text)
    layout = build_floorplan("pair", tmp_path / "pair.vg", {"core_utilization": 0.1,
                                                            "core_margin_um": 10})
    y, orient = layout.rows[orient_row]
    x0 = layout.core[0] + 2 * tech.SITE_W   # clear of the tap column at the core edge
    for c in layout.components:
        if c.name in ("u1", "u2"):
            c.x = x0 if c.name == "u1" else x0 + library.cells()[P + "o21ai_0"].width
            c.y, c.orient, c.placed = y, orient, True
    return layout


def _met1_by_net(layout: Layout) -> dict[str, kdb.Region]:
    """All met1 per net: routes (as drawn) and the cells' pin shapes; obstructions and
    power under the key ''."""
    lib = library.cells()
    conn = {(i, p): n for n, pins in layout.nets.items() for i, p in pins}
    out: dict[str, kdb.Region] = {}

    def add(net: str, r) -> None:
        out.setdefault(net, kdb.Region()).insert(kdb.Box(*r))

    for net, route in layout.routes.items():
        for r in net_rects(route).get("met1", []):
            add(net, r)
    for c in layout.components:
        m = lib[c.cell]
        for r in m.obs.get("met1", []):
            add("", place_rect(r, c, m.height))
        for pin in m.pins.values():
            net = conn.get((c.name, pin.name), "" if pin.name in library.POWER_PINS else
                           f"{c.name}/{pin.name}")
            for r in pin.shapes.get("met1", []):
                add("" if pin.name in library.POWER_PINS else net, place_rect(r, c, m.height))
    for _net, layer, r in layout.power:
        if layer == "met1":
            add("", r)
    return {k: v.merged() for k, v in out.items()}


@pytest.mark.parametrize("row", [0, 1], ids=["N", "FS"])
def test_o21ai_0_abutting_mux4_2_routes(tmp_path: Path, row: int) -> None:
    layout = _pair(tmp_path, row)
    router = Router(layout)
    b1 = next(p for p in router.pins[router.net_id["b1"]] if p.name == "u1/B1")
    assert b1.nodes, "B1 has an access point"
    assert router.run() == []
    layout.routes = router.geometry()
    assert router.access[router.net_id["b1"]]["u1/B1"] in b1.nodes
    # the router's promise, checked on the drawn met1: every net keeps met1 spacing to every
    # other net's met1 (routes and cell pins), to the rails and to the obstructions
    met1 = _met1_by_net(layout)
    for net, region in met1.items():
        if not net:
            continue
        others = kdb.Region()
        for other, r in met1.items():
            if other != net:
                others += r
        assert (region & others).is_empty(), f"{net} touches another net's met1"
        bad = region.separation_check(others, tech.SPACING["met1"])
        assert bad.count() == 0, (net, [e.first.bbox() for e in bad.each()][:3])
