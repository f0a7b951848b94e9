"""The sky130_fd_sc_hd facts DFT needs, derived from the library itself.

Fault has no built-in sky130 setup. Its ``cut``/``chain`` read an "SCL configuration" YAML:
which cells are flip-flops (``fnmatch`` patterns, with their clock/D/Q pins) and which cell is a
2:1 mux. :func:`scl_config` writes it from the Liberty file so it cannot drift from the cells:

* flip-flop matches: every edge-triggered flop with a single ``Q`` output and a scan twin
  (``df*tp``: ``dfxtp``, ``dfrtp``, ``dfstp``; pins ``CLK``/``D``/``Q``, async reset/set pins
  are left connected and are not part of the cut). Flops with a ``Q_N`` output (``dfxbp``...)
  would lose that output in the cut and are kept out of synthesis instead;
* mux: ``sky130_fd_sc_hd__mux2_1`` (``X = S ? A1 : A0``).

Cells kept out of DFT-ready synthesis: :data:`gptnano.pdk.DFT_DONT_USE` (latches and clock
gates, tri-state drivers, low-power cells, flops with a ``Q_N`` output, physical-only cells; the
one dont-use catalogue of the project is :mod:`gptnano.pdk`).
"""

from __future__ import annotations

from pathlib import Path

from dft.liberty import Cell
from gptnano.pdk import DFT_DONT_USE, LIB, matches

MUX = {"name": f"{LIB}__mux2_1", "a": "A0", "b": "A1", "y": "X", "s": "S",
       "invertedOutput": False}
CELL_DEFINES = ("FUNCTIONAL", "UNIT_DELAY=#1")


def is_dont_use(cell: str) -> bool:
    return matches(cell, DFT_DONT_USE)


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
