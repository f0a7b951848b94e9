"""The SQLite history: one transaction per run, readable back as DataFrames, bad files named."""

from __future__ import annotations

from pathlib import Path

import pytest

from reports import history


def record(run_id: str, started: str, cells: float, status: str = "pass") -> history.RunRecord:
    design = history.DesignRecord("probe", status, "", 0, 12.5, {"cells": cells, "wns_ns.tt": 1.0},
                                  [("cells", "<=", 900, cells, cells <= 900)])
    return history.RunRecord(run_id, started, started, "abc123", "flow", f"/b/{run_id}", [design])


def test_runs_metrics_and_checks_round_trip(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "h.sqlite"
    history.record_run(db, record("r1", "2026-01-01T00:00:00Z", 800))
    history.record_run(db, record("r2", "2026-01-02T00:00:00Z", 950, "fail"))
    runs = history.runs_frame(db)
    assert list(runs["run_id"]) == ["r2", "r1"]  # newest first
    assert list(runs["passed"]) == [0, 1] and list(runs["failing"]) == [1, 0]
    trend = history.metrics_history(db)
    cells = trend[trend["key"] == "cells"]
    assert list(cells["value"]) == [800.0, 950.0]
    checks = history.checks_frame(db, "r2")
    assert checks.iloc[0]["threshold"] == "900" and checks.iloc[0]["passed"] == 0


def test_duplicate_run_is_rejected_without_partial_rows(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    history.record_run(db, record("r1", "2026-01-01T00:00:00Z", 800))
    with pytest.raises(history.HistoryError, match="run r1 cannot be recorded .*UNIQUE"):
        history.record_run(db, record("r1", "2026-01-01T00:00:00Z", 801))
    assert len(history.metrics_history(db)) == 2  # the failed insert left nothing behind


def test_not_a_database_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "h.sqlite"
    bad.write_text("this is not sqlite " * 100)
    with pytest.raises(history.HistoryError, match="h.sqlite: not a usable SQLite"):
        history.runs_frame(bad)


def test_missing_database_reads_as_empty(tmp_path: Path) -> None:
    assert history.runs_frame(tmp_path / "none.sqlite").empty
    assert not (tmp_path / "none.sqlite").exists()


def test_golden_update_rows(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    history.record_golden_update(db, "2026-01-01T00:00:00Z", "probe", "why not", "src",
                                 {"cells": {"old": 1, "new": 2, "measured": 2}})
    frame = history.golden_updates_frame(db)
    assert frame.iloc[0]["reason"] == "why not"


def test_run_folders_inside_the_repository_are_stored_relative(tmp_path: Path) -> None:
    inside = history.REPO_ROOT / "build" / "nightly" / "r1"
    assert history.portable(str(inside)) == "build/nightly/r1"
    assert history.run_folder("build/nightly/r1") == inside
    assert history.portable(str(tmp_path)) == str(tmp_path)
    assert history.run_folder(str(tmp_path)) == tmp_path
