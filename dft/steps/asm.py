"""Step ``asm``: ATPG vectors to scan-chain bit streams (see :mod:`dft.asm`)."""

from __future__ import annotations

import time

from dft.asm import assemble, write_streams
from dft.scan import ChainInfo
from dft.steps.common import pass_through
from gptnano.step import StepContext

PRODUCES = ("patterns.json", "patterns.txt")


def run(ctx: StepContext) -> dict[str, float | int | str]:
    start = time.monotonic()
    streams = assemble(ctx.input("tv.json"), ChainInfo.read(ctx.input("scan.json")))
    write_streams(streams, ctx.output("patterns.json"), ctx.output("patterns.txt"))
    pass_through(ctx, PRODUCES)
    n = len(streams["patterns"])
    # tester cycles: each pattern shifts once (unload overlaps the next load), one capture each
    cycles = (n + 1) * streams["shift_cycles"] + n
    return {
        "dft_patterns": n,
        "dft_test_cycles": cycles,
        "dft_asm_runtime_s": round(time.monotonic() - start, 2),
    }
