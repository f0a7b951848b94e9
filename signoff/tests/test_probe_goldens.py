"""The committed probe goldens against the measured run they were recorded from (no flow run).

``data/probe_signoff.json`` and ``data/probe_dft.json`` are the outputs of nightly
20261124T181252Z-3fae (see the ``_updates`` log in ``designs/probe/rules.json``), minus DFT's
absolute netlist paths. If the goldens are re-recorded from another run, refresh these files
from that run too. The signoff.json predates the metric registry: it is read through the
legacy-name mapping (:func:`reports.collect.upgrade_signoff`), as old nightly folders are.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flow import goldens, nightly

DATA = Path(__file__).parent / "data"
PROBE = goldens.DESIGNS_DIR / "probe"


@pytest.fixture
def probe_tree(tmp_path: Path) -> dict[str, Path]:
    """A build tree holding the measured probe outputs and a copy of the probe design folder."""
    build = tmp_path / "build"
    (build / "probe").mkdir(parents=True)
    shutil.copy(DATA / "probe_signoff.json", build / "probe" / "signoff.json")
    shutil.copy(DATA / "probe_dft.json", build / "probe" / "dft.json")
    designs = tmp_path / "designs"
    shutil.copytree(PROBE, designs / "probe")
    return {"build": build, "designs": designs, "db": tmp_path / "h.sqlite"}


def recheck(tree: dict[str, Path]) -> int:
    return nightly.main(["--skip-flow", "--designs", "probe", "--no-dashboard",
                         "--build", str(tree["build"]), "--designs-dir", str(tree["designs"]),
                         "--db", str(tree["db"])])


def degrade(tree: dict[str, Path], metric: str, value: float) -> None:
    path = tree["designs"] / "probe" / "rules.json"
    rules = json.loads(path.read_text())
    rules[metric]["value"] = value
    path.write_text(json.dumps(rules))


def test_committed_goldens_are_measured_and_pass(probe_tree, capsys) -> None:
    rules = {r.metric: r for r in goldens.load_rules(PROBE / "rules.json")}
    # measured thresholds, not only the signoff specification
    assert {"design__instance__count", "design__core__area", "design__die__area",
            "power__total", "dft__stuck_at__coverage"} <= set(rules)
    log = json.loads((PROBE / "rules.json").read_text())["_updates"]
    measured = [e for e in log if e["changes"]]
    # measured from a run (a nightly, or a flow run updated on purpose with its reason), not
    # a rename or a hand edit
    assert measured[-1]["source"].startswith("build/")
    assert len(measured[-1]["reason"]) > 20
    assert recheck(probe_tree) == 0, capsys.readouterr().out
    assert "PASSED: 1/1 designs pass" in capsys.readouterr().out


@pytest.mark.parametrize(("metric", "threshold", "message"), [
    ("design__instance__count", 400,
     "FAIL probe: design__instance__count = 419 (golden: <= 400)"),
    ("power__total", 0.12, "FAIL probe: power__total = 0.13089 (golden: <= 0.12)"),
    ("dft__stuck_at__coverage", 99.99,
     "FAIL probe: dft__stuck_at__coverage = 99.964 (golden: >= 99.99)"),
    ("timing__setup__ws__corner:ss", 4.0,
     "FAIL probe: timing__setup__ws__corner:ss = 3.2357 (golden: >= 4.0)"),
])
def test_degraded_threshold_fails_naming_metric_value_threshold(
        probe_tree, capsys, metric: str, threshold: float, message: str) -> None:
    degrade(probe_tree, metric, threshold)
    assert recheck(probe_tree) == 1
    out = capsys.readouterr().out
    assert message in out
    assert "FAIL       probe" in out and "FAILED: 0/1 designs pass" in out
