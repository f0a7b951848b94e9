"""Timing-driven placement: the placer's net weights (pnr.engine.gpl) and the STA that sets
them (pnr.engine.tdp)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from test_place_gpl import _problem

from pnr.engine import gpl


def _chain_problem(n: int = 40) -> gpl.Problem:
    """``n`` cells in a ring of 2-pin nets plus random 3-pin nets, two fixed IO pins."""
    rng = np.random.default_rng(5)
    nets = [[(k, 0.0, 0.0), ((k + 1) % n, 0.0, 0.0)] for k in range(n)]
    nets += [[(int(c), 0.0, 0.0) for c in rng.choice(n, 3, replace=False)] for _ in range(n)]
    nets += [[(-1, 0.0, 50_000.0), (0, 0.0, 0.0)], [(n // 2, 0.0, 0.0), (-1, 100_000.0, 50_000.0)]]
    return replace(_problem(n, nets), net_names=[f"n{k}" for k in range(len(nets))])


def _net_length(prob: gpl.Problem, x: np.ndarray, y: np.ndarray, k: int) -> float:
    a, b = prob.net_start[k], prob.net_start[k + 1]
    cells = prob.pin_cell[a:b]
    px = np.where(cells >= 0, x[np.maximum(cells, 0)], prob.pin_fx[a:b])
    py = np.where(cells >= 0, y[np.maximum(cells, 0)], prob.pin_fy[a:b])
    return float(px.max() - px.min() + py.max() - py.min())


def test_unit_weights_change_nothing() -> None:
    """Timing-driven placement off (no callback) and on with all weights 1 give the same
    positions, bit for bit: the wirelength-only behaviour is untouched."""
    plain = gpl.global_place(_chain_problem(), 0.3)
    calls = []

    def ones(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        calls.append(len(x))
        return np.ones(len(prob.net_names))

    prob = _chain_problem()
    weighted = gpl.global_place(prob, 0.3, ones)
    assert calls and weighted.reweights == len(calls)
    assert np.array_equal(plain.x, weighted.x) and np.array_equal(plain.y, weighted.y)


def test_heavy_net_gets_shorter() -> None:
    """A net weighted up by the callback ends up shorter than without the weight."""
    target = 3
    base_prob = _chain_problem()
    base = gpl.global_place(base_prob, 0.3)

    def heavy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        w = np.ones(len(prob.net_names))
        w[target] = 20.0
        return w

    prob = _chain_problem()
    got = gpl.global_place(prob, 0.3, heavy)
    assert got.reweights > 0
    assert _net_length(prob, got.x, got.y, target) < _net_length(base_prob, base.x, base.y,
                                                                 target)
