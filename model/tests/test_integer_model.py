"""The integer-only reference against the fake-quant PyTorch model, the matvec hook, exports."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from model import integer_ops as iops
from model.deployed import EXPORT_GROUP, INT8_NPZ
from model.export import load_npz, read_hex, save_npz, write_hex
from model.integer_model import IntegerGPT
from model.quant import QuantRecipe, quant_forward

WINDOWS = 6


@pytest.fixture(scope="module")
def integer(shipped, calib) -> IntegerGPT:
    return IntegerGPT(shipped, calib, QuantRecipe(group=EXPORT_GROUP))


def test_integer_model_matches_fake_quant(shipped, calib, integer, val_ids) -> None:
    block = shipped.config.block_size
    nll_int = nll_fq = 0.0
    agree = count = 0
    for w in range(WINDOWS):
        ids = np.asarray(val_ids[w * block:w * block + block + 1], dtype=np.int64)
        y = torch.from_numpy(ids[1:])
        li = torch.from_numpy(integer.logits(ids[:-1]))
        with torch.no_grad():
            lf = quant_forward(shipped, torch.from_numpy(ids[None, :-1]), calib,
                               QuantRecipe(group=EXPORT_GROUP))[0].double()
        nll_int += F.cross_entropy(li, y, reduction="sum").item()
        nll_fq += F.cross_entropy(lf, y, reduction="sum").item()
        agree += int((li.argmax(-1) == lf.argmax(-1)).sum())
        count += len(y)
    ppl_int, ppl_fq = np.exp(nll_int / count), np.exp(nll_fq / count)
    assert abs(ppl_int / ppl_fq - 1) <= 0.005, (ppl_int, ppl_fq)
    assert agree / count >= 0.95, agree / count


def test_layers_expose_contract_operands(integer) -> None:
    cfg = integer.config
    assert len(integer.layers) == 4 * cfg.n_layer + 1
    for name, op in integer.layers.items():
        n, k = op.w.shape
        assert op.w.dtype == np.int8 and op.gscale.dtype == np.uint16
        assert op.bias.dtype == np.int32 and op.mult.dtype == np.uint16
        assert op.gscale.shape == (n, k // op.group) and op.group == EXPORT_GROUP
        assert op.out_int32 == (name.endswith("c_proj") or name == "lm_head")
        assert 0 <= op.shift <= iops.MAX_SHIFT
    assert integer.layers["lm_head"].w.shape == (cfg.vocab_size, cfg.n_embd)


def test_matvec_hook_sees_every_product_and_can_replace_it(integer, val_ids) -> None:
    tokens = np.asarray(val_ids[:9], dtype=np.int64)
    calls: list[tuple[str, tuple]] = []

    def matvec(name: str, x: np.ndarray) -> np.ndarray:
        assert x.dtype == np.int8 and x.ndim == 1
        calls.append((name, x.shape))
        return integer.layers[name](x)  # what an RTL simulation would return

    routed = integer.forward(tokens, matvec=matvec)
    assert np.array_equal(routed, integer.forward(tokens))
    assert len(calls) == len(tokens) * len(integer.layers)
    with pytest.raises(ValueError, match="expected"):
        integer.forward(tokens[:2], matvec=lambda n, x: np.zeros(3, np.int8))
    wrong = integer.forward(tokens, matvec=lambda n, x: integer.layers[n](x) * 0)
    assert not np.array_equal(wrong, routed)  # the hook really is used


def test_shipped_npz_is_what_the_checkpoint_exports(integer, tmp_path) -> None:
    shipped_ops = load_npz(INT8_NPZ)
    assert shipped_ops.keys() == integer.layers.keys()
    for name, op in integer.layers.items():
        s = shipped_ops[name]
        for field in ("w", "gscale", "bias", "mult"):
            assert np.array_equal(getattr(s, field), getattr(op, field)), (name, field)
            assert getattr(s, field).dtype == getattr(op, field).dtype
        assert (s.shift, s.group, s.out_int32) == (op.shift, op.group, op.out_int32)
    path = save_npz(integer, tmp_path / "x.npz")
    data = dict(np.load(path))
    del data["lm_head.mult"]
    np.savez(tmp_path / "bad.npz", **data)
    with pytest.raises(ValueError, match="lm_head"):
        load_npz(tmp_path / "bad.npz")


def test_hex_files_round_trip(integer, tmp_path) -> None:
    manifest = write_hex(integer, tmp_path)
    assert manifest.is_file()
    op = integer.layers["h0.attn.c_attn"]
    d = tmp_path / "h0.attn.c_attn"
    assert np.array_equal(read_hex(d / "w.hex", 8, True), op.w.ravel())
    assert np.array_equal(read_hex(d / "gscale.hex", 16, False), op.gscale.ravel())
    assert np.array_equal(read_hex(d / "bias.hex", 32, True), op.bias)
    assert np.array_equal(read_hex(d / "mult.hex", 16, False), op.mult)
    first = (d / "w.hex").read_text().split()[0]
    assert len(first) == 2 and int(first, 16) == int(op.w[0, 0]) & 0xFF


def test_integer_model_rejects_bad_tokens(integer) -> None:
    with pytest.raises(ValueError, match="1-D"):
        integer.forward(np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="1-D"):
        integer.forward(np.zeros(integer.config.block_size + 1, dtype=np.int64))
