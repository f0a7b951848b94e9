"""cocotb test module (run by dv/tests/test_l1_g2.py): the headline forward pass on an engine
whose GROUP is smaller than the model's scale group.

The shipped integer model has one uint16 scale per 64 weights (``model.deployed``'s export
group); an engine with GROUP G (G divides 64) takes one scale per G weights. The contract's
total is sum_g acc[n, g] * gscale[n, g] (``model.integer_ops.gqmv_total``, exact integers), so
sending each 64-group's scale with every one of its 64/G beats gives the same total: the host
repeats the scale, nothing is rounded. ``GqmvForwardRegroupTest`` is ``dv.tb_gqmv``'s
``GqmvForwardTest`` with that repetition (its ``job_scales`` hook); the reference logits come
from the unmodified integer golden model, and the scoreboard checks every job at GROUP G.
"""

from __future__ import annotations

import numpy as np
import pyuvm

from dv.tb_gqmv import GqmvForwardTest


def regroup(gscale: np.ndarray, group: int, engine_group: int) -> np.ndarray:
    """Scales per ``engine_group`` weights from scales per ``group`` weights (each repeated
    group / engine_group times); refuses a group the engine's GROUP does not divide."""
    if group % engine_group:
        raise ValueError(f"scale group {group} is not a multiple of the engine's GROUP "
                         f"{engine_group}")
    return np.repeat(gscale, group // engine_group, axis=1)


@pyuvm.test()
class GqmvForwardRegroupTest(GqmvForwardTest):
    """The headline forward pass with the model's group scales repeated to the engine's GROUP."""

    def job_scales(self, op) -> tuple[np.ndarray, int]:
        return regroup(op.gscale.astype(np.int64), op.group, self.geo.group), self.geo.group

    def result_extra(self, golden) -> dict:
        groups = sorted({int(op.group) for op in golden.integer.layers.values()})
        return {"model_groups": groups, "engine_group": self.geo.group}
