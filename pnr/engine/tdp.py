"""Timing-driven placement: net weights from OpenSTA slack for the global placer.

After OpenROAD ``gpl -timing_driven`` (``src/gpl/src/timingBase.cpp``): at a few points of
global placement (:data:`pnr.engine.gpl.TIMING_OVERFLOWS`) the design is timed on the current
spread positions and the nets on the worst setup paths get a weight above 1, so the placer
pulls their pins closer than wirelength alone would. OpenROAD re-weights the worst
``timing_driven_nets_percentage`` (10 %) of the nets with weights up to
``timing_driven_net_weight_max`` (1.9), scaled by how close their slack is to the worst; the
same rule is used here (:data:`NETS_SHARE`, :data:`MAX_WEIGHT`).

How the timing is estimated: one OpenSTA session at the design's first signoff corner (tt if
it is signed off), on a netlist written from the layout (placement has no netlist view: every
logic cell with its connections), the design's SDC, ideal clocks (there is no clock tree yet),
and every net's wire as a lumped ``set_load`` from the rectilinear minimum spanning tree over
its pins (the star estimate :mod:`pnr.engine.rsz` uses, without the resistance). Nets the
placer leaves out (more than ``gpl.MAX_NET_PINS`` pins: clock and reset) keep pin loads only.

Enabled by ``placement: {timing_driven: 1}`` in the design config (off by default);
:func:`pnr.engine.place.run` passes :class:`TimingWeights` to the placer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from gptnano.netlist import Instance, Netlist, write_netlist
from gptnano.opensta import StaSession, load_script
from gptnano.pdk import corner_liberty
from gptnano.step import StepContext
from gptnano.toolargs import tcl_word
from pnr.engine import gpl, library
from pnr.engine.buffer_tree import rmst_length
from pnr.engine.cts import WIRE_C_PF_PER_UM
from pnr.engine.layout import Layout

NETS_SHARE = 0.10       # OpenROAD's timing_driven_nets_percentage
MAX_WEIGHT = 1.9        # OpenROAD's timing_driven_net_weight_max
NS = 1e-9
PATHS_TCL = r"""
proc gptnano_tdp_paths {n} {
  set out {}
  foreach pe [find_timing_paths -path_delay max -group_count $n -endpoint_count 1] {
    set pins {}
    foreach p [[$pe path] pins] { lappend pins [get_full_name $p] }
    lappend out "[$pe slack] [join $pins { }]"
  }
  return [join $out "\n"]
}
"""


def enabled(ctx: StepContext) -> bool:
    """``placement.timing_driven`` of the design config (checked where it is loaded)."""
    return bool(ctx.design.placement.get("timing_driven", 0))


def layout_netlist(layout: Layout) -> Netlist:
    """The gate netlist of ``layout``'s logic cells (ports and connections from its nets)."""
    lib = library.cells()
    conns: dict[str, dict[str, str]] = {}
    for net, pins in layout.nets.items():
        for inst, pin in pins:
            if inst != "PIN":
                conns.setdefault(inst, {})[pin] = net
    insts = [Instance(c.name, c.cell, conns.get(c.name, {})) for c in layout.components
             if c.kind == "logic" and c.cell in lib]
    return Netlist(layout.top, {n: p.direction for n, p in layout.ports.items()}, insts)


class TimingWeights:
    """``reweight(x, y)`` for :func:`pnr.engine.gpl.global_place` (module docstring); keeps
    one OpenSTA session open across the calls (:meth:`close` ends it)."""

    def __init__(self, ctx: StepContext, layout: Layout, prob: gpl.Problem) -> None:
        self.prob = prob
        self.calls: list[dict[str, Any]] = []
        corners = ctx.design.corners
        self.corner = "tt" if "tt" in corners else corners[0]
        ctx.reports_dir.mkdir(parents=True, exist_ok=True)
        vg = ctx.reports_dir / f"{ctx.top}.tdp.vg"
        write_netlist(layout_netlist(layout), vg)
        sdc = ctx.inputs_dir / f"{ctx.top}.sdc"
        sdc = sdc if sdc.is_file() else ctx.design.sdc
        self.sta = StaSession(ctx.reports_dir / "tdp_sta.log")
        try:
            self.sta.eval(load_script(corner_liberty(self.corner), vg, ctx.top, Path(sdc),
                                      None))
            # ideal clocks: placement has no clock tree (its wire is not the skew)
            self.sta.eval("unset_propagated_clock [all_clocks]")
            self.sta.eval(PATHS_TCL)
        except BaseException:
            self.sta.close()
            raise
        self.net_index = {n: k for k, n in enumerate(prob.net_names)}
        self.driver_net: dict[str, str] = {}
        for net, pins in layout.nets.items():
            for inst, pin in pins:
                self.driver_net[f"{inst}/{pin}" if inst != "PIN" else pin] = net

    def close(self) -> None:
        self.sta.close()

    def wire_loads(self, x: np.ndarray, y: np.ndarray) -> str:
        """``set_load`` of every placer net's spanning-tree wire at positions (x, y)."""
        prob = self.prob
        mov = prob.pin_cell >= 0
        px = np.where(mov, x[np.maximum(prob.pin_cell, 0)] + prob.pin_dx, prob.pin_fx)
        py = np.where(mov, y[np.maximum(prob.pin_cell, 0)] + prob.pin_dy, prob.pin_fy)
        out = []
        for k, name in enumerate(prob.net_names):
            a, b = prob.net_start[k], prob.net_start[k + 1]
            length = rmst_length(list(zip(px[a:b].tolist(), py[a:b].tolist(), strict=True)))
            out.append(f"set_load {length / 1000 * WIRE_C_PF_PER_UM:.6f} "
                       f"[get_nets {tcl_word(name)}]")
        return "\n".join(out)

    def __call__(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        self.sta.eval(self.wire_loads(x, y))
        count = max(1, int(round(NETS_SHARE * len(self.prob.net_names))))
        text = self.sta.eval(f"gptnano_tdp_paths {count}")
        slack: dict[str, float] = {}            # net -> worst slack of a path through it
        for line in text.splitlines():
            parts = line.split()
            if len(parts) < 2:
                continue
            s = float(parts[0]) / NS
            for pin in parts[1:]:
                net = self.driver_net.get(pin)
                if net in self.net_index and s < slack.get(net, np.inf):
                    slack[net] = s
        weights = np.ones(len(self.prob.net_names))
        worst = sorted(slack.items(), key=lambda kv: (kv[1], kv[0]))[:count]
        if worst:
            wns, cut = worst[0][1], worst[-1][1]
            for net, s in worst:
                crit = 1.0 if cut <= wns else (cut - s) / (cut - wns)
                weights[self.net_index[net]] = 1.0 + (MAX_WEIGHT - 1.0) * crit
            self.calls.append({"wns_ns": round(wns, 4), "nets_weighted": len(worst)})
        else:
            self.calls.append({"wns_ns": None, "nets_weighted": 0})
        return weights
