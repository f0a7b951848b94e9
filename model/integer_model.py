"""Integer-only reference GPT (numpy): the golden model the accelerator is checked against.

Every matrix product of a Linear layer goes through the GQMV contract of ``integer_ops`` (or a
caller-supplied ``matvec``, e.g. an RTL simulation); everything else is integer arithmetic with
the rounding documented in ``integer_ops``. Float appears only while *building* the operands from
a trained model and when *reporting* logits in real units for perplexity.

Number formats (per model: s_r = 2**-resid_frac residual unit, s_l = 2**-LOGIT_FRAC logit unit):

    residual stream r      int32 codes (int64 arithmetic), r * s_r is the real value
    embedding              r = rescale(q_wte[tok] * gscale[tok, group], emb_mult[tok], emb_shift)
                           + wpe_q[pos]            (wte is the int8 lm_head weight: tied)
    LayerNorm -> int8      integer_ops.layernorm_int8 with the next Linear's input scale
    c_attn (int8 out)      q | k | v codes, each segment requantized to its own scale (per-row mult)
    attention              scores = q . k (exact), p = integer_ops.softmax_q15 (causal),
                           o = sat8(rescale(sum_j p_j v_j, omult, oshift))  -> c_proj input
    c_proj (int32 out)     r += rescale(total, mult[n], shift): for out_int32 layers mult/shift
                           convert the GQMV total to the residual unit (applied after the GQMV)
    c_fc (int8 out)        requantized to the MLP c_proj input scale, then ReLU = max(0, y)
    lm_head (int32 out)    logits = rescale(total, mult[n], shift), in units of s_l

Interface for hardware co-simulation: ``IntegerGPT.forward(tokens, matvec=None)`` calls
``matvec(layer_name, x_int8[K]) -> y`` (int8 [N], or int32 [N] for out_int32 layers) once per
token and layer; ``IntegerGPT.layers[name]`` holds that layer's ``GqmvOperands``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import torch

from model import integer_ops as iops
from model.gpt import GPT
from model.quant import (
    Calibration,
    QuantRecipe,
    WeightQuant,
    get_linear,
    is_int32_out,
    layer_gscale_max,
    linear_names,
    quantize_weight,
)

LOGIT_FRAC = 16
RESID_TARGET_BITS = 20  # the calibrated residual maximum maps to about 2**20 codes
RESID_LIMIT = 2**25  # beyond this LayerNorm's sum of squares could leave int64: refuse

# log2(e) as the float64 literal: math.log2(math.e) goes through libm, whose last bit may
# depend on the CPU's code path.
LOG2_E = 1.4426950408889634

MatVec = Callable[[str, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class GqmvOperands:
    """One Linear as the GQMV engine sees it (shapes/dtypes per ``integer_ops``)."""

    w: np.ndarray  # int8 [N, K]
    gscale: np.ndarray  # uint16 [N, K/G]
    bias: np.ndarray  # int32 [N]
    mult: np.ndarray  # uint16 [N]
    shift: int
    group: int
    out_int32: bool

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return iops.gqmv(x, self.w, self.gscale, self.bias, self.mult, self.shift, self.group,
                         self.out_int32)

    def rows(self, x: np.ndarray) -> np.ndarray:
        return iops.gqmv_rows(x, self.w, self.gscale, self.bias, self.mult, self.shift,
                              self.group, self.out_int32)


@dataclass(frozen=True)
class LayerNormInt:
    gmult: np.ndarray  # int64 [C], |gmult| < 2**15
    bterm: np.ndarray  # int64 [C]
    gshift: int
    eps_q: int

    def __call__(self, r: np.ndarray) -> np.ndarray:
        return iops.layernorm_int8(r, self.gmult, self.bterm, self.gshift, self.eps_q)


@dataclass(frozen=True)
class AttentionInt:
    n_head: int
    head_dim: int
    smult: int  # softmax exponent multiplier (see integer_ops.softmax_q15)
    sshift: int
    omult: int  # Q15 probabilities x v codes -> c_proj input codes
    oshift: int


def _exact(values: np.ndarray | float) -> list[Fraction]:
    """float64 values, flattened, as exact rationals (the conversion rounds nothing)."""
    return iops.rationals(np.asarray(values, dtype=np.float64))[0]


def _scalar_multiplier(real: Fraction) -> tuple[int, int]:
    mult, shift = iops.quantize_multiplier([real])
    return int(mult[0]), shift


def _ln_int(ln: torch.nn.LayerNorm, s_out: float, s_r: float) -> LayerNormInt:
    """Integer LayerNorm operands; every rounding exact on the float64 parameters and scales."""
    out = Fraction(s_out)
    gamma = [g / out for g in _exact(ln.weight.detach().double().numpy())]
    gmult, gshift = iops.signed_multiplier(gamma)
    unit = 2 ** (gshift + iops.LN_NORM_BITS) / out
    bterm = np.array([iops.round_half_even(b * unit)
                      for b in _exact(ln.bias.detach().double().numpy())], dtype=np.int64)
    eps_q = max(1, iops.round_half_even(Fraction(ln.eps) / Fraction(s_r) ** 2))
    return LayerNormInt(gmult, bterm, gshift, eps_q)


class IntegerGPT:
    """Integer GPT built from a float GPT, its calibration and a quantization recipe."""

    def __init__(self, model: GPT, calib: Calibration, recipe: QuantRecipe) -> None:
        if recipe.a_bits != 8:
            raise ValueError("the integer model uses int8 activations (a_bits=8)")
        cfg = model.config
        self.config = cfg
        self.recipe = recipe
        # floor(RESID_TARGET_BITS - log2(max |resid|)), exactly (no libm log2)
        self.resid_frac = iops.floor_log2(
            Fraction(2**RESID_TARGET_BITS) / Fraction(calib.absmax["resid"]))
        s_r = 2.0**-self.resid_frac
        s_l = 2.0**-LOGIT_FRAC
        sc = calib.scale
        self.layers: dict[str, GqmvOperands] = {}
        self._wq: dict[str, WeightQuant] = {}
        for name in linear_names(model):
            lin = get_linear(model, name)
            s_x = sc(name + ".in")
            n = lin.weight.shape[0]
            if name.endswith("c_attn"):
                base = name.rsplit(".", 1)[0]
                inner = n // 3
                s_y = np.repeat([sc(base + ".q"), sc(base + ".k"), sc(base + ".v")], inner)
            elif name.endswith("c_fc"):
                s_y = np.full(n, sc(name.rsplit(".", 2)[0] + ".mlp.c_proj.in"))
            elif name == "lm_head":
                s_y = np.full(n, s_l)
            else:
                s_y = np.full(n, s_r)
            self.layers[name] = self._operands(name, lin, s_x, s_y, recipe)
        head = self.layers["lm_head"]
        head_wq = self._wq["lm_head"]  # real value of one q * gscale step, per row, over s_r
        self.emb_mult, self.emb_shift = iops.quantize_multiplier(
            [u / head_wq.gscale_max / Fraction(s_r) for u in _exact(head_wq.row_scale)])
        self.wpe_q = np.rint(model.wpe.weight.detach().double().numpy() / s_r).astype(np.int64)
        self.ln1, self.ln2, self.attn = [], [], []
        for i, blk in enumerate(model.h):
            p = f"h{i}.attn."
            self.ln1.append(_ln_int(blk.ln_1, sc(p + "c_attn.in"), s_r))
            self.ln2.append(_ln_int(blk.ln_2, sc(f"h{i}.mlp.c_fc.in"), s_r))
            s_q, s_k, s_v = (Fraction(sc(p + x)) for x in ("q", "k", "v"))
            smult, sshift = _scalar_multiplier(
                s_q * s_k / Fraction(math.sqrt(cfg.head_dim)) * Fraction(LOG2_E)
                * 2**iops.EXP_FRAC_BITS)
            omult, oshift = _scalar_multiplier(
                s_v / 2**iops.PROB_BITS / Fraction(sc(p + "c_proj.in")))
            self.attn.append(AttentionInt(blk.attn.n_head, cfg.head_dim, smult, sshift,
                                          omult, oshift))
        self.ln_f = _ln_int(model.ln_f, sc("lm_head.in"), s_r)
        self.logit_unit = s_l
        self._head_w = head.w.astype(np.int64)
        self._head_gscale = np.repeat(head.gscale.astype(np.int64), head.group, axis=1)

    # -- building ------------------------------------------------------------------------------
    def _operands(self, name: str, lin: torch.nn.Linear, s_x: float, s_y: np.ndarray,
                  recipe: QuantRecipe) -> GqmvOperands:
        """GQMV operands of one Linear. The weight codes come from float64 elementwise numpy
        (:func:`quantize_weight`); bias and multiplier are rounded in exact rationals of the
        float64 scales, so no CPU's reduction order or libm can move them across a rounding
        boundary."""
        k = lin.weight.shape[1]
        gmax = layer_gscale_max(name, lin.weight, lin.bias, s_x, recipe.w_bits)
        wq = quantize_weight(lin.weight, recipe.w_bits, recipe.group_for(k), gmax)
        self._wq[name] = wq
        # real value of one step of ``total``, per row
        unit = [Fraction(s_x) * r / gmax for r in _exact(wq.row_scale)]
        if lin.bias is not None:
            bias = np.array([iops.round_half_even(b / u)
                             for b, u in zip(_exact(lin.bias.detach().double().numpy()), unit,
                                             strict=True)], dtype=np.int64)
            if np.abs(bias).max() > iops.INT32_MAX:
                raise ValueError(f"{name}: bias does not fit int32 at this scale")
        else:
            bias = np.zeros(len(unit), dtype=np.int64)
        mult, shift = iops.quantize_multiplier(
            [u / y for u, y in zip(unit, _exact(s_y), strict=True)])
        return GqmvOperands(
            w=wq.q.astype(np.int8), gscale=wq.gscale.astype(np.uint16),
            bias=bias.astype(np.int32), mult=mult.astype(np.uint16), shift=int(shift),
            group=wq.group, out_int32=is_int32_out(name),
        )

    # -- running -------------------------------------------------------------------------------
    def _linear(self, name: str, x: np.ndarray, matvec: MatVec | None) -> np.ndarray:
        """x int8 [T, K] -> GQMV output rows [T, N] (int8, or int32 for out_int32 layers)."""
        op = self.layers[name]
        if matvec is None:
            return op.rows(x)
        out = [np.asarray(matvec(name, row)) for row in x]
        want = np.int32 if op.out_int32 else np.int8
        for y in out:
            if y.shape != (op.w.shape[0],):
                raise ValueError(f"matvec({name!r}) returned shape {y.shape}, "
                                 f"expected ({op.w.shape[0]},)")
        return np.stack(out).astype(want)

    def _to_unit(self, name: str, total: np.ndarray) -> np.ndarray:
        op = self.layers[name]
        return iops.rescale(total, op.mult.astype(np.int64)[None], op.shift)

    def embed(self, tokens: np.ndarray) -> np.ndarray:
        """Residual codes [T, C] of the token + position embeddings."""
        t = len(tokens)
        emb = self._head_w[tokens] * self._head_gscale[tokens]
        r = iops.rescale(emb, self.emb_mult.astype(np.int64)[tokens][:, None], self.emb_shift)
        return r + self.wpe_q[:t]

    def _attention(self, i: int, qkv: np.ndarray) -> np.ndarray:
        a = self.attn[i]
        t = qkv.shape[0]
        inner = a.n_head * a.head_dim
        q, k, v = (qkv[:, j * inner:(j + 1) * inner].astype(np.int64)
                   .reshape(t, a.n_head, a.head_dim).transpose(1, 0, 2) for j in range(3))
        scores = np.einsum("htd,hsd->hts", q, k)
        causal = np.tril(np.ones((t, t), dtype=bool))[None].repeat(a.n_head, axis=0)
        p = iops.softmax_q15(scores, causal, a.smult, a.sshift)
        o = np.einsum("hts,hsd->htd", p, v)
        return iops.sat8(iops.rescale(o, a.omult, a.oshift)).transpose(1, 0, 2).reshape(t, inner)

    def _check_resid(self, r: np.ndarray, where: str) -> None:
        if np.abs(r).max() >= RESID_LIMIT:
            raise OverflowError(f"residual stream leaves its range at {where}: "
                                f"max |r| = {np.abs(r).max()} >= {RESID_LIMIT}")

    def forward(self, tokens: np.ndarray, matvec: MatVec | None = None) -> np.ndarray:
        """Token ids [T] (T <= block_size) -> logit codes int64 [T, V] (real = code * logit_unit).

        With ``matvec`` every Linear is computed one token (one matrix-vector product) at a time
        through it; without, through ``integer_ops.gqmv_rows`` (the same arithmetic, batched).
        """
        tokens = np.asarray(tokens, dtype=np.int64)
        if tokens.ndim != 1 or not 0 < len(tokens) <= self.config.block_size:
            raise ValueError(f"tokens must be 1-D with 1..{self.config.block_size} entries")
        r = self.embed(tokens)
        for i in range(len(self.ln1)):
            p = f"h{i}."
            qkv = self._linear(p + "attn.c_attn", self.ln1[i](r), matvec)
            o = self._attention(i, qkv)
            r = r + self._to_unit(p + "attn.c_proj", self._linear(p + "attn.c_proj", o, matvec))
            self._check_resid(r, p + "attn")
            h = np.maximum(self._linear(p + "mlp.c_fc", self.ln2[i](r), matvec), 0).astype(np.int8)
            r = r + self._to_unit(p + "mlp.c_proj", self._linear(p + "mlp.c_proj", h, matvec))
            self._check_resid(r, p + "mlp")
        z = self.ln_f(r)
        return self._to_unit("lm_head", self._linear("lm_head", z, matvec))

    def logits(self, tokens: np.ndarray, matvec: MatVec | None = None) -> np.ndarray:
        """Real-valued logits (float64) for evaluation only."""
        return self.forward(tokens, matvec) * self.logit_unit

    def operand_arrays(self) -> dict[str, np.ndarray]:
        """``<layer>.w/.gscale/.bias/.mult/.shift/.group/.out_int32`` for every Linear."""
        out: dict[str, np.ndarray] = {}
        for name, op in self.layers.items():
            out[f"{name}.w"] = op.w
            out[f"{name}.gscale"] = op.gscale
            out[f"{name}.bias"] = op.bias
            out[f"{name}.mult"] = op.mult
            out[f"{name}.shift"] = np.array(op.shift, dtype=np.int64)
            out[f"{name}.group"] = np.array(op.group, dtype=np.int64)
            out[f"{name}.out_int32"] = np.array(op.out_int32)
        return out

    def contract_arrays(self) -> dict[str, np.ndarray]:
        """Every integer of the model: the GQMV operands plus LayerNorm, attention, embedding
        and residual-unit parameters (what must be bit-identical on every machine)."""
        out = self.operand_arrays()
        lns = [(f"h{i}.ln_1", ln) for i, ln in enumerate(self.ln1)]
        lns += [(f"h{i}.ln_2", ln) for i, ln in enumerate(self.ln2)] + [("ln_f", self.ln_f)]
        for name, ln in lns:
            out[f"{name}.gmult"], out[f"{name}.bterm"] = ln.gmult, ln.bterm
            out[f"{name}.gshift_eps"] = np.array([ln.gshift, ln.eps_q], dtype=np.int64)
        for i, a in enumerate(self.attn):
            out[f"h{i}.attn.softmax"] = np.array(
                [a.n_head, a.head_dim, a.smult, a.sshift, a.omult, a.oshift], dtype=np.int64)
        out["emb.mult"] = self.emb_mult
        out["emb.shift_resid_frac"] = np.array([self.emb_shift, self.resid_frac], dtype=np.int64)
        out["wpe_q"] = self.wpe_q
        return out
