"""Quick logic synthesis of a generated config onto sky130_fd_sc_hd, for the cell budget.

A thin caller of the project's one synthesis entry point (:mod:`gptnano.synth`, mode
``estimate``: generic synthesis mapped on the full typical-corner Liberty). This is an estimate
for design decisions and the README, not the physical flow's synthesis: ``python -m
design.synth small`` prints cells and area and writes the netlist
(``build/design/<config>/<top>.synth.v``, reusable for gate-level simulation).

Shipped configs (``design.config.CONFIGS``) use their committed RTL. For sizing (issue #14),
``--config NAME=LANES,GROUP,MAX_LEN,REQ_BITS,SCALE_BITS`` synthesizes an ad-hoc configuration
from freshly generated Verilog, and ``--yosys pyosys`` uses the virtualenv's Yosys 0.60 instead
of Debian's 0.23::

    python -m design.synth l1_g2 --config g2_ml16=1,2,16,1,16 --yosys debian
"""

from __future__ import annotations

import argparse
import shutil
from dataclasses import dataclass
from pathlib import Path

from design.config import CONFIGS, GqmvConfig
from design.generate import RTL_DIR, to_verilog
from gptnano import synth
from gptnano.paths import build_root


@dataclass(frozen=True)
class SynthResult:
    cells: int
    area_um2: float
    netlist: Path
    log: Path
    registers: int = 0


def synthesize(config: str | GqmvConfig, yosys: str = synth.DEFAULT_YOSYS) -> SynthResult:
    """Estimate-mode synthesis of ``config``: a key of ``CONFIGS`` (its committed RTL) or a
    GqmvConfig (Verilog generated into ``build/design/<name>/``)."""
    if yosys == "debian" and shutil.which("yosys") is None:
        raise FileNotFoundError("yosys not on PATH (apt install yosys)")
    cfg = CONFIGS[config] if isinstance(config, str) else config
    out = build_root() / "design" / cfg.name
    if CONFIGS.get(cfg.name) == cfg:
        rtl = RTL_DIR / f"{cfg.top_name}.v"
    else:
        out.mkdir(parents=True, exist_ok=True)
        rtl = out / f"{cfg.top_name}.v"
        rtl.write_text(to_verilog(cfg))
    netlist = out / f"{cfg.top_name}.synth.v"
    metrics = synth.synthesize([rtl], cfg.top_name, netlist, out, "estimate", yosys=yosys)
    return SynthResult(int(metrics["cells"]), float(metrics["cellarea"]), netlist,
                       out / "yosys.log", int(metrics["registers"]))


def parse_config(text: str) -> GqmvConfig:
    """``NAME=LANES,GROUP,MAX_LEN,REQ_BITS,SCALE_BITS`` -> a GqmvConfig (ValueError if bad)."""
    name, _, values = text.partition("=")
    try:
        lanes, group, max_len, req_bits, scale_bits = (int(v) for v in values.split(","))
    except ValueError:
        raise ValueError(f"--config {text!r}: expected NAME=LANES,GROUP,MAX_LEN,REQ_BITS,"
                         "SCALE_BITS (five integers)") from None
    if not name.isidentifier() or name in CONFIGS:
        raise ValueError(f"--config {text!r}: NAME must be an identifier that is not a shipped "
                         "config")
    return GqmvConfig(name, lanes, group, max_len, req_bits=req_bits, scale_bits=scale_bits)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m design.synth", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"shipped configs ({', '.join(CONFIGS)})")
    parser.add_argument("--config", action="append", default=[],
                        metavar="NAME=LANES,GROUP,MAX_LEN,REQ_BITS,SCALE_BITS",
                        help="an ad-hoc configuration (repeatable)")
    parser.add_argument("--yosys", choices=synth.YOSYS_IMPLS, default=synth.DEFAULT_YOSYS)
    args = parser.parse_args(argv)
    configs: list[str | GqmvConfig] = []
    for name in args.names:
        if name not in CONFIGS:
            parser.error(f"unknown config {name!r} (shipped: {', '.join(CONFIGS)})")
        configs.append(name)
    try:
        configs += [parse_config(c) for c in args.config]
    except ValueError as exc:
        parser.error(str(exc))
    for cfg in configs or ["small"]:
        r = synthesize(cfg, args.yosys)
        name = cfg if isinstance(cfg, str) else cfg.name
        print(f"{name}: {r.cells} cells, {r.area_um2:.0f} um2, {r.registers} flip-flops "
              f"(sky130_fd_sc_hd tt, yosys {args.yosys}) -> {r.netlist}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
