"""The pyuvm environment: sequencer, driver, result monitor, scoreboard (TinyALU layout)."""

from __future__ import annotations

from pyuvm import uvm_env, uvm_sequencer

from dv.uvm.agents import GqmvDriver, GqmvResultMonitor
from dv.uvm.scoreboard import GqmvScoreboard


class GqmvEnv(uvm_env):
    def build_phase(self) -> None:
        self.seqr = uvm_sequencer("seqr", self)
        self.driver = GqmvDriver.create("driver", self)
        self.monitor = GqmvResultMonitor("monitor", self)
        self.scoreboard = GqmvScoreboard("scoreboard", self)

    def connect_phase(self) -> None:
        self.driver.seq_item_port.connect(self.seqr.seq_item_export)
        self.driver.ap.connect(self.scoreboard.cmd_export)
        self.monitor.ap.connect(self.scoreboard.result_export)
