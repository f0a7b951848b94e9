"""Running Magic (8.3.x, Debian) in batch mode on the sky130 technology.

The PDK's ``sky130A.tech`` asks for magic 8.3.111 in its ``version`` section; Debian ships
8.3.105, which then refuses the file.  :func:`magic_tech` writes a copy without that
``requires`` line into the run folder (the PDK itself is read-only and stays untouched).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from gptnano.pdk import magic_tech as pdk_magic_tech
from gptnano.step import StepError


def load_gds(gds: Path, cell: str) -> str:
    """The Tcl every batch script starts with: read ``gds`` without making it editable (the
    library cells stay abstract views) and make ``cell`` the current, selected cell."""
    from gptnano.toolargs import tcl_word

    return f"""gds readonly true
gds read {tcl_word(gds)}
load {cell}
select top cell
"""


def magic_tech(workdir: Path) -> Path:
    src = pdk_magic_tech()
    dst = workdir / "sky130A.tech"
    text = re.sub(r"^\s*requires\s+magic-[\d.]+\s*$", "", src.read_text(), flags=re.M)
    dst.write_text(text)
    return dst


def run_magic(script: str, workdir: Path, name: str, timeout: int = 3600) -> Path:
    """Run a Tcl ``script`` in batch Magic inside ``workdir``; returns the log path."""
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    tech = magic_tech(workdir)
    tcl = workdir / f"{name}.tcl"
    tcl.write_text(script + "\nquit -noprompt\n")
    log = workdir / f"{name}.log"
    with open(log, "w") as fh:
        try:
            proc = subprocess.run(["magic", "-dnull", "-noconsole", "-T", str(tech), str(tcl)],
                                  cwd=workdir, stdout=fh, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise StepError(f"magic {name}: timed out after {timeout}s, see {log}") from exc
    text = log.read_text(errors="replace")
    if proc.returncode != 0 or "Failed to load technology" in text or "Error parsing" in text:
        raise StepError(f"magic {name}: failed (exit code {proc.returncode}), see {log}")
    return log
