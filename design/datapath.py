"""Arithmetic blocks of the GQMV engine: the pipelined adder tree and the requantizer.

Widths are never chosen by hand: Amaranth grows every sum and product to its exact width, and the
only truncation (the per-row total) is to ``GqmvConfig.total_bits``, the contract's worst case.

Every stage is one register deep and never stalls: flow control happens where data enters a
pipeline (credits, see ``design/gqmv.py``), so the pipeline registers load unconditionally and
carry a valid bit, and no stream handshake fans out to the enables of wide registers.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value, signed
from amaranth.lib import fifo, wiring
from amaranth.lib.wiring import In, Out

from design.config import GqmvConfig
from model.integer_ops import INT8_MAX, INT8_MIN, INT32_MAX, INT32_MIN, MULT_BITS


def adder_levels(terms: list[Value], levels: int) -> list[Value]:
    """``levels`` levels of a balanced pairwise sum (log2(n) levels in all, not a chain of n-1);
    the caller registers what is left between stages."""
    for _ in range(levels):
        if len(terms) == 1:
            break
        nxt = [terms[i] + terms[i + 1] for i in range(0, len(terms) - 1, 2)]
        if len(terms) % 2:
            nxt.append(terms[-1])
        terms = nxt
    return terms


def select_add(a: Value, b: Value, width: int, chunk: int, cin: Value | int = 0) -> Value:
    """a + b + cin modulo 2**width (signed operands sign-extended), as a carry-select adder.

    Each ``chunk``-bit slice is added twice, for carry-in 0 and 1, and the carry out of the
    slice below picks one (Bedrij's carry-select adder): the delay is one chunk's carry chain
    plus a multiplexer per slice instead of a carry chain ``width`` bits long. Synthesis here
    (ABC, see pnr/README.md) maps wide sums to near-ripple chains, about 0.75 ns a bit at the
    ss corner, so the structure has to be in the RTL.
    """
    a, b = extend(a, width), extend(b, width)
    parts, carry = [], None
    for lo in range(0, width, chunk):
        hi = min(lo + chunk, width)
        s0 = a[lo:hi] + b[lo:hi]
        if carry is None:
            s0 = s0 + cin
            parts.append(s0[:hi - lo])
            carry = s0[hi - lo]
            continue
        s1 = a[lo:hi] + b[lo:hi] + 1
        parts.append(Mux(carry, s1[:hi - lo], s0[:hi - lo]))
        carry = Mux(carry, s1[hi - lo], s0[hi - lo])
    return Cat(*parts).as_signed()


def extend(v: Value, width: int) -> Value:
    """``v`` as ``width`` bits: truncated (a signed ``v`` stays signed), or sign-/zero-extended
    by its own signedness."""
    v = Value.cast(v)
    if len(v) >= width:
        return v[:width].as_signed() if v.shape().signed else v[:width]
    fill = v[-1] if v.shape().signed else Const(0, 1)
    return Cat(v, fill.replicate(width - len(v)))


def register(m: Module, value: Value, name: str, enable: Value | None = None,
             reset: bool = False) -> Signal:
    """A pipeline register of ``value`` (loaded every cycle unless an ``enable`` is given).

    Data registers have no reset (``reset=False``): their contents only matter under a valid
    bit, which is reset. That saves a gate per bit and keeps the reset net's fanout to the
    control state.
    """
    reg = Signal(value.shape(), name=name, reset_less=not reset)
    if enable is None:
        m.d.sync += reg.eq(value)
    else:
        with m.If(enable):
            m.d.sync += reg.eq(value)
    return reg


def at_least(v: Value, k: int) -> Value:
    """v >= k for a signed ``v`` and a power-of-two-minus-one or power-of-two-plus-one bound
    ``k`` in {2**j - 1, 2**j + 1}, from OR/AND reductions of v's bits instead of a comparator.

    Why: yosys turns ``>=`` into a subtraction as wide as v, and ABC maps it to a carry chain
    (the rounding stage's 53-bit compares were 2 ns past a 25 ns clock at ss); the bound's
    shape reduces the test to "some bit above j is set, or the low bits reach the bound",
    a tree of OR/AND gates. ``~v >= k`` (= v <= -k - 1) is how the lower bounds are tested.
    """
    v = Value.cast(v)
    sign, mag = v[-1], v[:-1]
    if k >= 1 and (k + 1) & k == 0:      # 2**j - 1: v >= 2**j, or all j low bits set
        j = k.bit_length()
        high, low = mag[j:].any(), mag[:j].all()
    elif k >= 3 and (k - 1) & (k - 2) == 0:  # 2**j + 1: v >= 2**(j+1), or bit j and a low bit
        j = (k - 1).bit_length() - 1
        high, low = mag[j + 1:].any(), mag[j] & mag[:j].any()
    else:
        raise ValueError(f"at_least: bound {k} is not 2**j - 1 or 2**j + 1")
    return ~sign & (high | low)


def round_shift_sat8(p: Value, shift: Value, half_down: bool, saturate: bool) -> Value:
    """sat8(round_shift(p, shift)) with one arithmetic shifter and a 9-bit increment.

    With u = floor(2p / 2**s) (an arithmetic shift, exact for every s >= 0):
    round_shift(p, s) = floor((2p + 2**s) / 2**(s+1)) = floor((u + 1) / 2), because adding the
    integer 1 commutes with the inner floor and nested floors of divisions by powers of two
    compose. So the wide adder of the rounding disappears: u >= 255 saturates to 127,
    u <= -258 to -128, and in between only u's low 9 bits are needed. A shift past the width
    of 2p gives u = 0 or -1, hence 0, which is exact (|p| < 2**(s-1)). ``half_down`` (ties
    rounded down: floor((2p + 2**s - 1) / 2**(s+1)) = floor(ceil(2p / 2**s) / 2)) and
    ``saturate=False`` are deliberate bugs for the mutation check.

    The two halves are :func:`round_shift_u` (shifter and saturation tests) and
    :func:`round_finish` (increment and saturation); the requantizer puts a register between
    them.
    """
    return round_finish(*round_shift_u(p, shift, half_down), half_down, saturate)


def round_shift_u(p: Value, shift: Value, half_down: bool) -> tuple[Value, Value, Value]:
    """First half of :func:`round_shift_sat8`: u's low 9 bits (or, for the ``half_down``
    mutant, those of ceil(2p / 2**s)) and the two saturation tests, from one shifter and
    OR/AND reductions: 11 bits to register instead of the 54-bit u."""
    p2 = p.as_signed() << 1
    if half_down:
        v = -((-p2) >> shift)                    # ceil(2p / 2**s): no + 1 below
        return v[:9], v >= 2 * INT8_MAX + 2, v <= 2 * INT8_MIN - 1
    u = p2 >> shift
    return u[:9], at_least(u, 2 * INT8_MAX + 1), at_least(~u, -(2 * INT8_MIN - 2) - 1)


def round_finish(low9: Value, over: Value, under: Value, half_down: bool,
                 saturate: bool) -> Value:
    """Second half of :func:`round_shift_sat8`: floor((u + 1) / 2) from u's low 9 bits (the
    ``half_down`` mutant: floor(v / 2)), saturated by the first half's tests."""
    r = low9[1:9].as_signed() if half_down else (low9 + 1)[1:9].as_signed()
    if not saturate:
        return r
    return Mux(over, INT8_MAX, Mux(under, INT8_MIN, r))


#: Slice width of the carry-select adders (a 12-bit carry chain plus a multiplexer per slice).
ADD_CHUNK = 12


class Requant(wiring.Component):
    """Per-lane total + bias -> int8 (or int32) result, pipelined, with a result FIFO.

    The row parameters (bias, mult) of the next block wait in a register filled from the
    ``rowp`` stream. A row block is *taken* when its totals are at the head of the totals FIFO
    (outside, ``totals_valid``; ``take`` pops it), its row parameters are here, the Horner
    multiplier is free and a result slot is free (a credit): ``take`` depends on registers
    only. Stages, each one register deep: t = total + bias (held for the multiply);
    ``req_cycles`` steps of a shift-and-add multiplier over ``req_bits`` chunks of mult,
    least significant first (Hennessy & Patterson's sequential multiplier: the adder is only
    as wide as t, the finished low bits shift into their own register; with ``req_split``
    the product t * chunk is registered first); rounding and saturation straight into the
    result FIFO. In int32 mode mult is taken as 1 and the output saturates to 32 bits: the
    product is t, and sat32(total) needs no path of its own.
    """

    def __init__(self, cfg: GqmvConfig) -> None:
        self.cfg = cfg
        tw = cfg.total_bits
        super().__init__({
            "totals_valid": In(1), "take": Out(1),
            "totals": In(signed(tw)).array(cfg.lanes),
            "rowp_valid": In(1), "rowp_ready": Out(1), "rowp_payload": In(cfg.rowp_width),
            "shift": In(6), "out_int32": In(1),
            "out_valid": Out(1), "out_ready": In(1), "out_data": Out(cfg.y_width),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        cfg = self.cfg
        rb, steps, tw = cfg.req_bits, cfg.req_cycles, cfg.total_bits

        # ---- row parameters of the next block ------------------------------------------------
        rp_full = Signal()
        params = Signal(cfg.rowp_width, reset_less=True)
        m.d.comb += self.rowp_ready.eq(~rp_full | self.take)
        with m.If(self.take):
            m.d.sync += rp_full.eq(0)
        with m.If(self.rowp_valid & self.rowp_ready):
            m.d.sync += [rp_full.eq(1), params.eq(self.rowp_payload)]

        # ---- credits and schedule: a take every req_cycles cycles, into a free result slot ---
        m.submodules.out_fifo = out_fifo = fifo.SyncFIFO(width=cfg.y_width,
                                                         depth=cfg.out_fifo_depth)
        credits = Signal(range(cfg.out_fifo_depth + 1), init=cfg.out_fifo_depth)
        wait = Signal(range(max(steps, 2)))
        pop = out_fifo.r_rdy & self.out_ready
        m.d.comb += [self.take.eq(self.totals_valid & rp_full & (wait == 0) & (credits != 0)),
                     self.out_valid.eq(out_fifo.r_rdy), self.out_data.eq(out_fifo.r_data),
                     out_fifo.r_en.eq(self.out_ready)]
        m.d.sync += credits.eq(credits - self.take + pop)
        if steps > 1:
            with m.If(wait != 0):
                m.d.sync += wait.eq(wait - 1)
            with m.If(self.take):
                m.d.sync += wait.eq(steps - 1)

        # ---- Horner schedule: req_cycles steps from the cycle after the take ------------------
        # (the take cycle and the next one add total + bias, see below)
        start = register(m, self.take, "req_start", reset=True)
        count = Signal(range(max(steps, 2)))
        active = Signal()                    # a multiplier step in this cycle
        first = Signal()                     # ... and it is the first of its block (a flop:
        last = count == steps - 1            # it selects the adder input of every bit)
        with m.If(active & last):
            m.d.sync += active.eq(0)
        with m.If(active & ~last):
            m.d.sync += count.eq(count + 1)
        with m.If(active):
            m.d.sync += first.eq(0)
        with m.If(start):
            m.d.sync += [active.eq(1), count.eq(0), first.eq(1)]
        if cfg.req_split:
            step_v = register(m, active, "qm_v", reset=True)
            step_first = register(m, active & first, "qm_first")
            step_last = register(m, active & last, "qm_last")
        else:
            step_v, step_first, step_last = active, first, active & last
        done = register(m, step_v & step_last, "p_done", reset=True)
        done_r = register(m, done, "r_done", reset=True)  # after the rounding register
        half = (tw + 1) // 2

        lanes_out = []
        for lane in range(cfg.lanes):
            base = lane * (32 + MULT_BITS)
            bias = params[base:base + 32].as_signed()
            if cfg.mutation == "drop_bias":
                bias = Const(0, signed(32))
            mult = Mux(self.out_int32, 1, params[base + 32:base + 32 + MULT_BITS])
            # t = total + bias in two stages of half-width adders (one 36-bit carry-select sum
            # was the ss critical path at 25 ns): the take cycle adds both halves, the low
            # half's carry out is registered with them, and the next cycle resolves it with an
            # increment of the high half (as the accumulator does). These registers load every
            # cycle: in the cycle after a take they hold that block's sums.
            tot, bias_w = self.totals[lane], extend(bias, tw)
            t_lo = register(m, select_add(tot[:half], bias_w[:half], half + 1, ADD_CHUNK),
                            f"t_lo{lane}")
            t_hi = register(m, select_add(tot[half:], bias_w[half:], tw - half, ADD_CHUNK),
                            f"t_hi{lane}")
            mult_q = register(m, mult, f"mult_q{lane}")
            t = Signal(signed(tw), name=f"t{lane}", reset_less=True)
            mshift = Signal(MULT_BITS, name=f"mshift{lane}", reset_less=True)
            with m.If(active):
                m.d.sync += mshift.eq(mshift >> rb)
            with m.If(start):  # after the shift: the next block loads in the last step
                m.d.sync += [t.eq(Cat(t_lo[:half],
                                      select_add(t_hi, 0, tw - half, ADD_CHUNK, cin=t_lo[half]))),
                             mshift.eq(mult_q)]
            prod = t * mshift[:rb]
            if cfg.req_split:
                prod = register(m, prod, f"qm{lane}")
            # high part: |acc| <= |t| after every step; the low MULT_BITS bits are final
            acc = Signal(signed(tw + 1), name=f"acc{lane}", reset_less=True)
            low = Signal(MULT_BITS, name=f"low{lane}", reset_less=True)
            # the first step's 0 + prod is selected after the adder, not by zeroing its input:
            # step_first fans out to every bit, and its buffer tree in front of the carry
            # chain was the placed ss critical path at 25 ns (~3 ns)
            s = Mux(step_first, extend(prod, tw + 2), select_add(acc, prod, tw + 2, ADD_CHUNK))
            with m.If(step_v):
                m.d.sync += [acc.eq(s >> rb), low.eq(Cat(low[rb:], s[:rb]))]
            p = Cat(low, acc).as_signed()
            # rounding in two stages: the shifter and the saturation tests (registered: u's
            # low 9 bits and two flags), then the increment and the saturation multiplexers
            half_down = cfg.mutation == "round_half_down"
            low9, over, under = (register(m, v, f"r_{what}{lane}") for v, what in
                                 zip(round_shift_u(p, self.shift, half_down),
                                     ("u", "over", "under"), strict=True))
            int8 = round_finish(low9, over, under, half_down,
                                saturate=cfg.mutation != "no_saturation")
            # p > INT32_MAX / p < INT32_MIN as reductions of p's bits above bit 30 (not
            # comparators: see at_least): the value fits when they are all equal to the sign
            top = p[31:]
            int32 = register(m, Mux(~p[-1] & top.any(), INT32_MAX,
                                    Mux(p[-1] & ~top.all(), INT32_MIN, p))[:32], f"r_i32{lane}")
            lanes_out.append(Mux(self.out_int32, int32, int8)[:32])
        data = Signal(cfg.y_width)
        for lane, value in enumerate(lanes_out):
            m.d.comb += data[32 * lane:32 * lane + 32].eq(value)
        m.d.comb += [out_fifo.w_en.eq(done_r), out_fifo.w_data.eq(data)]
        return m
