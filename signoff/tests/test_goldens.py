"""Golden rules: errors name the file, checks give metric/value/threshold, updates log why."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flow import goldens
from reports.collect import ReportInputError

SETUP = "timing__setup__ws__corner:"
HOLD = "timing__hold__ws__corner:"
# registry metrics of one run (signoff.json's "metrics")
METRICS = {
    "design__instance__count": 1234, "design__core__area": 5000.0,
    "design__instance__utilization": 0.4, "clock__period": 10.0,
    SETUP + "ss": -0.25, SETUP + "tt": 1.5, SETUP + "ff": 3.0,
    HOLD + "ss": 0.2, HOLD + "tt": 0.1, HOLD + "ff": 0.05,
    "power__dynamic__total": 1.5, "power__leakage__total": 0.01, "power__total": 1.51,
    "klayout__drc_error__count": 0, "magic__drc_error__count": 0,
    "design__lvs__clean": True, "runtime__total__step:place": 3.0,
}


def signoff_json(metrics: dict) -> str:
    return json.dumps({"design": "d", "engine": "embedded", "metrics": metrics})


def write_rules(path: Path, rules: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rules))
    return path


def test_check_reports_exact_metric_value_and_threshold(tmp_path: Path) -> None:
    path = write_rules(tmp_path / "rules.json", {
        "design__instance__count": {"value": 1000, "compare": "<="},
        SETUP + "tt": {"value": 0, "compare": ">="},
        "design__lvs__clean": {"value": True, "compare": "=="},
    })
    results = goldens.check(goldens.load_rules(path), METRICS)
    failed = [r for r in results if not r.passed]
    assert [r.rule.metric for r in failed] == ["design__instance__count"]
    assert failed[0].describe() == "design__instance__count = 1234 (golden: <= 1000)"


def test_missing_metric_and_type_mismatch_fail(tmp_path: Path) -> None:
    path = write_rules(tmp_path / "rules.json", {
        "dft__stuck_at__coverage": {"value": 95, "compare": ">="},
        "design__lvs__clean": {"value": 1, "compare": "=="},
    })
    results = goldens.check(goldens.load_rules(path), METRICS)
    assert not any(r.passed for r in results)
    assert results[0].describe() == "dft__stuck_at__coverage = not reported (golden: >= 95)"


@pytest.mark.parametrize(("rules", "fragment"), [
    ({"design__instance__count": {"value": 1}},
     "'design__instance__count' needs 'value' and 'compare'"),
    ({"design__instance__count": {"value": 1, "compare": "~"}}, "unknown compare '~'"),
    ({"design__instance__count": {"value": "many", "compare": "<="}},
     "must be a number or boolean"),
    ({"cells": {"value": 1, "compare": "<="}}, "metric 'cells' is not in gptnano.metrics"),
    ({"timing__setup__ws__corner:xx": {"value": 0, "compare": ">="}}, "unknown corner 'xx'"),
])
def test_bad_rules_name_file_and_metric(tmp_path: Path, rules: dict, fragment: str) -> None:
    path = write_rules(tmp_path / "d" / "rules.json", rules)
    with pytest.raises(goldens.GoldenError, match=fragment) as info:
        goldens.load_rules(path)
    assert str(path) in str(info.value)


def test_missing_rules_file_says_how_to_create(tmp_path: Path) -> None:
    with pytest.raises(goldens.GoldenError, match="signoff.goldens update --design d"):
        goldens.load_rules(tmp_path / "d" / "rules.json")


def test_flatten() -> None:
    flat = goldens.flatten(dict(METRICS, note="text"))
    assert flat[SETUP + "ss"] == -0.25 and flat["design__lvs__clean"] == 1.0
    assert flat["power__total"] == pytest.approx(1.51)
    assert "note" not in flat


def test_update_policy_and_reason_log(tmp_path: Path) -> None:
    path = write_rules(tmp_path / "rules.json", {"design__instance__count": {
        "value": 1, "compare": "<=", "margin": 0.05}})
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    update = goldens.update_rules(path, METRICS, "new multiplier array", "run/x", now=now)
    data = json.loads(path.read_text())
    # ceil(1234 * 1.05)
    assert data["design__instance__count"] == {"value": 1296, "compare": "<=", "margin": 0.05}
    assert data["design__core__area"]["value"] == pytest.approx(5500.0)
    assert data[SETUP + "ss"]["value"] == -0.2625  # not met: no worse than measured - 5 %
    assert data[SETUP + "tt"]["value"] == 0.0  # met: must stay met
    assert data["design__lvs__clean"] == {"value": True, "compare": "=="}
    assert data["klayout__drc_error__count"] == {"value": 0, "compare": "<="}
    assert data["power__total"]["value"] == pytest.approx(1.661)
    assert "dft__stuck_at__coverage" not in data  # not measured: no rule invented
    entry = data["_updates"][-1]
    assert entry["reason"] == "new multiplier array" and entry["date"] == "2026-01-02T03:04:05Z"
    assert entry["changes"]["design__instance__count"] == {"old": 1, "new": 1296,
                                                           "measured": 1234}
    assert update["changes"] == entry["changes"]
    # the updated goldens accept the run they were made from
    assert all(r.passed for r in goldens.check(goldens.load_rules(path), METRICS))


def test_update_needs_a_reason(tmp_path: Path) -> None:
    with pytest.raises(goldens.GoldenError, match="--reason"):
        goldens.update_rules(tmp_path / "rules.json", METRICS, "  ", "x")
    assert not (tmp_path / "rules.json").exists()


def test_cli_update_records_file_and_history(tmp_path: Path, capsys) -> None:
    run_dir = tmp_path / "run" / "d"
    run_dir.mkdir(parents=True)
    (run_dir / "signoff.json").write_text(signoff_json(METRICS))
    (run_dir / "dft.json").write_text(json.dumps({"stuck_at_coverage": 97.25}))
    db = tmp_path / "h.sqlite"
    rc = goldens.main(["update", "--design", "d", "--reason", "first measured probe run",
                       "--run-dir", str(run_dir), "--db", str(db),
                       "--designs-dir", str(tmp_path / "designs")])
    assert rc == 0, capsys.readouterr().err
    data = json.loads((tmp_path / "designs" / "d" / "rules.json").read_text())
    assert data["dft__stuck_at__coverage"] == {"value": 96.75, "compare": ">="}
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT design, reason, source FROM golden_updates").fetchall()
    assert rows == [("d", "first measured probe run", str(run_dir))]
    rc = goldens.main(["check", "--design", "d", "--run-dir", str(run_dir),
                       "--designs-dir", str(tmp_path / "designs")])
    assert rc == 0


def test_cli_reports_bad_metrics_file(tmp_path: Path, capsys) -> None:
    run_dir = tmp_path / "d"
    run_dir.mkdir()
    (run_dir / "signoff.json").write_text("{not json")
    rc = goldens.main(["update", "--design", "d", "--reason", "some real reason",
                       "--run-dir", str(run_dir), "--db", str(tmp_path / "h.sqlite"),
                       "--designs-dir", str(tmp_path)])
    assert rc == 2
    err = capsys.readouterr().err
    assert "signoff.json: not valid JSON" in err


def test_shipped_rules_load() -> None:
    for path in sorted(goldens.DESIGNS_DIR.glob("*/rules.json")):
        assert goldens.load_rules(path), path


def test_update_refuses_a_run_that_fails_signoff(tmp_path: Path) -> None:
    with pytest.raises(goldens.GoldenError, match="design__lvs__clean = false"):
        goldens.update_rules(tmp_path / "rules.json", dict(METRICS, design__lvs__clean=False),
                             "accept whatever came out", "run/x")
    assert not (tmp_path / "rules.json").exists()


def write_variant_design(tmp_path: Path, variant: str) -> tuple[Path, Path, Path]:
    designs = tmp_path / "designs"
    (designs / "d").mkdir(parents=True)
    (designs / "d" / "config.yaml").write_text(f"name: d\nvariant: {variant}\n")
    experiments = tmp_path / "experiments.csv"
    experiments.write_text("variant,params,bytes,val_ppl,next_token_acc\n"
                           "fp32,10,40,42.625,0.23\nw8a8_group,10,12,42.655,0.23\n")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "signoff.json").write_text(signoff_json(
        dict(METRICS, flow__complete=True, flow__passed=True)))
    return designs, experiments, run_dir


def test_val_ppl_of_the_design_variant_is_a_metric_with_a_tight_margin(tmp_path: Path) -> None:
    designs, experiments, run_dir = write_variant_design(tmp_path, "w8a8_group")
    metrics = goldens.run_metrics(run_dir, "d", designs, experiments)
    ppl = "model__perplexity__validation"
    assert metrics[ppl] == 42.655
    update = goldens.update_rules(tmp_path / "rules.json", metrics, "first measured run",
                                  "run/x")
    assert update["changes"][ppl]["new"] == round(42.655 * 1.02, 4)
    rules = goldens.load_rules(tmp_path / "rules.json")
    worse = dict(metrics, **{ppl: 44.0})
    failed = [r.describe() for r in goldens.check(rules, worse) if not r.passed]
    assert failed == [f"{ppl} = 44.0 (golden: <= {round(42.655 * 1.02, 4)})"]


def test_unknown_variant_names_config_and_experiments(tmp_path: Path) -> None:
    designs, experiments, run_dir = write_variant_design(tmp_path, "int3")
    with pytest.raises(ReportInputError, match=r"config.yaml: variant 'int3' has no val_ppl "
                                               r"in .*experiments.csv \(known: fp32, w8a8"):
        goldens.run_metrics(run_dir, "d", designs, experiments)


def test_update_source_inside_the_repository_is_relative(tmp_path: Path) -> None:
    """rules.json is committed: its log must not carry this machine's absolute paths."""
    scratch = goldens.REPO_ROOT / "build" / "test_goldens" / tmp_path.name
    run_dir = scratch / "d"
    run_dir.mkdir(parents=True)
    try:
        (run_dir / "signoff.json").write_text(signoff_json(METRICS))
        rc = goldens.main(["update", "--design", "d", "--reason", "relative source check",
                           "--run-dir", str(run_dir), "--db", str(tmp_path / "h.sqlite"),
                           "--designs-dir", str(tmp_path / "designs")])
        assert rc == 0
        log = json.loads((tmp_path / "designs" / "d" / "rules.json").read_text())["_updates"]
        assert log[-1]["source"] == f"build/test_goldens/{tmp_path.name}/d"
    finally:
        shutil.rmtree(scratch)
        if not any(scratch.parent.iterdir()):
            scratch.parent.rmdir()


def test_legacy_signoff_json_is_read_under_registry_names(tmp_path: Path) -> None:
    """A run folder from before the registry (flat keys, wns_ns = setup slack per corner)
    still checks against the migrated rules."""
    run_dir = tmp_path / "d"
    run_dir.mkdir()
    (run_dir / "signoff.json").write_text(json.dumps({
        "design": "d", "complete": True, "passed": True, "cells": 419,
        "wns_ns": {"ss": 3.2, "tt": 19.0, "ff": 19.3}, "power_mw": {"total": 0.13},
        "lvs_clean": True, "runtime_s": {"sta/ss": 1.2}}))
    metrics = goldens.run_metrics(run_dir, "d", tmp_path / "designs", tmp_path / "none.csv")
    assert metrics == {"flow__complete": True, "flow__passed": True,
                       "design__instance__count": 419, SETUP + "ss": 3.2, SETUP + "tt": 19.0,
                       SETUP + "ff": 19.3, "power__total": 0.13, "design__lvs__clean": True,
                       "runtime__total__step:sta/ss": 1.2}
