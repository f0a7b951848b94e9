"""The deployed model: shipped checkpoint, its calibration, and the integer model the chip runs.

One definition of "what ships" (checkpoint, calibration windows from the end of the *training*
split, the group-64 W8A8 recipe) so that ``model.build`` (which exports it), ``model.bench``,
the DV golden model and the tests cannot drift apart.

The integer contract is bit-exact on every CPU: the shipped calibration
(``artifacts/base_calib.json``, exact ``float.hex`` values) is *stored*, never re-measured to
reproduce the shipped operands, and the derivation (checkpoint, stored calibration) ->
operands uses only float64 elementwise numpy and exact rational rounding
(``model.integer_model``). Calibrating again runs float32 torch reductions whose last bits
depend on the CPU's kernel path; that is a ``make model`` step
(``python -m model.build --reuse-checkpoint --recalibrate``) checked against tolerances
(:func:`recalibration_drift`), never for equality.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gptnano.paths import REPO_ROOT
from model.corpus_tokens import token_ids
from model.export import load_npz
from model.gpt import GPT
from model.integer_model import IntegerGPT
from model.quant import (
    Calibration,
    CalibrationFileError,
    QuantRecipe,
    calibrate,
    calibration_ids,
    load_calibration,
    save_calibration,
)
from model.train import load_checkpoint

ARTIFACTS = REPO_ROOT / "model" / "artifacts"
BASE_CKPT = ARTIFACTS / "base.pt"
INT8_NPZ = ARTIFACTS / "base_int8.npz"
CALIB_JSON = ARTIFACTS / "base_calib.json"
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


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def stored_calibration(ckpt: Path = BASE_CKPT, path: Path = CALIB_JSON) -> Calibration:
    """The shipped calibration; refuses one that was made for another checkpoint."""
    calib, about = load_calibration(path)
    want = about.get("checkpoint_sha256")
    if want != file_sha256(ckpt):
        raise CalibrationFileError(f"{path} belongs to checkpoint {want}, not to {ckpt}; "
                                   "re-run `make model`")
    return calib


def store_calibration(calib: Calibration, ckpt: Path = BASE_CKPT,
                      path: Path = CALIB_JSON) -> Path:
    return save_calibration(calib, path, checkpoint_sha256=file_sha256(ckpt),
                            windows=CALIB_WINDOWS,
                            text="last CALIB_WINDOWS blocks of the training split",
                            made_by="python -m model.build")


def fresh_calibration(model: GPT) -> Calibration:
    """Calibrate again on this machine (float32 torch: last bits depend on the CPU)."""
    return calibrate(model, calibration_windows(model))


def build_deployed(model: GPT | None = None, calib: Calibration | None = None) -> Deployed:
    """The integer model built from `model` (default: the shipped checkpoint) and `calib`
    (default: the stored calibration of the shipped checkpoint)."""
    if model is None:
        model, _ = load_checkpoint(BASE_CKPT)
    if calib is None:
        calib = stored_calibration()
    recipe = export_recipe()
    return Deployed(model, calib, recipe, IntegerGPT(model, calib, recipe))


def contract_digest(integer: IntegerGPT) -> str:
    """sha256 over every integer the integer model holds (operands, LayerNorm, attention,
    embedding and residual-unit parameters), in a fixed order, with dtypes and shapes."""
    h = hashlib.sha256()
    for key, arr in sorted(integer.contract_arrays().items()):
        a = np.ascontiguousarray(arr)
        h.update(f"{key}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


@dataclass
class Drift:
    """How far a recalibrated integer model is from the shipped one (see the tolerances)."""

    maxima_moved: int  # calibrated maxima that differ at all
    mult_lsb: int  # largest |mult - shipped mult| over all rows
    bias_rel: float  # largest |bias - shipped bias| / max(1, |shipped bias|)
    weights_changed: int  # weight codes and group scales that differ
    shift_changed: list[str]  # layers whose shift differs

    def problems(self, mult_lsb: int = 1, bias_rel: float = 1e-4) -> list[str]:
        out = []
        if self.mult_lsb > mult_lsb:
            out.append(f"mult moved by {self.mult_lsb} LSB (> {mult_lsb})")
        if self.bias_rel > bias_rel:
            out.append(f"bias moved by {self.bias_rel:.2e} relative (> {bias_rel:.0e})")
        if self.weights_changed:
            out.append(f"{self.weights_changed} weight codes / group scales changed")
        if self.shift_changed:
            out.append(f"shift changed in {', '.join(self.shift_changed)}")
        return out


def recalibration_drift(model: GPT, stored: Calibration, fresh: Calibration) -> Drift:
    """How far the operands of ``model`` move when ``stored`` is replaced by ``fresh``."""
    recipe = export_recipe()
    shipped, moved = IntegerGPT(model, stored, recipe), IntegerGPT(model, fresh, recipe)
    mult_lsb, bias_rel, changed, shifts = 0, 0.0, 0, []
    for name, a in shipped.layers.items():
        b = moved.layers[name]
        mult_lsb = max(mult_lsb, int(np.abs(a.mult.astype(np.int64) - b.mult).max()))
        ref = np.maximum(1, np.abs(a.bias.astype(np.int64)))
        bias_rel = max(bias_rel, float((np.abs(a.bias.astype(np.int64) - b.bias) / ref).max()))
        changed += int((a.w != b.w).sum() + (a.gscale != b.gscale).sum())
        if a.shift != b.shift:
            shifts.append(name)
    maxima_moved = sum(fresh.absmax[k] != v for k, v in stored.absmax.items())
    return Drift(maxima_moved, mult_lsb, bias_rel, changed, shifts)


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


def integer_logits(integer: IntegerGPT, x: torch.Tensor) -> torch.Tensor:
    """Real-valued logits [B, T, V] of the integer model for token ids [B, T], as a tensor
    (the shape ``model.evaluate.evaluate`` takes)."""
    return torch.from_numpy(np.stack([integer.logits(row) for row in x.numpy()]))


def compare_with_fake_quant(d: Deployed, n_windows: int) -> dict[str, float]:
    """Integer model vs the fake-quant PyTorch forward on the first ``n_windows`` validation
    windows: both perplexities and the share of positions with the same argmax."""
    from model.evaluate import evaluate
    from model.quant import quant_forward

    val = token_ids("val")
    block = d.model.config.block_size

    def fake_quant_logits(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return quant_forward(d.model, x, d.calib, d.recipe).double()

    same = total = 0
    for w in range(n_windows):
        ids = torch.from_numpy(np.asarray(val[w * block:(w + 1) * block], dtype=np.int64))
        a = integer_logits(d.integer, ids[None]).argmax(-1)
        b = fake_quant_logits(ids[None]).argmax(-1)
        same += int((a == b).sum())
        total += a.numel()
    ppl_int = evaluate(lambda x: integer_logits(d.integer, x), val, block,
                       max_windows=n_windows).ppl
    ppl_fq = evaluate(fake_quant_logits, val, block, max_windows=n_windows).ppl
    return {"windows": n_windows, "tokens": total, "integer_ppl": round(ppl_int, 3),
            "fake_quant_ppl": round(ppl_fq, 3), "argmax_agreement": round(same / total, 4)}


def kernel_paths() -> dict[str, str]:
    """The float kernel paths this process runs on (torch's ATen capability, numpy's SIMD
    dispatch), so a test can show that two processes really took different paths."""
    from numpy._core._multiarray_umath import __cpu_features__ as npy_features

    return {"torch": torch.backends.cpu.get_cpu_capability(),
            "numpy": " ".join(sorted(k for k, on in npy_features.items() if on))}


def main(argv: list[str] | None = None) -> int:
    """``python -m model.deployed``: print the contract digest of the shipped model derived on
    this machine (JSON), optionally with the drift of a fresh calibration made here."""
    import argparse
    import json

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--recalibrate", action="store_true",
                    help="also calibrate anew here and report the drift from the shipped model")
    ap.add_argument("--compare-windows", type=int, metavar="N",
                    help="also compare the integer model with the fake-quant PyTorch model on "
                         "the first N validation windows (perplexity, argmax agreement)")
    args = ap.parse_args(argv)
    try:
        d = build_deployed()
        out: dict = {"digest": contract_digest(d.integer), "paths": kernel_paths()}
        if args.recalibrate:
            drift = recalibration_drift(d.model, d.calib, fresh_calibration(d.model))
            out["drift"] = {**drift.__dict__, "problems": drift.problems()}
        if args.compare_windows:
            out["compare"] = compare_with_fake_quant(d, args.compare_windows)
    except (CalibrationFileError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
