"""Cell timing data from the sky130hd Liberty (NLDM), for estimates made inside the engine.

The clock-tree step sizes its buffers and estimates insertion delay and skew before any STA
can run; it needs pin capacitances and the delay/transition tables of a few cells. The file is
parsed by the project's one Liberty reader (:mod:`gptnano.liberty`, yosys' own parser) and
this view is cached per corner.

Tables are looked up by bilinear interpolation over (input transition, output load) and
extrapolated linearly outside the characterised range, as STA tools do.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from gptnano import liberty as liberty_reader
from gptnano.liberty import unquote as _unquote
from gptnano.pdk import corner_liberty
from gptnano.step import StepError

SLEW_VAR = "input_net_transition"
LOAD_VAR = "total_output_net_capacitance"


def _floats(text: str) -> list[float]:
    return [float(v) for v in _unquote(text).replace("\\", "").split(",") if v.strip()]


@dataclass(frozen=True)
class Table:
    """One NLDM table; ``slews`` and ``loads`` in ns and pF, ``values[i][j]`` in ns."""

    slews: tuple[float, ...]
    loads: tuple[float, ...]
    values: tuple[tuple[float, ...], ...]

    def __call__(self, slew: float, load: float) -> float:
        i = _segment(self.slews, slew)
        j = _segment(self.loads, load)
        s0, s1, c0, c1 = self.slews[i], self.slews[i + 1], self.loads[j], self.loads[j + 1]
        ts = (slew - s0) / (s1 - s0)
        tc = (load - c0) / (c1 - c0)
        v = self.values
        low = v[i][j] + (v[i][j + 1] - v[i][j]) * tc
        high = v[i + 1][j] + (v[i + 1][j + 1] - v[i + 1][j]) * tc
        return low + (high - low) * ts


def _segment(axis: tuple[float, ...], x: float) -> int:
    """Index of the axis interval used for ``x`` (first/last one outside the range)."""
    return min(max(bisect_right(axis, x) - 1, 0), len(axis) - 2)


@dataclass(frozen=True)
class Arc:
    """Timing arc input pin -> output pin; rise and fall averaged (a clock or buffer tree
    passes both edges, and the estimate only needs one number per stage)."""

    rise: Table
    fall: Table
    rise_tr: Table
    fall_tr: Table

    def delay(self, slew: float, load: float) -> float:
        return (self.rise(slew, load) + self.fall(slew, load)) / 2

    def transition(self, slew: float, load: float) -> float:
        return (self.rise_tr(slew, load) + self.fall_tr(slew, load)) / 2


class Liberty:
    """Pin capacitances and timing arcs of one corner's Liberty."""

    def __init__(self, ast: Any, source: str) -> None:
        self.source = source
        self.templates = {
            _unquote(t.args[0]): [_unquote(c.value) for c in t.children
                                  if c.id.startswith("variable_")]
            for t in ast.children if t.id == "lu_table_template"}
        self._cells = {_unquote(c.args[0]): c for c in ast.children if c.id == "cell"}

    def _pin(self, cell: str, pin: str) -> Any:
        if cell not in self._cells:
            raise StepError(f"{self.source}: no cell {cell}")
        for child in self._cells[cell].children:
            if child.id == "pin" and _unquote(child.args[0]) == pin:
                return child
        raise StepError(f"{self.source}: cell {cell} has no pin {pin}")

    def has_cell(self, cell: str) -> bool:
        return cell in self._cells

    def pin_cap(self, cell: str, pin: str) -> float:
        """Input capacitance of ``cell``/``pin`` in pF."""
        for child in self._pin(cell, pin).children:
            if child.id == "capacitance":
                return float(child.value)
        raise StepError(f"{self.source}: {cell}/{pin} has no capacitance")

    def max_cap(self, cell: str, pin: str) -> float:
        for child in self._pin(cell, pin).children:
            if child.id == "max_capacitance":
                return float(child.value)
        raise StepError(f"{self.source}: {cell}/{pin} has no max_capacitance")

    def arc(self, cell: str, from_pin: str, to_pin: str) -> Arc:
        for timing in self._pin(cell, to_pin).children:
            if timing.id != "timing":
                continue
            attrs = {c.id: c for c in timing.children}
            if _unquote(attrs["related_pin"].value) != from_pin:
                continue
            return Arc(*(self._table(attrs[k], f"{cell}/{from_pin}->{to_pin} {k}")
                         for k in ("cell_rise", "cell_fall", "rise_transition",
                                   "fall_transition")))
        raise StepError(f"{self.source}: no timing arc {cell} {from_pin} -> {to_pin}")

    def _table(self, group: Any, what: str) -> Table:
        variables = self.templates.get(_unquote(group.args[0]), [])
        if variables != [SLEW_VAR, LOAD_VAR]:
            raise StepError(f"{self.source}: {what} is indexed by {variables}, "
                            f"expected [{SLEW_VAR}, {LOAD_VAR}]")
        parts = {c.id: c for c in group.children}
        slews = _floats(parts["index_1"].args[0])
        loads = _floats(parts["index_2"].args[0])
        values = tuple(tuple(_floats(row)) for row in parts["values"].args)
        if len(values) != len(slews) or any(len(r) != len(loads) for r in values):
            raise StepError(f"{self.source}: {what} table is not {len(slews)}x{len(loads)}")
        return Table(tuple(slews), tuple(loads), values)


@lru_cache(maxsize=4)
def load(corner: str = "tt") -> Liberty:
    """The parsed Liberty of ``corner`` (see :func:`gptnano.pdk.corner_liberty`)."""
    path = corner_liberty(corner)
    return Liberty(liberty_reader.parse(path), str(path))
