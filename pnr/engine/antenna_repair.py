"""Post-route antenna repair, inside the route step: diodes at the gates the routed metal
violates, connected by the router.

Why: the ``ant`` step (:mod:`pnr.engine.antenna`) inserts diodes before routing from a
placement estimate, which is per net while the sky130 rule is per gate and per metal part
(the metal connected to the gate while one layer is etched). It both misses and over-inserts:
orfs_riscv32i's routed layout kept 130 gate pins over the ratio (125 of 131 records partial
met3, every one on a part with no diffusion, limit 400), while orfs_aes got 1,200 diodes
(OpenROAD: at most 100). Only the routed layout says which gates violate and on which part.

The algorithm, after OpenROAD (``repair_antennas`` in ``src/grt/src/RepairAntennas.cpp``,
violations from the ``ant`` checker, iterated ``-iterations`` times; OpenROAD runs it on the
global route and lets the detailed router connect the diodes, we have the detailed routes):

1. check every routed net with the signoff check (:func:`pnr.engine.antenna_check.check_net`:
   per gate and layer, the partial sidewall ratio of the gate's metal part against the tech
   LEF PWL at the part's diffusion);
2. group the violations into parts: the gates of one net whose ratio on one layer is the
   same share one part (the ratio is the part's metal over the part's summed gate area);
3. per part, the number of diodes (``sky130_fd_sc_hd__diode_2``) that brings the limit at
   the part's diffusion plus theirs above the ratio over :data:`MARGIN` (the part's present
   diffusion is read back from its limit through the PWL); each diode goes into the free
   sites nearest the part's first gate pin (:func:`pnr.engine.place.place_in_free_sites`, no
   placed cell moves), at most :data:`MAX_DIST_UM` away, else the gate is reported as having
   no free site near;
4. the router joins the diode to the net by one search from the gate pin's access node
   (:meth:`pnr.engine.route.Router.connect_pin`; the rest of the net and every other net
   stay as routed), so the diode is in the gate's part at every layer the path stays under.
   Where it finds no path, the next nearest free site is tried (:data:`SITE_TRIES`);
5. the diodes that connected join the layout and the netlist together
   (:meth:`pnr.engine.cts.CtsDesign.add_cell`), the touched nets are checked again, and
   steps 2-5 repeat at most :data:`MAX_PASSES` times.

Layer hopping (moving the offending met3 run up to met4 near the gate) was not taken: every
violation seen is on a part with no diffusion at all, where one diode raises the limit from
400 to 2,774 (more than twice the worst ratio, 1,130) and the router only has to reach a
free site next to the gate, whereas a hop has to re-route the net through met4 over a
congested region. A net the repair does not touch keeps its routed geometry bit for bit, so a
layout with no violation leaves the step unchanged. Nothing depends on the clock or on
hash order: nets, parts and gates are taken in name order.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from gptnano.netlist import Netlist, read_netlist, write_netlist
from pnr.engine import tech
from pnr.engine.antenna import DIODE, DIODE_PIN, RATIO_LAYER, limit
from pnr.engine.antenna_check import check_layout, check_net
from pnr.engine.buffer_tree import manhattan
from pnr.engine.context import StepContext, StepError
from pnr.engine.cts import CtsDesign
from pnr.engine.layout import Component, Layout
from pnr.engine.place import place_in_free_sites

if TYPE_CHECKING:   # the route step imports this module
    from pnr.engine.route import Router

MAX_PASSES = 3          # check -> diodes -> connect rounds
MAX_DIST_UM = 20.0      # diode centre to gate pin (Manhattan): farther is "no free site near"
SITE_TRIES = 4          # nearest free sites tried for one diode the router cannot reach
MARGIN = 0.8            # the ratio must end under this share of the limit (room for the
#                         diode's own wire and the DRC repair's patches)
MAX_PER_PART = 8
NAME = "ANTENNA_route_{}"

Violation = dict[str, object]


@dataclass
class Outcome:
    """What the repair found and did: violations before and after, every diode inserted
    (name, net, gate, distance) and every violation it could not repair, with the reason."""

    before: list[Violation]
    after: list[Violation] = field(default_factory=list)
    diodes: list[dict[str, object]] = field(default_factory=list)
    unrepaired: list[Violation] = field(default_factory=list)


def part_diffusion(limit_now: float) -> float:
    """The diffusion area (um^2) at which the LEF PWL allows ``limit_now``: the inverse of
    :func:`pnr.engine.antenna.limit` on its rising part (0 on its flat start)."""
    xs, ys = zip(*tech.pwl(RATIO_LAYER, "ANTENNADIFFSIDEAREARATIO"), strict=True)
    flat = max(k for k, y in enumerate(ys) if y == ys[0])
    return float(np.interp(limit_now, ys[flat:], xs[flat:]))


def diodes_needed(ratio: float, limit_now: float, diode_diff: float) -> int:
    """Diodes that bring a part of partial ratio ``ratio`` (limit ``limit_now``) under
    :data:`MARGIN` x its limit; :data:`MAX_PER_PART` when even those do not."""
    diff = part_diffusion(limit_now)
    return next((n for n in range(1, MAX_PER_PART + 1)
                 if ratio <= MARGIN * limit(diff + n * diode_diff)), MAX_PER_PART)


def parts(violations: list[Violation]) -> list[tuple[str, str, float, float, list[tuple]]]:
    """(net, layer, ratio, limit, gates in name order) per violating part, in name order."""
    grouped: dict[tuple, list[tuple]] = {}
    for v in violations:
        key = (str(v["net"]), str(v["layer"]), float(v["ratio"]), float(v["limit"]))  # type: ignore[arg-type]
        grouped.setdefault(key, []).append((str(v["inst"]), str(v["pin"])))
    return [(*key, sorted(gates)) for key, gates in sorted(grouped.items())]


class Repair:
    """The routed layout, its netlist and the router's state, edited together."""

    def __init__(self, layout: Layout, netlist: Netlist, router: Router) -> None:
        self.db = CtsDesign(layout, netlist)
        self.router = router
        self.diode_diff = self.db.lib[DIODE].pins[DIODE_PIN].antenna_diff_area
        self.taken = {c.name for c in layout.components}
        self.row_of = {y: r for r, (y, _) in enumerate(layout.rows)}
        self.count = 0

    def insert(self, net: str, inst: str, pin: str) -> tuple[dict[str, object] | None, str]:
        """One diode on ``net`` next to gate ``inst``/``pin``, connected; returns (its record,
        "") or (None, why not)."""
        router, db = self.router, self.db
        if f"{inst}/{pin}" not in router.access.get(router.net_id[net], {}):
            return None, "net not routed"
        name = NAME.format(self.count)
        while name in self.taken:
            name += "_"
        gate = db.pin(inst, pin)
        width = db.lib[DIODE].width
        height = db.lib[DIODE].height
        for _ in range(SITE_TRIES):
            comp = Component(name, DIODE)
            try:
                place_in_free_sites(db.layout, comp, gate.x, gate.y, db.occ)
            except StepError:
                return None, "no free site left in the core"
            cx, cy = comp.x + width / 2, comp.y + height / 2
            dist = manhattan((cx, cy), (gate.x, gate.y)) / 1000
            if dist > MAX_DIST_UM:
                return None, f"no free site within {MAX_DIST_UM:g} um (nearest {dist:.1f} um)"
            if not router.connect_pin(net, comp, DIODE_PIN, f"{inst}/{pin}"):
                continue          # the site stays taken for this repair: try the next one
            # free the trial site again so add_cell puts the diode exactly there
            s0 = (comp.x - db.layout.core[0]) // tech.SITE_W
            db.occ[self.row_of[comp.y]][s0:s0 + width // tech.SITE_W] = bytes(width // tech.SITE_W)
            db.add_cell(name, DIODE, cx, cy, {DIODE_PIN: net})
            placed = db.comp[name]
            if (placed.x, placed.y) != (comp.x, comp.y):
                raise StepError(f"antenna repair: {name} moved from ({comp.x}, {comp.y}) to "
                                f"({placed.x}, {placed.y}) between routing and placing")
            self.taken.add(name)
            self.count += 1
            return {"diode": name, "net": net, "gate": f"{inst}/{pin}", "x": comp.x,
                    "y": comp.y, "dist_um": round(dist, 2)}, ""
        return None, f"the router reached none of the {SITE_TRIES} nearest free sites"


def repair(layout: Layout, netlist: Netlist, router: Router, passes: int = MAX_PASSES,
           log: Callable[[str], None] | None = None) -> Outcome:
    """Check the routed ``layout`` (its ``routes`` from ``router.geometry()``) and repair its
    antenna violations (module docstring); ``layout``, ``netlist`` and the router's state are
    edited in place and ``layout.routes`` is left matching the router."""
    out = Outcome(before=check_layout(layout))
    found = out.before
    if not found:
        return out
    fix = Repair(layout, netlist, router)
    why: dict[tuple[str, str, str], str] = {}
    for rnd in range(1, passes + 1):
        touched: set[str] = set()
        served: dict[tuple[str, str, str], int] = {}   # diodes this pass, per gate
        for net, _layer, ratio, lim, gates in parts(found):
            # a gate that already got diodes this pass (for its part on another layer) is
            # topped up rather than a second gate of the part served
            inst, pin = max(gates, key=lambda g: served.get((net, *g), 0))  # first in name order
            have = served.get((net, inst, pin), 0)
            for _ in range(diodes_needed(ratio, lim, fix.diode_diff) - have):
                record, reason = fix.insert(net, inst, pin)
                if record is None:
                    why[(net, inst, pin)] = reason
                    break
                out.diodes.append(record)
                served[(net, inst, pin)] = served.get((net, inst, pin), 0) + 1
                touched.add(net)
        if log:
            log(f"antenna repair pass {rnd}: {len(found)} violations on "
                f"{len({v['net'] for v in found})} nets, {len(out.diodes)} diodes so far")
        if not touched:
            break
        layout.routes = router.geometry()
        found = sorted([v for v in found if v["net"] not in touched] +
                       [v for net in sorted(touched) for v in check_net(layout, net)],
                       key=lambda v: str(v["net"]))
    out.after = found
    out.unrepaired = [{**v, "reason": why.get((str(v["net"]), str(v["inst"]), str(v["pin"])),
                                               f"still over the limit after {passes} passes")}
                      for v in found]
    return out


def run_in_route(ctx: StepContext, layout: Layout, router: Router,
                 log: Callable[[str], None] | None = None) -> dict[str, float | int]:
    """The route step's part: repair the routed ``layout`` (when ``route.antenna_repair`` is
    on), write ``reports/antenna_repair.json`` and the step's netlist (``<top>.vg``, with the
    diodes; a copy of the input when none was inserted); returns the step's metrics."""
    t0 = time.monotonic()
    if not ctx.design.setting("route.antenna_repair"):
        _copy_netlist(ctx)
        return {}
    vg = ctx.input("vg")
    netlist = read_netlist(vg) if vg.is_file() else None
    if netlist is None:
        # a route step run without the netlist (engine tests on a bare layout) may only
        # check: a diode could not be written anywhere
        found = check_layout(layout)
        if found:
            raise StepError(f"route: {len(found)} antenna violations to repair but no "
                            f"netlist {vg} to add the diodes to")
        outcome = Outcome(before=[])
    else:
        outcome = repair(layout, netlist, router, log=log)
    if outcome.diodes:
        write_netlist(netlist, ctx.output("vg"))
    else:
        _copy_netlist(ctx)
    (ctx.reports_dir / "antenna_repair.json").write_text(json.dumps(
        {"before": outcome.before, "diodes": outcome.diodes, "after": outcome.after,
         "unrepaired": outcome.unrepaired}, indent=1))
    return {"antenna_violating_pins_routed": _pins(outcome.before),
            "antenna_violating_pins_repaired": _pins(outcome.after),
            "antenna_diodes_inserted": len(outcome.diodes),
            "antenna_repair_s": round(time.monotonic() - t0, 2)}


def _pins(violations: list[Violation]) -> int:
    return len({(v["inst"], v["pin"]) for v in violations})


def _copy_netlist(ctx: StepContext) -> None:
    if ctx.input("vg").is_file():
        shutil.copy(ctx.input("vg"), ctx.output("vg"))
