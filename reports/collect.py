"""Read what the flow, DFT and model stages wrote, without inventing anything.

Every value the dashboard shows comes from a file on disk; this module loads those files and
remembers *which* file each value came from, so the page can link it. A stage that did not run
leaves its value as ``None`` (shown "not run"); a file that exists but is malformed raises
:class:`ReportInputError` naming the file and the problem, because silently skipping it would
make a broken run look like one that never ran.

Inputs (contracts in the project issues):

* ``<build>/<design>/signoff.json`` -- flow metrics (``cells``, ``core_area_um2``, ``wns_ns`` per
  corner, ``power_mw``, ``drc_klayout``, ``lvs_clean``, ``runtime_s`` per step, optional
  ``reports`` mapping metric -> report file).
* ``<build>/<design>/dft.json`` -- ``scan_flops``, ``chains``, ``stuck_at_coverage`` (percent), ...
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

from gptnano import pdk
from gptnano.paths import REPO_ROOT

CORNERS = tuple(pdk.CORNERS)
EXPERIMENT_COLUMNS = ("variant", "params", "bytes", "val_ppl", "next_token_acc")

# Keys whose values must be numbers when present (dotted keys reach into per-corner dicts).
NUMERIC_KEYS = ("cells", "core_area_um2", "die_area_um2", "utilization", "clock_ns",
                "drc_klayout", "drc_magic")
PER_CORNER_KEYS = ("wns_ns", "hold_wns_ns")
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


def validate_signoff(data: dict[str, Any], path: Path) -> None:
    """Check the types of the fields the dashboard and the goldens rely on."""
    for key in NUMERIC_KEYS:
        if key in data and data[key] is not None and not _is_number(data[key]):
            raise ReportInputError(f"{path}: '{key}' must be a number, got {data[key]!r}")
    for key in PER_CORNER_KEYS:
        if key not in data or data[key] is None:
            continue
        value = data[key]
        if not isinstance(value, dict):
            raise ReportInputError(f"{path}: '{key}' must map corners to numbers, got {value!r}")
        for corner, number in value.items():
            if number is not None and not _is_number(number):
                raise ReportInputError(f"{path}: '{key}.{corner}' must be a number, got {number!r}")
    power = data.get("power_mw")
    if power is not None and not _is_number(power):
        if not isinstance(power, dict) or not all(
            v is None or _is_number(v) for v in power.values()
        ):
            raise ReportInputError(
                f"{path}: 'power_mw' must be a number or a mapping of numbers, got {power!r}")
    for key in ("runtime_s", "reports"):
        if key in data and not isinstance(data[key], dict):
            raise ReportInputError(f"{path}: '{key}' must be a mapping, got {data[key]!r}")
    if "lvs_clean" in data and data["lvs_clean"] is not None and not isinstance(
        data["lvs_clean"], bool
    ):
        raise ReportInputError(f"{path}: 'lvs_clean' must be true/false, got {data['lvs_clean']!r}")


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

    def get(self, dotted: str) -> Sourced:
        """``wns_ns.tt`` -> value from signoff.json with its report file (or the json itself)."""
        if self.signoff is None:
            return Sourced(None)
        value = lookup(self.signoff, dotted)
        return Sourced(value, self.report_for(dotted) if value is not None else None)

    def get_dft(self, key: str) -> Sourced:
        if self.dft is None:
            return Sourced(None)
        value = self.dft.get(key)
        return Sourced(value, self.dft_path if value is not None else None)

    def report_for(self, dotted: str) -> Path | None:
        """The report file a metric came from: the ``reports`` entry if it exists, else the json."""
        assert self.signoff_path is not None
        reports = self.signoff.get("reports") if self.signoff else None
        if isinstance(reports, dict):
            parts = dotted.split(".")
            for n in range(len(parts), 0, -1):
                candidate = reports.get(".".join(parts[:n]))
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


def lookup(data: dict[str, Any], dotted: str) -> Any:
    """Follow a dotted key (``wns_ns.tt``) into nested dicts; ``None`` if any part is missing."""
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _load_checked(
    path: Path, validate: Callable[[dict[str, Any], Path], None], errors: list[str]
) -> tuple[dict[str, Any] | None, Path | None]:
    """Read and validate one optional JSON file; a bad file is recorded in ``errors``."""
    if not path.is_file():
        return None, None
    try:
        data = read_json_object(path)
        validate(data, path)
    except ReportInputError as exc:
        errors.append(str(exc))
        return None, None
    return data, path.resolve()


def load_design_run(name: str, folder: Path) -> DesignRun:
    """Load ``signoff.json`` and ``dft.json`` of one design's run folder (either may be absent)."""
    run = DesignRun(name=name, folder=folder)
    run.signoff, run.signoff_path = _load_checked(
        folder / "signoff.json", validate_signoff, run.errors)
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


def discover_designs(build: Path, designs_dir: Path) -> list[str]:
    """Designs with a config under ``designs/`` plus any build folder holding a signoff.json."""
    names = {p.parent.name for p in designs_dir.glob("*/config.yaml")}
    if build.is_dir():
        names |= {p.parent.name for p in build.glob("*/signoff.json")}
        names |= {p.parent.name for p in build.glob("*/dft.json")}
    return sorted(names)


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
    """``{"val_ppl": x}`` for a design whose config names a variant (else ``{}``)."""
    variant = design_setting(designs_dir, name, "variant")
    if variant is None:
        return {}
    ppl = variant_ppl(load_experiments(experiments_path), experiments_path, variant,
                      designs_dir / name / "config.yaml")
    return {} if ppl.value is None else {"val_ppl": ppl.value}


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
