"""The arithmetic helpers of the pipelined datapath against plain integer arithmetic.

The scoreboard (dv/) proves the whole engine bit-exact; these tests pin the two rewritten
formulas on their own, including operand values the random jobs rarely reach (carries across
every carry-select slice, shifts past the product width, saturation thresholds).
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from amaranth.hdl import Module, Signal, signed
from amaranth.sim import Simulator

from design.datapath import at_least, round_shift_sat8, select_add
from model.integer_ops import round_shift, sat8


def evaluate(build, cases: list[tuple[int, ...]], shapes) -> list[int]:
    """Values of a combinational expression ``build(*inputs)`` for each input tuple."""
    m = Module()
    inputs = [Signal(shape, name=f"i{k}") for k, shape in enumerate(shapes)]
    out = Signal(build(*inputs).shape(), name="out")
    m.d.comb += out.eq(build(*inputs))
    results: list[int] = []

    async def bench(ctx):
        for case in cases:
            for sig, value in zip(inputs, case, strict=True):
                ctx.set(sig, value)
            results.append(ctx.get(out))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    return results


@pytest.mark.parametrize("width, chunk", [(36, 12), (43, 12), (37, 8), (10, 12)])
def test_select_add_equals_sum(width: int, chunk: int) -> None:
    rng = random.Random(width * 100 + chunk)
    lim = 2 ** (width - 2)
    edges = [e for e in (0, 1, -1, lim - 1, -lim, 2**chunk - 1, -(2**chunk)) if -lim <= e < lim]
    cases = [(a, b) for a in edges for b in edges]
    cases += [(rng.randrange(-lim, lim), rng.randrange(-lim, lim)) for _ in range(300)]
    got = evaluate(lambda a, b: select_add(a, b, width, chunk), cases,
                   [signed(width - 1), signed(width - 1)])
    assert got == [a + b for a, b in cases]


@pytest.mark.parametrize("width, chunk", [(18, 12), (19, 12)])
def test_select_add_carry_in(width: int, chunk: int) -> None:
    """The carry-in of the delayed-carry accumulator halves, across the slice boundary."""
    rng = random.Random(width)
    lim = 2 ** (width - 2)
    cases = [(a, b, c) for a in (0, -1, 2**chunk - 1, lim - 1, -lim) for b in (0, -1, 1)
             for c in (0, 1)]
    cases += [(rng.randrange(-lim, lim), rng.randrange(-lim, lim), rng.randrange(2))
              for _ in range(100)]
    got = evaluate(lambda a, b, c: select_add(a, b, width, chunk, cin=c), cases,
                   [signed(width - 1), signed(width - 1), 1])
    assert got == [a + b + c for a, b, c in cases]


@pytest.mark.parametrize("bound", [255, 257, 1, 3, 5])
def test_at_least_is_the_comparison(bound: int) -> None:
    """The reduction form of v >= k (k = 2**j - 1 or 2**j + 1) on every 12-bit value."""
    values = list(range(-2048, 2048))
    got = evaluate(lambda v: at_least(v, bound), [(v,) for v in values], [signed(12)])
    assert got == [int(v >= bound) for v in values]


@pytest.mark.parametrize("half_down", [False, True])
def test_round_shift_sat8_matches_the_contract(half_down: bool) -> None:
    """The contract's sat8(round_shift(p, s)); the half_down mutant rounds ties down."""
    rng = random.Random(7)
    pw = 53
    values = [0, 1, -1, 2**(pw - 1) - 1, -(2**(pw - 1)), 255, 256, -257, -258, 127, -129]
    values += [rng.randrange(-(2**(pw - 1)), 2**(pw - 1)) >> rng.randrange(0, pw)
               for _ in range(200)]
    shifts = [0, 1, 2, 7, 8, 30, 52, 53, 54, 62]
    cases = [(p, s) for p in values for s in shifts]
    got = evaluate(lambda p, s: round_shift_sat8(p, s, half_down=half_down, saturate=True),
                   cases, [signed(pw), 6])
    if half_down:
        want = [max(-128, min(127, (p + (1 << s >> 1) - (1 if s else 0)) >> s))
                for p, s in cases]
    else:
        want = [int(sat8(round_shift(np.array([p], dtype=np.int64), s))[0]) for p, s in cases]
    assert got == want
