"""The Liberty facts DFT needs: each cell's pins, their direction and logic.

ATPG only needs the Boolean ``function`` of each output pin and whether a cell is sequential
(``ff``/``latch``/``statetable``); timing tables are irrelevant. The file is parsed by the
project's one Liberty reader (:mod:`gptnano.liberty`, yosys' parser), ~0.6 s for the 13 MB
typical corner; this module keeps only the DFT view of it.

Boolean functions are parsed into a tiny expression tree (``Expr``) shared by the simulator and
the SAT encoder of :mod:`dft.atpg_engine`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gptnano import liberty
from gptnano.step import StepError

# Expression tree: ("var", name) | ("const", 0/1) | ("not", e) | ("and", a, b) | ("or", a, b)
# | ("xor", a, b)
Expr = tuple



class LibertyError(ValueError):
    """The Liberty file is unreadable or a function string is malformed."""


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


# --- Boolean functions ---------------------------------------------------------------------

_TOKEN_RE = re.compile(r"\s*([A-Za-z_][A-Za-z_0-9\[\]\.]*|[01]|[!'&*|+^()]|\s)")


def parse_function(text: str) -> Expr:
    """Parse a Liberty function: ``!``/``'`` not, ``&``/``*``/juxtaposition and, ``|``/``+`` or,
    ``^`` xor; precedence not > xor > and > or (Liberty reference manual, "function")."""
    tokens = [t for t in _tokenize(text)]
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        tok = tokens[pos]
        pos += 1
        return tok

    def binary(op: str, symbols: tuple[str, ...], operand: Callable[[], Expr],
               implicit: bool = False) -> Expr:
        """One precedence level: ``operand (symbol operand)*``; ``implicit`` lets two operands
        side by side mean AND (Liberty's ``A B``)."""
        left = operand()
        while peek() in symbols or (implicit and peek() is not None
                                    and peek() not in ("|", "+", ")", "^")):
            if peek() in symbols:
                take()
            left = (op, left, operand())
        return left

    def p_or() -> Expr:
        return binary("or", ("|", "+"), p_and)

    def p_and() -> Expr:
        return binary("and", ("&", "*"), p_xor, implicit=True)

    def p_xor() -> Expr:
        return binary("xor", ("^",), p_unary)

    def p_unary() -> Expr:
        tok = peek()
        if tok is None:
            raise LibertyError(f"function '{text}': unexpected end")
        if tok == "!":
            take()
            node: Expr = ("not", p_unary())
        elif tok == "(":
            take()
            node = p_or()
            if peek() != ")":
                raise LibertyError(f"function '{text}': missing ')'")
            take()
        elif tok in ("0", "1"):
            take()
            node = ("const", int(tok))
        elif re.match(r"[A-Za-z_]", tok):
            node = ("var", take())
        else:
            raise LibertyError(f"function '{text}': unexpected '{tok}'")
        while peek() == "'":
            take()
            node = ("not", node)
        return node

    result = p_or()
    if pos != len(tokens):
        raise LibertyError(f"function '{text}': trailing '{''.join(tokens[pos:])}'")
    return result


def _tokenize(text: str) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(text):
        match = _TOKEN_RE.match(text, i)
        if not match:
            raise LibertyError(f"function '{text}': bad character at {i}")
        tok = match.group(1)
        if not tok.isspace():
            out.append(tok)
        i = match.end()
    return out


def expr_vars(expr: Expr) -> set[str]:
    """Names the expression reads."""
    if expr[0] == "var":
        return {expr[1]}
    if expr[0] == "const":
        return set()
    return set().union(*(expr_vars(e) for e in expr[1:]))
