"""The user's SDC is checked right after synthesis, naming the user's file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from gptnano.sdc_check import check_constraints
from gptnano.step import StepError

NETLIST = """module t (clk, d, q);
  input clk; input d; output q;
  sky130_fd_sc_hd__dfxtp_1 r (.CLK(clk), .D(d), .Q(q));
endmodule
"""
GOOD = ("create_clock -name clk -period 10 [get_ports clk]\n"
        "set_input_delay 1 -clock clk [get_ports d]\n")



def _check(tmp_path: Path, sdc_text: str, clock_port: str = "clk") -> None:
    netlist = tmp_path / "t.vg"
    netlist.write_text(NETLIST)
    sdc = tmp_path / "constraint.sdc"
    sdc.write_text(sdc_text)
    check_constraints("tt", netlist, "t", sdc, clock_port, tmp_path)


def test_good_sdc_passes(tmp_path: Path) -> None:
    _check(tmp_path, GOOD)


@pytest.mark.parametrize(("text", "message"), [
    ("create_clok -period 3 [get_ports clk]\n",
     r"constraint.sdc, 1 invalid command name \"create_clok\""),
    (GOOD + "set_output_delay 1 -clock clk [get_ports qq]\n",
     r"constraint.sdc, 3 .*'qq' not found"),
    ("set_input_delay 1 [get_ports d]\n", "no clock is defined"),
])
def test_sdc_problems_name_the_users_file_and_line(tmp_path: Path, text: str,
                                                   message: str) -> None:
    with pytest.raises(StepError, match=message) as info:
        _check(tmp_path, text)
    assert f"SDC check of {tmp_path / 'constraint.sdc'}" in str(info.value)


def test_clock_port_of_the_config_must_exist(tmp_path: Path) -> None:
    with pytest.raises(StepError, match="clock port 'clock' .* is not a port"):
        _check(tmp_path, GOOD, clock_port="clock")


def test_flow_stops_at_syn_naming_the_users_sdc(tmp_path: Path, monkeypatch) -> None:
    """Issue 16: an SDC typo surfaced only at STA, ten minutes later, naming an internal copy.
    Now the syn node fails on it, naming the design's own file and the line."""
    import json

    from flow import cli
    from gptnano.design_config import DESIGNS_DIR

    folder = tmp_path / "d"
    folder.mkdir()
    config = (DESIGNS_DIR / "probe" / "config.yaml").read_text()
    (folder / "config.yaml").write_text(config.replace("rtl: [designs/", "rtl: [" + str(
        DESIGNS_DIR) + "/"))
    sdc = (DESIGNS_DIR / "probe" / "constraint.sdc").read_text().splitlines()
    typo = next(i for i, line in enumerate(sdc) if line.startswith("set_load"))
    sdc[typo] = sdc[typo].replace("set_load", "set_lod")
    (folder / "constraint.sdc").write_text("\n".join(sdc) + "\n")
    monkeypatch.setenv("GPTNANO_BUILD", str(tmp_path / "build"))
    assert cli.main(["--design", str(folder / "config.yaml"), "--quiet"]) == cli.EXIT_FAILED
    body = json.loads((tmp_path / "build/probe/job0/syn/0/reports/metrics.json").read_text())
    assert body["status"] == "error"
    assert f"SDC check of {folder / 'constraint.sdc'}" in body["error"]
    assert f'constraint.sdc, {typo + 1} invalid command name "set_lod"' in body["error"]
    record = json.loads((tmp_path / "build/probe/job0/signoff.json").read_text())
    assert "floorplan" in record["not_run"]
