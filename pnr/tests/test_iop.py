"""IO pin placement (:mod:`pnr.engine.iop`): ports go to the edge slot nearest their logic."""

from __future__ import annotations

from pathlib import Path

import pytest

from pnr.engine import iop, library
from pnr.engine.context import StepError
from pnr.engine.floorplan import build_floorplan
from pnr.engine.layout import Layout

P = library.PREFIX


def _layout(tmp_path: Path) -> Layout:
    """Two inverters; the floorplan puts input `a` on the bottom edge, output `y` on the top."""
    text = f"""module duo(a, b, y, z);
input a; input b; output y; output z;
{P}inv_1 u1 (.A(a), .Y(z));
{P}inv_1 u2 (.A(b), .Y(y));
endmodule
"""
    (tmp_path / "duo.vg").write_text(text)
    return build_floorplan("duo", tmp_path / "duo.vg", {"core_utilization": 0.05,
                                                        "core_margin_um": 10})


def test_ports_move_to_the_edge_slot_nearest_their_cell(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    cx0, cy0, cx1, cy1 = layout.core
    # u1 (a -> z) in the top-right corner, u2 (b -> y) in the bottom-left corner
    centres = {"u1": (cx1 - 2000.0, cy1 - 2000.0), "u2": (cx0 + 2000.0, cy0 + 2000.0)}
    assert layout.ports["a"].node[1] == 0 and layout.ports["y"].node[1] > 0  # floorplan
    moved = iop.place_pins(layout, centres)
    _, ny = layout.grid_size
    a, z, b, y = (layout.ports[p] for p in ("a", "z", "b", "y"))
    assert a.node[1] == z.node[1] == ny - 1        # top edge, next to u1
    assert b.node[1] == y.node[1] == 0             # bottom edge, next to u2
    assert moved == 4
    slots = iop.slots(layout)
    right = max(i for _, i in slots)
    assert {a.node[0], z.node[0]} == {right, right - iop.SLOT_STEP}
    left = min(i for _, i in slots)
    assert {b.node[0], y.node[0]} == {left, left + iop.SLOT_STEP}
    # the shape is the floorplan's port shape at the new node
    assert a == iop.edge_port(layout, "a", "input", "top", a.node[0])
    assert a.rect[3] == layout.die[3] and b.rect[1] == 0
    assert all(i % 2 == 0 for _, i in slots)       # met3/met4 reach every slot's via2 node


def test_same_input_gives_the_same_pins(tmp_path: Path) -> None:
    first, second = _layout(tmp_path), _layout(tmp_path)
    cx0, cy0, cx1, cy1 = first.core
    centre = ((cx0 + cx1) / 2, (cy0 + cy1) / 2)
    for layout in (first, second):                  # all four tie: lowest slots win, stably
        iop.place_pins(layout, {"u1": centre, "u2": centre})
    assert first.ports == second.ports
    assert len({p.node for p in first.ports.values()}) == 4


def test_too_many_ports_for_the_slots_is_one_clear_error(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    layout = _layout(tmp_path)
    monkeypatch.setattr(iop, "SLOT_STEP", 10 ** 6)  # one slot per edge for four ports
    with pytest.raises(StepError, match="4 ports but only 2 edge slots"):
        iop.place_pins(layout, {})


def test_place_step_setting_is_checked() -> None:
    from pnr.engine import place

    assert place.io_placement({}) == "floorplan"
    assert place.io_placement({"io_placement": "wirelength"}) == "wirelength"
    with pytest.raises(StepError, match="cfg.yaml: placement.io_placement: 'hpwl' is not one"):
        place.io_placement({"io_placement": "hpwl"}, "cfg.yaml: placement.io_placement")
