"""Geometry of buffer trees: balanced clustering of sink pins and wire estimates.

Pure functions on pin positions (nm), shared by the clock tree and the high-fanout signal
trees of :mod:`pnr.engine.cts`:

* :func:`bisect` -- recursive median bisection along the wider side of the bounding box until
  every group has at most ``max_size`` members. Halves differ by at most one member, so every
  leaf of a clock tree sees about the same load and all sinks sit at the same depth: the tree
  is balanced by construction, which is what keeps the skew low without a delay-balancing pass;
* :func:`centre` -- where a group's buffer goes: the bounding-box centre, which minimises the
  longest Manhattan distance to a member (the skew-relevant one);
* :func:`rmst_length` -- rectilinear minimum spanning tree length, the net's wire estimate
  before routing (within 1.5x of the rectilinear Steiner tree, usually much closer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Pin:
    """A net terminal: instance (or ``PIN`` for a port), pin name, position in nm."""

    inst: str
    pin: str
    x: float
    y: float


def bisect(pins: Sequence[Pin], max_size: int) -> list[list[Pin]]:
    """Groups of at most ``max_size`` pins, by recursive balanced median bisection."""
    if max_size < 1:
        raise ValueError(f"max_size must be >= 1, got {max_size}")
    if len(pins) <= max_size:
        return [list(pins)] if pins else []
    xs = [p.x for p in pins]
    ys = [p.y for p in pins]
    by_x = max(xs) - min(xs) >= max(ys) - min(ys)
    # ties broken by the other coordinate and the name, so the result is deterministic
    order = sorted(pins, key=(lambda p: (p.x, p.y, p.inst, p.pin)) if by_x
                   else (lambda p: (p.y, p.x, p.inst, p.pin)))
    half = (len(order) + 1) // 2
    return bisect(order[:half], max_size) + bisect(order[half:], max_size)


def centre(pins: Sequence[Pin]) -> tuple[float, float]:
    """Bounding-box centre of ``pins``."""
    xs = [p.x for p in pins]
    ys = [p.y for p in pins]
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2


def manhattan(a: tuple[float, float], b: tuple[float, float]) -> float:
    return abs(a[0] - b[0]) + abs(a[1] - b[1])


def rmst_length(points: Sequence[tuple[float, float]]) -> float:
    """Length (nm) of the rectilinear minimum spanning tree over ``points`` (Prim, O(n^2):
    the nets built here have at most a few dozen pins)."""
    if len(points) < 2:
        return 0.0
    best = [manhattan(points[0], p) for p in points]
    done = [False] * len(points)
    done[0] = True
    total = 0.0
    for _ in range(len(points) - 1):
        k = min((i for i in range(len(points)) if not done[i]), key=best.__getitem__)
        done[k] = True
        total += best[k]
        for i, p in enumerate(points):
            if not done[i]:
                best[i] = min(best[i], manhattan(points[k], p))
    return total
