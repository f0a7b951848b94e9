"""Shared helpers of the dv tests: run a pyuvm test and read what it wrote."""

from __future__ import annotations

import json

import pytest

from design.config import CONFIGS
from dv.sim import RunResult, run


def run_ok(sim: str, config: str, test: str, name: str, **knobs: object) -> dict:
    """Run a pyuvm test that must pass; return its summary.json."""
    result: RunResult = run(sim, CONFIGS[config], test, name, **knobs)
    log = result.out_dir / "sim.log"
    assert result.passed, f"{test} on {sim}/{config} failed ({result}); see {log}"
    return json.loads((result.out_dir / "summary.json").read_text())


@pytest.fixture
def weights_npz():
    from model.deployed import INT8_NPZ

    if not INT8_NPZ.is_file():
        pytest.fail(f"{INT8_NPZ} missing: `make model` ships it")
    return str(INT8_NPZ)


def check_headline(sim: str) -> None:
    """Forward pass of the shipped model with every matrix product on the RTL of ``sim``."""
    from dv.sim import dv_root

    summary = run_ok(sim, "base", "GqmvForwardTest", f"headline_{sim}", prompt="The jury said",
                     backpressure=False)
    result = json.loads((dv_root() / "runs" / f"headline_{sim}" / "forward.json").read_text())
    assert result["logits_identical"]
    assert result["argmax_rtl"][-1] == result["argmax_fake_quant"][-1]
    assert summary["checked"] == 21 * len(result["tokens"])
