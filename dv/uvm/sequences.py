"""pyuvm sequences: constrained random, directed corners, and a fixed list (real weights)."""

from __future__ import annotations

import numpy as np
from pyuvm import uvm_sequence

from design.config import GqmvConfig
from dv.uvm.items import GqmvItem
from dv.uvm.stimulus import corner_items, random_item


class ItemListSeq(uvm_sequence):
    """Sends prepared items in order (corners, layers of a real checkpoint)."""

    def __init__(self, name: str, items: list[GqmvItem]) -> None:
        super().__init__(name)
        self.items = items

    async def body(self) -> None:
        for item in self.items:
            await self.start_item(item)
            await self.finish_item(item)


class RandomSeq(uvm_sequence):
    """``count`` constrained-random jobs (see dv.uvm.stimulus.random_item)."""

    def __init__(self, name: str, cfg: GqmvConfig, count: int, seed: int, max_rows: int) -> None:
        super().__init__(name)
        self.cfg, self.count, self.max_rows = cfg, count, max_rows
        self.rng = np.random.default_rng(seed)

    async def body(self) -> None:
        for i in range(self.count):
            item = random_item(self.rng, self.cfg, self.max_rows, f"rand{i}")
            await self.start_item(item)
            await self.finish_item(item)


def corner_seq(cfg: GqmvConfig, rows: int) -> ItemListSeq:
    return ItemListSeq("corners", corner_items(cfg, rows))
