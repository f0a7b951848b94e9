"""``make model`` is reproducible: two runs with the same step budgets give identical files.

The first test is slow (two smoke runs of ``model.build``, ~50 s each on an idle 2-core
machine): ``make test-slow``. The others check its one-line errors.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gptnano.paths import REPO_ROOT
from model.deployed import INT8_NPZ

SMOKE = ["--reuse-checkpoint", "--qat-steps", "2", "--prune-steps", "2", "--eval-windows", "1"]


@pytest.mark.slow
def test_two_builds_give_identical_experiments_and_operands(tmp_path) -> None:
    files = {}
    for run in ("a", "b"):
        out = tmp_path / run
        proc = subprocess.run([sys.executable, "-m", "model.build", *SMOKE, "--out", str(out),
                               "--dest", str(out)], cwd=REPO_ROOT, capture_output=True,
                              text=True, timeout=1800)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        files[run] = {name: (out / name).read_bytes()
                      for name in ("experiments.csv", "base_int8.npz", "base_calib.json")}
    assert files["a"] == files["b"]
    assert files["a"]["base_int8.npz"] == INT8_NPZ.read_bytes()  # the shipped bytes


def test_resume_with_nothing_to_resume_is_one_line_exit_2(tmp_path) -> None:
    proc = subprocess.run([sys.executable, "-m", "model.build", "--resume", "--out",
                           str(tmp_path)], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: --resume: no interrupted training to resume "
        f"({tmp_path / 'train' / 'base' / 'last.pt'} does not exist)"]


def test_missing_corpus_is_one_line_exit_2(tmp_path) -> None:
    env = {**os.environ, "GPTNANO_BUILD": str(tmp_path / "empty_build")}
    proc = subprocess.run([sys.executable, "-m", "model.build", "--reuse-checkpoint", "--out",
                           str(tmp_path / "o"), "--dest", str(tmp_path / "d")],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("error: Brown corpus not found")
