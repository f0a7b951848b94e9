"""Functional coverage of GQMV jobs (cocotb-coverage) and its written report.

Each job is reduced to a few labelled features; one CoverPoint per feature, plus a cross of
output mode and length regime. ``write_report`` lists every bin with its hit count and, at the
end, the bins no job reached, so a regression shows what it did not exercise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from cocotb_coverage.coverage import CoverCross, CoverPoint, coverage_db

from dv.uvm.items import GqmvItem
from model.integer_ops import INT8_MAX, INT8_MIN, gqmv_total, round_shift

BINS: dict[str, list[str]] = {
    "length": ["one_group", "partial", "max_len"],
    "rows": ["one_block", "several_blocks"],
    "mode": ["int8", "int32"],
    "shift": ["zero", "1-15", "16-40", "41-62"],
    "x": ["all_min", "all_max", "mixed"],
    "gscale": ["all_zero", "all_max", "mixed"],
    "clip": ["none", "high", "low", "both", "n/a_int32"],
    "backpressure": ["on", "off"],
}
_state: dict[str, int] = {"max_len": 0}


def features(item: GqmvItem, max_len: int) -> dict[str, str]:
    """The labels of one job (clipping is judged on the unsaturated contract value)."""
    k, g = item.length, item.group
    f = {
        "length": "one_group" if k == g else ("max_len" if k == max_len else "partial"),
        "mode": "int32" if item.out_int32 else "int8",
        "shift": ("zero" if item.shift == 0 else "1-15" if item.shift < 16
                  else "16-40" if item.shift <= 40 else "41-62"),
        "x": ("all_min" if np.all(item.x == INT8_MIN) else "all_max"
              if np.all(item.x == INT8_MAX) else "mixed"),
        "gscale": ("all_zero" if not np.any(item.gscale) else "all_max"
                   if np.all(item.gscale == 2**16 - 1) else "mixed"),
        "backpressure": "on" if item.backpressure else "off",
    }
    if item.out_int32:
        f["clip"] = "n/a_int32"
    else:
        raw = round_shift(gqmv_total(item.x, item.w, item.gscale, item.bias, g)
                          * item.mult.astype(np.int64), item.shift)
        hi, lo = bool(np.any(raw > INT8_MAX)), bool(np.any(raw < INT8_MIN))
        f["clip"] = "both" if hi and lo else "high" if hi else "low" if lo else "none"
    return f


def _rows_label(item: GqmvItem, lanes: int) -> str:
    return "one_block" if item.rows == lanes else "several_blocks"


def _decorate():
    fn = _sample
    for key, bins in BINS.items():
        fn = CoverPoint(f"gqmv.{key}", xf=lambda f, key=key: f[key], bins=bins)(fn)
    return CoverCross("gqmv.mode_x_length", items=["gqmv.mode", "gqmv.length"])(fn)


def _sample(f: dict[str, str]) -> None:
    """Sampling target of the cover points (the decorators do the work)."""


_sampler = _decorate()


def sample_coverage(item: GqmvItem, lanes: int, max_len: int) -> None:
    f = features(item, max_len)
    f["rows"] = _rows_label(item, lanes)
    _sampler(f)


def write_report(path: Path) -> list[str]:
    """Write hits per bin and the list of uncovered bins; return the uncovered bin names."""
    lines, uncovered = [], []
    names = [f"gqmv.{k}" for k in BINS] + ["gqmv.mode_x_length"]
    for name in names:
        item = coverage_db[name]
        lines.append(f"{name}: {item.cover_percentage:.1f}% ({item.coverage}/{item.size})")
        for label, hits in item.detailed_coverage.items():
            lines.append(f"    {label!s:<28} {hits}")
            if hits == 0:
                uncovered.append(f"{name}:{label}")
    lines.append("")
    lines.append(f"uncovered bins ({len(uncovered)}):")
    lines.extend(f"    {u}" for u in uncovered)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    coverage_db.export_to_yaml(str(path.with_suffix(".yml")))
    return uncovered
