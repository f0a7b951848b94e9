"""The shipped base model as the integer golden model and as the fake-quant PyTorch model.

Rebuilds the deployed ``IntegerGPT`` with :mod:`model.deployed` (the same definition
``model.build`` exports) from the shipped checkpoint and its *stored* calibration, which gives
the same integers on every CPU, and refuses to continue if the rebuilt operands differ from the
shipped ``base_int8.npz``: the RTL is then checked against the weights that are actually
shipped.
"""

from __future__ import annotations

import numpy as np
import torch

from model.deployed import Deployed, build_deployed, check_matches_shipped
from model.quant import quant_forward
from model.tokenizer import load_tokenizer


class Golden(Deployed):
    """The deployed model plus the float fake-quant forward the headline test compares to."""

    def fake_quant_logits(self, tokens: np.ndarray) -> np.ndarray:
        """Logits [T, V] of the fake-quant PyTorch forward (float)."""
        with torch.no_grad():
            idx = torch.as_tensor(np.asarray(tokens, dtype=np.int64))[None]
            return quant_forward(self.model, idx, self.calib, self.recipe)[0].numpy()


def load_golden() -> Golden:
    d = build_deployed()
    check_matches_shipped(d.integer)
    return Golden(d.model, d.calib, d.recipe, d.integer)


def prompt_tokens(text: str) -> np.ndarray:
    return np.asarray(load_tokenizer().encode(text).ids, dtype=np.int64)
