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


class FloorplanTask(EngineTask):
    """Die/core, rows, taps, IO pins, power grid."""

    NAME = "floorplan"
    MODULE = "pnr.engine.floorplan"
    NEEDS = ("vg",)
    MAKES = ("layout.json", "def")


class PlaceTask(EngineTask):
    NAME = "place"
    MODULE = "pnr.engine.place"
    NEEDS = ("layout.json",)
    MAKES = ("layout.json", "def")


class CtsTask(EngineTask):
    """Clock tree and high-fanout buffers: rewrites the placed layout *and* the netlist, so
    the router, LVS (layout) and STA/power (netlist) all see the buffers."""

    NAME = "cts"
    MODULE = "pnr.engine.cts"
    NEEDS = ("layout.json", "vg")
    MAKES = ("layout.json", "def", "vg")


class RszTask(EngineTask):
    """Timing repair after CTS (hold: delay cells where hold fails at any corner, checked by
    OpenSTA on a placement-estimated SPEF); rewrites layout and netlist like CTS."""

    NAME = "rsz"
    MODULE = "pnr.engine.rsz"
    NEEDS = ("layout.json", "vg")
    MAKES = ("layout.json", "def", "vg")


class AntTask(EngineTask):
    """Antenna diodes before routing (:mod:`pnr.engine.antenna`); like CTS and rsz it edits
    the layout and the netlist together."""

    NAME = "ant"
    MODULE = "pnr.engine.antenna"
    NEEDS = ("layout.json", "vg")
    MAKES = ("layout.json", "def", "vg")


class RouteTask(EngineTask):
    """Detailed routing; also writes the parasitics STA reads: ``spef`` (max extraction
    corner, setup) and ``min.spef`` (min corner, hold), see :mod:`pnr.engine.spef`."""

    NAME = "route"
    MODULE = "pnr.engine.route"
    NEEDS = ("layout.json",)
    MAKES = ("layout.json", "def", "spef", "min.spef")

    def violations(self, metrics: dict[str, Any]) -> list[str]:
        failed = metrics.get("failed_nets")
        if failed is None:
            return ["route reported no failed_nets count"]
        return [f"{failed} nets unrouted"] if failed else []


class DrcRepairTask(EngineTask):
    """Same-net DRC repair of the routed metal, stored in the layout database
    (:mod:`pnr.engine.drc_repair`), so DEF and GDS carry the same shapes."""

    NAME = "drc_repair"
    MODULE = "pnr.engine.drc_repair"
    NEEDS = ("layout.json",)
    MAKES = ("layout.json", "def")


class FillTask(EngineTask):
    NAME = "fill"
    MODULE = "pnr.engine.fill"
    NEEDS = ("layout.json",)
    MAKES = ("layout.json", "def")


class GdsTask(EngineTask):
    NAME = "gds"
    MODULE = "pnr.engine.gds"
    NEEDS = ("layout.json",)
    MAKES = ("gds",)


class ExtractTask(EngineTask):
    """Magic extraction: ``spice`` (LVS netlist) and ``pex.spice`` (lumped capacitances).
    Magic writes no SPEF; STA uses the route step's estimated ``spef``."""

    NAME = "extract"
    MODULE = "pnr.engine.extract"
    NEEDS = ("gds",)
    MAKES = ("spice", "pex.spice")


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
    a violating gate fails the run like a DRC error."""

    NAME = "antenna"
    MODULE = "pnr.engine.antenna_check"
    NEEDS = ("layout.json",)
    MAKES = ()

    def violations(self, metrics: dict[str, Any]) -> list[str]:
        count = metrics.get("antenna_violating_pins")
        if count is None:
            return ["antenna reported no violation count"]
        return [f"{count} gate pins over the antenna ratio (reports/antenna.json)"] if count \
            else []


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
