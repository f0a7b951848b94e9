"""Arithmetic blocks of the GQMV engine: the group dot product and the requantizer.

Widths are never chosen by hand: Amaranth grows every sum and product to its exact width, and the
only truncation (the per-row total) is to ``GqmvConfig.total_bits``, the contract's worst case.
"""

from __future__ import annotations

from amaranth.hdl import Const, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from design.config import GqmvConfig
from model.integer_ops import INT8_MAX, INT8_MIN, INT32_MAX, INT32_MIN, MULT_BITS


def adder_tree(terms: list[Value]) -> Value:
    """Balanced pairwise sum: log2(n) adder levels instead of a chain of n-1."""
    while len(terms) > 1:
        nxt = [terms[i] + terms[i + 1] for i in range(0, len(terms) - 1, 2)]
        if len(terms) % 2:
            nxt.append(terms[-1])
        terms = nxt
    return terms[0]


class GroupDot(wiring.Component):
    """acc = sum_i w[i] * x[i] over one group of int8 pairs (combinational, exact)."""

    def __init__(self, group: int) -> None:
        self.group = group
        acc_width = (group * 2**14).bit_length() + 1
        super().__init__({"w": In(group * 8), "x": In(group * 8), "acc": Out(signed(acc_width))})

    def elaborate(self, platform: object) -> Module:
        m = Module()
        prods = [self.w[8 * i:8 * i + 8].as_signed() * self.x[8 * i:8 * i + 8].as_signed()
                 for i in range(self.group)]
        m.d.comb += self.acc.eq(adder_tree(prods))
        return m


def round_shift_sat8(p: Value, shift: Value, half_down: bool, saturate: bool) -> Value:
    """sat8(round_shift(p, shift)) with one adder and one arithmetic shifter.

    floor((p + 2**(s-1)) / 2**s) == (2p + 2**s) >> (s + 1) for every s >= 0, which removes the
    special case s == 0 of the contract. ``half_down`` / ``saturate=False`` are deliberate
    bugs for the mutation check.
    """
    # For s >= len(p) the exact result is 0 (|p| < 2**(len(p)-1)), and the formula gives 0 at
    # s == len(p) too, so clamping the shift there keeps the shifter log2(len(p)) levels deep.
    width = len(p) + 2
    s = Mux(shift > len(p), len(p), shift)
    half = (Const(1, unsigned(width)) << s)[:width]
    if half_down:
        half = half - 1
    v = (p.as_signed() << 1) + half
    r = v >> (s + 1)
    if not saturate:
        return r[:8].as_signed()
    return Mux(r > INT8_MAX, INT8_MAX, Mux(r < INT8_MIN, INT8_MIN, r))


class Requant(wiring.Component):
    """Per-lane total -> int8 (or int32) result, with a shared sequential 48x16 multiplier.

    The 16-bit multiplier ``mult`` is consumed ``req_bits`` at a time, most significant chunk
    first (Horner: p = (p << req_bits) + total * chunk), so each lane needs one
    total_bits x req_bits multiplier and the unit takes ``req_cycles`` cycles per row block.
    A new block is accepted in the cycle the previous one is written to the output register,
    so back-to-back blocks cost exactly ``req_cycles`` cycles each.
    """

    def __init__(self, cfg: GqmvConfig) -> None:
        self.cfg = cfg
        tw = cfg.total_bits
        super().__init__({
            "in_valid": In(1), "in_ready": Out(1),
            "totals": In(signed(tw)).array(cfg.lanes), "mults": In(MULT_BITS).array(cfg.lanes),
            "shift": In(6), "out_int32": In(1),
            "out_valid": Out(1), "out_ready": In(1), "out_data": Out(32).array(cfg.lanes),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        cfg = self.cfg
        rb, steps, tw = cfg.req_bits, cfg.req_cycles, cfg.total_bits
        busy = Signal()
        count = Signal(range(max(steps, 2)))
        last_step = count == steps - 1
        out_free = ~self.out_valid | self.out_ready
        finishing = busy & last_step & out_free
        m.d.comb += self.in_ready.eq(~busy | finishing)

        with m.If(self.out_valid & self.out_ready):
            m.d.sync += self.out_valid.eq(0)
        with m.If(busy & ~last_step):
            m.d.sync += count.eq(count + 1)
        with m.If(finishing):
            m.d.sync += [busy.eq(0), self.out_valid.eq(1)]
        with m.If(self.in_valid & self.in_ready):
            m.d.sync += [busy.eq(1), count.eq(0)]

        for lane in range(cfg.lanes):
            tot = Signal(signed(tw), name=f"tot{lane}")
            mul = Signal(MULT_BITS, name=f"mul{lane}")
            prod = Signal(signed(tw + MULT_BITS + 1), name=f"prod{lane}")
            chunk = mul[MULT_BITS - rb:]
            step = Signal(signed(tw + MULT_BITS + 1), name=f"step{lane}")
            m.d.comb += step.eq((prod << rb) + tot * chunk)
            with m.If(busy & ~last_step):
                m.d.sync += [prod.eq(step), mul.eq(mul << rb)]
            with m.If(self.in_valid & self.in_ready):
                m.d.sync += [tot.eq(self.totals[lane]), mul.eq(self.mults[lane]), prod.eq(0)]
            int8 = round_shift_sat8(step, self.shift, half_down=cfg.mutation == "round_half_down",
                                    saturate=cfg.mutation != "no_saturation")
            int32 = Mux(tot > INT32_MAX, INT32_MAX, Mux(tot < INT32_MIN, INT32_MIN, tot))
            with m.If(finishing):
                m.d.sync += self.out_data[lane].eq(Mux(self.out_int32, int32, int8))
        return m
