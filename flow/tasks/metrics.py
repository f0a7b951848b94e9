"""Registry metrics (:mod:`gptnano.metrics`) -> SiliconCompiler's ASIC metric schema.

The SC manifest has a fixed metric set (``totalarea``, ``setupslack``, ...) with units,
converted by SC when a source unit is given. This table is the only place where SC's names
appear; every other layer uses the registry names. Registry metrics SC has no metric for stay
in ``reports/metrics.json`` only (the summary reads that file), so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gptnano import metrics as registry

# registry metric (qualifier stripped) -> (SC metric, source unit or None, transform)
Mapping = tuple[str, str | None, Callable[[float], float]]


def _same(v: float) -> float:
    return v


def _percent(v: float) -> float:
    return 100.0 * v


def _negative_part(v: float) -> float:
    """WNS in SC's sense: min(0, worst slack)."""
    return min(0.0, v)


SC_METRICS: dict[str, list[Mapping]] = {
    "design__instance__count": [("cells", None, _same)],
    "synth__design__instance__count": [("cells", None, _same)],
    "synth__design__register__count": [("registers", None, _same)],
    "synth__design__instance__area": [("cellarea", "um^2", _same)],
    "design__core__area": [("stdcellarea", "um^2", _same)],
    "design__die__area": [("totalarea", "um^2", _same)],
    "design__instance__utilization": [("utilization", "%", _percent)],
    "design__io": [("pins", None, _same)],
    "route__net": [("nets", None, _same)],
    "route__wirelength": [("wirelength", "um", _same)],
    "route__net__failed": [("drvs", None, _same)],
    "timing__setup__ws": [("setupslack", "ns", _same), ("setupwns", "ns", _negative_part)],
    "timing__setup__tns": [("setuptns", "ns", _same)],
    "timing__hold__ws": [("holdslack", "ns", _same), ("holdwns", "ns", _negative_part)],
    "timing__hold__tns": [("holdtns", "ns", _same)],
    "timing__fmax": [("fmax", "MHz", _same)],
    "power__total": [("averagepower", "mw", _same)],
    "power__leakage__total": [("leakagepower", "mw", _same)],
    "klayout__drc_error__count": [("drcs", None, _same)],
    "magic__drc_error__count": [("drcs", None, _same)],
    "design__lvs__clean": [("errors", None, lambda v: 0.0 if v else 1.0)],
    "dft__scan_flop__count": [("registers", None, _same)],
}


def sc_values(metrics: dict[str, Any]) -> list[tuple[str, float, str | None]]:
    """(SC metric, value, unit) for every mappable registry metric (booleans as 0/1)."""
    out = []
    for name, value in metrics.items():
        if not isinstance(value, int | float):
            continue
        base = registry.split(name)[0]
        for metric, unit, transform in SC_METRICS.get(base, []):
            out.append((metric, transform(float(value)), unit))
    return out


def record_all(task: Any, metrics: dict[str, Any]) -> None:
    """Record the mappable metrics on the running SC task (its own step/index)."""
    for metric, value, unit in sc_values(metrics):
        if value == float("inf"):
            continue
        task.record_metric(metric, value, source_file="reports/metrics.json", source_unit=unit)
