"""Constrained-random and corner-case operands for GQMV jobs (pure numpy, no simulator).

Random operands are drawn so that results exercise every regime: the requantization shift is
usually chosen near the magnitude of ``total * mult`` (so int8 results land in range, with some
saturating), sometimes drawn anywhere in [0, 62]; values are sometimes pushed to their extremes.
"""

from __future__ import annotations

import numpy as np

from design.config import GqmvConfig
from dv.payload import pad_rows
from dv.uvm.items import GqmvItem
from model.integer_ops import INT32_MAX, INT32_MIN, MAX_SHIFT, gqmv_total

I8 = (-128, 128)
U16 = 2**16


def _int8(rng: np.random.Generator, shape: tuple[int, ...], extreme: bool) -> np.ndarray:
    if extreme:
        return rng.choice(np.array([-128, -127, -1, 0, 1, 126, 127]), size=shape)
    return rng.integers(*I8, size=shape)


def fitting_shift(total: np.ndarray, mult: np.ndarray, rng: np.random.Generator) -> int:
    """A shift that maps the largest |total*mult| near the int8 range (jittered by +-2)."""
    peak = int(np.abs(total * mult.astype(np.int64)).max()) if total.size else 0
    return int(np.clip(peak.bit_length() - 7 + rng.integers(-2, 3), 0, MAX_SHIFT))


def random_item(rng: np.random.Generator, cfg: GqmvConfig, max_rows: int, name: str) -> GqmvItem:
    groups = int(rng.integers(1, cfg.max_groups + 1))
    if rng.random() < 0.2:
        groups = cfg.max_groups
    k = groups * cfg.group
    n = cfg.lanes * int(rng.integers(1, max(1, max_rows // cfg.lanes) + 1))
    extreme = rng.random() < 0.25
    x = _int8(rng, (k,), extreme)
    w = _int8(rng, (n, k), extreme)
    gscale = rng.integers(0, U16, size=(n, groups))
    if rng.random() < 0.15:
        gscale[:] = rng.choice([0, U16 - 1])
    bias = rng.integers(-(2**20), 2**20, size=n)
    if rng.random() < 0.15:
        bias = rng.choice(np.array([INT32_MIN, INT32_MAX, 0]), size=n)
    mult = rng.integers(0, U16, size=n)
    out_int32 = bool(rng.random() < 0.25)
    total = gqmv_total(x, w, gscale, bias, cfg.group)
    shift = int(rng.integers(0, MAX_SHIFT + 1)) if rng.random() < 0.2 else fitting_shift(
        total, mult, rng)
    return GqmvItem(name, x=x, w=w, gscale=gscale, bias=bias, mult=mult, shift=shift,
                    group=cfg.group, out_int32=out_int32, tag="random")


def corner_items(cfg: GqmvConfig, rows: int) -> list[GqmvItem]:
    """Directed corners: extreme values, zero scales, max length, shifts 0 and 62, int32 clip."""
    k, g = cfg.max_len, cfg.group
    n = max(cfg.lanes, rows - rows % cfg.lanes)
    ones = np.ones
    groups = k // g
    items = []

    def add(tag: str, x: np.ndarray, w: np.ndarray, gscale: np.ndarray, bias: np.ndarray,
            mult: np.ndarray, shift: int, out_int32: bool) -> None:
        items.append(GqmvItem(f"corner_{tag}", x=x, w=w, gscale=gscale, bias=bias, mult=mult,
                              shift=shift, group=g, out_int32=out_int32, tag=tag))

    neg = -128 * ones(k, dtype=np.int64)
    pos = 127 * ones(k, dtype=np.int64)
    full = (U16 - 1) * ones((n, groups), dtype=np.int64)
    zero_b = np.zeros(n, dtype=np.int64)
    max_m = (U16 - 1) * ones(n, dtype=np.int64)
    add("all_min", neg, -128 * ones((n, k), dtype=np.int64), full, zero_b, max_m, 30, False)
    add("all_min_int32", neg, -128 * ones((n, k), dtype=np.int64), full,
        INT32_MAX * ones(n, dtype=np.int64), max_m, 0, True)
    add("all_max", pos, 127 * ones((n, k), dtype=np.int64), full, zero_b, max_m, 40, False)
    add("mixed_sign_min", neg, 127 * ones((n, k), dtype=np.int64), full,
        INT32_MIN * ones(n, dtype=np.int64), max_m, 0, True)
    add("zero_scales", pos, -128 * ones((n, k), dtype=np.int64),
        np.zeros((n, groups), dtype=np.int64), np.arange(n, dtype=np.int64) - n // 2,
        max_m, 0, False)
    add("shift_max", neg, 127 * ones((n, k), dtype=np.int64), full, zero_b, max_m,
        MAX_SHIFT, False)
    add("zero_mult", pos, pos[None, :].repeat(n, 0), full, zero_b,
        np.zeros(n, dtype=np.int64), 0, False)
    # Rounding ties on the shortest job (one group): total*mult = m + 1/2 LSB, both signs.
    x1 = np.zeros(g, dtype=np.int64)
    x1[0] = 1
    w1 = np.zeros((n, g), dtype=np.int64)
    w1[:, 0] = 1
    ties = np.where(np.arange(n) % 2 == 0, 3, -3).astype(np.int64)
    add("round_ties", x1, w1, np.zeros((n, 1), dtype=np.int64), ties,
        np.ones(n, dtype=np.int64), 1, False)
    add("one_group_int32", -128 * ones(g, dtype=np.int64), -128 * ones((n, g), dtype=np.int64),
        full[:, :1], INT32_MAX * ones(n, dtype=np.int64) - 5, max_m, 0, True)
    return items


def layer_items(layers: dict, names: list[str], cfg: GqmvConfig, seed: int) -> list[GqmvItem]:
    """One job per named layer of a checkpoint (``model.export.load_npz``), random int8 input.

    Rows are padded to a multiple of LANES with zero rows (as the host driver does); layers
    whose group or width the engine cannot take are refused with the reason.
    """
    rng = np.random.default_rng(seed)
    items = []
    for name in names:
        if name not in layers:
            raise KeyError(f"layer {name!r} not in the checkpoint (has {sorted(layers)[:4]}...)")
        op = layers[name]
        n, k = op.w.shape
        if op.group != cfg.group or k > cfg.max_len:
            raise ValueError(f"layer {name}: group {op.group}, K={k} does not fit engine "
                             f"{cfg.name} (group {cfg.group}, max_len {cfg.max_len})")
        w, gscale, bias, mult = pad_rows(op.w.astype(np.int64), op.gscale.astype(np.int64),
                                         op.bias.astype(np.int64), op.mult.astype(np.int64),
                                         cfg.lanes)
        x = np.clip(np.rint(rng.normal(0, 40, size=k)), -128, 127).astype(np.int64)
        items.append(GqmvItem(name, x=x, w=w, gscale=gscale, bias=bias, mult=mult,
                              shift=op.shift, group=op.group, out_int32=op.out_int32,
                              tag="layer"))
    return items
