"""One exit-code convention across the command lines: 2 for a usage or configuration error,
reported in one line without a traceback (issue 16 found tracebacks and 1s for user mistakes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("cmd", [
    ["siliconcompiler.py", "--design", "nosuch"],
    ["siliconcompiler.py", "--design", "../../../x"],
    ["siliconcompiler.py", "--design", "probe", "--jobname", "a b"],
    ["-m", "signoff.check", "--design", "nosuch"],
    ["-m", "dft.run", "--design", "nosuch"],
    ["-m", "flow.nightly", "--designs", "../x", "--no-dashboard"],
    ["-m", "flow.run_engine", "--design", "nosuch", "--out", "new_out"],
    ["-m", "flow.run_engine", "--design", "probe", "--out", "/tmp/a b/c"],
    ["-m", "dft.run", "--design", "probe", "--build", "/tmp/[x]"],
])
def test_usage_errors_exit_2_in_one_line(cmd: list[str], tmp_path: Path) -> None:
    env = dict(os.environ, GPTNANO_BUILD=str(tmp_path))
    proc = subprocess.run([sys.executable, *cmd], cwd=REPO, capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "error" in lines[0] and "Traceback" not in proc.stderr


def test_missing_pdk_is_a_setup_error(tmp_path: Path) -> None:
    env = dict(os.environ, GPTNANO_BUILD=str(tmp_path), GPTNANO_SHARED=str(tmp_path / "no"))
    proc = subprocess.run([sys.executable, "siliconcompiler.py", "--design", "probe"], cwd=REPO,
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 2 and "GPTNANO_SHARED" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
