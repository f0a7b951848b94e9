"""The deployed model: shipped checkpoint, its calibration, and the integer model the chip runs.

One definition of "what ships" (checkpoint, calibration windows from the end of the *training*
split, the group-64 W8A8 recipe) so that ``model.build`` (which exports it), ``model.bench``,
the DV golden model and the tests cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gptnano.paths import REPO_ROOT
from model.corpus_tokens import token_ids
from model.export import load_npz
from model.gpt import GPT
from model.integer_model import IntegerGPT
from model.quant import Calibration, QuantRecipe, calibrate, calibration_ids
from model.train import load_checkpoint

ARTIFACTS = REPO_ROOT / "model" / "artifacts"
BASE_CKPT = ARTIFACTS / "base.pt"
INT8_NPZ = ARTIFACTS / "base_int8.npz"
CALIB_WINDOWS = 64
EXPORT_GROUP = 64  # group size of the exported integer operands (divides 128 and 512)


def calibration_windows(model: GPT) -> np.ndarray:
    """The activation-calibration text: the last CALIB_WINDOWS blocks of the training split."""
    return calibration_ids(token_ids("train"), model.config.block_size, CALIB_WINDOWS)


def export_recipe() -> QuantRecipe:
    """The quantization recipe of the exported integer operands."""
    return QuantRecipe(group=EXPORT_GROUP)


@dataclass
class Deployed:
    model: GPT
    calib: Calibration
    recipe: QuantRecipe
    integer: IntegerGPT


def build_deployed(model: GPT | None = None, calib: Calibration | None = None) -> Deployed:
    """The integer model built from `model` (default: the shipped checkpoint) and `calib`
    (default: calibrated on :func:`calibration_windows`)."""
    if model is None:
        model, _ = load_checkpoint(BASE_CKPT)
    if calib is None:
        calib = calibrate(model, calibration_windows(model))
    recipe = export_recipe()
    return Deployed(model, calib, recipe, IntegerGPT(model, calib, recipe))


def check_matches_shipped(integer: IntegerGPT, npz: Path = INT8_NPZ) -> None:
    """Raise ValueError (naming the file and the layer) unless `integer` has exactly the
    operands of the shipped export, so hardware is checked against the weights that ship."""
    shipped = load_npz(npz)
    if sorted(shipped) != sorted(integer.layers):
        raise ValueError(f"{npz}: layers differ from the rebuilt model")
    for name, op in shipped.items():
        mine = integer.layers[name]
        same = all(np.array_equal(getattr(op, f), getattr(mine, f))
                   for f in ("w", "gscale", "bias", "mult")) and op.shift == mine.shift
        if not same:
            raise ValueError(f"{npz}: layer {name} differs from the model rebuilt from "
                             f"{BASE_CKPT}; re-run `make model`")
