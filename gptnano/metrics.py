"""The one metric vocabulary: every quantity a step measures, with its unit and direction.

Names follow METRICS2.1 (Jung et al., "METRICS2.1 and Flow Tuning in the IEEE CEDA Robust
Design Flow and OpenROAD", ICCAD 2021), the convention OpenROAD, OpenROAD-flow-scripts
(``rules-base.json``, ``metadata.json``) and LibreLane (``state_out.json``) use:
``<category>__<object>__<measure>`` with an optional qualifier ``__<kind>:<value>``, e.g.
``timing__setup__ws__corner:ss``. A metric without its corner qualifier is the worst value over
the corners (as LibreLane reports it); a stage prefix (``synth__``) marks the value measured at
that stage instead of the final layout, as in ORFS' rules.

Why one registry: the flow used four vocabularies (engine return keys, SiliconCompiler's
metric schema, ``signoff.json`` and ``rules.json``/dashboard/history), so one quantity had up
to four names and ``signoff.json``'s ``wns_ns`` even held setup *slack*. Now every layer --
the flow's per-node ``metrics.json``, ``signoff.json``, the goldens, the history database and
the dashboard -- uses the names here, and ``tests/test_metrics_registry.py`` fails when a layer
uses a name that is not registered.

The engine steps keep returning their own descriptive keys; :func:`from_engine` maps them at
the boundary where the flow records a node's metrics (:mod:`flow.tasks.base`).

Units: time ns, area um^2, length um, power mW (OpenROAD reports W; the project has always
recorded mW and the thresholds in ``rules.json`` are in mW), frequency MHz, utilization as a
fraction 0-1, coverage in percent, runtime s.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from gptnano.pdk import CORNERS

Better = Literal["higher", "lower", "true"]


@dataclass(frozen=True)
class Metric:
    """One registered metric: ``better`` says which way is an improvement (for goldens);
    ``qualifier`` names the kind of qualifier the name may carry (``corner``, ``step``)."""

    name: str
    unit: str
    description: str
    better: Better
    qualifier: str | None = None

    @property
    def is_bool(self) -> bool:
        return self.better == "true"


_M = Metric
REGISTRY: dict[str, Metric] = {m.name: m for m in (
    # flow verdict
    _M("flow__complete", "bool", "every node of the flowgraph ran (none left not run; a failed "
       "node counts as run)", "true"),
    _M("flow__passed", "bool", "complete, and every node finished without a violation", "true"),
    # synthesis
    _M("synth__design__instance__count", "count", "standard cells after synthesis", "lower"),
    _M("synth__design__instance__area", "um^2", "standard-cell area after synthesis", "lower"),
    _M("synth__design__register__count", "count", "flip-flops after synthesis", "lower"),
    # physical design
    _M("design__instance__count", "count",
       "logic cells in the layout (after timing repair / CTS, their buffers included; "
       "taps, fill and decap not counted)", "lower"),
    _M("design__core__area", "um^2", "core (row) area", "lower"),
    _M("design__die__area", "um^2", "die area", "lower"),
    _M("design__instance__utilization", "fraction",
       "logic cell area / core area, 0-1, at floorplan", "lower"),
    _M("design__io", "count", "top-level I/O pins", "lower"),
    _M("globalroute__overflow", "count",
       "GCell boundary crossings over capacity after global routing", "lower"),
    _M("globalroute__wirelength", "um", "global-route wire length (GCell centre to centre)",
       "lower"),
    _M("route__net", "count", "signal nets routed", "lower"),
    _M("route__net__failed", "count", "nets the router left unrouted", "lower"),
    _M("route__wirelength", "um", "routed wire length", "lower"),
    _M("route__vias", "count", "vias placed by the router", "lower"),
    _M("route__drc_errors__self", "count",
       "different-net spacing violations the router's self-audit found in its own geometry "
       "(pnr.engine.route_audit); any fails the route step", "lower"),
    # timing (per corner; unqualified = worst corner)
    _M("clock__period", "ns", "clock period the design is signed off at", "lower"),
    _M("repair__instance__resized__count", "count",
       "cells upsized by timing repair (rsz) on the worst setup paths", "lower"),
    _M("repair__hold_buffer__count", "count",
       "delay cells inserted by hold repair (rsz)", "lower"),
    _M("repair__pin_swap__count", "count",
       "input pin swaps kept by setup repair (rsz)", "lower"),
    _M("repair__split_buffer__count", "count",
       "buffers setup repair put in front of non-critical loads (rsz)", "lower"),
    _M("repair__design_buffer__count", "count",
       "buffers inserted by max slew/capacitance/fanout repair (rsz)", "lower"),
    _M("timing__setup__ws", "ns", "worst setup slack (negative = violated)", "higher", "corner"),
    _M("timing__setup__tns", "ns", "total negative setup slack (0 = met)", "higher", "corner"),
    _M("timing__hold__ws", "ns", "worst hold slack (negative = violated)", "higher", "corner"),
    _M("timing__hold__tns", "ns", "total negative hold slack (0 = met)", "higher", "corner"),
    _M("timing__fmax", "MHz", "highest clock frequency meeting setup, 1000 / (period - ws)",
       "higher", "corner"),
    _M("clock__skew__setup", "ns", "worst clock skew between register pairs with a setup "
       "path (OpenSTA report_clock_skew -setup, CRPR included)", "lower", "corner"),
    _M("clock__skew__hold", "ns", "worst clock skew between register pairs with a hold path "
       "(report_clock_skew -hold, min-corner SPEF)", "lower", "corner"),
    _M("clock__insertion_delay__min", "ns", "earliest rising clock arrival at a register "
       "clock pin (propagated clock tree)", "lower", "corner"),
    _M("clock__insertion_delay__max", "ns", "latest rising clock arrival at a register clock "
       "pin (propagated clock tree)", "lower", "corner"),
    # power (typical corner, vectorless)
    _M("power__internal__total", "mW", "internal (short-circuit + cell) power", "lower"),
    _M("power__switching__total", "mW", "net switching power", "lower"),
    _M("power__dynamic__total", "mW", "internal + switching power", "lower"),
    _M("power__leakage__total", "mW", "leakage power", "lower"),
    _M("power__total", "mW", "total power", "lower"),
    # physical verification
    _M("klayout__drc_error__count", "count", "KLayout DRC violations (sky130 deck)", "lower"),
    _M("magic__drc_error__count", "count", "Magic DRC violations", "lower"),
    _M("antenna__violating__pins", "count", "gate pins over a sky130 antenna ratio "
       "(pnr.engine.antenna_check on the routed layout)", "lower"),
    _M("antenna__violating__nets", "count", "nets with a gate over a sky130 antenna ratio",
       "lower"),
    _M("antenna__diode__count", "count", "antenna diodes inserted before routing", "lower"),
    _M("route__antenna__violating__pins", "count", "gate pins over a sky130 antenna ratio "
       "as routed, before the route step's antenna repair (pnr.engine.antenna_repair)",
       "lower"),
    _M("route__antenna_repair__violating__pins", "count", "gate pins still over a sky130 "
       "antenna ratio after the route step's antenna repair", "lower"),
    _M("route__antenna_repair__diode__count", "count", "antenna diodes the route step's "
       "repair inserted at violating gates after routing", "lower"),
    _M("route__drc_repair__shape__count", "count", "rectangles the DRC repair step added "
       "to close same-net notches, holes and necks", "lower"),
    _M("design__lvs__clean", "bool",
       "netgen: layout matches the signed-off netlist uniquely, no pin mismatch", "true"),
    # DFT (the flow's dft_* nodes; dft.json)
    _M("dft__scan_flop__count", "count", "flip-flops on scan chains", "higher"),
    _M("dft__scan_chain__count", "count", "scan chains", "lower"),
    _M("dft__scan_chain__length__max", "count", "flip-flops on the longest scan chain",
       "lower"),
    _M("dft__pattern__count", "count", "test vectors", "lower"),
    _M("dft__stuck_at__coverage", "%", "stuck-at fault coverage: detected / all faults",
       "higher"),
    _M("dft__test__coverage", "%",
       "stuck-at test coverage: detected / faults not proven untestable", "higher"),
    _M("dft__untestable_fault__count", "count", "stuck-at faults proven untestable", "lower"),
    _M("dft__test_cycle__count", "count", "tester clock cycles to apply every pattern",
       "lower"),
    # model
    _M("model__perplexity__validation", "", "validation perplexity of the design's model "
       "variant (model/experiments.csv)", "lower"),
    # model on the chip (design/perf.py's cycle model; written by flow/summary.py for a GQMV
    # design whose config can hold the model, absent with model_to_chip.reason otherwise)
    _M("model__cycles_per_token", "cycles", "engine cycles of one token of the design's "
       "variant: its matrix-vector jobs by GqmvConfig.job_cycles", "lower"),
    _M("model__us_per_token", "us", "microseconds per token at the signoff clock "
       "(clock__period, the period every corner was timed at)", "lower"),
    _M("model__tokens_per_s", "1/s", "tokens per second at the signoff clock; with a corner "
       "qualifier at that corner's fmax", "higher", "corner"),
    _M("model__tokens_per_j", "1/J", "tokens per joule: tokens/s at the signoff clock / "
       "power__total", "higher"),
    _M("model__weight_bits_per_token", "bit", "parameter bits streamed per token (w stream: "
       "int8 weights + 16-bit group scales; rowp stream: bias + requantization multiplier)",
       "lower"),
    _M("model__weight_bandwidth", "Gbit/s", "parameter bandwidth the engine needs at the "
       "signoff clock: model__weight_bits_per_token x model__tokens_per_s", "lower"),
    # runtime
    _M("runtime__total", "s", "wall-clock time of one flow node / DFT step", "lower", "step"),
    _M("memory__peak", "MB", "peak resident memory of one flow node, its tools included "
       "(gptnano.proc.run_measured; ORFS calls it <stage>__mem__peak)", "lower", "step"),
)}

QUALIFIER_RE = re.compile(r"^(?P<base>.+)__(?P<kind>[a-z]+):(?P<value>[A-Za-z0-9_./-]+)$")


class UnknownMetric(KeyError):
    """A name that is not in the registry (message names it and the nearest known names)."""


def split(name: str) -> tuple[str, str | None, str | None]:
    """``timing__setup__ws__corner:ss`` -> (``timing__setup__ws``, ``corner``, ``ss``)."""
    m = QUALIFIER_RE.match(name)
    if m:
        return m["base"], m["kind"], m["value"]
    return name, None, None


def lookup(name: str) -> Metric:
    """The registered metric of ``name`` (qualifier checked); raises :class:`UnknownMetric`."""
    base, kind, value = split(name)
    metric = REGISTRY.get(base)
    if metric is None:
        near = [n for n in REGISTRY if n.split("__")[0] == base.split("__")[0]]
        raise UnknownMetric(f"metric {name!r} is not in gptnano.metrics "
                            f"(same category: {', '.join(near) or 'none'})")
    if kind is not None:
        if kind != metric.qualifier:
            raise UnknownMetric(f"metric {name!r}: {base} takes no '{kind}' qualifier")
        if kind == "corner" and value not in CORNERS:
            raise UnknownMetric(f"metric {name!r}: unknown corner {value!r} "
                                f"(known: {', '.join(CORNERS)})")
    return metric


def is_known(name: str) -> bool:
    try:
        lookup(name)
    except UnknownMetric:
        return False
    return True


def unknown(names: Iterable[str]) -> list[str]:
    """The names of ``names`` that the registry does not know (for the layer tests)."""
    return sorted(n for n in names if not is_known(n))


def qualified(base: str, kind: str, value: str) -> str:
    name = f"{base}__{kind}:{value}"
    lookup(name)
    return name


def per_corner(base: str, corner: str) -> str:
    return qualified(base, "corner", corner)


# -- engine step keys -> registry --------------------------------------------------------
# (step or "*", engine key) -> registry name; per-corner metrics get the node's corner.
ENGINE_KEYS: dict[tuple[str, str], str] = {
    ("syn", "cells"): "synth__design__instance__count",
    ("syn", "cellarea"): "synth__design__instance__area",
    ("syn", "registers"): "synth__design__register__count",
    ("*", "cells"): "design__instance__count",
    ("*", "core_area_um2"): "design__core__area",
    ("*", "die_area_um2"): "design__die__area",
    ("*", "utilization"): "design__instance__utilization",
    ("*", "io_pins"): "design__io",
    ("route", "grt_overflow"): "globalroute__overflow",
    ("route", "grt_wirelength_um"): "globalroute__wirelength",
    ("rsz", "cells_resized"): "repair__instance__resized__count",
    ("rsz", "hold_buffers_added"): "repair__hold_buffer__count",
    ("rsz", "pins_swapped"): "repair__pin_swap__count",
    ("rsz", "split_buffers_added"): "repair__split_buffer__count",
    ("rsz", "design_buffers_added"): "repair__design_buffer__count",
    ("route", "nets"): "route__net",
    ("route", "failed_nets"): "route__net__failed",
    ("route", "wirelength_um"): "route__wirelength",
    ("route", "vias"): "route__vias",
    ("route", "drc_errors_self"): "route__drc_errors__self",
    ("sta", "setup_slack_ns"): "timing__setup__ws",
    ("sta", "setup_tns_ns"): "timing__setup__tns",
    ("sta", "hold_slack_ns"): "timing__hold__ws",
    ("sta", "hold_tns_ns"): "timing__hold__tns",
    ("sta", "fmax_mhz"): "timing__fmax",
    ("sta", "clock_skew_setup_ns"): "clock__skew__setup",
    ("sta", "clock_skew_hold_ns"): "clock__skew__hold",
    ("sta", "clock_latency_min_ns"): "clock__insertion_delay__min",
    ("sta", "clock_latency_max_ns"): "clock__insertion_delay__max",
    ("power", "internal_mw"): "power__internal__total",
    ("power", "switching_mw"): "power__switching__total",
    ("power", "dynamic_mw"): "power__dynamic__total",
    ("power", "leakage_mw"): "power__leakage__total",
    ("power", "total_mw"): "power__total",
    ("drc_klayout", "drc_klayout_total"): "klayout__drc_error__count",
    ("drc_magic", "drc_magic_total"): "magic__drc_error__count",
    ("antenna", "antenna_violating_pins"): "antenna__violating__pins",
    ("antenna", "antenna_violating_nets"): "antenna__violating__nets",
    ("ant", "antenna_diodes_inserted"): "antenna__diode__count",
    ("route", "antenna_violating_pins_routed"): "route__antenna__violating__pins",
    ("route", "antenna_violating_pins_repaired"): "route__antenna_repair__violating__pins",
    ("route", "antenna_diodes_inserted"): "route__antenna_repair__diode__count",
    ("drc_repair", "drc_repair_rects"): "route__drc_repair__shape__count",
    ("lvs", "lvs_match"): "design__lvs__clean",
    # the DFT steps (dft.steps.<step>, flow nodes dft_<step>)
    ("atpg", "dft_stuck_at_coverage"): "dft__stuck_at__coverage",
    ("atpg", "dft_test_coverage"): "dft__test__coverage",
    ("atpg", "dft_untestable"): "dft__untestable_fault__count",
    ("atpg", "dft_vectors"): "dft__pattern__count",
    ("chain", "dft_scan_flops"): "dft__scan_flop__count",
    ("chain", "dft_chains"): "dft__scan_chain__count",
    ("chain", "dft_max_chain_length"): "dft__scan_chain__length__max",
    ("asm", "dft_test_cycles"): "dft__test_cycle__count",
}


def from_engine(step: str, index: str, raw: dict[str, Any]) -> tuple[dict[str, Any],
                                                                     dict[str, Any]]:
    """Split a step's returned dict into (registry metrics, other details).

    Per-corner metrics take the node index as their corner (the STA nodes are ``sta/<corner>``);
    booleans are kept as booleans (``lvs_match`` 0/1 becomes ``design__lvs__clean``). Keys with
    no registry name (diagnostics such as ``rip_up_rounds``, ``lvs_result``, the step's own
    ``runtime_s``) are returned as details: written to the node's ``metrics.json`` for
    debugging, never read by the summary, goldens or dashboard.
    """
    metrics: dict[str, Any] = {}
    details: dict[str, Any] = {}
    for key, value in raw.items():
        name = ENGINE_KEYS.get((step, key)) or ENGINE_KEYS.get(("*", key))
        if name is None:
            details[key] = value
            continue
        metric = REGISTRY[name]
        if metric.qualifier == "corner":
            name = per_corner(name, index)
        metrics[name] = bool(value) if metric.is_bool else value
    return metrics, details


# -- the names used before the registry (signoff.json, rules.json, history) -----------------
def legacy_name(old: str) -> str | None:
    """The registry name of a pre-registry dotted key (``wns_ns.tt``, ``dft.stuck_at_coverage``,
    ``runtime_s.sta/ss``), or ``None`` for keys that were not metrics."""
    if old in LEGACY_FLAT:
        return LEGACY_FLAT[old]
    head, _, tail = old.partition(".")
    if head == "dft" and tail in DFT_KEYS:
        return DFT_KEYS[tail]
    if head in LEGACY_PER_CORNER and tail in CORNERS:
        return per_corner(LEGACY_PER_CORNER[head], tail)
    if head == "runtime_s" and tail:
        return f"runtime__total__step:{tail}"
    if old == "dft.runtime_s":
        return "runtime__total__step:dft"
    if old.startswith("dft.step_runtime_s.") and old.count(".") == 2:
        return f"runtime__total__step:dft.{old.rsplit('.', 1)[1]}"
    return None


LEGACY_FLAT: dict[str, str] = {
    "complete": "flow__complete",
    "passed": "flow__passed",
    "cells": "design__instance__count",
    "cells_synth": "synth__design__instance__count",
    "cell_area_um2": "synth__design__instance__area",
    "core_area_um2": "design__core__area",
    "die_area_um2": "design__die__area",
    "utilization": "design__instance__utilization",
    "wirelength_um": "route__wirelength",
    "clock_ns": "clock__period",
    "fmax_mhz": "timing__fmax",
    "power_mw": "power__total",
    "power_mw.total": "power__total",
    "power_mw.dynamic": "power__dynamic__total",
    "power_mw.leakage": "power__leakage__total",
    "power_total_mw": "power__total",
    "drc_klayout": "klayout__drc_error__count",
    "drc_magic": "magic__drc_error__count",
    "lvs_clean": "design__lvs__clean",
    "val_ppl": "model__perplexity__validation",
}
# ``wns_ns`` held the worst setup *slack* per corner (not min(0, slack)).
LEGACY_PER_CORNER: dict[str, str] = {
    "wns_ns": "timing__setup__ws",
    "tns_ns": "timing__setup__tns",
    "hold_wns_ns": "timing__hold__ws",
    "fmax_mhz_by_corner": "timing__fmax",
}
# dft.json keys -> registry (dft.json is written by the DFT steps in their own words); the
# history stored them as ``dft.<key>``
DFT_KEYS: dict[str, str] = {
    "stuck_at_coverage": "dft__stuck_at__coverage",
    "scan_flops": "dft__scan_flop__count",
    "chains": "dft__scan_chain__count",
    "vectors": "dft__pattern__count",
}


def worst(values: Iterable[Any], better: Better) -> Any:
    """The worst of several corners' values (min for higher-is-better, max otherwise)."""
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if not numbers:
        return None
    return min(numbers) if better == "higher" else max(numbers)
