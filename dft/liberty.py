"""The Liberty facts DFT needs: each cell's pins, their direction and logic.

ATPG only needs the Boolean ``function`` of each output pin and whether a cell is sequential
(``ff``/``latch``/``statetable``); timing tables are irrelevant. The file is parsed by the
project's one Liberty reader (:mod:`gptnano.liberty`, yosys' parser), ~0.6 s for the 13 MB
typical corner; this module keeps only the DFT view of it.

Boolean functions are parsed by the core's one parser (:func:`gptnano.liberty.parse_function`)
into the expression tree (``Expr``) shared by the simulator and the SAT encoder of
:mod:`dft.atpg_engine`; the names are re-exported here for DFT's modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gptnano import liberty
from gptnano.liberty import Expr, LibertyError, expr_vars, parse_function
from gptnano.step import StepError

__all__ = ["Cell", "Expr", "LibertyError", "expr_vars", "parse_function", "read_liberty"]


@dataclass
class Cell:
    name: str
    inputs: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)  # pin -> function text ("" if none)
    sequential: bool = False
    dont_use: bool = False

    @property
    def functions(self) -> dict[str, Expr]:
        """Output pin -> parsed Boolean function (only for combinational outputs)."""
        return {pin: parse_function(text) for pin, text in self.outputs.items() if text}


def read_liberty(path: Path) -> dict[str, Cell]:
    """Cells of a Liberty file, keyed by cell name (parsed by :func:`gptnano.liberty.parse`).

    Only the cell's own ``pin`` groups count: a scan cell's ``test_cell`` group repeats its
    pins and is a child group of its own, so it is not read."""
    try:
        library = liberty.parse(path)
    except StepError as exc:
        raise LibertyError(str(exc)) from exc
    cells: dict[str, Cell] = {}
    for group in liberty.groups(library, "cell"):
        cell = Cell(liberty.unquote(group.args[0]))
        cell.sequential = any(c.id in ("ff", "latch", "statetable") for c in group.children)
        cell.dont_use = liberty.attributes(group).get("dont_use") == "true"
        for pin in liberty.groups(group, "pin"):
            name = liberty.unquote(pin.args[0])
            attrs = liberty.attributes(pin)
            if attrs.get("direction") == "input":
                cell.inputs.append(name)
            elif attrs.get("direction") in ("output", "inout"):
                cell.outputs[name] = attrs.get("function", "").strip()
        cells[cell.name] = cell
    if not cells:
        raise LibertyError(f"{path}: no cell groups found (not a Liberty file?)")
    return cells
