"""Bit layouts of the accelerator's stream beats (the host side of design/README.md's table).

Pure functions, shared by the pyuvm driver/monitor and by the real-model ``matvec`` bridge, so
the packing is written once and unit-tested without a simulator.

    x beat    : GROUP int8, element i at bits [8i, 8i+8)
    w beat    : per lane l (row block*LANES + l): GROUP int8 weights, then the uint16 gscale
    rowp beat : per lane l: int32 bias, then uint16 mult
    y beat    : per lane l: 32 bits (int8 sign-extended, or int32)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.integer_ops import GSCALE_BITS, MULT_BITS


@dataclass(frozen=True)
class Geometry:
    """The three parameters the host needs to know (readable from the INFO register)."""

    lanes: int
    group: int
    max_len: int


def _pack_fields(fields: np.ndarray, width: int) -> int:
    """Concatenate integers, each ``width`` bits two's complement, first field lowest."""
    mask = (1 << width) - 1
    value = 0
    for i, f in enumerate(np.asarray(fields, dtype=np.int64).ravel().tolist()):
        value |= (int(f) & mask) << (width * i)
    return value


def pack_x(x: np.ndarray, geo: Geometry) -> list[int]:
    """Activation beats, one per group."""
    x = np.asarray(x, dtype=np.int64)
    return [_pack_fields(x[g:g + geo.group], 8) for g in range(0, len(x), geo.group)]


def pack_w(w: np.ndarray, gscale: np.ndarray, geo: Geometry) -> list[int]:
    """Weight beats, row block major, then group: N/LANES * K/GROUP beats."""
    n, k = w.shape
    lane_bits = geo.group * 8 + GSCALE_BITS
    beats = []
    for b in range(0, n, geo.lanes):
        for g in range(k // geo.group):
            value = 0
            for lane in range(geo.lanes):
                row = b + lane
                lane_val = _pack_fields(w[row, g * geo.group:(g + 1) * geo.group], 8)
                lane_val |= int(gscale[row, g]) << (geo.group * 8)
                value |= lane_val << (lane * lane_bits)
            beats.append(value)
    return beats


def pack_rowp(bias: np.ndarray, mult: np.ndarray, geo: Geometry) -> list[int]:
    """Row-parameter beats, one per row block."""
    beats = []
    lane_bits = 32 + MULT_BITS
    for b in range(0, len(bias), geo.lanes):
        value = 0
        for lane in range(geo.lanes):
            lane_val = (int(bias[b + lane]) & 0xFFFFFFFF) | (int(mult[b + lane]) << 32)
            value |= lane_val << (lane * lane_bits)
        beats.append(value)
    return beats


def unpack_y(beats: list[int], geo: Geometry) -> np.ndarray:
    """Result beats -> int64 array of N results (each lane's 32 bits as a signed integer)."""
    out = []
    for beat in beats:
        for lane in range(geo.lanes):
            v = (int(beat) >> (32 * lane)) & 0xFFFFFFFF
            out.append(v - (1 << 32) if v >> 31 else v)
    return np.asarray(out, dtype=np.int64)


def pad_rows(w: np.ndarray, gscale: np.ndarray, bias: np.ndarray, mult: np.ndarray,
             lanes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pad N up to a multiple of LANES with zero rows (the host drops their results)."""
    n = w.shape[0]
    extra = (-n) % lanes
    if not extra:
        return w, gscale, bias, mult
    return (np.pad(w, ((0, extra), (0, 0))), np.pad(gscale, ((0, extra), (0, 0))),
            np.pad(bias, (0, extra)), np.pad(mult, (0, extra)))

