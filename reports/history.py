"""Nightly regression history in SQLite (default ``reports/history.sqlite``).

Why SQLite: one file, no server, readable from pandas (``pd.read_sql``) and the ``sqlite3``
shell, safe against a half-written run because each run is recorded in one transaction.

Schema (``PRAGMA user_version`` = 2)::

    runs(run_id TEXT PRIMARY KEY,      -- '20261124T081500Z-3f9a': UTC start + random suffix
         started_utc TEXT NOT NULL,    -- ISO 8601, UTC
         finished_utc TEXT NOT NULL,
         git_rev TEXT,                 -- repository commit, NULL when not a git checkout
         flow_cmd TEXT NOT NULL,       -- flow command ('skip-flow: <dir>' with --skip-flow)
         run_dir TEXT NOT NULL,        -- the run's outputs: relative to the repository when
                                       -- inside it (build/nightly/<run_id>), else absolute
         passed INTEGER NOT NULL)      -- 1 when every design passed
    results(run_id, design,            -- PRIMARY KEY (run_id, design)
         status TEXT NOT NULL,         -- pass | fail | flow_error | no_metrics | invalid | no_rules
         flow_rc INTEGER,              -- flow exit code, NULL when the flow was skipped
         flow_s REAL,                  -- wall-clock seconds of the flow subprocess
         message TEXT)                 -- first problem, in words
    metrics(run_id, design, key TEXT, value REAL)
                                       -- every numeric metric of the run under its
                                       -- gptnano.metrics name ('timing__setup__ws__corner:tt',
                                       -- 'dft__stuck_at__coverage'), booleans 0/1;
                                       -- PRIMARY KEY (run_id, design, key)
    checks(run_id, design, metric, compare TEXT, threshold TEXT, value TEXT, passed INTEGER)
                                       -- every golden rule evaluated, passing or not
                                       -- (threshold/value as JSON text: numbers or booleans)
    golden_updates(id INTEGER PRIMARY KEY, date_utc TEXT, design TEXT, reason TEXT,
                   source TEXT, changes TEXT)  -- JSON {metric: {old, new, measured}}

Migration: version 1 stored the pre-registry names (``wns_ns.tt``, ``power_total_mw``,
``dft.stuck_at_coverage``, ``runtime_s.<node>``). Opening such a database renames them in
``metrics``, ``checks`` and ``golden_updates`` by :func:`gptnano.metrics.legacy_name`, in one
transaction, and sets version 2. Version-1 rows whose key was not a metric (no registry name,
e.g. a DFT run's free-form fields) are deleted; where two old keys meant one quantity
(``power_mw.total`` and ``power_total_mw``) one row is kept.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gptnano import metrics as registry
from gptnano.paths import REPO_ROOT

DEFAULT_DB = REPO_ROOT / "reports" / "history.sqlite"
SCHEMA_VERSION = 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, started_utc TEXT NOT NULL, finished_utc TEXT NOT NULL,
    git_rev TEXT, flow_cmd TEXT NOT NULL, run_dir TEXT NOT NULL, passed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    run_id TEXT NOT NULL REFERENCES runs(run_id), design TEXT NOT NULL, status TEXT NOT NULL,
    flow_rc INTEGER, flow_s REAL, message TEXT, PRIMARY KEY (run_id, design));
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL REFERENCES runs(run_id), design TEXT NOT NULL, key TEXT NOT NULL,
    value REAL NOT NULL, PRIMARY KEY (run_id, design, key));
CREATE TABLE IF NOT EXISTS checks (
    run_id TEXT NOT NULL REFERENCES runs(run_id), design TEXT NOT NULL, metric TEXT NOT NULL,
    compare TEXT NOT NULL, threshold TEXT NOT NULL, value TEXT, passed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS golden_updates (
    id INTEGER PRIMARY KEY AUTOINCREMENT, date_utc TEXT NOT NULL, design TEXT NOT NULL,
    reason TEXT NOT NULL, source TEXT NOT NULL, changes TEXT NOT NULL);
"""


class HistoryError(RuntimeError):
    """The history database cannot be used; the message names the file."""


@dataclass
class DesignRecord:
    """What one design contributed to a nightly run."""

    design: str
    status: str
    message: str = ""
    flow_rc: int | None = None
    flow_s: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    checks: list[tuple[str, str, Any, Any, bool]] = field(default_factory=list)


@dataclass
class RunRecord:
    run_id: str
    started_utc: str
    finished_utc: str
    git_rev: str | None
    flow_cmd: str
    run_dir: str
    designs: list[DesignRecord]

    @property
    def passed(self) -> bool:
        return bool(self.designs) and all(d.status == "pass" for d in self.designs)


def portable(path: str) -> str:
    """A run folder as stored: repository-relative when inside it, so a copied or cloned
    database still finds its runs."""
    resolved = Path(path).resolve()
    return str(resolved.relative_to(REPO_ROOT)) if resolved.is_relative_to(REPO_ROOT) else path


def run_folder(stored: str) -> Path:
    """The absolute run folder for a stored ``run_dir``."""
    path = Path(stored)
    return path if path.is_absolute() else REPO_ROOT / path


def migrate_v1(con: sqlite3.Connection) -> dict[str, str | None]:
    """Rename version-1 metric keys to registry names (module docstring); returns the
    mapping applied (old -> new, ``None`` = deleted). Runs inside the caller's transaction."""
    keys = {k for (k,) in con.execute("SELECT DISTINCT key FROM metrics")}
    keys |= {k for (k,) in con.execute("SELECT DISTINCT metric FROM checks")}
    renames = {k: registry.legacy_name(k) for k in keys if not registry.is_known(k)}
    for old, new in sorted(renames.items()):
        if new is not None:
            con.execute("UPDATE OR IGNORE metrics SET key = ? WHERE key = ?", (new, old))
            con.execute("UPDATE checks SET metric = ? WHERE metric = ?", (new, old))
        con.execute("DELETE FROM metrics WHERE key = ?", (old,))  # duplicates / non-metrics
        con.execute("DELETE FROM checks WHERE metric = ?", (old,))
    for row_id, changes in con.execute("SELECT id, changes FROM golden_updates").fetchall():
        data = json.loads(changes)
        renamed = {(k if registry.is_known(k) else registry.legacy_name(k) or k): v
                   for k, v in data.items()}
        con.execute("UPDATE golden_updates SET changes = ? WHERE id = ?",
                    (json.dumps(renamed, sort_keys=True), row_id))
    return renames


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """Open (creating if needed) the history database with the current schema, migrating a
    version-1 database first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, timeout=30)) as con:
        try:
            version = con.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, 1, SCHEMA_VERSION):
                raise HistoryError(f"{path}: schema version {version}, this code knows "
                                   f"{SCHEMA_VERSION}")
            con.executescript(SCHEMA)
            if version == 1:
                with con:
                    migrate_v1(con)
                    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            else:
                con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"{path}: not a usable SQLite history database ({exc})") from exc
        yield con


def record_run(path: Path, run: RunRecord) -> None:
    """Append one nightly run (all designs, metrics and checks) in a single transaction; a
    metric name the registry (:mod:`gptnano.metrics`) does not know is refused."""
    names = {k for d in run.designs for k in d.metrics} | {c[0] for d in run.designs
                                                            for c in d.checks}
    unknown = registry.unknown(names)
    if unknown:
        raise HistoryError(f"{path}: run {run.run_id} has metric names not in gptnano.metrics: "
                           f"{', '.join(unknown)}")
    try:
        _insert_run(path, run)
    except sqlite3.IntegrityError as exc:
        raise HistoryError(f"{path}: run {run.run_id} cannot be recorded ({exc}); "
                           "is it already in the history?") from exc


def _insert_run(path: Path, run: RunRecord) -> None:
    with connect(path) as con, con:
        con.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (run.run_id, run.started_utc, run.finished_utc, run.git_rev, run.flow_cmd,
                     portable(run.run_dir), int(run.passed)))
        for d in run.designs:
            con.execute("INSERT INTO results VALUES (?, ?, ?, ?, ?, ?)",
                        (run.run_id, d.design, d.status, d.flow_rc, d.flow_s, d.message))
            con.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?)",
                            [(run.run_id, d.design, k, v) for k, v in d.metrics.items()])
            con.executemany(
                "INSERT INTO checks VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(run.run_id, d.design, metric, compare, json.dumps(threshold), json.dumps(value),
                  int(ok)) for metric, compare, threshold, value, ok in d.checks])


def record_golden_update(path: Path, date_utc: str, design: str, reason: str, source: str,
                         changes: dict[str, Any]) -> None:
    with connect(path) as con, con:
        con.execute("INSERT INTO golden_updates (date_utc, design, reason, source, changes) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (date_utc, design, reason, source, json.dumps(changes, sort_keys=True)))


def _frame(path: Path, query: str, params: Iterable[Any] = ()) -> pd.DataFrame:
    if not path.is_file():
        return pd.DataFrame()
    with connect(path) as con:
        return pd.read_sql_query(query, con, params=tuple(params))


def runs_frame(path: Path) -> pd.DataFrame:
    """All runs, newest first, with counts of failing designs."""
    return _frame(path, """
        SELECT r.*, COUNT(x.design) AS designs,
               SUM(CASE WHEN x.status = 'pass' THEN 0 ELSE 1 END) AS failing
        FROM runs r LEFT JOIN results x USING (run_id)
        GROUP BY r.run_id ORDER BY r.started_utc DESC""")


def results_frame(path: Path, run_id: str) -> pd.DataFrame:
    return _frame(path, "SELECT * FROM results WHERE run_id = ? ORDER BY design", (run_id,))


def checks_frame(path: Path, run_id: str) -> pd.DataFrame:
    return _frame(path, "SELECT * FROM checks WHERE run_id = ? ORDER BY design, metric",
                  (run_id,))


def metrics_history(path: Path) -> pd.DataFrame:
    """(started_utc, run_id, design, key, value) for trend plots."""
    return _frame(path, """
        SELECT r.started_utc, m.run_id, m.design, m.key, m.value
        FROM metrics m JOIN runs r USING (run_id) ORDER BY r.started_utc""")


def golden_updates_frame(path: Path) -> pd.DataFrame:
    return _frame(path, "SELECT * FROM golden_updates ORDER BY id DESC")
