"""Synthesis step (pnr.engine.synth): a P&R-ready sky130hd netlist from the probe RTL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pnr.design_config import load_design
from pnr.engine import synth
from pnr.engine.context import StepContext, StepError

DOT4 = Path(__file__).parent / "data" / "dot4" / "config.yaml"


@pytest.fixture(scope="module")
def probe_synth(tmp_path_factory) -> tuple[StepContext, dict]:
    ctx = StepContext.standalone(load_design("probe"), tmp_path_factory.mktemp("syn"))
    return ctx, synth.run(ctx)


def test_probe_netlist_is_place_and_route_ready(probe_synth) -> None:
    ctx, metrics = probe_synth
    text = ctx.output("vg").read_text()
    synth.check_netlist(ctx.output("vg"))  # raises on escaped/$ names, assigns, constants
    cells = re.findall(r"^\s*(sky130_fd_sc_hd__\w+)\s+\w+\s*\(", text, re.M)
    assert len(cells) == metrics["cells"] > 100
    # 8+8 operand flops, en/clear, 20-bit accumulator, valid: 39 registers in the RTL.
    assert metrics["registers"] == 39
    assert metrics["cellarea"] > 0
    banned = synth.lambdapdk_dont_use()
    used = set(cells)
    assert not used & set(banned)
    assert not [c for c in used if re.search(r"__(fill|tap|decap|diode|probe|lpflow)", c)]
    assert ctx.output("sdc").read_text() == ctx.design.sdc.read_text()


def test_abc_mode_from_argument_and_unknown_mode(tmp_path: Path) -> None:
    ctx = StepContext.standalone(load_design("probe"), tmp_path)
    with pytest.raises(StepError, match="unknown ABC mode"):
        synth.yosys_script(ctx, tmp_path / "x.lib", tmp_path / "x.vg", "magic")
    script = synth.yosys_script(ctx, tmp_path / "x.lib", tmp_path / "x.vg", "sized")
    period_ps = round(ctx.design.clock_period_ns * 1000)
    assert f"abc -D {period_ps} -script" in script  # the clock period is ABC's target


def test_drop_cells_removes_whole_groups() -> None:
    lib = ('library (x) {\n cell ("a__fill_1") { area : 1; pin (A) { x : "{"; } }\n'
           ' cell (a__nand2_1) { area : 2; pin (Y) { function : "!(A&B)"; } }\n}\n')
    text, removed = synth.drop_cells(lib, ("*__fill_*",))
    assert removed == ["a__fill_1"]
    assert "fill" not in text and "a__nand2_1" in text and text.count("{") == text.count("}")


def test_synth_liberty_has_no_dont_use_cells() -> None:
    text = synth.synth_liberty("tt").read_text()
    names = set(re.findall(r"\bcell\s*\(\s*\"?(\w+)", text))
    assert "sky130_fd_sc_hd__nand2_1" in names
    assert not names & set(synth.lambdapdk_dont_use())
    assert "sky130_fd_sc_hd__tapvpwrvgnd_1" not in names


def test_check_netlist_names_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.vg"
    bad.write_text("module m(a);\n input a;\n wire \\n$1 ;\n assign a = 1'b0;\nendmodule\n")
    with pytest.raises(StepError, match="escaped identifier at line 3"):
        synth.check_netlist(bad)


def test_parse_stat() -> None:
    text = ("   Number of cells:                 12\n"
            "     sky130_fd_sc_hd__dfrtp_1        3\n"
            "     sky130_fd_sc_hd__nand2_1        9\n\n"
            "   Chip area for module '\\top': 123.45\n")
    assert synth.parse_stat(text, "top") == {"cells": 12, "cellarea": 123.45, "registers": 3}


@pytest.mark.slow
def test_multiplier_block_abc_modes(tmp_path: Path) -> None:
    """The measurement behind DEFAULT_ABC_MODE (pnr/README.md): 'sized' costs a little area
    over 'area' and 'fast' is much larger on the multiplier-heavy block."""
    design = load_design(DOT4)
    area = {}
    for mode in ("sized", "area", "fast"):
        ctx = StepContext.standalone(design, tmp_path / mode)
        area[mode] = synth.run(ctx, mode)["cellarea"]
    assert area["area"] <= area["sized"] < area["fast"]
