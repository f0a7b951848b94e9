"""Test vectors in Fault's JSON format (``TVInfo``), so ``fault asm``/``fault atpg`` can read ours.

Fault's layout (``fault atpg -o``): ``inputs``/``outputs`` list the cut netlist's ports
(``name``, ``from``, ``to``, ``polarity``, ``ordinal``), in declaration order without the
bypassed clock/reset; each ``coverageList`` entry has ``vector`` (one Swift ``BigUInt`` per input
port, encoded ``["+", limb0, limb1, ...]`` with 64-bit little-endian limbs), ``coverage``
(``sa0``/``sa1`` fault-site names credited to it) and ``goldenOutput``: the fault-free outputs
as a hex string whose most significant bit is the first output port.
"""

from __future__ import annotations

import json
from pathlib import Path

from dft.atpg_engine import AtpgResult, Circuit, _pack
from dft.netlist import Port


class VectorFileError(ValueError):
    """A vector file does not match the netlist it is used with."""


def _port_json(port: Port, ordinal: int) -> dict:
    hi = port.offset + len(port.nets) - 1
    return {
        "name": port.name if len(port.nets) > 1 or port.name.isidentifier() else "\\" + port.name,
        "from": hi if not port.upto else port.offset,
        "to": port.offset if not port.upto else hi,
        "polarity": port.direction,
        "ordinal": ordinal,
    }


def _biguint(value: int) -> list:
    limbs: list = ["+"]
    while True:
        limbs.append(value & (2**64 - 1))
        value >>= 64
        if not value:
            return limbs


def port_values(ports: list[Port], bits: list[int]) -> list[int]:
    """Group a flat bit list (ports in order, LSB first) into one integer per port."""
    values, pos = [], 0
    for port in ports:
        value = 0
        for k in range(len(port.nets)):
            value |= (bits[pos + k] & 1) << k
        values.append(value)
        pos += len(port.nets)
    return values


def golden_outputs(circuit: Circuit, vectors: list[list[int]]) -> list[list[int]]:
    """Fault-free output bits (outputs in order, LSB first per port) for each vector."""
    result: list[list[int]] = []
    for start in range(0, len(vectors), 64):
        chunk = vectors[start:start + 64]
        good = circuit.simulate(_pack(chunk, len(circuit.input_nets)), len(chunk))
        for bit in range(len(chunk)):
            result.append([(good[circuit.index[n]] >> bit) & 1 for n in circuit.output_nets])
    return result


def write_fault_json(path: Path, circuit: Circuit, result: AtpgResult,
                     held: dict[str, int] | None = None) -> None:
    """Write the compacted vectors of ``result`` in Fault's TVInfo JSON. ``held`` (inputs held
    constant during test, e.g. an asynchronous reset) is an extra key Fault ignores."""
    ins, outs = circuit.netlist.inputs, circuit.netlist.outputs
    goldens = golden_outputs(circuit, result.vectors)
    entries = []
    for vec, gold, credited in zip(result.vectors, goldens, result.detected_by, strict=True):
        out_bits = "".join(str(b) for b in _msb_first(outs, gold))
        entries.append(
            {
                "vector": [_biguint(v) for v in port_values(ins, vec)],
                "coverage": {
                    "sa0": [f.site for f in credited if f.stuck == 0],
                    "sa1": [f.site for f in credited if f.stuck == 1],
                },
                "goldenOutput": f"{int(out_bits or '0', 2):x}",
            }
        )
    data = {
        "inputs": [_port_json(p, p.ordinal) for p in ins],
        "outputs": [_port_json(p, p.ordinal) for p in outs],
        "coverageList": entries,
        "held": dict(held or {}),
    }
    path.write_text(json.dumps(data, indent=1))


def _msb_first(ports: list[Port], bits: list[int]) -> list[int]:
    """Fault's golden-output bit order: first port's MSB first, last port's LSB last."""
    out: list[int] = []
    pos = 0
    for port in ports:
        width = len(port.nets)
        out.extend(reversed(bits[pos:pos + width]))
        pos += width
    return out


def read_fault_json(path: Path) -> dict:
    """Load a Fault TVInfo file; a clear error if it is not one."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise VectorFileError(f"{path}: not a readable JSON vector file: {exc}") from exc
    for key in ("inputs", "outputs", "coverageList"):
        if key not in data:
            raise VectorFileError(f"{path}: missing '{key}' (not a Fault TVInfo file)")
    return data


def biguint_value(limbs: list) -> int:
    """Inverse of the BigUInt encoding."""
    value = 0
    for i, limb in enumerate(limbs[1:]):
        value |= int(limb) << (64 * i)
    return value
