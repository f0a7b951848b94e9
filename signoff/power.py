"""Power estimate with OpenSTA ``report_power`` at the typical corner.

No simulation activity is available at this point of the flow, so a default activity is set
(``set_power_activity -global``: every net toggles ``activity`` times per clock period, 0.1 by
default or ``power: {activity: ...}`` in the design config) -- the usual vectorless estimate.
Parasitics are used when the extract step wrote ``<top>.spef``. The result is in milliwatts:
``dynamic`` (internal + switching), ``leakage``, ``total``.

Caveat measured on this toolchain: Debian's OpenSTA 2.0.17 reports 0 internal power for the
sky130_fd_sc_hd Liberty (its ``internal_power`` groups use ``related_pg_pin``/``when`` forms
that version ignores), so dynamic power is switching power only; the report says so.
"""

from __future__ import annotations

import re
import time

from pnr.engine.context import StepContext, StepError
from pnr.engine.synth import corner_liberty
from signoff.sta import constraints, load_script, optional_input, run_sta

DEFAULT_ACTIVITY = 0.1
POWER_CORNER = "tt"


def parse_power(text: str) -> dict[str, float]:
    """The ``Total`` row of ``report_power`` (watts) -> milliwatts."""
    m = re.search(r"^Total\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", text, re.M)
    if not m:
        raise StepError("report_power output has no Total row")
    internal, switching, leakage, total = (float(x) * 1e3 for x in m.groups())
    return {"internal_mw": internal, "switching_mw": switching, "leakage_mw": leakage,
            "dynamic_mw": internal + switching, "total_mw": total}


def run(ctx: StepContext) -> dict[str, float | int | str]:
    """Engine-step entry point: vectorless power at the typical corner."""
    start = time.monotonic()
    ctx.reports_dir.mkdir(parents=True, exist_ok=True)
    activity = float(ctx.design.extra.get("power", {}).get("activity", DEFAULT_ACTIVITY))
    if not 0 < activity <= 2:
        raise StepError(f"{ctx.design.folder / 'config.yaml'}: power.activity must be in (0, 2], "
                        f"got {activity}")
    spef = optional_input(ctx, "spef")
    load = load_script(corner_liberty(POWER_CORNER), ctx.input("vg"), ctx.top,
                       constraints(ctx), spef)
    report = ctx.reports_dir / "power.rpt"
    script = load + (f"set_power_activity -global -activity {activity}\n"
                     f"report_power -digits 6 > {report}\n")
    run_sta(script, ctx.reports_dir, "power")
    power = parse_power(report.read_text())
    metrics: dict[str, float | int | str] = {k: round(v, 6) for k, v in power.items()}
    metrics.update(activity=activity, corner=POWER_CORNER,
                   parasitics="spef" if spef else "none",
                   power_runtime_s=round(time.monotonic() - start, 2))
    return metrics
