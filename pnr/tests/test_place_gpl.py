"""Global placement (pnr.engine.gpl): the Bound2Bound system, density spreading, memory scaling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gptnano.netlist import write_netlist
from pnr.engine import gpl
from pnr.engine.bench_place import synthetic_netlist
from pnr.engine.context import StepError
from pnr.engine.floorplan import build_floorplan
from pnr.engine.layout import Component, Layout
from pnr.engine.place import target_density


def _problem(n: int, nets: list[list[tuple[int, float, float]]],
             core: tuple[int, int, int, int] = (0, 0, 100_000, 100_000)) -> gpl.Problem:
    """A hand-made problem: ``nets`` lists pins as (cell, fx, fy); cell -1 is a fixed pin."""
    cell = [p[0] for net in nets for p in net]
    return gpl.Problem(
        movable=[Component(f"c{k}", "x") for k in range(n)],
        width=np.full(n, 460.0), height=np.full(n, 2720.0),
        pin_cell=np.array(cell, dtype=np.int64), pin_dx=np.zeros(len(cell)),
        pin_dy=np.zeros(len(cell)), pin_fx=np.array([p[1] for net in nets for p in net]),
        pin_fy=np.array([p[2] for net in nets for p in net]),
        net_start=np.concatenate([[0], np.cumsum([len(net) for net in nets])]).astype(np.int64),
        core=core, fixed_rects=[])


def test_b2b_energy_is_twice_hpwl() -> None:
    """The B2B model's defining property: at the positions it was built from, the quadratic
    cost of each net equals 2x its half-perimeter (all distances above the clamp)."""
    rng = np.random.default_rng(3)
    n = 30
    nets = [[(int(c), 0.0, 0.0) for c in rng.choice(n, size=rng.integers(2, 7), replace=False)]
            for _ in range(25)]
    prob = _problem(n, nets)
    x = rng.permutation(n) * 2000.0 + 1000.0       # distinct, > MIN_DIST_NM apart
    a, rhs = gpl.b2b_system(prob, x, 0)
    assert np.allclose(rhs, 0.0)
    assert a.nnz <= n + 2 * sum(2 * len(net) - 3 for net in nets)
    hpwl_x = sum(max(x[c] for c, _, _ in net) - min(x[c] for c, _, _ in net) for net in nets)
    assert float(x @ (a @ x)) == pytest.approx(2 * hpwl_x, rel=1e-9)


def test_cell_between_two_fixed_pins_and_chain_order() -> None:
    """One cell on a net with two fixed pins lands between them; a chain pin-c0-c1-pin keeps
    its order between the pins (any such order has the minimal HPWL)."""
    prob = _problem(1, [[(-1, 10_000.0, 20_000.0), (0, 0, 0), (-1, 90_000.0, 70_000.0)]])
    x, y = gpl.solve_quadratic(prob, np.array([50_000.0]), np.array([50_000.0]))
    assert 10_000 < x[0] < 90_000 and 20_000 < y[0] < 70_000
    chain = _problem(2, [[(-1, 10_000.0, 50_000.0), (0, 0, 0)], [(0, 0, 0), (1, 0, 0)],
                         [(1, 0, 0), (-1, 90_000.0, 50_000.0)]])
    x, y = np.array([50_000.0, 52_000.0]), np.array([40_000.0, 60_000.0])
    for _ in range(5):
        x, y = gpl.solve_quadratic(chain, x, y)
    assert 10_000 <= x[0] <= x[1] <= 90_000
    assert gpl.hpwl(chain, x, y) == pytest.approx(80_000, rel=0.05)


def _layout(tmp_path: Path, n: int, util: float) -> Layout:
    path = tmp_path / f"synth_{n}.vg"
    write_netlist(synthetic_netlist(n), path)
    return build_floorplan("synth", path, {"core_utilization": util})


def test_density_spreading_bounds_bin_density(tmp_path: Path) -> None:
    """All cells start in one spot; one look-ahead legalization brings every bin under the
    target density up to the granularity of single cells, and global placement ends with at
    most TARGET_OVERFLOW of the area above it."""
    layout = _layout(tmp_path, 1500, 0.35)
    prob = gpl.build_problem(layout)
    density = 0.6
    grid = gpl.BinGrid(prob, density)
    cx0, cy0, cx1, cy1 = layout.core
    x = np.full(prob.n, (cx0 + cx1) / 2.0) + np.arange(prob.n) * 0.01
    y = np.full(prob.n, (cy0 + cy1) / 2.0)
    assert grid.overflow(prob, x, y) > 0.9
    ux, uy = gpl.spread(prob, grid, x, y)
    usage = grid.usage(prob, ux, uy)
    biggest = float((prob.width * prob.height).max())
    assert np.all(usage <= grid.capacity + biggest)     # at most one cell over in any bin
    assert grid.overflow(prob, ux, uy) < 0.1
    res = gpl.global_place(prob, density)
    assert res.overflow <= gpl.TARGET_OVERFLOW
    assert np.all((res.x >= cx0) & (res.x <= cx1) & (res.y >= cy0) & (res.y <= cy1))


def test_b2b_memory_is_linear_on_20k_cells(tmp_path: Path) -> None:
    """Memory check without timing: the B2B matrix of a 20k-cell netlist has O(pins)
    non-zeros (the dense system this replaced needed n^2 = 4e8 entries, 3.2 GB)."""
    layout = _layout(tmp_path, 20_000, 0.5)
    prob = gpl.build_problem(layout)
    assert prob.n > 20_000
    pins = len(prob.pin_cell)
    a, _ = gpl.b2b_system(prob, np.arange(prob.n, dtype=float) * 7.0, 0)
    assert a.shape == (prob.n, prob.n)
    assert a.nnz <= prob.n + 4 * pins          # 2 entries per spring, < 2 springs per pin
    assert a.nnz < 1e-3 * prob.n ** 2


def test_density_below_utilization_is_a_clear_error(tmp_path: Path) -> None:
    layout = _layout(tmp_path, 300, 0.5)
    util = gpl.utilization(gpl.build_problem(layout))
    with pytest.raises(StepError, match=r"placement.density: 0.3 is below .* utilization"):
        target_density(layout, 0.3)
    assert target_density(layout, util - 0.005) == pytest.approx(util)
    assert target_density(layout, None) == gpl.DEFAULT_DENSITY
    with pytest.raises(StepError, match="not a number"):
        target_density(layout, "dense")
