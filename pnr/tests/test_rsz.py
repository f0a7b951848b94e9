"""Timing repair (``pnr.engine.rsz``) and the long-lived OpenSTA session it drives.

The fast tests check the session protocol (multi-line scripts, results with newlines and
backslashes, Tcl errors) and the config/cell checks; the slow one runs ORFS's gcd through
synthesis, placement and CTS at ORFS's 1.1 ns clock, where hold fails at ss before the repair
(the capture clock's tree is slower than the SDC's 0.29 ns input latency assumes), and checks
the repaired design with a fresh OpenSTA run, and that gate sizing won setup slack.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from gptnano.design_config import load_design
from gptnano.opensta import StaSession, escape, load_script, unescape
from gptnano.pdk import corner_liberty, lambdapdk_dont_use, matches
from gptnano.step import StepContext, StepError
from pnr.engine import rsz
from pnr.engine.cts import estimate_wire_c_scale, usable


def test_escape_round_trip() -> None:
    text = "a\\b\nc\\n{d}"
    assert "\n" not in escape(text)
    assert unescape(escape(text)) == text


def test_session_runs_scripts_and_reports_errors(tmp_path: Path) -> None:
    with StaSession(tmp_path / "s.log") as sta:
        assert sta.eval("set x 3\nset y [expr {$x * 2}]") == "6"
        assert sta.eval('return "a\\nb\\\\c"') == "a\nb\\c"
        assert sta.eval("set y") == "6"          # state survives between requests
        with pytest.raises(StepError, match="no_such_command"):
            sta.eval("no_such_command 1")
        assert sta.eval("expr {1 + 1}") == "2"   # still in step after an error


def test_hold_cells_are_allowed_and_have_a_delay_arc() -> None:
    cells = rsz.hold_cells()
    assert cells and not [c for c in cells if matches(c, tuple(lambdapdk_dont_use()))]
    from pnr.engine import liberty

    lib = liberty.load("tt")
    delays = [lib.arc(c, "A", "X").delay(0.1, 0.005) for c in cells]
    assert max(delays) > 4 * min(delays)       # a real range of delays to choose from


def test_drive_families_are_ordered_and_allowed() -> None:
    from gptnano.pdk import flow_dont_use
    from pnr.engine import liberty

    fam = rsz.drive_families([liberty.load("tt"), liberty.load("ss")])
    p = "sky130_fd_sc_hd__"
    assert fam["nand2"][:3] == [f"{p}nand2_1", f"{p}nand2_2", f"{p}nand2_4"]
    assert fam["dfxtp"] == [f"{p}dfxtp_1", f"{p}dfxtp_2", f"{p}dfxtp_4"]
    assert "dlygate4sd3" not in fam and "a2111oi" in fam          # a2111oi_0 is dont-use
    assert f"{p}a2111oi_0" not in fam["a2111oi"]
    assert not [c for cells in fam.values() for c in cells if matches(c, flow_dont_use())]


def test_swappable_pins_follow_the_truth_table() -> None:
    from pnr.engine import liberty

    lib = liberty.load("tt")
    p = "sky130_fd_sc_hd__"
    assert rsz.swappable_pins(lib, f"{p}maj3_2", ["A", "B", "C"]) == [["A", "B", "C"]]
    assert rsz.swappable_pins(lib, f"{p}a311oi_2", ["A1", "A2", "A3", "B1", "C1"]) == [
        ["A1", "A2", "A3"], ["B1", "C1"]]
    # inverted inputs pair only with each other; a mux's data inputs never pair
    assert rsz.swappable_pins(lib, f"{p}a2bb2oi_1", ["A1_N", "A2_N", "B1", "B2"]) == [
        ["A1_N", "A2_N"], ["B1", "B2"]]
    assert rsz.swappable_pins(lib, f"{p}mux2_1", ["A0", "A1", "S"]) == []
    assert rsz.swappable_pins(lib, f"{p}nor2b_4", ["A", "B_N"]) == []
    assert rsz.swappable_pins(lib, f"{p}dfxtp_1", ["CLK", "D"]) == []   # state: no swaps


def test_trees_never_use_dont_use_buffers() -> None:
    from pnr.engine.cts import CLOCK_BUFFERS, SIGNAL_BUFFERS
    assert "sky130_fd_sc_hd__buf_16" in SIGNAL_BUFFERS          # listed, but Magic flags it
    assert "sky130_fd_sc_hd__buf_16" not in usable(SIGNAL_BUFFERS)
    assert usable(CLOCK_BUFFERS) == CLOCK_BUFFERS


def test_settings_over_defaults(tmp_path: Path) -> None:
    design = load_design("probe")
    given = design.extra.get("rsz") or {}
    assert rsz.settings(StepContext.standalone(design, tmp_path)) == {
        **rsz.DEFAULTS, **{k: float(v) for k, v in given.items()}}
    # the wire load estimate is the design's calibration, shared with CTS, or the declared
    # default (the probe sets its own)
    ctx = StepContext.standalone(design, tmp_path / "e")
    assert estimate_wire_c_scale(ctx) == design.extra["estimate"]["wire_c_scale"] != 3.4
    bare = dataclasses.replace(design, extra={k: v for k, v in design.extra.items()
                                              if k != "estimate"})
    assert estimate_wire_c_scale(StepContext.standalone(bare, tmp_path / "f")) == 3.4
    bare = dataclasses.replace(design, extra={k: v for k, v in design.extra.items()
                                              if k != "rsz"})
    assert rsz.settings(StepContext.standalone(bare, tmp_path / "a")) == rsz.DEFAULTS
    off = dataclasses.replace(design, extra={**design.extra, "rsz": {"size_rounds": 0}})
    assert rsz.settings(StepContext.standalone(off, tmp_path / "b"))["size_rounds"] == 0


@pytest.mark.slow
def test_gcd_hold_repaired_without_hurting_setup(tmp_path: Path) -> None:
    from flow.run_engine import run_flow
    from gptnano.netlist import read_netlist
    from pnr.engine import tech
    from pnr.engine.cts import _check_same_connectivity
    from pnr.engine.layout import Layout
    from pnr.engine.place import check_overlaps

    out = tmp_path / "gcd"
    metrics = run_flow("orfs_gcd", out, until="rsz")["rsz"]
    corners = ("ss", "tt", "ff")
    assert metrics["ws_hold_before_ns_ss"] < 0          # the problem exists before repair
    assert metrics["hold_buffers_added"] > 0 and metrics["hold_unfixed"] == 0
    for c in corners:
        assert metrics[f"ws_hold_after_ns_{c}"] >= 0
        # sizing never loses WS at a corner, hold repair never loses what sizing won
        assert metrics[f"ws_setup_sized_ns_{c}"] >= metrics[f"ws_setup_before_ns_{c}"] - 1e-4
        assert metrics[f"ws_setup_after_ns_{c}"] >= metrics[f"ws_setup_sized_ns_{c}"] - 1e-4
    report = json.loads((next(out.glob("*_rsz")) / "reports/rsz.json").read_text())
    moves = {m["move"] for m in report["resized"]}
    progress = (next(out.glob("*_rsz")) / "reports/rsz.log").read_text()
    assert "setup round 1/" in progress and "hold round 1/" in progress   # a long step talks
    assert moves >= {"swap", "split"}               # gcd's carry chain: C -> B, loads split
    assert metrics["pins_swapped"] + metrics["split_buffers_added"] > 0
    assert metrics["ws_setup_sized_ns_ss"] > metrics["ws_setup_before_ns_ss"]
    assert metrics["ws_setup_sized_ns_tt"] > metrics["ws_setup_before_ns_tt"] + 0.1
    step = next(out.glob("*_rsz"))
    vg, layout = step / "outputs/gcd.vg", Layout.load(step / "outputs/gcd.layout.json")
    _check_same_connectivity(layout, read_netlist(vg))
    added = [c for c in layout.components if c.name.startswith("hold_")]
    assert len(added) == metrics["hold_buffers_added"] and all(c.placed for c in added)
    check_overlaps(layout, (layout.core[2] - layout.core[0]) // tech.SITE_W)
    cells = {i.name: i.cell for i in read_netlist(vg).instances}
    for move in json.loads((step / "reports/rsz.json").read_text())["resized"]:
        assert layout.comp(move["instance"]).cell == cells[move["instance"]]
    # an independent OpenSTA run on the written netlist and the estimate agrees
    with StaSession(tmp_path / "check.log") as sta:
        sta.eval(load_script(corner_liberty("ss"), vg, "gcd", load_design("orfs_gcd").sdc,
                             step / "reports/gcd.est.spef"))
        assert float(sta.eval("sta::worst_slack -min")) >= 0
        # the setup WS the repair reports is what a fresh run sees (no trial edit that
        # dropped parasitics left a flattering number behind)
        ws = float(sta.eval("sta::worst_slack -max"))
        assert abs(ws - metrics["ws_setup_after_ns_ss"]) < 0.01


TWO_FLOPS = """module t (clk, d, q);
  input clk, d;
  output q;
  wire a, b;
  sky130_fd_sc_hd__dfxtp_1 f1 (.CLK(clk), .D(d), .Q(a));
  sky130_fd_sc_hd__inv_1 g1 (.A(a), .Y(b));
  sky130_fd_sc_hd__dfxtp_1 f2 (.CLK(clk), .D(b), .Q(q));
endmodule
"""


def test_setup_margin_makes_met_paths_targets(tmp_path: Path) -> None:
    """With ``setup_margin_ns`` the repair works on paths whose slack is positive but below the
    margin (repair_timing -setup_margin): the worst-path query returns them, and the score
    counts their shortfall; with the default 0 a met design has nothing to repair."""
    vg, sdc = tmp_path / "t.v", tmp_path / "t.sdc"
    vg.write_text(TWO_FLOPS)
    sdc.write_text("create_clock -name clk -period 10 [get_ports clk]\n")
    with StaSession(tmp_path / "s.log") as sta:
        sta.eval(load_script(corner_liberty("tt"), vg, "t", sdc, None))
        sta.eval(rsz.HELPERS_TCL)
        ws = float(sta.eval("gptnano_ws max")) / rsz.NS
        assert 5 < ws < 10                          # met, by less than the period
        repair = rsz.Repair.__new__(rsz.Repair)     # the query and score need no layout
        repair.sessions, repair.tns_weight, repair.sta_calls = {"tt": sta}, 0.0, 0
        repair.setup_margin = rsz.DEFAULTS["setup_margin_ns"]
        assert repair.setup_margin == 0.0
        assert repair.worst_paths("tt", 3) == [] and repair.score({"tt": (ws, 0.0)}) == 0.0
        repair.setup_margin = ws + 1.0
        paths = repair.worst_paths("tt", 3)
        assert paths and paths[0][-1] == "f2/D"     # the met path ends at f2, startpoint first
        assert repair.score({"tt": (ws, 0.0)}) == pytest.approx(-1.0)
        assert repair.score({"tt": (ws + 2.0, 0.0)}) == 0.0   # above the margin: no shortfall


# OpenSTA's path search through one pin: the reference the vertex slacks must match.
THROUGH_TCL = r"""
proc through_slack {pin kind} {
  set worst 1e30
  foreach pe [find_timing_paths -path_delay $kind -through [get_pins $pin] \
                -group_count 1 -endpoint_count 1] {
    if {[$pe slack] < $worst} { set worst [$pe slack] }
  }
  return $worst
}
"""


def test_batched_pin_slacks_match_path_search(tmp_path: Path) -> None:
    """``gptnano_pins_slack`` (vertex slacks, all pins in one request) gives the slack of the
    worst path through each pin that ``find_timing_paths -through`` gives, for setup and hold,
    and a pin on no constrained path gets ``INF``; ``query`` answers every corner's session."""
    vg, sdc = tmp_path / "t.v", tmp_path / "t.sdc"
    vg.write_text(TWO_FLOPS.replace("output q;", "output q;\n  input u;").replace(
        "module t (clk, d, q)", "module t (clk, d, q, u)").replace(
        "endmodule", "  sky130_fd_sc_hd__inv_1 g2 (.A(u), .Y());\nendmodule"))
    sdc.write_text("create_clock -name clk -period 10 [get_ports clk]\n"
                   "set_input_delay 1 -clock clk [get_ports d]\n")
    pins = ["f1/Q", "g1/A", "g1/Y", "f2/D", "f1/D", "g2/A"]
    with StaSession(tmp_path / "a.log") as tt, StaSession(tmp_path / "b.log") as ss:
        for corner, sta in (("tt", tt), ("ss", ss)):
            sta.eval(load_script(corner_liberty(corner), vg, "t", sdc, None))
            sta.eval(rsz.HELPERS_TCL + THROUGH_TCL)
        repair = rsz.Repair.__new__(rsz.Repair)
        repair.sessions, repair.corners, repair.sta_calls = {"tt": tt, "ss": ss}, ("tt", "ss"), 0
        for kind in ("max", "min"):
            got = repair.pins_slack(pins, kind)
            assert repair.sta_calls == (1 if kind == "max" else 2) * 2   # one per corner
            for corner, sta in (("tt", tt), ("ss", ss)):
                for pin in pins[:-1]:
                    ref = float(sta.eval(f"through_slack {pin} {kind}")) / rsz.NS
                    assert got[pin][corner] == pytest.approx(ref, abs=1e-6), (pin, kind)
                assert got["g2/A"][corner] == rsz.INF      # unconstrained: no path
        assert got["f2/D"]["ss"] != got["f2/D"]["tt"]        # each corner its own session


def test_setup_rounds_stop_when_they_stop_paying() -> None:
    """:class:`rsz.Convergence`: rounds go on while each raises the best score by the
    threshold (a share of the starting score); two rounds in a row below it stop the repair,
    but not right after a setback."""
    start = -100.0
    need = rsz.SETUP_MIN_GAIN * abs(start)
    conv = rsz.Convergence(start)
    assert conv.threshold() == pytest.approx(need)
    score = start
    for _ in range(5):                         # paying rounds never stop it
        score += 2 * need
        assert conv.update(score)
    assert conv.update(score + need / 2)       # one round below the threshold: go on
    assert not conv.update(score + need)       # the second in a row: stop
    assert "2 rounds" in conv.why and f"{need:.3f}" in conv.why

    conv = rsz.Convergence(start)
    assert conv.update(start + 10 * need)
    assert conv.update(start + 10.5 * need)
    assert conv.update(start + 5 * need)       # a setback: another round may recover it
    assert not conv.update(start + 10.6 * need)    # recovered without paying: stop


def test_trial_budget_shrinks_with_the_design() -> None:
    """The setup repair's trial bound is the work budget over the cell count: a gcd-sized
    design is never bound by it in practice, an aes-sized one gets a few hundred trials."""
    assert rsz.trial_budget(400) > 10_000
    assert 200 < rsz.trial_budget(10_000) < 1_000
    assert rsz.trial_budget(20_000) == rsz.trial_budget(10_000) // 2
    assert rsz.trial_budget(0) == int(rsz.SETUP_WORK_BUDGET)


def test_best_of_measures_only_the_best_screened_option_everywhere(tmp_path: Path) -> None:
    """:meth:`rsz.Repair.best_of`: every option is screened at the path's corner and undone;
    only the best there is measured at every corner and stays applied; an option that does not
    help is never measured beyond its corner."""
    vg, sdc = tmp_path / "t.v", tmp_path / "t.sdc"
    vg.write_text(TWO_FLOPS)
    # a heavy wire on g1's output: a stronger inverter is faster
    sdc.write_text("create_clock -name clk -period 10 [get_ports clk]\n"
                   "set_load 0.1 [get_nets b]\n")
    p = "sky130_fd_sc_hd__"
    with StaSession(tmp_path / "a.log") as tt, StaSession(tmp_path / "b.log") as ss:
        for corner, sta in (("tt", tt), ("ss", ss)):
            sta.eval(load_script(corner_liberty(corner), vg, "t", sdc, None))
            sta.eval(rsz.HELPERS_TCL)
        repair = rsz.Repair.__new__(rsz.Repair)
        repair.sessions, repair.corners = {"tt": tt, "ss": ss}, ("tt", "ss")
        repair.sta_calls, repair.trials, repair.tns_weight = 0, 0, 0.0
        state = repair.setup_state()
        repair.setup_margin = max(ws for ws, _ in state.values()) + 1.0   # both corners short

        def option(cell: str) -> tuple[str, str, str]:
            return cell, f"replace_cell g1 {p}{cell}", f"replace_cell g1 {p}inv_1"

        def gain(cell: str) -> float:
            got = repair.screen(*option(cell)[1:], "ss", state)
            repair.query({"ss": option(cell)[2]})
            return -1.0 if got is None else got[0]

        gains = {c: gain(c) for c in ("inv_1", "inv_2", "inv_4")}
        assert gains["inv_1"] == -1.0                   # no change, no gain: screened out
        best = max(gains, key=gains.__getitem__)
        assert gains[best] > 0
        repair.trials = 0
        won = repair.best_of([option(c) for c in ("inv_1", "inv_2", "inv_4")], "ss", state)
        assert won is not None and won[0] == best
        assert repair.trials == 3 + 1                   # three screens, one measure everywhere
        assert set(won[2]) == {"tt", "ss"} and won[2]["ss"][0] > state["ss"][0]
        for sta in (tt, ss):                            # the winner stays applied everywhere
            cell = sta.eval("get_full_name [get_lib_cells -of_objects [get_cells g1]]")
            assert cell.endswith(f"{p}{best}") or cell.endswith(best)
