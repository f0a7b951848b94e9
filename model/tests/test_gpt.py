"""Model definition: exact parameter counts, causality, per-layer heads, config errors."""

from __future__ import annotations

import pytest
import torch

from model.gpt import GPT, GPTConfig, load_config


@pytest.mark.parametrize(("name", "expected"), [("tiny", 440_160), ("base", 1_139_072)])
def test_parameter_count_is_exact(name: str, expected: int) -> None:
    cfg, _ = load_config(name)
    v, t, c, layers = cfg.vocab_size, cfg.block_size, cfg.n_embd, cfg.n_layer
    by_hand = v * c + t * c + 2 * c + layers * (12 * c * c + 13 * c)  # all heads kept
    assert GPT(cfg).num_params() == cfg.param_formula() == by_hand == expected


def test_pruned_head_config_counts() -> None:
    cfg = GPTConfig(n_layer=2, n_head=4, n_embd=32, block_size=8, vocab_size=50,
                    layer_heads=[1, 3])
    model = GPT(cfg)
    assert model.h[0].attn.c_attn.weight.shape == (3 * 8, 32)
    assert model.h[1].attn.c_proj.weight.shape == (32, 24)
    assert model.num_params() == cfg.param_formula()


def test_causal_and_tied() -> None:
    torch.manual_seed(0)
    model = GPT(GPTConfig(n_layer=2, n_head=2, n_embd=16, block_size=12, vocab_size=40)).eval()
    assert model.lm_head.weight is model.wte.weight
    x = torch.randint(0, 40, (1, 12))
    y = x.clone()
    y[0, 8:] = (y[0, 8:] + 1) % 40
    with torch.no_grad():
        a, b = model(x), model(y)
    assert torch.allclose(a[0, :8], b[0, :8], atol=1e-6)
    assert not torch.allclose(a[0, 8:], b[0, 8:])
    with pytest.raises(ValueError, match="block_size"):
        model(torch.zeros(1, 13, dtype=torch.long))


def test_bad_configs_are_named(tmp_path) -> None:
    with pytest.raises(ValueError, match="divisible"):
        GPTConfig(n_embd=30, n_head=4)
    with pytest.raises(ValueError, match="layer_heads"):
        GPTConfig(n_layer=2, layer_heads=[4])
    bad = tmp_path / "bad.yaml"
    bad.write_text("model:\n  n_embd: 64\n  widht: 3\n")
    with pytest.raises(ValueError, match="widht"):
        GPTConfig.from_yaml(bad)
    with pytest.raises(FileNotFoundError, match="no model config"):
        load_config("nonexistent")
