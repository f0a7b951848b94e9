"""The integer arithmetic contract shared by the golden model and the hardware.

Every rounding, width and saturation that the accelerator must reproduce bit for bit is
specified here, once. The RTL testbenches predict with these functions (no second model), and
the integer reference transformer is built from them.

Group-wise quantized matrix-vector product (GQMV), after LlamaF, with fixed-point scales:

    x        int8[K]            activations (per-tensor scale s_x, symmetric, may be -128)
    w        int8[N, K]         weights, K split in groups of G consecutive columns
    gscale   uint16[N, K // G]  per (row, group) weight-scale multiplier, relative to the row:
                                s_w[n, g] = row_scale[n] * gscale[n, g] / 65535
    bias     int32[N]           in units of the group-scaled accumulator (see below)
    mult     uint16[N]          per-row requantization multiplier
    shift    int in [0, 62]     requantization right shift (one per matrix)

    acc[n, g]  = sum_{k in group g} w[n, k] * x[k]              exact, |acc| <= G * 2**14
    total[n]   = sum_g acc[n, g] * gscale[n, g] + bias[n]        exact (ACC_BITS signed)
    int8 mode:  y[n] = sat8(round_shift(total[n] * mult[n], shift))
    int32 mode: y[n] = sat32(total[n])

round_shift(v, s) = floor((v + 2**(s-1)) / 2**s) for s > 0 and v for s == 0: an arithmetic
right shift after adding half an LSB, i.e. round half toward +infinity. It is what the hardware
does with one adder and a shifter; numpy's >> on int64 is the same floor shift.
sat8 clips to [-128, 127]; sat32 clips to [-2**31, 2**31 - 1].

Widths: with G = 256 and K <= 4096 (16 groups), |total| < 2**43; ACC_BITS = 48 holds every legal
input by construction, and ``gqmv`` refuses shapes whose worst case would not fit, rather than
silently wrapping. The product total * mult needs ACC_BITS + 16 bits (< 2**63 in numpy int64).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

INT8_MIN, INT8_MAX = -128, 127
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
GSCALE_BITS = 16
MULT_BITS = 16
ACC_BITS = 48
MAX_SHIFT = 62


def round_shift(value: np.ndarray | int, shift: int) -> np.ndarray:
    """Arithmetic right shift with round-half-up: floor((v + 2**(s-1)) / 2**s)."""
    if not 0 <= shift <= MAX_SHIFT:
        raise ValueError(f"shift {shift} outside [0, {MAX_SHIFT}]")
    v = np.asarray(value, dtype=np.int64)
    if shift == 0:
        return v.copy()
    return (v + (np.int64(1) << np.int64(shift - 1))) >> np.int64(shift)


def saturate(value: np.ndarray, lo: int, hi: int, dtype: type) -> np.ndarray:
    """Clip to [lo, hi] and cast: the saturation every requantizer in the design uses."""
    return np.clip(np.asarray(value, dtype=np.int64), lo, hi).astype(dtype)


def sat8(value: np.ndarray) -> np.ndarray:
    return saturate(value, INT8_MIN, INT8_MAX, np.int8)


def sat32(value: np.ndarray) -> np.ndarray:
    return saturate(value, INT32_MIN, INT32_MAX, np.int32)


def worst_case_total_bits(k: int, group: int) -> int:
    """Signed bits needed for |total| in the worst case (all -128 products, max scales and bias)."""
    groups = k // group
    worst = groups * group * (2**14) * (2**GSCALE_BITS - 1) + 2**31
    return int(worst).bit_length() + 1


@dataclass(frozen=True)
class FixedPoint:
    """A positive real scale as ``mult / 2**shift`` with ``mult`` in [0, 2**MULT_BITS)."""

    mult: int
    shift: int

    def value(self) -> float:
        return self.mult / float(2**self.shift)


Real = float | int | Fraction


def rationals(real: np.ndarray | Sequence[Real]) -> tuple[list[Fraction], tuple[int, ...]]:
    """Exact rationals of ``real`` (floats are converted exactly, not rounded) and its shape."""
    arr = np.asarray(real, dtype=object if _holds_fractions(real) else np.float64)
    if arr.dtype != object and not np.all(np.isfinite(arr)):
        raise ValueError("multipliers must be finite")
    return [Fraction(v) for v in arr.ravel().tolist()], arr.shape


def _holds_fractions(real: object) -> bool:
    if isinstance(real, np.ndarray):
        return real.dtype == object
    return any(isinstance(v, Fraction) for v in np.asarray(real, dtype=object).ravel())


def floor_log2(value: Real) -> int:
    """Exact floor(log2(value)) of a positive rational (no float ``log2``: libm's result can
    depend on the CPU's code path, and a shift is a discrete choice that must not)."""
    v = Fraction(value)
    if v <= 0:
        raise ValueError("floor_log2 needs a positive value")
    e = v.numerator.bit_length() - v.denominator.bit_length()  # 2**(e-1) < v < 2**(e+1)
    if (v.numerator << max(0, -e)) < (v.denominator << max(0, e)):
        e -= 1
    return e


def round_half_even(value: Real) -> int:
    """Nearest integer, ties to even: what ``np.rint`` does, computed exactly on a rational."""
    return round(Fraction(value))


def quantize_multiplier(real: np.ndarray | Sequence[Real],
                        max_shift: int = MAX_SHIFT) -> tuple[np.ndarray, int]:
    """Express non-negative reals as uint16 multipliers sharing one shift (per-matrix).

    The shift is the largest that keeps the biggest multiplier below 2**16, so the biggest
    element keeps 16 significant bits; smaller elements lose relative precision, which the
    quantization tests measure. ``real`` may hold floats or ``Fraction``s; either way the
    shift and the rounding (half to even) are computed in exact rational arithmetic, so the
    result does not depend on the machine. Returns ``(mult[uint16 as int64], shift)``.
    """
    r, shape = rationals(real)
    if any(v < 0 for v in r):
        raise ValueError("requantization scales must be finite and non-negative")
    peak = max(r, default=Fraction(0))
    if peak == 0:
        return np.zeros(shape, dtype=np.int64), 0
    shift = max(0, min(max_shift, floor_log2((2**MULT_BITS - 1) / peak)))
    mult = np.array([round_half_even(v * 2**shift) for v in r], dtype=np.int64).reshape(shape)
    if mult.max() >= 2**MULT_BITS:
        raise ValueError(f"scale {float(peak)} too large for a {MULT_BITS}-bit multiplier")
    return mult, shift


def check_operands(
    x: np.ndarray, w: np.ndarray, gscale: np.ndarray, bias: np.ndarray, mult: np.ndarray,
    shift: int, group: int,
) -> None:
    """Reject operands outside the contract with a message naming the operand."""
    n, k = w.shape
    if x.shape != (k,):
        raise ValueError(f"x has shape {x.shape}, expected ({k},)")
    if group <= 0 or k % group:
        raise ValueError(f"K={k} is not a multiple of the group size {group}")
    if gscale.shape != (n, k // group):
        raise ValueError(f"gscale has shape {gscale.shape}, expected ({n}, {k // group})")
    if bias.shape != (n,) or mult.shape != (n,):
        raise ValueError(f"bias/mult shapes {bias.shape}/{mult.shape}, expected ({n},)")
    for name, arr, lo, hi in (
        ("x", x, INT8_MIN, INT8_MAX),
        ("w", w, INT8_MIN, INT8_MAX),
        ("gscale", gscale, 0, 2**GSCALE_BITS - 1),
        ("bias", bias, INT32_MIN, INT32_MAX),
        ("mult", mult, 0, 2**MULT_BITS - 1),
    ):
        a = np.asarray(arr, dtype=np.int64)
        if a.size and (a.min() < lo or a.max() > hi):
            raise ValueError(f"{name} outside [{lo}, {hi}]: [{a.min()}, {a.max()}]")
    if not 0 <= shift <= MAX_SHIFT:
        raise ValueError(f"shift {shift} outside [0, {MAX_SHIFT}]")
    if worst_case_total_bits(k, group) > ACC_BITS:
        raise ValueError(f"K={k}, G={group} could overflow the {ACC_BITS}-bit accumulator")


def group_accumulate(x: np.ndarray, w: np.ndarray, group: int) -> np.ndarray:
    """acc[n, g]: exact int8 x int8 dot products of each group (int64 array of shape (N, K/G))."""
    n, k = w.shape
    prod = w.astype(np.int64) * x.astype(np.int64)[None, :]
    return prod.reshape(n, k // group, group).sum(axis=2)


def gqmv_total(
    x: np.ndarray, w: np.ndarray, gscale: np.ndarray, bias: np.ndarray, group: int
) -> np.ndarray:
    """total[n] = sum_g acc[n, g] * gscale[n, g] + bias[n] (exact, int64)."""
    acc = group_accumulate(x, w, group)
    return (acc * gscale.astype(np.int64)).sum(axis=1) + bias.astype(np.int64)


def gqmv(
    x: np.ndarray,
    w: np.ndarray,
    gscale: np.ndarray,
    bias: np.ndarray,
    mult: np.ndarray,
    shift: int,
    group: int,
    out_int32: bool = False,
) -> np.ndarray:
    """The golden group-wise quantized matrix-vector product (see the module docstring)."""
    x, w = np.asarray(x), np.asarray(w)
    gscale, bias, mult = np.asarray(gscale), np.asarray(bias), np.asarray(mult)
    check_operands(x, w, gscale, bias, mult, shift, group)
    total = gqmv_total(x, w, gscale, bias, group)
    if out_int32:
        return sat32(total)
    return sat8(round_shift(total * mult.astype(np.int64), shift))


# ---------------------------------------------------------------------------------------------
# Batched GQMV and the non-linear integer operators of the reference transformer.
#
# Everything below is *added* around the contract above (whose semantics are fixed). The same
# rounding rule is used throughout: round half toward +infinity, written either as round_shift
# (power-of-two divisors) or round_div (any positive divisor, floor((2*n + d) / (2*d))).
# ---------------------------------------------------------------------------------------------

EXP_FRAC_BITS = 8  # exponent argument u of 2**(-u) is in Q8 (steps of 1/256)
PROB_BITS = 15  # softmax probabilities in Q15 (1.0 = 32768)
LN_NORM_BITS = 16  # LayerNorm normalized value (x - mean) / std in Q16
MAX_EXP_INT = 16  # 2**(-u) underflows to 0 in Q15 once u >= 16

# EXP2_LUT[i] = round(2**15 * 2**(-i / 256)): the fractional part of 2**(-u); the integer part
# of u is a right shift. 256 x 16-bit entries, values in [16406, 32768].
EXP2_LUT = np.rint(2.0**PROB_BITS * 2.0 ** (-np.arange(2**EXP_FRAC_BITS) / 2**EXP_FRAC_BITS)
                   ).astype(np.int64)


def gqmv_rows(
    x: np.ndarray, w: np.ndarray, gscale: np.ndarray, bias: np.ndarray, mult: np.ndarray,
    shift: int, group: int, out_int32: bool = False,
) -> np.ndarray:
    """``gqmv`` applied to every row of ``x`` [T, K] at once (identical results, vectorized)."""
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"x must be [T, K], got shape {x.shape}")
    n, k = w.shape
    if x.shape[0] == 0:
        return np.zeros((0, n), dtype=np.int32 if out_int32 else np.int8)
    check_operands(x[0], w, gscale, bias, mult, shift, group)
    if x.min() < INT8_MIN or x.max() > INT8_MAX:
        raise ValueError(f"x outside [{INT8_MIN}, {INT8_MAX}]")
    t = x.shape[0]
    xg = x.astype(np.int64).reshape(t, k // group, group)
    wg = w.astype(np.int64).reshape(n, k // group, group)
    acc = np.einsum("tgk,ngk->tng", xg, wg)  # exact: |acc| <= G * 2**14
    total = (acc * gscale.astype(np.int64)[None]).sum(axis=2) + bias.astype(np.int64)[None]
    if out_int32:
        return sat32(total)
    return sat8(round_shift(total * mult.astype(np.int64)[None], shift))


def round_div(num: np.ndarray | int, den: np.ndarray | int) -> np.ndarray:
    """Integer division rounding half toward +infinity: floor((2*num + den) / (2*den)), den > 0."""
    n = np.asarray(num, dtype=np.int64)
    d = np.asarray(den, dtype=np.int64)
    if np.any(d <= 0):
        raise ValueError("round_div needs a positive divisor")
    return (2 * n + d) // (2 * d)


def isqrt(value: np.ndarray) -> np.ndarray:
    """Exact floor(sqrt(v)) for int64 v in [0, 2**62] (float estimate, then integer fix-up)."""
    v = np.asarray(value, dtype=np.int64)
    if v.size and v.min() < 0:
        raise ValueError("isqrt of a negative number")
    r = np.floor(np.sqrt(v.astype(np.float64))).astype(np.int64)
    for _ in range(2):  # the float estimate is off by at most one near 2**52 and above
        r = np.where(r * r > v, r - 1, r)
        r = np.where((r + 1) * (r + 1) <= v, r + 1, r)
    return r


def rescale(value: np.ndarray, mult: np.ndarray | int, shift: int) -> np.ndarray:
    """round_shift(value * mult, shift) without saturation (int64): change of fixed-point unit."""
    return round_shift(np.asarray(value, dtype=np.int64) * np.asarray(mult, dtype=np.int64),
                       shift)


def signed_multiplier(real: np.ndarray | Sequence[Real],
                      bits: int = 15) -> tuple[np.ndarray, int]:
    """Signed reals as integers ``m`` sharing one shift: real ~= m / 2**shift, |m| < 2**bits.

    Exact like :func:`quantize_multiplier` (rational shift choice, ties to even)."""
    r, shape = rationals(real)
    peak = max((abs(v) for v in r), default=Fraction(0))
    if peak == 0:
        return np.zeros(shape, dtype=np.int64), 0
    shift = max(0, min(MAX_SHIFT - LN_NORM_BITS, floor_log2((2**bits - 1) / peak)))
    m = np.array([round_half_even(v * 2**shift) for v in r], dtype=np.int64).reshape(shape)
    if np.abs(m).max() >= 2**bits:
        raise ValueError(f"multiplier {float(peak)} too large for {bits} bits")
    return m, shift


def layernorm_int8(
    r: np.ndarray, gmult: np.ndarray, bterm: np.ndarray, gshift: int, eps_q: int
) -> np.ndarray:
    """Integer LayerNorm of residual codes ``r`` [..., C] (int32 units s_r) to int8 codes.

    mean = round_div(sum r, C); d = r - mean; var = round_div(sum d**2, C);
    std = isqrt(var + eps_q) (eps_q = round(eps / s_r**2) >= 1, so std >= 1);
    n = round_div(d * 2**16, std)                      (Q16, |n| <= sqrt(C) * 2**16)
    y = sat8(round_shift(n * gmult + bterm, gshift + 16))
    with gmult / 2**gshift ~= gamma / s_y and bterm = round(beta / s_y * 2**(gshift + 16)),
    s_y the int8 output scale. All intermediates fit int64 for |r| < 2**31 and C <= 2**12.
    """
    r = np.asarray(r, dtype=np.int64)
    c = r.shape[-1]
    if eps_q < 1:
        raise ValueError("eps_q must be >= 1 (it keeps std >= 1)")
    mean = round_div(r.sum(axis=-1, keepdims=True), c)
    d = r - mean
    var = round_div((d * d).sum(axis=-1, keepdims=True), c)
    std = isqrt(var + eps_q)
    n = round_div(d << LN_NORM_BITS, std)
    return sat8(round_shift(n * np.asarray(gmult, dtype=np.int64) + np.asarray(bterm, np.int64),
                            gshift + LN_NORM_BITS))


def exp2_neg_q15(u: np.ndarray) -> np.ndarray:
    """2**(-u / 256) in Q15 for integer u >= 0: EXP2_LUT[u mod 256] >> (u // 256).

    Zero once u >= 16 * 256 (below one Q15 step).
    """
    u = np.asarray(u, dtype=np.int64)
    if u.size and u.min() < 0:
        raise ValueError("exp2_neg_q15 needs u >= 0")
    whole = u >> EXP_FRAC_BITS
    frac = u & (2**EXP_FRAC_BITS - 1)
    val = EXP2_LUT[frac] >> np.minimum(whole, 63)
    return np.where(whole >= MAX_EXP_INT, 0, val)


def softmax_q15(scores: np.ndarray, valid: np.ndarray, smult: int, sshift: int) -> np.ndarray:
    """Integer softmax over the last axis of int scores (q.k dot products) -> Q15 probabilities.

    smult / 2**sshift ~= (real units of one score step) * log2(e) * 256, so
    u = round_shift((max - s) * smult, sshift) is the exponent in Q8 base 2; e = exp2_neg_q15(u)
    (0 where not ``valid``); p = round_div(e * 2**15, sum e). The max element has e = 32768, so
    the sum is never 0 (each row needs at least one valid entry).
    """
    s = np.asarray(scores, dtype=np.int64)
    valid = np.asarray(valid, dtype=bool)
    if not np.all(valid.any(axis=-1)):
        raise ValueError("softmax row with no valid entry")
    low = np.iinfo(np.int64).min // 4
    m = np.where(valid, s, low).max(axis=-1, keepdims=True)
    u = rescale(np.where(valid, m - s, 0), smult, sshift)
    e = np.where(valid, exp2_neg_q15(u), 0)
    return round_div(e << PROB_BITS, e.sum(axis=-1, keepdims=True))
