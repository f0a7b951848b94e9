"""The scaling benchmark's table: growth exponents from per-node runtimes, bad input in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reports import scaling


def _write_run(build: Path, design: str, cells: int, passed: bool = True) -> None:
    metrics = {"design__instance__count": cells, "flow__passed": passed,
               # syn linear in cells, route quadratic, memory of route ~ cells^1.5
               "runtime__total__step:syn": 0.01 * cells,
               "runtime__total__step:route": 1e-5 * cells ** 2,
               "memory__peak__step:route": 0.1 * cells ** 1.5}
    folder = build / design
    folder.mkdir(parents=True)
    (folder / "signoff.json").write_text(json.dumps(
        {"design": design, "metrics": metrics, "failures": [] if passed else ["route: 3 nets"]}))


@pytest.fixture
def build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GPTNANO_BUILD", str(tmp_path / "build"))
    return tmp_path / "build"


def test_growth_exponents_and_table(build: Path, tmp_path: Path) -> None:
    for design, cells in (("a", 300), ("b", 5000), ("c", 10000)):
        _write_run(build, design, cells, passed=design != "c")
    out = tmp_path / "out"
    assert scaling.main(["--designs", "a", "b", "c", "--out", str(out)]) == 0
    summary = json.loads((out / "scaling.json").read_text())
    assert summary["growth_exponent"]["syn"]["runtime"] == pytest.approx(1.0, abs=0.01)
    assert summary["growth_exponent"]["route"]["runtime"] == pytest.approx(2.0, abs=0.01)
    assert summary["growth_exponent"]["route"]["memory"] == pytest.approx(1.5, abs=0.01)
    table = (out / "scaling.md").read_text()
    assert "| c | 10,000 | no: route: 3 nets" in table
    assert "| route | 0.9 / 520 | 250.0 / 35,355 | 1,000.0 / 100,000 | 2.00 |" in table
    assert (out / "scaling.png").stat().st_size > 0


def test_missing_and_bad_runs(build: Path, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    _write_run(build, "a", 300)
    out = tmp_path / "out"
    assert scaling.main(["--designs", "a", "nowhere", "--out", str(out)]) == 0
    assert "nowhere: no run" in capsys.readouterr().err
    (build / "bad").mkdir()
    (build / "bad" / "signoff.json").write_text("{not json")
    assert scaling.main(["--designs", "a", "bad", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad/signoff.json: not valid JSON" in err[0]
