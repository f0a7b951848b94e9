"""Weight/activation quantization, the fake-quant forward, SmoothQuant, and the INT8 PTQ gate."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from model.evaluate import evaluate
from model.quant import (
    GSCALE_MAX_INT8_OUT,
    QuantRecipe,
    calibrate,
    layer_gscale_max,
    quant_forward,
    quantize_weight,
    smooth_quant,
)


@pytest.mark.parametrize(("bits", "group"), [(8, 32), (8, 8), (4, 8)])
def test_quantize_weight_error_within_half_a_step(bits: int, group: int) -> None:
    torch.manual_seed(0)
    w = torch.randn(12, 32) * torch.linspace(0.01, 2.0, 32)  # columns of very different range
    wq = quantize_weight(w, bits, group, GSCALE_MAX_INT8_OUT)
    qmax = 2 ** (bits - 1) - 1
    assert np.abs(wq.q).max() <= qmax
    assert wq.gscale.min() >= 1 and wq.gscale.max() == GSCALE_MAX_INT8_OUT
    step = torch.from_numpy(wq.scale_matrix()).float()
    assert torch.all((wq.dequant() - w).abs() <= step / 2 + 1e-6)
    if group == 32:  # one group per row: a constant gscale
        assert np.all(wq.gscale == GSCALE_MAX_INT8_OUT)


def test_group_scales_help_uneven_columns() -> None:
    torch.manual_seed(0)
    w = torch.randn(16, 64) * torch.cat([torch.full((32,), 0.01), torch.full((32,), 1.0)])
    err_row = (quantize_weight(w, 4, 64, 65535).dequant() - w)[:, :32].abs().mean()
    err_grp = (quantize_weight(w, 4, 32, 65535).dequant() - w)[:, :32].abs().mean()
    assert err_grp < err_row / 5  # measured ~10x: small columns no longer round to zero


def test_float_path_of_quant_forward_is_the_model(tiny_gpt) -> None:
    model = tiny_gpt(n_head=2, seed=0)
    x = torch.randint(0, 64, (2, 16))
    with torch.no_grad():
        assert torch.allclose(quant_forward(model, x), model(x), atol=1e-5)


def test_smoothquant_preserves_the_float_function(tiny_gpt) -> None:
    model = tiny_gpt(n_head=2, seed=0)
    with torch.no_grad():  # make LayerNorm outputs uneven so the smoothing is not trivial
        for blk in model.h:
            blk.ln_1.weight.copy_(torch.linspace(0.1, 5.0, 32))
    x = torch.randint(0, 64, (4, 16))
    calib = calibrate(model, x.numpy())
    smoothed = smooth_quant(copy.deepcopy(model), calib, alpha=0.5)
    assert not torch.allclose(smoothed.h[0].ln_1.weight, model.h[0].ln_1.weight)
    with torch.no_grad():
        assert torch.allclose(smoothed(x), model(x), atol=1e-4)


def test_bias_headroom_lowers_gscale_max() -> None:
    w = torch.full((2, 8), 0.5)
    assert layer_gscale_max("h0.mlp.c_fc", w, torch.zeros(2), 0.1, 8) == 65535
    assert layer_gscale_max("h0.attn.c_proj", w, None, 0.1, 8) == 4095
    big = layer_gscale_max("h0.mlp.c_fc", w, torch.tensor([0.0, 500.0]), 0.001, 8)
    assert 255 <= big < 65535


def test_int8_ptq_gate_on_shipped_checkpoint(shipped, calib, val_ids) -> None:
    """W8A8 PTQ (per-channel int8 weights, calibrated int8 activations): <= +2% perplexity,
    measured over the whole validation split."""
    block = shipped.config.block_size
    fp32 = evaluate(shipped, val_ids, block)
    w8a8 = evaluate(lambda x: quant_forward(shipped, x, calib, QuantRecipe()), val_ids, block)
    assert w8a8.ppl <= 1.02 * fp32.ppl, (fp32.ppl, w8a8.ppl)
    assert np.isfinite(w8a8.ppl) and w8a8.accuracy > 0.9 * fp32.accuracy
