"""Quick logic synthesis of a generated config onto sky130_fd_sc_hd, for the cell budget.

Uses the Debian Yosys (0.23) with the typical-corner liberty from the PDK (gunzipped once into
the build tree). This is an estimate for design decisions and the README, not the physical
flow's synthesis: ``python -m design.synth small`` prints cells and area and writes the netlist
(``build/design/<config>/<top>.synth.v``, reusable for gate-level simulation).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from design.config import CONFIGS
from design.generate import RTL_DIR
from gptnano.paths import build_root
from gptnano.pdk import corner_liberty


@dataclass(frozen=True)
class SynthResult:
    cells: int
    area_um2: float
    netlist: Path
    log: Path


def liberty_path() -> Path:
    """The tt liberty, gunzipped once into the build tree (:func:`gptnano.pdk.corner_liberty`)."""
    return corner_liberty("tt")


def synthesize(config: str) -> SynthResult:
    cfg = CONFIGS[config]
    yosys = shutil.which("yosys")
    if yosys is None:
        raise FileNotFoundError("yosys not on PATH (apt install yosys)")
    lib = liberty_path()
    out = build_root() / "design" / config
    out.mkdir(parents=True, exist_ok=True)
    netlist, log = out / f"{cfg.top_name}.synth.v", out / "synth.log"
    script = "; ".join([
        f"read_verilog {RTL_DIR / (cfg.top_name + '.v')}",
        f"synth -flatten -top {cfg.top_name} -noabc",
        f"dfflibmap -liberty {lib}", f"abc -liberty {lib}", "opt_clean",
        f"stat -liberty {lib}", f"write_verilog -noattr {netlist}",
    ])
    subprocess.run([yosys, "-q", "-l", str(log), "-p", script], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    text = log.read_text()
    cells = re.findall(r"Number of cells:\s+(\d+)", text)
    area = re.findall(r"Chip area for module .*?:\s+([\d.]+)", text)
    if not cells or not area:
        raise RuntimeError(f"no cell statistics in {log}")
    return SynthResult(int(cells[-1]), float(area[-1]), netlist, log)


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or ["small"]
    for name in names:
        r = synthesize(name)
        print(f"{name}: {r.cells} cells, {r.area_um2:.0f} um2 (sky130_fd_sc_hd tt) -> {r.netlist}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
