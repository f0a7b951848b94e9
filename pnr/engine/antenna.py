"""Antenna diode insertion (step ``ant``, after ``rsz``, before ``route``).

The problem: while a metal layer is etched, the metal connected to a transistor gate collects
charge; if there is much of it for little gate oxide, the gate is damaged. The sky130 rule (tech
LEF ``ANTENNADIFFSIDEAREARATIO``: metal sidewall area / gate area) allows a ratio of 400 when no
diffusion is connected to the net, and about 2,600 and more when a driver's (or a diode's)
diffusion is. The ``antenna`` check measures it on the routed layout
(:mod:`pnr.engine.antenna_check`).

What this step does, and its sources: diodes (``sky130_fd_sc_hd__diode_2``, 0.4347 um^2 of
diffusion) are inserted before routing where an estimate says a net will exceed the rule, as
OpenLane's heuristic diode insertion does (``DIODE_INSERTION_STRATEGY`` 3 and
``DIODE_ON_PORTS``: a diode next to the sinks of long nets and of nets driven by input ports,
which have no diffusion of their own inside the block). OpenROAD's ``repair_antennas`` (module
``ant``) inserts them after global routing from the routed lengths instead; our global route
lives inside the route step, so this step estimates from the placement:

* metal: the net's rectilinear spanning tree length (``buffer_tree.rmst_length``) with both
  sidewalls at the thickest routing layer's LEF ``THICKNESS`` (an upper bound for a wire on
  any one layer);
* gate area: the LEF ``ANTENNAGATEAREA`` of the net's sink pins; diffusion: the driver's
  ``ANTENNADIFFAREA`` (none for an input port);
* limit: the LEF PWL at that diffusion, times :data:`MARGIN` (the estimate ignores detours).

A net over its estimated limit gets diodes next to its sinks, farthest from the driver first,
until the limit with the added diffusion covers the estimate (at most :data:`MAX_PER_NET`).
Diodes are placed in the nearest free sites (no placed cell moves) and added to the netlist
and the layout together, so STA, LVS and the router see them.
"""

from __future__ import annotations

import json
import time

import numpy as np

from pnr.engine import library, tech
from pnr.engine.buffer_tree import manhattan, rmst_length
from pnr.engine.context import StepContext
from pnr.engine.cts import CtsDesign, load_placed, save_placed

DIODE = f"{library.PREFIX}diode_2"
DIODE_PIN = "DIODE"
MARGIN = 0.5
MAX_PER_NET = 8
RATIO_LAYER = "met1"    # the layer whose PWL the routing metals share in the sky130 tech LEF


def limit(diff_area_um2: float) -> float:
    """The LEF's allowed sidewall ratio for ``diff_area_um2`` of connected diffusion."""
    table = tech.pwl(RATIO_LAYER, "ANTENNADIFFSIDEAREARATIO")
    xs, ys = zip(*table, strict=True)
    return float(np.interp(diff_area_um2, xs, ys))


def net_estimate(db: CtsDesign, net: str) -> dict[str, float] | None:
    """Estimated sidewall area, gate area, diffusion area and ratio of ``net``; ``None`` for a
    net with no gate on it."""
    lib = db.lib
    pins = [db.pin(i, p) for i, p in db.layout.nets[net]]
    gate = sum(lib[db.comp[p.inst].cell].pins[p.pin].antenna_gate_area
               for p in pins if p.inst != "PIN" and not db.is_driver(p.inst, p.pin))
    if gate <= 0:
        return None
    driver = db.driver(net)
    diff = 0.0 if driver is None or driver[0] == "PIN" else \
        lib[db.comp[driver[0]].cell].pins[driver[1]].antenna_diff_area
    length_um = rmst_length([(p.x, p.y) for p in pins]) / 1000
    side = length_um * 2 * max(tech.thickness_um(m) for m in tech.LAYERS)
    return {"length_um": length_um, "side_um2": side, "gate_um2": gate, "diff_um2": diff,
            "ratio": side / gate}


def diodes_needed(est: dict[str, float], diode_diff: float) -> int:
    """Diodes so that the estimate stays under :data:`MARGIN` times the limit."""
    for n in range(MAX_PER_NET + 1):
        if est["ratio"] <= MARGIN * limit(est["diff_um2"] + n * diode_diff):
            return n
    return MAX_PER_NET


def insert_diodes(db: CtsDesign, enabled: bool = True) -> list[dict[str, object]]:
    """Estimate every signal net; insert diodes where needed (when ``enabled``). Returns one
    record per net over its limit, in net-name order."""
    diode_diff = db.lib[DIODE].pins[DIODE_PIN].antenna_diff_area
    taken = {c.name for c in db.layout.components}
    out: list[dict[str, object]] = []
    for net in sorted(db.layout.nets):
        est = net_estimate(db, net)
        if est is None or est["ratio"] <= MARGIN * limit(est["diff_um2"]):
            continue
        n = diodes_needed(est, diode_diff)
        driver = db.driver(net)
        origin = db.pin(*driver) if driver else db.pin(*db.layout.nets[net][0])
        sinks = sorted((db.pin(i, p) for i, p in db.layout.nets[net]
                        if i != "PIN" and not db.is_driver(i, p)),
                       key=lambda p: (-manhattan((p.x, p.y), (origin.x, origin.y)), p.inst))
        names = []
        if enabled:
            for k in range(n):
                sink = sinks[k % len(sinks)]
                name = f"ANTENNA_{len(taken)}"
                while name in taken:
                    name += "_"
                taken.add(name)
                db.add_cell(name, DIODE, sink.x, sink.y, {DIODE_PIN: net})
                names.append(name)
        out.append({"net": net, **{k: round(v, 3) for k, v in est.items()},
                    "limit": round(limit(est["diff_um2"]), 1), "diodes": names})
    return out


def run(ctx: StepContext) -> dict[str, float | int | str]:
    t0 = time.monotonic()
    ctx.reports_dir.mkdir(parents=True, exist_ok=True)
    enabled = bool(ctx.design.setting("antenna.diodes"))
    layout, netlist, db = load_placed(ctx)
    nets = insert_diodes(db, enabled)
    save_placed(ctx, layout, netlist)
    (ctx.reports_dir / "antenna_estimate.json").write_text(json.dumps(nets, indent=1))
    return {"antenna_nets_estimated": len(nets),
            "antenna_diodes_inserted": sum(len(n["diodes"]) for n in nets),  # type: ignore[arg-type]
            "cells": sum(c.kind == "logic" for c in layout.components),
            "runtime_s": round(time.monotonic() - t0, 2)}
