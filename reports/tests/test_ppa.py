"""PPA cells: read values keep their source, derived ones state their formula, gaps stay gaps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reports.collect import (
    ReportInputError,
    load_design_run,
    load_dv_latency,
    load_experiments,
    load_manifest,
    load_perf,
)
from reports.ppa import (
    BANDWIDTH,
    CYCLES,
    NA,
    NOT_RUN,
    REASON_CHARS,
    TPJ,
    TPS,
    TPS_TT,
    US,
    Context,
    compact,
    design_row,
    pareto_points,
    rtl_only_configs,
    short_reason,
)
from reports.tests.report_fixtures import FMAX, SETUP, signoff, write_design

PPL = "model__perplexity__validation"


def context(ws) -> Context:
    return Context(load_experiments(ws["experiments"]), ws["experiments"],
                   load_manifest(ws["manifest"]), ws["manifest"], ws["designs"])


def test_accelerator_row(workspace) -> None:
    run = load_design_run("small", workspace["build"] / "small")
    row = design_row(run, context(workspace))
    assert row["variant"].text == "int8" and row[PPL].value == pytest.approx(11.9)
    assert row[PPL].source == workspace["experiments"]
    # fmax per corner from clock and slack: 1000 / (10 - 0.5)
    assert row[FMAX + "ss"].value == pytest.approx(1000 / 9.5)
    assert row[FMAX + "ss"].title.startswith("derived: 1000 / (clock__period 10.0 - " + SETUP)
    assert row[CYCLES].value == 20000
    assert row[CYCLES].source == workspace["manifest"]
    assert row[US].value == pytest.approx(200.0)  # 20000 cycles × 10 ns
    assert row[TPS].value == pytest.approx(5000.0)
    assert row["power__total"].value == pytest.approx(1.0)
    assert row["power__dynamic__total"].value == pytest.approx(0.9)
    assert row[TPJ].value == pytest.approx(5e6)
    assert row["memory_bits"].value == 65536
    assert row["dft__stuck_at__coverage"].text == NOT_RUN  # no dft.json for this design
    assert row["drc"].text == "0 / 0" and row["design__lvs__clean"].text == "clean"


def test_manifest_of_another_top_does_not_apply(workspace) -> None:
    row = design_row(load_design_run("probe", workspace["build"] / "probe"), context(workspace))
    assert row[CYCLES].text == NA and row["memory_bits"].text == NA
    assert row[TPJ].text == NA
    assert row["dft__stuck_at__coverage"].value == pytest.approx(98.5)


def test_design_without_run(workspace) -> None:
    row = design_row(load_design_run("ghost", workspace["build"] / "ghost"), context(workspace))
    assert row["design__instance__count"].text == NOT_RUN and row[FMAX + "tt"].text == NOT_RUN
    assert row["design__lvs__clean"].text == NOT_RUN
    assert row["design__instance__count"].source is None


def test_violations_and_mismatch_are_flagged(tmp_path, workspace) -> None:
    bad = signoff({"failures": ["route: 2 nets unrouted"], "not_run": ["gds", "lvs"]},
                  klayout__drc_error__count=3, design__lvs__clean=False, flow__passed=False,
                  **{FMAX + "ss": 90.0, FMAX + "tt": 120.0})
    run = load_design_run("bad", write_design(tmp_path, "bad", bad))
    row = design_row(run, context(workspace))
    assert row["flow"].text == "FAIL: route: 2 nets unrouted (+1 more)"  # visible, not hover
    assert row["flow"].title == ("route: 2 nets unrouted; stopped before gds (2 steps not run: "
                                 "gds, lvs)")
    assert row["drc"].value == "violations" and row["design__lvs__clean"].text == "MISMATCH"
    assert row[FMAX + "ss"].value == 90.0 and not row[FMAX + "ss"].title  # reported


def test_pareto_points_only_for_measured_pairs(workspace) -> None:
    ctx = context(workspace)
    runs = [load_design_run(n, workspace["build"] / n) for n in ("probe", "small")]
    points, notes = pareto_points(runs, ctx)
    assert sorted(points["variant"]) == ["int4", "int8"]  # fp32 has no latency on any design
    assert set(points["config"]) == {"small"}
    int4 = points[points["variant"] == "int4"].iloc[0]
    assert int4["area_x_latency"] == pytest.approx(12000.0 * 12000)  # core area × cycles
    assert notes == ["build/design/perf.json missing: run python -m design.perf"]


def test_manifest_configs_entry_matching_the_top(workspace) -> None:
    workspace["manifest"].write_text(json.dumps({"configs": {
        "base": {"top": "gqmv_base", "params": {"cycles_per_token": 1}},
        "accel": {"top": "gpt_accel", "params": {"cycles_per_token": 3000, "memory_bits": 8}},
    }}))
    ctx = context(workspace)
    row = design_row(load_design_run("small", workspace["build"] / "small"), ctx)
    assert row[CYCLES].value == 3000 and row["memory_bits"].value == 8
    assert row[US].value == pytest.approx(30.0)
    probe = design_row(load_design_run("probe", workspace["build"] / "probe"), ctx)
    assert probe[CYCLES].text == NA  # probe_mac is in no manifest entry


def test_flow_fmax_by_corner_is_used(tmp_path, workspace) -> None:
    data = signoff({"reports": {FMAX + "ss": "reports/sta.rpt"}}, timing__fmax=95.0,
                   **{FMAX + "ss": 95.0, FMAX + "tt": 130.0})
    row = design_row(load_design_run("d", write_design(tmp_path, "d", data)), context(workspace))
    assert row[FMAX + "ss"].value == 95.0 and row[FMAX + "ss"].source.name == "sta.rpt"
    assert row[FMAX + "tt"].value == 130.0 and not row[FMAX + "tt"].title
    assert row[FMAX + "ff"].title.startswith("derived")  # the flow gave no ff figure


GQMV_MANIFEST = {"configs": {
    "base": {"top": "gqmv_base", "params": {"x_width": 512, "max_len": 512, "group": 64}},
    "accel": {"top": "gpt_accel", "params": {"x_width": 16, "max_len": 16, "group": 2}},
}}


def write_forward(runs: Path, name: str, config: str | None, cycles: list[int],
                  tokens: int) -> Path:
    folder = runs / name
    folder.mkdir(parents=True)
    forward = {"tokens": list(range(tokens)), "logits_identical": True}
    if config is not None:
        forward["config"] = config
    (folder / "forward.json").write_text(json.dumps(forward))
    (folder / "summary.json").write_text(json.dumps(
        {"jobs": [{"name": f"j{i}", "cycles": c} for i, c in enumerate(cycles)]}))
    return folder / "forward.json"


def test_memory_bits_derived_from_manifest_params(workspace) -> None:
    workspace["manifest"].write_text(json.dumps(GQMV_MANIFEST))
    row = design_row(load_design_run("small", workspace["build"] / "small"), context(workspace))
    assert row["memory_bits"].value == 16 * 8  # x_width × max_len / group
    assert row["memory_bits"].source == workspace["manifest"]
    assert row["memory_bits"].title.startswith("derived: activation buffer")


def test_dv_cycles_per_token_only_from_a_run_naming_its_config(tmp_path, workspace) -> None:
    workspace["manifest"].write_text(json.dumps(GQMV_MANIFEST))
    runs = tmp_path / "dv_runs"
    named = write_forward(runs, "headline_verilator", "accel", [300, 500, 1200], 2)
    write_forward(runs, "headline_old", None, [1, 2], 1)
    problems: list[str] = []
    latency = load_dv_latency(runs, problems)
    assert set(latency) == {"accel"} and latency["accel"].value == 1000.0
    assert problems == [f"{runs / 'headline_old' / 'forward.json'}: no 'config' naming the "
                        "RTL configuration it ran on, so its cycles are not shown (dv should "
                        "write it)"]
    ctx = Context(load_experiments(workspace["experiments"]), workspace["experiments"],
                  load_manifest(workspace["manifest"]), workspace["manifest"],
                  workspace["designs"], latency)
    row = design_row(load_design_run("small", workspace["build"] / "small"), ctx)
    assert row[CYCLES].value == 1000.0
    assert row[CYCLES].source == named.resolve()
    assert row[CYCLES].title.startswith("measured: 2000 cycles of 3 jobs / 2 tokens")
    assert row[US].value == pytest.approx(10.0)  # 1000 cycles × 10 ns
    assert row[TPJ].value == pytest.approx(1e5 / 1e-3)


def test_dv_runs_that_disagree_are_reported(tmp_path) -> None:
    runs = tmp_path / "dv_runs"
    write_forward(runs, "a", "base", [100], 1)
    write_forward(runs, "b", "base", [120], 1)
    problems: list[str] = []
    assert load_dv_latency(runs, problems)["base"].value == 100
    assert len(problems) == 1 and "120.0 cycles/token for base" in problems[0]


def test_rtl_only_config_gets_a_row(workspace) -> None:
    workspace["manifest"].write_text(json.dumps(GQMV_MANIFEST))
    ctx = context(workspace)
    assert rtl_only_configs(ctx, ["probe", "small"]) == ["base"]
    row = design_row(load_design_run("base", workspace["build"] / "base"), ctx)
    assert row["memory_bits"].value == 512 * 8
    assert row["design__instance__count"].text == NOT_RUN
    assert row[US].text == NA and "cycles/token" in row[US].title


def test_unknown_variant_is_not_shown_as_a_perplexity(workspace) -> None:
    (workspace["designs"] / "small" / "config.yaml").write_text(
        "name: small\ntop: gpt_accel\nvariant: int3\n")
    row = design_row(load_design_run("small", workspace["build"] / "small"), context(workspace))
    assert row[PPL].text == NA and "variant 'int3' has no val_ppl" in row[PPL].title


def test_failure_reason_skips_tool_warnings_and_is_short() -> None:
    liberty = ("Warning: sky130_fd_sc_hd__ss.lib line 32, library has no default_operating_"
               "conditions.\n[WARNING] another one\nsta/ss: setup slack -1.5 ns < 0 at corner "
               "ss; hold slack -0.2 ns < 0 at corner ss")
    assert short_reason([liberty]) == "sta/ss: setup slack -1.5 ns < 0 at corner ss"
    assert short_reason(["x" * 200, "y"]).endswith("… (+1 more)")
    assert len(short_reason(["x" * 200])) == REASON_CHARS
    assert short_reason([]) == ""


def test_summary_numbers_are_compact() -> None:
    assert [compact(v) for v in (0.5, -666.2539, 12000.0, -12345.678, 123456789.0)] == \
        ["0.5", "-666.3", "12k", "-12.3k", "123M"]


# -- model-to-chip figures (design/perf.py via signoff.json and build/design/perf.json) ------
PERF = {"deployed_variant": "int8", "configs": {
    "base": {"top": "gqmv_base", "shipped": True,
             "synth": {"cells": 90000, "cell_area_um2": 800000.0,
                       "source": "build/design/base/stat.rpt"}},
    "small": {"top": "gpt_accel", "shipped": True, "synth": None},
    "wide": {"top": "gqmv_wide", "shipped": False, "synth": None}},
    "points": [
        {"config": "base", "variant": "int8", "cycles_per_token": 4718, "jobs": 21,
         "parameter_bits_per_token": 9517056},
        {"config": "base", "variant": "int4", "reason": "scale group 32 < GROUP 64"},
        {"config": "base", "variant": "fp32", "reason": "float model: the engine is integer-only"},
        {"config": "small", "variant": "int8", "reason": "MAX_LEN 16 < the model's vectors"},
        {"config": "wide", "variant": "int8", "cycles_per_token": 9000, "jobs": 21,
         "parameter_bits_per_token": 1000}]}


def perf_context(ws, perf: dict | None = None) -> Context:
    path = ws["build"] / "design" / "perf.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(PERF if perf is None else perf))
    ctx = context(ws)
    return Context(ctx.experiments, ctx.experiments_path, ctx.manifest, ctx.manifest_path,
                   ctx.designs_dir, {}, load_perf(path), path)


def test_model_figures_from_signoff_json(tmp_path, workspace) -> None:
    data = signoff({"model_to_chip": {"config": "base", "variant": "int8", "jobs": 21}},
                   model__cycles_per_token=4718.0, model__us_per_token=47.18,
                   model__tokens_per_s=21195.4, model__tokens_per_j=2.1e7,
                   model__weight_bandwidth=201.7, **{"model__tokens_per_s__corner:tt": 9e4})
    row = design_row(load_design_run("d", write_design(tmp_path, "d", data)), context(workspace))
    assert row[CYCLES].value == 4718 and "design/perf.py" in row[CYCLES].title
    assert row[TPS].value == pytest.approx(21195.4) and row[TPJ].value == pytest.approx(2.1e7)
    assert row[TPS_TT].value == 9e4 and row[BANDWIDTH].value == pytest.approx(201.7)


def test_config_that_cannot_hold_the_model_shows_the_reason(tmp_path, workspace) -> None:
    reason = "MAX_LEN 16 < the model's 128..512-wide vectors: small cannot hold them"
    data = signoff({"model_to_chip": {"config": "small", "variant": "int8", "reason": reason}})
    row = design_row(load_design_run("d", write_design(tmp_path, "d", data)), context(workspace))
    assert row[CYCLES].text.startswith("n/a: MAX_LEN 16") and row[CYCLES].value is None
    assert reason in row[CYCLES].title
    for key in (US, TPS, TPS_TT, BANDWIDTH, TPJ):
        assert row[key].text == NA and reason in row[key].title, key


def test_rtl_only_config_takes_the_cycle_model(workspace) -> None:
    workspace["manifest"].write_text(json.dumps(GQMV_MANIFEST))
    ctx = perf_context(workspace)
    row = design_row(load_design_run("base", workspace["build"] / "base"), ctx)
    assert row["variant"].text == "int8" and "deployed_variant" in row["variant"].title
    assert row[CYCLES].value == 4718 and row[CYCLES].source == ctx.perf_path
    assert row[US].text == NA and "signoff clock" in row[US].title  # no flow run: no clock


def test_pareto_labels_signed_off_and_estimated_areas(workspace) -> None:
    ctx = perf_context(workspace)
    runs = [load_design_run(n, workspace["build"] / n) for n in ("probe", "small")]
    points, notes = pareto_points(runs, ctx)
    by = {(p.config, p.variant): p for p in points.itertuples()}
    base = by[("base", "int8")]
    assert base.area_kind == "synthesis estimate" and base.area_um2 == 800000.0
    assert base.area_x_latency == pytest.approx(800000.0 * 4718)
    # small's layout passed signoff, and its manifest maps variants to cycles
    assert by[("small", "int4")].area_kind == "signed-off"
    assert ("base", "int4") not in by  # the config cannot run it
    assert any(n.startswith("small: runs no model variant (MAX_LEN 16") for n in notes)
    assert any(n.startswith("wide: no area yet") and "--synth wide" in n for n in notes)


def test_stale_synthesis_is_plotted_as_such(workspace) -> None:
    perf = json.loads(json.dumps(PERF))
    perf["configs"]["base"]["synth"]["stale"] = "rtl/gqmv_base.v is newer than stat.rpt"
    points, notes = pareto_points([], perf_context(workspace, perf))
    assert set(points["area_kind"]) == {"synthesis estimate of older RTL"}
    assert any("newer than stat.rpt" in n for n in notes)


def test_malformed_perf_json_is_named(tmp_path) -> None:
    bad = tmp_path / "perf.json"
    bad.write_text(json.dumps({"configs": {}, "points": [{"config": "base", "variant": "x",
                                                          "cycles_per_token": -1}]}))
    with pytest.raises(ReportInputError, match="perf.json: base/x: 'cycles_per_token'"):
        load_perf(bad)
