"""Per-job lock: a second run of a job stops at once naming the holder; a dead holder's lock is
taken over with its record kept for the message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gptnano.lock import JobLock, LockHeld

HOLD = """
import sys, time
from pathlib import Path
from gptnano.lock import JobLock
lock = JobLock(Path(sys.argv[1]), "job", command="holder").acquire()
print("locked", flush=True)
time.sleep(60)
"""


def test_second_run_is_refused_with_the_holder_named(tmp_path: Path) -> None:
    path = tmp_path / "job0.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE,
                              text=True, cwd=Path(__file__).resolve().parent.parent)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(LockHeld, match=rf"pid {holder.pid} on .*started .*UTC: holder"):
            JobLock(path, "probe job0").acquire()
    finally:
        holder.kill()
        holder.wait()
    # the holder was killed (SIGKILL: no clean-up ran): its lock is free, its record stale
    with JobLock(path, "probe job0") as lock:
        assert lock.stale is not None and lock.stale["pid"] == holder.pid
        assert json.loads(path.read_text())["pid"] == os.getpid()
    assert path.read_text() == ""  # released cleanly
    with JobLock(path, "probe job0") as lock:
        assert lock.stale is None
