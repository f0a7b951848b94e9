"""RC-tree SPEF (pnr.engine.spef) and the OpenRCX rules reader (pnr.engine.rcx), on a hand-made
two-inverter layout whose R and C can be added up by hand."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from pnr.engine import rcx, spef, tech
from pnr.engine.context import StepError
from pnr.engine.layout import Component, Layout, Port, grid_x, grid_y

INV = "sky130_fd_sc_hd__inv_1"
# u1.Y (li1 720..1050 x 1485..2465) is reached by an mcon at node (1, 4) shifted +180 nm;
# u2 sits 20 sites right, its A (li1 320..650 x 1075..1315) by an mcon at (21, 3) shifted -205.
# n1: met1 (1,4)-(5,4), met2 (5,0)-(5,4) down to port z at node (5, 0), met1 (5,3)-(21,3).
ROUTE = {"segs": [["met1", 1, 4, 5, 4], ["met2", 5, 0, 5, 4], ["met1", 5, 3, 21, 3]],
         "vias": [["L1M1", 1, 4, 180], ["L1M1", 21, 3, -205], ["M1M2", 5, 3], ["M1M2", 5, 4]],
         "patches": []}


def _layout() -> Layout:
    return Layout(
        top="two", die=(0, 0, 20000, 5440), core=(0, 0, 20000, 5440), rows=[(0, "N")],
        components=[Component("u1", INV, 0, 0, "N", placed=True),
                    Component("u2", INV, 9200, 0, "N", placed=True)],
        ports={"a": Port("a", "input", "met2", (2460, 0, 2600, 140), (5, 0)),
               "z": Port("z", "output", "met2", (2460, 0, 2600, 140), (5, 0))},
        nets={"n1": [("u1", "Y"), ("u2", "A"), ("PIN", "z")]},
        routes={"n1": ROUTE})


def _parse(text: str, net: str) -> tuple[float, dict[str, float], list[tuple[str, str, float]]]:
    block = text.split(f"*D_NET {net} ", 1)[1].split("*END", 1)[0]
    total = float(block.split()[0])
    caps = {m[0]: float(m[1]) for m in
            re.findall(r"^\d+ (\S+) (\S+)$", block.split("*CAP")[1].split("*RES")[0], re.M)}
    res = [(a, b, float(r)) for a, b, r in
           re.findall(r"^\d+ (\S+) (\S+) (\S+)$", block.split("*RES")[1], re.M)]
    return total, caps, res


def _path_r(res: list[tuple[str, str, float]], src: str, dst: str) -> float:
    """Resistance along the (unique) tree path from src to dst."""
    adj: dict[str, list[tuple[str, float]]] = {}
    for a, b, r in res:
        adj.setdefault(a, []).append((b, r))
        adj.setdefault(b, []).append((a, r))
    stack, seen = [(src, 0.0)], {src}
    while stack:
        node, acc = stack.pop()
        if node == dst:
            return acc
        for nxt, r in adj.get(node, []):
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, acc + r))
    raise AssertionError(f"{dst} not reachable from {src}")


def test_rules_units_match_the_tech_lef_sheet_resistance() -> None:
    # The typical rules' met1..met4 resistance must be the tech LEF's RPERSQ / width (ohm/um):
    # a unit slip (ohm/nm vs ohm/um) would be off by 1000.
    typ = rcx.layer_rc("typ")
    for layer, width_um in (("met1", 0.14), ("met2", 0.14), ("met3", 0.3), ("met4", 0.3)):
        assert typ[layer].res_ohm_per_um == pytest.approx(tech.SHEET_R[layer] / width_um,
                                                          rel=0.01)
        # ground C per um within 20 % of the LEF's area + 2 edges (pF/um)
        lef = width_um * tech.AREA_CAP[layer] + 2 * tech.EDGE_CAP[layer]
        assert typ[layer].cap_pf_per_um == pytest.approx(lef, rel=0.2)
    lo, hi = rcx.layer_rc("min"), rcx.layer_rc("max")
    assert all(lo[m].res_ohm_per_um < typ[m].res_ohm_per_um < hi[m].res_ohm_per_um
               for m in typ)


def test_rules_reader_rejects_a_file_that_is_not_rules(tmp_path: Path) -> None:
    bad = tmp_path / "x.rules"
    bad.write_text("Metal 2 OVER 0\nDIST count 1 width 0.14\n0.1 zero 0 0\nEND DIST\n")
    with pytest.raises(StepError, match=r"x\.rules:3: unexpected rules line"):
        rcx.parse_rules(bad)
    with pytest.raises(StepError, match="unknown extraction corner"):
        rcx.layer_rc("slow")


def test_tree_totals_and_path_resistance_by_hand(tmp_path: Path) -> None:
    path = tmp_path / "two.spef"
    stats: dict[str, int] = {}
    # ground C only, the default (the coupling model has its own test below)
    assert spef.write_spef(_layout(), path, stats=stats) == 1
    assert stats == {"links": 0}
    for corner, target in (("max", path), ("min", tmp_path / "two.min.spef")):
        m = rcx.layer_rc(corner)
        r1, c1 = m["met1"].res_ohm_per_um, m["met1"].cap_pf_per_um * 1000  # fF/um
        r2, c2 = m["met2"].res_ohm_per_um, m["met2"].cap_pf_per_um * 1000
        total, caps, res = _parse(target.read_text(), "n1")
        met1_um, met2_um, stubs_um = 1.84 + 7.36, 4 * 0.34, 0.18 + 0.205
        assert total == pytest.approx(c1 * (met1_um + stubs_um) + c2 * met2_um, abs=1e-4)
        assert sum(caps.values()) == pytest.approx(total, abs=1e-4)
        assert sum(r for *_, r in res) == pytest.approx(
            r1 * (met1_um + stubs_um) + r2 * met2_um + 2 * 4.5 + 2 * 9.3, abs=1e-3)
        # driver -> load: mcon, stub, 1.84 um met1, via, 0.34 um met2, via, 7.36 um met1, mcon
        assert _path_r(res, "u1:Y", "u2:A") == pytest.approx(
            2 * 9.3 + 2 * 4.5 + r1 * (0.18 + 1.84 + 7.36 + 0.205) + r2 * 0.34, abs=1e-3)
        # the port sits on its met2 node: 3 met2 pitches from the lower via
        assert _path_r(res, "u1:Y", "z") == pytest.approx(
            9.3 + r1 * (0.18 + 1.84) + 4.5 + r2 * 4 * 0.34, abs=1e-3)
        assert len(res) == 8      # 2 met1 + 2 met2 pieces, 2 vias, 2 mcons: a tree
        # one pi per piece: the port node holds half of its 1.02 um met2 piece
        assert caps["z"] == pytest.approx(c2 * 1.02 / 2, abs=1e-5)


def test_tree_spef_is_deterministic_and_star_model_kept(tmp_path: Path) -> None:
    a, b = tmp_path / "a.spef", tmp_path / "b.spef"
    spef.write_spef(_layout(), a)
    spef.write_spef(_layout(), b)

    def body(p: Path) -> list[str]:
        return [x for x in p.read_text().splitlines() if not x.startswith("*DATE")]
    assert body(a) == body(b)
    assert body(a) != body(tmp_path / "a.min.spef")       # min corner: lower resistance
    star = tmp_path / "star.spef"
    spef.write_spef(_layout(), star, model="star")
    cap, res = spef.net_rc(ROUTE)
    assert f"*D_NET n1 {cap:.6g}" in star.read_text()
    assert not (tmp_path / "star.min.spef").exists()


def test_disconnected_geometry_is_linked(tmp_path: Path) -> None:
    layout = _layout()
    layout.routes = {"n1": {**ROUTE, "vias": [v for v in ROUTE["vias"] if v != ["M1M2", 5, 3]]}}
    stats: dict[str, int] = {}
    spef.write_spef(layout, tmp_path / "gap.spef", corners=("max",), stats=stats)
    assert stats["links"] == 1
    _, _, res = _parse((tmp_path / "gap.spef").read_text(), "n1")
    assert _path_r(res, "u1:Y", "u2:A") > 0


def test_coupling_to_neighbours_and_crossings() -> None:
    # a: met1 on track j=4 from i=0 to 10; b: met1 one track up over i=2..6; c: met2 crossing
    # a at i=5; a VGND rail below a, 200 nm from a's edge, over x 0..920
    y4 = grid_y(4)
    layout = Layout(top="t", die=(0, 0, 10000, 5000), core=(0, 0, 10000, 5000), rows=[],
                    components=[], ports={}, nets={},
                    routes={"a": {"segs": [["met1", 0, 4, 10, 4]]},
                            "b": {"segs": [["met1", 2, 5, 6, 5]]},
                            "c": {"segs": [["met2", 5, 0, 5, 8]]}},
                    power=[("VGND", "met1", (0, y4 - 750, 920, y4 - 270))])
    nb = spef.Neighbours(layout)
    lo, hi = grid_x(0), grid_x(10)
    # aF: b over 4 pitches, then the rail over 0.69 um (a starts at x = 230)
    side = 45 * (4 * 460 / 1000) / 0.2 + 45 * (690 / 1000) / 0.2
    assert nb.coupling_pf("a", "met1", 4, lo, hi) == pytest.approx(side * 1e-6)
    # one met1 x met2 crossing: 0.14 x 0.14 um at 134 aF/um^2, met2's two edges over met1
    # (67 aF/um) and met1's two under met2 (48): 34.8264 aF -- the value Magic's .ext lists
    # for such a crossing in the probe layout
    assert nb.crossing_pf("a", "met1", 4, lo, hi) == pytest.approx(34.8264e-6)
    # split at the crossing, the two pieces share it
    mid = grid_x(5)
    assert nb.crossing_pf("a", "met1", 4, lo, mid) + nb.crossing_pf("a", "met1", 4, mid, hi) \
        == pytest.approx(34.8264e-6)
    assert nb.coupling_pf("b", "met1", 5, grid_x(2), grid_x(6)) == pytest.approx(
        45 * 1.84 / 0.2 * 1e-6)
    # piece_pf: the same two values, computed once and then served from the cache
    assert nb.piece_pf("a", "met1", 4, lo, hi) == (nb.coupling_pf("a", "met1", 4, lo, hi),
                                                   nb.crossing_pf("a", "met1", 4, lo, hi))
    nb.tracks.clear()                       # the geometry is gone; the cached piece is not
    assert nb.piece_pf("a", "met1", 4, lo, hi)[0] == pytest.approx(side * 1e-6)
    assert nb.piece_pf("a", "met1", 4, lo, mid)[1] == 0.0   # a new piece: met2 c is gone


@pytest.mark.skipif(shutil.which("sta") is None, reason="OpenSTA not installed")
def test_opensta_reads_the_tree_and_the_min_corner_for_hold(tmp_path: Path) -> None:
    from gptnano.pdk import corner_liberty
    from gptnano.toolargs import tcl_word
    from signoff import sta
    vg = tmp_path / "two.vg"
    vg.write_text("module two(a, z);\n input a; output z; wire n1;\n"
                  f" {INV} u1 (.A(a), .Y(n1));\n {INV} u2 (.A(n1), .Y(z));\n"
                  "endmodule\n")
    layout = _layout()
    layout.nets = {"n1": [("u1", "Y"), ("u2", "A")]}
    spef.write_spef(layout, tmp_path / "two.spef")
    load = (f"read_liberty {tcl_word(corner_liberty('tt'))}\nread_verilog {tcl_word(vg)}\n"
            "link_design two\ncreate_clock -name c -period 10\n"
            f"set_input_delay 1 -clock c [get_ports a]\n"
            f"set_output_delay 1 -clock c [get_ports z]\n"
            f"read_spef {tcl_word(tmp_path / 'two.spef')}\n")
    script = sta.timing_script(load, tmp_path, tmp_path / "two.min.spef")
    # setup results come before the min SPEF is read, hold results after it
    assert script.index("setup_slack") < script.index("two.min.spef") < script.index(
        "hold_slack")
    values = sta.parse_tagged(sta.run_sta(script, tmp_path, "two"))  # raises on SPEF mismatch
    assert values["setup_slack"] > 0


def test_sidewall_couples_to_the_nearest_shape_within_the_halo() -> None:
    # Magic's nearest-neighbour rule: a (met1, track 4, i 0..10); on track 6 (2 pitches: 540 nm
    # apart edge to edge) b over i 0..5 and, behind it on track 8, c over i 0..10: c faces a
    # only where b does not (i 5..10); below, the net's own wire on track 2 shields d on track 1
    y = grid_y(4)
    layout = Layout(top="t", die=(0, 0, 10000, 5000), core=(0, 0, 10000, 5000), rows=[],
                    components=[], ports={}, nets={},
                    routes={"a": {"segs": [["met1", 0, 4, 10, 4], ["met1", 0, 2, 10, 2]]},
                            "b": {"segs": [["met1", 0, 6, 5, 6]]},
                            "c": {"segs": [["met1", 0, 8, 10, 8]]},
                            "d": {"segs": [["met1", 0, 1, 10, 1]]}},
                    power=[])
    assert grid_y(6) - y == 2 * 340
    nb = spef.Neighbours(layout)
    half_um = 5 * 460 / 1000
    expect = 45 * half_um / 0.54 + 45 * half_um / (4 * 0.34 - 0.14)
    assert nb.coupling_pf("a", "met1", 4, grid_x(0), grid_x(10)) == pytest.approx(expect * 1e-6)
    # beyond the 2 um halo nothing couples: met1 track 11 is 7 pitches (2.24 um) away
    far = Layout(top="t", die=(0, 0, 10000, 5000), core=(0, 0, 10000, 5000), rows=[],
                 components=[], ports={}, nets={},
                 routes={"a": {"segs": [["met1", 0, 4, 10, 4]]},
                         "e": {"segs": [["met1", 0, 11, 10, 11]]}}, power=[])
    assert spef.Neighbours(far).coupling_pf("a", "met1", 4, grid_x(0), grid_x(10)) == 0.0
