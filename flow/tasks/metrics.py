"""Engine metric names -> SiliconCompiler's ASIC metric schema (names and units).

The engine steps return descriptive keys (``core_area_um2``, ``setup_slack_ns``); the SC
manifest has a fixed metric set (``totalarea``, ``setupslack``, ...) with units, converted by
SC when a source unit is given. Keys SC has no metric for stay in ``reports/metrics.json``
only (the summary reads that file), so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# engine key -> (SC metric, source unit or None, transform)
Mapping = tuple[str, str | None, Callable[[float], float]]


def _same(v: float) -> float:
    return v


def _percent(v: float) -> float:
    return 100.0 * v


def _negative_part(v: float) -> float:
    return min(0.0, v)


SC_METRICS: dict[str, list[Mapping]] = {
    "cells": [("cells", None, _same)],
    "registers": [("registers", None, _same)],
    "cellarea": [("cellarea", "um^2", _same)],
    "core_area_um2": [("stdcellarea", "um^2", _same)],
    "die_area_um2": [("totalarea", "um^2", _same)],
    "utilization": [("utilization", "%", _percent)],
    "io_pins": [("pins", None, _same)],
    "nets": [("nets", None, _same)],
    "wirelength_um": [("wirelength", "um", _same)],
    "failed_nets": [("drvs", None, _same)],
    "setup_slack_ns": [("setupslack", "ns", _same), ("setupwns", "ns", _negative_part)],
    "setup_tns_ns": [("setuptns", "ns", _same)],
    "hold_slack_ns": [("holdslack", "ns", _same), ("holdwns", "ns", _negative_part)],
    "hold_tns_ns": [("holdtns", "ns", _same)],
    "fmax_mhz": [("fmax", "MHz", _same)],
    "total_mw": [("averagepower", "mw", _same)],
    "leakage_mw": [("leakagepower", "mw", _same)],
    "drc_klayout_total": [("drcs", None, _same)],
    "drc_magic_total": [("drcs", None, _same)],
    "lvs_match": [("errors", None, lambda v: 0.0 if v else 1.0)],
}


def sc_values(metrics: dict[str, Any]) -> list[tuple[str, float, str | None]]:
    """(SC metric, value, unit) for every mappable numeric engine metric."""
    out = []
    for key, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        for metric, unit, transform in SC_METRICS.get(key, []):
            out.append((metric, transform(value), unit))
    return out


def record_all(task: Any, metrics: dict[str, Any]) -> None:
    """Record the mappable metrics on the running SC task (its own step/index)."""
    for metric, value, unit in sc_values(metrics):
        if value == float("inf"):
            continue
        task.record_metric(metric, value, source_file="reports/metrics.json", source_unit=unit)
