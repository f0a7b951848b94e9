"""The shipped base model as the integer golden model and as the fake-quant PyTorch model.

Rebuilds ``IntegerGPT`` exactly as ``model.build`` does for its export (checkpoint, calibration
windows from the end of the training stream, group-64 recipe) and refuses to continue if the
rebuilt operands differ from the shipped ``base_int8.npz``: the RTL is then checked against the
weights that are actually shipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from model.build import BASE_CKPT, CALIB_WINDOWS, EXPORT_GROUP, INT8_NPZ
from model.corpus_tokens import token_ids
from model.export import load_npz
from model.gpt import GPT
from model.integer_model import IntegerGPT
from model.quant import Calibration, QuantRecipe, calibrate, calibration_ids, quant_forward
from model.tokenizer import load_tokenizer
from model.train import load_checkpoint


@dataclass
class Golden:
    model: GPT
    calib: Calibration
    recipe: QuantRecipe
    integer: IntegerGPT

    def fake_quant_logits(self, tokens: np.ndarray) -> np.ndarray:
        """Logits [T, V] of the fake-quant PyTorch forward (float)."""
        with torch.no_grad():
            idx = torch.as_tensor(np.asarray(tokens, dtype=np.int64))[None]
            return quant_forward(self.model, idx, self.calib, self.recipe)[0].numpy()


def load_golden() -> Golden:
    model, _ = load_checkpoint(BASE_CKPT)
    windows = calibration_ids(token_ids("train"), model.config.block_size, CALIB_WINDOWS)
    calib = calibrate(model, windows)
    recipe = QuantRecipe(group=EXPORT_GROUP)
    ig = IntegerGPT(model, calib, recipe)
    shipped = load_npz(INT8_NPZ)
    if sorted(shipped) != sorted(ig.layers):
        raise ValueError(f"{INT8_NPZ}: layers differ from the rebuilt model")
    for name, op in shipped.items():
        mine = ig.layers[name]
        same = all(np.array_equal(getattr(op, f), getattr(mine, f))
                   for f in ("w", "gscale", "bias", "mult")) and op.shift == mine.shift
        if not same:
            raise ValueError(f"{INT8_NPZ}: layer {name} differs from the model rebuilt from "
                             f"{BASE_CKPT}; re-run `make model`")
    return Golden(model, calib, recipe, ig)


def prompt_tokens(text: str) -> np.ndarray:
    return np.asarray(load_tokenizer().encode(text).ids, dtype=np.int64)
