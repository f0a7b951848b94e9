"""The real nightly on the probe design: flow + DFT + goldens + history + dashboard (slow)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from gptnano.paths import REPO_ROOT


@pytest.mark.slow
def test_nightly_probe_end_to_end(tmp_path: Path) -> None:
    db, out, build = tmp_path / "h.sqlite", tmp_path / "out", tmp_path / "build"
    proc = subprocess.run(
        [sys.executable, "-m", "signoff.nightly", "--designs", "probe", "--build", str(build),
         "--db", str(db), "--out", str(out)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=3 * 3600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASSED: 1/1 designs pass" in proc.stdout
    run_dir = next((build / "nightly").iterdir())
    signoff = json.loads((run_dir / "probe" / "signoff.json").read_text())
    metrics = signoff["metrics"]
    assert metrics["design__lvs__clean"] is True and metrics["klayout__drc_error__count"] == 0
    assert (run_dir / "probe" / "dft.json").is_file()
    with sqlite3.connect(db) as con:
        checks = con.execute("SELECT COUNT(*), SUM(passed) FROM checks").fetchone()
    assert checks[0] >= 11 and checks[0] == checks[1]
    # the index shows the run's result; the run's own page its layout picture
    index = (out / "index.html").read_text()
    assert '<span class="good">pass</span>' in index and run_dir.name in index
    assert "layout-probe-" in next((out / "runs").glob("*.html")).read_text()
    # the committed goldens were checked, not only the signoff requirements
    with sqlite3.connect(db) as con:
        checked = {m for (m,) in con.execute("SELECT metric FROM checks")}
    assert {"design__instance__count", "power__total", "dft__stuck_at__coverage"} <= checked
