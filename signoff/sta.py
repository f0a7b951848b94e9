"""Static timing analysis with OpenSTA, one process per corner (ss / tt / ff).

Each corner is its own SiliconCompiler node, so the three run in parallel and a failing corner is
named by its node. A corner reads the gate netlist ``<top>.vg`` and, when the route step wrote
them, the parasitics: ``<top>.spef`` (max extraction corner) for the setup checks and
``<top>.min.spef`` (min corner, :mod:`pnr.engine.spef`) for the hold checks -- read one after
the other, so each check sees one consistent set of wires on launch and capture clock paths
(OpenSTA's ``read_spef -min``/``-max`` in one analysis would instead pair max data with min
capture clock, without clock reconvergence credit). With only ``<top>.spef`` both checks use
it; with none the analysis is wire-load free (only pin capacitances, which the report states).
The numbers come from OpenSTA's Tcl API (``sta::worst_slack``, ``sta::total_negative_slack``)
printed on tagged lines, not scraped from human-readable reports; the full path reports are
still written for people.

Metric conventions (what ``signoff.json`` carries):

* ``setup_slack_ns`` / ``hold_slack_ns``: worst slack, signed (positive = met). Hold includes
  the asynchronous-reset removal checks, which OpenSTA groups with min paths.
* ``setup_tns_ns`` / ``hold_tns_ns``: total negative slack (0 when met).
* ``fmax_mhz``: ``1000 / (period - setup_slack)``, the clock the worst constrained path would
  just meet (IO paths included, with the SDC's input/output delays).
* ``clock_skew_setup_ns`` / ``clock_skew_hold_ns``: OpenSTA's ``report_clock_skew -setup`` /
  ``-hold`` (the largest capture-minus-launch clock latency over the register pairs that have a
  timing path, CRPR included), the largest over the design's clocks; with the SPEF each check
  reads (max for setup, min for hold).
* ``clock_latency_min_ns`` / ``clock_latency_max_ns``: the insertion delay of the clock tree,
  the earliest and the latest rising clock arrival at a register clock pin (propagated clock,
  max-corner SPEF), so the tree's quality is read at every corner, not only from the CTS
  step's own tt estimate.
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from gptnano.opensta import SDC_COMPAT_TCL, load_script  # noqa: F401  (shared with power, DFT)
from gptnano.pdk import corner_liberty
from gptnano.step import StepContext, StepError
from gptnano.toolargs import tcl_word

TAG = "GPTNANO"
STA_EXE = "sta"


@dataclass(frozen=True)
class CornerTiming:
    corner: str
    setup_slack_ns: float
    setup_tns_ns: float
    hold_slack_ns: float
    hold_tns_ns: float
    period_ns: float
    parasitics: str  # "spef" or "none"
    clock_skew_setup_ns: float | None = None
    clock_skew_hold_ns: float | None = None
    clock_latency_min_ns: float | None = None
    clock_latency_max_ns: float | None = None

    @property
    def fmax_mhz(self) -> float:
        critical = self.period_ns - self.setup_slack_ns
        return 1000.0 / critical if critical > 0 else float("inf")

    @property
    def passed(self) -> bool:
        return self.setup_slack_ns >= 0 and self.hold_slack_ns >= 0

    def metrics(self) -> dict[str, float | int | str]:
        return {
            "corner": self.corner,
            "setup_slack_ns": round(self.setup_slack_ns, 4),
            "setup_tns_ns": round(self.setup_tns_ns, 4),
            "hold_slack_ns": round(self.hold_slack_ns, 4),
            "hold_tns_ns": round(self.hold_tns_ns, 4),
            "fmax_mhz": round(self.fmax_mhz, 2),
            "parasitics": self.parasitics,
            "timing_met": int(self.passed),
            **{key: round(value, 4) for key, value in (
                ("clock_skew_setup_ns", self.clock_skew_setup_ns),
                ("clock_skew_hold_ns", self.clock_skew_hold_ns),
                ("clock_latency_min_ns", self.clock_latency_min_ns),
                ("clock_latency_max_ns", self.clock_latency_max_ns)) if value is not None},
        }


# Rising clock arrival (seconds: a Path's arrival is in SI units) at every register clock pin.
CLOCK_LATENCY_TCL = f"""
set gptnano_lat_lo 1e30
set gptnano_lat_hi -1e30
foreach gptnano_pin [all_registers -clock_pins] {{
  set gptnano_v [lindex [sta::Pin_vertices $gptnano_pin] 0]
  foreach gptnano_mm {{min max}} {{
    set gptnano_path [sta::vertex_worst_arrival_path_tr $gptnano_v rise $gptnano_mm]
    if {{$gptnano_path == "NULL"}} continue
    set gptnano_a [$gptnano_path arrival]
    if {{$gptnano_a < $gptnano_lat_lo}} {{set gptnano_lat_lo $gptnano_a}}
    if {{$gptnano_a > $gptnano_lat_hi}} {{set gptnano_lat_hi $gptnano_a}}
  }}
}}
puts "{TAG} clock_latency_min_s $gptnano_lat_lo"
puts "{TAG} clock_latency_max_s $gptnano_lat_hi"
"""


def parse_clock_skew(text: str) -> float | None:
    """The largest skew in a ``report_clock_skew`` report (ns): the third number of each
    clock's capture line (``latency CRPR skew``); None when no clock has a register pair."""
    skews = [float(m[2]) for m in re.findall(
        r"^\s*(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s*$", text, re.M)]
    return max(skews) if skews else None


def timing_script(load: str, reports_dir: Path, hold_spef: Path | None = None) -> str:
    """Tagged slack lines for the parser plus full path reports for readers. With
    ``hold_spef`` the setup results are taken first and that SPEF then replaces the loaded
    one for the hold results (max corner for setup, min corner for hold)."""
    hold_load = "" if hold_spef is None else f"read_spef {tcl_word(hold_spef)}\n"
    return load + f"""
puts "{TAG} setup_slack [sta::worst_slack -max]"
puts "{TAG} setup_tns [sta::total_negative_slack -max]"
report_checks -path_delay max -digits 3 -fields {{slew capacitance}} > {reports_dir}/setup.rpt
report_checks -path_delay max -format end -group_count 20 -digits 3 > {reports_dir}/setup_end.rpt
check_setup -verbose > {reports_dir}/check_setup.rpt
report_clock_skew -setup -digits 4 > {reports_dir}/clock_skew_setup.rpt
{CLOCK_LATENCY_TCL}
{hold_load}puts "{TAG} hold_slack [sta::worst_slack -min]"
puts "{TAG} hold_tns [sta::total_negative_slack -min]"
report_checks -path_delay min -digits 3 -fields {{slew capacitance}} > {reports_dir}/hold.rpt
report_clock_skew -hold -digits 4 > {reports_dir}/clock_skew_hold.rpt
"""


def run_sta(script: str, workdir: Path, name: str) -> str:
    """Run OpenSTA on ``script`` (written to ``workdir/<name>.tcl``); returns its log text.
    OpenSTA exits 0 even after Tcl errors in 2019 builds, so ``Error:`` lines also fail."""
    tcl = workdir / f"{name}.tcl"
    tcl.write_text(script)
    log = workdir / f"{name}.log"
    proc = subprocess.run([STA_EXE, "-no_init", "-no_splash", "-exit", str(tcl)],
                          capture_output=True, text=True)
    text = proc.stdout + proc.stderr
    log.write_text(text)
    errors = [line for line in text.splitlines() if line.startswith("Error")]
    if proc.returncode != 0 or errors:
        raise StepError(f"OpenSTA failed on {tcl} (exit {proc.returncode}): "
                        f"{'; '.join(errors[:5]) or text[-800:]}; log: {log}")
    unmatched = [line for line in text.splitlines()
                 if line.startswith("Warning") and ".spef" in line and "not found" in line]
    if unmatched:
        raise StepError(f"OpenSTA: {len(unmatched)} SPEF entries do not match the netlist "
                        f"(first: {unmatched[0]}); log: {log}")
    unknown = re.findall(r"module (\S+) not found", text)
    if unknown:
        raise StepError(f"OpenSTA: cells missing from the liberty: {sorted(set(unknown))[:8]}; "
                        f"log: {log}")
    return text


def parse_tagged(text: str) -> dict[str, float]:
    """``GPTNANO <key> <number>`` lines -> {key: number}. OpenSTA prints a huge value (1e30)
    for a slack with no constrained path; that is reported as an error, not as timing met."""
    values: dict[str, float] = {}
    for key, number in re.findall(rf"^{TAG} (\w+) (\S+)$", text, re.M):
        try:
            values[key] = float(number)
        except ValueError as exc:
            raise StepError(f"OpenSTA printed a non-number for {key}: {number!r}") from exc
    for key in ("setup_slack", "hold_slack"):
        if key not in values:
            raise StepError(f"OpenSTA output has no {key} line")
        if abs(values[key]) > 1e20:
            raise StepError(f"no constrained {key.split('_')[0]} path (slack {values[key]}): "
                            "check the SDC clock and port names")
    return values


def optional_input(ctx: StepContext, ext: str) -> Path | None:
    path = ctx.inputs_dir / f"{ctx.top}.{ext}"
    return path if path.is_file() else None


def constraints(ctx: StepContext) -> Path:
    """The SDC view travelling with the netlist (DFT may have added scan tie-offs), else the
    design's own SDC (standalone use)."""
    return optional_input(ctx, "sdc") or ctx.design.sdc


def analyse_corner(ctx: StepContext, corner: str) -> CornerTiming:
    ctx.reports_dir.mkdir(parents=True, exist_ok=True)
    spef = optional_input(ctx, "spef")
    spef_min = optional_input(ctx, "min.spef") if spef else None
    load = load_script(corner_liberty(corner), ctx.input("vg"), ctx.top, constraints(ctx), spef)
    text = run_sta(timing_script(load, ctx.reports_dir, spef_min), ctx.reports_dir,
                   f"sta_{corner}")
    v = parse_tagged(text)
    skew = {check: parse_clock_skew((ctx.reports_dir / f"clock_skew_{check}.rpt").read_text())
            for check in ("setup", "hold")}
    latency = {mm: v[f"clock_latency_{mm}_s"] * 1e9 for mm in ("min", "max")
               if abs(v.get(f"clock_latency_{mm}_s", 1e30)) < 1e20}  # +-1e30: no register
    return CornerTiming(corner=corner, setup_slack_ns=v["setup_slack"],
                        setup_tns_ns=v.get("setup_tns", 0.0), hold_slack_ns=v["hold_slack"],
                        hold_tns_ns=v.get("hold_tns", 0.0),
                        period_ns=ctx.design.clock_period_ns,
                        parasitics="spef" if spef else "none",
                        clock_skew_setup_ns=skew["setup"], clock_skew_hold_ns=skew["hold"],
                        clock_latency_min_ns=latency.get("min"),
                        clock_latency_max_ns=latency.get("max"))


def run(ctx: StepContext, corner: str = "tt") -> dict[str, float | int | str]:
    """Engine-step entry point: timing of ``corner``; metrics as in the module docstring."""
    start = time.monotonic()
    timing = analyse_corner(ctx, corner)
    metrics = timing.metrics()
    metrics["sta_runtime_s"] = round(time.monotonic() - start, 2)
    return metrics
