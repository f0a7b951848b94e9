"""AXI4-Lite control/status registers of the accelerator.

A minimal AXI4-Lite slave (one outstanding transaction per direction, the write address and data
accepted together) in front of a handful of 32-bit registers. AXI4-Lite was chosen because
cocotbext-axi provides a complete master for it, so the testbench needs no hand-written bus model.

Register map (byte addresses):

    0x00 CTRL    W: bit0 start (self-clearing), bit1 out_int32      R: bit1 out_int32
    0x04 LEN     activation length K (multiple of GROUP, <= MAX_LEN)
    0x08 ROWS    output rows N (multiple of LANES, < 2**16)
    (a LEN/ROWS value wider than its register reads back as 0 and makes the next start fail)
    0x0C SHIFT   requantization right shift (0..62)
    0x10 STATUS  R: bit0 busy, bit1 done (sticky until the next start), bit2 config error
    0x14 CYCLES  R: clock cycles from start to done of the last job (24 bits, wraps)
    0x18 INFO    R: LANES [7:0], GROUP [15:8], MAX_LEN/GROUP [31:16]
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from design.config import GqmvConfig

ADDR_WIDTH = 5
ROWS_BITS = 16
CYCLES_BITS = 24
REG_CTRL, REG_LEN, REG_ROWS, REG_SHIFT, REG_STATUS, REG_CYCLES, REG_INFO = range(0, 0x1C, 4)


def axil_signature(addr_width: int = ADDR_WIDTH) -> wiring.Signature:
    """AXI4-Lite, seen from the manager (use ``In(...)`` on the subordinate)."""
    return wiring.Signature({
        "awaddr": Out(addr_width), "awvalid": Out(1), "awready": In(1),
        "wdata": Out(32), "wstrb": Out(4), "wvalid": Out(1), "wready": In(1),
        "bresp": In(2), "bvalid": In(1), "bready": Out(1),
        "araddr": Out(addr_width), "arvalid": Out(1), "arready": In(1),
        "rdata": In(32), "rresp": In(2), "rvalid": In(1), "rready": Out(1),
    })


class CsrBlock(wiring.Component):
    """The register file; ``start`` pulses for one cycle when CTRL bit0 is written with 1."""

    def __init__(self, cfg: GqmvConfig) -> None:
        self.cfg = cfg
        super().__init__({
            "bus": In(axil_signature()),
            "start": Out(1), "out_int32": Out(1),
            "length": Out(cfg.max_len.bit_length() + 1), "rows": Out(ROWS_BITS), "shift": Out(6),
            "busy": In(1), "done": In(1), "error": In(1), "cycles": In(CYCLES_BITS),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        bus, cfg = self.bus, self.cfg
        info = Const(cfg.lanes | (cfg.group << 8) | (cfg.max_groups << 16), 32)

        # Write channel: take address and data together, answer OKAY once.
        bvalid = Signal()
        accept_w = Signal()
        m.d.comb += [
            accept_w.eq(bus.awvalid & bus.wvalid & ~bvalid),
            bus.awready.eq(accept_w), bus.wready.eq(accept_w),
            bus.bvalid.eq(bvalid), bus.bresp.eq(0),
        ]
        m.d.sync += self.start.eq(0)
        with m.If(bvalid & bus.bready):
            m.d.sync += bvalid.eq(0)
        with m.If(accept_w):
            m.d.sync += bvalid.eq(1)
            with m.Switch(bus.awaddr[2:]):
                with m.Case(REG_CTRL >> 2):
                    m.d.sync += [self.start.eq(bus.wdata[0]), self.out_int32.eq(bus.wdata[1])]
                # A value too wide for its register is stored as 0, which the job start refuses
                # (STATUS.error), instead of being silently truncated.
                for reg, port in ((REG_LEN, self.length), (REG_ROWS, self.rows)):
                    with m.Case(reg >> 2):
                        fits = bus.wdata[len(port):] == 0
                        m.d.sync += port.eq(Mux(fits, bus.wdata[:len(port)], 0))
                with m.Case(REG_SHIFT >> 2):
                    # 63 (all ones) marks any out-of-range value so the start refuses it.
                    m.d.sync += self.shift.eq(bus.wdata[:6])
                    with m.If(bus.wdata[6:] != 0):
                        m.d.sync += self.shift.eq(0x3F)

        # Read channel: the address is latched, the data multiplexed from the live registers.
        rvalid = Signal()
        raddr = Signal(ADDR_WIDTH - 2)
        m.d.comb += [bus.arready.eq(~rvalid), bus.rvalid.eq(rvalid), bus.rresp.eq(0)]
        with m.If(rvalid & bus.rready):
            m.d.sync += rvalid.eq(0)
        with m.If(bus.arvalid & ~rvalid):
            m.d.sync += [rvalid.eq(1), raddr.eq(bus.araddr[2:])]
        with m.Switch(raddr):
            with m.Case(REG_CTRL >> 2):
                m.d.comb += bus.rdata.eq(Cat(Const(0, 1), self.out_int32))
            with m.Case(REG_LEN >> 2):
                m.d.comb += bus.rdata.eq(self.length)
            with m.Case(REG_ROWS >> 2):
                m.d.comb += bus.rdata.eq(self.rows)
            with m.Case(REG_SHIFT >> 2):
                m.d.comb += bus.rdata.eq(self.shift)
            with m.Case(REG_STATUS >> 2):
                m.d.comb += bus.rdata.eq(Cat(self.busy, self.done, self.error))
            with m.Case(REG_CYCLES >> 2):
                m.d.comb += bus.rdata.eq(self.cycles)
            with m.Case(REG_INFO >> 2):
                m.d.comb += bus.rdata.eq(info)
        return m
