"""Shared fixtures: the shipped checkpoint, its stored calibration and the validation stream."""

from __future__ import annotations

import os

# Before torch is imported (see model/__init__.py): OpenMP's spinning wait makes 2-thread steps
# many times slower on a shared machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import pytest
import torch

from model.corpus_tokens import token_ids
from model.deployed import BASE_CKPT, stored_calibration
from model.gpt import GPT
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
