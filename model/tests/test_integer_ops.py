"""The integer arithmetic contract: rounding corners, saturation, operand checks, and the added
non-linear operators against float references."""

from __future__ import annotations

import math

import numpy as np
import pytest

from model import integer_ops as iops


# -- round_shift -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "shift", "expected"),
    [
        (5, 1, 3),  # 2.5 -> 3 (half up)
        (-5, 1, -2),  # -2.5 -> -2 (half toward +inf, not away from zero)
        (3, 1, 2),  # 1.5 -> 2
        (-3, 1, -1),  # -1.5 -> -1
        (-1, 1, 0),  # -0.5 -> 0
        (1, 1, 1),  # 0.5 -> 1
        (6, 2, 2),  # 1.5 -> 2
        (-6, 2, -1),  # -1.5 -> -1
        (7, 2, 2),  # 1.75 -> 2
        (-7, 2, -2),  # -1.75 -> -2
        (123, 0, 123),
        (-123, 0, -123),
        (2**40 + 2**19, 20, 2**20 + 1),
    ],
)
def test_round_shift_corners(value: int, shift: int, expected: int) -> None:
    assert int(iops.round_shift(value, shift)) == expected


def test_round_shift_matches_exact_rational_rounding() -> None:
    rng = np.random.default_rng(0)
    v = rng.integers(-(2**40), 2**40, size=2000)
    for s in (1, 3, 17, 30):
        want = [math.floor((int(x) + 2 ** (s - 1)) / 2**s) for x in v]
        assert iops.round_shift(v, s).tolist() == want


@pytest.mark.parametrize("shift", [-1, iops.MAX_SHIFT + 1])
def test_round_shift_rejects_bad_shift(shift: int) -> None:
    with pytest.raises(ValueError, match="shift"):
        iops.round_shift(1, shift)


# -- saturation --------------------------------------------------------------------------------
def test_sat8_and_sat32_clip_and_cast() -> None:
    y = iops.sat8(np.array([-1000, -129, -128, 0, 127, 128, 1000]))
    assert y.dtype == np.int8 and y.tolist() == [-128, -128, -128, 0, 127, 127, 127]
    z = iops.sat32(np.array([-(2**40), -(2**31), 2**31 - 1, 2**31, 2**40]))
    assert z.dtype == np.int32
    assert z.tolist() == [-(2**31), -(2**31), 2**31 - 1, 2**31 - 1, 2**31 - 1]


# -- quantize_multiplier -----------------------------------------------------------------------
def test_quantize_multiplier_precision_and_range() -> None:
    real = np.array([0.37, 0.0001, 0.2])
    mult, shift = iops.quantize_multiplier(real)
    assert mult.max() < 2**16 and mult.max() >= 2**15  # the peak keeps 16 significant bits
    assert np.allclose(mult / 2.0**shift, real, rtol=2e-4, atol=2.0**-shift)


def test_quantize_multiplier_zero_and_errors() -> None:
    mult, shift = iops.quantize_multiplier(np.zeros(3))
    assert mult.tolist() == [0, 0, 0] and shift == 0
    with pytest.raises(ValueError, match="non-negative"):
        iops.quantize_multiplier(np.array([-1.0]))
    with pytest.raises(ValueError, match="too large"):
        iops.quantize_multiplier(np.array([1e6]))


# -- gqmv --------------------------------------------------------------------------------------
def _random_operands(rng: np.random.Generator, n: int, k: int, g: int):
    x = rng.integers(-128, 128, size=k).astype(np.int8)
    w = rng.integers(-128, 128, size=(n, k)).astype(np.int8)
    gscale = rng.integers(0, 2**16, size=(n, k // g)).astype(np.uint16)
    bias = rng.integers(-(2**31), 2**31, size=n).astype(np.int32)
    mult = rng.integers(0, 2**16, size=n).astype(np.uint16)
    return x, w, gscale, bias, mult


def _gqmv_python(x, w, gscale, bias, mult, shift, group, out_int32):
    """Reference with Python integers (unbounded): the contract written out literally."""
    n, k = w.shape
    out = []
    for i in range(n):
        total = int(bias[i])
        for g in range(k // group):
            acc = sum(int(w[i, j]) * int(x[j]) for j in range(g * group, (g + 1) * group))
            total += acc * int(gscale[i, g])
        if out_int32:
            out.append(max(-(2**31), min(2**31 - 1, total)))
        else:
            v = total * int(mult[i])
            r = (v + (1 << (shift - 1))) >> shift if shift else v
            out.append(max(-128, min(127, r)))
    return out


@pytest.mark.parametrize(("n", "k", "g", "shift", "out_int32"),
                         [(5, 64, 16, 30, False), (3, 32, 32, 0, False), (4, 64, 8, 12, True),
                          (7, 128, 64, 40, False)])
def test_gqmv_matches_python_reference(n, k, g, shift, out_int32) -> None:
    rng = np.random.default_rng(n * k + g)
    x, w, gscale, bias, mult = _random_operands(rng, n, k, g)
    got = iops.gqmv(x, w, gscale, bias, mult, shift, g, out_int32)
    assert got.dtype == (np.int32 if out_int32 else np.int8)
    assert got.tolist() == _gqmv_python(x, w, gscale, bias, mult, shift, g, out_int32)


def test_gqmv_extreme_operands_saturate() -> None:
    k, g = 256, 64
    x = np.full(k, -128, dtype=np.int8)
    w = np.full((2, k), -128, dtype=np.int8)
    gscale = np.full((2, k // g), 65535, dtype=np.uint16)
    bias = np.array([2**31 - 1, -(2**31)], dtype=np.int32)
    mult = np.full(2, 65535, dtype=np.uint16)
    assert iops.gqmv(x, w, gscale, bias, mult, 20, g).tolist() == [127, 127]
    assert iops.gqmv(-x - 1, w, gscale, bias, mult, 20, g).tolist() == [-128, -128]
    assert iops.gqmv(x, w, gscale, bias, mult, 0, g, True).tolist() == [2**31 - 1] * 2


def test_gqmv_rows_equals_stacked_gqmv() -> None:
    rng = np.random.default_rng(7)
    n, k, g = 9, 128, 32
    _, w, gscale, bias, mult = _random_operands(rng, n, k, g)
    xs = rng.integers(-128, 128, size=(6, k)).astype(np.int8)
    for out_int32 in (False, True):
        rows = iops.gqmv_rows(xs, w, gscale, bias, mult, 35, g, out_int32)
        one = np.stack([iops.gqmv(x, w, gscale, bias, mult, 35, g, out_int32) for x in xs])
        assert np.array_equal(rows, one)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda o: {**o, "x": o["x"][:-1]}, "x has shape"),
        (lambda o: {**o, "group": 24}, "not a multiple"),
        (lambda o: {**o, "group": 0}, "not a multiple"),
        (lambda o: {**o, "gscale": o["gscale"][:, :1]}, "gscale has shape"),
        (lambda o: {**o, "bias": o["bias"][:-1]}, "bias/mult shapes"),
        (lambda o: {**o, "x": o["x"].astype(np.int64) * 0 + 200}, "x outside"),
        (lambda o: {**o, "w": o["w"].astype(np.int64) - 300}, "w outside"),
        (lambda o: {**o, "gscale": o["gscale"].astype(np.int64) + 2**16}, "gscale outside"),
        (lambda o: {**o, "mult": o["mult"].astype(np.int64) - 2**17}, "mult outside"),
        (lambda o: {**o, "shift": 63}, "shift"),
    ],
)
def test_gqmv_rejects_bad_operands(change, message) -> None:
    rng = np.random.default_rng(1)
    x, w, gscale, bias, mult = _random_operands(rng, 4, 64, 16)
    ops = {"x": x, "w": w, "gscale": gscale, "bias": bias, "mult": mult, "shift": 10,
           "group": 16}
    with pytest.raises(ValueError, match=message):
        iops.gqmv(**change(ops))


def test_gqmv_refuses_shapes_that_could_overflow_the_accumulator() -> None:
    k = 2**17
    assert iops.worst_case_total_bits(k, 256) > iops.ACC_BITS
    with pytest.raises(ValueError, match="overflow"):
        iops.gqmv(np.zeros(k, np.int8), np.zeros((1, k), np.int8), np.zeros((1, k // 256),
                  np.uint16), np.zeros(1, np.int32), np.zeros(1, np.uint16), 0, 256)


# -- added operators ---------------------------------------------------------------------------
def test_round_div_half_up_and_errors() -> None:
    assert iops.round_div(np.array([5, -5, 7, -7, 6]), 2).tolist() == [3, -2, 4, -3, 3]
    assert iops.round_div(10, 4).tolist() == 3  # 2.5 -> 3
    assert iops.round_div(-10, 4).tolist() == -2  # -2.5 -> -2
    with pytest.raises(ValueError, match="positive"):
        iops.round_div(1, 0)


def test_isqrt_exact() -> None:
    v = np.concatenate([np.arange(0, 5000), np.array([2**52 - 1, 2**52, 2**52 + 1,
                        2**62 - 1, 2**62, (2**31 - 1) ** 2, (2**31 - 1) ** 2 - 1])])
    got = iops.isqrt(v)
    assert got.tolist() == [math.isqrt(int(x)) for x in v]
    with pytest.raises(ValueError, match="negative"):
        iops.isqrt(np.array([-1]))


def test_exp2_table_and_underflow() -> None:
    u = np.arange(0, 17 * 256)
    got = iops.exp2_neg_q15(u)
    want = 2.0**15 * 2.0 ** (-u / 256)
    assert got[0] == 32768
    assert np.all(np.abs(got - want) <= want * 2**-9 + 1)  # table rounding + shift truncation
    assert np.all(got[u >= 16 * 256] == 0)
    with pytest.raises(ValueError):
        iops.exp2_neg_q15(np.array([-1]))


def test_softmax_q15_close_to_float_and_masked() -> None:
    rng = np.random.default_rng(3)
    scores = rng.integers(-3000, 3000, size=(4, 10))
    valid = np.tril(np.ones((4, 10), dtype=bool), k=5)
    unit = 0.002  # real value of one score step
    smult, sshift = iops.quantize_multiplier(np.array([unit * math.log2(math.e) * 256]))
    p = iops.softmax_q15(scores, valid, int(smult[0]), sshift)
    real = np.where(valid, scores * unit, -np.inf)
    ref = np.exp(real - real.max(axis=1, keepdims=True))
    ref /= ref.sum(axis=1, keepdims=True)
    assert np.all(p[~valid] == 0)
    assert np.abs(p / 2**15 - ref).max() < 2e-3
    assert np.all(np.abs(p.sum(axis=1) - 2**15) <= valid.sum(axis=1))
    with pytest.raises(ValueError, match="no valid"):
        iops.softmax_q15(scores, np.zeros_like(valid), 1, 0)


def test_layernorm_int8_close_to_float() -> None:
    rng = np.random.default_rng(5)
    c, s_r, s_y = 128, 2.0**-16, 4.0 / 127
    real = rng.normal(0.3, 1.5, size=(6, c))
    r = np.rint(real / s_r).astype(np.int64)
    gamma, beta = rng.uniform(0.5, 1.5, c), rng.uniform(-0.2, 0.2, c)
    gmult, gshift = iops.signed_multiplier(gamma / s_y)
    bterm = np.rint(beta / s_y * 2.0 ** (gshift + iops.LN_NORM_BITS)).astype(np.int64)
    y = iops.layernorm_int8(r, gmult, bterm, gshift, eps_q=max(1, round(1e-5 / s_r**2)))
    x = r * s_r
    ref = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5) * gamma + beta
    ref_q = np.clip(np.rint(ref / s_y), -128, 127)
    assert y.dtype == np.int8
    assert np.abs(y - ref_q).max() <= 1
    assert (y != ref_q).mean() < 0.02
    with pytest.raises(ValueError, match="eps_q"):
        iops.layernorm_int8(r, gmult, bterm, gshift, eps_q=0)


def test_signed_multiplier_keeps_sign_and_width() -> None:
    m, s = iops.signed_multiplier(np.array([-3.2, 0.5, 1.7]))
    assert np.abs(m).max() < 2**15 and m[0] < 0
    assert np.allclose(m / 2.0**s, [-3.2, 0.5, 1.7], rtol=1e-3)
