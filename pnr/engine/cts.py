"""Clock-tree synthesis and high-fanout buffering, between placement and routing.

Reads ``<top>.layout.json`` (placed) and ``<top>.vg``; writes both back with the buffers in
them (plus ``<top>.def``), so the router, LVS (which builds its schematic from the layout) and
STA / power (which read the netlist) all see the same buffered design. Reports:
``reports/cts.json`` (every tree: buffers, their nets and fanouts, the estimate).

Why a step of its own: synthesis leaves the clock as one net from the port to every flop
(499 sinks in ``gqmv_small``) and ABC's ``buffer`` pass never buffers nets driven by ports or
flops (``rst``: 175 sinks, some register outputs 50-75). The router would build one huge net,
and STA (``set_propagated_clock``) would see the port drive all of it.

The trees (:mod:`pnr.engine.buffer_tree`): the sinks are split by balanced median bisection
into groups of at most ``max_fanout``; each group gets a buffer at its bounding-box centre,
put into the nearest free sites (:func:`pnr.engine.place.place_in_free_sites`, no placed cell
moves); the buffers' inputs are the sinks of the next level. The clock tree goes up to a
single root buffer driven by the clock port, every flop at the same depth; a signal tree stops
as soon as the original driver has at most ``signal_max_fanout`` loads. Each level uses one
buffer size (``clkbuf_*`` for the clock, ``buf_*`` otherwise): the smallest whose output
transition at the level's worst estimated load meets the target transition.

The skew and latency reported are estimates (tt Liberty NLDM for the buffers, RMST wire
capacitance and an Elmore wire delay per sink, with the tech LEF's per-um values); STA with the
router's parasitics is the signoff number (``sta/<corner>`` reports skew and insertion delay).
The wire capacitance is the ground C of a minimum-width wire times ``estimate.wire_c_scale``,
the same calibrated factor timing repair uses: without it the trees were sized for a third of
the routed load (orfs_gcd: two levels of ``clkbuf_2``, 1.25 ns clock slew and 2.15 ns
insertion delay at ss after routing, and an input-to-flop hold violation of -0.043 ns).
Buffers on the flow's dont-use list (:func:`gptnano.pdk.flow_dont_use`) are never inserted.

Config (``cts:`` in ``config.yaml``, all optional): ``clock_max_fanout`` (16),
``signal_max_fanout`` (20), ``clock_max_transition_ns`` (0.15), ``signal_max_transition_ns``
(0.4).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from gptnano.design_config import BY_KEY
from gptnano.netlist import Instance, Netlist, read_netlist, write_netlist
from gptnano.pdk import flow_dont_use, matches
from pnr.engine import liberty, library, tech
from pnr.engine.buffer_tree import Pin, bisect, centre, manhattan, rmst_length
from pnr.engine.context import StepContext, StepError
from pnr.engine.layout import Component, Layout, place_rect, write_def
from pnr.engine.place import check_overlaps, place_in_free_sites, site_occupancy

CLOCK_BUFFERS = tuple(f"{library.PREFIX}clkbuf_{n}" for n in (2, 4, 8, 16))
SIGNAL_BUFFERS = tuple(f"{library.PREFIX}buf_{n}" for n in (2, 4, 8, 12, 16))


def usable(cells: tuple[str, ...]) -> tuple[str, ...]:
    """``cells`` without those on the flow's dont-use list (``buf_16``: Magic licon.8a)."""
    banned = flow_dont_use()
    return tuple(c for c in cells if not matches(c, banned))


def estimate_wire_c_scale(ctx: StepContext) -> float:
    """``estimate.wire_c_scale`` of the design config (its default declared with the key)."""
    given = ctx.design.extra.get("estimate") or {}
    return float(given.get("wire_c_scale", BY_KEY["estimate.wire_c_scale"].default))
DEFAULTS: dict[str, float] = {"clock_max_fanout": 16, "signal_max_fanout": 20,
                              "clock_max_transition_ns": 0.15, "signal_max_transition_ns": 0.4}
# Minimum-width met1/met2 wire, averaged (the router uses both about equally for short nets):
# pF and ohm per um from the tech LEF values the SPEF estimate uses.
_W = {m: tech.WIDTH[m] / 1000 for m in ("met1", "met2")}
WIRE_C_PF_PER_UM = sum(_W[m] * tech.AREA_CAP[m] + 2 * tech.EDGE_CAP[m] for m in _W) / 2
WIRE_R_OHM_PER_UM = sum(tech.SHEET_R[m] / _W[m] for m in _W) / 2


@dataclass
class Tree:
    """One buffered net: what was inserted, for the report and the metrics."""

    net: str
    kind: str                                   # clock | signal
    sinks: int
    levels: list[dict[str, Any]] = field(default_factory=list)
    buffers: list[str] = field(default_factory=list)
    nets: list[str] = field(default_factory=list)      # the buffers' output nets
    estimate: dict[str, float] = field(default_factory=dict)


class CtsDesign:
    """The placed layout and its netlist, kept in step while buffers are added."""

    def __init__(self, layout: Layout, netlist: Netlist, wire_c_scale: float = 1.0) -> None:
        self.layout = layout
        self.netlist = netlist
        # placement-estimate wire C per um: ground C x the design's calibrated factor
        self.wire_c_pf_per_um = WIRE_C_PF_PER_UM * wire_c_scale
        self.lib = library.cells()
        self.timing = liberty.load("tt")
        self.occ = site_occupancy(layout)
        self.inst = {i.name: i for i in netlist.instances}
        self.comp = {c.name: c for c in layout.components}
        self.buffers: set[str] = set()
        _check_same_connectivity(layout, netlist)

    # -- geometry --------------------------------------------------------------------------
    def pin(self, inst: str, pin: str) -> Pin:
        """The terminal with its position: centre of the pin's first LEF shape, or of the
        port's rectangle."""
        if inst == "PIN":
            r = self.layout.ports[pin].rect
            return Pin(inst, pin, (r[0] + r[2]) / 2, (r[1] + r[3]) / 2)
        comp = self.comp[inst]
        macro = self.lib[comp.cell]
        shapes = [r for rects in macro.pins[pin].shapes.values() for r in rects]
        if not shapes:
            raise StepError(f"CTS: {comp.cell} pin {pin} has no LEF shape")
        x0, y0, x1, y1 = place_rect(shapes[0], comp, macro.height)
        return Pin(inst, pin, (x0 + x1) / 2, (y0 + y1) / 2)

    def cap(self, p: Pin) -> float:
        """Input capacitance (pF) of a sink; output ports count as 0 (their load is SDC's)."""
        if p.inst == "PIN":
            return 0.0
        return self.timing.pin_cap(self.comp[p.inst].cell, p.pin)

    def is_driver(self, inst: str, pin: str) -> bool:
        if inst == "PIN":
            return self.layout.ports[pin].direction == "input"
        return self.lib[self.comp[inst].cell].pins[pin].direction == "OUTPUT"

    def driver(self, net: str) -> tuple[str, str] | None:
        drivers = [(i, p) for i, p in self.layout.nets[net] if self.is_driver(i, p)]
        if len(drivers) > 1:
            raise StepError(f"CTS: net {net} has {len(drivers)} drivers: {drivers[:4]}")
        return drivers[0] if drivers else None

    def net_load(self, driver: tuple[float, float], pins: list[Pin]) -> float:
        """Estimated load (pF) of a net: RMST wire plus the sinks' pin capacitance."""
        wire_um = rmst_length([driver] + [(p.x, p.y) for p in pins]) / 1000
        return wire_um * self.wire_c_pf_per_um + sum(self.cap(p) for p in pins)

    # -- editing ---------------------------------------------------------------------------
    def add_buffer(self, name: str, cell: str, x: float, y: float, in_net: str,
                   out_net: str) -> Pin:
        """A placed buffer ``in_net`` -> ``out_net``; returns its input pin."""
        if name in self.comp or out_net in self.layout.nets:
            raise StepError(f"CTS: name {name} / net {out_net} already used in the design")
        self.add_cell(name, cell, x, y, {"A": in_net, "X": out_net})
        self.buffers.add(name)
        return self.pin(name, "A")

    def add_cell(self, name: str, cell: str, x: float, y: float,
                 conns: dict[str, str]) -> None:
        """A cell placed in the free sites nearest (``x``, ``y``), connected pin -> net in the
        layout and the netlist together (a net not there yet is created)."""
        comp = Component(name, cell)
        place_in_free_sites(self.layout, comp, x, y, self.occ)
        self.layout.components.append(comp)
        self.comp[name] = comp
        inst = Instance(name, cell, dict(conns))
        self.netlist.instances.append(inst)
        self.inst[name] = inst
        for pin, net in conns.items():
            self.layout.nets.setdefault(net, []).append((name, pin))

    def move(self, p: Pin, old_net: str, new_net: str) -> None:
        """Reconnect sink ``p`` from ``old_net`` to ``new_net`` in layout and netlist."""
        self.layout.nets[old_net].remove((p.inst, p.pin))
        self.layout.nets[new_net].append((p.inst, p.pin))
        self.inst[p.inst].conns[p.pin] = new_net

    # -- trees -----------------------------------------------------------------------------
    def buffer_net(self, net: str, kind: str, max_fanout: int, cells: tuple[str, ...],
                   max_transition: float) -> Tree:
        """Build the tree of ``net`` (see the module docstring)."""
        driver = self.driver(net)
        if driver is None:
            raise StepError(f"CTS: net {net} has no driver")
        dpin = self.pin(*driver)
        sinks = [self.pin(i, p) for i, p in self.layout.nets[net]
                 if (i, p) != driver and i != "PIN"]
        tree = Tree(net, kind, len(sinks))
        until = 1 if kind == "clock" else max_fanout
        nodes = sinks
        level = 0
        while nodes and (len(nodes) > until or (kind == "clock" and level == 0)):
            level += 1
            groups = bisect(nodes, max_fanout)
            targets = [centre(g) for g in groups]
            cell = self._size(groups, targets, cells, max_transition)
            nxt = []
            for k, (group, (x, y)) in enumerate(zip(groups, targets, strict=True)):
                name = f"{'cts' if kind == 'clock' else 'fo'}_{net}_{level}_{k}"
                out_net = f"{name}_x"
                a_pin = self.add_buffer(name, cell, x, y, net, out_net)
                for p in group:
                    self.move(p, net, out_net)
                tree.buffers.append(name)
                tree.nets.append(out_net)
                nxt.append(a_pin)
            tree.levels.append({"level": level, "cell": cell, "buffers": len(groups),
                                "max_fanout": max(len(g) for g in groups)})
            nodes = nxt
        tree.estimate = self._estimate(net, dpin)
        return tree

    def _size(self, groups: list[list[Pin]], targets: list[tuple[float, float]],
              cells: tuple[str, ...], max_transition: float) -> str:
        """Smallest of ``cells`` whose output transition meets ``max_transition`` at the
        level's worst estimated load (input transition assumed at the target too)."""
        load = max(self.net_load(t, g) for g, t in zip(groups, targets, strict=True))
        for cell in cells:
            if self.timing.arc(cell, "A", "X").transition(max_transition, load) <= max_transition:
                return cell
        return cells[-1]

    def _estimate(self, net: str, dpin: Pin) -> dict[str, float]:
        """Insertion delay (ns) from the net's driver pin to every sink that is not an
        inserted buffer: buffer NLDM delay at the estimated load plus Elmore wire delay per
        sink. The driver's own delay is not the tree's and is left out (a port drives with
        0 transition, as STA assumes without ``set_input_transition``)."""
        arrivals: list[float] = []

        def walk(n: str, src: Pin, cell: str | None, t_in: float, slew_in: float) -> None:
            loads = [self.pin(i, p) for i, p in self.layout.nets[n]
                     if (i, p) != (src.inst, src.pin) and i != "PIN"]
            c_total = self.net_load((src.x, src.y), loads)
            if cell is None:
                t_out, slew = t_in, slew_in
            else:
                arc = self.timing.arc(cell, "A", "X")
                t_out, slew = t_in + arc.delay(slew_in, c_total), arc.transition(slew_in, c_total)
            for p in loads:
                d_um = manhattan((src.x, src.y), (p.x, p.y)) / 1000
                wire_ns = WIRE_R_OHM_PER_UM * d_um * (self.wire_c_pf_per_um * d_um / 2
                                                      + self.cap(p)) / 1000
                if p.inst in self.buffers:
                    walk(self.inst[p.inst].conns["X"], self.pin(p.inst, "X"),
                         self.comp[p.inst].cell, t_out + wire_ns, slew)
                else:
                    arrivals.append(t_out + wire_ns)

        walk(net, dpin, None, 0.0, 0.0)
        if not arrivals:
            return {}
        return {"latency_max_ns": round(max(arrivals), 4),
                "latency_min_ns": round(min(arrivals), 4),
                "skew_ns": round(max(arrivals) - min(arrivals), 4)}


def _check_same_connectivity(layout: Layout, netlist: Netlist) -> None:
    """The layout and the netlist handed to CTS must describe the same circuit (both come
    from synthesis/DFT through floorplan and place); editing one copy of two different
    designs would hand the router and STA different circuits."""
    lay = {(n, i, p) for n, pins in layout.nets.items() for i, p in pins}
    net = {(n, i, p) for n, pins in netlist.nets().items() for i, p in pins}
    if lay != net:
        diff = sorted(lay ^ net)[:5]
        raise StepError(f"CTS: layout.json and the netlist differ ({len(lay ^ net)} "
                        f"connections, e.g. {diff})")


def settings(ctx: StepContext) -> dict[str, float]:
    """``cts:`` of the design config over :data:`DEFAULTS`; unknown keys are an error."""
    given = ctx.design.extra.get("cts", {}) or {}
    if not isinstance(given, dict) or set(given) - set(DEFAULTS):
        raise StepError(f"{ctx.design.folder / 'config.yaml'}: cts: accepts only "
                        f"{sorted(DEFAULTS)}, got {given!r}")
    out = {**DEFAULTS, **{k: float(v) for k, v in given.items()}}
    for key in ("clock_max_fanout", "signal_max_fanout"):
        if out[key] < 2:
            raise StepError(f"cts.{key} must be >= 2, got {out[key]}")
    return out


def load_placed(ctx: StepContext, wire_c_scale: float = 1.0
                ) -> tuple[Layout, Netlist, CtsDesign]:
    """The placed layout and its netlist, joined for editing (CTS, timing repair, antenna
    diodes); ``wire_c_scale`` for the steps that estimate wire load
    (:func:`estimate_wire_c_scale`)."""
    layout = Layout.load(ctx.input("layout.json"))
    netlist = read_netlist(ctx.input("vg"))
    return layout, netlist, CtsDesign(layout, netlist, wire_c_scale)


def save_placed(ctx: StepContext, layout: Layout, netlist: Netlist) -> None:
    """After an edit: no overlaps, the layout still connects what the netlist does; then the
    layout, its DEF and the netlist are written together, so every view agrees."""
    nsites = (layout.core[2] - layout.core[0]) // tech.SITE_W
    check_overlaps(layout, nsites)
    _check_same_connectivity(layout, netlist)
    layout.save(ctx.output("layout.json"))
    write_def(layout, ctx.output("def"))
    write_netlist(netlist, ctx.output("vg"))


def run(ctx: StepContext) -> dict[str, float | int | str]:
    t0 = time.monotonic()
    ctx.reports_dir.mkdir(parents=True, exist_ok=True)
    cfg = settings(ctx)
    layout, netlist, db = load_placed(ctx, estimate_wire_c_scale(ctx))
    clock = ctx.design.clock_port
    if clock not in layout.nets:
        raise StepError(f"CTS: clock port {clock} is not a net of {ctx.input('vg')}")
    trees = []
    clock_tree = db.buffer_net(clock, "clock", int(cfg["clock_max_fanout"]), usable(CLOCK_BUFFERS),
                               cfg["clock_max_transition_ns"])
    trees.append(clock_tree)
    clock_nets = [clock, *clock_tree.nets]
    sig_fo = int(cfg["signal_max_fanout"])
    wide = sorted((n for n, pins in layout.nets.items()
                   if n not in clock_nets and len(pins) - 1 > sig_fo
                   and db.driver(n) is not None), key=lambda n: (-len(layout.nets[n]), n))
    for n in wide:
        trees.append(db.buffer_net(n, "signal", sig_fo, usable(SIGNAL_BUFFERS),
                                   cfg["signal_max_transition_ns"]))
    save_placed(ctx, layout, netlist)
    (ctx.reports_dir / "cts.json").write_text(json.dumps(
        [t.__dict__ for t in trees], indent=1))
    metrics: dict[str, float | int | str] = {
        "clock_sinks": clock_tree.sinks,
        "clock_buffers": len(clock_tree.buffers),
        "clock_levels": len(clock_tree.levels),
        "clock_max_fanout": max(len(layout.nets[n]) - 1 for n in clock_nets),
        "clock_skew_est_ns": clock_tree.estimate.get("skew_ns", 0.0),
        "clock_latency_est_ns": clock_tree.estimate.get("latency_max_ns", 0.0),
        "signal_nets_buffered": len(trees) - 1,
        "signal_buffers": sum(len(t.buffers) for t in trees[1:]),
        "max_fanout": max(len(p) - 1 for p in layout.nets.values()),
        "cells": sum(c.kind == "logic" for c in layout.components),
        "runtime_s": round(time.monotonic() - t0, 2),
    }
    return metrics
