"""Quality gates on the shipped checkpoint and the recorded experiments.

The INT8 PTQ gate is re-measured in the fast suite (test_quant.py). INT4-QAT and 50% pruning need
minutes of fine-tuning: the fast tests check the numbers ``make model`` recorded in
experiments.csv for the shipped checkpoint, and the ``slow`` tests redo the fine-tuning from the
shipped checkpoint and measure again.
"""

from __future__ import annotations

import csv

import pytest

from model import compress
from model.build import EXPERIMENTS_CSV, INT4_GROUP, PRUNE_SPARSITY, PRUNE_STEPS, QAT_STEPS
from model.evaluate import evaluate
from model.quant import QuantRecipe, quant_forward

VARIANTS = ("fp32", "w8a8", "w8a8_group", "smoothquant", "int4_qat", "pruned_heads", "pruned_50")
GATES = {"w8a8": 1.02, "int4_qat": 1.10, "pruned_50": 1.05}


def _rows() -> dict[str, dict[str, str]]:
    with EXPERIMENTS_CSV.open() as fh:
        return {r["variant"]: r for r in csv.DictReader(fh)}


def test_experiments_csv_has_every_variant_with_consistent_sizes() -> None:
    rows = _rows()
    assert set(VARIANTS) <= rows.keys()
    fp32 = rows["fp32"]
    assert int(fp32["bytes"]) == 4 * int(fp32["params"])
    assert int(rows["w8a8"]["bytes"]) < int(fp32["bytes"]) / 3
    assert int(rows["int4_qat"]["bytes"]) < int(rows["w8a8"]["bytes"])
    assert int(rows["pruned_heads"]["params"]) < int(fp32["params"])
    assert int(rows["pruned_50"]["params"]) < 0.7 * int(fp32["params"])
    for r in rows.values():
        assert 1.0 < float(r["val_ppl"]) < 1024 and 0.0 < float(r["next_token_acc"]) < 1.0


@pytest.mark.parametrize("variant", sorted(GATES))
def test_recorded_gate(variant: str) -> None:
    rows = _rows()
    ratio = float(rows[variant]["val_ppl"]) / float(rows["fp32"]["val_ppl"])
    assert ratio <= GATES[variant], f"{variant}: ppl ratio {ratio:.4f} > {GATES[variant]}"


@pytest.mark.slow
def test_int4_qat_gate_remeasured(shipped, calib, val_ids, tmp_path) -> None:
    recipe = QuantRecipe(w_bits=4, group=INT4_GROUP)
    tuned = compress.qat(shipped, calib, recipe, QAT_STEPS, tmp_path)
    block = shipped.config.block_size
    fp32 = evaluate(shipped, val_ids, block).ppl
    int4 = evaluate(lambda x: quant_forward(tuned, x, calib, recipe), val_ids, block).ppl
    assert int4 <= GATES["int4_qat"] * fp32, (fp32, int4)


@pytest.mark.slow
def test_pruning_gate_remeasured(shipped, val_ids, tmp_path) -> None:
    pruned = compress.magnitude_prune(shipped, PRUNE_SPARSITY, PRUNE_STEPS, tmp_path)
    assert abs(compress.sparsity_of(pruned) - PRUNE_SPARSITY) < 1e-3
    block = shipped.config.block_size
    fp32 = evaluate(shipped, val_ids, block).ppl
    assert evaluate(pruned, val_ids, block).ppl <= GATES["pruned_50"] * fp32
