"""Shared fixtures: the shipped checkpoint, its stored calibration, the validation stream and a
factory of small random models."""

from __future__ import annotations

import os
from collections.abc import Callable

# Before torch is imported (see model/__init__.py): OpenMP's spinning wait makes 2-thread steps
# many times slower on a shared machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import pytest
import torch

from model.corpus_tokens import token_ids
from model.deployed import BASE_CKPT, stored_calibration
from model.gpt import GPT, GPTConfig
from model.quant import Calibration
from model.train import NUM_THREADS, load_checkpoint


@pytest.fixture(scope="session", autouse=True)
def _threads() -> None:
    torch.set_num_threads(NUM_THREADS)


@pytest.fixture(scope="session")
def shipped() -> GPT:
    model, _ = load_checkpoint(BASE_CKPT)
    return model


@pytest.fixture(scope="session")
def val_ids() -> np.ndarray:
    return token_ids("val")


@pytest.fixture(scope="session")
def calib() -> Calibration:
    """The shipped calibration (model/artifacts/base_calib.json): exact on every CPU."""
    return stored_calibration()


@pytest.fixture
def tiny_gpt() -> Callable[..., GPT]:
    """Factory of small random GPTs in eval mode (2 layers, 32 wide, 16 positions, 64 symbols):
    ``tiny_gpt(n_head=2, seed=0)`` seeds torch with ``seed`` first, so a test gets the same
    weights on every run (the mechanics tests of compression and quantization use it)."""
    def make(n_head: int = 2, seed: int = 0) -> GPT:
        torch.manual_seed(seed)
        config = GPTConfig(n_layer=2, n_head=n_head, n_embd=32, block_size=16, vocab_size=64)
        return GPT(config).eval()
    return make
