"""``kill <flow pid>`` ends the whole process tree and marks the running node killed (issue 16:
workers, KLayout and Magic kept running and writing into build/). One real probe run, stopped
as soon as timing repair or routing is running (about 30 s)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent


# Nodes that run for seconds (timing repair, routing), so the stop lands inside one.
LONG_NODES = ("rsz", "route")


def _running_node(job: Path) -> Path | None:
    for step in LONG_NODES:
        path = job / step / "0" / "reports" / "metrics.json"
        try:
            if json.loads(path.read_text()).get("status") == "running":
                return path
        except (OSError, json.JSONDecodeError):
            continue
    return None


def test_sigterm_ends_the_process_tree_and_marks_the_node(tmp_path: Path) -> None:
    env = dict(os.environ, GPTNANO_BUILD=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "siliconcompiler.py", "--design", "probe"],
                            cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    job = tmp_path / "probe" / "job0"
    try:
        deadline = time.monotonic() + 240
        node = None
        while node is None and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
            node = _running_node(job)
        assert node is not None, f"none of {LONG_NODES} started"
        tree = psutil.Process(proc.pid).children(recursive=True)
        assert tree, "the flow has no worker processes"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM
    assert "stopping: received SIGTERM" in err and "re-run the same command to resume" in err
    _, alive = psutil.wait_procs(tree, timeout=10)
    assert [p for p in alive if p.status() != psutil.STATUS_ZOMBIE] == []
    latest = json.loads((job.parent / "latest.json").read_text())
    assert latest["attempt"]["stopped_by"] == "SIGTERM" and latest["attempt"]["passed"] is False
    records = [json.loads(p.read_text()) for p in job.glob("*/*/reports/metrics.json")]
    assert not [r for r in records if r["status"] == "running"]
    assert [r for r in records
            if r["status"] == "error" and r["error"] == "killed: the flow was stopped by SIGTERM"]
