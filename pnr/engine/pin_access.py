"""Pin access points computed once per cell master and orientation, reused for every instance.

This follows the pin-access ("PA") stage of OpenROAD's detailed router ``drt``
(``FlexPA``: access points are generated per pin shape of each unique master/orientation,
validated against the master's own geometry once, and then only checked against the
neighbourhood of each instance).  Here the access points live on the router's grid
(:mod:`pnr.engine.tech`): x = 230 + 460 i, y = 170 + 340 j.  The floorplan puts every cell origin
on a multiple of the 0.46 um site and the 0.34 um met1 pitch, so a master's access points are
fixed grid offsets from its origin node.

An access point of an li1 pin is an mcon whose cut lies inside the pin, on the node's y, and at
most 230 nm from the node's x (the offset ``d``; a met1 stub joins the mcon's pad to the node).
An access point of a met1 pin is a node that lies on the pin.  A point is *valid for the
master* when the met1 that any route needs there -- the via pad footprint of the node (an
M1M2 via up, or the start of a met1 wire) and the mcon's pad with its stub -- keeps met1
spacing to every met1 shape of the master that belongs to another pin, the supply rails or the
obstructions.  The instance-level check (the neighbours' pins and obstructions, other nets'
claims) is :func:`pnr.engine.route.pin_candidates`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import klayout.db as kdb

from pnr.engine import library, tech

# From the technology model (sky130hd values in brackets):
PAD_FOOT = tech.VIAS["M1M2"][2][1:]  # half sizes of the widest met1 shape on a node (160, 130)
MCON_HALF = tech.VIAS["L1M1"][1]     # half size of the mcon cut, inside the li1 pin (85)
MCON_PAD = tech.VIAS["L1M1"][3][1:]  # half sizes of the mcon's met1 pad (145, 115)
MAX_OFFSET = tech.GRID_DX // 2       # an mcon at most half a pitch from its node (230)
M2_PAD = tech.VIAS["M1M2"][3][1:]    # half sizes of the M1M2 via's met2 pad (130, 160)
ORIENTS = ("N", "FS")


@dataclass(frozen=True)
class AccessPoint:
    """One way into a pin: the grid node (di, dj) counted from the cell's origin node, the x
    offset ``d`` (nm) of the mcon from the node (0 for met1 pins) and whether an mcon is
    needed (li1 pin)."""

    di: int
    dj: int
    d: int
    mcon: bool


def _gap(a: tuple, b: tuple) -> float:
    dx = max(a[0] - b[2], b[0] - a[2], 0)
    dy = max(a[1] - b[3], b[1] - a[3], 0)
    return math.hypot(dx, dy)


def orient_rect(rect: tuple[int, int, int, int], orient: str, height: int) -> tuple:
    """A cell-local rectangle in the placed cell's frame (origin at its lower-left corner)."""
    x0, y0, x1, y1 = rect
    if orient == "N":
        return rect
    if orient == "FS":
        return (x0, height - y1, x1, height - y0)
    raise ValueError(f"unsupported orientation {orient}")


def stub_rect(x: int, y: int, d: int) -> tuple[int, int, int, int]:
    """The mcon's met1 pad at x + d plus the stub back to the node at x."""
    xm = x + d
    return (min(xm - MCON_PAD[0], x), y - MCON_PAD[1], max(xm + MCON_PAD[0], x), y + MCON_PAD[1])


def _candidates(rects: list[tuple], direct: bool, width: int, height: int) -> dict:
    """(di, dj) -> smallest |d| mcon offset (cell-local nm) over the pin's shapes.

    The pin is the union of its rectangles (several sky130hd pins are an L or a bar split in
    three, where no single rectangle holds the cut), so the loci are computed with KLayout's
    region engine: the union shrunk by the cut's half size is where an mcon's centre may go
    (a met1 pin: the union itself, where a node may lie)."""
    pin = kdb.Region()
    for r in rects:
        pin.insert(kdb.Box(*r))
    pin.merge()
    # shrunk by one nm less than the cut: a pin exactly one cut wide (many li1 pins are the
    # 0.17 um minimum width) would shrink to a line, which a region does not keep; every
    # point found is then checked exactly
    grow = 0 if direct else MCON_HALF
    locus = pin if direct else pin.sized(1 - MCON_HALF)
    out: dict[tuple[int, int], int] = {}
    span = (-tech.GRID_DX - MAX_OFFSET, width + tech.GRID_DX + MAX_OFFSET)
    for dj in range(0, height // tech.GRID_DY + 1):
        y = tech.GRID_Y0 + tech.GRID_DY * dj
        line = locus & kdb.Region(kdb.Box(span[0], y - 1, span[1], y + 1))
        for box in sorted((b.bbox() for b in line.each()), key=lambda b: b.left):
            xr0, xr1 = box.left + (0 if direct else 1), box.right - (0 if direct else 1)
            for di in range(-1, width // tech.GRID_DX + 1):
                x = tech.GRID_X0 + tech.GRID_DX * di
                d = min(max(x, xr0), xr1) - x
                if abs(d) > (0 if direct else MAX_OFFSET):
                    continue
                if (di, dj) in out and abs(d) >= abs(out[(di, dj)]):
                    continue
                c = x + d
                if (kdb.Region(kdb.Box(c - grow, y - grow, c + grow, y + grow)) - pin).is_empty():
                    out[(di, dj)] = d
    return out


@cache
def master_access(cell: str, orient: str) -> dict[str, tuple[AccessPoint, ...]]:
    """Access points of every signal pin of `cell` placed in `orient`, valid against the
    master's own met1 (other pins, rails, obstructions) and met2; best first (smallest mcon
    offset, then lowest, leftmost node).  A pin with no valid point gets an empty tuple."""
    m = library.cells()[cell]
    h = m.height

    def shapes(layer: str, skip: str | None) -> list[tuple]:
        out = [orient_rect(r, orient, h) for r in m.obs.get(layer, [])]
        for p in m.pins.values():
            if p.name != skip:
                out += [orient_rect(r, orient, h) for r in p.shapes.get(layer, [])]
        return out

    met2 = shapes("met2", None)
    result: dict[str, tuple[AccessPoint, ...]] = {}
    for pin in m.signal_pins:
        direct = "met1" in pin.shapes
        rects = [orient_rect(r, orient, h) for r in pin.shapes.get("met1" if direct else "li1", [])]
        others = shapes("met1", pin.name)
        points = []
        for (di, dj), d in _candidates(rects, direct, m.width, h).items():
            x = tech.GRID_X0 + tech.GRID_DX * di
            y = tech.GRID_Y0 + tech.GRID_DY * dj
            met1 = [(x - PAD_FOOT[0], y - PAD_FOOT[1], x + PAD_FOOT[0], y + PAD_FOOT[1])]
            if not direct:
                met1.append(stub_rect(x, y, d))
            pad2 = (x - M2_PAD[0], y - M2_PAD[1], x + M2_PAD[0], y + M2_PAD[1])
            if any(_gap(a, b) < tech.SPACING["met1"] for a in met1 for b in others):
                continue
            if any(_gap(pad2, b) < tech.SPACING["met2"] for b in met2):
                continue
            points.append(AccessPoint(di, dj, d, not direct))
        points.sort(key=lambda p: (abs(p.d), p.dj, p.di))
        result[pin.name] = tuple(points)
    return result


def allowed_masters() -> list[str]:
    """The cell masters the flow's synthesis may map to (the cell LEF minus the dont-use
    catalogue of :mod:`gptnano.pdk`), sorted."""
    from gptnano.pdk import flow_dont_use, matches

    patterns = flow_dont_use()
    return sorted(name for name, m in library.cells().items()
                  if m.cls.startswith("CORE") and m.signal_pins and not matches(name, patterns))
