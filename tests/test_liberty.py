"""The core's one Liberty ``function`` parser (gptnano.liberty), used by DFT and rsz."""

from __future__ import annotations

import itertools

import pytest

from gptnano.liberty import LibertyError, evaluate, expr_vars, parse_function


def test_function_parser_evaluates_like_python() -> None:
    tree = parse_function("(A&B) | !(C^D) | E'")
    for a, b, c, d, e in itertools.product((False, True), repeat=5):
        v = {"A": a, "B": b, "C": c, "D": d, "E": e}
        assert evaluate(tree, v) == ((a and b) or not (c ^ d) or not e)
    assert evaluate(parse_function("A B"), {"A": True, "B": False}) is False
    assert evaluate(parse_function("A * 1 + 0"), {"A": True}) is True


def test_function_parser_precedence_not_xor_and_or() -> None:
    # juxtaposition is AND and binds looser than ^: A2 B2 ^ C' is A2 & (B2 ^ !C)
    tree = parse_function("(A1&!B1) | A2 B2 ^ C'")
    for a1, b1, a2, b2, c in itertools.product((False, True), repeat=5):
        v = {"A1": a1, "B1": b1, "A2": a2, "B2": b2, "C": c}
        assert evaluate(tree, v) == ((a1 and not b1) or (a2 and (b2 != (not c))))
    assert expr_vars(tree) == {"A1", "B1", "A2", "B2", "C"}


@pytest.mark.parametrize("text", ["A & (B", "A )", "A & ", "A # B", ""])
def test_function_parser_rejects_malformed_text(text: str) -> None:
    with pytest.raises(LibertyError, match="function"):
        parse_function(text)


def test_evaluate_names_an_unknown_variable() -> None:
    with pytest.raises(KeyError):                     # rsz's swappable_pins relies on this
        evaluate(parse_function("IQ & D"), {"D": True})
