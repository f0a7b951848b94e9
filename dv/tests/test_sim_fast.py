"""Fast simulation tests (both simulators, short sequences). `make dv` adds the long ones."""

from __future__ import annotations

from dataclasses import replace

import pytest

from design.config import CONFIGS
from dv.sim import run
from dv.tests.conftest import check_headline, run_ok


@pytest.mark.parametrize("sim", ["icarus", "verilator"])
def test_small_random_with_backpressure(sim):
    summary = run_ok(sim, "small", "GqmvRandomTest", f"fast_{sim}_small_random", items=20,
                     seed=11, backpressure=True)
    assert summary["checked"] == 20


@pytest.mark.parametrize("sim", ["icarus", "verilator"])
def test_small_corners(sim):
    summary = run_ok(sim, "small", "GqmvCornerTest", f"fast_{sim}_small_corners", max_rows=4)
    assert summary["checked"] == 2 * 9


def test_csr_rejects_illegal_jobs():
    run_ok("icarus", "small", "GqmvCsrTest", "fast_icarus_small_csr")


def test_base_random():
    summary = run_ok("icarus", "base", "GqmvRandomTest", "fast_icarus_base_random", items=4,
                     seed=2, max_rows=12)
    assert summary["checked"] == 4


def test_cycles_match_the_formula():
    """Free-flowing streams: CYCLES equals GqmvConfig.job_cycles for every job."""
    cfg = CONFIGS["small"]
    summary = run_ok("icarus", "small", "GqmvRandomTest", "fast_icarus_small_cycles", items=10,
                     seed=4, backpressure=False)
    for job in summary["jobs"]:
        assert job["cycles"] == cfg.job_cycles(job["length"], job["rows"]), job


def test_coverage_report_lists_uncovered_bins():
    """Without back-pressure the report must name that bin as uncovered."""
    result = run("icarus", CONFIGS["small"], "GqmvRandomTest", "fast_icarus_small_cov",
                 items=2, seed=1, backpressure=False)
    assert result.passed
    report = (result.out_dir / "coverage.txt").read_text()
    uncovered = report.split("uncovered bins")[1]
    assert "gqmv.backpressure:on" in uncovered and "gqmv.backpressure:off" not in uncovered


@pytest.mark.parametrize("mutation", ["round_half_down", "no_saturation", "drop_bias"])
def test_scoreboard_catches_mutants(mutation):
    """A deliberately broken generator must fail the corner regression (not pass silently)."""
    cfg = replace(CONFIGS["small"], mutation=mutation)
    result = run("icarus", cfg, "GqmvCornerTest", f"fast_mutant_{mutation}", max_rows=4)
    assert result.tests == 1 and result.failed == 1, result
    assert "scoreboard failures" in (result.out_dir / "sim.log").read_text()


def test_real_weights_first_block(weights_npz):
    """Layers of the shipped checkpoint through the base engine, cycle count as predicted."""
    cfg = CONFIGS["base"]
    layers = "h0.attn.c_attn,h0.attn.c_proj,h0.mlp.c_fc,h0.mlp.c_proj"
    summary = run_ok("icarus", "base", "GqmvRealWeightsTest", "fast_icarus_base_layers",
                     weights=weights_npz, layers=layers, backpressure=False)
    assert [j["name"] for j in summary["jobs"]] == layers.split(",")
    for job in summary["jobs"]:
        assert job["cycles"] == cfg.job_cycles(job["length"], job["rows"]), job


def test_headline_forward_pass_verilator(weights_npz):
    """Headline: "The jury said" through IntegerGPT.forward with every matvec on the RTL
    (Verilator): logits identical to the integer golden model, argmax = fake-quant PyTorch."""
    check_headline("verilator")
