"""The project's one Liberty reader: yosys' own Liberty parser through its Python binding.

``libparse`` (installed with fault-dft) is the Python binding of yosys' ``libparse.cc``; it
turns a Liberty file into a tree of groups and attributes (``LibertyAst``: ``id``, ``args``,
``value``, ``children``) in ~0.6 s for a whole sky130_fd_sc_hd corner. Every consumer builds
its own view on this one tree: the engine's timing tables (``pnr.engine.liberty``), DFT's cell
functions (``dft.liberty``). The signoff power step does not read Liberty into a tree: it
rewrites the text in place (``signoff.power_liberty``, sharing :func:`gptnano.pdk.group_end`).

A pin's Boolean ``function`` attribute is parsed here too, once for every user
(:func:`parse_function`): into a tiny expression tree (``Expr``) that DFT's simulator and SAT
encoder (``dft.atpg_engine``) and the engine's pin swapping (``pnr.engine.rsz``) share.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gptnano.step import StepError

# Expression tree: ("var", name) | ("const", 0/1) | ("not", e) | ("and", a, b) | ("or", a, b)
# | ("xor", a, b)
Expr = tuple


class LibertyError(ValueError):
    """The Liberty file is unreadable or a function string is malformed."""


def unquote(text: str) -> str:
    """An attribute value or group argument without surrounding quotes and blanks."""
    return text.strip().strip('"')


def parse(path: Path) -> Any:
    """The ``library`` group of the Liberty file ``path`` (a ``libparse.LibertyAst``)."""
    from libparse import LibertyParser

    try:
        with open(path) as f:
            return LibertyParser(f).ast
    except OSError as exc:
        raise StepError(f"{path}: cannot read Liberty file: {exc}") from exc
    except RuntimeError as exc:
        raise StepError(f"{path}: cannot parse Liberty: {exc}") from exc


def groups(node: Any, kind: str) -> list[Any]:
    """The direct child groups of ``node`` of type ``kind`` (``cell``, ``pin``, ...)."""
    return [c for c in node.children if c.id == kind]


def attributes(node: Any) -> dict[str, str]:
    """The simple attributes of group ``node`` (unquoted), nested groups left out."""
    return {c.id: unquote(c.value) for c in node.children if not c.children and c.value}


# --- Boolean functions ---------------------------------------------------------------------

_TOKEN_RE = re.compile(r"\s*([A-Za-z_][A-Za-z_0-9\[\]\.]*|[01]|[!'&*|+^()]|\s)")


def parse_function(text: str) -> Expr:
    """Parse a Liberty function: ``!``/``'`` not, ``&``/``*``/juxtaposition and, ``|``/``+`` or,
    ``^`` xor; precedence not > xor > and > or (Liberty reference manual, "function"), by
    recursive descent. Raises :class:`LibertyError` (a ``ValueError``) on anything else."""
    tokens = _tokenize(text)
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


def evaluate(expr: Expr, values: dict[str, bool]) -> bool:
    """The value of ``expr`` with its variables set from ``values`` (``KeyError`` for a
    variable that ``values`` does not name)."""
    op = expr[0]
    if op == "var":
        return bool(values[expr[1]])
    if op == "const":
        return bool(expr[1])
    if op == "not":
        return not evaluate(expr[1], values)
    a, b = evaluate(expr[1], values), evaluate(expr[2], values)
    return (a and b) if op == "and" else (a or b) if op == "or" else (a != b)
