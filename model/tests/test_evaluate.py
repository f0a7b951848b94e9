"""Evaluation protocol and generation."""

from __future__ import annotations

import math

import numpy as np
import torch

from model.evaluate import evaluate, generate_text, windows


def test_windows_predict_every_token_but_the_first_once() -> None:
    ids = np.arange(1000)
    wins = windows(ids, 128)
    targets = np.concatenate([t for _, t in wins])
    assert targets.tolist() == list(range(1, 1000))
    for x, y in wins:
        assert np.array_equal(x[1:], y[:-1]) and len(x) <= 128


def test_uniform_model_has_perplexity_vocab_size() -> None:
    vocab = 37

    def uniform(x: torch.Tensor) -> torch.Tensor:
        return torch.zeros(*x.shape, vocab)

    ids = np.random.default_rng(0).integers(0, vocab, size=777)
    m = evaluate(uniform, ids, 64)
    assert m.count == 776
    assert math.isclose(m.ppl, vocab, rel_tol=1e-5)


def test_shipped_model_metrics_and_generation(shipped, val_ids) -> None:
    m = evaluate(shipped, val_ids, shipped.config.block_size, max_windows=64)
    assert m.count == 64 * shipped.config.block_size
    assert m.ppl < 150 and m.accuracy > 0.2  # a trained model, far from uniform (1024)
    greedy = generate_text(shipped, "The jury said", 20, temperature=0.0)
    assert greedy.startswith("The jury said") and len(greedy) > len("The jury said") + 20
    assert greedy == generate_text(shipped, "The jury said", 20, temperature=0.0)
    a = generate_text(shipped, "The jury said", 20, temperature=0.8, seed=5)
    assert a == generate_text(shipped, "The jury said", 20, temperature=0.8, seed=5)
