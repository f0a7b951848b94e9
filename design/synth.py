"""Quick logic synthesis of a generated config onto sky130_fd_sc_hd, for the cell budget.

A thin caller of the project's one synthesis entry point (:mod:`gptnano.synth`, mode
``estimate``: generic synthesis mapped on the full typical-corner Liberty). This is an estimate
for design decisions and the README, not the physical flow's synthesis: ``python -m
design.synth small`` prints cells and area and writes the netlist
(``build/design/<config>/<top>.synth.v``, reusable for gate-level simulation).
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from design.config import CONFIGS
from design.generate import RTL_DIR
from gptnano import synth
from gptnano.paths import build_root


@dataclass(frozen=True)
class SynthResult:
    cells: int
    area_um2: float
    netlist: Path
    log: Path


def synthesize(config: str) -> SynthResult:
    """Estimate-mode synthesis of the generated RTL of ``config`` (a key of ``CONFIGS``)."""
    cfg = CONFIGS[config]
    if shutil.which("yosys") is None:
        raise FileNotFoundError("yosys not on PATH (apt install yosys)")
    out = build_root() / "design" / config
    netlist = out / f"{cfg.top_name}.synth.v"
    metrics = synth.synthesize([RTL_DIR / f"{cfg.top_name}.v"], cfg.top_name, netlist, out,
                               "estimate")
    return SynthResult(int(metrics["cells"]), float(metrics["cellarea"]), netlist,
                       out / "yosys.log")


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or ["small"]
    for name in names:
        r = synthesize(name)
        print(f"{name}: {r.cells} cells, {r.area_um2:.0f} um2 (sky130_fd_sc_hd tt) -> {r.netlist}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
