"""A small reader for the Liberty facts DFT needs: each cell's pins, their direction and logic.

Why not a full Liberty parser: ATPG only needs the Boolean ``function`` of each output pin and
whether a cell is sequential (``ff``/``latch``/``statetable``); timing tables are irrelevant. The
sky130 libraries are written one statement per line, so a line scan that tracks group nesting
reads the 13 MB typical-corner file in about a second. Scan cells carry a nested ``test_cell``
group whose pins repeat the outer ones; it is skipped.

Boolean functions are parsed into a tiny expression tree (``Expr``) shared by the simulator and
the SAT encoder of :mod:`dft.atpg_engine`.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from pathlib import Path

# Expression tree: ("var", name) | ("const", 0/1) | ("not", e) | ("and", a, b) | ("or", a, b)
# | ("xor", a, b)
Expr = tuple

_GROUP_RE = re.compile(r'^\s*(\w+)\s*\(\s*"?([^",)]*)[^{]*\{')
_ATTR_RE = re.compile(r'^\s*(\w+)\s*:\s*"?([^";]*)"?\s*;')


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
    """Cells of a Liberty file (``.lib`` or ``.lib.gz``), keyed by cell name."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt") as handle:  # type: ignore[operator]
            lines = handle.readlines()
    except OSError as exc:
        raise LibertyError(f"{path}: cannot read Liberty file: {exc}") from exc
    cells: dict[str, Cell] = {}
    stack: list[tuple[str, str]] = []  # (group type, group name)
    cell: Cell | None = None
    pin: str | None = None
    for line in lines:
        code = line.split("/*")[0] if "/*" in line and "*/" in line else line
        opened = _GROUP_RE.match(code)
        if opened:
            kind, name = opened.group(1), opened.group(2)
            stack.append((kind, name))
            in_test_cell = any(k == "test_cell" for k, _ in stack)
            if kind == "cell" and len(stack) == 2:
                cell = cells.setdefault(name, Cell(name))
            elif cell is not None and not in_test_cell:
                if kind in ("ff", "latch", "statetable") and stack[-2][0] == "cell":
                    cell.sequential = True
                elif kind == "pin" and stack[-2][0] == "cell":
                    pin = name
        else:
            attr = _ATTR_RE.match(code)
            if attr and cell is not None and len(stack) >= 3 and stack[-1][0] == "pin":
                if any(k == "test_cell" for k, _ in stack):
                    pass
                elif attr.group(1) == "direction" and pin is not None:
                    if attr.group(2) == "input":
                        cell.inputs.append(pin)
                    elif attr.group(2) in ("output", "inout"):
                        cell.outputs.setdefault(pin, "")
                elif attr.group(1) == "function" and pin is not None:
                    cell.outputs[pin] = attr.group(2).strip()
            elif attr and cell is not None and len(stack) == 2 and attr.group(1) == "dont_use":
                cell.dont_use = attr.group(2).strip() == "true"
        if "{" in code and not opened:
            stack.append(("?", ""))
        closes = code.count("}")
        for _ in range(closes):
            if not stack:
                raise LibertyError(f"{path}: unbalanced braces")
            kind, _name = stack.pop()
            if kind == "cell" and len(stack) == 1:
                cell = None
            if kind == "pin":
                pin = None
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

    def p_or() -> Expr:
        left = p_and()
        while peek() in ("|", "+"):
            take()
            left = ("or", left, p_and())
        return left

    def p_and() -> Expr:
        left = p_xor()
        while peek() in ("&", "*") or (peek() is not None and peek() not in ("|", "+", ")", "^")):
            if peek() in ("&", "*"):
                take()
            left = ("and", left, p_xor())
        return left

    def p_xor() -> Expr:
        left = p_unary()
        while peek() == "^":
            take()
            left = ("xor", left, p_unary())
        return left

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
