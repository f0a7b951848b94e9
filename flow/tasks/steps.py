"""The embedded engine's SiliconCompiler tasks, one class per flow step.

Each class names its engine module and the views it needs/makes (``<top>.<ext>``, see
``pnr.engine``); :class:`flow.tasks.base.EngineTask` does the rest. The checking steps override
``violations`` so the flow fails on a DRC error, an LVS mismatch or a timing violation at any
corner -- there is no waiver setting.
"""

from __future__ import annotations

from typing import Any

from flow.tasks.base import EngineTask
from gptnano.design_config import load_design
from gptnano.step import StepContext


class SynTask(EngineTask):
    """RTL -> sky130hd gate netlist (yosys + ABC), plus the SDC view."""

    NAME = "syn"
    MODULE = "gptnano.synth"
    MAKES = ("vg", "sdc")


def _view_task(name: str, module: str, needs: tuple[str, ...], makes: tuple[str, ...],
               doc: str) -> type[EngineTask]:
    """A task class for an engine step that only turns views into views (no checks of its
    own): the flow's plain steps, one class each, as SiliconCompiler wants."""
    cls_name = "".join(part.title() for part in name.split("_")) + "Task"
    return type(cls_name, (EngineTask,), {"NAME": name, "MODULE": module, "NEEDS": needs,
                                          "MAKES": makes, "__doc__": doc})


PLACED = ("layout.json", "def")          # what every layout step writes back
EDITED = ("layout.json", "def", "vg")    # ... and the netlist, for steps that add cells
FloorplanTask = _view_task("floorplan", "pnr.engine.floorplan", ("vg",), PLACED,
                           "Die/core, rows, taps, IO pins, power grid.")
PlaceTask = _view_task("place", "pnr.engine.place", ("layout.json",), PLACED,
                       "Global placement, legalization, detailed placement.")
CtsTask = _view_task("cts", "pnr.engine.cts", ("layout.json", "vg"), EDITED,
                     "Clock tree and high-fanout buffers: rewrites the placed layout *and* the "
                     "netlist, so the router, LVS and STA/power all see the buffers.")
RszTask = _view_task("rsz", "pnr.engine.rsz", ("layout.json", "vg"), EDITED,
                     "Timing repair after CTS (design rules, setup, hold) on a "
                     "placement-estimated SPEF; rewrites layout and netlist like CTS.")
AntTask = _view_task("ant", "pnr.engine.antenna", ("layout.json", "vg"), EDITED,
                     "Antenna diodes before routing (pnr.engine.antenna); edits layout and "
                     "netlist together like CTS.")


class RouteTask(EngineTask):
    """Detailed routing; also writes the parasitics STA reads: ``spef`` (max extraction
    corner, setup) and ``min.spef`` (min corner, hold), see :mod:`pnr.engine.spef`; and the
    netlist, with the diodes its post-route antenna repair inserts
    (:mod:`pnr.engine.antenna_repair`), for STA, power and LVS."""

    NAME = "route"
    MODULE = "pnr.engine.route"
    NEEDS = ("layout.json", "vg")
    MAKES = ("layout.json", "def", "spef", "min.spef", "vg")

    def violations(self, metrics: dict[str, Any]) -> list[str]:
        failed = metrics.get("failed_nets")
        if failed is None:
            return ["route reported no failed_nets count"]
        out = [f"{failed} nets unrouted"] if failed else []
        # a different-net spacing error in the router's own geometry is a router bug no later
        # step repairs: stop here rather than 20 minutes later in KLayout and Magic
        if metrics.get("drc_errors_self"):
            out.append(f"{metrics['drc_errors_self']} different-net spacing violations in the "
                       "routed metal (route self-audit, reports/route_audit.rpt)")
        return out


DrcRepairTask = _view_task("drc_repair", "pnr.engine.drc_repair", ("layout.json",), PLACED,
                           "Same-net DRC repair of the routed metal, stored in the layout "
                           "database (pnr.engine.drc_repair), so DEF and GDS carry the same "
                           "shapes.")
FillTask = _view_task("fill", "pnr.engine.fill", ("layout.json",), PLACED,
                      "Filler and decap cells in the free sites.")
GdsTask = _view_task("gds", "pnr.engine.gds", ("layout.json",), ("gds",),
                     "The layout as GDSII with the library cells.")
ExtractTask = _view_task("extract", "pnr.engine.extract", ("gds",), ("spice", "pex.spice"),
                         "Magic extraction: spice (LVS netlist) and pex.spice (lumped "
                         "capacitances).")


class StaTask(EngineTask):
    """OpenSTA at one corner; the node index is the corner (``sta/ss``, ``sta/tt``, ...)."""

    NAME = "sta"
    MODULE = "signoff.sta"
    NEEDS = ("vg",)
    MAKES = ()

    def call_engine(self, ctx: StepContext) -> dict[str, Any]:
        return self.engine_module().run(ctx, corner=self.index)

    def violations(self, metrics: dict[str, Any]) -> list[str]:
        setup_mode = load_design(self.get("var", "design_config")).setup_mode
        return timing_violations(metrics, self.index, setup_mode)


def timing_violations(metrics: dict[str, Any], corner: str, setup_mode: str) -> list[str]:
    """Negative setup or hold slack fails the corner; a design whose config says
    ``timing: {setup: report}`` has its setup slack measured and shown, not checked."""
    out = []
    for kind in ("setup", "hold"):
        slack = metrics.get(f"{kind}_slack_ns")
        if slack is None:
            out.append(f"no {kind} slack reported")
        elif slack < 0 and (kind == "hold" or setup_mode == "signoff"):
            out.append(f"{kind} slack {slack} ns < 0 at corner {corner}")
    return out


class PowerTask(EngineTask):
    NAME = "power"
    MODULE = "signoff.power"
    NEEDS = ("vg",)
    MAKES = ()


class _DrcTask(EngineTask):
    NEEDS = ("gds",)
    MAKES = ()
    COUNT_KEY = ""

    def violations(self, metrics: dict[str, Any]) -> list[str]:
        count = metrics.get(self.COUNT_KEY)
        if count is None:
            return [f"{self.NAME} reported no violation count ({self.COUNT_KEY})"]
        return [f"{count} DRC violations ({self.NAME})"] if count else []


class DrcKlayoutTask(_DrcTask):
    NAME = "drc_klayout"
    MODULE = "signoff.drc_klayout"
    COUNT_KEY = "drc_klayout_total"


class DrcMagicTask(_DrcTask):
    NAME = "drc_magic"
    MODULE = "signoff.drc_magic"
    COUNT_KEY = "drc_magic_total"


class AntennaCheckTask(EngineTask):
    """Process antenna rules on the routed layout database (:mod:`pnr.engine.antenna_check`);
    a violating gate fails the run like a DRC error (``antenna.check: report`` in a design's
    config only shows them: explicit, never a default)."""

    NAME = "antenna"
    MODULE = "pnr.engine.antenna_check"
    NEEDS = ("layout.json",)
    MAKES = ()

    def violations(self, metrics: dict[str, Any]) -> list[str]:
        count = metrics.get("antenna_violating_pins")
        if count is None:
            return ["antenna reported no violation count"]
        mode = load_design(self.get("var", "design_config")).setting("antenna.check")
        return [f"{count} gate pins over the antenna ratio (reports/antenna.json)"] \
            if count and mode == "signoff" else []


class LvsTask(EngineTask):
    """Netgen LVS of the extracted layout against the signed-off gate netlist (the ``vg`` STA
    and power read, after CTS and timing repair) with supplies tied."""

    NAME = "lvs"
    MODULE = "signoff.lvs"
    NEEDS = ("spice", "vg")
    MAKES = ()

    def violations(self, metrics: dict[str, Any]) -> list[str]:
        match = metrics.get("lvs_match")
        if match is None:
            return ["lvs reported no lvs_match result"]
        if match in (True, 1):
            return []
        return [f"LVS mismatch: {metrics.get('lvs_result', '')} (see reports/lvs.rpt)"]


# Physical steps in flow order (after syn / DFT), then the checks that read extract's views.
LAYOUT_TASKS: tuple[type[EngineTask], ...] = (
    FloorplanTask, PlaceTask, CtsTask, RszTask, AntTask, RouteTask, DrcRepairTask, FillTask,
    GdsTask, ExtractTask)
CHECK_TASKS: tuple[type[EngineTask], ...] = (DrcKlayoutTask, DrcMagicTask, AntennaCheckTask,
                                               LvsTask)
ALL_TASKS: tuple[type[EngineTask], ...] = (
    SynTask, *LAYOUT_TASKS, StaTask, PowerTask, *CHECK_TASKS)
