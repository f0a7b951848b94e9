"""Scoreboard: compares every result with ``model.integer_ops.gqmv`` (the only predictor)."""

from __future__ import annotations

import numpy as np
from pyuvm import ConfigDB, uvm_component, uvm_tlm_analysis_fifo

from dv.payload import Geometry, unpack_y
from dv.uvm.coverage import sample_coverage
from dv.uvm.items import GqmvItem


class GqmvScoreboard(uvm_component):
    def build_phase(self) -> None:
        self.cmd_fifo = uvm_tlm_analysis_fifo("cmd_fifo", self)
        self.result_fifo = uvm_tlm_analysis_fifo("result_fifo", self)
        self.cmd_export = self.cmd_fifo.analysis_export
        self.result_export = self.result_fifo.analysis_export
        self.checked = 0
        self.jobs: list[dict[str, object]] = []
        self.failures: list[str] = []

    def start_of_simulation_phase(self) -> None:
        self.geo: Geometry = ConfigDB().get(self, "", "GEOMETRY")

    def check_phase(self) -> None:
        while True:
            ok, item = self.cmd_fifo.try_get()
            if not ok:
                break
            self.check_item(item)
        ok, extra = self.result_fifo.try_get()
        if ok:
            self.failures.append(f"unexpected result beat {extra:#x} after the last job")
        for failure in self.failures:
            self.logger.error(failure)
        self.logger.info(f"scoreboard: {self.checked} jobs checked, {len(self.failures)} failed")

    def check_item(self, item: GqmvItem) -> None:
        beats = []
        for _ in range(item.rows // self.geo.lanes):
            ok, beat = self.result_fifo.try_get()
            if not ok:
                self.failures.append(f"{item}: missing result beats")
                return
            beats.append(beat)
        got = unpack_y(beats, self.geo)
        want = item.expected()
        self.checked += 1
        self.jobs.append({"name": item.get_name(), "rows": item.rows, "length": item.length,
                          "cycles": item.cycles, "backpressure": item.backpressure})
        sample_coverage(item, self.geo.lanes, self.geo.max_len)
        if not np.array_equal(got, want):
            bad = np.flatnonzero(got != want)
            self.failures.append(
                f"{item}: {len(bad)} rows differ, first row {bad[0]}: got {got[bad[0]]} "
                f"want {want[bad[0]]}")
