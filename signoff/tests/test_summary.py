"""signoff.json from node records (flow.summary) and ``python -m signoff.check``.

The node records are written as the flow writes them: the engine steps' own keys (``METRICS``)
named at the boundary by :func:`gptnano.metrics.from_engine`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flow import check, summary
from flow.summary import SummaryError
from gptnano import metrics as registry
from gptnano.design_config import load_design

NODES = [["syn", "0"], ["floorplan", "0"], ["route", "0"], ["gds", "0"], ["lvs", "0"],
         ["drc_klayout", "0"], ["drc_magic", "0"], ["sta", "ss"], ["sta", "tt"], ["sta", "ff"],
         ["power", "0"]]
METRICS = {
    ("syn", "0"): {"cells": 400, "cellarea": 3700.5},
    ("floorplan", "0"): {"cells": 400, "core_area_um2": 11000.0, "die_area_um2": 15000.0,
                         "utilization": 0.34},
    ("route", "0"): {"wirelength_um": 19000.0, "failed_nets": 0},
    ("gds", "0"): {"gds_cells": 50},
    ("lvs", "0"): {"lvs_match": 1, "lvs_result": "Circuits match uniquely."},
    ("drc_klayout", "0"): {"drc_klayout_total": 0},
    ("drc_magic", "0"): {"drc_magic_total": 0},
    ("sta", "ss"): {"setup_slack_ns": 0.5, "setup_tns_ns": 0.0, "hold_slack_ns": 0.9,
                    "fmax_mhz": 105.26, "parasitics": "none"},
    ("sta", "tt"): {"setup_slack_ns": 5.0, "setup_tns_ns": 0.0, "hold_slack_ns": 0.4,
                    "fmax_mhz": 200.0, "parasitics": "none"},
    ("sta", "ff"): {"setup_slack_ns": 7.0, "setup_tns_ns": 0.0, "hold_slack_ns": 0.2,
                    "fmax_mhz": 333.3, "parasitics": "none"},
    ("power", "0"): {"dynamic_mw": 0.05, "leakage_mw": 2e-6, "total_mw": 0.050002},
}


def make_job(root: Path, status: dict[tuple[str, str], str] | None = None,
             skip: tuple[tuple[str, str], ...] = ()) -> Path:
    job = root / "probe" / "job0"
    summary.write_plan(job, {"engine": "embedded", "nodes": NODES, "corners": ["ss", "tt", "ff"]})
    for (step, index), metrics in METRICS.items():
        if (step, index) in skip:
            continue
        reports = job / step / index / "reports"
        reports.mkdir(parents=True)
        state = (status or {}).get((step, index), "ok")
        named, details = registry.from_engine(step, index, metrics)
        (reports / "metrics.json").write_text(json.dumps(
            {"step": step, "index": index, "status": state, "runtime_s": 1.5,
             "peak_memory_mb": 250.0 if step == "route" else 120.0, "metrics": named,
             "details": details, "error": "boom" if state != "ok" else None}))
        if step == "sta":
            (reports / "setup.rpt").write_text("slack\n")
    out = job / "gds" / "0" / "outputs"
    out.mkdir(parents=True)
    (out / "probe_mac.gds").write_bytes(b"\0")
    return job


@pytest.fixture
def build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GPTNANO_BUILD", str(tmp_path))
    return tmp_path


def test_clean_run(build: Path) -> None:
    make_job(build)
    path, rec = summary.write_summary(load_design("probe"), "job0")
    assert path == build / "probe" / "signoff.json"
    assert json.loads(path.read_text()) == rec
    assert (build / "probe" / "job0" / "signoff.json").is_file()
    m = rec["metrics"]
    assert registry.unknown(m) == [] and registry.unknown(rec["reports"]) == []
    assert m["flow__passed"] is True and rec["failures"] == [] and rec["not_run"] == []
    assert m["flow__complete"] is True
    assert m["design__instance__count"] == 400 and m["design__instance__utilization"] == 0.34
    assert m["synth__design__instance__count"] == 400
    assert m["synth__design__instance__area"] == 3700.5
    assert m["clock__period"] == load_design("probe").clock_period_ns
    # worst setup *slack* per corner (what wns_ns used to hold), the unqualified one the worst
    assert {c: m[f"timing__setup__ws__corner:{c}"] for c in ("ss", "tt", "ff")} == \
        {"ss": 0.5, "tt": 5.0, "ff": 7.0}
    assert m["timing__setup__ws"] == 0.5 and m["timing__hold__ws"] == 0.2
    assert m["timing__hold__ws__corner:ff"] == 0.2
    assert m["timing__fmax"] == 105.26 and m["timing__fmax__corner:tt"] == 200.0
    assert (m["power__dynamic__total"], m["power__leakage__total"], m["power__total"]) == \
        (0.05, 2e-6, 0.050002)
    assert m["klayout__drc_error__count"] == 0 and m["magic__drc_error__count"] == 0
    assert m["design__lvs__clean"] is True
    assert m["route__wirelength"] == 19000.0
    assert rec["gds"] == "job0/gds/0/outputs/probe_mac.gds"
    assert rec["reports"]["timing__setup__ws__corner:ss"] == "job0/sta/ss/reports/setup.rpt"
    assert m["runtime__total__step:sta/tt"] == 1.5 and rec["engine"] == "embedded"
    assert m["memory__peak__step:route"] == 250.0 and m["memory__peak__step:sta/ss"] == 120.0
    assert rec["sta_parasitics"] == "none"


def test_failures_and_missing_nodes_fail_the_run(build: Path) -> None:
    make_job(build, status={("sta", "ss"): "failed"}, skip=(("power", "0"),))
    rec = summary.write_summary(load_design("probe"), "job0")[1]
    assert rec["metrics"]["flow__passed"] is False
    assert rec["failures"] == ["sta/ss: boom"]
    assert rec["not_run"] == ["power"] and "power__total" not in rec["metrics"]
    assert rec["metrics"]["flow__complete"] is False          # a node did not run
    # The failed corner's numbers are still reported (the check ran, its result failed).
    assert rec["metrics"]["timing__setup__ws__corner:ss"] == 0.5


def test_complete_means_every_node_ran(build: Path) -> None:
    """flow__complete: every planned node ran, a failed one included; passed also needs
    every node clean. A node still ``running`` (the run was stopped) has not run."""
    make_job(build, status={("lvs", "0"): "failed"})
    m = summary.write_summary(load_design("probe"), "job0")[1]["metrics"]
    assert m["flow__complete"] is True and m["flow__passed"] is False
    make_job(build / "again", status={("power", "0"): "running"})
    m = summary.summarize(load_design("probe"), build / "again" / "probe" / "job0")["metrics"]
    assert m["flow__complete"] is False and m["flow__passed"] is False


def test_no_run_is_a_clear_error(build: Path) -> None:
    with pytest.raises(SummaryError, match="no such run folder"):
        summary.write_summary(load_design("probe"), "job0")
    (build / "probe" / "job0").mkdir(parents=True)
    with pytest.raises(SummaryError, match="no flow record"):
        summary.write_summary(load_design("probe"), "job0")


def test_check_collect_only(build: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check.main(["--design", "probe", "--collect-only"]) == 2
    assert "no flow record" in capsys.readouterr().err
    make_job(build, status={("lvs", "0"): "failed"})
    assert check.main(["--design", "probe", "--collect-only"]) == 1
    assert "FAILED lvs: boom" in capsys.readouterr().out
    assert check.main(["--design", "nope"]) == 2


def test_nodes_of_other_tasks_read_from_the_sc_manifest(build: Path) -> None:
    """DFT nodes (not EngineTasks) count as run when SC's node manifest says success."""
    job = make_job(build)
    plan = summary.read_plan(job)
    plan["nodes"].insert(1, ["dft_cut", "0"])
    plan["nodes"].insert(2, ["dft_atpg", "0"])
    summary.write_plan(job, plan)
    out = job / "dft_cut" / "0" / "outputs"
    out.mkdir(parents=True)
    (out / "probe.pkg.json").write_text(json.dumps({
        "record": {"status": {"node": {"dft_cut": {"0": {"value": "success"}}}}},
        "metric": {"tasktime": {"node": {"dft_cut": {"0": {"value": 2.345}}}}}}))
    rec = summary.write_summary(load_design("probe"), "job0")[1]
    assert rec["metrics"]["runtime__total__step:dft_cut"] == 2.35
    assert rec["not_run"] == ["dft_atpg"] and rec["metrics"]["flow__passed"] is False
