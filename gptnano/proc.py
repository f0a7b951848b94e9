"""Process control for the flow: a step in its own child process, and killing a process tree.

:func:`run_in_child` runs one step function in a forked child and waits for it with
``os.wait4``, which returns how the child ended (exit status or signal) and its resource usage
(peak resident memory). Why: when the OS kills a step (the OOM killer sends SIGKILL), nothing in
the step's own process can report it; issue 16 measured a placer killed at 22 GB whose node
still said ``"status": "running"``. The parent survives the kill and can say how the step died
and how much memory it had used.

:func:`kill_tree` ends a process's descendants (psutil's recursive children): SIGTERM first,
SIGKILL for those still alive after a grace period, so ``kill <flow pid>`` does not leave
workers, KLayout or Magic running and writing into ``build/``.
"""

from __future__ import annotations

import os
import pickle
import signal
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import psutil

T = TypeVar("T")


class StepDied(RuntimeError):
    """The step's process ended without returning (killed by a signal or exited)."""

    def __init__(self, message: str, signum: int | None, peak_rss_mb: float) -> None:
        super().__init__(message)
        self.signum = signum
        self.peak_rss_mb = peak_rss_mb


def death_message(what: str, status: int, peak_rss_mb: float) -> tuple[str, int | None]:
    """How ``what`` ended from a ``wait`` status, and what to try; (message, signal)."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else "?"
        hint = ("SIGKILL is what the kernel's out-of-memory killer sends: check 'dmesg' or "
                "'journalctl -k' for 'Out of memory', give the machine more memory or run fewer "
                "nodes at once (--jobs 1)") if sig == signal.SIGKILL else (
                "it was stopped from outside (kill, logout, a scheduler limit)")
        return (f"{what} was killed by signal {sig} ({name}) after using up to "
                f"{peak_rss_mb:,.0f} MB of memory; {hint}", sig)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    return (f"{what} exited (status {code}) without returning a result after using up to "
            f"{peak_rss_mb:,.0f} MB of memory; see the node log", None)


def _child(fn: Callable[..., Any], args: tuple[Any, ...], write_fd: int) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)  # a stop request ends the step, not a handler
    try:
        payload = ("ok", fn(*args), None)
    except BaseException as exc:  # noqa: BLE001 -- handed to the parent, which re-raises
        payload = ("error", exc, traceback.format_exc())
    try:
        data = pickle.dumps(payload)
    except Exception as exc:  # noqa: BLE001 -- an unpicklable result or exception
        data = pickle.dumps(("error", RuntimeError(f"{type(payload[1]).__name__}: "
                                                   f"{payload[1]} ({exc})"), payload[2]))
    with os.fdopen(write_fd, "wb") as fh:
        fh.write(data)


def run_in_child(what: str, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a forked child; its result, or its exception re-raised here (with the
    child's traceback text as ``exc.child_traceback``). Raises :class:`StepDied` if the child
    ends without a result."""
    return run_measured(what, fn, *args)[0]


def run_measured(what: str, fn: Callable[..., T], *args: Any) -> tuple[T, float]:
    """:func:`run_in_child`, also returning the child's peak resident memory in MB.

    ``wait4``'s ``ru_maxrss`` is the largest of the child and the descendants it waited for
    (KLayout, Magic, OpenSTA run as subprocesses of the step), so it is the step's peak. A
    forked child maps the parent's resident pages from the start, so the figure is never below
    the flow process's own resident size: a floor of a few hundred MB on small steps, not the
    step's cost; on the steps that matter for scale (placement, routing) the step dominates.
"""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        code = 0
        try:
            _child(fn, args, write_fd)
        except BaseException:  # noqa: BLE001
            code = 70
        os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as fh:
        data = fh.read()  # until the child closes its end (returns or dies)
    _, status, usage = os.wait4(pid, 0)
    peak_mb = usage.ru_maxrss / 1024  # kilobytes on Linux
    if not data:
        message, sig = death_message(what, status, peak_mb)
        raise StepDied(message, sig, peak_mb)
    kind, value, tb = pickle.loads(data)
    if kind == "ok":
        return value, round(peak_mb, 1)
    value.child_traceback = tb
    raise value


def kill_tree(pid: int, grace_s: float = 5.0) -> list[str]:
    """SIGTERM every descendant of ``pid``, SIGKILL those alive after ``grace_s``; returns
    ``name(pid)`` of each process signalled."""
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    names = []
    for child in children:
        try:
            names.append(f"{child.name()}({child.pid})")
            child.terminate()
        except psutil.NoSuchProcess:
            continue
    _, alive = psutil.wait_procs(children, timeout=grace_s)
    for child in alive:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(alive, timeout=grace_s)
    return names
