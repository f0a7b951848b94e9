"""Exports: TorchScript, ONNX (checked with onnxruntime), integer operands (npz) and $readmemh hex.

Outputs (large ones under ``build/model/``, not committed):

    build/model/export/base.ts.pt      TorchScript (traced), input int64 [1, T], T = block_size
    build/model/export/base.onnx       ONNX, same input, output logits [1, T, V]
    model/artifacts/base_int8.npz      integer GQMV operands of every Linear (committed, small):
                                       <layer>.w int8 [N,K], .gscale uint16 [N,K/G],
                                       .bias int32 [N], .mult uint16 [N],
                                       .shift, .group, .out_int32 (0-d arrays)
    build/model/hex/<layer>/*.hex      the same operands for Verilog testbenches (below)

Hex layout (``$readmemh``, one word per line, no address markers, two's complement for signed):

    w.hex       N*K lines of 2 hex digits, row-major: line n*K + k holds w[n, k] (int8)
    gscale.hex  N*(K/G) lines of 4 hex digits: line n*(K/G) + g holds gscale[n, g] (uint16)
    bias.hex    N lines of 8 hex digits: bias[n] (int32)
    mult.hex    N lines of 4 hex digits: mult[n] (uint16)
    meta.json   {"N", "K", "group", "shift", "out_int32"}
    build/model/hex/manifest.json lists the layers in execution order with their shapes.

For out_int32 layers ``mult``/``shift`` are not used by the GQMV (its output is the int32
total); they convert the total to the residual or logit unit afterwards (see integer_model.py).
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import torch

from model.gpt import GPT
from model.integer_model import GqmvOperands, IntegerGPT


def hex_lines(values: np.ndarray, bits: int) -> str:
    """Two's complement hex words of ``bits`` width, one per line."""
    digits = bits // 4
    v = np.asarray(values, dtype=np.int64).ravel() & ((1 << bits) - 1)
    return "".join(f"{int(x):0{digits}x}\n" for x in v)


def write_hex(ig: IntegerGPT, out_dir: Path) -> Path:
    """Write every layer's operands as $readmemh files plus a manifest; returns the manifest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = []
    for name, op in ig.layers.items():
        d = out_dir / name
        d.mkdir(parents=True, exist_ok=True)
        n, k = op.w.shape
        (d / "w.hex").write_text(hex_lines(op.w, 8))
        (d / "gscale.hex").write_text(hex_lines(op.gscale, 16))
        (d / "bias.hex").write_text(hex_lines(op.bias, 32))
        (d / "mult.hex").write_text(hex_lines(op.mult, 16))
        meta = {"N": n, "K": k, "group": op.group, "shift": op.shift,
                "out_int32": op.out_int32}
        (d / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
        manifest.append({"layer": name, **meta})
    path = out_dir / "manifest.json"
    path.write_text(json.dumps(manifest, indent=1) + "\n")
    return path


def read_hex(path: Path, bits: int, signed: bool) -> np.ndarray:
    """Inverse of ``hex_lines`` (used by tests and testbench helpers)."""
    v = np.array([int(line, 16) for line in Path(path).read_text().split()], dtype=np.int64)
    if signed:
        v = np.where(v >= 1 << (bits - 1), v - (1 << bits), v)
    return v


NPZ_DATE = (1980, 1, 1, 0, 0, 0)  # the zip format's epoch: the file's bytes carry no wall time


def save_npz(ig: IntegerGPT, path: Path) -> Path:
    """The operands as a compressed ``.npz`` whose bytes depend only on the operands:
    ``np.savez_compressed`` stamps each member with the current time, so it is written here
    member by member in sorted order with a fixed date, then moved into place atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key, arr in sorted(ig.operand_arrays().items()):
            info = zipfile.ZipInfo(f"{key}.npy", date_time=NPZ_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.asanyarray(arr), allow_pickle=False)
    os.replace(tmp, path)
    return path


def load_npz(path: Path) -> dict[str, GqmvOperands]:
    """``base_int8.npz`` -> {layer: GqmvOperands}, with a clear error on a malformed file."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path} not found; run `make model`")
    data = np.load(path)
    layers = sorted({k.rsplit(".", 1)[0] for k in data.files})
    out = {}
    for name in layers:
        try:
            out[name] = GqmvOperands(
                w=data[f"{name}.w"], gscale=data[f"{name}.gscale"], bias=data[f"{name}.bias"],
                mult=data[f"{name}.mult"], shift=int(data[f"{name}.shift"]),
                group=int(data[f"{name}.group"]), out_int32=bool(data[f"{name}.out_int32"]),
            )
        except KeyError as exc:
            raise ValueError(f"{path}: layer {name} lacks key {exc}") from exc
    return out


class _Logits(torch.nn.Module):
    """Export wrapper: plain tensor in, tensor out."""

    def __init__(self, model: GPT) -> None:
        super().__init__()
        self.model = model

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.model(idx)


def export_torchscript(model: GPT, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    example = torch.zeros(1, model.config.block_size, dtype=torch.long)
    traced = torch.jit.trace(_Logits(model).eval(), example)
    traced.save(str(path))
    return path


def export_onnx(model: GPT, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    example = torch.zeros(1, model.config.block_size, dtype=torch.long)
    torch.onnx.export(_Logits(model).eval(), (example,), str(path), input_names=["idx"],
                      output_names=["logits"], dynamo=True, external_data=False)
    return path


def check_onnx(model: GPT, path: Path, tokens: np.ndarray, atol: float = 1e-4) -> float:
    """Max |onnxruntime - PyTorch| on ``tokens`` [1, T]; raises if above ``atol``."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"idx": tokens.astype(np.int64)})[0]
    with torch.no_grad():
        want = model(torch.from_numpy(tokens.astype(np.int64))).numpy()
    err = float(np.abs(got - want).max())
    if err > atol:
        raise AssertionError(f"ONNX {path} differs from PyTorch by {err} > {atol}")
    return err


def check_torchscript(model: GPT, path: Path, tokens: np.ndarray, atol: float = 1e-5) -> float:
    ts = torch.jit.load(str(path))
    x = torch.from_numpy(tokens.astype(np.int64))
    with torch.no_grad():
        err = float((ts(x) - model(x)).abs().max())
    if err > atol:
        raise AssertionError(f"TorchScript {path} differs from PyTorch by {err} > {atol}")
    return err
