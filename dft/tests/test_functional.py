"""Functional mode of the scan netlist (``scan_en = 0``): same behaviour as the RTL.

Fast: ``dft_blk``'s scan netlist, wrapped by :func:`dft.functional.write_functional_wrapper`
(RTL ports, scan enable tied to 0), runs cycle by cycle against the RTL under random inputs
(Icarus, sky130 cell models); with the scan enable tied to 1 instead the comparison must fail.
The accelerator's own DV testbench on the scan-inserted ``small`` netlist is in the slow
``test_accelerator.py``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dft.functional import (
    FunctionalError,
    Port,
    rtl_ports,
    write_functional_wrapper,
)
from dft.scan import ChainInfo
from dft.sky130 import cell_models
from dft.tests.conftest import DATA
from gptnano.paths import sky130hd_dir


def _step(root: Path, design, step: str, ext: str) -> Path:
    return root / design.name / "dft" / step / "outputs" / f"{design.top}.{ext}"


def _equivalence_bench(top: str, ports: list[Port], cycles: int) -> str:
    """Verilog bench: RTL (module ``<top>_rtl``) and the wrapped netlist side by side."""
    ins = [p for p in ports if p.direction == "input" and p.name != "clk"]
    outs = [p for p in ports if p.direction == "output"]

    def rng(p: Port) -> str:
        return f"[{p.offset + p.width - 1}:{p.offset}] " if p.width > 1 else ""

    decls = [f"  reg {rng(p)}{p.name};" for p in ins]
    decls += [f"  wire {rng(p)}{p.name}_{side};" for p in outs for side in ("ref", "gl")]
    ref = ", ".join([".clk(clk)"] + [f".{p.name}({p.name})" for p in ins]
                    + [f".{p.name}({p.name}_ref)" for p in outs])
    gl = ref.replace("_ref)", "_gl)")
    randomize = "\n".join(f"      {p.name} = $random;" for p in ins if p.name != "rst")
    compare = " || ".join(f"({p.name}_ref !== {p.name}_gl)" for p in outs)
    return f"""`timescale 1ns/1ps
module equiv_tb;
  reg clk = 0;
{chr(10).join(decls)}
  integer i, errors = 0;
  {top}_rtl u_ref ({ref});
  {top} u_gl ({gl});
  always #100 clk = ~clk;
  initial begin
    rst = 1;
{randomize}
    repeat (3) @(negedge clk);
    rst = 0;
    for (i = 0; i < {cycles}; i = i + 1) begin
      @(negedge clk);
      if ({compare}) errors = errors + 1;
      rst = ($random % 32) == 0;
{randomize}
    end
    $display("EQUIV cycles=%0d errors=%0d", {cycles}, errors);
    $finish;
  end
endmodule
"""


def _run_equivalence(rtl: Path, top: str, netlist: Path, wrapper: Path, work: Path) -> int:
    ports = rtl_ports([rtl], top)
    ref = work / f"{top}_rtl.v"
    ref.write_text(rtl.read_text().replace(f"module {top}", f"module {top}_rtl", 1))
    bench = work / "equiv_tb.v"
    bench.write_text(_equivalence_bench(top, ports, cycles=300))
    sim = work / "equiv.vvp"
    subprocess.run(["iverilog", "-g2012", "-DFUNCTIONAL", "-DUNIT_DELAY=#1", "-o", str(sim),
                    "-s", "equiv_tb", *map(str, cell_models(sky130hd_dir())), str(netlist),
                    str(wrapper), str(ref), str(bench)], check=True, capture_output=True)
    out = subprocess.run(["vvp", "-n", str(sim)], check=True, capture_output=True, text=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("EQUIV"))
    return int(line.rsplit("errors=", 1)[1])


def test_functional_mode_matches_rtl(blk_run, tmp_path):
    design, _summary, root = blk_run
    rtl = DATA / "dft_blk.v"
    chains = ChainInfo.read(_step(root, design, "chain", "scan.json"))
    netlist, wrapper = write_functional_wrapper(
        _step(root, design, "chain", "vg"), chains, rtl_ports([rtl], "dft_blk"), tmp_path)
    text = wrapper.read_text()
    assert ".scan_en(1'b0)" in text and ".scan_in_0(1'b0)" in text
    assert _run_equivalence(rtl, "dft_blk", netlist, wrapper, tmp_path) == 0
    # the check can fail: with scan shifting on, the flops load the chain instead of D
    wrapper.write_text(text.replace(".scan_en(1'b0)", ".scan_en(1'b1)"))
    assert _run_equivalence(rtl, "dft_blk", netlist, wrapper, tmp_path) > 0


def test_wrapper_errors_name_the_problem(blk_run, tmp_path):
    design, _summary, root = blk_run
    chains = ChainInfo.read(_step(root, design, "chain", "scan.json"))
    ports = rtl_ports([DATA / "dft_blk.v"], "dft_blk")
    scan = _step(root, design, "chain", "vg")
    with pytest.raises(FunctionalError, match=r"no port for wide\[0\]"):
        write_functional_wrapper(scan, chains, [*ports, Port("wide", "input", 4)], tmp_path)
    with pytest.raises(FunctionalError, match="neither RTL ports nor scan ports"):
        write_functional_wrapper(scan, chains, [p for p in ports if p.name != "en"], tmp_path)
    with pytest.raises(FunctionalError, match="scan ports .* missing"):
        write_functional_wrapper(_step(root, design, "cut", "vg"), chains, ports, tmp_path)
