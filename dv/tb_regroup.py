"""cocotb test module (run by dv/tests/test_l1_g2.py): the headline forward pass on an engine
whose GROUP is smaller than the model's scale group.

The shipped integer model has one uint16 scale per 64 weights (``model.deployed``'s export
group); an engine with GROUP G (G divides 64) takes one scale per G weights. The contract's
total is sum_g acc[n, g] * gscale[n, g] (``model.integer_ops.gqmv_total``, exact integers), so
sending each 64-group's scale with every one of its 64/G beats gives the same total: the host
repeats the scale, nothing is rounded. ``GqmvForwardRegroupTest`` is ``dv.tb_gqmv``'s
``GqmvForwardTest`` with that repetition in its ``matvec``; the reference logits come from the
unmodified integer golden model, and the scoreboard checks every job at GROUP G.
"""

from __future__ import annotations

import json

import numpy as np
import pyuvm

from dv.payload import pad_rows, unpack_y
from dv.tb_gqmv import GqmvForwardTest
from dv.uvm.items import GqmvItem
from dv.uvm.sequences import ItemListSeq


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

    async def stimulus(self) -> None:
        from cocotb.task import bridge, resume

        from dv.golden import load_golden, prompt_tokens

        golden = load_golden()
        tokens = prompt_tokens(self.knobs.prompt)
        geo = self.geo

        async def hw_matvec(name: str, x):
            op = golden.integer.layers[name]
            n = op.w.shape[0]
            gscale = regroup(op.gscale.astype(np.int64), op.group, geo.group)
            w, gscale, bias, mult = pad_rows(op.w.astype(np.int64), gscale,
                                             op.bias.astype(np.int64),
                                             op.mult.astype(np.int64), geo.lanes)
            item = GqmvItem(name, x=np.asarray(x, dtype=np.int64), w=w, gscale=gscale,
                            bias=bias, mult=mult, shift=op.shift, group=geo.group,
                            out_int32=op.out_int32, tag="forward")
            await self.run_seq(ItemListSeq(name, [item]), 1)
            beats = [await self.tap.beats.get() for _ in range(w.shape[0] // geo.lanes)]
            return unpack_y(beats, geo)[:n]

        forward = bridge(golden.integer.forward)
        hw = await forward(tokens, matvec=resume(hw_matvec))
        ref = golden.integer.forward(tokens)
        fq = golden.fake_quant_logits(tokens)
        groups = sorted({int(op.group) for op in golden.integer.layers.values()})
        result = {"config": self.knobs.params["name"], "prompt": self.knobs.prompt,
                  "tokens": tokens.tolist(), "model_groups": groups,
                  "engine_group": geo.group,
                  "logits_identical": bool(np.array_equal(hw, ref)),
                  "argmax_rtl": hw.argmax(-1).tolist(),
                  "argmax_fake_quant": fq.argmax(-1).tolist(),
                  "jobs": self.sent}
        (self.knobs.out_path() / "forward.json").write_text(json.dumps(result, indent=2))
        assert result["logits_identical"], "RTL logits differ from the integer golden model"
        assert result["argmax_rtl"][-1] == result["argmax_fake_quant"][-1], result
