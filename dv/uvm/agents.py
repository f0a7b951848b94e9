"""Driver and monitor: the pyuvm side of the BFM.

The driver turns a GqmvItem into CSR writes and stream beats and publishes the item (with the
DUT's cycle count) on its analysis port; the monitor publishes every result beat it sees on the
``y`` stream. The scoreboard pairs them up.
"""

from __future__ import annotations

from pyuvm import ConfigDB, uvm_analysis_port, uvm_component, uvm_driver

from dv.bfm import GqmvBfm
from dv.payload import Geometry, pack_rowp, pack_w, pack_x
from dv.uvm.items import GqmvItem


class GqmvDriver(uvm_driver):
    def build_phase(self) -> None:
        self.ap = uvm_analysis_port("ap", self)

    def start_of_simulation_phase(self) -> None:
        self.bfm: GqmvBfm = ConfigDB().get(self, "", "BFM")
        self.geo: Geometry = ConfigDB().get(self, "", "GEOMETRY")

    async def run_phase(self) -> None:
        while True:
            item: GqmvItem = await self.seq_item_port.get_next_item()
            await self.drive(item)
            self.ap.write(item)
            self.seq_item_port.item_done()

    async def drive(self, item: GqmvItem) -> None:
        bfm, geo = self.bfm, self.geo
        item.backpressure = bfm.backpressure
        # Queue the beats first: the DUT takes none before the start, so CYCLES measures the
        # engine, not the testbench's reaction time.
        await bfm.queue_job(pack_x(item.x, geo), pack_w(item.w, item.gscale, geo),
                            pack_rowp(item.bias, item.mult, geo))
        await bfm.configure(item.length, item.rows, item.shift, item.out_int32)
        await bfm.wait_sent()
        item.cycles = await bfm.wait_done()


class GqmvResultMonitor(uvm_component):
    """Publishes each result beat (an int of LANES x 32 bits) as it leaves the DUT."""

    def build_phase(self) -> None:
        self.ap = uvm_analysis_port("ap", self)

    def start_of_simulation_phase(self) -> None:
        self.bfm: GqmvBfm = ConfigDB().get(self, "", "BFM")

    async def run_phase(self) -> None:
        while True:
            beat = await self.bfm.y.recv()
            self.ap.write(int(beat.payload))
