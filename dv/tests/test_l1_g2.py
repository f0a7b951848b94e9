"""The model configuration l1_g2 (issue #14: LANES 1, GROUP 2, MAX_LEN 512): the headline
forward pass with every matrix of the shipped model on its RTL, and random jobs.

The shipped model's scales are per 64 weights and l1_g2's GROUP is 2, so the forward pass runs
``dv.tb_regroup`` (the model's scales repeated to the engine's GROUP; exact, see its docstring)
instead of ``dv.tb_gqmv``'s forward test, which needs the model's group to equal GROUP.

    pytest -m slow dv/tests/test_l1_g2.py      # forward pass: about 10 min on a busy 2-core machine
"""

from __future__ import annotations

import fcntl
import json
import os

import numpy as np
import pytest
from cocotb_tools.check_results import get_results
from cocotb_tools.runner import get_runner

from design import perf
from design.config import CONFIGS
from dv.knobs import Knobs
from dv.sim import dv_root, rtl_source, verilator_env
from dv.tests.conftest import run_ok
from gptnano.paths import REPO_ROOT

CONFIG = "l1_g2"


def test_l1_g2_random_jobs():
    """Constrained-random jobs with back-pressure (K up to MAX_LEN 512) on Icarus."""
    summary = run_ok("icarus", CONFIG, "GqmvRandomTest", "fast_icarus_l1_g2_random", items=3,
                     seed=5, max_rows=3, backpressure=True)
    assert summary["checked"] == 3


def test_regroup_is_exact():
    """Repeating a 64-group's scale over its 32 two-weight groups keeps the contract's total."""
    from dv.tb_regroup import regroup
    from model.integer_ops import gqmv_total

    rng = np.random.default_rng(3)
    x = rng.integers(-128, 128, 512)
    w = rng.integers(-128, 128, (3, 512))
    gscale = rng.integers(0, 1 << 16, (3, 8))
    bias = rng.integers(-(1 << 31), 1 << 31, 3)
    np.testing.assert_array_equal(gqmv_total(x, w, gscale, bias, 64),
                                  gqmv_total(x, w, regroup(gscale, 64, 2), bias, 2))
    with pytest.raises(ValueError, match="not a multiple"):
        regroup(gscale, 64, 128)


@pytest.mark.slow
def test_l1_g2_headline_forward_pass(weights_npz):
    """"The jury said" through IntegerGPT.forward with all 21 matrices of each token on the
    l1_g2 RTL (Verilator): logits identical to the integer golden model, argmax equal to the
    fake-quant model's, and every job's CYCLES equal to GqmvConfig.job_cycles, so the run's
    cycles are design/perf.py's cycles/token x tokens."""
    cfg = CONFIGS[CONFIG]
    sim, name = "verilator", "headline_l1_g2_verilator"
    os.environ.update(verilator_env())
    out = dv_root() / "runs" / name
    out.mkdir(parents=True, exist_ok=True)
    knobs = Knobs(params=cfg.params(), out_dir=str(out), prompt="The jury said",
                  backpressure=False)
    build = dv_root() / sim / CONFIG
    build.mkdir(parents=True, exist_ok=True)
    runner = get_runner(sim)
    with (build / ".lock").open("w") as lock:  # the compile is shared with dv.sim's runs
        fcntl.flock(lock, fcntl.LOCK_EX)
        runner.build(sources=[rtl_source(cfg)], hdl_toplevel=cfg.top_name, build_dir=build,
                     build_args=["-Wno-fatal", "-Wno-WIDTHEXPAND", "-Wno-WIDTHTRUNC"],
                     timescale=("1ns", "1ps"), log_file=build / "build.log")
    # dv.sim.run_testcase with the test module dv.tb_regroup instead of dv.tb_gqmv
    env = knobs.to_env()
    env["PYTHONWARNINGS"] = "ignore::DeprecationWarning"
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])
    results = out / "results.xml"
    try:
        runner.test(test_module="dv.tb_regroup", hdl_toplevel=cfg.top_name,
                    testcase="GqmvForwardRegroupTest", build_dir=build, test_dir=out,
                    extra_env=env, results_xml=str(results), log_file=out / "sim.log",
                    timescale=("1ns", "1ps"))
    except SystemExit:
        pass  # the runner exits on a failing testcase; the counts below decide
    assert results.is_file(), f"the simulation wrote no results; see {out / 'sim.log'}"
    tests, failed = get_results(results)
    assert tests == 1 and failed == 0, f"forward pass failed on {CONFIG}: {out / 'sim.log'}"
    result = json.loads((out / "forward.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    assert result["logits_identical"]
    assert result["argmax_rtl"][-1] == result["argmax_fake_quant"][-1]
    assert summary["checked"] == 21 * len(result["tokens"])
    for job in summary["jobs"]:
        assert job["cycles"] == cfg.job_cycles(job["length"], job["rows"]), job
    token = perf.token_perf(cfg, perf.load_variant(perf.DEPLOYED_VARIANT))
    assert sum(j["cycles"] for j in summary["jobs"]) == token.cycles * len(result["tokens"])
