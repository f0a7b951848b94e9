"""The small config must fit the ~5.5k sky130 cell budget the physical flow is sized for."""

from __future__ import annotations

from design.synth import synthesize

# Raised from 5000 on 7 Dec (a loosened threshold, said here): dc0acfc's datapath stages for a
# 25 ns ss clock (total + bias and rounding in two stages, registered Horner and scale products)
# took python -m design.synth small from under 5000 to 5,203 cells; the flow routes small at
# ~5.8k cells after CTS, repair and diodes.
CELL_BUDGET = 5500


def test_small_config_within_cell_budget():
    result = synthesize("small")
    assert 1000 < result.cells < CELL_BUDGET, f"{result.cells} cells ({result.log})"
    assert result.netlist.stat().st_size > 0
