"""The SQLite history: one transaction per run, readable back as DataFrames, bad files named."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from reports import history

CELLS = "design__instance__count"


def record(run_id: str, started: str, cells: float, status: str = "pass") -> history.RunRecord:
    design = history.DesignRecord("probe", status, "", 0, 12.5,
                                  {CELLS: cells, "timing__setup__ws__corner:tt": 1.0},
                                  [(CELLS, "<=", 900, cells, cells <= 900)])
    return history.RunRecord(run_id, started, started, "abc123", "flow", f"/b/{run_id}", [design])


def test_runs_metrics_and_checks_round_trip(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "h.sqlite"
    history.record_run(db, record("r1", "2026-01-01T00:00:00Z", 800))
    history.record_run(db, record("r2", "2026-01-02T00:00:00Z", 950, "fail"))
    runs = history.runs_frame(db)
    assert list(runs["run_id"]) == ["r2", "r1"]  # newest first
    assert list(runs["passed"]) == [0, 1] and list(runs["failing"]) == [1, 0]
    trend = history.metrics_history(db)
    cells = trend[trend["key"] == CELLS]
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
                                 {CELLS: {"old": 1, "new": 2, "measured": 2}})
    frame = history.golden_updates_frame(db)
    assert frame.iloc[0]["reason"] == "why not"


def test_run_folders_inside_the_repository_are_stored_relative(tmp_path: Path) -> None:
    inside = history.REPO_ROOT / "build" / "nightly" / "r1"
    assert history.portable(str(inside)) == "build/nightly/r1"
    assert history.run_folder("build/nightly/r1") == inside
    assert history.portable(str(tmp_path)) == str(tmp_path)
    assert history.run_folder(str(tmp_path)) == tmp_path


def test_unknown_metric_names_are_refused(tmp_path: Path) -> None:
    run = record("r1", "2026-01-01T00:00:00Z", 800)
    run.designs[0].metrics["wns_ns.tt"] = 1.0
    with pytest.raises(history.HistoryError, match="not in gptnano.metrics: wns_ns.tt"):
        history.record_run(tmp_path / "h.sqlite", run)
    assert history.runs_frame(tmp_path / "h.sqlite").empty


V1_ROWS = {  # pre-registry keys as version 1 stored them -> registry name (None: dropped)
    "cells": "design__instance__count", "wns_ns.tt": "timing__setup__ws__corner:tt",
    "hold_wns_ns.ff": "timing__hold__ws__corner:ff", "power_total_mw": "power__total",
    "power_mw.total": "power__total", "power_mw.dynamic": "power__dynamic__total",
    "dft.stuck_at_coverage": "dft__stuck_at__coverage", "lvs_clean": "design__lvs__clean",
    "runtime_s.sta/ss": "runtime__total__step:sta/ss", "fmax_mhz_by_corner.ss":
    "timing__fmax__corner:ss", "dft.chain_lengths.0": None,
}


def test_version_1_database_is_migrated_on_open(tmp_path: Path) -> None:
    """A history written before the metric registry: keys renamed in metrics, checks and
    golden_updates, in one transaction, version 2 afterwards; a second open changes nothing."""
    db = tmp_path / "h.sqlite"
    with sqlite3.connect(db) as con:
        con.executescript(history.SCHEMA)
        con.execute("PRAGMA user_version = 1")
        con.execute("INSERT INTO runs VALUES ('r1', 't0', 't1', NULL, 'flow', 'b/r1', 1)")
        con.executemany("INSERT INTO metrics VALUES ('r1', 'probe', ?, ?)",
                        [(k, float(i)) for i, k in enumerate(V1_ROWS)])
        con.execute("INSERT INTO checks VALUES ('r1', 'probe', 'wns_ns.ss', '>=', '0', '3.2', 1)")
        con.execute("INSERT INTO golden_updates (date_utc, design, reason, source, changes) "
                    "VALUES ('d', 'probe', 'why', 'src', ?)",
                    (json.dumps({"cells": {"old": 1}, "val_ppl": {"old": 2}}),))
    for _ in range(2):
        rows = dict(zip(*(history.metrics_history(db)[c] for c in ("key", "value")),
                        strict=True))
        expected = {v for v in V1_ROWS.values() if v is not None}
        assert set(rows) == expected
        assert rows["timing__setup__ws__corner:tt"] == 1.0  # the value moved with its key
        # two old keys for one quantity: the first renamed is kept (same value in real runs)
        assert rows["power__total"] in (3.0, 4.0)
        assert list(history.checks_frame(db, "r1")["metric"]) == ["timing__setup__ws__corner:ss"]
        changes = json.loads(history.golden_updates_frame(db).iloc[0]["changes"])
        assert set(changes) == {"design__instance__count", "model__perplexity__validation"}
        with sqlite3.connect(db) as con:
            assert con.execute("PRAGMA user_version").fetchone() == (2,)
