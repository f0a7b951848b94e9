"""Slow: DFT on the accelerator's small configuration (rtl/manifest.json), coverage goal and a
gate-level check of its chains. About 4 minutes on two cores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cocotb_tools.runner import get_results

from dft.gatesim import run_cocotb
from dft.run import run_dft
from dft.tests.conftest import make_design
from gptnano.paths import REPO_ROOT

MANIFEST = REPO_ROOT / "rtl" / "manifest.json"


@pytest.mark.slow
def test_accelerator_small_coverage_and_chains(tmp_path):
    small = json.loads(MANIFEST.read_text())["configs"]["small"]
    rtl = REPO_ROOT / "rtl" / small["file"]
    top = small["params"]["top"]
    design = make_design(tmp_path, "gqmv_small_dft", top, str(rtl),
                         {"enable": True, "chains": 4, "reset": "rst"})
    # the stand-in synthesis keeps this test about DFT, independent of the flow's synthesis
    summary = run_dft(design, tmp_path / "build", log=lambda *_: None, flow_synth=False)
    assert summary["chains"] == 4 and summary["scan_flops"] > 100
    assert summary["aborted_faults"] == 0
    assert summary["stuck_at_coverage"] >= 99.0, summary
    out = Path(summary["netlist"]).parent
    xml = run_cocotb(out / f"{top}.vg", out / f"{top}.patterns.json", "dft.tests.scan_tb",
                     tmp_path / "sim", extra_env={"DFT_N_PATTERNS": "8"})
    assert get_results(xml) == (2, 0)
