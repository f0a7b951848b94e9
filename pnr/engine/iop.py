"""IO pin placement: each port moved to the die-edge slot that adds least to its net's wire.

Algorithm and source: OpenROAD's ioPlacer (``place_pins``, ``src/ppl``), as ORFS runs it in
its ``3_2_place_iop`` step: a first global placement with the pins where the floorplan put
them, then every pin assigned to a slot on the die boundary by a minimum-cost assignment (the
Hungarian method) over a wirelength cost, then global placement again with the pins fixed
there. The cost of port ``p`` in slot ``s`` is the growth of ``p``'s net's bounding box: the
Manhattan distance from the slot to the box of the net's other pins at their
global-placement positions. The assignment itself is scipy's ``linear_sum_assignment``
(Jonker-Volgenant); only the slot model is this module's.

Why it matters: the floorplan puts inputs on the bottom edge and outputs on the top edge in
name order (:func:`pnr.engine.floorplan.build_floorplan`), which knows nothing of the logic.
On ORFS's riscv32i that stretched the datapath between the instruction bus (bottom) and the
pc/aluout buses (top): the placed HPWL was 434 mm for a design OpenROAD routes in under
313 mm (``detailedroute__route__wirelength`` in ORFS's rules-base.json), with every global
router edge at capacity.

Slots (the router's grid, :mod:`pnr.engine.route`): a port is a met2 stub from the bottom or
top die edge over one grid column (the floorplan's port shape, :func:`edge_port`), on every
:data:`SLOT_STEP`-th column inside the core's span. What this does not do: the left and right
edges (their pins would be met3 stubs, which the floorplan and router do not make), pin
groups or user pin constraints.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from pnr.engine import library, tech
from pnr.engine.context import StepError
from pnr.engine.layout import Layout, Port, grid_x, grid_y

SLOT_STEP = 4
"""Grid columns between two slots (1.84 um on sky130hd): every second met2 track stays free
between two port stubs for the wires that leave them."""
EDGES = ("bottom", "top")


def edge_columns(layout: Layout) -> tuple[int, int]:
    """The first and last grid column a port may use: the core's span, two columns in."""
    cx0, _, cx1, _ = layout.core
    return ((cx0 - tech.GRID_X0) // tech.GRID_DX + 2, (cx1 - tech.GRID_X0) // tech.GRID_DX - 2)


def edge_port(layout: Layout, name: str, direction: str, edge: str, i: int) -> Port:
    """A port on grid column ``i`` of the ``bottom`` or ``top`` die edge: a met2 stub from the
    edge over the node's via2 met2 pad (its width and reach)."""
    _, _, (_, hx, hy), _ = tech.VIAS["M2M3"]
    _, ny = layout.grid_size
    x = grid_x(i)
    if edge == "bottom":
        return Port(name, direction, "met2", (x - hx, 0, x + hx, grid_y(0) + hy), (i, 0))
    return Port(name, direction, "met2", (x - hx, grid_y(ny - 1) - hy, x + hx, layout.die[3]),
                (i, ny - 1))


def slots(layout: Layout) -> list[tuple[str, int]]:
    """Every (edge, column) a port may take, bottom edge first, columns ascending."""
    i_lo, i_hi = edge_columns(layout)
    first = i_lo + (-i_lo) % 2          # even columns: met3/met4 reach the port's via2 node
    cols = range(first, i_hi + 1, SLOT_STEP)
    return [(edge, i) for edge in EDGES for i in cols]


def place_pins(layout: Layout, centres: dict[str, tuple[float, float]]) -> int:
    """Move every port of `layout` to the slot of least cost (see the module docstring),
    given the cell centres (nm) of a global placement; returns how many ports moved.

    A port whose net has no placed cell keeps cost 0 everywhere and takes a slot the others
    leave; ties go to the lower slot index, so the result depends only on the input."""
    names = sorted(layout.ports)
    if not names:
        return 0
    where = slots(layout)
    if len(where) < len(names):
        raise StepError(f"io placement: {len(names)} ports but only {len(where)} edge slots "
                        f"(every {SLOT_STEP} columns on the bottom and top edges); raise the "
                        f"core size")
    lib = library.cells()
    comps = {c.name: c for c in layout.components}
    net_of = {pin: net for net, pins in layout.nets.items() for inst, pin in pins
              if inst == "PIN"}
    _, ny = layout.grid_size
    sx = np.array([grid_x(i) for _, i in where], dtype=np.int64)
    sy = np.array([grid_y(0) if e == "bottom" else grid_y(ny - 1) for e, _ in where],
                  dtype=np.int64)
    cost = np.zeros((len(names), len(where)), dtype=np.int64)
    for r, name in enumerate(names):
        pts = []
        for inst, _pin in layout.nets.get(net_of.get(name, ""), ()):
            if inst == "PIN":
                continue
            if inst in centres:
                pts.append(centres[inst])
            elif comps[inst].placed:
                c = comps[inst]
                m = lib[c.cell]
                pts.append((c.x + m.width / 2, c.y + m.height / 2))
        if not pts:
            continue
        xs, ys = np.array(pts).T
        x0, x1, y0, y1 = (int(round(v)) for v in (xs.min(), xs.max(), ys.min(), ys.max()))
        cost[r] = (np.maximum(np.maximum(x0 - sx, sx - x1), 0) +
                   np.maximum(np.maximum(y0 - sy, sy - y1), 0))
    rows, cols = linear_sum_assignment(cost)
    moved = 0
    for r, s in zip(rows.tolist(), cols.tolist(), strict=True):
        old = layout.ports[names[r]]
        edge, i = where[s]
        new = edge_port(layout, old.name, old.direction, edge, i)
        moved += new.rect != old.rect
        layout.ports[old.name] = new
    return moved
