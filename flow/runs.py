"""What a flow run leaves behind, and what the user sees while it runs.

* **The last good result survives a failing run** (:func:`promote`, :func:`write_latest`).
  SiliconCompiler works in the job folder ``build/<design>/<job>/`` and resumes there, re-running
  the nodes whose inputs changed -- after an RTL typo, all of them, deleting the routed layout.
  So a run that finished complete and passing is *promoted*: copied to a new folder
  ``<job>.good.<n>`` (the copy is written under a temporary name and renamed into place, then
  ``build/<design>/signoff.json`` is rewritten atomically to describe it, then older promoted
  copies are deleted), so at every moment ``signoff.json`` names a complete passing run whose
  files exist. ``build/<design>/latest.json`` names both the latest complete run and the latest
  attempt; a failed attempt's ``signoff.json`` stays in its job folder. Before any run has
  passed, ``build/<design>/signoff.json`` describes the latest attempt (there is nothing to keep,
  and the nightly regression reads the failure there).
* **Nodes that did not finish are marked** (:func:`mark_unfinished`): a node whose
  ``reports/metrics.json`` still says ``running`` when the flow stops was killed; it says so.
* **Progress** (:class:`Progress`, a SiliconCompiler ``RunListener``): one line when a node
  starts and when it ends (status, seconds), the nodes reused from the earlier run, and once a
  minute a line per running node with the last line of its log.
* **Noise** (:class:`NoiseFilter`): SiliconCompiler's set-up warning ``Adding sky130hd to
  [asic,asiclib]``, its ``Setting up node ...`` line per node and its ``sc-issue`` hint (a
  bug-report helper, not advice for a failing step) are dropped from the console, and Liberty
  reader warnings are cut out of a multi-line error's tool output; every other record, errors
  above all, passes.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from siliconcompiler.scheduler.listener import RunListener

from gptnano.fileio import atomic_write_json

LATEST_FILE = "latest.json"
GOOD_SUFFIX = ".good."
METRICS_FILE = "metrics.json"


def passed(record: dict[str, Any]) -> bool:
    """Whether a signoff record says the run passed (registry name or the older flat key)."""
    metrics = record.get("metrics")
    if isinstance(metrics, dict) and "flow__passed" in metrics:
        return bool(metrics["flow__passed"])
    return bool(record.get("passed"))


def good_copies(design_dir: Path, jobname: str) -> list[Path]:
    """Promoted copies of ``jobname``, oldest first."""
    out = []
    for p in design_dir.glob(f"{jobname}{GOOD_SUFFIX}*"):
        suffix = p.name[len(jobname) + len(GOOD_SUFFIX):]
        if p.is_dir() and suffix.isdigit():
            out.append((int(suffix), p))
    return [p for _, p in sorted(out)]


def promote(job: Path) -> Path:
    """Copy the finished job folder to a new ``<job>.good.<n>`` (written under a temporary
    name, renamed into place); returns the new folder. Older copies are left for
    :func:`drop_older_copies`, called once ``signoff.json`` points at the new one."""
    existing = good_copies(job.parent, job.name)
    n = int(existing[-1].name.rsplit(".", 1)[1]) + 1 if existing else 1
    target = job.parent / f"{job.name}{GOOD_SUFFIX}{n}"
    tmp = job.parent / f".{target.name}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    shutil.copytree(job, tmp, symlinks=True)
    tmp.rename(target)
    return target


def drop_older_copies(keep: Path) -> list[Path]:
    """Delete promoted copies of the same job older than ``keep``; returns them."""
    jobname = keep.name.rsplit(GOOD_SUFFIX, 1)[0]
    old = [p for p in good_copies(keep.parent, jobname) if p != keep]
    for p in old:
        shutil.rmtree(p, ignore_errors=True)
    return old


def read_latest(design_dir: Path) -> dict[str, Any]:
    path = design_dir / LATEST_FILE
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def write_latest(design_dir: Path, attempt: dict[str, Any], complete: dict[str, Any] | None
                 ) -> Path:
    """``latest.json``: ``attempt`` (the run just made) and ``complete`` (the latest complete
    passing run, kept from the previous file when this attempt did not pass)."""
    previous = read_latest(design_dir)
    body = {"attempt": attempt, "complete": complete or previous.get("complete")}
    path = design_dir / LATEST_FILE
    atomic_write_json(path, body)
    return path


def run_entry(design_dir: Path, job: Path, record: dict[str, Any]) -> dict[str, Any]:
    """One ``latest.json`` entry: job folder, its signoff.json (relative), passed, time."""
    return {"job": job.name, "signoff": str((job / "signoff.json").relative_to(design_dir)),
            "passed": passed(record),
            "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def mark_unfinished(job: Path, nodes: list[tuple[str, str]], reason: str,
                    started: Iterable[tuple[str, str]] = ()) -> list[str]:
    """Nodes whose ``reports/metrics.json`` still says ``running``, and ``started`` nodes
    (launched by the scheduler) that have not written one yet: status ``error`` with
    ``reason`` (they were stopped or died without recording it); returns their names."""
    marked = []
    started = set(started)
    for step, index in [*nodes, *sorted(started - set(nodes))]:
        reports = job / step / index / "reports"
        try:
            body = json.loads((reports / METRICS_FILE).read_text())
        except (OSError, json.JSONDecodeError):
            if (step, index) not in started:
                continue
            body = {"step": step, "index": index, "status": "running", "runtime_s": None,
                    "metrics": {}, "details": {}, "error": None}
        if body.get("status") == "running":
            body.update(status="error", error=reason)
            reports.mkdir(parents=True, exist_ok=True)
            atomic_write_json(reports / METRICS_FILE, body, newline=False, default=str)
            marked.append(f"{step}/{index}")
    return marked


def last_log_line(node: Path, width: int = 120) -> str:
    """The last non-empty line of the node's most recently written log (a step's own progress
    log such as ``reports/route.log``, or SC's task log)."""
    logs = [p for p in (*node.glob("*.log"), *node.glob("reports/*.log"))
            if p.is_file() and p.stat().st_size]
    if not logs:
        return ""
    newest = max(logs, key=lambda p: p.stat().st_mtime)
    with open(newest, "rb") as fh:
        fh.seek(max(0, newest.stat().st_size - 4096))
        lines = [ln.strip() for ln in fh.read().decode(errors="replace").splitlines()
                 if ln.strip()]
    return f"{newest.name}: {lines[-1][:width]}" if lines else ""


class Progress(RunListener):
    """Console lines as nodes start and finish, which nodes were reused, and every
    ``heartbeat_s`` a status line per running node with the last line of its log (route's
    rip-up rounds, DRC, ATPG), so a long step is never silent."""

    def __init__(self, nodes: list[tuple[str, str]], job: str, out: Any = None,
                 folder: Path | None = None, heartbeat_s: float = 60.0) -> None:
        self.nodes = nodes
        self.job = job
        self.out = out
        self.folder = folder
        self.heartbeat_s = heartbeat_s
        self.started: dict[tuple[str, str], float] = {}
        self.running: set[tuple[str, str]] = set()
        self.t0 = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def say(self, text: str) -> None:
        print(f"[{time.monotonic() - self.t0:7.1f}s] {text}", file=self.out, flush=True)

    def beat(self) -> None:
        """One status line per running node."""
        now = time.monotonic()
        for step, index in sorted(self.running):
            where = last_log_line(self.folder / step / index) if self.folder else ""
            self.say(f"running {step}/{index} for {now - self.started[(step, index)]:.0f} s"
                     + (f" -- {where}" if where else ""))

    def _beats(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            self.beat()

    def flow_started(self, project: Any) -> None:
        # The scheduler has marked the nodes it will not run again as finished already.
        reused = [f"{s}/{i}" for s, i in self.nodes
                  if str(project.get("record", "status", step=s, index=i)) == "success"]
        if reused:
            self.say(f"reusing {', '.join(reused)} from job {self.job}")
        if self.heartbeat_s > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._beats, daemon=True)
            self._thread.start()

    def flow_finished(self, project: Any, error: BaseException | None) -> None:
        self._stop.set()

    def run_finished(self, project: Any, error: BaseException | None) -> None:
        self._stop.set()

    def node_started(self, project: Any, step: str, index: str) -> None:
        self.started[(step, index)] = time.monotonic()
        self.running.add((step, index))
        self.say(f"start {step}/{index}")

    def node_finished(self, project: Any, step: str, index: str) -> None:
        self.running.discard((step, index))
        status = project.get("record", "status", step=step, index=index)
        began = self.started.get((step, index))
        took = f" in {time.monotonic() - began:.1f} s" if began is not None else ""
        self.say(f"{'done' if str(status) == 'success' else str(status).upper()} "
                 f"{step}/{index}{took}")


NOISE = (re.compile(r"^Adding \S+ to \[asic,asiclib\]"), re.compile(r"sc-issue"),
         # one line per node before anything runs; the start/finish lines say the same later
         re.compile(r"^Setting up node \S+ with \S+$"))
# OpenSTA's Liberty reader warnings (``Warning: <file>.lib, line 31 default_operating_condition
# ... not found``): the same lines for every Liberty read, ahead of the error a tool tail shows.
LIBERTY_WARNING = re.compile(r"^Warning: \S+\.lib, line \d+ .*$\n?", re.M)


class NoiseFilter(logging.Filter):
    """Drops SiliconCompiler's set-up chatter and bug-report hints, and strips Liberty reader
    warnings out of multi-line messages (the rest of the message, the error, stays)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if any(p.search(text) for p in NOISE):
            return False
        if "\n" in text and LIBERTY_WARNING.search(text):
            record.msg, record.args = LIBERTY_WARNING.sub("", text), ()
        return True


def quiet_sc_noise(logger: logging.Logger) -> NoiseFilter:
    """Install :class:`NoiseFilter` on ``logger`` and its handlers (records logged on child
    loggers reach the handlers without the logger's own filters)."""
    noise = NoiseFilter()
    logger.addFilter(noise)
    for handler in logger.handlers:
        handler.addFilter(noise)
    return noise
