"""Head removal and magnitude pruning mechanics (small random models)."""

from __future__ import annotations

import numpy as np
import torch

from model.compress import (
    apply_masks,
    magnitude_masks,
    prunable,
    prune_heads,
    remove_heads,
    sparsity_of,
)


def test_removing_a_head_equals_silencing_it(tiny_gpt) -> None:
    model = tiny_gpt(n_head=4, seed=1)
    x = torch.randint(0, 64, (2, 16))
    small = remove_heads(model, [[0, 2, 3], [0, 1, 2, 3]])
    assert small.h[0].attn.c_attn.weight.shape == (3 * 24, 32)
    assert small.h[0].attn.c_proj.weight.shape == (32, 24)
    assert small.num_params() == model.num_params() - 4 * 8 * 32 - 3 * 8
    with torch.no_grad():
        model.h[0].attn.c_proj.weight[:, 8:16] = 0  # head 1 of layer 0 contributes nothing
        assert torch.allclose(small(x), model(x), atol=1e-5)
    same = remove_heads(model, [[0, 1, 2, 3]] * 2)
    with torch.no_grad():
        assert torch.allclose(same(x), model(x), atol=1e-6)


def test_prune_heads_removes_the_requested_number(tiny_gpt) -> None:
    model = tiny_gpt(n_head=4, seed=1)
    windows = np.random.default_rng(0).integers(0, 64, size=(4, 17))
    small, keep = prune_heads(model, windows, 5)
    assert sum(len(k) for k in keep) == 3 and all(len(k) >= 1 for k in keep)
    assert small.config.layer_heads == [len(k) for k in keep]


def test_magnitude_masks_prune_exactly_half_of_each_layer(tiny_gpt) -> None:
    model = tiny_gpt(n_head=4, seed=1)
    masks = magnitude_masks(model, 0.5)
    apply_masks(model, masks)
    for name, p in prunable(model).items():
        assert int((p == 0).sum()) == p.numel() // 2, name
        kept = p[masks[name]].abs().min()
        assert kept >= p.abs().max() * 0 and kept > 0
    assert abs(sparsity_of(model) - 0.5) < 1e-9
    assert model.wte.weight.count_nonzero() == model.wte.weight.numel()  # embeddings dense
