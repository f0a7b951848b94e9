"""Host-side packing (no simulator): beats must round-trip and follow the documented layout."""

from __future__ import annotations

import numpy as np

from design.config import CONFIGS
from dv.payload import Geometry, pack_rowp, pack_w, pack_x, pad_rows, unpack_y
from dv.uvm.stimulus import corner_items, random_item
from model.integer_ops import check_operands


def test_x_and_w_layout():
    geo = Geometry(lanes=2, group=2, max_len=4)
    assert pack_x(np.array([1, -1, -128, 127]), geo) == [0xFF01, 0x7F80]
    w = np.array([[1, 2], [-1, 3]])
    beat = pack_w(w, np.array([[0xABCD], [0x1234]]), geo)[0]
    lane_bits = 2 * 8 + 16
    assert beat & 0xFFFF == 0x0201 and (beat >> 16) & 0xFFFF == 0xABCD
    assert (beat >> lane_bits) & 0xFFFF == 0x03FF and beat >> (lane_bits + 16) == 0x1234


def test_rowp_and_y_signs():
    geo = Geometry(lanes=2, group=2, max_len=4)
    beat = pack_rowp(np.array([-1, 5]), np.array([7, 65535]), geo)[0]
    assert beat & 0xFFFFFFFF == 0xFFFFFFFF and (beat >> 32) & 0xFFFF == 7
    assert (beat >> 48) & 0xFFFFFFFF == 5 and beat >> 80 == 65535
    assert unpack_y([(0x80 << 32) | 0xFFFFFF80], geo).tolist() == [-128, 128]


def test_pad_rows_to_lanes():
    w, g, b, m = pad_rows(np.ones((5, 4)), np.ones((5, 1)), np.ones(5), np.ones(5), 4)
    assert w.shape == (8, 4) and not w[5:].any() and not m[5:].any()


def test_stimulus_is_legal_for_the_contract():
    rng = np.random.default_rng(3)
    for cfg in CONFIGS.values():
        items = corner_items(cfg, 8) + [random_item(rng, cfg, 8, "r") for _ in range(20)]
        for it in items:
            check_operands(it.x, it.w, it.gscale, it.bias, it.mult, it.shift, it.group)
            assert it.rows % cfg.lanes == 0 and it.length <= cfg.max_len
