"""Timing repair after CTS: max slew/capacitance/fanout repair, setup repair (pin swapping,
gate sizing, load splitting), then hold fixing with delay cells, all checked by OpenSTA at
every corner.

Reads the clock-tree-built ``<top>.layout.json`` and ``<top>.vg`` (+ the ``sdc`` view);
writes both back with the resized and inserted cells (plus ``<top>.def``), so the router, LVS
(layout) and STA/power (netlist) see the same design -- the same contract as
:mod:`pnr.engine.cts`, whose :class:`~pnr.engine.cts.CtsDesign` does the editing and the
placement into free sites.

Design repair (after OpenROAD's ``repair_design``, ``src/rsz/src/RepairDesign.cc``): nets
whose driver exceeds a Liberty limit at any corner -- ``max_transition`` (OpenSTA's
``report_check_types -max_transition``), ``max_capacitance`` against the estimated load
(Debian's OpenSTA 2.0.17 has no capacitance check), or a fanout above ``max_fanout`` -- get
their driver upsized to the smallest cell of its family that meets the limits, else a
balanced buffer tree (:meth:`CtsDesign.buffer_net`). Clock-tree and port-driven nets are left
to CTS.

Setup repair (after the moves of OpenROAD's ``repair_timing -setup``,
``src/rsz/src/RepairSetup.cc`` with ``SwapPinsMove``, ``SizeUpMove``, ``SplitLoadMove``):
while a corner's setup slack is below ``setup_margin_ns`` (default 0: while it is negative),
each round takes the ``setup_paths`` worst endpoints below it of every failing corner and walks
each path from its startpoint; for every stage's driver (clock-tree and hold cells excepted) it
tries, in this order:

* **pin swap** -- move the path's signal to a logically equivalent input pin (the truth table
  of the Liberty ``function`` decides, :func:`swappable_pins`): a ``maj3`` carry on C moved to
  B, the fastest arc;
* **sizing** -- every stronger cell of the drive family (``nand2_1`` -> ``nand2_2``,
  ``nand2_4``; :func:`drive_families`, synthesis' dont-use list applies);
* **load split** -- the driver's loads with more than ``SPLIT_SLACK_MARGIN_NS`` setup slack
  over the critical sink go behind a ``buf_1/2/4`` placed at their centre, so the critical
  sink sees less capacitance.

Of a move's alternatives (the stronger cells, the three buffers) each is tried at the path's
own corner only, and the best there is measured at every corner (:meth:`Repair.best_of`).

A move is kept if it raises the score -- summed WS shortfall below ``setup_margin_ns`` over the
corners plus ``tns_weight`` x their TNS -- by more than ``SIZE_MIN_GAIN_NS`` without any
corner's shortfall getting worse. The margin is OpenROAD's ``repair_timing -setup_margin``
(ORFS ``SETUP_SLACK_MARGIN``): the repair times the placement estimate, and the routed, coupled
SPEF of signoff comes out slower than that estimate (probe with DFT: ss +0.58 ns at rsz, -0.40
ns at signoff), so a design can ask for that much slack before routing. OpenSTA drops a net's
SPEF parasitics when a pin is connected to or from it, so every net a trial edit touches gets
its estimated wire as a ``set_load`` (in the trial and its undo; :meth:`Repair.wire_load`); an
SDC load cannot be taken back, so at the end of the round the sessions are restarted on the
edited netlist (:meth:`Repair.update_parasitics`).
A resized cell grows into free sites to its right or moves to the nearest free sites
(:func:`pnr.engine.place.place_in_free_sites`);
a new buffer goes into the free sites nearest its loads. Setup repair runs before hold repair
because faster cells shorten hold paths too.

What bounds the setup work: a trial edit costs one incremental timing update, and on a large
design that update spans the edited cell's whole fanout cone (aes, 10.5k cells: a flop or an
sbox input resized at ss costs 3-6 s at load, about a full timing update, where a gcd trial
costs milliseconds; without the bounds below, the 20 rounds on aes ran > 57 min and round 7
ended at 494 s). Rounds stop when one keeps nothing, after ``size_rounds``, when they stop
paying (:class:`Convergence`, after OpenROAD's ``RepairSetup::terminateProgress``: a round
pays if it raises the best score by ``SETUP_MIN_GAIN``, 0.25 %, of the starting score; two
rounds in a row that do not pay end the repair, but not right after a setback -- the SPEF
re-read after a round can take back what the trials' wire-load stand-ins promised, and a
round cannot be undone), and, where the design's setup slack is only reported (``timing:
{setup: report}``), when trial edits x cells reach ``SETUP_WORK_BUDGET``
(:func:`trial_budget`). Counts, never seconds, so the result does not depend on the
machine. Measured on one cts layout each (the rsz step alone on a machine at
load 3.5-6; ``python -m flow.run_engine --design D --until rsz`` runs it after cts, its
``reports/rsz.log`` has the rounds): aes 140-234 s (2 setup rounds, 484 trials, setup WS ss
-39.61 -> -32.54 ns, tt -5.40 -> -3.86, ff -2.00 -> -1.57; hold fixed in 4 rounds; 165 s in
that run_engine command at load 4.5, on its own placement: ss -42.69 -> -32.64); gcd 84 s
against 149 s with 20 fixed rounds (17 rounds, then converged; WS ss -9.32, tt -1.46, ff -0.56
against -9.63, -1.50, -0.57); small (setup signed off, unbounded) 129 s against 242 s, ss
+3.057 against +3.070 after its 20 rounds.

Hold repair (after OpenROAD's ``repair_timing -hold``, ``src/rsz/src/RepairHold.cc``: find the
hold-violating endpoints, insert delay buffers in front of them, never make setup worse):

1. One long-lived OpenSTA session per corner (:class:`gptnano.opensta.StaSession`; one
   process per corner as in signoff, because Debian's OpenSTA 2.0.17 with ``define_corners``
   gives other ss/tt slacks than single-corner runs: gcd ss hold -0.50 vs -0.376 ns on the
   same SPEF). The sessions are asked at once (:meth:`Repair.query`: the corners' updates
   run in parallel), each question one request: an edit and the state after it, or the
   slacks through many pins (``gptnano_pins_slack``: the pins' timing-graph vertex slacks,
   what ``find_timing_paths -through`` reports, without enumerating paths). Before
   routing there are no parasitics, so the sessions read a SPEF estimated from the
   placement in the router's own model (:func:`pnr.engine.spef.write_spef`: one RC star per
   net), with each net's length the rectilinear minimum spanning tree over its
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
before routing, the router's parasitics change the numbers), ``max_rounds`` (10, hold rounds),
``size_rounds`` (20, setup repair rounds; 0 turns it off), ``setup_paths`` (3), ``pin_swap`` /
``split_load`` / ``repair_design`` (1 = on), ``max_fanout`` (0 = no limit), ``tns_weight``
(0.01), ``setup_margin_ns`` (0: the setup slack the repair aims for). The wire load is the
placement estimate's, scaled by the design's ``estimate.wire_c_scale`` (shared with CTS: routed
extraction carries more C than the spanning trees -- detours, vias, coupling). What each step
bought is measured in pnr/README.md (rsz section).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gptnano.liberty import evaluate, parse_function
from gptnano.netlist import write_netlist
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
    SIGNAL_BUFFERS,
    WIRE_R_OHM_PER_UM,
    CtsDesign,
    estimate_wire_c_scale,
    load_placed,
    save_placed,
    usable,
)
from pnr.engine.place import place_in_free_sites

# Delay cells for hold, fastest first. The dlygate cells are kept out of *synthesis* by the
# flow's dont-use list (gptnano.pdk.FLOW_ONLY: "left to the timing repair"); the cells every
# step must avoid (lambdapdk's dont-use, physical-only) are checked in :func:`hold_cells`.
HOLD_CELLS = tuple(f"{PREFIX}{c}" for c in (
    "buf_1", "dlygate4sd1_1", "dlygate4sd2_1", "dlygate4sd3_1", "clkdlybuf4s50_1"))
DEFAULTS: dict[str, float] = {"hold_margin_ns": 0.05, "max_rounds": 10, "size_rounds": 20,
                              "setup_paths": 3, "pin_swap": 1, "split_load": 1,
                              "repair_design": 1, "max_fanout": 0, "tns_weight": 0.01,
                              "setup_margin_ns": 0.0}
# Buffers the setup repair (split load) and the design repair (max slew/cap/fanout) insert,
# weakest first; the same family CTS uses for signal trees.
REPAIR_BUFFERS = tuple(f"{PREFIX}buf_{n}" for n in (1, 2, 4, 8))
# A load moved behind a split buffer must have at least this much more setup slack (ns) than
# the critical sink: the buffer adds about one gate delay to it.
SPLIT_SLACK_MARGIN_NS = 0.1
# A sizing move must win at least this much summed negative setup slack (ns).
SIZE_MIN_GAIN_NS = 1e-3
# When setup rounds stop paying (:class:`Convergence`, after OpenROAD's
# RepairSetup::terminateProgress, where the TNS fixed per interval of moves, as a share of the
# initial TNS, must stay above a threshold): a round pays if it raises the best score so far by
# SETUP_MIN_GAIN x |score before the repair|; SETUP_PATIENCE rounds in a row that do not pay
# end the repair. Counts, not seconds: the result does not depend on the machine's speed.
SETUP_MIN_GAIN = 0.0025
SETUP_PATIENCE = 2
# The setup repair's work bound where setup slack is only reported (``timing: {setup:
# report}``: best effort, not a pass criterion): trial edits x logic cells. A trial costs one
# incremental timing update, which on a large design can span most of it (aes: 3-6 s per
# trial on a flop or an sbox input at ss, like a full update), so the product is what the
# repair costs; the bound leaves small designs unbounded (gcd, 394 cells: 12,690 trials, it
# converges after ~2,000) and gives aes (10,454 cells) 478. Where setup is signed off, only
# convergence and ``size_rounds`` end the repair (``small``: 20 rounds still gaining).
SETUP_WORK_BUDGET = 5e6
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
proc gptnano_max_paths {n {slack_max 0}} {
  set out {}
  foreach pe [find_timing_paths -path_delay max -slack_max $slack_max -group_count $n \
                -endpoint_count 1] {
    set pins {}
    foreach p [[$pe path] pins] { lappend pins [get_full_name $p] }
    lappend out "[$pe slack] [join $pins { }]"
  }
  return [join $out "\n"]
}
proc gptnano_ws {kind} {
  return [sta::worst_slack_cmd $kind]
}
proc gptnano_tns {kind} {
  return [sta::total_negative_slack_cmd $kind]
}
proc gptnano_state {} {
  return "[sta::worst_slack_cmd max] [sta::total_negative_slack_cmd max]"
}
proc gptnano_pins_slack {kind pins} {
  set i [expr {$kind eq "min" ? 0 : 1}]
  set out {}
  foreach pin $pins {
    set worst 1e30
    foreach v [[get_pins $pin] vertices] {
      foreach rf {rise fall} {
        set s [lindex [$v slacks $rf] $i]
        if {$s < $worst} { set worst $s }
      }
    }
    lappend out $worst
  }
  return $out
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


def trial_budget(cells: int) -> int:
    """Trial edits the setup repair may make on a design of ``cells`` logic cells
    (:data:`SETUP_WORK_BUDGET`)."""
    return int(SETUP_WORK_BUDGET / max(1, cells))


@dataclass
class Convergence:
    """Whether another setup round is worth its cost (:data:`SETUP_MIN_GAIN`): fed the score
    after each round; :meth:`update` turns ``False`` after :data:`SETUP_PATIENCE` rounds in a
    row that did not raise the best score by the threshold -- unless the last round is a
    setback (its score below the best by more than the threshold: the SPEF re-read after a
    round can undo what the trials' wire-load stand-ins promised), which another round may
    recover, since a round cannot be taken back."""

    start: float                # the score before the first round (<= 0)
    best: float = -INF
    idle: int = 0
    why: str = ""

    def threshold(self) -> float:
        return SETUP_MIN_GAIN * abs(self.start)

    def update(self, score: float) -> bool:
        need = self.threshold()
        best = max(self.best, self.start)
        self.idle = 0 if score > best + need else self.idle + 1
        self.best = max(best, score)
        if self.idle >= SETUP_PATIENCE and score >= self.best - need:
            self.why = (f"{self.idle} rounds raised the best score ({self.best:+.3f}) by less "
                        f"than {need:.3f} each ({SETUP_MIN_GAIN:g} x |{self.start:.3f}|)")
            return False
        return True


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


def swappable_pins(lib: liberty.Liberty, cell: str, inputs: list[str]) -> list[list[str]]:
    """Groups of input pins of ``cell`` that can be exchanged without changing its function
    (OpenROAD rsz's pin swapping, ``SwapPinsMove``: ``maj3`` A/B/C, ``a311oi`` A1/A2/A3, ...).
    Checked on the truth table of every output's Liberty ``function``, so a ``mux2``'s A0/A1
    or an ``a2bb2oi``'s A1_N/B1 never pair up; cells with several outputs, state (a flop's
    ``IQ``) or more than 6 inputs get no groups."""
    outs = [c for c in lib._cells[cell].children  # noqa: SLF001 (read-only AST access)
            if c.id == "pin" and any(a.id == "direction" and a.value.strip('"') == "output"
                                     for a in c.children)]
    if len(outs) != 1 or not 2 <= len(inputs) <= 6:
        return []
    func = next((a.value.strip('"') for a in outs[0].children if a.id == "function"), None)
    if func is None:
        return []
    try:
        tree = parse_function(func)
    except ValueError:
        return []
    names = sorted(inputs)

    def table(order: list[str]) -> tuple[bool, ...]:
        out = []
        for v in range(1 << len(names)):
            bits = {n: bool(v >> i & 1) for i, n in enumerate(names)}
            try:
                out.append(evaluate(tree, {order[i]: bits[n] for i, n in enumerate(names)}))
            except KeyError:        # a variable that is no input pin (state): no swapping
                return ()
        return tuple(out)

    base = table(names)
    if not base:
        return []
    groups: list[list[str]] = []
    for n in names:
        for g in groups:
            order = [g[0] if x == n else n if x == g[0] else x for x in names]
            if table(order) == base:
                g.append(n)
                break
        else:
            groups.append([n])
    return [g for g in groups if len(g) > 1]


class Repair:
    """The layout/netlist editor (:class:`CtsDesign`) and one OpenSTA session per corner, kept
    in step: every netlist edit goes to all sessions."""

    def __init__(self, db: CtsDesign, sessions: dict[str, StaSession], spef_path: Path,
                 tns_weight: float = DEFAULTS["tns_weight"],
                 reopen: Callable[[], dict[str, StaSession]] | None = None,
                 setup_margin: float = DEFAULTS["setup_margin_ns"]) -> None:
        self.db = db
        self.setup_margin = setup_margin  # ns: setup repair's target slack
        self.reopen = reopen
        self.sessions = sessions
        self.corners = tuple(sessions)
        self.spef_path = spef_path
        self.tns_weight = tns_weight
        self.libs = {c: liberty.load(c) for c in self.corners}
        self.families = drive_families(list(self.libs.values()))
        self.family_of = {c: k for k, cells in self.families.items() for c in cells}
        self.swap_groups: dict[str, list[list[str]]] = {}
        self.loaded_nets: list[str] = []
        self.count = 0
        self.sta_calls = 0                  # requests to the sessions (the progress log)
        self.trials = 0                     # setup trial edits (:meth:`attempt`)
        self._caps: dict[tuple[str, str, str, str], float] = {}
        self.log: Callable[[str], None] = lambda line: None   # progress lines (run: rsz.log)

    # -- OpenSTA ---------------------------------------------------------------------------
    def query(self, scripts: dict[str, str]) -> dict[str, str]:
        """Run ``scripts[corner]`` in that corner's session, all sessions at once (each is its
        own process, so the corners' incremental timing updates run in parallel)."""
        for c, tcl in scripts.items():
            self.sessions[c].send(tcl)
        self.sta_calls += len(scripts)
        return {c: self.sessions[c].receive() for c in scripts}

    def broadcast(self, tcl: str) -> dict[str, str]:
        return self.query(dict.fromkeys(self.corners, tcl))

    def summary(self) -> dict[str, dict[str, float]]:
        """Per corner: hold/setup worst slack and total negative slack (ns)."""
        keys = [(key, kind, mm) for key in ("ws", "tns")
                for kind, mm in (("hold", "min"), ("setup", "max"))]
        got = self.broadcast("list " + " ".join(f"[gptnano_{k} {mm}]" for k, _, mm in keys))
        return {c: {f"{k}_{kind}": round(float(v) / NS, 4)
                    for (k, kind, _), v in zip(keys, got[c].split(), strict=True)}
                for c in self.corners}

    @staticmethod
    def slacks_ns(reply: str) -> list[float]:
        """``gptnano_pins_slack``'s seconds as ns (no path through the pin: ``INF``)."""
        return [INF if float(s) > 1e20 else float(s) / NS for s in reply.split()]

    def pins_slack(self, pins: list[str], kind: str, edit: str = "",
                   corners: tuple[str, ...] | None = None) -> dict[str, dict[str, float]]:
        """Pin -> corner -> worst ``kind`` (``max``: setup, ``min``: hold) slack through the
        pin in ns, after the Tcl ``edit`` (if given) -- one request per corner for all pins.
        The slack is the pin's timing-graph vertex slack (OpenSTA ``Vertex_slacks``, rise and
        fall), the same number as ``find_timing_paths -through`` without enumerating paths
        (checked in the tests)."""
        tcl = f"{edit}\ngptnano_pins_slack {kind} {{{' '.join(pins)}}}"
        got = self.query(dict.fromkeys(corners or self.corners, tcl))
        per = {c: self.slacks_ns(r) for c, r in got.items()}
        return {p: {c: per[c][i] for c in per} for i, p in enumerate(pins)}

    def pin_slack(self, pin: str, kind: str) -> dict[str, float]:
        return self.pins_slack([pin], kind)[pin]

    def violations(self, margin: float) -> dict[str, tuple[float, str]]:
        """Endpoint pin -> (worst hold slack in ns, its corner) for slack < ``margin``."""
        worst: dict[str, tuple[float, str]] = {}
        for c, reply in self.broadcast(f"gptnano_ends min {margin}").items():
            items = reply.split()
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
        return length_um * self.db.wire_c_pf_per_um, length_um * WIRE_R_OHM_PER_UM

    def wire_load(self, net: str, drop: tuple[tuple[str, str], ...] = (),
                  add: tuple[tuple[str, str], ...] = (),
                  at: tuple[float, float] | None = None) -> str:
        """``set_load`` of ``net``'s estimated wire capacitance with the pins ``drop``
        removed and ``add`` added (``at``: one more point, a buffer not placed yet).

        Why: OpenSTA drops a net's SPEF parasitics when a pin is connected to or
        disconnected from it (measured on gcd: disconnecting and reconnecting the same pin
        "gained" 21 ps at tt), so a trial edit would look free. The touched nets get their
        wire as a lumped load instead -- in the trial and in its undo -- until the next
        :meth:`update_parasitics`."""
        pts = [(p.x, p.y) for p in (self.db.pin(i, q) for i, q in self.db.layout.nets[net]
                                    if (i, q) not in drop)]
        pts += [(p.x, p.y) for p in (self.db.pin(i, q) for i, q in add)]
        if at is not None:
            pts.append(at)
        self.loaded_nets.append(net)
        cap = rmst_length(pts) / 1000 * self.db.wire_c_pf_per_um
        return f"set_load {cap:.6f} [get_nets {net}]"

    def update_parasitics(self) -> None:
        """Rewrite the placement SPEF and read it in every session.

        The stand-in wire loads of :meth:`wire_load` cannot be taken back: a net's SDC load
        stays next to its SPEF parasitics (measured on gcd: ``set_load 0`` on one critical net
        moved ss WS by 15 ps, re-reading the SPEF did not undo it; after a whole repair the
        sessions reported ss -7.51 ns where a fresh OpenSTA run on the written netlist and SPEF
        gave -11.07). So when any was set the sessions are started afresh on the current
        netlist (``reopen``) before the SPEF is read."""
        spef.write_spef(self.db.layout, self.spef_path, self.net_rc)
        if self.loaded_nets:
            if self.reopen is None:
                raise StepError("rsz: wire loads were set but the sessions cannot be reopened")
            for sta in self.sessions.values():
                sta.close()
            self.sessions = self.reopen()
            self.loaded_nets = []
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
        after = self.pins_slack(pins, "max", edit="\n".join(edit))
        for p in pins:
            if any(after[p][c] < floor[c] - 1e-6 for c in self.corners):
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
        self.sta_calls += 1
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
        cands = [p for p in self.candidates(endpoint, corner) if p not in tried]
        setup = self.pins_slack(cands, "max") if cands else {}
        headroom = {p: min(setup[p][c] - floor[c] for c in self.corners) for p in cands}
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

    # -- setup repair ------------------------------------------------------------------------
    @staticmethod
    def state_ns(reply: str) -> tuple[float, float]:
        """``gptnano_state``'s (setup WS, setup TNS) in ns."""
        ws, tns = reply.split()
        return float(ws) / NS, float(tns) / NS

    def setup_state(self) -> dict[str, tuple[float, float]]:
        """Per corner: (setup WS, setup TNS) in ns."""
        return {c: self.state_ns(r) for c, r in self.broadcast("gptnano_state").items()}

    def shortfall(self, ws: float) -> float:
        """How far the setup WS ``ws`` (ns) is below the target ``setup_margin`` (<= 0)."""
        return min(ws - self.setup_margin, 0.0)

    def score(self, state: dict[str, tuple[float, float]]) -> float:
        """What a setup move must raise: the summed WS :meth:`shortfall` over the corners plus
        ``tns_weight`` x their TNS (so a move on a near-critical path, which leaves WS where it
        is, still counts; OpenROAD's repair_timing also works through the violating endpoints
        by TNS after the worst one)."""
        return sum(self.shortfall(ws) + self.tns_weight * tns for ws, tns in state.values())

    def screen(self, do: str, undo: str, corner: str, state: dict[str, tuple[float, float]]
               ) -> tuple[float, tuple[float, float]] | None:
        """Apply the Tcl edit ``do`` at ``corner`` only and measure it there: (the corner's
        score gain, its new (WS, TNS)) with the edit left applied, or ``None`` (undone) if the
        corner's score does not rise."""
        self.trials += 1
        own = self.query({corner: f"{do}\ngptnano_state"})
        ws, tns = self.state_ns(own[corner])
        old_ws, old_tns = state[corner]
        gain = (self.shortfall(ws) + self.tns_weight * tns
                - self.shortfall(old_ws) - self.tns_weight * old_tns)
        if gain <= SIZE_MIN_GAIN_NS / 10:
            self.query({corner: undo})
            return None
        return gain, (ws, tns)

    def best_of(self, options: list[tuple[str, str, str]], corner: str,
                state: dict[str, tuple[float, float]]
                ) -> tuple[str, float, dict[str, tuple[float, float]]] | None:
        """Of the alternative edits ``options`` (label, do, undo), the one kept: each is
        screened at ``corner`` (:meth:`screen`, then undone), and only the best there is
        measured at every corner, then the next best, until one wins (:meth:`attempt`). On a
        large design a trial is one timing update of the edited cell's fanout cone per corner,
        so this costs one update per option plus one per corner, where measuring every option
        everywhere cost one per option and corner. Returns (label, gain, new state) with the
        winning edit applied, or ``None``."""
        promising = []
        for label, do, undo in options:
            got = self.screen(do, undo, corner, state)
            if got is not None:
                self.query({corner: undo})
                promising.append((got[0], label, do, undo))
        for _gain, label, do, undo in sorted(promising, key=lambda t: -t[0]):
            won = self.attempt(do, undo, corner, state, keep=True, screened=True)
            if won is not None:
                return label, won[0], won[1]
        return None

    def attempt(self, do: str, undo: str, corner: str, state: dict[str, tuple[float, float]],
                keep: bool, screened: bool = False
                ) -> tuple[float, dict[str, tuple[float, float]]] | None:
        """Apply the Tcl edit ``do`` and measure it: screened at ``corner`` (the path's own)
        first, so a useless edit costs one incremental update (``screened``: it was, so every
        corner at once), then at every corner. Returns (gain, new state) when the score rises
        by more than :data:`SIZE_MIN_GAIN_NS` and no corner's negative WS gets worse; the
        edit stays applied only if ``keep`` and it won."""
        if screened:
            self.trials += 1
            new = {c: self.state_ns(r) for c, r in self.query(
                dict.fromkeys(self.corners, f"{do}\ngptnano_state")).items()}
        else:
            got = self.screen(do, undo, corner, state)
            if got is None:
                return None
            new = {c: self.state_ns(r) for c, r in self.query(
                {c: f"{do}\ngptnano_state" for c in self.corners if c != corner}).items()}
            new[corner] = got[1]
            new = {c: new[c] for c in self.corners}
        gain = self.score(new) - self.score(state)
        won = gain > SIZE_MIN_GAIN_NS and all(
            self.shortfall(new[c][0]) >= self.shortfall(state[c][0]) - 1e-4 for c in state)
        if not (won and keep):
            self.broadcast(undo)
        return (gain, new) if won else None

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

    def worst_paths(self, corner: str, count: int) -> list[list[str]]:
        """Pins of the ``count`` worst setup paths below ``setup_margin`` at ``corner`` (one
        per endpoint), worst first, each from its startpoint to its endpoint."""
        text = self.sessions[corner].eval(
            f"gptnano_max_paths {count} {self.setup_margin:.6g}")  # -slack_max in ns
        self.sta_calls += 1
        rows = [line.split() for line in text.splitlines() if line.strip()]
        rows.sort(key=lambda r: float(r[0]))
        return [r[:0:-1] for r in rows[:count]]     # OpenSTA lists a path endpoint first

    def size_move(self, inst: str, corner: str, state: dict[str, tuple[float, float]]
                  ) -> tuple[dict[str, Any], dict[str, tuple[float, float]]] | None:
        """Upsize ``inst`` to the stronger cell of its drive family that wins most (OpenROAD
        ``SizeUpMove``)."""
        cur = self.db.comp[inst].cell
        if cur not in self.family_of:
            return None
        cells = self.families[self.family_of[cur]]
        best = self.best_of([(cand, f"replace_cell {inst} {cand}", f"replace_cell {inst} {cur}")
                             for cand in cells[cells.index(cur) + 1:]], corner, state)
        if best is None:
            return None
        self.resize_component(inst, best[0])
        return ({"move": "size", "instance": inst, "from": cur, "to": best[0],
                 "corner": corner, "gain_ns": round(best[1], 4)}, best[2])

    def swap_move(self, inst: str, port: str, corner: str,
                  state: dict[str, tuple[float, float]]
                  ) -> tuple[dict[str, Any], dict[str, tuple[float, float]]] | None:
        """Move the critical signal on ``inst``/``port`` to a logically equivalent input pin
        with a faster arc (:func:`swappable_pins`; OpenROAD ``SwapPinsMove``)."""
        cell = self.db.comp[inst].cell
        conns = self.db.inst[inst].conns
        if cell not in self.swap_groups:
            ins = [p for p, d in self.db.lib[cell].pins.items() if d.direction == "INPUT"
                   and p in conns]
            self.swap_groups[cell] = swappable_pins(self.libs[self.corners[0]], cell, ins)
        group = next((g for g in self.swap_groups[cell] if port in g), None)
        if group is None:
            return None
        for other in group:
            a, b = conns[port], conns.get(other)
            if other == port or b is None or a == b:
                continue
            p, q = f"{inst}/{port}", f"{inst}/{other}"
            here, there = (inst, port), (inst, other)
            do = "\n".join([
                f"disconnect_pin {a} {p}\ndisconnect_pin {b} {q}",
                f"connect_pin {b} {p}\nconnect_pin {a} {q}",
                self.wire_load(a, (here,), (there,)), self.wire_load(b, (there,), (here,))])
            undo = "\n".join([
                f"disconnect_pin {b} {p}\ndisconnect_pin {a} {q}",
                f"connect_pin {a} {p}\nconnect_pin {b} {q}",
                self.wire_load(a), self.wire_load(b)])
            got = self.attempt(do, undo, corner, state, keep=True)
            if got is None:
                continue
            nets = self.db.layout.nets
            conns[port], conns[other] = b, a
            nets[a].remove((inst, port))
            nets[a].append((inst, other))
            nets[b].remove((inst, other))
            nets[b].append((inst, port))
            return ({"move": "swap", "instance": inst, "cell": cell, "from": port,
                     "to": other, "corner": corner, "gain_ns": round(got[0], 4)}, got[1])
        return None

    def split_move(self, inst: str, port: str, keep: str, corner: str,
                   state: dict[str, tuple[float, float]]
                   ) -> tuple[dict[str, Any], dict[str, tuple[float, float]]] | None:
        """Put the loads of ``inst``/``port`` with setup slack to spare behind a buffer, so the
        critical sink ``keep`` sees less capacitance (OpenROAD ``SplitLoadMove``)."""
        net = self.db.inst[inst].conns[port]
        others = [f"{i}/{p}" for i, p in self.db.layout.nets[net]
                  if i != "PIN" and (i, p) != (inst, port) and f"{i}/{p}" != keep]
        if not others:
            return None
        slack = self.pins_slack([keep, *others], "max", corners=(corner,))
        crit = slack[keep][corner]
        loads = [p for p in others if slack[p][corner] > crit + SPLIT_SLACK_MARGIN_NS]
        if not loads:
            return None
        name = f"rsz_split_{self.count}"
        out = f"{name}_x"
        if name in self.db.comp or out in self.db.layout.nets:
            raise StepError(f"rsz: name {name} / net {out} already used in the design")
        sinks = [self.db.pin(*p.rsplit("/", 1)) for p in loads]
        x, y = centre(sinks)
        # the new net has no parasitics in the sessions until the next SPEF: its wire
        # (spanning tree from the buffer, placed at the loads' centre) is set as a load, or
        # every split would look free
        wire = (rmst_length([(x, y)] + [(s.x, s.y) for s in sinks]) / 1000
                * self.db.wire_c_pf_per_um)
        moved = tuple((s.inst, s.pin) for s in sinks)
        net_after = self.wire_load(net, moved, at=(x, y))
        net_before = self.wire_load(net)
        undo = [f"disconnect_pin {out} {p}\nconnect_pin {net} {p}" for p in loads]
        undo += [f"set_load 0 [get_nets {out}]", f"delete_instance {name}",
                 f"delete_net {out}", net_before]
        options = []
        for cell in REPAIR_BUFFERS[:3]:
            do = [f"make_net {out}", f"make_instance {name} {cell}",
                  f"connect_pin {net} {name}/A", f"connect_pin {out} {name}/X"]
            do += [f"disconnect_pin {net} {p}\nconnect_pin {out} {p}" for p in loads]
            do += [f"set_load {wire:.6f} [get_nets {out}]", net_after]
            options.append((cell, "\n".join(do), "\n".join(undo)))
        won = self.best_of(options, corner, state)
        if won is None:
            return None
        self.count += 1
        cell, gain, new = won
        self.db.add_buffer(name, cell, x, y, net, out)
        for s in sinks:
            self.db.move(s, net, out)
        self.loaded_nets.append(out)
        return ({"move": "split", "instance": name, "cell": cell, "driver": inst, "net": net,
                 "loads_moved": len(loads), "corner": corner, "gain_ns": round(gain, 4)}, new)

    def repair_setup(self, rounds: int, paths: int, pin_swap: bool, split_load: bool,
                     bounded: bool = False) -> list[dict[str, Any]]:
        """Setup repair on the worst paths (module docstring): per round, the ``paths`` worst
        violating endpoints of every failing corner; on each, every stage's driver gets a pin
        swap, an upsizing and a load split, each kept only if it wins."""
        moves: list[dict[str, Any]] = []
        state = self.setup_state()
        stop = Convergence(self.score(state))
        cells = sum(c.kind == "logic" for c in self.db.layout.components)
        budget = trial_budget(cells) if bounded else math.inf   # bounded: setup is reported
        for k in range(rounds):
            if all(self.shortfall(ws) >= 0 for ws, _ in state.values()):
                break
            stages: dict[str, tuple[str, str, str, str]] = {}  # inst -> (in, out, next, corner)
            for corner in sorted(state, key=lambda c: state[c][0]):
                if self.shortfall(state[corner][0]) >= 0:
                    continue
                for path in self.worst_paths(corner, paths):
                    for j, pin in enumerate(path):
                        inst, _, port = pin.rpartition("/")
                        if (not inst or inst in stages or inst.startswith(("cts_", "hold_"))
                                or self.db.lib[self.db.comp[inst].cell].pins[port].direction
                                != "OUTPUT"):
                            continue
                        prev = path[j - 1] if j else ""
                        in_port = prev.rpartition("/")[2] if prev.startswith(inst + "/") else ""
                        nxt = path[j + 1] if j + 1 < len(path) else ""
                        stages[inst] = (in_port, port, nxt, corner)
            kept = 0
            for inst, (in_port, port, nxt, corner) in stages.items():
                if self.trials >= budget:
                    break
                for move in ("swap", "size", "split"):
                    got: tuple[dict[str, Any], dict[str, tuple[float, float]]] | None = None
                    if move == "swap" and pin_swap and in_port:
                        got = self.swap_move(inst, in_port, corner, state)
                    elif move == "size":
                        got = self.size_move(inst, corner, state)
                    elif move == "split" and split_load and "/" in nxt:
                        got = self.split_move(inst, port, nxt, corner, state)
                    if got is not None:
                        rec, state = got
                        rec["round"] = k + 1
                        moves.append(rec)
                        kept += 1
            self.update_parasitics()
            state = self.setup_state()
            self.log(f"setup round {k + 1}/{rounds}: {len(stages)} drivers tried, "
                     f"{kept} moves kept; setup WS " +
                     " ".join(f"{c} {ws:+.3f}" for c, (ws, _tns) in sorted(state.items())) +
                     " TNS " + " ".join(f"{c} {tns:+.2f}" for c, (_ws, tns)
                                        in sorted(state.items())) +
                     f"; score {self.score(state):+.3f}; {self.trials} trials, "
                     f"{self.sta_calls} STA requests")
            if not kept:
                break
            if self.trials >= budget:
                self.log(f"setup repair stopped: work budget spent ({self.trials} trial edits "
                         f"x {cells} cells >= {SETUP_WORK_BUDGET:g})")
                break
            if not stop.update(self.score(state)):
                self.log(f"setup repair converged: {stop.why}")
                break
        return moves

    # -- max slew / capacitance / fanout ---------------------------------------------------
    def lib_cap(self, corner: str, kind: str, cell: str, pin: str) -> float:
        """The Liberty ``capacitance`` (``kind`` "pin") or ``max_capacitance`` ("max") of
        ``cell``/``pin`` at ``corner`` in pF, memoized (the Liberty lookup walks the cell's
        AST: 19 s of aes's 50 s design-violation scan before)."""
        key = (corner, kind, cell, pin)
        if key not in self._caps:
            lib = self.libs[corner]
            self._caps[key] = (lib.pin_cap if kind == "pin" else lib.max_cap)(cell, pin)
        return self._caps[key]

    def design_violations(self, max_fanout: int, work: Path) -> dict[str, dict[str, Any]]:
        """Nets over a Liberty limit at any corner: ``max_transition`` (OpenSTA's
        ``report_check_types -max_transition``, pin limits from the Liberty), the driver pin's
        ``max_capacitance`` against the estimated load (wire + pins; Debian's OpenSTA 2.0.17
        has no capacitance check), and a fanout above ``max_fanout`` (0: no limit). Nets driven
        by ports or by the clock tree are left alone (the clock tree is CTS's)."""
        out: dict[str, dict[str, Any]] = {}
        for c, sta in self.sessions.items():
            rpt = work / f"rsz_slew_{c}.rpt"
            sta.eval(f"report_check_types -max_transition -all_violators -digits 4 > "
                     f"{tcl_word(rpt)}")
            for line in rpt.read_text().splitlines():
                parts = line.split()
                if len(parts) >= 4 and "VIOLATED" in line and "/" in parts[0]:
                    inst, port = parts[0].rsplit("/", 1)
                    net = self.db.inst[inst].conns.get(port) if inst in self.db.inst else None
                    if net is not None:
                        out.setdefault(net, {}).setdefault("slew", {})[c] = float(parts[1])
        for net, pins in self.db.layout.nets.items():
            drv = self.db.driver(net)
            if drv is None or drv[0] == "PIN" or drv[0].startswith("cts_"):
                out.pop(net, None)
                continue
            sinks = [self.db.pin(i, p) for i, p in pins if (i, p) != drv]
            if max_fanout and len(sinks) > max_fanout:
                out.setdefault(net, {})["fanout"] = len(sinks)
            wire_c = self.net_rc(net)[0]
            cell = self.db.comp[drv[0]].cell
            for c in self.corners:
                load = wire_c + sum(self.lib_cap(c, "pin", self.db.comp[s.inst].cell, s.pin)
                                    for s in sinks if s.inst != "PIN")
                if load > self.lib_cap(c, "max", cell, drv[1]):
                    out.setdefault(net, {})["cap"] = round(load, 5)
        return out

    def fits(self, cell: str, port: str, net: str, limits: dict[str, Any]) -> bool:
        """``cell`` driving ``net`` from ``port`` meets the Liberty max capacitance and the
        slew limits ``limits`` at every corner (NLDM at the estimated load, 0.2 ns in)."""
        drv = self.db.driver(net)
        sinks = [self.db.pin(i, p) for i, p in self.db.layout.nets[net] if (i, p) != drv]
        wire_c = self.net_rc(net)[0]
        for c, lib in self.libs.items():
            load = wire_c + sum(self.lib_cap(c, "pin", self.db.comp[s.inst].cell, s.pin)
                                for s in sinks if s.inst != "PIN")
            if load > self.lib_cap(c, "max", cell, port):
                return False
            limit = limits.get("slew", {}).get(c)
            if limit is not None:
                ins = [p for p, d in self.db.lib[cell].pins.items() if d.direction == "INPUT"]
                arcs = []
                for p in ins:
                    try:
                        arcs.append(lib.arc(cell, p, port))
                    except StepError:
                        continue
                if any(a.transition(0.2, load) > limit for a in arcs):
                    return False
        return True

    def repair_design(self, max_fanout: int, work: Path) -> tuple[list[dict[str, Any]], int]:
        """Fix :meth:`design_violations` as OpenROAD's ``repair_design`` does: upsize the
        driver to the smallest cell of its family that meets the limits, else (and for
        fanout) split the loads into a buffer tree (:meth:`CtsDesign.buffer_net`, the same
        balanced bisection as the signal trees of CTS). Returns the edits and how many nets
        were over a limit; edits are made in layout and netlist only (the caller reloads the
        STA sessions)."""
        viol = self.design_violations(max_fanout, work)
        edits: list[dict[str, Any]] = []
        for net in sorted(viol):
            v = viol[net]
            inst, port = self.db.driver(net) or ("", "")
            cur = self.db.comp[inst].cell
            if set(v) - {"fanout"}:
                fam = self.families.get(self.family_of.get(cur, ""), [cur])
                up = next((c for c in fam[fam.index(cur) + 1:] if self.fits(c, port, net, v)),
                          None) if cur in fam else None
                if up is not None and "fanout" not in v:
                    self.resize_component(inst, up)
                    edits.append({"move": "design_size", "net": net, "instance": inst,
                                  "from": cur, "to": up, "why": sorted(v)})
                    continue
            if f"fo_{net}_1_0" in self.db.comp:
                continue                    # CTS already split it: left as reported
            sinks = len(self.db.layout.nets[net]) - 1
            fanout = max_fanout if max_fanout else max(2, math.ceil(sinks / 2))
            tree = self.db.buffer_net(net, "signal", fanout, usable(SIGNAL_BUFFERS), min(
                [*v.get("slew", {}).values(), 1.5]))
            edits.append({"move": "design_buffer", "net": net, "buffers": tree.buffers,
                          "why": sorted(v)})
        return edits, len(viol)

    def repair(self, margin: float, max_rounds: int, size_rounds: int, paths: int = 3,
               pin_swap: bool = True, split_load: bool = True, bounded: bool = False
               ) -> Report:
        """Setup repair (:meth:`repair_setup`), then rounds of :meth:`fix_endpoint` over the
        hold-violating endpoints (module docstring). The sessions must have read the
        current estimate (:meth:`update_parasitics`)."""
        before = self.summary()
        resized = self.repair_setup(size_rounds, paths, pin_swap, split_load, bounded)
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
            self.log(f"hold round {rounds}/{max_rounds}: {len(viol)} endpoints below the "
                     f"margin, {added} delay cells inserted")
            if not added:
                break
        unfixed = sorted(self.violations(0.0))
        return Report(before, sized, self.summary(), resized, inserted, unfixed, rounds)


def open_sessions(ctx: StepContext, netlist: Path, sdc: Path) -> dict[str, StaSession]:
    """One OpenSTA session per corner on ``netlist`` with the repair's Tcl helpers."""
    sessions: dict[str, StaSession] = {}
    try:
        for c in ctx.design.corners:      # the corners load at once (one process each)
            sessions[c] = StaSession(ctx.reports_dir / f"rsz_sta_{c}.log")
            sessions[c].send(load_script(corner_liberty(c), netlist, ctx.top, sdc, None)
                             + HELPERS_TCL)
        for sta in sessions.values():
            sta.receive()
    except BaseException:
        close_sessions(sessions)
        raise
    return sessions


def close_sessions(sessions: dict[str, StaSession]) -> None:
    for sta in sessions.values():
        sta.close()


def run(ctx: StepContext) -> dict[str, float | int | str]:
    t0 = time.monotonic()
    ctx.reports_dir.mkdir(parents=True, exist_ok=True)
    cfg = settings(ctx)
    layout, netlist, db = load_placed(ctx, estimate_wire_c_scale(ctx))
    sdc = ctx.inputs_dir / f"{ctx.top}.sdc"
    sdc = sdc if sdc.is_file() else ctx.design.sdc
    est = ctx.reports_dir / f"{ctx.top}.est.spef"
    design_edits: list[dict[str, Any]] = []
    design_nets = 0
    design_left = 0
    work_vg = ctx.reports_dir / f"{ctx.top}.rsz.vg"

    def reopen() -> dict[str, StaSession]:
        """Sessions on the netlist as edited so far (:meth:`Repair.update_parasitics`)."""
        write_netlist(netlist, work_vg)
        return open_sessions(ctx, work_vg, sdc)

    progress = open(ctx.reports_dir / "rsz.log", "w")   # noqa: SIM115 (closed below)

    def log(line: str) -> None:
        print(f"{time.monotonic() - t0:7.1f}s {line}", file=progress, flush=True)

    def repairer(sessions: dict[str, StaSession]) -> Repair:
        fix = Repair(db, sessions, est, cfg["tns_weight"], reopen, cfg["setup_margin_ns"])
        fix.log = log
        return fix

    # one editor and one set of sessions for the whole step (each reopen on aes: ~5 s, each
    # Repair: ~6 s of Liberty and LEF reading)
    fix = repairer(open_sessions(ctx, ctx.input("vg"), sdc))
    try:
        fix.update_parasitics()
        if cfg["repair_design"]:
            design_edits, design_nets = fix.repair_design(int(cfg["max_fanout"]),
                                                          ctx.reports_dir)
            log(f"design repair: {design_nets} nets over a limit, {len(design_edits)} edits")
            if design_edits:        # the sessions must see the new cells: reload them
                close_sessions(fix.sessions)
                fix.sessions = reopen()
                fix.update_parasitics()
                design_left = len(fix.design_violations(int(cfg["max_fanout"]),
                                                        ctx.reports_dir))
        rep = fix.repair(cfg["hold_margin_ns"], int(cfg["max_rounds"]), int(cfg["size_rounds"]),
                         int(cfg["setup_paths"]), bool(cfg["pin_swap"]), bool(cfg["split_load"]),
                         bounded=ctx.design.setup_mode == "report")
    finally:
        close_sessions(fix.sessions)
        progress.close()
    save_placed(ctx, layout, netlist)
    (ctx.reports_dir / "rsz.json").write_text(json.dumps(
        {**rep.__dict__, "design_repair": design_edits}, indent=1))
    kinds = {m: [r for r in rep.resized if r["move"] == m] for m in ("size", "swap", "split")}
    metrics: dict[str, float | int | str] = {
        "cells_resized": len({r["instance"] for r in kinds["size"]}
                             | {r["instance"] for r in design_edits if "instance" in r}),
        "pins_swapped": len(kinds["swap"]),
        "split_buffers_added": len(kinds["split"]),
        "design_nets_violating": design_nets,
        "design_nets_violating_after": design_left,
        "design_buffers_added": sum(len(r.get("buffers", [])) for r in design_edits),
        "design_cells_resized": sum(r["move"] == "design_size" for r in design_edits),
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
        metrics[f"tns_setup_sized_ns_{c}"] = rep.sized[c]["tns_setup"]
        for key, value in rep.after[c].items():
            metrics[f"{key}_after_ns_{c}"] = value
    return metrics
