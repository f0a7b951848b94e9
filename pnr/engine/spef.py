"""SPEF parasitics estimated from the routed geometry (one lumped RC star per net).

Magic 8.3.105 writes no SPEF, so the route step writes ``<top>.spef`` from its own wires and
vias with the tech LEF's per-layer values: area capacitance (``CPERSQDIST``) plus two edges of
fringe (``EDGECAPACITANCE``) per wire, sheet resistance (``RPERSQ``) and per-cut via resistance.
Each net becomes a star: the driver connects through half the net's resistance to a centre
node that holds the whole capacitance, and every load hangs off the centre through the other
half -- pessimistic for near loads, enough for STA to see wire load and RC delay.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from pnr.engine import library, tech
from pnr.engine.layout import Layout, grid_x, grid_y

# tech LEF sky130_fd_sc.tlef: pF/um^2, pF/um, ohm/sq; via resistance in ohm per cut
AREA_CAP = {"met1": 25.7784e-6, "met2": 16.9423e-6, "met3": 12.3729e-6, "met4": 8.41537e-6}
EDGE_CAP = {"met1": 40.567e-6, "met2": 37.759e-6, "met3": 40.989e-6, "met4": 36.676e-6}
SHEET_R = {"met1": 0.125, "met2": 0.125, "met3": 0.047, "met4": 0.047}
VIA_R = {"L1M1": 9.3, "M1M2": 4.5, "M2M3": 3.41, "M3M4": 3.41}


def net_rc(route: dict) -> tuple[float, float]:
    """(capacitance pF, resistance ohm) of one routed net."""
    cap = res = 0.0
    for layer, i1, j1, i2, j2 in route.get("segs", []):
        length = (abs(grid_x(i2) - grid_x(i1)) + abs(grid_y(j2) - grid_y(j1))) / 1000
        width = tech.WIDTH[layer] / 1000
        cap += length * width * AREA_CAP[layer] + 2 * length * EDGE_CAP[layer]
        res += SHEET_R[layer] * length / width
    for kind, *_ in route.get("vias", []):
        res += VIA_R[kind]
    return cap, res


def write_spef(layout: Layout, path: Path,
               rc: Callable[[str], tuple[float, float] | None] | None = None) -> int:
    """Write the SPEF; returns the number of nets written. ``rc(net)`` gives a net's
    (capacitance pF, resistance ohm) or ``None`` to leave it out; the default is
    :func:`net_rc` of its route (a placement-based estimate passes its own, see
    :mod:`pnr.engine.rsz`).

    Ports, nets and each net's connections are written sorted by name, and the ``*DATE``
    header line is the only one that changes from run to run: two runs on the same routed
    layout give files that compare equal once that line is dropped."""
    lib = library.cells()
    cells = {c.name: c.cell for c in layout.components}
    out = ['*SPEF "IEEE 1481-1998"', f'*DESIGN "{layout.top}"',
           f'*DATE "{time.strftime("%a %b %d %H:%M:%S %Y")}"', '*VENDOR "gpt-nano-asic"',
           '*PROGRAM "pnr.engine.spef"', '*VERSION "1"', '*DESIGN_FLOW "ROUTED"',
           "*DIVIDER /", "*DELIMITER :", "*BUS_DELIMITER [ ]",
           "*T_UNIT 1 NS", "*C_UNIT 1 PF", "*R_UNIT 1 OHM", "*L_UNIT 1 HENRY", "", "*PORTS"]
    for _name, p in sorted(layout.ports.items()):
        out.append(f"{p.name} {'I' if p.direction == 'input' else 'O'}")
    count = 0
    for net, pins in sorted(layout.nets.items()):
        if rc is None:
            route = layout.routes.get(net)
            net_rc_or_none = net_rc(route) if route else None
        else:
            net_rc_or_none = rc(net)
        if net_rc_or_none is None:
            continue
        cap, res = net_rc_or_none
        conns, driver, loads = [], None, []
        for inst, pin in sorted(pins):
            if inst == "PIN":
                is_driver = layout.ports[pin].direction == "input"
                conns.append(f"*P {pin} {'I' if is_driver else 'O'}")
                name = pin
            else:
                direction = lib[cells[inst]].pins[pin].direction
                is_driver = direction == "OUTPUT"
                conns.append(f"*I {inst}:{pin} {'O' if is_driver else 'I'}")
                name = f"{inst}:{pin}"
            if is_driver and driver is None:
                driver = name
            else:
                loads.append(name)
        if driver is None:
            driver, loads = loads[0], loads[1:]
        centre = f"{net}:1"
        out += ["", f"*D_NET {net} {cap:.6g}", "*CONN", *conns, "*CAP", f"1 {centre} {cap:.6g}",
                "*RES", f"1 {driver} {centre} {res / 2:.6g}"]
        out += [f"{k} {centre} {load} {res / 2:.6g}" for k, load in enumerate(loads, 2)]
        out.append("*END")
        count += 1
    path.write_text("\n".join(out) + "\n")
    return count
