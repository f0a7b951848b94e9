"""The GQMV transaction: one matrix-vector job and its observed result."""

from __future__ import annotations

import numpy as np
from pyuvm import uvm_sequence_item

from model.integer_ops import gqmv


class GqmvItem(uvm_sequence_item):
    """Operands of one job (the arguments of ``integer_ops.gqmv``) plus what the DUT did."""

    def __init__(self, name: str = "gqmv_item", *, x: np.ndarray, w: np.ndarray,
                 gscale: np.ndarray, bias: np.ndarray, mult: np.ndarray, shift: int,
                 group: int, out_int32: bool, tag: str = "random") -> None:
        super().__init__(name)
        self.x, self.w, self.gscale = x, w, gscale
        self.bias, self.mult, self.shift = bias, mult, int(shift)
        self.group, self.out_int32, self.tag = group, bool(out_int32), tag
        self.cycles = 0          # CYCLES register after the job
        self.backpressure = False

    @property
    def rows(self) -> int:
        return int(self.w.shape[0])

    @property
    def length(self) -> int:
        return int(self.w.shape[1])

    def expected(self) -> np.ndarray:
        """The prediction: the contract function itself, nothing re-implemented here."""
        return gqmv(self.x, self.w, self.gscale, self.bias, self.mult, self.shift, self.group,
                    self.out_int32).astype(np.int64)

    def __str__(self) -> str:
        mode = "int32" if self.out_int32 else "int8"
        return (f"{self.get_name()}[{self.tag}] N={self.rows} K={self.length} shift={self.shift} "
                f"{mode}")
