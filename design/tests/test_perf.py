"""design/perf.py: the model's jobs per token, their cycles, parameter traffic and throughput.

The per-job formula (GqmvConfig.job_cycles) is checked against the RTL's CYCLES register by
dv/tests (``test_cycles_match_the_formula``: free-flowing small-config jobs, fast;
``test_real_weights_first_block``: the model's first block on base). Here: that a token is the
right list of jobs (shapes recomputed from experiments.csv's params and bytes), and -- slow --
that the whole forward pass through the base RTL takes exactly the predicted cycles per token.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace

import pytest

from design import perf
from design.config import CONFIGS, GqmvConfig


def test_base_token_is_the_21_jobs_of_the_dv_forward_pass() -> None:
    variant = perf.load_variant("w8a8_group")
    jobs = variant.shape.matrices()
    assert len(jobs) == 21 and jobs[-1] == perf.Matrix("lm_head", 1024, 128)
    assert [(m.rows, m.cols) for m in jobs[:4]] == [(384, 128), (128, 128), (512, 128),
                                                    (128, 512)]
    base = CONFIGS["base"]
    token = perf.token_perf(base, variant)
    assert token.cycles == sum(base.job_cycles(m.cols, m.rows) for m in jobs)
    assert [j["cycles"] for j in token.per_job] == [base.job_cycles(m.cols, m.rows)
                                                    for m in jobs]
    # every weight beat carries LANES x (GROUP int8 + 16-bit gscale); rowp 48 bits per row
    rows = sum(m.rows for m in jobs)
    assert token.weight_bits == sum(m.rows * m.cols * 8 + m.rows * (m.cols // 64) * 16
                                    for m in jobs)
    assert token.rowp_bits == rows * 48
    assert token.macs == sum(m.rows * m.cols for m in jobs)


@pytest.mark.parametrize("name", ["w8a8", "w8a8_group", "smoothquant", "int8_qat", "int4_ptq",
                                  "int4_qat"])
def test_recipes_reproduce_experiments_bytes(name: str) -> None:
    """The recipe table and the model shape give experiments.csv's bytes exactly, so they
    describe the variants model/build.py evaluated."""
    row = perf.read_experiments()[name]
    variant = perf.load_variant(name)
    recipe = variant.recipe
    assert recipe.w_bits is not None
    assert variant.shape.quantized_bytes(recipe.w_bits, recipe.group) == int(row["bytes"])
    assert variant.shape.params() == int(row["params"])


def test_pruned_heads_shape_from_its_notes(tmp_path) -> None:
    variant = perf.load_variant("pruned_heads")
    assert variant.shape.params() == int(perf.read_experiments()["pruned_heads"]["params"])
    assert sum(variant.shape.layer_heads) == 15
    token = perf.token_perf(CONFIGS["base"], variant)
    full = perf.token_perf(CONFIGS["base"], perf.load_variant("w8a8_group"))
    assert token.cycles < full.cycles and token.weight_bits < full.weight_bits
    # K of a 3-head c_proj is 96: padded to GROUP 64 x 2 with zero columns
    three = [j for j in token.per_job if j["name"].endswith("attn.c_proj") and j["cols"] == 128]
    assert three
    # a notes column that disagrees with the parameter count is refused, naming the file
    csv = tmp_path / "experiments.csv"
    csv.write_text("variant,params,bytes,val_ppl,next_token_acc,notes\n"
                   "pruned_heads,1,4,41.5,0.2,\"5 of 20 heads removed [4, 2, 3, 4, 2]\"\n")
    with pytest.raises(perf.PerfError, match="experiments.csv: pruned_heads has 1 params"):
        perf.load_variant("pruned_heads", experiments_path=csv)


def test_what_a_config_cannot_run_has_a_reason() -> None:
    small, base = CONFIGS["small"], CONFIGS["base"]
    reason = perf.unsupported(small, perf.load_variant("w8a8_group"))
    assert reason is not None and "MAX_LEN 16" in reason
    with pytest.raises(perf.PerfError, match="small cannot run w8a8_group"):
        perf.token_perf(small, perf.load_variant("w8a8_group"))
    assert "scale group 32 < GROUP 64" in str(perf.unsupported(base, perf.load_variant("int4_qat")))
    assert "integer-only" in str(perf.unsupported(base, perf.load_variant("fp32")))
    g32 = GqmvConfig("g32", lanes=4, group=32, max_len=512, req_bits=8)
    assert perf.unsupported(g32, perf.load_variant("int4_qat")) is None
    with pytest.raises(perf.PerfError, match="no recipe"):
        perf.load_variant("w2a2")


def test_cycles_follow_the_pipeline_depth() -> None:
    """A deeper pipeline (fewer tree levels per stage) costs its extra latency once per job."""
    variant = perf.load_variant("w8a8_group")
    base = CONFIGS["base"]
    deeper = replace(base, tree_levels=1)
    extra = deeper.mac_latency - base.mac_latency
    assert extra > 0
    assert (perf.token_perf(deeper, variant).cycles - perf.token_perf(base, variant).cycles
            == 21 * extra)


def test_signoff_metrics_at_the_clock_fmax_and_power() -> None:
    token = perf.TokenPerf("c", "v", cycles=1000, jobs=1, macs=1, weight_bits=6000,
                           rowp_bits=4000)
    out = perf.signoff_metrics(token, 10.0, {"ss": 50.0, "tt": 200.0}, power_mw=2.0)
    assert out["model__cycles_per_token"] == 1000
    assert out["model__us_per_token"] == pytest.approx(10.0)
    assert out["model__tokens_per_s"] == pytest.approx(1e5)
    assert out["model__tokens_per_s__corner:tt"] == pytest.approx(2e5)
    assert out["model__tokens_per_s__corner:ss"] == pytest.approx(5e4)
    assert out["model__tokens_per_j"] == pytest.approx(1e5 / 2e-3)
    assert out["model__weight_bandwidth"] == pytest.approx(1e4 * 1e5 / 1e9)
    assert "model__tokens_per_j" not in perf.signoff_metrics(token, 10.0, {}, None)


def test_perf_table_lists_every_pair_and_synth_area(tmp_path) -> None:
    log = tmp_path / "design" / "base" / "synth.log"
    log.parent.mkdir(parents=True)
    log.write_text("   Number of cells:               123\n"
                   "   Chip area for module '\\gqmv_base': 4567.25\n")
    table = perf.perf_table(tmp_path)
    assert table["configs"]["base"]["synth"]["cell_area_um2"] == 4567.25
    assert table["configs"]["small"]["synth"] is None
    pairs = {(p["config"], p["variant"]): p for p in table["points"]}
    assert len(pairs) == len(perf.all_configs()) * len(perf.read_experiments())
    assert pairs[("base", "w8a8")]["cycles_per_token"] == \
        perf.token_perf(CONFIGS["base"], perf.load_variant("w8a8")).cycles
    assert "cycles_per_token" not in pairs[("small", "w8a8")]
    assert "MAX_LEN" in pairs[("small", "w8a8")]["reason"]


def test_synthesis_of_other_rtl_is_stale(tmp_path) -> None:
    """An estimate counts only for the RTL it was made from: by the recorded hash, else (a
    shipped config synthesized by design.synth) by file times."""
    cfg = perf.CANDIDATES["l1_g32"]
    folder = tmp_path / "design" / cfg.name
    folder.mkdir(parents=True)
    (folder / "stat.rpt").write_text("Number of cells: 5\nChip area for module "
                                     "'\\gqmv_l1_g32': 50.5\n")
    assert "no record of the RTL" in perf.synth_estimate(cfg, tmp_path, "abc")["stale"]
    (folder / perf.RTL_HASH).write_text("abc\n")
    assert perf.synth_estimate(cfg, tmp_path, "abc") == {
        "cells": 5, "cell_area_um2": 50.5, "source": str(folder / "stat.rpt")}
    assert "changed since" in perf.synth_estimate(cfg, tmp_path, "def")["stale"]
    small = CONFIGS["small"]
    folder = tmp_path / "design" / "small"
    folder.mkdir(parents=True)
    (folder / "stat.rpt").write_text("Number of cells: 7\nChip area for module "
                                     "'\\gqmv_small': 70.0\n")
    assert "stale" not in perf.synth_estimate(small, tmp_path)  # newer than rtl/gqmv_small.v
    os.utime(folder / "stat.rpt", (1, 1))
    assert "is newer than" in perf.synth_estimate(small, tmp_path)["stale"]


def test_cli_writes_perf_json(tmp_path, capsys) -> None:
    assert perf.main(["--build", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "design" / "perf.json").read_text())
    assert data["points"] and "base" in data["configs"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: {}\n")
    assert perf.main(["--build", str(tmp_path), "--model-config", str(bad)]) == 1
    assert "bad.yaml: no readable model section" in capsys.readouterr().err


@pytest.mark.slow
def test_forward_pass_through_the_rtl_takes_the_predicted_cycles() -> None:
    """The DV headline (every matrix product of "The jury said" on the base RTL, Verilator):
    measured cycles per token = the cycle model's, exactly."""
    from dv.sim import dv_root
    from dv.tests.conftest import check_headline

    check_headline("verilator")
    folder = dv_root() / "runs" / "headline_verilator"
    tokens = len(json.loads((folder / "forward.json").read_text())["tokens"])
    jobs = json.loads((folder / "summary.json").read_text())["jobs"]
    measured = sum(j["cycles"] for j in jobs)
    token = perf.token_perf(CONFIGS["base"], perf.load_variant("w8a8_group"))
    assert measured == token.cycles * tokens


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(perf.CANDIDATES))
def test_candidate_cycles_match_the_rtl(name: str) -> None:
    """A candidate is in no DV regression: its generated RTL must take job_cycles too
    (free-flowing random jobs on Icarus, CYCLES register vs formula)."""
    from dv.sim import run

    cfg = perf.CANDIDATES[name]
    result = run("icarus", cfg, "GqmvRandomTest", f"perf_{name}_cycles", items=6, seed=5,
                 backpressure=False, max_rows=8)
    assert result.passed, result.out_dir / "sim.log"
    jobs = json.loads((result.out_dir / "summary.json").read_text())["jobs"]
    assert jobs
    for job in jobs:
        assert job["cycles"] == cfg.job_cycles(job["length"], job["rows"]), job
