"""The DFT flow end to end on the small test blocks, and the gate-level proof of the chains."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cocotb_tools.runner import get_results

from dft.atpg_engine import Circuit, verify
from dft.gatesim import run_cocotb
from dft.liberty import read_liberty
from dft.netlist import build_netlist, fault_list
from dft.scan import SCAN_OUT_BUFFER, ScanError
from dft.steps.common import liberty
from dft.tests.conftest import make_design
from dft.vectors import biguint_value, read_fault_json
from flow.run_dft import run_dft
from gptnano.design_config import DesignConfigError
from gptnano.netlist import read_netlist, yosys_json


def _step(root: Path, design, step: str, ext: str) -> Path:
    return root / design.name / "dft" / step / "outputs" / f"{design.top}.{ext}"


def test_summary(blk_run):
    design, summary, root = blk_run
    saved = json.loads((root / design.name / "dft.json").read_text())
    assert saved == summary
    assert summary["scan_flops"] == 32  # 16 acc + 8 ra + 8 rb
    assert summary["chains"] == 2 and sum(summary["chain_lengths"]) == 32
    assert summary["stuck_at_coverage"] >= 99.0
    assert summary["vectors"] > 0
    assert set(summary["step_runtime_s"]) == {"syn", "cut", "atpg", "chain", "asm"}


def test_vectors_recheck_independently(blk_run):
    """Re-simulate the written vectors from the Fault JSON on a fresh circuit model."""
    design, summary, root = blk_run
    atpg_dir = root / design.name / "dft" / "atpg"
    lib = liberty()
    netlist = build_netlist(yosys_json(atpg_dir / "inputs" / "dft_blk.cut.v", lib, "dft_blk"),
                            "dft_blk", read_liberty(lib), {"clk": 1})
    circuit = Circuit(netlist, fault_list(netlist))
    data = read_fault_json(_step(root, design, "atpg", "tv.json"))
    vectors = [[biguint_value(v) for v in e["vector"]] for e in data["coverageList"]]
    assert len(vectors) == summary["vectors"]
    detected = verify(circuit, vectors)
    assert round(100 * detected / len(circuit.faults), 3) == summary["stuck_at_coverage"]


def test_scan_netlist_and_sdc(blk_run):
    design, _summary, root = blk_run
    text = _step(root, design, "chain", "vg").read_text()
    assert "sky130_fd_sc_hd__dfxtp" not in text
    assert text.count("sky130_fd_sc_hd__sdfxtp") == 32
    for port in ("scan_en", "scan_in_0", "scan_in_1", "scan_out_0", "scan_out_1"):
        assert f"input {port};" in text or f"output {port};" in text
    sdc = _step(root, design, "chain", "sdc").read_text()
    assert "set_case_analysis 0 [get_ports {scan_en}]" in sdc


def test_scan_netlist_is_placeable(blk_run):
    """The physical engine's reader accepts the scan netlist (no ``assign``): each scan-out
    port is driven by its own buffer cell fed by the last flop of its chain."""
    design, _summary, root = blk_run
    path = _step(root, design, "chain", "vg")
    netlist = read_netlist(path)
    chains = json.loads(_step(root, design, "chain", "scan.json").read_text())["chains"]
    nets = netlist.nets()
    by_name = {inst.name: inst for inst in netlist.instances}
    for chain in chains:
        drivers = [(i, p) for i, p in nets[chain["scan_out"]] if i != "PIN"]
        assert drivers == [(f"dft_{chain['scan_out']}_buf", "X")]
        buf = by_name[drivers[0][0]]
        assert buf.cell == SCAN_OUT_BUFFER
        assert buf.conns["A"] == by_name[chain["flops"][-1]].conns["Q"]


def test_gate_level_chains_and_patterns(blk_run, tmp_path):
    """cocotb on the scan netlist with the sky130 cell models: shift + all ATPG patterns."""
    design, _summary, root = blk_run
    xml = run_cocotb(_step(root, design, "asm", "vg"), _step(root, design, "asm", "patterns.json"),
                     "dft.tests.scan_tb", tmp_path / "sim")
    assert get_results(xml) == (2, 0)


def test_gate_level_catches_a_wrong_response(blk_run, tmp_path):
    """The pattern test can fail: one flipped expected capture bit must be reported."""
    design, _summary, root = blk_run
    patterns = json.loads(_step(root, design, "asm", "patterns.json").read_text())
    bits = patterns["patterns"][0]["unload"][0]
    patterns["patterns"][0]["unload"][0] = ("1" if bits[0] == "0" else "0") + bits[1:]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(patterns))
    xml = run_cocotb(_step(root, design, "asm", "vg"), broken, "dft.tests.scan_tb",
                     tmp_path / "sim", extra_env={"DFT_N_PATTERNS": "1"})
    assert get_results(xml) == (2, 1)


def test_async_reset_is_held_and_chain_works(tmp_path):
    design = make_design(tmp_path, "dftablk", "dft_ablk", "dft_ablk.v",
                         {"enable": True, "chains": 1, "reset": "rst_n",
                          "reset_active_low": True})
    summary = run_dft(design, tmp_path / "build", log=lambda *_: None)
    assert summary["scan_flops"] == 4 and summary["chain_lengths"] == [4]
    atpg = json.loads((tmp_path / "build" / "dftablk" / "dft" / "atpg" / "reports" /
                       "atpg.json").read_text())
    assert "rst_n" in atpg["held_inputs"]
    assert summary["stuck_at_coverage"] >= 95.0
    root = tmp_path / "build"
    xml = run_cocotb(_step(root, design, "asm", "vg"), _step(root, design, "asm", "patterns.json"),
                     "dft.tests.scan_tb", tmp_path / "sim")
    assert get_results(xml) == (2, 0)


def test_bad_settings_are_reported(tmp_path):
    with pytest.raises(DesignConfigError, match="chains"):
        design = make_design(tmp_path, "bad", "dft_ablk", "dft_ablk.v", {"chains": 0})
        run_dft(design, tmp_path / "b", log=lambda *_: None)
    design = make_design(tmp_path, "many", "dft_ablk", "dft_ablk.v", {"chains": 9})
    with pytest.raises(ScanError, match="9 chains requested for 4 flops"):
        run_dft(design, tmp_path / "b2", log=lambda *_: None)
