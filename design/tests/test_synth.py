"""The small config must fit the ~5k sky130 cell budget the physical flow is sized for."""

from __future__ import annotations

from design.synth import synthesize

CELL_BUDGET = 5000


def test_small_config_within_cell_budget():
    result = synthesize("small")
    assert 1000 < result.cells < CELL_BUDGET, f"{result.cells} cells ({result.log})"
    assert result.netlist.stat().st_size > 0
