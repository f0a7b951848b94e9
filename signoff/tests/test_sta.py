"""OpenSTA wrappers (signoff.sta, signoff.power): parsing and a real run on the probe netlist."""

from __future__ import annotations

import re
import shutil

import pytest

from gptnano import synth
from gptnano.design_config import load_design
from gptnano.pdk import corner_liberty
from gptnano.step import StepContext, StepError
from gptnano.toolargs import tcl_word
from signoff import power, sta


def test_parse_tagged() -> None:
    text = "junk\nGPTNANO setup_slack -1.25\nGPTNANO hold_slack 0.3\nGPTNANO setup_tns -4\n"
    assert sta.parse_tagged(text) == {"setup_slack": -1.25, "hold_slack": 0.3, "setup_tns": -4.0}


def test_parse_tagged_rejects_unconstrained_design() -> None:
    with pytest.raises(StepError, match="no constrained setup path"):
        sta.parse_tagged("GPTNANO setup_slack 1e+30\nGPTNANO hold_slack 0.1\n")
    with pytest.raises(StepError, match="no hold_slack"):
        sta.parse_tagged("GPTNANO setup_slack 1\n")


def test_fmax_and_pass() -> None:
    t = sta.CornerTiming("ss", setup_slack_ns=-2.5, setup_tns_ns=-10, hold_slack_ns=0.1,
                         hold_tns_ns=0, period_ns=10.0, parasitics="none")
    assert t.fmax_mhz == pytest.approx(1000 / 12.5)
    assert not t.passed
    assert t.metrics()["timing_met"] == 0


def test_parse_clock_skew() -> None:
    # report_clock_skew as OpenSTA 2.0.17 prints it (orfs_gcd after CTS), two clocks
    text = ("Clock core_clock\nLatency      CRPR       Skew\nn_724/CLK ^\n 0.2705\n"
            "n_732/CLK ^\n 0.2632    0.0000     0.0073\n\nClock other\n"
            "Latency      CRPR       Skew\na/CLK ^\n 0.9\nb/CLK ^\n 0.8    -0.0100     0.1200\n"
            "\nClock vclk_core_clock\nNo launch/capture paths found.\n")
    assert sta.parse_clock_skew(text) == pytest.approx(0.12)
    assert sta.parse_clock_skew("Clock vclk\nNo launch/capture paths found.\n") is None


def test_parse_power() -> None:
    text = ("Group  Internal Switching Leakage Total\n"
            "Total  1.0e-04 2.0e-04 3.0e-09 3.0e-04 100.0%\n")
    p = power.parse_power(text)
    assert p["dynamic_mw"] == pytest.approx(0.3)
    assert p["leakage_mw"] == pytest.approx(3e-6)
    assert p["total_mw"] == pytest.approx(0.3)


@pytest.fixture(scope="module")
def probe_ctx(tmp_path_factory) -> StepContext:
    design = load_design("probe")
    syn = StepContext.standalone(design, tmp_path_factory.mktemp("syn"))
    synth.run(syn)
    ctx = StepContext.standalone(design, tmp_path_factory.mktemp("sta"))
    shutil.copy(syn.output("vg"), ctx.inputs_dir / f"{design.top}.vg")
    return ctx


def test_corners_are_ordered_and_reported(probe_ctx: StepContext) -> None:
    by_corner = {c: sta.run(probe_ctx, c) for c in ("ss", "tt", "ff")}
    # Slow silicon is slower: setup slack ss < tt < ff on the same netlist.
    assert (by_corner["ss"]["setup_slack_ns"] < by_corner["tt"]["setup_slack_ns"]
            < by_corner["ff"]["setup_slack_ns"])
    for m in by_corner.values():
        assert m["parasitics"] == "none"
        period = probe_ctx.design.clock_period_ns
        assert m["fmax_mhz"] == pytest.approx(1000 / (period - m["setup_slack_ns"]), rel=1e-3)
    report = (probe_ctx.reports_dir / "setup.rpt").read_text()
    assert "slack" in report
    for m in by_corner.values():  # the probe's clock is one unbuffered net before CTS
        assert 0 <= m["clock_latency_min_ns"] <= m["clock_latency_max_ns"]
        assert m["clock_skew_setup_ns"] >= 0


def test_power_positive(probe_ctx: StepContext) -> None:
    m = power.run(probe_ctx)
    assert m["total_mw"] > 0 and m["leakage_mw"] > 0
    assert m["total_mw"] == pytest.approx(m["dynamic_mw"] + m["leakage_mw"], rel=1e-3)
    assert (probe_ctx.reports_dir / "power.rpt").is_file()


def test_missing_netlist_is_named(tmp_path) -> None:
    ctx = StepContext.standalone(load_design("probe"), tmp_path)
    with pytest.raises(StepError, match="missing input view"):
        sta.run(ctx, "tt")


def test_spef_that_does_not_match_the_netlist_is_an_error(probe_ctx: StepContext,
                                                           tmp_path) -> None:
    ctx = StepContext.standalone(probe_ctx.design, tmp_path)
    shutil.copy(probe_ctx.input("vg"), ctx.inputs_dir)
    (ctx.inputs_dir / f"{ctx.top}.spef").write_text(
        '*SPEF "IEEE 1481-1998"\n*DESIGN "probe_mac"\n*DATE "x"\n*VENDOR "x"\n*PROGRAM "x"\n'
        '*VERSION "1"\n*DESIGN_FLOW "NETLIST_TYPE_VERILOG"\n*DIVIDER /\n*DELIMITER :\n'
        "*BUS_DELIMITER [ ]\n*T_UNIT 1 NS\n*C_UNIT 1 PF\n*R_UNIT 1 OHM\n*L_UNIT 1 HENRY\n\n"
        "*D_NET no_such_net 0.01\n*CONN\n*P no_such_net O\n*CAP\n1 no_such_net 0.01\n*END\n")
    with pytest.raises(StepError, match="SPEF entries do not match"):
        sta.run(ctx, "tt")


def test_orfs_style_sdc_with_all_inputs_no_clocks_runs_unmodified(probe_ctx: StepContext,
                                                                   tmp_path) -> None:
    """ORFS's SDCs use ``all_inputs -no_clocks`` (current OpenSTA); the 2019 OpenSTA rejects it
    (``wrong # args``). The flow sources a compatibility proc, so the SDC runs as given and
    the clock port gets no input delay."""
    period = probe_ctx.design.clock_period_ns
    sdc = tmp_path / "constraint.sdc"
    sdc.write_text(
        f"current_design {probe_ctx.top}\nset clk_port [get_ports clk]\n"
        f"create_clock -name core_clock -period {period} $clk_port\n"
        f"create_clock -name vclk -period {period}\n"
        "set non_clock_inputs [all_inputs -no_clocks]\n"
        'puts "NONCLOCK [llength $non_clock_inputs] ALL [llength [all_inputs]]"\n'
        f"set_input_delay {period * 0.2} -clock vclk $non_clock_inputs\n"
        f"set_output_delay {period * 0.2} -clock vclk [all_outputs]\n")
    load = sta.load_script(corner_liberty("tt"), probe_ctx.input("vg"), probe_ctx.top, sdc, None)
    text = sta.run_sta(sta.timing_script(load, tmp_path), tmp_path, "orfs_sdc")
    counts = re.search(r"NONCLOCK (\d+) ALL (\d+)", text)
    assert counts and int(counts[1]) == int(counts[2]) - 1  # every input but clk
    assert sta.parse_tagged(text)["setup_slack"] < period
    bare = load.replace(f"source {tcl_word(sta.SDC_COMPAT_TCL)}\n", "")
    assert bare != load
    with pytest.raises(StepError, match="wrong # args|all_inputs"):
        sta.run_sta(sta.timing_script(bare, tmp_path), tmp_path, "orfs_sdc_bare")
