"""Legalization and detailed placement (pnr.engine.dpl) on a synthetic netlist with tap cells."""

from __future__ import annotations

import numpy as np
import pytest

from gptnano.netlist import write_netlist
from pnr.engine import dpl, gpl, library, tech
from pnr.engine.bench_place import synthetic_netlist
from pnr.engine.context import StepError
from pnr.engine.floorplan import build_floorplan
from pnr.engine.layout import Layout
from pnr.engine.place import hpwl_um

PAD = 1


@pytest.fixture(scope="module")
def placed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Layout, gpl.Problem, dict]:
    tmp = tmp_path_factory.mktemp("dpl")
    path = tmp / "synth.vg"
    write_netlist(synthetic_netlist(1200, seed=5), path)
    layout = build_floorplan("synth", path, {"core_utilization": 0.55})
    taps_before = {c.name: (c.x, c.y) for c in layout.components if c.kind == "tap"}
    prob = gpl.build_problem(layout)
    prob.pad = PAD * tech.SITE_W
    res = gpl.global_place(prob, 0.7)
    disp = dpl.legalize(layout, prob, res.x, res.y, PAD)
    legal = hpwl_um(layout)
    moved = dpl.improve(layout, prob, 0.7, pad=PAD)
    return layout, prob, {"taps": taps_before, "disp": disp, "legal": legal, "moved": moved}


def _check_legal(layout: Layout) -> None:
    """Every component on a row with the row's orientation, on a site, inside the core, and
    no site used twice (taps included)."""
    lib = library.cells()
    cx0, _, cx1, _ = layout.core
    nsites = (cx1 - cx0) // tech.SITE_W
    rows = dict(layout.rows)
    used: set[tuple[int, int]] = set()
    for c in layout.components:
        assert c.placed, c.name
        assert rows[c.y] == c.orient, c.name
        assert (c.x - cx0) % tech.SITE_W == 0, c.name
        s0 = (c.x - cx0) // tech.SITE_W
        s1 = s0 + lib[c.cell].width // tech.SITE_W
        assert 0 <= s0 and s1 <= nsites, c.name
        for s in range(s0, s1):
            assert (s, c.y) not in used, f"{c.name} overlaps at site {s}"
            used.add((s, c.y))


def _check_padding(layout: Layout, pad: int) -> None:
    """Beside every logic cell there are at least ``pad`` free sites (to the next logic or
    tap cell in its row)."""
    lib = library.cells()
    by_row: dict[int, list[tuple[int, int, bool]]] = {}
    for c in layout.components:
        by_row.setdefault(c.y, []).append((c.x, c.x + lib[c.cell].width, c.kind == "logic"))
    for spans in by_row.values():
        spans.sort()
        for (_, end, a), (start, _, b) in zip(spans, spans[1:], strict=False):
            if a or b:
                assert start - end >= pad * tech.SITE_W


def test_legalized_cells_on_sites_without_overlap(placed) -> None:
    layout, _, info = placed
    _check_legal(layout)
    _check_padding(layout, PAD)
    taps_after = {c.name: (c.x, c.y) for c in layout.components if c.kind == "tap"}
    assert taps_after == info["taps"]                        # fixed cells never move
    # Abacus moves cells little: mean displacement of a few rows at most
    assert info["disp"] < 4 * tech.ROW_H


def test_detailed_placement_lowers_wirelength_and_stays_legal(placed) -> None:
    layout, _, info = placed
    assert info["moved"] > 0
    assert hpwl_um(layout) < info["legal"]
    _check_padding(layout, PAD)


def test_abacus_segment_collapses_overlapping_cells() -> None:
    """Three 2-site cells all wanting site 10 of segment [0, 20) end abutted around it; a
    cell wanting a site past the end is clamped inside."""
    seg = dpl._Segment(0, 20)
    for k in range(3):
        assert seg.trial(10.0, 2) >= 0
        seg.add(k, 10.0, 2)
    assert len(seg.clusters) == 1
    cl = seg.clusters[0]
    assert (cl.x, cl.w, cl.cells) == (8, 6, [0, 1, 2])   # least squares: the middle cell on 10
    assert seg.trial(25.0, 3) == 17
    seg.add(3, 25.0, 3)
    assert seg.clusters[-1].x == 17 and seg.used == 9


def test_free_segments_skip_tap_columns(placed) -> None:
    layout, _, _ = placed
    segs = dpl.free_segments(layout)
    cx0 = layout.core[0]
    taps = {(t - cx0) // tech.SITE_W for t in layout.tap_columns}
    for row in segs:
        for s0, s1 in row:
            assert not taps & set(range(s0, s1))
    assert np.all([len(row) == len(layout.tap_columns) for row in segs])


def test_cell_wider_than_tap_gap_is_a_clear_error(tmp_path) -> None:
    """A 29-site scan flop fits between tap columns 30 sites apart only without padding."""
    path = tmp_path / "wide.vg"
    path.write_text("module wide(a, y);\n  input a; output y;\n  wire n;\n"
                    "  sky130_fd_sc_hd__sedfxtp_1 f (.CLK(a), .D(a), .DE(a), .SCD(a), .SCE(a),"
                    " .Q(n));\n  sky130_fd_sc_hd__buf_1 b (.A(n), .X(y));\nendmodule\n")
    layout = build_floorplan("wide", path, {"core_utilization": 0.3})
    prob = gpl.build_problem(layout)
    x = np.full(prob.n, (layout.core[0] + layout.core[2]) / 2.0)
    y = np.full(prob.n, (layout.core[1] + layout.core[3]) / 2.0)
    with pytest.raises(StepError, match=r"f \(sky130_fd_sc_hd__sedfxtp_1, 29 sites\) with 1 "
                                        r"padding .*cell_pad_sites"):
        dpl.legalize(layout, prob, x, y, 1)
    dpl.legalize(layout, prob, x, y, 0)
    _check_legal(layout)
