"""cocotb test module (run by dv.sim in the simulator process): the pyuvm tests.

Every test builds the same environment; they differ in the sequences they start. Parameters come
from ``dv.knobs.Knobs`` (environment variables set by dv.sim). A test fails if the scoreboard saw
a mismatch, missed or extra results, or checked fewer jobs than were sent.
"""

from __future__ import annotations

import json

import cocotb
import numpy as np
import pyuvm
from cocotb.queue import Queue
from cocotb.task import bridge, resume
from cocotb.triggers import ClockCycles
from pyuvm import ConfigDB, uvm_subscriber, uvm_test

from design.csr import REG_LEN, REG_ROWS, REG_SHIFT, REG_STATUS
from dv.bfm import STATUS_ERROR, GqmvBfm
from dv.knobs import Knobs
from dv.payload import Geometry, pad_rows, unpack_y
from dv.uvm.coverage import write_report
from dv.uvm.env import GqmvEnv
from dv.uvm.items import GqmvItem
from dv.uvm.sequences import ItemListSeq, RandomSeq, corner_seq
from dv.uvm.stimulus import layer_items


class GqmvBaseTest(uvm_test):
    """Builds env + BFM; subclasses implement ``stimulus``."""

    def build_phase(self) -> None:
        self.knobs = Knobs.from_env()
        self.cfg = self.knobs.config()
        self.bfm = GqmvBfm(cocotb.top)
        self.geo = Geometry(self.cfg.lanes, self.cfg.group, self.cfg.max_len)
        ConfigDB().set(None, "*", "BFM", self.bfm)
        ConfigDB().set(None, "*", "GEOMETRY", self.geo)
        self.env = GqmvEnv("env", self)
        self.sent = 0

    async def run_phase(self) -> None:
        self.raise_objection()
        await self.bfm.start()
        info = await self.bfm.geometry()
        assert info == self.geo, f"INFO register {info} does not match the config {self.geo}"
        await self.stimulus()
        await ClockCycles(self.bfm.clk, 20)
        self.drop_objection()

    async def stimulus(self) -> None:
        raise NotImplementedError

    async def run_seq(self, seq, count: int) -> None:
        await seq.start(self.env.seqr)
        self.sent += count

    def report_phase(self) -> None:
        sb = self.env.scoreboard
        out = self.knobs.out_path()
        uncovered = write_report(out / "coverage.txt")
        (out / "summary.json").write_text(json.dumps({
            "test": type(self).__name__, "checked": sb.checked, "sent": self.sent,
            "failures": sb.failures, "uncovered_bins": uncovered, "jobs": sb.jobs}, indent=2))
        assert not sb.failures, f"{len(sb.failures)} scoreboard failures: {sb.failures[0]}"
        assert sb.checked == self.sent, f"checked {sb.checked} of {self.sent} jobs"


@pyuvm.test()
class GqmvRandomTest(GqmvBaseTest):
    """Constrained-random jobs, back-pressure as configured by the knobs."""

    async def stimulus(self) -> None:
        self.bfm.set_backpressure(self.knobs.backpressure, self.knobs.seed)
        k = self.knobs
        await self.run_seq(RandomSeq("random", self.cfg, k.items, k.seed, k.max_rows), k.items)


@pyuvm.test()
class GqmvCornerTest(GqmvBaseTest):
    """Directed corners, once with free-flowing streams and once with random stalls."""

    async def stimulus(self) -> None:
        for bp in (False, True):
            self.bfm.set_backpressure(bp, self.knobs.seed)
            seq = corner_seq(self.cfg, self.knobs.max_rows)
            await self.run_seq(seq, len(seq.items))


@pyuvm.test()
class GqmvCsrTest(GqmvBaseTest):
    """Illegal job configurations must set STATUS.error and start nothing."""

    async def stimulus(self) -> None:
        bfm, cfg = self.bfm, self.cfg
        bad = [(cfg.group + 1, cfg.lanes, 0), (cfg.max_len + cfg.group, cfg.lanes, 0),
               (0, cfg.lanes, 0), (cfg.group, 0, 0), (cfg.group, cfg.lanes, 63),
               (cfg.group, 1 << 20, 0)]
        if cfg.lanes > 1:
            bad.append((cfg.group, cfg.lanes + 1, 0))
        for length, rows, shift in bad:
            await bfm.configure(length, rows, shift, False)
            await ClockCycles(bfm.clk, 2)
            status = await bfm.read(REG_STATUS)
            assert status == STATUS_ERROR, f"LEN={length} ROWS={rows} SHIFT={shift}: {status}"
        await bfm.write(REG_LEN, cfg.max_len)
        await bfm.write(REG_ROWS, cfg.lanes * 3)
        await bfm.write(REG_SHIFT, 17)
        got = [await bfm.read(a) for a in (REG_LEN, REG_ROWS, REG_SHIFT)]
        assert got == [cfg.max_len, cfg.lanes * 3, 17], f"register readback {got}"


@pyuvm.test()
class GqmvRealWeightsTest(GqmvBaseTest):
    """Every (selected) Linear of the shipped checkpoint, one job per layer, free-flowing."""

    async def stimulus(self) -> None:
        from model.export import load_npz

        layers = load_npz(self.knobs.weights)
        names = [n for n in self.knobs.layers.split(",") if n] or sorted(layers)
        seq = ItemListSeq("layers", layer_items(layers, names, self.cfg, self.knobs.seed))
        await self.run_seq(seq, len(seq.items))


class ResultTap(uvm_subscriber):
    """Copies result beats into a queue the forward pass reads (the scoreboard still checks)."""

    def build_phase(self) -> None:
        self.beats: Queue[int] = Queue()

    def write(self, beat: int) -> None:
        self.beats.put_nowait(beat)


@pyuvm.test()
class GqmvForwardTest(GqmvBaseTest):
    """Headline: a forward pass of the shipped model with every matrix product on the RTL.

    ``IntegerGPT.forward`` runs in a bridge thread; its ``matvec`` sends one job through the
    sequencer and waits for the DUT's results. Logits must equal the integer golden model's
    (without the RTL), argmax the fake-quant PyTorch model's; the scoreboard also checks
    every job against integer_ops.gqmv.
    """

    def build_phase(self) -> None:
        super().build_phase()
        self.tap = ResultTap("tap", self)

    def connect_phase(self) -> None:
        self.env.monitor.ap.connect(self.tap.analysis_export)

    def job_scales(self, op) -> tuple[np.ndarray, int]:
        """(group scales, group) a job of layer `op` is sent with: the model's own here; an
        engine with a smaller GROUP repeats them (:mod:`dv.tb_regroup`)."""
        return op.gscale.astype(np.int64), op.group

    def result_extra(self, golden) -> dict:
        """Fields a subclass adds to ``forward.json``."""
        return {}

    async def stimulus(self) -> None:
        from dv.golden import load_golden, prompt_tokens

        golden = load_golden()
        tokens = prompt_tokens(self.knobs.prompt)
        geo = self.geo

        async def hw_matvec(name: str, x):
            op = golden.integer.layers[name]
            n = op.w.shape[0]
            gscale, group = self.job_scales(op)
            w, gscale, bias, mult = pad_rows(op.w.astype(np.int64), gscale,
                                             op.bias.astype(np.int64),
                                             op.mult.astype(np.int64), geo.lanes)
            item = GqmvItem(name, x=np.asarray(x, dtype=np.int64), w=w, gscale=gscale,
                            bias=bias, mult=mult, shift=op.shift, group=group,
                            out_int32=op.out_int32, tag="forward")
            await self.run_seq(ItemListSeq(name, [item]), 1)
            beats = [await self.tap.beats.get() for _ in range(w.shape[0] // geo.lanes)]
            return unpack_y(beats, geo)[:n]

        forward = bridge(golden.integer.forward)
        hw = await forward(tokens, matvec=resume(hw_matvec))
        ref = golden.integer.forward(tokens)
        fq = golden.fake_quant_logits(tokens)
        # "config" names the RTL configuration, so readers (the dashboard) can attribute the
        # measured cycles per token to it
        result = {"config": self.knobs.params["name"], "prompt": self.knobs.prompt,
                  "tokens": tokens.tolist(), **self.result_extra(golden),
                  "logits_identical": bool(np.array_equal(hw, ref)),
                  "argmax_rtl": hw.argmax(-1).tolist(),
                  "argmax_fake_quant": fq.argmax(-1).tolist(),
                  "jobs": self.sent}
        (self.knobs.out_path() / "forward.json").write_text(json.dumps(result, indent=2))
        assert result["logits_identical"], "RTL logits differ from the integer golden model"
        assert result["argmax_rtl"][-1] == result["argmax_fake_quant"][-1], result
