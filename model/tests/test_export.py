"""TorchScript and ONNX exports agree with PyTorch (small random model, onnxruntime)."""

from __future__ import annotations

import numpy as np
import torch

from model.export import check_onnx, check_torchscript, export_onnx, export_torchscript
from model.gpt import GPT, GPTConfig


def test_torchscript_and_onnx_match_pytorch(tmp_path) -> None:
    torch.manual_seed(0)
    model = GPT(GPTConfig(n_layer=2, n_head=2, n_embd=32, block_size=16, vocab_size=64)).eval()
    tokens = np.random.default_rng(0).integers(0, 64, size=(1, 16))
    assert check_torchscript(model, export_torchscript(model, tmp_path / "m.ts.pt"), tokens) < 1e-5
    assert check_onnx(model, export_onnx(model, tmp_path / "m.onnx"), tokens) < 1e-4
