"""The GQMV accelerator top level (LlamaF-style group-wise quantized matrix-vector engine).

Three stages, one weight beat per cycle when every stream keeps up:

1. pre-process: the activation stream (one group of GROUP int8 per beat) is written into a
   vector buffer of MAX_LEN int8; the job length comes from the LEN register.
2. dot product: each weight beat carries one group of GROUP int8 weights for each of LANES rows
   plus their uint16 group scales; LANES GroupDot trees multiply it with the buffered activation
   group (read combinationally) and the results are registered.
3. accumulate: acc * gscale is added to a per-lane total; on the last group of a row block the
   row parameters (bias, mult) are taken from their own stream, the bias is added and the totals
   are handed to the requantizer (``Requant``), which works on block b while stage 3 already
   accumulates block b+1 (the totals register is the double buffer). Results leave as one
   beat of LANES x 32 bits (int8 sign-extended, or int32).

A job is: write LEN/ROWS/SHIFT, write CTRL.start; stream K/GROUP activation beats, then
N/LANES x K/GROUP weight beats and N/LANES row-parameter beats; read N/LANES result beats.
"""

from __future__ import annotations

from amaranth.hdl import Module, Signal, signed
from amaranth.lib import memory, stream, wiring
from amaranth.lib.wiring import In, Out

from design.config import GqmvConfig
from design.csr import CYCLES_BITS, ROWS_BITS, CsrBlock, axil_signature
from design.datapath import GroupDot, Requant
from model.integer_ops import GSCALE_BITS, MAX_SHIFT, MULT_BITS


def gqmv_signature(cfg: GqmvConfig) -> wiring.Signature:
    """Top-level ports: ``csr`` (AXI4-Lite), streams ``x``, ``w``, ``rowp`` in, ``y`` out."""
    return wiring.Signature({
        "csr": In(axil_signature()),
        "x": In(stream.Signature(cfg.x_width)),
        "w": In(stream.Signature(cfg.w_width)),
        "rowp": In(stream.Signature(cfg.rowp_width)),
        "y": Out(stream.Signature(cfg.y_width)),
    })


class Gqmv(wiring.Component):
    """The accelerator; clock ``clk``, synchronous active-high reset ``rst``."""

    def __init__(self, cfg: GqmvConfig) -> None:
        self.cfg = cfg
        super().__init__(gqmv_signature(cfg))

    def elaborate(self, platform: object) -> Module:
        m = Module()
        cfg = self.cfg
        lanes, group = cfg.lanes, cfg.group
        log_g, log_l = group.bit_length() - 1, lanes.bit_length() - 1

        m.submodules.csr = csr = CsrBlock(cfg)
        wiring.connect(m, wiring.flipped(self.csr), csr.bus)
        m.submodules.req = req = Requant(cfg)
        m.submodules.xbuf = xbuf = memory.Memory(shape=cfg.x_width, depth=cfg.max_groups, init=[])
        x_wr = xbuf.write_port()
        x_rd = xbuf.read_port(domain="comb")

        # ---- job control --------------------------------------------------------------------
        busy, done, error = Signal(), Signal(), Signal()
        cycles = Signal(CYCLES_BITS)
        out_int32 = Signal()
        shift = Signal(6)
        last_group = Signal(range(cfg.max_groups))  # ngroups - 1
        last_block = Signal(ROWS_BITS - log_l)      # nblocks - 1
        loading = Signal()                          # stage 1: filling the vector buffer
        x_addr = Signal(range(cfg.max_groups))
        g_in = Signal(range(cfg.max_groups))
        blk_in = Signal(ROWS_BITS - log_l)
        blk_out = Signal(ROWS_BITS - log_l)
        w_open = Signal()                           # more weight beats are expected
        m.d.comb += [csr.busy.eq(busy), csr.done.eq(done), csr.error.eq(error),
                     csr.cycles.eq(cycles)]

        length, rows = csr.length, csr.rows
        bad = ((length == 0) | (length > cfg.max_len) | (length[:log_g] != 0) | (rows == 0)
               | ((rows[:log_l] != 0) if log_l else 0) | (csr.shift > MAX_SHIFT))
        with m.If(busy):
            m.d.sync += cycles.eq(cycles + 1)
        with m.If(csr.start & ~busy):
            m.d.sync += [done.eq(0), error.eq(bad)]
            with m.If(~bad):
                m.d.sync += [
                    busy.eq(1), loading.eq(1), w_open.eq(0), cycles.eq(1),
                    out_int32.eq(csr.out_int32), shift.eq(csr.shift),
                    last_group.eq((length >> log_g) - 1), last_block.eq((rows >> log_l) - 1),
                    x_addr.eq(0), g_in.eq(0), blk_in.eq(0), blk_out.eq(0),
                ]

        # ---- stage 1: activation buffer -----------------------------------------------------
        m.d.comb += [self.x.ready.eq(loading), x_wr.addr.eq(x_addr), x_wr.data.eq(self.x.payload),
                     x_wr.en.eq(self.x.valid & self.x.ready)]
        with m.If(self.x.valid & self.x.ready):
            m.d.sync += x_addr.eq(x_addr + 1)
            with m.If(x_addr == last_group):
                m.d.sync += [loading.eq(0), w_open.eq(1)]

        # ---- stage 2: group dot products ----------------------------------------------------
        v1, first1, last1 = Signal(), Signal(), Signal()
        advance = Signal()
        steps = cfg.beat_cycles
        sc = Signal(range(max(steps, 2)))        # chunk of the acc x gscale product (stage 3)
        scale_done = sc == steps - 1
        # The row parameters are consumed straight from their stream at the hand-off (no copy).
        handoff = Signal()
        m.d.comb += [
            advance.eq(~v1 | (scale_done & (~last1 | (req.in_ready & self.rowp.valid)))),
            handoff.eq(v1 & last1 & scale_done & self.rowp.valid),
            self.rowp.ready.eq(handoff & req.in_ready),
        ]
        is_last_g = g_in == last_group
        w_fire = Signal()
        m.d.comb += [
            x_rd.addr.eq(g_in),
            self.w.ready.eq(w_open & advance),
            w_fire.eq(self.w.valid & self.w.ready),
        ]
        with m.If(w_fire):
            m.d.sync += g_in.eq(g_in + 1)
            with m.If(is_last_g):
                m.d.sync += [g_in.eq(0), blk_in.eq(blk_in + 1)]
                with m.If(blk_in == last_block):
                    m.d.sync += w_open.eq(0)

        wbits = group * 8
        acc1, gs1 = [], []
        for lane in range(lanes):
            dot = GroupDot(group)
            m.submodules[f"dot{lane}"] = dot
            base = lane * (wbits + GSCALE_BITS)
            m.d.comb += [dot.w.eq(self.w.payload[base:base + wbits]), dot.x.eq(x_rd.data)]
            acc = Signal.like(dot.acc, name=f"acc1_{lane}")
            gs = Signal(GSCALE_BITS, name=f"gs1_{lane}")
            with m.If(advance & w_fire):
                m.d.sync += [acc.eq(dot.acc),
                             gs.eq(self.w.payload[base + wbits:base + wbits + GSCALE_BITS])]
            acc1.append(acc)
            gs1.append(gs)
        with m.If(advance):
            m.d.sync += [v1.eq(w_fire), first1.eq(g_in == 0), last1.eq(is_last_g)]

        # ---- stage 3: scale, accumulate, bias, hand over to the requantizer -----------------
        # The acc x gscale product takes ``beat_cycles`` cycles (Horner over scale_bits chunks
        # of gscale, most significant first); stage 2 waits until the last chunk.
        tw, sb = cfg.total_bits, cfg.scale_bits
        if steps > 1:
            with m.If(v1 & ~scale_done):
                m.d.sync += sc.eq(sc + 1)
            with m.If(v1 & advance):
                m.d.sync += sc.eq(0)
        for lane in range(lanes):
            total = Signal(signed(tw), name=f"total_{lane}")
            part = Signal(signed(tw), name=f"part_{lane}")
            chunk = gs1[lane][GSCALE_BITS - sb:]
            scaled = Signal(signed(tw), name=f"scaled_{lane}")
            m.d.comb += scaled.eq((part << sb) + acc1[lane] * chunk if steps > 1
                                  else acc1[lane] * chunk)
            if steps > 1:
                with m.If(v1 & ~scale_done):
                    m.d.sync += [part.eq(scaled), gs1[lane].eq(gs1[lane] << sb)]
                with m.If(v1 & advance):
                    m.d.sync += part.eq(0)
            running = Signal(signed(tw), name=f"running_{lane}")
            m.d.comb += running.eq(scaled)
            with m.If(~first1):
                m.d.comb += running.eq(total + scaled)
            with m.If(v1 & advance):
                m.d.sync += total.eq(running)
            pbase = lane * (32 + MULT_BITS)
            bias = self.rowp.payload[pbase:pbase + 32].as_signed()
            if cfg.mutation == "drop_bias":
                bias = 0
            m.d.comb += [req.totals[lane].eq(running + bias),
                         req.mults[lane].eq(self.rowp.payload[pbase + 32:pbase + 32 + MULT_BITS])]
        m.d.comb += [req.in_valid.eq(handoff), req.shift.eq(shift),
                     req.out_int32.eq(out_int32)]

        # ---- results ------------------------------------------------------------------------
        m.d.comb += [self.y.valid.eq(req.out_valid), req.out_ready.eq(self.y.ready)]
        for lane in range(lanes):
            m.d.comb += self.y.payload[32 * lane:32 * lane + 32].eq(req.out_data[lane])
        with m.If(self.y.valid & self.y.ready):
            m.d.sync += blk_out.eq(blk_out + 1)
            with m.If(blk_out == last_block):
                m.d.sync += [busy.eq(0), done.eq(1)]
        return m
