"""Synthesis for timing: ABC really gets the clock as its delay target, and both yosys builds
(Debian's 0.23, the virtualenv's pyosys 0.60) give P&R-ready netlists the flow can read."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest

from gptnano import synth
from gptnano.design_config import load_design
from gptnano.step import StepContext, StepError
from pnr.engine import bench_synth

STAT_060 = """=== gcd ===
      199 2.24E+03 cells
        3   15.014   sky130_fd_sc_hd__a21oi_1
        3   60.058   sky130_fd_sc_hd__dfxtp_1
       32  960.922   sky130_fd_sc_hd__edfxtp_1
   Chip area for module '\\gcd': 2235.894400
"""


def test_abc_script_file_carries_the_delay_target(tmp_path: Path) -> None:
    """yosys substitutes ``{D}`` only in its own scripts: the file must hold the number."""
    ctx = StepContext.standalone(load_design("orfs_gcd"), tmp_path)
    lib = synth.synth_liberty("tt")
    synth.yosys_script(ctx, lib, tmp_path / "x.vg", "sized")
    text = (ctx.reports_dir / "abc.script").read_text()
    assert "{D}" not in text
    # &nf, upsize, dnsize at ORFS's 1.1 ns clock less the flop's clock-to-Q and setup
    target_ps = round(synth.abc_delay_target_ns(1.1, lib) * 1000)
    assert 250 < target_ps < 1000
    assert text.count(f"-D {target_ps}") == 3


def test_abc_buffering_follows_the_config(tmp_path: Path) -> None:
    """``synth: {abc_buffers: false}`` takes ``buffer -p`` out of the sized script (and only
    that: sizing stays), so high-fanout nets reach the engine unbuffered."""
    design = load_design("orfs_gcd")
    lib = synth.synth_liberty("tt")
    scripts = {}
    for flag in (True, False):
        cfg = dataclasses.replace(design, extra={**design.extra, "synth": {"abc_buffers": flag}})
        ctx = StepContext.standalone(cfg, tmp_path / str(flag))
        synth.yosys_script(ctx, lib, tmp_path / "x.vg", "sized")
        scripts[flag] = (ctx.reports_dir / "abc.script").read_text().splitlines()
    assert "buffer -p" in scripts[True]
    assert "buffer -p" not in scripts[False]
    assert [line for line in scripts[True] if line != "buffer -p"] == scripts[False]


def test_delay_target_is_the_period_less_the_register_overhead() -> None:
    """At ss the flop's clock-to-Q and setup are ~2.5 ns of a 25 ns clock (``design/README``);
    a period shorter than the overhead is refused with the numbers."""
    lib = synth.synth_liberty("ss")
    clk_q, setup = synth.register_overhead_ns(lib)
    assert 1.0 < clk_q < 3.0 and 0.3 < setup < 1.5
    assert synth.abc_delay_target_ns(25.0, lib) == pytest.approx(
        (25.0 - clk_q - setup) * synth.ABC_DELAY_SCALE)
    with pytest.raises(StepError, match="shorter than the register overhead"):
        synth.abc_delay_target_ns(1.0, lib)


def test_stat_of_yosys_060_is_read() -> None:
    assert synth.parse_stat(STAT_060, "gcd") == {"cells": 199, "cellarea": 2235.8944,
                                                "registers": 35}


def test_unknown_yosys_build_is_named(tmp_path: Path) -> None:
    design = load_design("probe")
    design = dataclasses.replace(design, extra={**design.extra, "synth": {"yosys": "0.9"}})
    with pytest.raises(StepError, match="synth.yosys must be one of"):
        synth.run(StepContext.standalone(design, tmp_path))


def test_gcd_netlist_follows_the_clock(tmp_path: Path) -> None:
    """Before the fix the gcd netlist was byte-identical at 1.1, 2.2, 4.4 and 20 ns."""
    base = load_design("orfs_gcd")
    digests = {}
    for period in (1.1, 20.0):
        design = bench_synth.variant(base, "debian", "sized", period)
        ctx = StepContext.standalone(design, tmp_path / str(period))
        synth.run(ctx)
        digests[period] = hashlib.sha256(ctx.output("vg").read_bytes()).hexdigest()
    assert digests[1.1] != digests[20.0]


def test_pyosys_netlist_is_place_and_route_ready(tmp_path: Path) -> None:
    design = bench_synth.variant(load_design("probe"), "pyosys", "sized", None)
    ctx = StepContext.standalone(design, tmp_path)
    metrics = synth.run(ctx)
    synth.check_netlist(ctx.output("vg"))
    assert metrics["yosys"] == "pyosys" and metrics["registers"] == 39
    # the 0.60 layout of ``stat`` (0.23 prints "Number of cells:"): the other yosys ran
    assert "Number of cells" not in (ctx.reports_dir / "stat.rpt").read_text()
