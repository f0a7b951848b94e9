"""Timing repair after CTS: gate sizing for setup, then hold fixing with delay cells, both
checked by OpenSTA at every corner.

Reads the clock-tree-built ``<top>.layout.json`` and ``<top>.vg`` (+ the ``sdc`` view);
writes both back with the resized and inserted cells (plus ``<top>.def``), so the router, LVS
(layout) and STA/power (netlist) see the same design -- the same contract as
:mod:`pnr.engine.cts`, whose :class:`~pnr.engine.cts.CtsDesign` does the editing and the
placement into free sites.

Gate sizing (after the sizing moves of OpenROAD's ``repair_timing -setup``,
``src/rsz/src/RepairSetup.cc``, reduced to upsizing): while a corner has negative setup slack,
each round takes the worst setup path of every failing corner and, for each cell driving a
net on it (clock-tree and hold cells excepted), tries every stronger cell of its drive family
(``nand2_1`` -> ``nand2_2``, ``nand2_4``; :func:`drive_families`, synthesis' dont-use list
applies) with ``replace_cell`` in every session, keeping the one that gains most of the summed
negative setup WS over the corners without any corner's negative WS getting worse. A kept
cell grows into free sites to its right or moves to the nearest free sites
(:func:`pnr.engine.place.place_in_free_sites`). Rounds stop when one gains nothing or after
``size_rounds``. Sizing runs first because faster cells shorten hold paths too.

Hold repair (after OpenROAD's ``repair_timing -hold``, ``src/rsz/src/RepairHold.cc``: find the
hold-violating endpoints, insert delay buffers in front of them, never make setup worse):

1. One long-lived OpenSTA session per corner (:class:`gptnano.opensta.StaSession`; one
   process per corner as in signoff, because Debian's OpenSTA 2.0.17 with ``define_corners``
   gives other ss/tt slacks than single-corner runs: gcd ss hold -0.50 vs -0.376 ns on the
   same SPEF). Before routing there are no parasitics, so the sessions read a SPEF estimated
   from the placement in the router's own model (:func:`pnr.engine.spef.write_spef`: one
   RC star per net), with each net's length the rectilinear minimum spanning tree over its
   pins and CTS's per-um R and C. Measured on gcd (cts output vs the routed SPEF): total
   wire C within 0.2 %, ss hold WS -0.401 vs -0.376 ns, tt -- 0.253 vs 0.258 ns. Without
   parasitics the ss hold WS is -0.112 ns: the clock tree's wire load, which delays the
   capture clock, is what makes hold fail. The estimate is rewritten and re-read after each
   round; within a round a new cell's output net has pin loads only.
2. Each round collects the endpoints whose hold slack is below ``hold_margin_ns`` at any
   corner (``find_timing_paths -path_delay min -slack_max``). For each (worst first, its
   slack re-read since earlier insertions may have fixed it), the candidate places for a
   delay cell are the cell input pins on its worst hold path (endpoint included); the one
   with the most setup slack through it (``-through``, every corner, over the floor below)
   is tried first -- as in OpenROAD, the delay goes where the short path does not share the
   long one (a flop's D fed by ``reset`` through one gate and by a long carry chain through
   another gets the cell on the ``reset`` input). The cell is the smallest (by its Liberty
   delay at the corner that needs the most) that covers the shortfall, else the slowest.
3. The cell is tried in OpenSTA first (``make_instance``/``connect_pin`` in every session);
   if the setup slack through the pin falls below the floor at any corner -- 0 where the
   corner met setup, else the corner's setup worst slack after sizing, so setup WNS
   never gets worse (TNS may) -- the edit is undone and the next candidate is tried. A kept
   cell is placed into the free sites nearest to its sink and added to layout and netlist.
4. Rounds repeat (a cell's delay is rarely exactly what was needed, and chains may be needed)
   until no endpoint violates or ``max_rounds`` is reached.

Hold violations at output ports are not repaired (the port's net is the port's own name, a
cell in front of it would rename it) and are counted in ``hold_unfixed``.

Config (``rsz:`` in ``config.yaml``, all optional): ``hold_margin_ns`` (0.05: the target slack
before routing, the router's parasitics change the numbers), ``max_rounds`` (10, hold
rounds), ``size_rounds`` (20, sizing rounds; 0 turns sizing off).
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gptnano.opensta import StaSession, load_script
from gptnano.pdk import (
    PHYSICAL_ONLY,
    PREFIX,
    corner_liberty,
    flow_dont_use,
    lambdapdk_dont_use,
    matches,
)
from gptnano.toolargs import tcl_word
from pnr.engine import liberty, library, spef, tech
from pnr.engine.buffer_tree import Pin, centre, rmst_length
from pnr.engine.context import StepContext, StepError
from pnr.engine.cts import (
    WIRE_C_PF_PER_UM,
    WIRE_R_OHM_PER_UM,
    CtsDesign,
    load_placed,
    save_placed,
)
from pnr.engine.place import place_in_free_sites

# Delay cells for hold, fastest first. The dlygate cells are kept out of *synthesis* by the
# flow's dont-use list (gptnano.pdk.FLOW_ONLY: "left to the timing repair"); the cells every
# step must avoid (lambdapdk's dont-use, physical-only) are checked in :func:`hold_cells`.
HOLD_CELLS = tuple(f"{PREFIX}{c}" for c in (
    "buf_1", "dlygate4sd1_1", "dlygate4sd2_1", "dlygate4sd3_1", "clkdlybuf4s50_1"))
DEFAULTS: dict[str, float] = {"hold_margin_ns": 0.05, "max_rounds": 10, "size_rounds": 20}
# A sizing move must win at least this much summed negative setup slack (ns).
SIZE_MIN_GAIN_NS = 1e-3
NS = 1e-9                       # OpenSTA's Tcl API returns seconds
INF = math.inf
# The Tcl helpers the repair loop calls (times in seconds, as the API returns them).
HELPERS_TCL = r"""
proc gptnano_ends {kind slack_max} {
  set out {}
  foreach pe [find_timing_paths -path_delay $kind -slack_max $slack_max \
                -group_count 1000000 -endpoint_count 1] {
    lappend out [get_full_name [[$pe vertex] pin]] [$pe slack]
  }
  return $out
}
proc gptnano_pin_slack {pin kind} {
  set worst 1e30
  foreach pe [find_timing_paths -path_delay $kind -through [get_pins $pin] \
                -group_count 1 -endpoint_count 1] {
    if {[$pe slack] < $worst} { set worst [$pe slack] }
  }
  return $worst
}
proc gptnano_min_path_pins {pin} {
  set out {}
  foreach pe [find_timing_paths -path_delay min -to [get_pins $pin] -group_count 1 \
                -endpoint_count 1] {
    foreach p [[$pe path] pins] { lappend out [get_full_name $p] }
  }
  return $out
}
proc gptnano_max_path_pins {} {
  set worst 1e30
  set best {}
  foreach pe [find_timing_paths -path_delay max -group_count 1 -endpoint_count 1] {
    if {[$pe slack] < $worst} { set worst [$pe slack]; set best $pe }
  }
  set out {}
  if {$best != {}} { foreach p [[$best path] pins] { lappend out [get_full_name $p] } }
  return $out
}
proc gptnano_ws {kind} {
  return [sta::worst_slack_cmd $kind]
}
proc gptnano_tns {kind} {
  return [sta::total_negative_slack_cmd $kind]
}
"""


def hold_cells() -> tuple[str, ...]:
    """:data:`HOLD_CELLS`, refusing any that the PDK's or the physical-only dont-use names."""
    banned = tuple(lambdapdk_dont_use()) + PHYSICAL_ONLY
    bad = [c for c in HOLD_CELLS if matches(c, banned)]
    if bad:
        raise StepError(f"rsz: hold cells {bad} are on the dont-use list")
    return HOLD_CELLS


def settings(ctx: StepContext) -> dict[str, float]:
    """``rsz:`` of the design config over :data:`DEFAULTS` (keys, types and bounds are checked
    where the config is loaded, in :data:`gptnano.design_config.VARIABLES`)."""
    given = ctx.design.extra.get("rsz") or {}
    return {**DEFAULTS, **{k: float(v) for k, v in given.items()}}


@dataclass
class Report:
    """What the repair did, for ``reports/rsz.json`` and the metrics."""

    before: dict[str, dict[str, float]]        # corner -> hold/setup WS and TNS (ns)
    sized: dict[str, dict[str, float]]         # after gate sizing, before hold repair
    after: dict[str, dict[str, float]]
    resized: list[dict[str, Any]]
    inserted: list[dict[str, Any]]
    unfixed: list[str]
    rounds: int


def drive_families(libs: list[liberty.Liberty]) -> dict[str, list[str]]:
    """Drive-strength families of the cells synthesis may use (``nand2`` ->
    ``[nand2_1, nand2_2, nand2_4]``), weakest first: the LEF cells outside the flow's dont-use
    list that every Liberty in ``libs`` has."""
    fam: dict[str, list[tuple[int, str]]] = {}
    banned = flow_dont_use()
    for cell in library.cells():
        m = re.fullmatch(re.escape(PREFIX) + r"(\w+)_(\d+)", cell)
        if m and not matches(cell, banned) and all(lib.has_cell(cell) for lib in libs):
            fam.setdefault(m.group(1), []).append((int(m.group(2)), cell))
    return {k: [c for _, c in sorted(v)] for k, v in fam.items()}


class Repair:
    """The layout/netlist editor (:class:`CtsDesign`) and one OpenSTA session per corner, kept
    in step: every netlist edit goes to all sessions."""

    def __init__(self, db: CtsDesign, sessions: dict[str, StaSession], spef_path: Path) -> None:
        self.db = db
        self.sessions = sessions
        self.corners = tuple(sessions)
        self.spef_path = spef_path
        self.libs = {c: liberty.load(c) for c in self.corners}
        self.count = 0

    # -- OpenSTA ---------------------------------------------------------------------------
    def broadcast(self, tcl: str) -> None:
        for sta in self.sessions.values():
            sta.eval(tcl)

    def summary(self) -> dict[str, dict[str, float]]:
        """Per corner: hold/setup worst slack and total negative slack (ns)."""
        out = {}
        for c, sta in self.sessions.items():
            out[c] = {f"{key}_{kind}": round(float(sta.eval(f"gptnano_{key} {mm}")) / NS, 4)
                      for key in ("ws", "tns") for kind, mm in (("hold", "min"), ("setup", "max"))}
        return out

    def pin_slack(self, pin: str, kind: str) -> dict[str, float]:
        out = {}
        for c, sta in self.sessions.items():
            s = float(sta.eval(f"gptnano_pin_slack {pin} {kind}"))
            out[c] = INF if s > 1e20 else s / NS
        return out

    def violations(self, margin: float) -> dict[str, tuple[float, str]]:
        """Endpoint pin -> (worst hold slack in ns, its corner) for slack < ``margin``."""
        worst: dict[str, tuple[float, str]] = {}
        for c, sta in self.sessions.items():
            items = sta.eval(f"gptnano_ends min {margin}").split()
            for pin, s in zip(items[::2], items[1::2], strict=True):
                ns = float(s) / NS
                if pin not in worst or ns < worst[pin][0]:
                    worst[pin] = (ns, c)
        return worst

    # -- parasitics estimate ---------------------------------------------------------------
    def net_rc(self, net: str) -> tuple[float, float]:
        """(pF, ohm) of ``net`` from its pins' rectilinear minimum spanning tree."""
        pins = [self.db.pin(i, p) for i, p in self.db.layout.nets[net]]
        length_um = rmst_length([(p.x, p.y) for p in pins]) / 1000
        return length_um * WIRE_C_PF_PER_UM, length_um * WIRE_R_OHM_PER_UM

    def update_parasitics(self) -> None:
        spef.write_spef(self.db.layout, self.spef_path, self.net_rc)
        self.broadcast(f"read_spef {tcl_word(self.spef_path)}")

    # -- one delay cell ----------------------------------------------------------------------
    def choose_cell(self, need_ns: float, corner: str, sinks: list[Pin]) -> str:
        """Smallest hold cell whose Liberty delay at ``corner`` (0.1 ns input slew, the sinks'
        pin load) covers ``need_ns``; else the slowest."""
        lib = self.libs[corner]
        load = sum(self.db.cap(p) for p in sinks)

        def delay(cell: str) -> float:
            return max(lib.arc(cell, "A", "X").delay(0.1, load), 0.0)

        cells = sorted(hold_cells(), key=delay)
        return next((c for c in cells if delay(c) >= need_ns), cells[-1])

    def try_insert(self, net: str, pins: list[str], cell: str, floor: dict[str, float]
                   ) -> str | None:
        """Insert ``cell`` between ``net`` and ``pins`` (``inst/port``) in OpenSTA; keep it
        (and add it to layout and netlist) unless an endpoint's setup slack at a corner falls
        below ``floor[corner]``. Returns the new instance name or ``None``."""
        name = f"hold_{self.count}"
        out = f"{name}_x"
        self.count += 1
        if name in self.db.comp or out in self.db.layout.nets:
            raise StepError(f"rsz: name {name} / net {out} already used in the design")
        edit = [f"make_net {out}", f"make_instance {name} {cell}",
                f"connect_pin {net} {name}/A", f"connect_pin {out} {name}/X"]
        edit += [f"disconnect_pin {net} {p}\nconnect_pin {out} {p}" for p in pins]
        self.broadcast("\n".join(edit))
        for p in pins:
            after = self.pin_slack(p, "max")
            if any(after[c] < floor[c] - 1e-6 for c in self.corners):
                undo = [f"disconnect_pin {out} {q}\nconnect_pin {net} {q}" for q in pins]
                undo += [f"delete_instance {name}", f"delete_net {out}"]
                self.broadcast("\n".join(undo))
                return None
        sinks = [self.db.pin(*p.rsplit("/", 1)) for p in pins]
        x, y = centre(sinks)
        self.db.add_buffer(name, cell, x, y, net, out)
        for s in sinks:
            self.db.move(s, net, out)
        return name

    def candidates(self, endpoint: str, corner: str) -> list[str]:
        """Cell input pins on ``endpoint``'s worst hold path at ``corner``, endpoint first."""
        path = self.sessions[corner].eval(f"gptnano_min_path_pins {endpoint}").split()
        out = []
        for pin in path:
            if "/" not in pin:
                continue
            inst, port = pin.rsplit("/", 1)
            cell = self.db.comp[inst].cell
            if self.db.lib[cell].pins[port].direction == "INPUT":
                out.append(pin)
        return out

    def worst_hold(self, pin: str) -> tuple[float, str]:
        slack = self.pin_slack(pin, "min")
        corner = min(slack, key=slack.__getitem__)
        return slack[corner], corner

    def fix_endpoint(self, endpoint: str, margin: float, floor: dict[str, float],
                     tried: set[str], rounds: int) -> dict[str, Any] | None:
        """One delay cell for ``endpoint`` (module docstring, steps 2-3), or ``None``."""
        need, corner = self.worst_hold(endpoint)
        if need >= margin:
            return None
        headroom = {}
        for pin in self.candidates(endpoint, corner):
            if pin in tried:
                continue
            setup = self.pin_slack(pin, "max")
            headroom[pin] = min(setup[c] - floor[c] for c in self.corners)
        for pin in sorted(headroom, key=lambda p: -headroom[p]):
            if headroom[pin] <= 0:
                break
            tried.add(pin)
            net = self.db.inst[pin.rsplit("/", 1)[0]].conns[pin.rsplit("/", 1)[1]]
            cell = self.choose_cell(margin - need, corner, [self.db.pin(*pin.rsplit("/", 1))])
            name = self.try_insert(net, [pin], cell, floor)
            if name is not None:
                return {"round": rounds, "cell": cell, "instance": name, "net": net,
                        "pin": pin, "endpoint": endpoint, "hold_slack_ns": round(need, 4),
                        "corner": corner}
        return None

    # -- gate sizing -----------------------------------------------------------------------
    def setup_ws(self) -> dict[str, float]:
        return {c: float(sta.eval("gptnano_ws max")) / NS for c, sta in self.sessions.items()}

    def resize_component(self, inst: str, cell: str) -> None:
        """Give ``inst`` the master ``cell`` in layout and netlist: in place if the sites to
        its right are free, else into the free sites nearest to where it was."""
        comp = self.db.comp[inst]
        lib = self.db.lib
        cx0 = self.db.layout.core[0]
        row = next(r for r, (y, _) in enumerate(self.db.layout.rows) if y == comp.y)
        s0 = (comp.x - cx0) // tech.SITE_W
        old_w, new_w = lib[comp.cell].width // tech.SITE_W, lib[cell].width // tech.SITE_W
        occ = self.db.occ
        occ[row][s0:s0 + old_w] = bytes(old_w)
        comp.cell = cell
        self.db.inst[inst].cell = cell
        if s0 + new_w <= len(occ[row]) and not any(occ[row][s0:s0 + new_w]):
            occ[row][s0:s0 + new_w] = b"\x01" * new_w
        else:
            place_in_free_sites(self.db.layout, comp, comp.x + old_w * tech.SITE_W / 2,
                                comp.y + tech.ROW_H / 2, occ)

    def size(self, rounds: int) -> list[dict[str, Any]]:
        """Upsize the drivers on the worst setup path (module docstring, gate sizing)."""
        families = drive_families(list(self.libs.values()))
        family_of = {c: k for k, cells in families.items() for c in cells}

        def objective(ws: dict[str, float]) -> float:
            return sum(min(v, 0.0) for v in ws.values())

        resized: list[dict[str, Any]] = []
        ws = self.setup_ws()
        for k in range(rounds):
            if objective(ws) >= 0:
                break
            drivers: dict[str, str] = {}        # instance -> corner whose path it is on
            for corner in sorted(ws, key=ws.__getitem__):
                if ws[corner] >= 0:
                    continue
                for pin in self.sessions[corner].eval("gptnano_max_path_pins").split():
                    inst, _, port = pin.rpartition("/")
                    if (inst and inst not in drivers and not inst.startswith(("cts_", "hold_"))
                            and self.db.lib[self.db.comp[inst].cell].pins[port].direction
                            == "OUTPUT"):
                        drivers[inst] = corner
            improved = False
            for inst, corner in drivers.items():
                cur = self.db.comp[inst].cell
                if cur not in family_of:
                    continue
                cells = families[family_of[cur]]
                best: tuple[float, str, dict[str, float]] | None = None
                for cand in cells[cells.index(cur) + 1:]:
                    # screened at the path's own corner first: most candidates stop here,
                    # one incremental update instead of one per corner
                    own = self.sessions[corner]
                    if own.eval(f"replace_cell {inst} {cand}") != "1":
                        continue
                    if (min(float(own.eval("gptnano_ws max")) / NS, 0.0)
                            <= min(ws[corner], 0.0) + SIZE_MIN_GAIN_NS / 10):
                        own.eval(f"replace_cell {inst} {cur}")
                        continue
                    for c, sta in self.sessions.items():
                        if c != corner:
                            sta.eval(f"replace_cell {inst} {cand}")
                    new = self.setup_ws()
                    gain = objective(new) - objective(ws)
                    if (gain > SIZE_MIN_GAIN_NS
                            and all(min(new[c], 0) >= min(ws[c], 0) - 1e-4 for c in ws)
                            and (best is None or gain > best[0])):
                        best = (gain, cand, new)
                    self.broadcast(f"replace_cell {inst} {cur}")
                if best is not None:
                    self.broadcast(f"replace_cell {inst} {best[1]}")
                    self.resize_component(inst, best[1])
                    resized.append({"round": k + 1, "instance": inst, "from": cur,
                                    "to": best[1], "corner": corner,
                                    "gain_ns": round(best[0], 4)})
                    ws = best[2]
                    improved = True
            self.update_parasitics()
            ws = self.setup_ws()
            if not improved:
                break
        return resized

    def repair(self, margin: float, max_rounds: int, size_rounds: int) -> Report:
        """Gate sizing (:meth:`size`), then rounds of :meth:`fix_endpoint` over the
        hold-violating endpoints (module docstring)."""
        self.update_parasitics()
        before = self.summary()
        resized = self.size(size_rounds)
        sized = self.summary()
        floor = {c: min(0.0, sized[c]["ws_setup"]) for c in self.corners}
        inserted: list[dict[str, Any]] = []
        tried: set[str] = set()
        rounds = 0
        for _ in range(max_rounds):
            viol = self.violations(margin)
            if not viol:
                break
            rounds += 1
            added = 0
            for endpoint in sorted(viol, key=lambda p: (viol[p][0], p)):
                if "/" not in endpoint:
                    continue
                done = self.fix_endpoint(endpoint, margin, floor, tried, rounds)
                if done is not None:
                    inserted.append(done)
                    added += 1
            self.update_parasitics()
            if not added:
                break
        unfixed = sorted(self.violations(0.0))
        return Report(before, sized, self.summary(), resized, inserted, unfixed, rounds)


def run(ctx: StepContext) -> dict[str, float | int | str]:
    t0 = time.monotonic()
    ctx.reports_dir.mkdir(parents=True, exist_ok=True)
    cfg = settings(ctx)
    layout, netlist, db = load_placed(ctx)
    sdc = ctx.inputs_dir / f"{ctx.top}.sdc"
    sdc = sdc if sdc.is_file() else ctx.design.sdc
    sessions: dict[str, StaSession] = {}
    try:
        for c in ctx.design.corners:
            sessions[c] = StaSession(ctx.reports_dir / f"rsz_sta_{c}.log")
            sessions[c].eval(load_script(corner_liberty(c), ctx.input("vg"), ctx.top, sdc,
                                         None))
            sessions[c].eval(HELPERS_TCL)
        fix = Repair(db, sessions, ctx.reports_dir / f"{ctx.top}.est.spef")
        rep = fix.repair(cfg["hold_margin_ns"], int(cfg["max_rounds"]), int(cfg["size_rounds"]))
    finally:
        for sta in sessions.values():
            sta.close()
    save_placed(ctx, layout, netlist)
    (ctx.reports_dir / "rsz.json").write_text(json.dumps(rep.__dict__, indent=1))
    metrics: dict[str, float | int | str] = {
        "cells_resized": len({r["instance"] for r in rep.resized}),
        "hold_buffers_added": len(rep.inserted),
        "hold_unfixed": len(rep.unfixed),
        "hold_rounds": rep.rounds,
        "cells": sum(c.kind == "logic" for c in layout.components),
        "runtime_s": round(time.monotonic() - t0, 2),
    }
    for c in ctx.design.corners:
        for key, value in rep.before[c].items():
            metrics[f"{key}_before_ns_{c}"] = value
        metrics[f"ws_setup_sized_ns_{c}"] = rep.sized[c]["ws_setup"]
        for key, value in rep.after[c].items():
            metrics[f"{key}_after_ns_{c}"] = value
    return metrics
