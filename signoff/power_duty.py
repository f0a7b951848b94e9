"""The weight OpenSTA 2.0.17 gives each ``internal_power`` arc of an output pin.

``signoff.power_liberty`` needs it to rescale the tables so that the arcs of one output pin
weigh 1 in total (what current OpenSTA does: ``weight = duty / sum of duties``). 2.0.17 does not
normalise: ``Power::findInternalPower`` multiplies each arc by a duty of its own, so a
three-input and-or cell counts 1.5 output transitions per transition. This module replays that
duty rule on the Liberty ``function`` under the power step's activity model (one global
activity for every net, duty 0.5), where the from/to activity ratio is 1:

* no ``when``: the condition is inferred from the function (``Power::inferedWhen``: the other
  operand of a top-level and/or/xor whose one side is the pin) and its probability is the
  duty; if nothing can be inferred, 1 for a clock pin and 0.5 otherwise;
* a ``when``: its probability.

Probabilities follow ``Power::evalActivity`` (operands independent, every input at 0.5), and
the parse follows OpenSTA's ``LibertyExprParse.yy``: ``|``/``+`` loosest, then ``&``/``*``/
juxtaposition, then ``^``; ``!`` binds to one terminal; all left-associative.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

INPUT_DUTY = 0.5


@dataclass(frozen=True)
class Expr:
    op: str  # "port", "not", "and", "or", "xor", "one", "zero"
    left: Expr | None = None
    right: Expr | None = None
    port: str = ""


ONE = Expr("one")
_TOKEN = re.compile(r"\s*([A-Za-z_][\w\[\]\.]*|[01]|[!'&*|+^()])")


class FuncParseError(ValueError):
    """A Liberty function this parser does not understand (the message quotes it)."""


def parse(text: str) -> Expr:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise FuncParseError(f"bad character at {pos} in function {text!r}")
        tokens.append(m.group(1))
        pos = m.end()
    parser = _Parser(tokens, text)
    expr = parser.or_expr()
    if parser.i != len(tokens):
        raise FuncParseError(f"trailing tokens in function {text!r}")
    return expr


class _Parser:
    def __init__(self, tokens: list[str], text: str) -> None:
        self.tokens, self.text, self.i = tokens, text, 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> str:
        tok = self.peek()
        if tok is None:
            raise FuncParseError(f"unexpected end of function {self.text!r}")
        self.i += 1
        return tok

    def or_expr(self) -> Expr:
        expr = self.and_expr()
        while self.peek() in ("|", "+"):
            self.take()
            expr = Expr("or", expr, self.and_expr())
        return expr

    def and_expr(self) -> Expr:
        expr = self.xor_expr()
        while True:
            tok = self.peek()
            if tok in ("&", "*"):
                self.take()
            elif tok is None or tok in (")", "|", "+", "^", "'"):
                return expr
            expr = Expr("and", expr, self.xor_expr())  # explicit or implicit (juxtaposed) and

    def xor_expr(self) -> Expr:
        expr = self.unary()
        while self.peek() == "^":
            self.take()
            expr = Expr("xor", expr, self.unary())
        return expr

    def unary(self) -> Expr:
        if self.peek() == "!":
            self.take()
            return Expr("not", self.terminal())
        expr = self.terminal()
        if self.peek() == "'":
            self.take()
            return Expr("not", expr)
        return expr

    def terminal(self) -> Expr:
        tok = self.take()
        if tok == "(":
            expr = self.or_expr()
            if self.take() != ")":
                raise FuncParseError(f"missing ')' in function {self.text!r}")
            return expr
        if tok in ("0", "1"):
            return Expr("one" if tok == "1" else "zero")
        if re.fullmatch(r"[A-Za-z_][\w\[\]\.]*", tok):
            return Expr("port", port=tok)
        raise FuncParseError(f"unexpected {tok!r} in function {self.text!r}")


def _is_port_ref(expr: Expr, port: str) -> bool:
    return ((expr.op == "port" and expr.port == port)
            or (expr.op == "not" and expr.left is not None
                and expr.left.op == "port" and expr.left.port == port))


def _negate(expr: Expr) -> Expr:
    return expr.left if expr.op == "not" and expr.left is not None else Expr("not", expr)


def infered_when(expr: Expr, port: str) -> Expr | None:
    """``Power::inferedWhen`` of OpenSTA 2.0.17."""
    if expr.op == "port":
        return ONE if expr.port == port else None
    if expr.op == "not" and expr.left is not None:
        return infered_when(expr.left, port)
    if expr.op in ("or", "xor", "and") and expr.left is not None and expr.right is not None:
        other = None
        if _is_port_ref(expr.left, port):
            other = expr.right
        elif _is_port_ref(expr.right, port):
            other = expr.left
        if other is not None:
            return other if expr.op == "and" else _negate(other)
    return None


def probability(expr: Expr) -> float:
    """``Power::evalActivity(...).duty()`` with every input at ``INPUT_DUTY``."""
    if expr.op == "port":
        return INPUT_DUTY
    if expr.op == "one":
        return 1.0
    if expr.op == "zero":
        return 0.0
    assert expr.left is not None
    p1 = probability(expr.left)
    if expr.op == "not":
        return 1.0 - p1
    assert expr.right is not None
    p2 = probability(expr.right)
    if expr.op == "and":
        return p1 * p2
    if expr.op == "or":
        return 1.0 - (1.0 - p1) * (1.0 - p2)
    return p1 * (1.0 - p2) + p2 * (1.0 - p1)  # xor


def arc_duty(function: str | None, related_pin: str | None, when: str | None,
             related_is_clock: bool) -> float:
    """The duty 2.0.17 multiplies one output-pin ``internal_power`` arc by (see module doc)."""
    if related_pin and when is None and function:
        inferred = infered_when(parse(function), related_pin)
        if inferred is not None:
            return probability(inferred)
    if when is not None:
        return probability(parse(when))
    return 1.0 if related_is_clock else 0.5
