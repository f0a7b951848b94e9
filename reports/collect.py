"""Read what the flow, DFT and model stages wrote, without inventing anything.

Every value the dashboard shows comes from a file on disk; this module loads those files and
remembers *which* file each value came from, so the page can link it. A stage that did not run
leaves its value as ``None`` (shown "not run"); a file that exists but is malformed raises
:class:`ReportInputError` naming the file and the problem, because silently skipping it would
make a broken run look like one that never ran.

Inputs (contracts in the project issues):

* ``<build>/<design>/signoff.json`` -- flow metrics under ``metrics``, every one named by the
  registry :mod:`gptnano.metrics` (``design__instance__count``, ``design__core__area``,
  ``timing__setup__ws__corner:<c>``, ``power__total``, ``klayout__drc_error__count``,
  ``design__lvs__clean``, ``runtime__total__step:<node>``, ...), plus ``reports`` mapping a
  metric name -> report file. A signoff.json written before the registry (flat ``cells``,
  ``wns_ns``, ...) is read through :func:`gptnano.metrics.legacy_name`, so old nightly run
  folders still show.
* ``<build>/<design>/dft.json`` -- ``scan_flops``, ``chains``, ``stuck_at_coverage`` (percent), ...
  in DFT's own words, named at reading (:data:`gptnano.metrics.DFT_KEYS`).
* ``model/experiments.csv`` -- ``variant, params, bytes, val_ppl, next_token_acc``.
* ``rtl/manifest.json`` -- generated RTL configurations (``configs: {name: {top, params}}``);
  the entry whose ``top`` matches a design's top may give ``cycles_per_token`` (int, or mapping
  variant -> int), ``memory_bits`` and ``variant`` (the deployed model variant), directly or in
  its ``params``. Absent keys show as "n/a".
* ``designs/<name>/config.yaml`` ``variant:`` -- the model variant (an ``experiments.csv`` row)
  the design configuration is built for; its ``val_ppl`` is the design's perplexity.
* ``build/dv/runs/<run>/forward.json`` (+ the run's ``summary.json``) -- a forward pass of the
  model through the RTL: ``tokens`` and, in summary.json, every job's ``cycles``. It counts as
  the latency of RTL configuration ``config`` (the manifest's config name) only when
  forward.json names it; cycles per token = total job cycles / tokens.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from gptnano import metrics as registry
from gptnano import pdk
from gptnano.paths import REPO_ROOT

CORNERS = tuple(pdk.CORNERS)
EXPERIMENT_COLUMNS = ("variant", "params", "bytes", "val_ppl", "next_token_acc")

DFT_NUMERIC_KEYS = ("scan_flops", "chains", "stuck_at_coverage", "vectors")


class ReportInputError(ValueError):
    """A run output exists but cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Sourced:
    """A value together with the file it was read from (``None`` value = not run)."""

    value: Any
    source: Path | None = None
    note: str = ""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def read_json_object(path: Path) -> dict[str, Any]:
    """Load a JSON file that must hold an object; errors name the file."""
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ReportInputError(f"{path}: not valid JSON ({exc})") from exc
    except OSError as exc:
        raise ReportInputError(f"{path}: cannot read ({exc})") from exc
    if not isinstance(data, dict):
        raise ReportInputError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def _legacy_leaves(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and key != "reports":
            out.update(_legacy_leaves(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def upgrade_signoff(data: dict[str, Any]) -> dict[str, Any]:
    """A pre-registry signoff.json (flat ``cells``, ``wns_ns: {corner: slack}``, ...) in the
    current shape: its metrics renamed by :func:`gptnano.metrics.legacy_name`, its report links
    too; keys that were not metrics stay at the top level. Current records pass unchanged."""
    if "metrics" in data:
        return data
    out: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    for key, value in _legacy_leaves(data).items():
        name = registry.legacy_name(key)
        if name is not None and (value is None or isinstance(value, int | float)):
            if value is not None:
                metrics.setdefault(name, value)
        elif "." not in key:
            out[key] = value
    reports = {}
    for key, path in (data.get("reports") or {}).items():
        name = registry.legacy_name(key)
        if name is None and key in registry.LEGACY_PER_CORNER:
            name = registry.LEGACY_PER_CORNER[key]
        if name is not None:
            reports[name] = path
    return {**out, "metrics": metrics, "reports": reports}


def validate_signoff(data: dict[str, Any], path: Path) -> None:
    """Check the names and types of the metrics the dashboard and the goldens rely on."""
    metrics = data.get("metrics")
    if not isinstance(metrics, dict):
        raise ReportInputError(f"{path}: 'metrics' must be a mapping of metric names to values")
    for name, value in metrics.items():
        try:
            metric = registry.lookup(name)
        except registry.UnknownMetric as exc:
            raise ReportInputError(f"{path}: {exc.args[0]}") from exc
        if value is None:
            continue
        if metric.is_bool and not isinstance(value, bool):
            raise ReportInputError(f"{path}: '{name}' must be true/false, got {value!r}")
        if not metric.is_bool and not _is_number(value):
            raise ReportInputError(f"{path}: '{name}' must be a number ({metric.unit}), "
                                   f"got {value!r}")
    if "reports" in data and not isinstance(data["reports"], dict):
        raise ReportInputError(f"{path}: 'reports' must be a mapping, got {data['reports']!r}")


def validate_dft(data: dict[str, Any], path: Path) -> None:
    for key in DFT_NUMERIC_KEYS:
        if key in data and data[key] is not None and not _is_number(data[key]):
            raise ReportInputError(f"{path}: '{key}' must be a number, got {data[key]!r}")
    coverage = data.get("stuck_at_coverage")
    if _is_number(coverage) and not 0 <= coverage <= 100:
        raise ReportInputError(f"{path}: 'stuck_at_coverage' is a percent, got {coverage}")


@dataclass
class DesignRun:
    """Everything one design's run left on disk."""

    name: str
    folder: Path
    signoff: dict[str, Any] | None = None
    signoff_path: Path | None = None
    dft: dict[str, Any] | None = None
    dft_path: Path | None = None
    errors: list[str] = field(default_factory=list)

    def get(self, name: str) -> Sourced:
        """A registry metric of signoff.json (``timing__setup__ws__corner:tt``) with the report
        file it came from (or the json itself)."""
        if self.signoff is None:
            return Sourced(None)
        value = (self.signoff.get("metrics") or {}).get(name)
        return Sourced(value, self.report_for(name) if value is not None else None)

    def field(self, key: str) -> Sourced:
        """A top-level field of signoff.json that is not a metric (``engine``, ``failures``)."""
        if self.signoff is None:
            return Sourced(None)
        value = self.signoff.get(key)
        return Sourced(value, self.signoff_path if value is not None else None)

    def get_dft(self, name: str) -> Sourced:
        """A registry metric (``dft__stuck_at__coverage``) read from dft.json."""
        if self.dft is None:
            return Sourced(None)
        keys = [k for k, v in registry.DFT_KEYS.items() if v == name]
        value = self.dft.get(keys[0]) if keys else None
        return Sourced(value, self.dft_path if value is not None else None)

    def report_for(self, name: str) -> Path | None:
        """The report a metric came from: its ``reports`` entry (or that of the metric without
        its qualifier) if the file exists, else the json."""
        assert self.signoff_path is not None
        reports = self.signoff.get("reports") if self.signoff else None
        if isinstance(reports, dict):
            for candidate in (reports.get(name), reports.get(registry.split(name)[0])):
                if isinstance(candidate, str):
                    resolved = resolve_report(candidate, self.signoff_path.parent)
                    if resolved is not None:
                        return resolved
        return self.signoff_path


def resolve_report(entry: str, base: Path) -> Path | None:
    """A report path from signoff.json: absolute, relative to the json, or to the repository."""
    path = Path(entry)
    candidates = [path] if path.is_absolute() else [base / path, REPO_ROOT / path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    return None


def _load_checked(
    path: Path, validate: Callable[[dict[str, Any], Path], None], errors: list[str],
    upgrade: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> tuple[dict[str, Any] | None, Path | None]:
    """Read and validate one optional JSON file; a bad file is recorded in ``errors``."""
    if not path.is_file():
        return None, None
    try:
        data = read_json_object(path)
        if upgrade is not None:
            data = upgrade(data)
        validate(data, path)
    except ReportInputError as exc:
        errors.append(str(exc))
        return None, None
    return data, path.resolve()


def load_design_run(name: str, folder: Path) -> DesignRun:
    """Load ``signoff.json`` and ``dft.json`` of one design's run folder (either may be absent)."""
    run = DesignRun(name=name, folder=folder)
    run.signoff, run.signoff_path = _load_checked(
        folder / "signoff.json", validate_signoff, run.errors, upgrade_signoff)
    run.dft, run.dft_path = _load_checked(folder / "dft.json", validate_dft, run.errors)
    return run


def load_experiments(path: Path) -> pd.DataFrame | None:
    """``model/experiments.csv`` as a DataFrame, ``None`` if the model stage has not run."""
    if not path.is_file():
        return None
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ReportInputError(f"{path}: not a readable CSV ({exc})") from exc
    missing = [c for c in EXPERIMENT_COLUMNS if c not in frame.columns]
    if missing:
        raise ReportInputError(f"{path}: missing columns {missing} (expected {EXPERIMENT_COLUMNS})")
    for column in ("params", "bytes", "val_ppl", "next_token_acc"):
        converted = pd.to_numeric(frame[column], errors="coerce")
        bad = frame[column][converted.isna() & frame[column].notna()]
        if not bad.empty:
            raise ReportInputError(
                f"{path}: column '{column}' has non-numeric value {bad.iloc[0]!r}")
        frame[column] = converted
    frame["variant"] = frame["variant"].astype(str)
    return frame


def load_manifest(path: Path) -> dict[str, Any] | None:
    """``rtl/manifest.json`` (latency and memory figures of the generated RTL), if present."""
    return read_json_object(path) if path.is_file() else None


def discover_designs(build: Path, designs_dir: Path) -> tuple[list[str], dict[str, str]]:
    """(designs that ran, {design: config error}).

    A design ran when its build folder holds a signoff.json or dft.json; a design folder that
    never ran gets no row. A ``designs/<d>/config.yaml`` that the flow would refuse
    (:func:`gptnano.design_config.load_design` raises) is returned with the flow's message,
    so a broken config shows as an error rather than as a design that was not run.
    """
    from gptnano.design_config import DesignConfigError, load_design

    ran: set[str] = set()
    if build.is_dir():
        ran |= {p.parent.name for p in build.glob("*/signoff.json")}
        ran |= {p.parent.name for p in build.glob("*/dft.json")}
    errors: dict[str, str] = {}
    for config in sorted(designs_dir.glob("*/config.yaml")):
        try:
            load_design(config)
        except DesignConfigError as exc:
            errors[config.parent.name] = str(exc)
    return sorted(ran - set(errors)), errors


def design_setting(designs_dir: Path, name: str, key: str) -> Any:
    """A top-level key of ``designs/<name>/config.yaml`` (the flow helper's file), if any."""
    path = designs_dir / name / "config.yaml"
    if not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError:
        return None  # the flow reports a broken config with the file and line; not ours to repeat
    return data.get(key) if isinstance(data, dict) else None


def variant_ppl(experiments: pd.DataFrame | None, experiments_path: Path, variant: Any,
                config_path: Path) -> Sourced:
    """Validation perplexity of a design's model variant, linked to experiments.csv.

    ``Sourced(None)`` when the design names no variant or the model stage has not run; a
    variant that experiments.csv does not list is an error naming both files, because a
    typo would otherwise silently drop the perplexity from the goldens and the table.
    """
    if variant is None or experiments is None:
        return Sourced(None)
    match = experiments[experiments["variant"] == str(variant)]
    if match.empty or pd.isna(match["val_ppl"].iloc[0]):
        raise ReportInputError(f"{config_path}: variant {variant!r} has no val_ppl in "
                               f"{experiments_path} (known: {', '.join(experiments['variant'])})")
    return Sourced(float(match["val_ppl"].iloc[0]), experiments_path)


def design_model_metrics(designs_dir: Path, name: str, experiments_path: Path
                         ) -> dict[str, Any]:
    """``{"model__perplexity__validation": x}`` for a design whose config names a variant
    (else ``{}``)."""
    variant = design_setting(designs_dir, name, "variant")
    if variant is None:
        return {}
    ppl = variant_ppl(load_experiments(experiments_path), experiments_path, variant,
                      designs_dir / name / "config.yaml")
    return {} if ppl.value is None else {"model__perplexity__validation": ppl.value}


def load_dv_latency(runs_dir: Path, errors: list[str]) -> dict[str, Sourced]:
    """Measured cycles per token per RTL config, from DV forward passes through the RTL.

    Each ``<runs_dir>/*/forward.json`` that names its ``config`` gives total job cycles
    (summary.json ``jobs[].cycles``) / ``len(tokens)``. A forward.json without ``config`` is
    reported in ``errors`` and skipped: without it the figure cannot be tied to a configuration.
    When several runs measured the same config they must agree (they are cycle-exact
    simulations of the same RTL); a disagreement is reported rather than averaged away.
    """
    found: dict[str, Sourced] = {}
    if not runs_dir.is_dir():
        return found
    for forward in sorted(runs_dir.glob("*/forward.json")):
        try:
            data = read_json_object(forward)
            config = data.get("config")
            if not isinstance(config, str):
                errors.append(f"{forward}: no 'config' naming the RTL configuration it ran "
                              "on, so its cycles are not shown (dv should write it)")
                continue
            summary_path = forward.parent / "summary.json"
            jobs = read_json_object(summary_path).get("jobs")
            tokens = data.get("tokens")
            if not isinstance(tokens, list) or not tokens:
                raise ReportInputError(f"{forward}: 'tokens' must be a non-empty list")
            if not isinstance(jobs, list) or not jobs or not all(
                    isinstance(j, dict) and _is_number(j.get("cycles")) for j in jobs):
                raise ReportInputError(f"{summary_path}: 'jobs' must list jobs with 'cycles'")
        except ReportInputError as exc:
            errors.append(str(exc))
            continue
        total = sum(j["cycles"] for j in jobs)
        value = total / len(tokens)
        item = Sourced(value, forward.resolve(),
                       f"measured: {total} cycles of {len(jobs)} jobs / {len(tokens)} tokens "
                       f"({forward.parent.name})")
        earlier = found.get(config)
        if earlier is not None and earlier.value != value:
            errors.append(f"{forward}: {value} cycles/token for {config}, but "
                          f"{earlier.source} measured {earlier.value}")
            continue
        found.setdefault(config, item)
    return found


def load_perf(path: Path) -> dict[str, Any] | None:
    """``build/design/perf.json`` (``python -m design.perf``): cycles and parameter bits per
    token for every (hardware config, model variant) pair, or the reason a config cannot run
    a variant, and each config's synthesized area when an estimate exists. ``None`` when it has
    not been written; a malformed file raises naming it."""
    if not path.is_file():
        return None
    data = read_json_object(path)
    configs, points = data.get("configs"), data.get("points")
    if not isinstance(configs, dict) or not isinstance(points, list):
        raise ReportInputError(f"{path}: expected 'configs' (mapping) and 'points' (list)")
    for point in points:
        if not isinstance(point, dict) or not isinstance(point.get("config"), str) or \
                not isinstance(point.get("variant"), str):
            raise ReportInputError(f"{path}: every point needs 'config' and 'variant', got "
                                   f"{point!r}")
        cycles = point.get("cycles_per_token")
        if cycles is not None and not (_is_number(cycles) and cycles > 0):
            raise ReportInputError(f"{path}: {point['config']}/{point['variant']}: "
                                   f"'cycles_per_token' must be a positive number, got {cycles!r}")
    for name, config in configs.items():
        synth = config.get("synth") if isinstance(config, dict) else None
        if synth is not None and not (isinstance(synth, dict)
                                      and _is_number(synth.get("cell_area_um2"))):
            raise ReportInputError(f"{path}: configs.{name}.synth needs a numeric "
                                   "'cell_area_um2'")
    return data
