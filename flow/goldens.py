"""Golden thresholds (``designs/<name>/rules.json``): load, check, and update on purpose.

The file follows OpenROAD-flow-scripts' ``rules-base.json``: each key is a metric named by the
registry :mod:`gptnano.metrics` (``design__instance__count``, ``timing__setup__ws__corner:tt``,
``dft__stuck_at__coverage``, ``model__perplexity__validation``) mapped to
``{"value": threshold, "compare": "<=" | "<" | ">=" | ">" | "=="}``. A key the registry does
not know is an error naming the file. An optional ``"margin"`` (relative, 0.1 = 10 %) tells
``update`` how much headroom to leave. Keys starting with ``_`` are metadata: ``_updates`` logs
every deliberate update (date, reason, source, old -> new).

Goldens change only through ``python -m signoff.goldens update --design X --reason "..."``: the
nightly never rewrites them, so a degradation fails loudly instead of becoming the new normal.

Update policy (applied to the measured value, per rule family):

* ``<=`` (cells, areas, power): measured × (1 + margin), margin 10 % unless the rule says;
* violation counts (``*__drc_error__count``): the measured count, no margin;
* slacks (``timing__*__ws*``, ``timing__*__tns*``, ``>=``): timing that is met must stay met
  (threshold 0); timing that is not met (designs with ``timing: {setup: report}``) must not get
  worse by more than ``UNMET_SLACK_MARGIN`` of itself: the placer's float kernels can move the
  last digits of a slack on another CPU, and a threshold equal to one run's value would fail
  on that alone (ORFS pads its setup thresholds for the same reason);
* ``dft__stuck_at__coverage`` (``>=``): measured - 0.5 percentage points;
* ``model__perplexity__validation`` (``<=``, the validation perplexity of the design's model
  variant, from ``model/experiments.csv`` via ``variant:`` in the design's config.yaml):
  measured × 1.02 -- the model README's own quality gate for INT8 is +2 %;
* ``design__lvs__clean``, ``flow__complete``, ``flow__passed`` (``==``): must be true; a run
  failing signoff is refused.

New rules get their comparison from the registry's better-direction (lower -> ``<=``,
higher -> ``>=``, boolean -> ``==``).
"""

from __future__ import annotations

import argparse
import json
import math
import operator
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gptnano import metrics as registry
from gptnano.fileio import atomic_write_json, read_json_object
from gptnano.paths import REPO_ROOT, build_root
from reports.collect import ReportInputError, design_model_metrics, load_design_run

DESIGNS_DIR = REPO_ROOT / "designs"
EXPERIMENTS = REPO_ROOT / "model" / "experiments.csv"
COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt, "==": operator.eq,
}
DEFAULT_MARGIN = 0.10
# Relative headroom of a slack that is not met (see the module docstring).
UNMET_SLACK_MARGIN = 0.05
# Relative margins of ``<=`` rules that must be tighter than DEFAULT_MARGIN.
METRIC_MARGINS = {"model__perplexity__validation": 0.02}
COVERAGE_MARGIN_POINTS = 0.5
COMPARE_FOR = {"lower": "<=", "higher": ">=", "true": "=="}

# Metrics ``update`` adds a rule for when a rules file lacks them and the run measured them.
DEFAULT_RULE_METRICS: tuple[str, ...] = (
    "design__instance__count", "design__core__area", "design__die__area", "power__total",
    *(registry.per_corner("timing__setup__ws", c) for c in registry.CORNERS),
    *(registry.per_corner("timing__hold__ws", c) for c in registry.CORNERS),
    "klayout__drc_error__count", "magic__drc_error__count", "design__lvs__clean",
    "flow__complete", "flow__passed", "dft__stuck_at__coverage",
    "model__perplexity__validation",
)
DEFAULT_RULES: dict[str, str] = {
    name: COMPARE_FOR[registry.lookup(name).better] for name in DEFAULT_RULE_METRICS}
# Signoff requirements: a run where these are false cannot become a golden.
MUST_BE_TRUE = ("flow__complete", "flow__passed", "design__lvs__clean")


class GoldenError(ValueError):
    """A rules file or a metrics source that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Rule:
    metric: str
    compare: str
    value: float | bool
    margin: float | None = None


@dataclass(frozen=True)
class CheckResult:
    rule: Rule
    measured: Any
    passed: bool

    def describe(self) -> str:
        """``cells = 1234 (golden: <= 1000)`` -- the exact metric, value and threshold."""
        shown = "not reported" if self.measured is None else json.dumps(self.measured)
        return (f"{self.rule.metric} = {shown} (golden: {self.rule.compare} "
                f"{json.dumps(self.rule.value)})")


def _number_or_bool(value: Any) -> bool:
    return isinstance(value, bool) or (isinstance(value, int | float) and math.isfinite(value))


def rules_path(design: str, designs_dir: Path = DESIGNS_DIR) -> Path:
    return designs_dir / design / "rules.json"


def read_rules_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise GoldenError(f"{path}: no golden rules file (create one with "
                          f"'python -m signoff.goldens update --design {path.parent.name} "
                          f"--reason \"...\"')")
    return read_json_object(path, GoldenError)


def parse_rules(data: dict[str, Any], path: Path) -> list[Rule]:
    """Check every rule's shape; errors name the file and the metric."""
    rules = []
    for metric, body in data.items():
        if metric.startswith("_"):
            continue
        try:
            registry.lookup(metric)
        except registry.UnknownMetric as exc:
            raise GoldenError(f"{path}: rule {exc.args[0]}") from exc
        if not isinstance(body, dict) or "value" not in body or "compare" not in body:
            raise GoldenError(f"{path}: rule '{metric}' needs 'value' and 'compare', got {body!r}")
        if body["compare"] not in COMPARATORS:
            raise GoldenError(f"{path}: rule '{metric}' has unknown compare {body['compare']!r} "
                              f"(known: {', '.join(COMPARATORS)})")
        if not _number_or_bool(body["value"]):
            raise GoldenError(f"{path}: rule '{metric}' value must be a number or boolean, "
                              f"got {body['value']!r}")
        margin = body.get("margin")
        if margin is not None and (not isinstance(margin, int | float) or margin < 0):
            raise GoldenError(f"{path}: rule '{metric}' margin must be a non-negative number")
        rules.append(Rule(metric, body["compare"], body["value"], margin))
    return rules


def load_rules(path: Path) -> list[Rule]:
    return parse_rules(read_rules_file(path), path)


def check(rules: list[Rule], metrics: dict[str, Any]) -> list[CheckResult]:
    """Evaluate each rule; a metric the run did not report fails (it cannot be vouched for)."""
    results = []
    for rule in rules:
        measured = metrics.get(rule.metric)
        if not _number_or_bool(measured):
            results.append(CheckResult(rule, None, False))
            continue
        if isinstance(rule.value, bool) != isinstance(measured, bool):
            results.append(CheckResult(rule, measured, False))
            continue
        results.append(CheckResult(rule, measured, COMPARATORS[rule.compare](measured, rule.value)))
    return results


def flatten(metrics: dict[str, Any]) -> dict[str, float]:
    """Numeric metrics (booleans as 0/1) -- what the history database stores."""
    return {name: float(value) for name, value in metrics.items() if _number_or_bool(value)}


def run_metrics(run_dir: Path, design: str, designs_dir: Path = DESIGNS_DIR,
                experiments: Path = EXPERIMENTS) -> dict[str, Any]:
    """The registry metrics of one design's run folder: signoff.json's ``metrics``, dft.json's
    figures (named by :data:`gptnano.metrics.DFT_KEYS`) and the perplexity of the design's
    model variant (``designs/<d>/config.yaml`` ``variant:``)."""
    run = load_design_run(design, run_dir)
    if run.errors:
        raise GoldenError("; ".join(run.errors))
    if run.signoff is None and run.dft is None:
        raise GoldenError(f"{run_dir}: no signoff.json or dft.json (has the flow run?)")
    metrics = dict((run.signoff or {}).get("metrics") or {})
    for key, name in registry.DFT_KEYS.items():
        value = (run.dft or {}).get(key)
        if _number_or_bool(value):
            metrics[name] = value
    metrics.update(design_model_metrics(designs_dir, design, experiments))
    return metrics


def new_threshold(metric: str, compare: str, measured: Any, margin: float | None) -> Any:
    """The threshold ``update`` writes for a measured value (policy in the module docstring)."""
    if isinstance(measured, bool) or compare == "==":
        return measured
    base = registry.split(metric)[0]
    if base.endswith("__drc_error__count"):
        return measured
    if base.startswith("timing__") and base.endswith(("__ws", "__tns")) and \
            compare in (">=", ">"):
        slack = float(measured)
        return 0.0 if slack >= 0 else round(slack * (1 + UNMET_SLACK_MARGIN), 4)
    if metric == "dft__stuck_at__coverage":
        return round(float(measured) - (margin if margin is not None else COVERAGE_MARGIN_POINTS),
                     3)
    m = METRIC_MARGINS.get(metric, DEFAULT_MARGIN) if margin is None else margin
    if compare in ("<=", "<"):
        value = measured * (1 + m)
        return math.ceil(value) if isinstance(measured, int) else round(value, 4)
    value = measured - abs(measured) * m
    return math.floor(value) if isinstance(measured, int) else round(value, 4)


def update_rules(path: Path, metrics: dict[str, Any], reason: str, source: str,
                 add_defaults: bool = True, now: datetime | None = None) -> dict[str, Any]:
    """Rewrite thresholds from measured metrics; log the reason; return the changes."""
    if len(reason.strip()) < 8:
        raise GoldenError("a golden update needs a real --reason (at least a few words)")
    data = read_rules_file(path) if path.is_file() else {}
    rules = {r.metric: r for r in parse_rules(data, path)}
    if add_defaults:
        for metric, compare in DEFAULT_RULES.items():
            if metric not in rules and _number_or_bool(metrics.get(metric)):
                rules[metric] = Rule(metric, compare, 0)
    broken = [m for m in MUST_BE_TRUE if metrics.get(m) is False]
    if broken:
        raise GoldenError(f"{source}: {', '.join(f'{m} = false' for m in broken)}; a run that "
                          "fails signoff cannot become the golden (fix the run, or edit the "
                          "rules file by hand and say why in the commit)")
    changes: dict[str, Any] = {}
    for metric, rule in rules.items():
        measured = metrics.get(metric)
        if not _number_or_bool(measured):
            continue  # not measured this time: keep the old threshold rather than guess
        value = new_threshold(metric, rule.compare, measured, rule.margin)
        old = data.get(metric, {}).get("value") if metric in data else None
        body = {"value": value, "compare": rule.compare}
        if rule.margin is not None:
            body["margin"] = rule.margin
        data[metric] = body
        changes[metric] = {"old": old, "new": value, "measured": measured}
    if not changes:
        raise GoldenError(f"{source}: none of the rules' metrics were measured; nothing to update")
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    log = data.get("_updates", [])
    log.append({"date": stamp, "reason": reason.strip(), "source": source, "changes": changes})
    ordered = {k: data[k] for k in sorted(k for k in data if not k.startswith("_"))}
    ordered["_updates"] = log
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, ordered)  # a crash never leaves a half-written rules file
    return {"date": stamp, "changes": changes}


def latest_run_dir(design: str, build: Path) -> Path:
    """Newest nightly run folder with results for ``design``, else ``build/<design>``."""
    candidates = [p.parent for p in (build / "nightly").glob(f"*/{design}/signoff.json")]
    if candidates:
        return max(candidates, key=lambda p: (p / "signoff.json").stat().st_mtime)
    return build / design


def main(argv: list[str] | None = None) -> int:
    from reports import history

    parser = argparse.ArgumentParser(prog="python -m signoff.goldens", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("update", help="rewrite a design's thresholds from a run, with a reason")
    up.add_argument("--design", required=True)
    up.add_argument("--reason", required=True, help="why the goldens change (recorded)")
    up.add_argument("--run-dir", type=Path,
                    help="folder with signoff.json/dft.json (default: newest nightly run of the "
                         "design, else build/<design>)")
    up.add_argument("--no-defaults", action="store_true",
                    help="only update existing rules, do not add the standard ones")
    up.add_argument("--db", type=Path, default=history.DEFAULT_DB)
    up.add_argument("--designs-dir", type=Path, default=DESIGNS_DIR)
    show = sub.add_parser("check", help="check one run folder against a design's goldens")
    show.add_argument("--design", required=True)
    show.add_argument("--run-dir", type=Path)
    show.add_argument("--designs-dir", type=Path, default=DESIGNS_DIR)
    args = parser.parse_args(argv)

    run_dir = args.run_dir or latest_run_dir(args.design, build_root())
    path = rules_path(args.design, args.designs_dir)
    try:
        metrics = run_metrics(run_dir, args.design, args.designs_dir)
        if args.command == "check":
            results = check(load_rules(path), metrics)
            for r in results:
                print(f"{'PASS' if r.passed else 'FAIL'} {args.design}: {r.describe()}")
            return 0 if results and all(r.passed for r in results) else 1
        source = history.portable(str(run_dir))  # no machine paths in a committed file
        update = update_rules(path, metrics, args.reason, source, not args.no_defaults)
    except (GoldenError, ReportInputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    history.record_golden_update(args.db, update["date"], args.design, args.reason.strip(),
                                 source, update["changes"])
    for metric, change in update["changes"].items():
        print(f"{metric}: {change['old']} -> {change['new']} (measured {change['measured']})")
    print(f"updated {path} from {run_dir}; reason recorded in the file and in {args.db}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
