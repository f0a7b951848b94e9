"""Shift-mode timing of a finished flow run with DFT: ``python -m dft.shift_timing --design
probe --jobname dft1``.

The flow's signoff STA times the functional mode only (the ``chain`` step case-analyses
``scan_en`` to 0). In shift mode (``scan_en = 1``) every scan flop loads ``SCD``, and most chain
links are a direct wire ``Q -> SCD`` with no logic in between: the classic hold risk of scan,
independent of the shift clock's frequency and invisible to the functional analysis. This
re-runs OpenSTA (:mod:`signoff.sta`'s loader, same Liberty per corner, same routed netlist and
SPEF the flow's ``sta`` nodes read) with the scan enable case-analysed to 1 and the shift clock
equal to the functional clock (a conservative setup check; testers shift slower).

Writes ``build/<name>/dft_shift/<job>/<corner>/`` (scripts, logs, path reports) and
``build/<name>/dft_shift/<job>/shift_timing.json``: per corner the worst setup/hold slack of
all paths and of the paths ending at a ``SCD`` pin. Exit status 0 only when every corner meets
hold and setup in shift mode.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from dft.config import dft_settings
from gptnano.design_config import DesignConfig, DesignConfigError, load_design
from gptnano.paths import build_root
from gptnano.step import StepError

TAG = "GPTNANO_SHIFT"


class ShiftTimingError(RuntimeError):
    """The run has no STA inputs for a corner, or the SDC has no functional tie-off."""


def shift_sdc(functional_sdc: str, scan_enable: str) -> str:
    """The flow's SDC with the functional tie-off of ``scan_enable`` turned into shift mode."""
    functional = f"set_case_analysis 0 [get_ports {{{scan_enable}}}]"
    if functional not in functional_sdc:
        raise ShiftTimingError(f"SDC has no '{functional}' (was it written by the DFT chain "
                               "step?)")
    return functional_sdc.replace(
        functional, f"set_case_analysis 1 [get_ports {{{scan_enable}}}]  ;# DFT shift mode")


def shift_script(load: str, reports: Path) -> str:
    """Tagged slacks (all paths, and paths to SCD pins) plus path reports."""
    scd = "[get_pins -hierarchical */SCD]"
    return load + f"""
puts "{TAG} setup_slack [sta::worst_slack -max]"
puts "{TAG} hold_slack [sta::worst_slack -min]"
report_checks -path_delay min -to {scd} -digits 3 > {reports}/scd_hold.rpt
report_checks -path_delay max -to {scd} -digits 3 > {reports}/scd_setup.rpt
report_checks -path_delay min -to {scd} -format end -group_count 20 -digits 3 > \\
    {reports}/scd_hold_end.rpt
report_checks -path_delay max -to {scd} -format end -group_count 20 -digits 3 > \\
    {reports}/scd_setup_end.rpt
"""


def _worst_end_slack(report: Path) -> float | None:
    """Smallest slack in an ``-format end`` report (``None`` when it lists no path)."""
    slacks = [float(m) for m in re.findall(r"\s(-?\d+\.\d+)\s+\((?:MET|VIOLATED)\)",
                                           report.read_text())]
    return min(slacks) if slacks else None


def check_corner(design: DesignConfig, job: Path, corner: str, out: Path) -> dict:
    from gptnano.pdk import corner_liberty
    from signoff.sta import load_script, run_sta

    inputs = job / "sta" / corner / "inputs"
    netlist = inputs / f"{design.top}.vg"
    sdc = inputs / f"{design.top}.sdc"
    if not netlist.is_file() or not sdc.is_file():
        raise ShiftTimingError(f"{inputs}: no {netlist.name}/{sdc.name} (has the flow's sta "
                               f"node for corner {corner} run?)")
    spef = inputs / f"{design.top}.spef"
    out.mkdir(parents=True, exist_ok=True)
    shift = out / f"{design.top}.shift.sdc"
    shift.write_text(shift_sdc(sdc.read_text(), dft_settings(design).scan_enable))
    load = load_script(corner_liberty(corner), netlist, design.top, shift,
                       spef if spef.is_file() else None)
    text = run_sta(shift_script(load, out), out, f"shift_{corner}")
    values = {k: float(v) for k, v in re.findall(rf"^{TAG} (\w+) (\S+)$", text, re.M)}
    if set(values) != {"setup_slack", "hold_slack"}:
        raise StepError(f"OpenSTA printed no shift-mode slacks; log: {out}/shift_{corner}.log")
    scd_hold = _worst_end_slack(out / "scd_hold_end.rpt")
    scd_setup = _worst_end_slack(out / "scd_setup_end.rpt")
    if scd_hold is None or scd_setup is None:
        raise ShiftTimingError(f"{out}: no timed path ends at a SCD pin (no scan flops?)")
    result = {"setup_slack_ns": values["setup_slack"], "hold_slack_ns":
              values["hold_slack"], "scd_setup_slack_ns": scd_setup,
              "scd_hold_slack_ns": scd_hold, "parasitics": "spef" if spef.is_file() else "none"}
    result = {k: round(v, 4) if isinstance(v, float) else v for k, v in result.items()}
    result["met"] = min(result["setup_slack_ns"], result["hold_slack_ns"]) >= 0
    return result


def check_job(design: DesignConfig, jobname: str, root: Path | None = None) -> dict:
    """Shift-mode timing of every corner of flow job ``jobname``; writes and returns the
    summary."""
    base = (root or build_root()) / design.name
    job = base / jobname
    out = base / "dft_shift" / jobname
    corners = {c: check_corner(design, job, c, out / c) for c in design.corners}
    summary = {"design": design.name, "job": jobname, "scan_enable": dft_settings(design)
               .scan_enable, "shift_period_ns": design.clock_period_ns, "corners": corners,
               "met": all(c["met"] for c in corners.values())}
    (out / "shift_timing.json").write_text(json.dumps(summary, indent=1))
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--design", required=True, help="design name or config.yaml path")
    parser.add_argument("--jobname", required=True, help="flow job run with DFT on")
    args = parser.parse_args(argv)
    try:
        summary = check_job(load_design(args.design), args.jobname)
    except (DesignConfigError, ShiftTimingError, StepError) as exc:
        print(f"dft.shift_timing: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=1))
    return 0 if summary["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
