"""The GQMV accelerator top level (LlamaF-style group-wise quantized matrix-vector engine).

One weight beat per cycle when every stream keeps up, through a pipeline in which no stage is
more than one multiplier or one adder deep (a clock for the ss corner, issue #13/#14):

1. pre-process: the activation stream (one group of GROUP int8 per beat) is written into a
   vector buffer of MAX_LEN int8; the job length comes from the LEN register.
2. issue: each weight beat carries one group of GROUP int8 weights for each of LANES rows plus
   their uint16 group scales. ``w.ready`` depends on registers only: at most one beat per
   ``beat_cycles``, and the last beat of a row block only with a credit (a free slot in the
   totals FIFO), so nothing behind the issue ever has to stall.
3. dot product: input register (weights and the buffered activation group), the GROUP
   products, then the adder tree, ``tree_levels`` levels per register.
4. scale: acc x gscale, in ``beat_cycles`` chunks of ``scale_bits`` (the register before it
   holds the item that long).
5. accumulate into a per-lane total (a carry-select adder); the finished totals of a row
   block go to the totals FIFO (``acc_fifo_depth`` blocks).
6. requantize (``Requant``): the row parameters (bias, mult) wait in a register filled from
   their stream; total + bias, the sequential total x mult product, rounding and saturation;
   results go to a FIFO that the ``y`` stream drains (again credits, so no stall inside).

Results leave as one beat of LANES x 32 bits (int8 sign-extended, or int32). Every pipeline
register of the datapath loads every cycle and carries a valid bit (no reset, no enable from a
stream handshake); only counters, valid bits and FIFO pointers see the handshakes.

A job is: write LEN/ROWS/SHIFT, write CTRL.start; stream K/GROUP activation beats, then
N/LANES x K/GROUP weight beats and N/LANES row-parameter beats; read N/LANES result beats.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import fifo, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from design.config import GqmvConfig
from design.csr import CYCLES_BITS, ROWS_BITS, CsrBlock, axil_signature
from design.datapath import (
    ADD_CHUNK,
    Requant,
    adder_levels,
    register,
    select_add,
)
from model.integer_ops import GSCALE_BITS, MAX_SHIFT


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

        # ---- stage 2: issue of weight beats ------------------------------------------------
        # A beat is taken only when the pipeline behind it can never have to wait: at most one
        # beat per beat_cycles (the chunked scale product), and the last beat of a row block
        # only with a credit, i.e. a free slot in the totals FIFO in front of the requantizer.
        # w.ready therefore depends on registers only, and no handshake reaches the enables of
        # the datapath registers.
        steps, sb, tw = cfg.beat_cycles, cfg.scale_bits, cfg.total_bits
        m.submodules.acc_fifo = acc_fifo = fifo.SyncFIFO(width=lanes * tw,
                                                         depth=cfg.acc_fifo_depth)
        credits = Signal(range(cfg.acc_fifo_depth + 1), init=cfg.acc_fifo_depth)
        gap = Signal(range(max(steps, 2)))
        is_last_g = g_in == last_group
        w_fire, take = Signal(), Signal()
        m.d.comb += [
            x_rd.addr.eq(g_in),
            self.w.ready.eq(w_open & (gap == 0) & (~is_last_g | (credits != 0))),
            w_fire.eq(self.w.valid & self.w.ready),
        ]
        m.d.sync += credits.eq(credits - (w_fire & is_last_g) + take)
        with m.If(w_fire):
            m.d.sync += g_in.eq(g_in + 1)
            with m.If(is_last_g):
                m.d.sync += [g_in.eq(0), blk_in.eq(blk_in + 1)]
                with m.If(blk_in == last_block):
                    m.d.sync += w_open.eq(0)
        if steps > 1:
            with m.If(gap != 0):
                m.d.sync += gap.eq(gap - 1)
            with m.If(w_fire):
                m.d.sync += gap.eq(steps - 1)

        # ---- stage 3: input register, products, adder tree (fixed latency, no stall) --------
        # The register in front of the scale product holds its item for beat_cycles cycles
        # (enabled by its valid bit) when the product is chunked.
        wbits = group * 8
        valid, first, last = w_fire, g_in == 0, is_last_g
        x_q = register(m, x_rd.data, "x_q")
        terms, gscales = [], []
        for lane in range(lanes):
            base = lane * (wbits + GSCALE_BITS)
            w_q = register(m, self.w.payload[base:base + wbits], f"w_q{lane}")
            terms.append([w_q[8 * i:8 * i + 8].as_signed() * x_q[8 * i:8 * i + 8].as_signed()
                          for i in range(group)])
            gscales.append(self.w.payload[base + wbits:base + wbits + GSCALE_BITS])
        stages = 2 + cfg.tree_stages   # input register, products, tree stages
        for stage in range(stages):
            name = "abcdefghijklmnop"[stage]
            hold = valid if steps > 1 and stage == stages - 1 else None
            if stage >= 2:
                terms = [adder_levels(t, cfg.tree_levels) for t in terms]
            if stage >= 1:
                terms = [[register(m, v, f"{name}{lane}_{i}", hold) for i, v in enumerate(t)]
                         for lane, t in enumerate(terms)]
            if hold is None:
                gscales = [register(m, g, f"{name}_gs{lane}") for lane, g in enumerate(gscales)]
            else:
                load_gs = hold
            first, last = (register(m, first, f"{name}_first", hold),
                           register(m, last, f"{name}_last", hold))
            valid = register(m, valid, f"{name}_v", reset=True)
        dots = [t[0] for t in terms]

        # ---- stage 4: scale product, beat_cycles chunks of scale_bits (LSB chunk first) -----
        # With chunks, the held group scale shifts right by scale_bits a cycle, so the chunk
        # comes straight from a register; the product is shifted back into place.
        if steps > 1:
            k = Signal(range(steps))
            busy_k = valid | (k != 0)
            with m.If(busy_k):
                m.d.sync += k.eq(Mux(k == steps - 1, 0, k + 1))
            chunk_first, chunk_last = k == 0, k == steps - 1
            held = []
            for lane, g in enumerate(gscales):
                gs = Signal(GSCALE_BITS, name=f"gs_held{lane}", reset_less=True)
                with m.If(busy_k):
                    m.d.sync += gs.eq(gs >> sb)
                with m.If(load_gs):
                    m.d.sync += gs.eq(g)
                held.append(gs)
            gscales = held
        else:
            k, busy_k, chunk_first, chunk_last = 0, valid, 1, 1
        s_v, s_first, s_final = busy_k, first & chunk_first, last & chunk_last
        if cfg.scale_split:
            # two registered half-chunk products (dot x gs[:sb/2], dot x gs[sb/2:sb]), summed
            # into the chunk product in the next stage; k and the flags follow one cycle later
            h = sb // 2
            parts = [(register(m, dots[lane] * gscales[lane][:h], f"pp_lo{lane}"),
                      register(m, dots[lane] * gscales[lane][h:sb], f"pp_hi{lane}"))
                     for lane in range(lanes)]
            products = [lo + (hi << h) for lo, hi in parts]
            if steps > 1:
                k = register(m, k, "pp_k")
            s_v, s_first, s_final = (register(m, s_v, "pp_v", reset=True),
                                     register(m, s_first, "pp_first"),
                                     register(m, s_final, "pp_final"))
        else:
            products = [dots[lane] * gscales[lane][:sb] for lane in range(lanes)]
        scaled = [register(m, products[lane] << (k * sb), f"scaled{lane}")
                  for lane in range(lanes)]
        d_v = register(m, s_v, "scaled_v", reset=True)
        d_first = register(m, s_first, "scaled_first")
        d_final = register(m, s_final, "scaled_final")

        # ---- stage 5: accumulate; the finished totals of a row block go to the FIFO ---------
        # Delayed carry (carry-save at half-word granularity): the total is kept as a low half,
        # a high half and the low half's carry out of the last cycle, which the high half adds
        # one cycle late. Each cycle's adders are half as wide as the total (the full-width
        # sum was the ss critical path, issue #13/#14); the value is lo + (hi + c) * 2**half
        # modulo 2**tw at every cycle, and the FIFO write resolves the last carry with an
        # increment of the high half (an AND chain, not an adder).
        half = (tw + 1) // 2
        totals = []
        for lane in range(lanes):
            lo = Signal(half, name=f"total_lo{lane}", reset_less=True)
            hi = Signal(tw - half, name=f"total_hi{lane}", reset_less=True)
            c = Signal(name=f"total_c{lane}", reset_less=True)
            sv = scaled[lane].as_signed()
            sv = Cat(sv, sv[-1].replicate(tw - len(sv))) if len(sv) < tw else sv[:tw]
            lo_sum = select_add(Mux(d_first, 0, lo), sv[:half], half + 1, ADD_CHUNK)
            hi_sum = select_add(Mux(d_first, 0, hi), sv[half:], tw - half, ADD_CHUNK,
                                cin=c & ~d_first)
            with m.If(d_v):
                m.d.sync += [lo.eq(lo_sum[:half]), c.eq(lo_sum[half]), hi.eq(hi_sum)]
            hi_final = select_add(hi, 0, tw - half, ADD_CHUNK, cin=c)
            totals.append(Cat(lo, hi_final))
        m.d.comb += [acc_fifo.w_en.eq(register(m, d_v & d_final, "total_done", reset=True)),
                     acc_fifo.w_data.eq(Cat(*totals))]

        # ---- stage 6: requantizer (takes a block's totals with its row parameters) ----------
        m.d.comb += [
            req.totals_valid.eq(acc_fifo.r_rdy), take.eq(req.take), acc_fifo.r_en.eq(take),
            req.rowp_valid.eq(self.rowp.valid), self.rowp.ready.eq(req.rowp_ready),
            req.rowp_payload.eq(self.rowp.payload),
            req.shift.eq(shift), req.out_int32.eq(out_int32),
        ]
        for lane in range(lanes):
            m.d.comb += req.totals[lane].eq(acc_fifo.r_data[lane * tw:(lane + 1) * tw].as_signed())

        # ---- results ------------------------------------------------------------------------
        m.d.comb += [self.y.valid.eq(req.out_valid), self.y.payload.eq(req.out_data),
                     req.out_ready.eq(self.y.ready)]
        with m.If(self.y.valid & self.y.ready):
            m.d.sync += blk_out.eq(blk_out + 1)
            with m.If(blk_out == last_block):
                m.d.sync += [busy.eq(0), done.eq(1)]
        return m
