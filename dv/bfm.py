"""Bus functional model: cocotbext-axi drivers on the accelerator's ports.

No hand-written bus protocol: the CSR bus is driven by cocotbext-axi's ``AxiLiteMaster`` and the
valid/ready streams by its generic ``StreamSource``/``StreamSink`` (defined for Amaranth's
``payload``/``valid``/``ready`` names, flattened as ``<port>__<field>``).
"""

from __future__ import annotations

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge
from cocotbext.axi import AxiLiteBus, AxiLiteMaster
from cocotbext.axi.stream import define_stream

from design.csr import REG_CTRL, REG_CYCLES, REG_INFO, REG_LEN, REG_ROWS, REG_SHIFT, REG_STATUS
from dv.payload import Geometry

GqmvStreamBus, GqmvStreamTransaction, GqmvStreamSource, GqmvStreamSink, GqmvStreamMonitor = (
    define_stream("GqmvStream", signals=["payload", "valid", "ready"]))

STATUS_BUSY, STATUS_DONE, STATUS_ERROR = 1, 2, 4


def stall_pattern(rng: random.Random, ready_ratio: float = 0.6):
    """Endless random pause pattern for a cocotbext-axi pause generator (True = stall)."""
    while True:
        yield rng.random() > ready_ratio


class GqmvBfm:
    """Clock, reset, CSR access and the four streams of one DUT instance."""

    def __init__(self, dut: object) -> None:
        self.dut = dut
        self.clk = dut.clk
        self.csr = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "csr", bus_separator="__"),
                                 dut.clk, dut.rst)
        self.x = GqmvStreamSource(GqmvStreamBus.from_prefix(dut, "x", bus_separator="__"),
                                  dut.clk, dut.rst)
        self.w = GqmvStreamSource(GqmvStreamBus.from_prefix(dut, "w", bus_separator="__"),
                                  dut.clk, dut.rst)
        self.rowp = GqmvStreamSource(GqmvStreamBus.from_prefix(dut, "rowp", bus_separator="__"),
                                     dut.clk, dut.rst)
        self.y = GqmvStreamSink(GqmvStreamBus.from_prefix(dut, "y", bus_separator="__"),
                                dut.clk, dut.rst)
        for log in (self.csr.write_if.log, self.csr.read_if.log, self.x.log, self.w.log,
                    self.rowp.log, self.y.log):
            log.setLevel("WARNING")
        self.backpressure = False

    async def start(self) -> None:
        cocotb.start_soon(Clock(self.clk, 10, unit="ns").start())
        self.dut.rst.value = 1
        await ClockCycles(self.clk, 4)
        self.dut.rst.value = 0
        await RisingEdge(self.clk)

    def set_backpressure(self, enabled: bool, seed: int) -> None:
        """Random stalls on every stream (sources pause valid, the sink drops ready)."""
        self.backpressure = enabled
        for i, port in enumerate((self.x, self.w, self.rowp, self.y)):
            if enabled:
                port.set_pause_generator(stall_pattern(random.Random(seed * 7 + i)))
            else:
                port.clear_pause_generator()
                port.pause = False

    async def geometry(self) -> Geometry:
        info = await self.read(REG_INFO)
        lanes, group, groups = info & 0xFF, (info >> 8) & 0xFF, info >> 16
        return Geometry(lanes=lanes, group=group, max_len=groups * group)

    async def write(self, addr: int, value: int) -> None:
        await self.csr.write_dword(addr, value & 0xFFFFFFFF)

    async def read(self, addr: int) -> int:
        return int(await self.csr.read_dword(addr))

    async def configure(self, length: int, rows: int, shift: int, out_int32: bool) -> None:
        await self.write(REG_LEN, length)
        await self.write(REG_ROWS, rows)
        await self.write(REG_SHIFT, shift)
        await self.write(REG_CTRL, 1 | (int(out_int32) << 1))

    async def wait_done(self, poll_cycles: int = 8, timeout_cycles: int = 10_000_000) -> int:
        """Poll STATUS until done; return CYCLES. Raises on a config error or timeout."""
        waited = 0
        while True:
            status = await self.read(REG_STATUS)
            if status & STATUS_ERROR:
                raise RuntimeError("the DUT refused the job configuration (STATUS.error)")
            if status & STATUS_DONE and not status & STATUS_BUSY:
                return await self.read(REG_CYCLES)
            await ClockCycles(self.clk, poll_cycles)
            waited += poll_cycles
            if waited > timeout_cycles:
                raise TimeoutError(f"job not done after {timeout_cycles} cycles")

    async def queue_job(self, x_beats: list[int], w_beats: list[int],
                        rowp_beats: list[int]) -> None:
        """Queue every beat of a job on its stream (unbounded queues: returns at once)."""
        for beat in x_beats:
            await self.x.send(GqmvStreamTransaction(payload=beat))
        for beat in rowp_beats:
            await self.rowp.send(GqmvStreamTransaction(payload=beat))
        for beat in w_beats:
            await self.w.send(GqmvStreamTransaction(payload=beat))

    async def wait_sent(self) -> None:
        """Wait until the DUT has accepted every queued beat."""
        await self.x.wait()
        await self.w.wait()
        await self.rowp.wait()
