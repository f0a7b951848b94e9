"""Slow: the probe through the whole SiliconCompiler flow with DFT on, as a user runs it
(``python siliconcompiler.py --design probe --dft on``, about 1 min here): signoff stays clean
with the scan flops placed and routed, the DFT metrics are in SC's job manifest and the flow
writes ``build/probe/dft.json``; shift-mode timing (``scan_en = 1``) is met at every corner."""

from __future__ import annotations

import json

import pytest

from dft.shift_timing import check_job
from gptnano.design_config import load_design
from gptnano.netlist import read_netlist
from pnr.tests.test_flow_probe import assert_signoff_clean, run_flow

pytestmark = pytest.mark.slow
CONTRACT = ("scan_flops", "chains", "chain_lengths", "stuck_at_coverage", "vectors", "runtime_s")


def test_probe_flow_with_dft(tmp_path):
    proc = run_flow(tmp_path, "--design", "probe", "--engine", "embedded", "--dft", "on",
                    "--jobname", "dft", "--quiet")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    record = json.loads((tmp_path / "probe" / "signoff.json").read_text())
    assert_signoff_clean(record, tmp_path, "probe")

    job = tmp_path / "probe" / "dft"
    placed = read_netlist(job / "floorplan" / "0" / "inputs" / "probe_mac.vg")
    cells = [i.cell for i in placed.instances]
    assert not any("__dfxtp" in c or "__dfrtp" in c for c in cells)  # every flop is a scan flop
    assert {"scan_in", "scan_out", "scan_en"} <= set(placed.ports)

    summary = json.loads((tmp_path / "probe" / "dft.json").read_text())
    assert set(CONTRACT) <= set(summary)
    assert summary["scan_flops"] == sum(1 for c in cells if "__sdf" in c)
    assert summary["stuck_at_coverage"] >= 99.0 and summary["vectors"] > 0
    metrics = json.loads((job / "probe.pkg.json").read_text())["metric"]
    assert metrics["dftcoverage"]["node"]["dft_atpg"]["0"]["value"] == \
        summary["stuck_at_coverage"]
    assert metrics["dftscanflops"]["node"]["dft_chain"]["0"]["value"] == summary["scan_flops"]

    shift = check_job(load_design("probe"), "dft", root=tmp_path)
    assert set(shift["corners"]) == {"ss", "tt", "ff"}
    assert shift["met"], shift
    assert all(c["scd_hold_slack_ns"] >= 0 for c in shift["corners"].values())
