"""Fake-quantized GPT forward, activation calibration and weight quantization (PTQ and QAT).

The fake-quant forward quantizes at exactly the points where the integer model
(``model/integer_model.py``) holds int8 codes, so the two agree up to the integer approximations
of LayerNorm/softmax and fixed-point rounding:

    h{i}.attn.c_attn.in   LayerNorm-1 output            int8, per-tensor scale
    h{i}.attn.q/.k/.v     c_attn output, per segment     int8, per-tensor scales
    h{i}.attn.c_proj.in   attention output              int8
    h{i}.mlp.c_fc.in      LayerNorm-2 output            int8
    h{i}.mlp.c_proj.in    ReLU output (= c_fc output)   int8 (ReLU commutes with symmetric rounding)
    lm_head.in            final LayerNorm output        int8
    resid                 residual stream               int32 fixed point (only its range is used)

Weights: symmetric int8 (or int4) per output row, optionally per group of G input columns. A
group's scale is row_scale[n] * gscale[n, g] / gscale_max with integer gscale, exactly as the
GQMV contract stores it; the dequantized weights used here are built from those integers, so the
fake-quant model and the integer model use identical weights. Layers whose output is int32
(``c_proj`` of attention and MLP, ``lm_head``) use gscale_max = 4095 instead of 65535, which keeps
their 32-bit totals ~16x away from saturation (their group-scale precision is still 12 bits).

Activation scales are calibrated as the absolute maximum over held-out *training* text (the
last documents of the training stream, never the validation split), divided by 127.
For QAT the same forward runs with straight-through estimators (STE) on weights and activations.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from model.gpt import GPT

GSCALE_MAX_INT8_OUT = 65535
GSCALE_MAX_INT32_OUT = 4095
CALIBRATION_FORMAT = 1  # version of the stored-calibration JSON


def is_int32_out(layer: str) -> bool:
    """Layers whose GQMV output stays int32: residual writers and the LM head."""
    return layer.endswith("c_proj") or layer == "lm_head"


def linear_names(model: GPT) -> list[str]:
    names = []
    for i in range(len(model.h)):
        names += [f"h{i}.attn.c_attn", f"h{i}.attn.c_proj", f"h{i}.mlp.c_fc", f"h{i}.mlp.c_proj"]
    return names + ["lm_head"]


def get_linear(model: GPT, name: str) -> torch.nn.Linear:
    """``h3.mlp.c_fc`` (our layer names) -> the module ``h.3.mlp.c_fc``."""
    return model.get_submodule(re.sub(r"^h(\d+)\.", r"h.\1.", name))  # type: ignore[return-value]


@dataclass(frozen=True)
class QuantRecipe:
    """How to quantize: weight bits, group size (None = one group per row), activation bits."""

    w_bits: int = 8
    group: int | None = None
    a_bits: int = 8

    def group_for(self, k: int) -> int:
        g = self.group or k
        if k % g:
            raise ValueError(f"group size {g} does not divide the input width {k}")
        return g


@dataclass
class WeightQuant:
    """Integer weight of one Linear: w_hat = q * row_scale[n] * gscale[n, g] / gscale_max.

    numpy arrays: these numbers end up in the shipped operands, and every step that makes them
    is an elementwise float64 operation (correctly rounded by IEEE 754 on every CPU) or an
    exact max, so they do not depend on the machine's SIMD path the way a torch reduction can.
    """

    q: np.ndarray  # int64 codes [N, K]
    row_scale: np.ndarray  # float64 [N]
    gscale: np.ndarray  # int64 [N, K/G] in [1, gscale_max]
    group: int
    gscale_max: int

    def scale_matrix(self) -> np.ndarray:
        """The effective per-element scale [N, K] (float64)."""
        s = self.row_scale[:, None] * self.gscale / self.gscale_max
        return np.repeat(s, self.group, axis=1)

    def dequant(self) -> torch.Tensor:
        """The dequantized weight as a float32 tensor (what the fake-quant forward uses)."""
        return torch.from_numpy(self.q * self.scale_matrix()).float()


def _float64(t: torch.Tensor | np.ndarray) -> np.ndarray:
    """A parameter as a float64 numpy array (exact: float32 -> float64 loses nothing)."""
    if isinstance(t, torch.Tensor):
        return t.detach().double().cpu().numpy()
    return np.asarray(t, dtype=np.float64)


def quantize_weight(w: torch.Tensor | np.ndarray, bits: int, group: int,
                    gscale_max: int) -> WeightQuant:
    """Symmetric quantization of ``w`` [N, K] to ``bits`` with group-wise scales (see docstring)."""
    qmax = 2 ** (bits - 1) - 1
    wd = _float64(w)
    n, k = wd.shape
    if k % group:
        raise ValueError(f"group {group} does not divide K={k}")
    gmax = np.abs(wd).reshape(n, k // group, group).max(axis=2)  # [N, G]
    gmax = np.where(gmax > 0, gmax, 1e-12)
    real = gmax / qmax
    row = real.max(axis=1)
    gscale = np.clip(np.rint(real / row[:, None] * gscale_max), 1, gscale_max).astype(np.int64)
    wq = WeightQuant(np.zeros((n, k), dtype=np.int64), row, gscale, group, gscale_max)
    wq.q = np.clip(np.rint(wd / wq.scale_matrix()), -qmax, qmax).astype(np.int64)
    return wq


class _STE(torch.autograd.Function):
    """Forward the quantized value, pass the gradient straight through."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, xq: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return xq

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        return grad, None


def fake_quant_act(x: torch.Tensor, scale: float, bits: int = 8) -> torch.Tensor:
    qmax = 2 ** (bits - 1) - 1
    xq = torch.clamp(torch.round(x.detach() / scale), -qmax - 1, qmax) * scale
    return _STE.apply(x, xq) if x.requires_grad else xq


def layer_gscale_max(
    layer: str, w: torch.Tensor | np.ndarray, bias: torch.Tensor | np.ndarray | None,
    s_x: float, bits: int,
) -> int:
    """gscale_max of a layer: 65535 (int8 out) or 4095 (int32 out), lowered if needed so that
    the integer bias round(b / (s_x * row_scale / gscale_max)) stays below 2**30 (half the int32
    range); never below 255. Shared by the fake-quant and the integer model. The limit is a
    floor, so it is taken in exact rational arithmetic (a float product could land on either
    side of an integer depending on how it was evaluated)."""
    gmax = GSCALE_MAX_INT32_OUT if is_int32_out(layer) else GSCALE_MAX_INT8_OUT
    if bias is None:
        return gmax
    row = np.abs(_float64(w)).max(axis=1) / (2 ** (bits - 1) - 1)
    b = np.abs(_float64(bias))
    ok = b > 0
    if not bool(ok.any()):
        return gmax
    scale = 2**30 * Fraction(s_x)
    limit = min(math.floor(scale * Fraction(r) / Fraction(v))
                for r, v in zip(row[ok].tolist(), b[ok].tolist(), strict=True))
    return max(255, min(gmax, limit))


def fake_quant_weight(
    w: torch.Tensor, recipe: QuantRecipe, layer: str, bias: torch.Tensor | None = None,
    s_x: float = 1.0,
) -> torch.Tensor:
    gmax = layer_gscale_max(layer, w, bias, s_x, recipe.w_bits)
    wq = quantize_weight(w, recipe.w_bits, recipe.group_for(w.shape[1]), gmax).dequant()
    return _STE.apply(w, wq) if w.requires_grad else wq


@dataclass
class Calibration:
    """Per-tensor absolute maxima (and per-channel maxima of Linear inputs) of activations."""

    absmax: dict[str, float] = field(default_factory=dict)
    channel_max: dict[str, torch.Tensor] = field(default_factory=dict)

    def scale(self, name: str, bits: int = 8) -> float:
        return max(self.absmax[name], 1e-8) / (2 ** (bits - 1) - 1)

    def observe(self, name: str, x: torch.Tensor) -> None:
        ch = x.detach().abs().reshape(-1, x.shape[-1]).amax(dim=0)
        if name in self.channel_max:
            ch = torch.maximum(ch, self.channel_max[name])
        self.channel_max[name] = ch
        self.absmax[name] = float(ch.max())


class CalibrationFileError(ValueError):
    """A stored calibration is missing, malformed, or belongs to another checkpoint."""


def save_calibration(calib: Calibration, path: Path, **about: object) -> Path:
    """Write the per-tensor maxima exactly (``float.hex``), with ``about`` (e.g. the checkpoint's
    sha256), atomically. Per-channel maxima are not stored: only SmoothQuant uses them, and it
    recalibrates anyway."""
    payload = {"format": CALIBRATION_FORMAT, **about,
               "absmax": {k: float(v).hex() for k, v in sorted(calib.absmax.items())}}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1) + "\n")
    os.replace(tmp, path)
    return path


def load_calibration(path: Path) -> tuple[Calibration, dict]:
    """A stored calibration -> (Calibration with the exact maxima, the file's other fields)."""
    path = Path(path)
    if not path.is_file():
        raise CalibrationFileError(f"{path} not found; run `make model`")
    try:
        payload = json.loads(path.read_text())
        fmt = payload.get("format")
        absmax = {k: float.fromhex(v) for k, v in payload.pop("absmax").items()}
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CalibrationFileError(f"{path}: not a calibration file ({exc})") from None
    if fmt != CALIBRATION_FORMAT:
        raise CalibrationFileError(f"{path}: format {fmt!r}, expected {CALIBRATION_FORMAT}")
    return Calibration(absmax=absmax), payload


def _layernorm(x: torch.Tensor, ln: torch.nn.LayerNorm) -> torch.Tensor:
    return F.layer_norm(x, ln.normalized_shape, ln.weight, ln.bias, ln.eps)


def quant_forward(
    model: GPT,
    idx: torch.Tensor,
    calib: Calibration | None = None,
    recipe: QuantRecipe | None = None,
    observe: Calibration | None = None,
) -> torch.Tensor:
    """The GPT forward with quantization points (see module docstring).

    ``recipe`` None = float (with ``observe`` set, it records activation ranges instead).
    """

    def act(name: str, x: torch.Tensor) -> torch.Tensor:
        if observe is not None:
            observe.observe(name, x)
        if recipe is None or calib is None:
            return x
        return fake_quant_act(x, calib.scale(name, recipe.a_bits), recipe.a_bits)

    def weight(name: str) -> torch.Tensor:
        lin = get_linear(model, name)
        if recipe is None or calib is None:
            return lin.weight
        return fake_quant_weight(lin.weight, recipe, name, lin.bias,
                                 calib.scale(name + ".in", recipe.a_bits))

    def linear(name: str, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, weight(name), get_linear(model, name).bias)

    cfg = model.config
    _, t = idx.shape
    wte = weight("lm_head")  # tied: the embedding table is the (quantized) head weight
    x = F.embedding(idx, wte) + model.wpe.weight[:t]
    for i, blk in enumerate(model.h):
        p = f"h{i}."
        a = act(p + "attn.c_attn.in", _layernorm(x, blk.ln_1))
        q, k, v = linear(p + "attn.c_attn", a).chunk(3, dim=-1)
        q, k, v = act(p + "attn.q", q), act(p + "attn.k", k), act(p + "attn.v", v)
        q, k, v = blk.attn.split_qkv(torch.cat([q, k, v], dim=-1))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        y = y.transpose(1, 2).reshape(idx.shape[0], t, blk.attn.n_head * cfg.head_dim)
        x = x + linear(p + "attn.c_proj", act(p + "attn.c_proj.in", y))
        if observe is not None:
            observe.observe("resid", x)
        m = act(p + "mlp.c_fc.in", _layernorm(x, blk.ln_2))
        h = act(p + "mlp.c_proj.in", F.relu(linear(p + "mlp.c_fc", m)))
        x = x + linear(p + "mlp.c_proj", h)
        if observe is not None:
            observe.observe("resid", x)
    z = act("lm_head.in", _layernorm(x, model.ln_f))
    if observe is not None:
        observe.observe("resid", model.wpe.weight[:t] + F.embedding(idx, wte))
    return F.linear(z, wte)


def calibration_ids(train_ids: np.ndarray, block: int, n_windows: int) -> np.ndarray:
    """Held-out training text for calibration: the last ``n_windows`` blocks of the train stream."""
    need = n_windows * block
    if len(train_ids) < need:
        raise ValueError(f"training stream too short for {n_windows} windows of {block}")
    return np.asarray(train_ids[-need:], dtype=np.int64).reshape(n_windows, block)


@torch.no_grad()
def calibrate(model: GPT, windows: np.ndarray, batch: int = 16) -> Calibration:
    """Activation ranges of the float model over ``windows`` [n, T] of token ids."""
    calib = Calibration()
    model.eval()
    for i in range(0, len(windows), batch):
        quant_forward(model, torch.from_numpy(windows[i:i + batch]), observe=calib)
    return calib


@torch.no_grad()
def smooth_quant(model: GPT, calib: Calibration, alpha: float = 0.5) -> GPT:
    """SmoothQuant (Xiao et al. 2023), folded into the preceding LayerNorm, in place.

    For ln_1 -> c_attn and ln_2 -> c_fc: s_j = max|X_j|**alpha / max|W[:, j]|**(1 - alpha);
    the LayerNorm's weight and bias are divided by s (so its output X/s is easier to quantize)
    and the Linear's columns multiplied by s (so the product is unchanged in exact arithmetic).
    Recalibrate afterwards: the LayerNorm outputs changed.
    """
    for i, blk in enumerate(model.h):
        for ln, lin, key in ((blk.ln_1, blk.attn.c_attn, f"h{i}.attn.c_attn.in"),
                             (blk.ln_2, blk.mlp.c_fc, f"h{i}.mlp.c_fc.in")):
            xmax = calib.channel_max[key].clamp(min=1e-5)
            wmax = lin.weight.abs().amax(dim=0).clamp(min=1e-5)
            s = (xmax.pow(alpha) / wmax.pow(1 - alpha)).clamp(min=1e-2, max=1e2)
            ln.weight.div_(s)
            ln.bias.div_(s)
            lin.weight.mul_(s[None, :])
    return model


def quantized_bytes(model: GPT, recipe: QuantRecipe) -> int:
    """Storage of the quantized model as the integer model holds it: packed weight codes
    (w_bits each), gscale uint16, bias int32 and mult uint16 per Linear row, plus the float
    model's LayerNorm and position tables counted at 4 bytes (the integer model keeps them as
    int32/int64 fixed point of the same count or less)."""
    total = 0
    for name in linear_names(model):
        lin = get_linear(model, name)
        n, k = lin.weight.shape
        g = recipe.group_for(k)
        total += math.ceil(n * k * recipe.w_bits / 8) + 2 * n * (k // g) + 4 * n + 2 * n
    other = sum(p.numel() for n, p in model.named_parameters()
                if "ln" in n or "wpe" in n)
    return total + 4 * other
