"""A step that dies says how (signal, peak memory); a process tree is ended completely."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from gptnano.proc import StepDied, kill_tree, run_in_child, run_measured
from gptnano.step import StepError


def _grow_then_die() -> None:
    block = bytearray(64 * 1024 * 1024)  # 64 MB touched, so it counts in the peak RSS
    block[::4096] = b"x" * len(block[::4096])
    os.kill(os.getpid(), signal.SIGKILL)  # what the OOM killer does


def _fail() -> None:
    raise StepError("route: 3 nets failed")


def test_killed_step_reports_signal_and_memory() -> None:
    with pytest.raises(StepDied) as info:
        run_in_child("route/0", _grow_then_die)
    assert info.value.signum == signal.SIGKILL and info.value.peak_rss_mb >= 64
    assert "signal 9 (SIGKILL)" in str(info.value) and "out-of-memory" in str(info.value)


def test_child_result_and_error_come_back() -> None:
    assert run_in_child("x", sum, [1, 2, 3]) == 6
    with pytest.raises(StepError, match="3 nets failed") as info:
        run_in_child("route/0", _fail)
    assert "_fail" in info.value.child_traceback


def _tool_subprocess(mb: int) -> int:
    """A step whose memory is in a tool it runs (as KLayout or Magic are), not in itself."""
    code = f"b = bytearray({mb} << 20); b[::4096] = b'x' * len(b[::4096])"
    return subprocess.run([sys.executable, "-c", code], check=True).returncode


def test_peak_memory_counts_the_steps_tools() -> None:
    # The forked child starts at this process's resident size, so the tool must use more than
    # that for its memory to show: this fails if only the step's own process were counted.
    floor_mb = psutil.Process().memory_info().rss / 2**20
    result, peak = run_measured("x", _tool_subprocess, int(floor_mb) + 200)
    assert result == 0
    assert peak >= floor_mb + 200


def test_kill_tree_ends_grandchildren() -> None:
    script = ("import subprocess, sys, time\n"
              "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
              "time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        me = psutil.Process(parent.pid)
        for _ in range(100):
            if me.children():
                break
            time.sleep(0.05)
        grandchild = me.children()[0]
        names = kill_tree(parent.pid, grace_s=2)
        assert names == [f"{grandchild.name()}({grandchild.pid})"]
        assert not grandchild.is_running() or grandchild.status() == psutil.STATUS_ZOMBIE
    finally:
        parent.kill()
        parent.wait()
