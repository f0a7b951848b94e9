"""cocotb tests on the gate-level scan-inserted netlist (run through :mod:`dft.gatesim`).

``test_chain_shift``: with ``scan_en = 1`` a random stream shifted into every chain comes out of
``scan_out`` exactly ``length`` clocks later - every scan flop, SCD link and the scan enable work.

``test_atpg_patterns``: the ATPG patterns (all, or the first ``DFT_N_PATTERNS``) are applied
the way a tester would (load, primary inputs, check primary outputs, capture, unload) and every
captured bit must equal the fault-free response computed by the ATPG: the chains carry the
vectors to the right flops and the capture goes through the functional D paths.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge, Timer

PERIOD_NS = 20


def _setup():
    patterns = json.loads(Path(os.environ["DFT_PATTERNS"]).read_text())
    meta = json.loads(Path(os.environ["DFT_WRAPPER_META"]).read_text())
    return patterns, meta


def _set_bits(signal, bits: list[int]) -> None:
    signal.value = sum(b << i for i, b in enumerate(bits))


async def _start(dut) -> None:
    dut.scan_en.value = 1
    dut.scan_in.value = 0
    dut.pi.value = 0
    cocotb.start_soon(Clock(dut.clk, PERIOD_NS, unit="ns").start())
    await FallingEdge(dut.clk)


@cocotb.test()
async def test_chain_shift(dut):
    patterns, _meta = _setup()
    chains = patterns["chains"]
    longest = patterns["shift_cycles"]
    rng = random.Random(7)
    await _start(dut)
    streams = [[rng.getrandbits(1) for _ in range(longest)] for _ in chains]
    for cycle in range(longest):  # shift the streams in
        _set_bits(dut.scan_in, [s[cycle] for s in streams])
        await FallingEdge(dut.clk)
    seen = [[] for _ in chains]
    for _cycle in range(longest):  # read them back, one bit per clock
        _set_bits(dut.scan_in, [0] * len(chains))
        word = int(dut.scan_out.value)
        for c in range(len(chains)):
            seen[c].append((word >> c) & 1)
        await FallingEdge(dut.clk)
    for c, chain in enumerate(chains):
        length = chain["length"]
        # bit k shifted in appears at scan_out after `length` clocks
        expected = streams[c][longest - length:]
        assert seen[c][:length] == expected, f"chain {c}: shifted out {seen[c][:length]}, " \
                                             f"expected {expected}"


@cocotb.test()
async def test_atpg_patterns(dut):
    patterns, meta = _setup()
    chains = patterns["chains"]
    longest = patterns["shift_cycles"]
    count = int(os.environ.get("DFT_N_PATTERNS", "0")) or len(patterns["patterns"])
    await _start(dut)
    checked = 0
    for number, pat in enumerate(patterns["patterns"][:count]):
        dut.scan_en.value = 1
        for cycle in range(longest):
            _set_bits(dut.scan_in, [int(pat["load"][c][cycle]) for c in range(len(chains))])
            await FallingEdge(dut.clk)
        dut.scan_en.value = 0
        _set_bits(dut.pi, [pat["pi"][name] & 1 for name in meta["pi"]])
        await Timer(PERIOD_NS // 4, unit="ns")
        po = int(dut.po.value)
        for i, name in enumerate(meta["po"]):
            assert (po >> i) & 1 == pat["po"][name] & 1, f"pattern {number}: PO {name} wrong"
        await RisingEdge(dut.clk)  # capture
        await FallingEdge(dut.clk)
        dut.scan_en.value = 1
        unload = [[] for _ in chains]
        for _cycle in range(longest):
            word = int(dut.scan_out.value)
            for c in range(len(chains)):
                unload[c].append((word >> c) & 1)
            await FallingEdge(dut.clk)
        for c, chain in enumerate(chains):
            got = "".join(map(str, unload[c][:chain["length"]]))
            assert got == pat["unload"][c], f"pattern {number} chain {c}: captured {got}, " \
                                            f"expected {pat['unload'][c]}"
        checked += 1
    assert checked > 0, "no ATPG pattern to apply"
    dut._log.info(f"{checked} ATPG patterns applied and matched")
