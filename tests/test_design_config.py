"""Design configs are checked once, with errors that name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from gptnano.design_config import DesignConfigError, design_names, load_design


def write_config(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "constraint.sdc").write_text("create_clock -period 10 [get_ports clk]\n")
    path = folder / "config.yaml"
    path.write_text(body)
    return path


def test_unknown_design_lists_known_ones() -> None:
    with pytest.raises(DesignConfigError, match="known designs"):
        load_design("no_such_design")


def test_missing_key_is_named(tmp_path: Path) -> None:
    path = write_config(tmp_path / "d", "rtl: []\nclock: {port: clk, period_ns: 5}\n")
    with pytest.raises(DesignConfigError, match="'top'"):
        load_design(path)


def test_missing_rtl_file_is_named(tmp_path: Path) -> None:
    body = "top: t\nrtl: [nowhere/x.v]\nclock: {port: clk, period_ns: 5}\n"
    path = write_config(tmp_path / "d", body)
    with pytest.raises(DesignConfigError, match="nowhere/x.v"):
        load_design(path)


def test_bad_period_and_corner(tmp_path: Path) -> None:
    rtl = tmp_path / "t.v"
    rtl.write_text("module t(input clk); endmodule\n")
    base = f"top: t\nrtl: [{rtl}]\n"
    with pytest.raises(DesignConfigError, match="period_ns"):
        load_design(write_config(tmp_path / "a", base + "clock: {port: clk, period_ns: -1}\n"))
    with pytest.raises(DesignConfigError, match="unknown corners"):
        body = base + "clock: {port: clk, period_ns: 5}\ncorners: [hot]\n"
        load_design(write_config(tmp_path / "b", body))


def test_every_shipped_design_loads() -> None:
    for name in design_names():
        cfg = load_design(name)
        assert cfg.top and cfg.rtl and cfg.clock_period_ns > 0


def test_timing_setup_mode_is_checked(tmp_path: Path) -> None:
    rtl = tmp_path / "t.v"
    rtl.write_text("module t(input clk); endmodule\n")
    base = f"top: t\nrtl: [{rtl}]\nclock: {{port: clk, period_ns: 5}}\n"
    assert load_design(write_config(tmp_path / "a", base)).setup_mode == "signoff"
    report = load_design(write_config(tmp_path / "b", base + "timing: {setup: report}\n"))
    assert report.setup_mode == "report" and "timing" not in report.extra
    with pytest.raises(DesignConfigError, match="timing.setup must be one of"):
        load_design(write_config(tmp_path / "c", base + "timing: {setup: waive}\n"))
    with pytest.raises(DesignConfigError, match=r"timing: unknown keys \['hold'\]"):
        load_design(write_config(tmp_path / "d", base + "timing: {hold: report}\n"))


def test_setup_report_mode_keeps_hold_as_a_signoff_check() -> None:
    from flow.tasks.steps import timing_violations

    bad_setup = {"setup_slack_ns": -1.5, "hold_slack_ns": 0.1}
    bad_hold = {"setup_slack_ns": 0.5, "hold_slack_ns": -0.2}
    assert timing_violations(bad_setup, "tt", "signoff") == ["setup slack -1.5 ns < 0 at corner tt"]
    assert timing_violations(bad_setup, "tt", "report") == []
    assert timing_violations(bad_hold, "ss", "report") == ["hold slack -0.2 ns < 0 at corner ss"]
    assert timing_violations({}, "ff", "report") == ["no setup slack reported",
                                                     "no hold slack reported"]
