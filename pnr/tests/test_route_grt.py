"""Global router (:mod:`pnr.engine.grt`): capacities from the static blockage, negotiated
congestion, the congestion report, and route guides steering the detailed A*."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pnr.engine import grt
from pnr.engine import route_core as core

FREE, BLOCKED = core.FREE, core.BLOCKED


def _free(nx: int, ny: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full(4 * nx * ny, FREE, np.int32), np.full(2 * nx * ny, FREE, np.int32)


def test_capacity_counts_usable_tracks_per_boundary() -> None:
    nx, ny = 3 * grt.GCELL_X, 2 * grt.GCELL_Y
    block, side = _free(nx, ny)
    gnx, gny, hcap, vcap = grt.capacities(block, side, nx, ny)
    assert (gnx, gny) == (3, 2) and hcap.shape == (2, 2) and vcap.shape == (1, 3)
    a = grt.LAYER_ADJUST
    # met1 on every node row, met3 on every other one; met2 every column, met4 every other
    assert (hcap == np.floor(grt.GCELL_Y * a[0] + grt.GCELL_Y // 2 * a[2])).all()
    even = [sum(i % 2 == 0 for i in range(g * grt.GCELL_X, (g + 1) * grt.GCELL_X))
            for g in range(3)]                      # met4 columns per GCell (15 is odd)
    assert vcap[0].tolist() == [np.floor(grt.GCELL_X * a[1] + e * a[3]) for e in even]
    # met3 and met4 blocked everywhere (as the congested probe test does): only met1/met2 left
    plane = nx * ny
    block[2 * plane:] = BLOCKED
    _, _, hcap2, vcap2 = grt.capacities(block, side, nx, ny)
    assert (hcap2 == np.floor(grt.GCELL_Y * a[0])).all()
    # a met1 wire half blocked on one node row: that track no longer crosses the boundary
    side.reshape(ny, nx, 2)[3, grt.GCELL_X - 1, 1] = BLOCKED
    _, _, hcap3, _ = grt.capacities(block, side, nx, ny)
    assert hcap3[0, 0] == np.floor((grt.GCELL_Y - 1) * a[0]) and hcap3[0, 1] == hcap2[0, 1]


def test_negotiation_spreads_nets_over_a_narrow_boundary() -> None:
    """Four nets want to cross the same GCell boundary, which holds two: PathFinder's
    history and present costs push two of them through the rows above and below (capacity 1
    each); without negotiation
    (0 iterations) the boundary overflows."""
    nx, ny = 4 * grt.GCELL_X, 5 * grt.GCELL_Y
    block, side = _free(nx, ny)
    plane = nx * ny
    block[2 * plane:] = BLOCKED                       # no met3/met4
    m1 = block[:plane].reshape(ny, nx)
    m1[:, :] = BLOCKED
    m1[2 * grt.GCELL_Y:2 * grt.GCELL_Y + 4, :] = FREE  # 4 met1 tracks in row 2: capacity 2
    for r in range(5):                                 # other rows: two tracks, capacity 1
        if r != 2:
            m1[r * grt.GCELL_Y:r * grt.GCELL_Y + 2, :] = FREE
    y = 2 * grt.GCELL_Y + 1
    terminals = [[y * nx + 2, y * nx + 3 * grt.GCELL_X + 5] for _ in range(4)]
    result = grt.global_route(terminals, block, side, nx, ny)
    assert result.hcap[2].tolist() == [2.0, 2.0, 2.0]
    m = result.metrics()
    assert m["grt_overflow"] == 0 and m["grt_max_usage"] <= 1.0
    assert result.huse[2].tolist() == [2.0, 2.0, 2.0]
    assert all(result.guides[n].size for n in range(4))
    saved = grt.ITERATIONS
    try:
        grt.ITERATIONS = 0
        plain = grt.global_route(terminals, block, side, nx, ny)
    finally:
        grt.ITERATIONS = saved
    assert plain.metrics()["grt_overflow"] > 0


def test_congestion_report_files(tmp_path: Path) -> None:
    nx, ny = 2 * grt.GCELL_X, 2 * grt.GCELL_Y
    block, side = _free(nx, ny)
    result = grt.global_route([[0, nx * ny - 1]], block, side, nx, ny)
    result.write_reports(tmp_path)
    data = json.loads((tmp_path / "congestion.json").read_text())
    assert data["gnx"] == 2 and data["metrics"]["grt_wirelength_um"] > 0
    assert sum(map(sum, data["h_usage"])) + sum(map(sum, data["v_usage"])) == 2
    assert (tmp_path / "congestion.png").read_bytes()[:4] == b"\x89PNG"


def _grid_search(guide_cells: list[int] | None, gcost: float) -> list[int]:
    """Detailed A* on a free 30 x 30 grid from (2, 2) to (27, 2) on met1, with GCells of
    10 x 10 nodes; the guide (if any) is the given GCells."""
    nx = ny = 30
    plane = nx * ny
    size = 4 * plane
    tgt = np.full(size, -1, np.int32)
    dst = 2 * nx + 27
    tgt[dst] = 0
    guide = np.zeros(9, np.int32)
    if guide_cells:
        guide[guide_cells] = 7
    path = core.search(
        0, np.array([2 * nx + 2], np.int64), 27, 2, 27, 2, 30, tgt, np.zeros(size, np.int64),
        np.zeros(size, np.bool_), np.full(size, FREE, np.int32), np.full(size, FREE, np.int32),
        np.tile(np.array([FREE, core.NO_MCON], np.int64), (plane, 1)),
        np.full(plane, FREE, np.int32), np.zeros(size),
        np.full((plane, core.PAD_SLOTS), FREE, np.int32),
        np.zeros((plane, core.PAD_SLOTS, 4), np.int64), np.full(plane, core.NO_MCON, np.int64),
        np.full(2 * plane, FREE, np.int32), guide, 10, 10, 3, 7, gcost, np.zeros(size),
        np.zeros(size, np.int64), np.zeros(size, np.int32), np.zeros(size, np.int32), 1, nx,
        ny, -1.0, np.array([30.0, 34.0, 100.0, 54.0, 160.0]))
    return path.tolist()


def test_guides_steer_the_detailed_search() -> None:
    straight = _grid_search(None, 0.0)
    assert {k // 30 for k in straight} == {2}          # one met1 run along row 2
    # corridor through the GCell row above (gy = 1, GCells 3..5) plus the two end GCells
    detour = _grid_search([0, 2, 3, 4, 5], 500.0)
    rows = {(k % 900) // 30 for k in detour}
    assert detour[-1] == 2 * 30 + 27 and max(rows) >= 10  # it went up into the corridor
    # the guide is a cost, not a wall: a corridor that leads nowhere is still left
    assert _grid_search([0], 500.0)[-1] == 2 * 30 + 27
