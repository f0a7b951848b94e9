"""The user's SDC checked against the synthesized netlist, right after synthesis.

Why: OpenSTA reads the SDC only at the STA step, after place, route, GDS, DRC and LVS (about
ten minutes on ``small``), and it reports SDC errors as messages while still exiting 0 (issue 16
measured a typo surfacing there, naming the flow's internal copy). Here OpenSTA loads the
fresh netlist with the tt Liberty and the design's own SDC file
(:func:`gptnano.opensta.load_script`, the same loading the signoff STA uses), and the check
fails on

* every ``Error:`` OpenSTA prints (unknown command, bad argument: ``<file>, <line> <message>``),
* a ``Warning:`` about the SDC that says an object was ``not found`` (a misspelt port or pin
  silently drops the constraint),
* a design without any clock, or whose config ``clock.port`` is not a port of the top module,

with the user's file and line in one message.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from gptnano.opensta import STA_EXE, load_script
from gptnano.pdk import corner_liberty
from gptnano.step import StepError

TAG = "GPTNANO_SDC"


def check_script(liberty: Path, netlist: Path, top: str, sdc: Path, clock_port: str) -> str:
    return load_script(liberty, netlist, top, sdc, None) + (
        f'puts "{TAG} clocks [llength [all_clocks]]"\n'
        f'puts "{TAG} port [llength [get_ports -quiet {{{clock_port}}}]]"\n')


def problems(output: str, sdc: Path, clock_port: str) -> list[str]:
    """What is wrong, from OpenSTA's output of :func:`check_script`."""
    out = []
    for line in output.splitlines():
        if line.startswith("Error:") or (line.startswith("Warning:") and f"{sdc.name}, " in line
                                         and "not found" in line):
            out.append(line.split(":", 1)[1].strip())
    tags = dict(re.findall(rf"^{TAG} (\w+) (\d+)$", output, re.M))
    if "clocks" not in tags:
        out.append("OpenSTA stopped before the checks ran")
    else:
        if tags["clocks"] == "0":
            out.append(f"{sdc}: no clock is defined (create_clock)")
        if tags.get("port") == "0":
            out.append(f"clock port '{clock_port}' (config clock.port) is not a port of the "
                       "top module")
    return out


def check_constraints(liberty_corner: str, netlist: Path, top: str, sdc: Path,
                      clock_port: str, workdir: Path) -> None:
    """Raise :class:`StepError` naming the SDC file and line if OpenSTA finds a problem."""
    script = workdir / "sdc_check.tcl"
    script.write_text(check_script(corner_liberty(liberty_corner), netlist, top, sdc,
                                   clock_port))
    log = workdir / "sdc_check.log"
    try:
        proc = subprocess.run([STA_EXE, "-no_init", "-no_splash", "-exit", str(script)],
                              capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StepError(f"SDC check: cannot run OpenSTA ({exc})") from exc
    log.write_text(proc.stdout + proc.stderr)
    found = problems(proc.stdout + proc.stderr, sdc, clock_port)
    if found:
        raise StepError(f"SDC check of {sdc} on the synthesized netlist: {'; '.join(found)} "
                        f"(log: {log})")
