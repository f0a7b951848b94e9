"""Slow: DFT on the accelerator's ``small`` configuration (``designs/small/config.yaml``) with
the flow's own synthesis: the coverage goal, the chains on the gate-level netlist, and the
accelerator's DV testbench on the scan-inserted netlist in functional mode (``scan_en = 0``).
About 10 minutes on two shared cores."""

from __future__ import annotations

from pathlib import Path

import pytest
from cocotb_tools.runner import get_results

from design.config import CONFIGS
from dft.config import dft_settings
from dft.functional import run_functional_dv
from dft.gatesim import run_cocotb
from flow.run_dft import run_dft
from gptnano.design_config import load_design

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    design = load_design("small")
    root = tmp_path_factory.mktemp("dft_small")
    summary = run_dft(design, root, log=lambda *_: None)
    return design, summary, root


def test_accelerator_small_coverage_and_chains(small_run, tmp_path):
    design, summary, _root = small_run
    assert summary["synthesis"] == "gptnano.synth (flow)"
    assert summary["chains"] == dft_settings(design).chains
    assert summary["scan_flops"] > 100
    assert max(summary["chain_lengths"]) - min(summary["chain_lengths"]) <= 1
    assert summary["aborted_faults"] == 0
    assert summary["stuck_at_coverage"] >= 99.0, summary
    out = Path(summary["netlist"]).parent
    xml = run_cocotb(out / f"{design.top}.vg", out / f"{design.top}.patterns.json",
                     "dft.tests.scan_tb", tmp_path / "sim", extra_env={"DFT_N_PATTERNS": "8"})
    assert get_results(xml) == (2, 0)


@pytest.mark.parametrize("testcase, knobs", [
    ("GqmvCornerTest", {"max_rows": 4}),
    ("GqmvRandomTest", {"items": 30, "seed": 9, "backpressure": True}),
])
def test_functional_dv_on_scan_netlist(small_run, tmp_path, testcase, knobs):
    """The flow's functional DV (dv.tb_gqmv, pyuvm) passes on the scan netlist, scan_en = 0."""
    design, summary, root = small_run
    cfg = next(c for c in CONFIGS.values() if c.top_name == design.top)
    chain_out = root / design.name / "dft" / "chain" / "outputs"
    tests, failed, xml = run_functional_dv(
        chain_out / f"{design.top}.vg", chain_out / f"{design.top}.scan.json",
        list(design.rtl), cfg.params(), testcase, tmp_path / "dv", **knobs)
    assert (tests, failed) == (1, 0), f"{testcase} failed on the scan netlist: {xml}"
