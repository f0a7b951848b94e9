"""RUDY congestion estimate (pnr.engine.rudy) and routability-driven global placement."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gptnano.netlist import write_netlist
from pnr.engine import gpl, rudy
from pnr.engine.bench_place import synthetic_netlist
from pnr.engine.context import StepError
from pnr.engine.floorplan import build_floorplan
from pnr.engine.place import routability_driven


def _grid(nx: int = 4, ny: int = 3) -> rudy.TileGrid:
    return rudy.TileGrid(np.arange(nx + 1) * 10_000.0, np.arange(ny + 1) * 10_000.0)


def test_rudy_spreads_each_net_over_its_box() -> None:
    """A box inside one tile puts all its wire there; a box across tiles splits its wire by
    the overlap areas; the total is the (widened) box size times STEINER_FACTOR."""
    g = _grid()
    inside = np.array([[1_000.0, 1_000.0, 5_000.0, 3_000.0]])
    h, v = rudy.demand(inside, g)
    assert h[0, 0] == pytest.approx(4_000 * rudy.STEINER_FACTOR)
    assert v[0, 0] == pytest.approx(2_000 * rudy.STEINER_FACTOR)
    assert h.sum() == pytest.approx(h[0, 0]) and v.sum() == pytest.approx(v[0, 0])
    # 3/4 of this box lies in column 1, 1/4 in column 2; rows 0 and 1 half each
    across = np.array([[12_500.0, 5_000.0, 22_500.0, 15_000.0]])
    h, v = rudy.demand(across, g)
    total_h = 10_000 * rudy.STEINER_FACTOR
    assert h[1, 0] == pytest.approx(total_h * 0.75 * 0.5)
    assert h[2, 1] == pytest.approx(total_h * 0.25 * 0.5)
    assert h.sum() == pytest.approx(total_h) and v.sum() == pytest.approx(total_h)
    # a net whose pins share a column still gets one pitch of horizontal wire
    column = np.array([[3_000.0, 1_000.0, 3_000.0, 9_000.0]])
    h, _ = rudy.demand(column, g)
    assert h.sum() == pytest.approx(rudy.tech.GRID_DX * rudy.STEINER_FACTOR)


def test_crossings_count_each_boundary_inside_the_box_once() -> None:
    """A box across the boundary x = 10 um, half in row 0 and half in row 1, adds half a
    crossing (x STEINER_FACTOR) to each of the two boundary segments; a box inside one tile
    crosses nothing."""
    g = _grid()
    sh, _ = rudy.supply_per_nm()
    m = rudy.crossing_ratio(np.array([[5_000.0, 5_000.0, 15_000.0, 15_000.0]]), g)
    want = 0.5 * rudy.STEINER_FACTOR / (sh * 10_000)
    # the tiles on both sides of the boundary, in rows 0 and 1; the vertical crossing of
    # y = 10 um is spread the same way over columns 0 and 1
    sv = rudy.supply_per_nm()[1]
    assert m[0, 0] == pytest.approx(max(want, 0.5 * rudy.STEINER_FACTOR / (sv * 10_000)))
    assert m[3, 2] == 0.0
    assert np.all(rudy.crossing_ratio(np.array([[1_000.0, 1_000.0, 9_000.0, 9_000.0]]), g) == 0)


def test_congestion_rc_is_the_mean_of_the_top_percentiles() -> None:
    ratio = np.concatenate([np.full(198, 0.5), [3.0, 1.0]])
    # top 0.5 % of 200 = 1 tile (3.0), top 1 % = 2 tiles (mean 2.0)
    assert rudy.congestion_rc(ratio) == pytest.approx((3.0 + 2.0) / 2)


def _problem(tmp_path: Path, n: int, util: float) -> gpl.Problem:
    path = tmp_path / f"synth_{n}.vg"
    write_netlist(synthetic_netlist(n, seed=4, reach=12), path)
    layout = build_floorplan("synth", path, {"core_utilization": util})
    prob = gpl.build_problem(layout)
    prob.pad = 460.0
    return prob


def test_routability_rounds_lower_congestion_deterministically(tmp_path: Path) -> None:
    """On a netlist with long nets packed at a high density, the rounds inflate cells (never
    shrink them), keep the bins within the raised density and return a placement whose RUDY
    congestion is below the first one; twice the same input gives the same output."""
    prob = _problem(tmp_path, 1200, 0.45)
    density = 0.6
    res = gpl.global_place(prob, density, routability=True)
    rd = res.routability
    assert rd is not None and rd.rounds >= 1
    assert rd.rc_first >= gpl.RD_TARGET_RC
    assert rd.rc_kept < rd.rc_first
    assert np.all(rd.inflate >= 1.0) and rd.inflated_share > 0
    assert density <= rd.density <= gpl.RD_MAX_DENSITY
    assert res.overflow <= gpl.TARGET_OVERFLOW + 0.05
    again = _problem(tmp_path, 1200, 0.45)
    res2 = gpl.global_place(again, density, routability=True)
    assert np.array_equal(res.x, res2.x) and np.array_equal(res.y, res2.y)


def test_routability_off_or_uncongested_leaves_placement_alone(tmp_path: Path,
                                                              monkeypatch) -> None:
    """Without congestion above the target (here: the target raised above it) no round runs
    and the placement is exactly the wirelength-driven one."""
    plain = gpl.global_place(_problem(tmp_path, 600, 0.4), 0.6)
    assert plain.routability is None
    monkeypatch.setattr(gpl, "RD_TARGET_RC", 1e9)
    prob = _problem(tmp_path, 600, 0.4)
    res = gpl.global_place(prob, 0.6, routability=True)
    assert res.routability is not None and res.routability.rounds == 0
    assert np.array_equal(res.x, plain.x) and np.array_equal(res.y, plain.y)
    assert np.all(prob.inflate == 1.0)


def test_routability_config_value() -> None:
    assert routability_driven({}) is True
    assert routability_driven({"routability_driven": 0}) is False
    with pytest.raises(StepError, match=r"placement.routability_driven: 2 is not 0 or 1"):
        routability_driven({"routability_driven": 2})
