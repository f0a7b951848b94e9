"""Post-route antenna repair (pnr.engine.antenna_repair): an inverter far from the input port
that drives it gets a long met4 run on its gate (no diffusion on the net: limit 400); the
repair puts a diode next to it, the router joins it, and the signoff check then passes. Nets
without a violation keep their routes, and a layout with none is left as it was."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from gptnano.netlist import Instance, Netlist
from pnr.engine import antenna_check, antenna_repair, library, route_audit, tech
from pnr.engine.floorplan import build_floorplan
from pnr.engine.layout import Layout
from pnr.engine.route import Router

P = library.PREFIX
INV = f"{P}inv_1"


def _layout(tmp_path: Path, far: bool) -> Layout:
    """``a`` (input port, bottom edge) -> inv ``u1`` -> ``y`` (output port, top edge) in a
    140 um core; ``u1`` in the middle row near the right edge (``far``), or in the bottom row
    above port ``a``. (The core is sized by 40 dummy flops, removed before routing.)"""
    (tmp_path / "ant.vg").write_text(
        f"module ant(a, y);\ninput a; output y;\n{INV} u1 (.A(a), .Y(y));\n" +
        "".join(f"{P}dfxtp_4 pad{k} (.CLK(c{k}), .D(d{k}), .Q(q{k}));\n" for k in range(40)) +
        "endmodule\n")
    layout = build_floorplan("ant", tmp_path / "ant.vg", {"core_utilization": 0.05,
                                                          "core_margin_um": 10})
    layout.components = [c for c in layout.components if not c.name.startswith("pad")]
    layout.nets = {n: p for n, p in layout.nets.items() if n in ("a", "y")}
    y, orient = layout.rows[len(layout.rows) // 2 if far else 0]
    u1 = layout.comp("u1")
    x = layout.core[2] - 20 * tech.SITE_W if far else layout.ports["a"].rect[0]
    u1.x, u1.y, u1.orient, u1.placed = x // tech.SITE_W * tech.SITE_W, y, orient, True
    return layout


def _netlist() -> Netlist:
    return Netlist("ant", {"a": "input", "y": "output"},
                   [Instance("u1", INV, {"A": "a", "Y": "y"})])


def _routed(layout: Layout) -> Router:
    router = Router(layout)
    assert router.run() == []
    layout.routes = router.geometry()
    return router


def test_a_long_wire_to_one_gate_gets_a_diode_and_then_passes(tmp_path: Path) -> None:
    layout = _layout(tmp_path, far=True)
    router = _routed(layout)
    found = antenna_check.check_layout(layout)
    assert [(v["inst"], v["pin"]) for v in found] == [("u1", "A")]   # the case is real
    y_route = copy.deepcopy(layout.routes["y"])
    netlist = _netlist()
    out = antenna_repair.repair(layout, netlist, router)
    assert out.before == found and out.after == [] and out.unrepaired == []
    (diode,) = out.diodes
    name = str(diode["diode"])
    assert diode["net"] == "a" and diode["gate"] == "u1/A"
    assert float(diode["dist_um"]) <= antenna_repair.MAX_DIST_UM    # type: ignore[arg-type]
    # layout, netlist and routes agree, and the routes are still legal and pass the check
    assert layout.comp(name).cell == antenna_repair.DIODE and layout.comp(name).placed
    assert (name, "DIODE") in layout.nets["a"]
    assert [(i.name, i.conns) for i in netlist.instances if i.name == name] == \
        [(name, {"DIODE": "a"})]
    assert antenna_check.check_layout(layout) == []
    assert route_audit.audit(layout.routes) == []
    assert layout.routes["y"] == y_route                              # untouched net


def test_no_violation_no_change(tmp_path: Path) -> None:
    """u1 next to the input port: a short net, nothing to repair."""
    layout = _layout(tmp_path, far=False)
    router = _routed(layout)
    assert antenna_check.check_layout(layout) == []
    routes, comps = copy.deepcopy(layout.routes), list(layout.components)
    out = antenna_repair.repair(layout, _netlist(), router)
    assert (out.before, out.after, out.diodes) == ([], [], [])
    assert layout.routes == routes and layout.components == comps


@pytest.mark.parametrize(("ratio", "limit", "want"), [
    # a part with no diffusion: one diode (limit 2,774, x MARGIN 0.8 = 2,219) is plenty
    (557.8, 400.0, 1),
    # ... unless the ratio is close to that: 4 diodes, 1.74 um^2, limit 3,295 x 0.8 = 2,636
    (2600.0, 400.0, 4),
    # a part with a driver already: its diffusion (0.0225 um^2 at limit 2,609) is read back;
    # 7 diodes make 3.07 um^2, limit 3,828 x 0.8 = 3,062 (6 only 2,923)
    (3000.0, 2609.0, 7),
])
def test_diodes_needed(ratio: float, limit: float, want: int) -> None:
    diff = library.cells()[antenna_repair.DIODE].pins["DIODE"].antenna_diff_area
    assert antenna_repair.diodes_needed(ratio, limit, diff) == want
