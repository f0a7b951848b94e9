"""Synthesis step (gptnano.synth): a P&R-ready sky130hd netlist from the probe RTL."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from gptnano import pdk, synth
from gptnano.design_config import load_design
from gptnano.step import StepContext, StepError

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
    banned = pdk.lambdapdk_dont_use()
    used = set(cells)
    assert not used & set(banned)
    assert not [c for c in used if re.search(r"__(fill|tap|decap|diode|probe|lpflow)", c)]
    assert ctx.output("sdc").read_text() == ctx.design.sdc.read_text()


def test_abc_mode_from_argument_and_unknown_mode(tmp_path: Path) -> None:
    ctx = StepContext.standalone(load_design("probe"), tmp_path)
    with pytest.raises(StepError, match="unknown ABC mode"):
        synth.yosys_script(ctx, tmp_path / "x.lib", tmp_path / "x.vg", "magic")
    lib = synth.synth_liberty("tt")
    script = synth.yosys_script(ctx, lib, tmp_path / "x.vg", "sized")
    # ABC's target: the clock period less the flop's clock-to-Q and setup at the Liberty,
    # in ABC's delay model
    clk_q, setup = synth.register_overhead_ns(lib)
    assert 0.1 < clk_q < 1.0 and 0.0 < setup < 0.5      # tt sky130_fd_sc_hd__dfxtp_1
    target_ps = round((ctx.design.clock_period_ns - clk_q - setup) * synth.ABC_DELAY_SCALE
                      * 1000)
    assert f"abc -D {target_ps} -script" in script


def test_target_period_replaces_the_clock_in_abc_target(tmp_path: Path) -> None:
    """``synth.target_period_ns`` is the period ABC's -D is derived from (the SDC keeps the
    clock); null or absent means the clock period; a non-positive value is rejected."""
    import dataclasses

    from gptnano.design_config import DesignConfigError

    design = load_design("probe")
    assert synth.abc_period_ns(design) == design.clock_period_ns
    lib = synth.synth_liberty("tt")
    clk_q, setup = synth.register_overhead_ns(lib)
    shorter = design.clock_period_ns / 2
    tight = dataclasses.replace(design, extra={
        **design.extra, "synth": {**design.extra.get("synth", {}), "target_period_ns": shorter}})
    assert synth.abc_period_ns(tight) == shorter
    script = synth.yosys_script(StepContext.standalone(tight, tmp_path), lib,
                                tmp_path / "x.vg", "sized")
    target_ps = round((shorter - clk_q - setup) * synth.ABC_DELAY_SCALE * 1000)
    assert f"abc -D {target_ps} -script" in script
    folder = tmp_path / "d"
    shutil.copytree(design.folder, folder)
    cfg = folder / "config.yaml"
    cfg.write_text(cfg.read_text() + "\nsynth: {target_period_ns: 0}\n")
    with pytest.raises(DesignConfigError, match="target_period_ns"):
        load_design(cfg)


def test_drop_cells_removes_whole_groups() -> None:
    lib = ('library (x) {\n cell ("a__fill_1") { area : 1; pin (A) { x : "{"; } }\n'
           ' cell (a__nand2_1) { area : 2; pin (Y) { function : "!(A&B)"; } }\n}\n')
    text, removed = pdk.drop_cells(lib, ("*__fill_*",))
    assert removed == ["a__fill_1"]
    assert "fill" not in text and "a__nand2_1" in text and text.count("{") == text.count("}")


def test_synth_liberty_has_no_dont_use_cells() -> None:
    text = synth.synth_liberty("tt").read_text()
    names = set(re.findall(r"\bcell\s*\(\s*\"?(\w+)", text))
    assert "sky130_fd_sc_hd__nand2_1" in names
    assert not names & set(pdk.lambdapdk_dont_use())
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


# What broke gqmv_small (rtl/gqmv_small.v, generated by Amaranth): constant outputs (tie cell
# conb_1, which is not in the mapping Liberty), public names only Verilog escaping can spell
# (\$22, \xbuf[0]) and an internal bus bit aliased to such a name.
GENERATED_RTL = r"""
module gen(clk, d, en, q, k, busy, ready, len);
  input clk; input [3:0] d; input en;
  output [3:0] q; output [1:0] k; output busy; output ready; output [1:0] len;
  reg [3:0] \xbuf[0] = 4'h0;
  reg [5:0] \csr.length = 6'h00;
  wire \$22 ;
  always @(posedge clk) begin
    if (en) \xbuf[0] <= d;
    \csr.length <= {\csr.length [4:0], en};
  end
  assign \$22 = \csr.length [0];
  assign q = \xbuf[0] ^ {4{\$22 }};
  assign k = 2'b00;
  assign busy = en;
  assign ready = en;
  assign len = \csr.length [5:4];
endmodule
"""


def test_generated_rtl_names_and_constants(tmp_path: Path) -> None:
    (tmp_path / "gen.v").write_text(GENERATED_RTL)
    (tmp_path / "constraint.sdc").write_text("create_clock -period 10 [get_ports clk]\n")
    (tmp_path / "config.yaml").write_text(
        f"top: gen\nrtl: [{tmp_path / 'gen.v'}]\nclock: {{port: clk, period_ns: 10}}\n")
    ctx = StepContext.standalone(load_design(tmp_path / "config.yaml"), tmp_path / "syn")
    metrics = synth.run(ctx)  # check -assert used to fail: the tie net looked undriven
    synth.check_netlist(ctx.output("vg"))
    text = ctx.output("vg").read_text()
    cells = re.findall(r"^\s*(sky130_fd_sc_hd__\w+)\s+\w+\s*\(", text, re.M)
    assert synth.TIE_CELL in cells
    assert metrics["cells"] == len(cells)       # the tie cell is counted (and its area)
    assert metrics["registers"] == 10
    # buffers only where an output port is driven by another port's net or a shared tie:
    # busy and ready (both en), k[1] (k[0] holds the tie net); none on the \$22 alias
    assert cells.count(synth.BUFFER_CELL) == 3
    assert "\\" not in text and "$" not in text
