"""The antenna check on the layout database (pnr.engine.antenna_check): a long met4 wire on
one gate with no diffusion fails; a diode on the net, or the wire cut short, passes."""

from __future__ import annotations

from pnr.engine import antenna_check, library, tech
from pnr.engine.layout import Component, Layout, place_rect

INV = f"{library.PREFIX}inv_1"
DIODE = f"{library.PREFIX}diode_2"


def _landing(comp: Component, pin: str) -> list:
    """An L1M1 via on the grid node nearest the pin's li1 centre, offset onto the pin."""
    macro = library.cells()[comp.cell]
    x0, y0, x1, y1 = place_rect(macro.pins[pin].shapes["li1"][0], comp, macro.height)
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    i = round((cx - tech.GRID_X0) / tech.GRID_DX)
    j = round((cy - tech.GRID_Y0) / tech.GRID_DY)
    if not y0 <= tech.GRID_Y0 + tech.GRID_DY * j <= y1:
        j = (y0 - tech.GRID_Y0) // tech.GRID_DY + 1
    return ["L1M1", i, j, cx - (tech.GRID_X0 + tech.GRID_DX * i)]


def _layout(span: int, with_diode: bool) -> Layout:
    comps = [Component("g", INV, 4600, 2720, placed=True)]
    pins = [("g", "A")]
    if with_diode:
        comps.append(Component("d", DIODE, 9200, 2720, placed=True))
        pins.append(("d", "DIODE"))
    vias, segs = [], []
    stack_j = None
    for comp, pin in zip(comps, [p for _, p in pins], strict=True):
        kind, i, j, off = _landing(comp, pin)
        i4 = i - i % 2
        stack_j = j - j % 2 if stack_j is None else stack_j   # one met3 row for both stacks
        vias += [[kind, i, j, off], ["M1M2", i4, j], ["M2M3", i4, stack_j],
                 ["M3M4", i4, stack_j]]
        segs += [["met1", i, j, i4, j]] if i != i4 else []
        segs += [["met2", i4, j, i4, stack_j]] if j != stack_j else []
    first_i = vias[1][1]
    segs.append(["met4", first_i, stack_j, first_i, stack_j + span])
    if with_diode:  # the two stacks joined on met3
        segs.append(["met3", first_i, stack_j, vias[5][1], stack_j])
    return Layout(top="t", die=(0, 0, 200_000, 200_000), core=(0, 0, 200_000, 200_000),
                  rows=[], components=comps, ports={}, nets={"n": pins},
                  routes={"n": {"segs": segs, "vias": vias, "patches": []}})


def test_long_met4_on_a_bare_gate_fails_and_names_pin_and_layer() -> None:
    found = antenna_check.check_layout(_layout(200, with_diode=False))
    assert [(v["inst"], v["pin"], v["layer"]) for v in found] == [("g", "A", "met4")]
    assert found[0]["ratio"] > found[0]["limit"] == 400.0


def test_short_wire_or_a_diode_passes() -> None:
    assert antenna_check.check_layout(_layout(4, with_diode=False)) == []
    assert antenna_check.check_layout(_layout(200, with_diode=True)) == []
