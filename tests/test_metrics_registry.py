"""One metric vocabulary (gptnano.metrics): every layer from step to dashboard uses only
registered names.

Layers checked: the engine-key mapping (:data:`gptnano.metrics.ENGINE_KEYS`), SiliconCompiler's
mapping (:mod:`flow.tasks.metrics`), the goldens' defaults and every ``designs/*/rules.json``,
the dashboard's table columns and trend plots, and -- by reading their source -- every metric-
shaped string literal in the modules that write or read metrics (summary, goldens, history,
collect, ppa, plots, dashboard, the flow CLI). signoff.json and the history database are
checked where they are written (``signoff/tests/test_summary.py``: every name of a summarized
run is known; ``reports.history.record_run`` refuses unknown names).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from flow import goldens
from flow.tasks import metrics as sc_metrics
from gptnano import metrics as registry
from gptnano.paths import REPO_ROOT
from reports import plots, ppa

# a METRICS2.1-shaped name: category__object[__measure...][__kind:value]
METRIC_SHAPE = re.compile(r"^[a-z]+(__[a-z0-9_]+)+(__[a-z]+:[A-Za-z0-9_./{}-]*)?$")
LAYER_MODULES = ("flow/summary.py", "flow/goldens.py", "flow/cli.py", "flow/check.py",
                 "flow/tasks/base.py", "flow/tasks/metrics.py", "reports/history.py",
                 "reports/collect.py", "reports/ppa.py", "reports/plots.py",
                 "reports/dashboard.py", "gptnano/metrics.py")


def test_lookup_checks_names_qualifiers_and_corners() -> None:
    assert registry.lookup("timing__setup__ws__corner:ss").unit == "ns"
    assert registry.lookup("runtime__total__step:sta/ss").unit == "s"
    for bad in ("wns_ns", "timing__setup__ws__corner:xx", "design__die__area__corner:tt",
                "timing__setup__ws__step:syn"):
        with pytest.raises(registry.UnknownMetric):
            registry.lookup(bad)


def test_every_metric_has_unit_direction_and_description() -> None:
    for name, metric in registry.REGISTRY.items():
        assert metric.name == name and METRIC_SHAPE.match(name), name
        assert metric.better in ("higher", "lower", "true") and metric.description, name
        assert metric.is_bool == (metric.unit == "bool"), name


def test_mappings_target_registered_names() -> None:
    assert registry.unknown(registry.ENGINE_KEYS.values()) == []
    assert registry.unknown(sc_metrics.SC_METRICS) == []
    assert registry.unknown(registry.LEGACY_FLAT.values()) == []
    assert registry.unknown(registry.LEGACY_PER_CORNER.values()) == []
    assert registry.unknown(registry.DFT_KEYS.values()) == []


def test_engine_boundary_names_corners_and_keeps_details() -> None:
    named, details = registry.from_engine(
        "sta", "ff", {"setup_slack_ns": 1.5, "hold_slack_ns": 0.2, "parasitics": "spef"})
    assert named == {"timing__setup__ws__corner:ff": 1.5, "timing__hold__ws__corner:ff": 0.2}
    assert details == {"parasitics": "spef"}
    named, _ = registry.from_engine("lvs", "0", {"lvs_match": 0})
    assert named == {"design__lvs__clean": False}
    # the same engine key means a different quantity at synthesis and in the layout
    assert registry.from_engine("syn", "0", {"cells": 5})[0] == {
        "synth__design__instance__count": 5}
    assert registry.from_engine("cts", "0", {"cells": 7})[0] == {"design__instance__count": 7}


def test_dft_nodes_speak_the_registry_like_dft_json() -> None:
    """The flow's DFT nodes name their metrics at the same boundary as every step, with the
    names dft.json's keys map to (DFT_KEYS), and SC's test metrics are keyed by those names."""
    from flow.tasks.dft import SC_DFT_METRICS

    named, details = registry.from_engine(
        "atpg", "0", {"dft_stuck_at_coverage": 99.5, "dft_vectors": 61, "dft_faults": 800})
    assert named == {"dft__stuck_at__coverage": 99.5, "dft__pattern__count": 61}
    assert details == {"dft_faults": 800}
    for key, name in registry.DFT_KEYS.items():   # dft.json key -> the node's key, same name
        assert name in {v for (step, k), v in registry.ENGINE_KEYS.items() if k == f"dft_{key}"}
    assert registry.unknown(SC_DFT_METRICS) == []


def test_goldens_and_rules_files_use_registry_names() -> None:
    assert registry.unknown(goldens.DEFAULT_RULES) == []
    assert registry.unknown(goldens.MUST_BE_TRUE) == []
    files = sorted(goldens.DESIGNS_DIR.glob("*/rules.json"))
    assert files
    for path in files:
        rules = goldens.load_rules(path)  # raises GoldenError on an unknown name
        assert registry.unknown(r.metric for r in rules) == [], path


def test_dashboard_columns_and_trends_use_registry_names() -> None:
    columns = [key for key, _ in ppa.COLUMNS]
    assert registry.unknown(c for c in columns if c not in ppa.NOT_METRICS) == []
    assert not any(registry.is_known(c) for c in ppa.NOT_METRICS)
    assert registry.unknown(key for key, _ in plots.TREND_METRICS) == []


def _metric_literals(path: Path) -> list[tuple[int, str]]:
    """Metric-shaped string constants of a module; an f-string contributes its constant text
    up to the first placeholder when that text ends in a qualifier (``...__corner:``)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if METRIC_SHAPE.match(node.value) and "__" in node.value:
                out.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr) and node.values and \
                isinstance(node.values[0], ast.Constant):
            head = str(node.values[0].value)
            if head.endswith(":") and METRIC_SHAPE.match(head):
                out.append((node.lineno, head))
    return out


def test_layer_sources_use_only_registry_names() -> None:
    bad = []
    for rel in LAYER_MODULES:
        for line, text in _metric_literals(REPO_ROOT / rel):
            base, kind, _ = registry.split(text) if not text.endswith(":") else (
                text.rsplit("__", 1)[0], text.rsplit("__", 1)[1][:-1], None)
            metric = registry.REGISTRY.get(base)
            if metric is None or (kind is not None and kind != metric.qualifier):
                bad.append(f"{rel}:{line}: {text}")
    assert bad == []
