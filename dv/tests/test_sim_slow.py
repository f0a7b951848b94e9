"""The long regression (`make dv`): many random jobs, every corner and real-model runs on both
simulators and both configs, and the headline forward pass through the RTL."""

from __future__ import annotations

import pytest

from design.config import CONFIGS
from dv.tests.conftest import check_headline, run_ok

pytestmark = pytest.mark.slow
SIMS = ["icarus", "verilator"]


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("config, items", [("small", 1500), ("base", 200)])
def test_random_regression(sim, config, items):
    summary = run_ok(sim, config, "GqmvRandomTest", f"reg_{sim}_{config}_random", items=items,
                     seed=2026, backpressure=True, max_rows=4 * CONFIGS[config].lanes)
    assert summary["checked"] == items


@pytest.mark.parametrize("sim", SIMS)
def test_base_corners(sim):
    run_ok(sim, "base", "GqmvCornerTest", f"reg_{sim}_base_corners", max_rows=8)


@pytest.mark.parametrize("sim", SIMS)
def test_real_weights_all_layers(sim, weights_npz):
    cfg = CONFIGS["base"]
    summary = run_ok(sim, "base", "GqmvRealWeightsTest", f"reg_{sim}_base_layers",
                     weights=weights_npz, backpressure=False)
    assert len(summary["jobs"]) == 21
    for job in summary["jobs"]:
        assert job["cycles"] == cfg.job_cycles(job["length"], job["rows"]), job


def test_headline_forward_pass_through_rtl_icarus(weights_npz):
    """The headline on Icarus (about 70 s; the Verilator run is in the fast suite)."""
    check_headline("icarus")


def test_gate_level_small():
    """The small netlist (Yosys + sky130 liberty) with the PDK's functional cell models."""
    from design.config import CONFIGS
    from design.synth import synthesize
    from dv.sim import run

    netlist = synthesize("small").netlist
    for test, knobs in (("GqmvCornerTest", {"max_rows": 4}),
                        ("GqmvRandomTest", {"items": 30, "seed": 9, "backpressure": True})):
        result = run("icarus", CONFIGS["small"], test, f"gate_level_{test}", netlist=netlist,
                     **knobs)
        assert result.passed, f"gate-level {test} failed: {result.out_dir / 'sim.log'}"


def test_regression_covers_every_bin():
    """Runs last in this file: the merged coverage of the regression runs leaves no bin empty."""
    from dv.coverage_merge import write_merged

    report, uncovered = write_merged("reg_")
    assert not uncovered, f"uncovered bins in {report}: {uncovered}"
