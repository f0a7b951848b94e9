"""The core PDK module (gptnano.pdk): corner table, Liberty cache, dont-use catalogue."""

from __future__ import annotations

import re

import pytest

from gptnano import pdk
from gptnano.step import StepError


@pytest.mark.parametrize("name", sorted(pdk.CORNERS))
def test_corner_table_agrees_with_the_liberty_it_names(name: str) -> None:
    corner = pdk.CORNERS[name]
    head = pdk.corner_liberty(name).read_text()[:20000]
    assert re.search(rf'\blibrary\s*\(\s*"?{corner.liberty}"?\s*\)', head)
    voltage = float(re.search(r"\bnom_voltage\s*:\s*([-\d.]+)", head).group(1))
    temperature = float(re.search(r"\bnom_temperature\s*:\s*([-\d.]+)", head).group(1))
    assert (voltage, temperature) == (corner.voltage_v, corner.temperature_c)


def test_unknown_corner_is_named() -> None:
    with pytest.raises(StepError, match="unknown corner 'xx'"):
        pdk.corner_liberty("xx")


def test_drop_cells_removes_whole_groups_with_braces_in_strings() -> None:
    lib = ('library (x) {\n cell ("a__fill_1") { area : 1; pin (A) { x : "}{"; } }\n'
           ' cell (a__nand2_1) { area : 2; pin (Y) { function : "!(A&B)"; } }\n}\n')
    text, removed = pdk.drop_cells(lib, ("*__fill_*",))
    assert removed == ["a__fill_1"]
    assert "fill" not in text and "a__nand2_1" in text


def test_filtered_liberties_keep_out_their_lists() -> None:
    def names(path) -> set[str]:
        return set(re.findall(r'\bcell\s*\(\s*"?(\w+)', path.read_text()))

    full = names(pdk.corner_liberty("tt"))
    flow = names(pdk.filtered_liberty("tt", pdk.flow_dont_use(), "synth"))
    dft = names(pdk.filtered_liberty("tt", pdk.DFT_DONT_USE, "dft"))
    assert {"sky130_fd_sc_hd__nand2_1", "sky130_fd_sc_hd__dfxtp_1"} <= flow & dft
    assert not flow & (set(pdk.lambdapdk_dont_use()) | {"sky130_fd_sc_hd__conb_1"})
    # DFT keeps scan-unfriendly cells out that the physical flow may use, and vice versa
    assert "sky130_fd_sc_hd__dlxtp_1" in flow and "sky130_fd_sc_hd__dlxtp_1" not in dft
    assert "sky130_fd_sc_hd__a222oi_1" in dft and "sky130_fd_sc_hd__a222oi_1" not in flow
    for kept in (flow, dft):
        assert not {c for c in kept if pdk.matches(c, pdk.PHYSICAL_ONLY)}
        assert kept < full
