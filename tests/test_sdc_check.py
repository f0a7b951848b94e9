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
