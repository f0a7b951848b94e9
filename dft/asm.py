"""Assemble ATPG vectors into scan-chain bit streams (what a tester applies).

``fault asm`` only understands Fault's own single boundary-scan chain, so this is the
equivalent for the chains of :mod:`dft.scan`. A pattern on the cut netlist assigns every pseudo
input (a flop's Q, named ``<instance>`` by ``fault cut``) and every primary input, and expects
every pseudo output (``<instance>.d``) and primary output. On the chains that becomes:

1. ``scan_en = 1``; shift ``load[c]`` into chain ``c`` (first character first), ``L`` clocks,
   ``L`` = longest chain; shorter chains are padded with leading zeros that fall off the end;
2. ``scan_en = 0``; drive the primary inputs ``pi`` (inputs in ``held`` stay at their value
   throughout, e.g. an asynchronous reset kept inactive); primary outputs must equal ``po``;
3. one capture clock;
4. ``scan_en = 1``; chain ``c``'s ``scan_out`` shows ``unload[c]`` (first character first, one
   per clock, before each shift clock) while the next pattern shifts in.
"""

from __future__ import annotations

import json
from pathlib import Path

from dft.scan import ChainInfo
from dft.vectors import VectorFileError, biguint_value, read_fault_json


def _bits(value: int, width: int) -> list[int]:
    return [(value >> k) & 1 for k in range(width)]


def _width(port: dict) -> int:
    return abs(int(port["from"]) - int(port["to"])) + 1


def _plain(name: str) -> str:
    return name[1:] if name.startswith("\\") else name


def assemble(tv_json: Path, chains: ChainInfo) -> dict:
    """Turn a Fault TVInfo file into per-pattern chain streams (see module docstring)."""
    data = read_fault_json(tv_json)
    flops = {f for c in chains.chains for f in c["flops"]}
    inputs = [(_plain(p["name"]), _width(p)) for p in data["inputs"]]
    outputs = [(_plain(p["name"]), _width(p)) for p in data["outputs"]]
    in_names = {n for n, _ in inputs}
    missing = [f for f in flops if f not in in_names]
    if missing:
        raise VectorFileError(
            f"{tv_json}: no vector input for chain flops {missing[:5]} "
            "(vectors of another netlist?)"
        )
    longest = max(chains.lengths)
    patterns = []
    for entry in data["coverageList"]:
        values = [biguint_value(v) for v in entry["vector"]]
        if len(values) != len(inputs):
            raise VectorFileError(f"{tv_json}: a vector has {len(values)} values for "
                                  f"{len(inputs)} inputs")
        state = {}
        pi = {}
        for (name, _w), value in zip(inputs, values, strict=True):
            if name in flops:
                state[name] = value & 1
            else:
                pi[name] = value
        out_width = sum(w for _, w in outputs)
        gold = int(entry["goldenOutput"], 16)
        out_bits = [(gold >> (out_width - 1 - k)) & 1 for k in range(out_width)]  # MSB first
        po, capture, pos = {}, {}, 0
        for name, width in outputs:
            msb_first = out_bits[pos:pos + width]
            value = int("".join(map(str, msb_first)) or "0", 2)
            pos += width
            if name.endswith(".d") and name[:-2] in flops:
                capture[name[:-2]] = value & 1
            else:
                po[name] = value
        load, unload = [], []
        for chain in chains.chains:
            order = chain["flops"]
            stream = "".join(str(state[f]) for f in reversed(order))
            load.append("0" * (longest - len(order)) + stream)
            unload.append("".join(str(capture[f]) for f in reversed(order)))
        patterns.append({"load": load, "pi": pi, "po": po, "unload": unload})
    return {
        "top": chains.top,
        "clock": chains.clock,
        "scan_enable": chains.scan_enable,
        "chains": [{k: c[k] for k in ("scan_in", "scan_out")} | {"length": len(c["flops"])}
                   for c in chains.chains],
        "shift_cycles": longest,
        "held": data.get("held", {}),
        "patterns": patterns,
    }


def write_streams(streams: dict, json_path: Path, text_path: Path) -> None:
    """The streams as JSON (for tools/tests) and as a flat text file (one line per pattern:
    ``load | pi | po | unload``, chains separated by spaces) for a tester."""
    json_path.write_text(json.dumps(streams, indent=1))
    lines = [f"// {streams['top']}: {len(streams['patterns'])} patterns, "
             f"{len(streams['chains'])} chains, {streams['shift_cycles']} shift cycles"]
    for pat in streams["patterns"]:
        pi = " ".join(f"{k}={v}" for k, v in sorted(pat["pi"].items()))
        po = " ".join(f"{k}={v}" for k, v in sorted(pat["po"].items()))
        lines.append(f"{' '.join(pat['load'])} | {pi} | {po} | {' '.join(pat['unload'])}")
    text_path.write_text("\n".join(lines) + "\n")
