"""One run per job folder: an exclusive ``fcntl.flock`` on ``<job>.lock`` beside the job.

Why: two runs of one design in the same job folder overwrite each other's files and fail with
misleading errors (issue 16: ``Can't open output file``, ``missing input view``), and the last
writer decides ``signoff.json``. ``flock`` is the kernel's advisory lock: it is released when
the holder's process ends, however it ends, so a crashed or killed run never blocks the next
one. The lock file records the holder (pid, host, start time) so the refused run can name it;
a file that still names a holder whose lock is gone is a stale record of a run that died, and
is taken over with a message. The file sits *beside* the job folder, not in it: SiliconCompiler
empties the job folder when it re-runs every node, which would delete a lock held inside it.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any


class LockHeld(RuntimeError):
    """Another live run holds the lock; the message names it."""


def describe(holder: dict[str, Any]) -> str:
    started = holder.get("started")
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(started)) if isinstance(
        started, int | float) else "unknown time"
    return (f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, started {when}"
            + (f": {holder['command']}" if holder.get("command") else ""))


class JobLock:
    """``with JobLock(path, what) as lock:`` -- raises :class:`LockHeld` if taken;
    ``lock.stale`` is the dead holder's record when one was taken over, else ``None``."""

    def __init__(self, path: Path, what: str, command: str = "") -> None:
        self.path = path
        self.what = what
        self.command = command
        self.stale: dict[str, Any] | None = None
        self._fh: IO[str] | None = None

    def _read(self, fh: IO[str]) -> dict[str, Any]:
        fh.seek(0)
        try:
            data = json.loads(fh.read() or "{}")
        except json.JSONDecodeError:
            return {}
        return data if isinstance(data, dict) else {}

    def acquire(self) -> JobLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")  # noqa: SIM115 -- held open for the run's lifetime
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._read(fh)
            fh.close()
            raise LockHeld(f"{self.what} is already running ({describe(holder)}); wait for "
                           f"it or stop it, or use another --jobname (lock: {self.path})"
                           ) from None
        previous = self._read(fh)
        if previous.get("pid"):
            self.stale = previous  # its process ended without releasing: taken over
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                             "started": time.time(), "command": self.command}))
        fh.flush()
        self._fh = fh
        return self

    def release(self) -> None:
        if self._fh is None:
            return
        self._fh.seek(0)
        self._fh.truncate()  # an empty file = released cleanly
        self._fh.flush()
        fcntl.flock(self._fh, fcntl.LOCK_UN)
        self._fh.close()
        self._fh = None

    def __enter__(self) -> JobLock:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
