"""Write the Verilog of every shipped configuration to ``rtl/`` plus ``rtl/manifest.json``.

``python -m design.generate`` (= ``make rtl``). The output is committed so it can be reviewed and
used by the physical flow without importing Amaranth; ``design/tests`` regenerate into a temporary
folder and fail if the committed files are stale. The manifest lets the flow find the top module,
its clock/reset and ports without importing ``design/``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from amaranth.back import verilog
from amaranth.hdl import Shape
from amaranth.lib.wiring import In

from design.config import CONFIGS, GqmvConfig
from design.gqmv import Gqmv, gqmv_signature
from gptnano.paths import REPO_ROOT

RTL_DIR = REPO_ROOT / "rtl"
CLOCK, RESET = "clk", "rst"


def to_verilog(cfg: GqmvConfig) -> str:
    """Verilog text of one configuration (Amaranth's bundled Yosys, deterministic output)."""
    return verilog.convert(Gqmv(cfg), name=cfg.top_name, emit_src=False)


def port_list(cfg: GqmvConfig) -> list[dict[str, object]]:
    """Flattened top-level ports as they appear in the Verilog (``member__field``)."""
    sig = gqmv_signature(cfg)
    ports: list[dict[str, object]] = [
        {"name": CLOCK, "dir": "input", "width": 1}, {"name": RESET, "dir": "input", "width": 1},
    ]
    for path, member in sig.members.flatten():
        if member.is_signature:
            continue
        ports.append({"name": "__".join(str(p) for p in path),
                      "dir": "input" if member.flow == In else "output",
                      "width": Shape.cast(member.shape).width})
    return ports


def manifest(configs: dict[str, GqmvConfig]) -> dict[str, object]:
    return {
        "generator": "design.generate",
        "clock": CLOCK,
        "reset": RESET,
        "reset_active": "high, synchronous",
        "configs": {
            name: {"file": f"{cfg.top_name}.v", "top": cfg.top_name, "params": cfg.params(),
                   "ports": port_list(cfg)}
            for name, cfg in configs.items()
        },
    }


def write_all(out_dir: Path, configs: dict[str, GqmvConfig] = CONFIGS) -> list[Path]:
    """Write ``<top>.v`` for each config and ``manifest.json``; return the written paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for cfg in configs.values():
        path = out_dir / f"{cfg.top_name}.v"
        path.write_text(to_verilog(cfg))
        written.append(path)
    path = out_dir / "manifest.json"
    path.write_text(json.dumps(manifest(configs), indent=2, sort_keys=True) + "\n")
    written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RTL_DIR, help="output folder (default rtl/)")
    args = parser.parse_args(argv)
    for path in write_all(args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
