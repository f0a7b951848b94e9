"""Time the layout picture on a synthetic sky130 block: ``python -m reports.bench_layout``.

The block is rows of real sky130_fd_sc_hd cells (from the shared PDK's GDS) abutted like a
placed design, plus met2 wires, so the polygon mix matches a routed layout. ``--rows 9`` gives
about 54k flattened polygons, ``--rows 60 --wires 3000`` about 360k.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

import gdstk

from gptnano.paths import sky130hd_dir
from reports.layout import render_gds

CELLS = ("nand2_1", "dfxtp_1", "inv_1", "xor2_1", "fa_1", "mux2_1")
ROW_HEIGHT_UM = 2.72
ROW_WIDTH_UM = 300.0


def synthetic_block(path: Path, rows: int, wires: int, seed: int = 1) -> int:
    """Write the block; return its flattened polygon count."""
    library = gdstk.read_gds(str(sky130hd_dir() / "gds" / "sky130_fd_sc_hd.gds"))
    cells = {c.name: c for c in library.cells}
    masters = [cells[f"sky130_fd_sc_hd__{name}"] for name in CELLS]
    rng = random.Random(seed)
    top = gdstk.Cell("block")
    for row in range(rows):
        x = 0.0
        while x < ROW_WIDTH_UM:
            master = rng.choice(masters)
            (x0, _), (x1, _) = master.bounding_box()
            top.add(gdstk.Reference(master, (x, row * ROW_HEIGHT_UM), x_reflection=row % 2 == 1))
            x += x1 - x0
    for _ in range(wires):
        y, x = rng.uniform(0, rows * ROW_HEIGHT_UM), rng.uniform(0, ROW_WIDTH_UM - 20)
        top.add(gdstk.rectangle((x, y), (x + rng.uniform(1, 20), y + 0.14), layer=69, datatype=20))
    out = gdstk.Library()
    out.add(top, *top.dependencies(True))
    out.write_gds(str(path))
    return len(top.get_polygons())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=9)
    parser.add_argument("--wires", type=int, default=500)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        gds = Path(tmp) / "block.gds"
        polygons = synthetic_block(gds, args.rows, args.wires)
        stats = render_gds(gds, Path(tmp) / "block.png")
    print(f"{polygons:,} polygons ({stats.drawn:,} on drawing layers): "
          f"rendered in {stats.seconds:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
