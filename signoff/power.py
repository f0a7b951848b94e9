"""Power estimate with OpenSTA ``report_power`` at the typical corner.

No simulation activity is available at this point of the flow, so a default activity is set
(``set_power_activity -global``: every net toggles ``activity`` times per clock period, 0.1 by
default or ``power: {activity: ...}`` in the design config) -- the usual vectorless estimate.
Parasitics are used when the extract step wrote ``<top>.spef``. The result is in milliwatts:
``dynamic`` (internal + switching), ``leakage``, ``total``.

The Liberty is not read as shipped: Debian's OpenSTA 2.0.17 reports 0 internal power for the
sky130_fd_sc_hd Liberty (it lists ``default_operating_conditions`` before defining them, so
2.0.17 has no operating voltage and skips every ``internal_power`` group), and once it does
count them it sums rise + fall energies (Liberty semantics and current OpenSTA average them)
and does not normalise the arc weights of an output pin. ``signoff.power_liberty`` writes a
corrected view of the corner Liberty into the build tree (cached by content hash); its
docstring gives the evidence and the remaining approximations. Leakage is the Liberty's own
(``leakage_power`` groups, unit ``1nW``): sky130 hd cells leak a few pW each at tt/25 C, so a
few thousand cells leak tens of nW.
"""

from __future__ import annotations

import re
import time

from gptnano.pdk import corner_liberty
from gptnano.step import StepContext, StepError
from signoff.power_liberty import power_liberty
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
    load = load_script(power_liberty(corner_liberty(POWER_CORNER)), ctx.input("vg"), ctx.top,
                       constraints(ctx), spef)
    report = ctx.reports_dir / "power.rpt"
    script = load + (f"set_power_activity -global -activity {activity}\n"
                     f"report_power -digits 6 > {report}\n")
    run_sta(script, ctx.reports_dir, "power")
    power = parse_power(report.read_text())
    # Significant digits, not decimals: a small block's leakage is ~1e-5 mW.
    metrics: dict[str, float | int | str] = {k: float(f"{v:.6g}") for k, v in power.items()}
    metrics.update(activity=activity, corner=POWER_CORNER,
                   parasitics="spef" if spef else "none",
                   power_runtime_s=round(time.monotonic() - start, 2))
    return metrics
