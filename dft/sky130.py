"""The sky130_fd_sc_hd facts DFT needs, derived from the library itself.

Fault has no built-in sky130 setup. Its ``cut``/``chain`` read an "SCL configuration" YAML:
which cells are flip-flops (``fnmatch`` patterns, with their clock/D/Q pins) and which cell is a
2:1 mux. :func:`scl_config` writes it from the Liberty file so it cannot drift from the cells:

* flip-flop matches: every edge-triggered flop with a single ``Q`` output and a scan twin
  (``df*tp``: ``dfxtp``, ``dfrtp``, ``dfstp``; pins ``CLK``/``D``/``Q``, async reset/set pins
  are left connected and are not part of the cut). Flops with a ``Q_N`` output (``dfxbp``...)
  would lose that output in the cut and are kept out of synthesis instead;
* mux: ``sky130_fd_sc_hd__mux2_1`` (``X = S ? A1 : A0``).

Cells kept out of DFT-ready synthesis (:data:`DONT_USE`): latches and clock gates (not
scannable), tri-state drivers (no Boolean function to test), the low-power ``lpflow`` cells
(isolation/retention, need a second supply), flops with a ``Q_N`` output, and physical-only
cells (taps, fills, diodes, decaps, probes).
"""

from __future__ import annotations

import fnmatch
import gzip
import re
import shutil
from pathlib import Path

from dft.liberty import Cell

LIB = "sky130_fd_sc_hd"
CORNER_LIBS = {
    "tt": "sky130_fd_sc_hd__tt_025C_1v80.lib.gz",
    "ss": "sky130_fd_sc_hd__ss_n40C_1v40.lib.gz",
    "ff": "sky130_fd_sc_hd__ff_100C_1v95.lib.gz",
}
DONT_USE = [
    f"{LIB}__{p}"
    for p in (
        "dl*", "sdl*", "dlx*", "dlrt*", "dlclkp*", "sdlclkp*",
        "ebuf*", "einv*", "lpflow_*", "probe_*", "tap*", "fill*", "decap*", "diode*",
        "df*bp_*", "df*bn_*", "sdf*", "edf*", "sedf*", "macro_*", "dfrtn_*",
    )
]
MUX = {"name": f"{LIB}__mux2_1", "a": "A0", "b": "A1", "y": "X", "s": "S",
       "invertedOutput": False}
CELL_DEFINES = ("FUNCTIONAL", "UNIT_DELAY=#1")


def liberty_gz(hd_dir: Path, corner: str = "tt") -> Path:
    """The packaged (gzipped) Liberty of a corner."""
    if corner not in CORNER_LIBS:
        raise ValueError(f"unknown corner '{corner}', known: {sorted(CORNER_LIBS)}")
    path = hd_dir / "nldm" / CORNER_LIBS[corner]
    if not path.is_file():
        raise FileNotFoundError(f"sky130hd liberty not found: {path}")
    return path


def unpack_liberty(hd_dir: Path, dest: Path, corner: str = "tt") -> Path:
    """Gunzip the corner's Liberty to ``dest`` (tools here do not read .lib.gz)."""
    src = liberty_gz(hd_dir, corner)
    if not dest.is_file() or dest.stat().st_mtime < src.stat().st_mtime:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(src, "rb") as fin, open(dest, "wb") as fout:
            shutil.copyfileobj(fin, fout)
    return dest


def is_dont_use(cell: str) -> bool:
    return any(fnmatch.fnmatchcase(cell, p) for p in DONT_USE)


def filter_liberty(src: Path, dest: Path, drop=is_dont_use) -> list[str]:
    """Copy a Liberty file without the cells ``drop`` selects (yosys 0.23 has no dont_use);
    returns the dropped cell names."""
    dropped: list[str] = []
    out: list[str] = []
    depth_skip = 0
    depth = 0
    for line in src.read_text().splitlines(keepends=True):
        match = re.match(r'\s*cell\s*\(\s*"?([\w]+)"?\s*\)\s*\{', line)
        if depth_skip == 0 and match and depth == 1 and drop(match.group(1)):
            dropped.append(match.group(1))
            depth_skip = depth
        opens, closes = line.count("{"), line.count("}")
        depth += opens - closes
        if depth_skip:
            if depth <= depth_skip:
                depth_skip = 0
            continue
        out.append(line)
    dest.write_text("".join(out))
    return dropped


def flop_matches(cells: dict[str, Cell]) -> list[dict]:
    """Fault ``dffMatches`` for the single-Q edge-triggered flops of the library."""
    names = sorted(
        n for n, c in cells.items()
        if c.sequential and {"CLK", "D"} <= set(c.inputs) and set(c.outputs) == {"Q"}
        and not n.split("__")[-1].startswith(("s", "e")) and not is_dont_use(n)
    )
    if not names:
        raise ValueError("no single-output D flip-flops found in the liberty")
    return [{"name": ",".join(names), "clk": "CLK", "d": "D", "q": "Q"}]


def scl_config(cells: dict[str, Cell], dest: Path) -> Path:
    """Write Fault's SCL configuration YAML for sky130_fd_sc_hd (see module docstring)."""
    import yaml

    dest.write_text(yaml.safe_dump({"dffMatches": flop_matches(cells), "muxInfo": MUX},
                                   sort_keys=False))
    return dest


def cell_models(hd_dir: Path) -> list[Path]:
    """Functional Verilog models (primitives first) for simulation."""
    models = [hd_dir / "verilog" / "primitives.v", hd_dir / "verilog" / f"{LIB}.v"]
    for m in models:
        if not m.is_file():
            raise FileNotFoundError(f"sky130hd cell model not found: {m}")
    return models
