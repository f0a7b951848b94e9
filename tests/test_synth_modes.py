"""The one synthesis entry point (gptnano.synth): its modes map onto the right Liberty."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gptnano import pdk, synth
from gptnano.design_config import load_design
from gptnano.step import StepError


def cells_of(netlist: Path) -> list[str]:
    return re.findall(r"^\s*(sky130_fd_sc_hd__\w+)\s+\S+\s*\(", netlist.read_text(), re.M)


def test_dft_mode_keeps_out_what_a_scan_chain_cannot_test(tmp_path: Path) -> None:
    design = load_design("probe")
    out = tmp_path / "probe.vg"
    metrics = synth.synthesize(design.rtl, design.top, out, tmp_path / "r", "dft")
    used = cells_of(out)
    assert metrics["cells"] == len(used) and metrics["registers"] == 39
    assert not [c for c in used if pdk.matches(c, pdk.DFT_DONT_USE)]
    assert (tmp_path / "r" / "synth.ys").read_text().count("abc -liberty") == 1


def test_unknown_mode_and_yosys_are_named(tmp_path: Path) -> None:
    design = load_design("probe")
    with pytest.raises(StepError, match="unknown synthesis mode 'magic'"):
        synth.synthesize(design.rtl, design.top, tmp_path / "x.vg", tmp_path, "magic")
    with pytest.raises(StepError, match="synth.yosys must be one of"):
        synth.synthesize(design.rtl, design.top, tmp_path / "x.vg", tmp_path, "dft",
                         yosys="0.9")
    with pytest.raises(StepError, match="needs the clock period"):
        synth.synthesize(design.rtl, design.top, tmp_path / "x.vg", tmp_path, "flow")
