"""signoff.json's model-to-chip figures (flow.summary.model_figures, design/perf.py's cycle
model): present at the signoff clock, tt fmax and signoff power for a config that can run the
design's variant; absent with the reason for one that cannot (small: MAX_LEN 16)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from design import perf
from design.config import CONFIGS
from flow import summary
from gptnano import metrics as registry
from gptnano.design_config import load_design
from signoff.tests.test_summary import build, make_job  # noqa: F401  (fixture)


def test_base_config_gets_throughput_energy_and_bandwidth(build: Path) -> None:  # noqa: F811
    job = make_job(build)
    design = replace(load_design("probe"), top="gqmv_base", extra={"variant": "w8a8_group"})
    rec = summary.summarize(design, job)
    m = rec["metrics"]
    assert registry.unknown(m) == []
    token = perf.token_perf(CONFIGS["base"], perf.load_variant("w8a8_group"))
    clock = design.clock_period_ns
    assert m["model__cycles_per_token"] == token.cycles
    assert m["model__us_per_token"] == pytest.approx(token.cycles * clock / 1000)
    tps = 1e9 / (token.cycles * clock)
    assert m["model__tokens_per_s"] == pytest.approx(tps)
    assert m["model__tokens_per_s__corner:tt"] == pytest.approx(200e6 / token.cycles)
    assert m["model__tokens_per_j"] == pytest.approx(tps / 0.050002e-3)
    assert m["model__weight_bandwidth"] == pytest.approx(token.parameter_bits * tps / 1e9)
    assert rec["model_to_chip"]["config"] == "base" and rec["model_to_chip"]["jobs"] == 21
    assert "metrics" not in rec["model_to_chip"] and "reason" not in rec["model_to_chip"]


def test_small_config_has_no_figures_but_the_reason(build: Path) -> None:  # noqa: F811
    job = make_job(build)
    design = replace(load_design("probe"), top="gqmv_small", extra={"variant": "w8a8_group"})
    rec = summary.summarize(design, job)
    assert not [k for k in rec["metrics"] if k.startswith("model__")]
    assert "MAX_LEN 16" in rec["model_to_chip"]["reason"]


def test_design_without_a_variant_has_no_model_record(build: Path) -> None:  # noqa: F811
    rec = summary.summarize(load_design("probe"), make_job(build))
    assert rec["model_to_chip"] is None
    assert not [k for k in rec["metrics"] if k.startswith("model__")]


def test_job_keeps_the_clock_it_ran_with(build: Path) -> None:  # noqa: F811
    job = make_job(build)
    design = replace(load_design("probe"), top="gqmv_base", extra={"variant": "w8a8_group"})
    sdc = job / "syn" / "0" / "outputs" / "gqmv_base.sdc"
    sdc.parent.mkdir(parents=True)
    period = design.clock_period_ns + 15.0  # the config's clock changed after the run
    sdc.write_text(f"# a comment: -period 1.0\ncreate_clock -name clk -period {period} "
                   "[get_ports clk]\nset_input_delay 9.0 -clock clk [all_inputs]\n")
    m = summary.summarize(design, job)["metrics"]
    token = perf.token_perf(CONFIGS["base"], perf.load_variant("w8a8_group"))
    assert m["clock__period"] == period
    assert m["model__us_per_token"] == pytest.approx(token.cycles * period / 1000)
    sdc.write_text("create_clock -period 9 [get_ports a]\ncreate_clock -period 7 [get_ports b]\n")
    assert summary.summarize(design, job)["metrics"]["clock__period"] == design.clock_period_ns
