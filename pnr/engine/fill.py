"""Fill step: close every gap in every row with decap (and fill_1/fill_2) cells.

Reads ``<top>.layout.json``; writes it back with filler components, plus ``<top>.def``.
Continuous rows keep the n-well and the supply rails unbroken (Magic and the FEOL rules flag
n-well notches between separated cells), and the decaps add supply capacitance.  Fill runs
after routing: the router never uses li1 and the fillers only add rails on met1, so inserting
them cannot create a short with the wiring.
"""

from __future__ import annotations

import time

from pnr.engine import library, tech
from pnr.engine.context import StepContext, StepError
from pnr.engine.layout import Component, Layout, write_def


def fill_rows(layout: Layout) -> int:
    lib = library.cells()
    cx0, _, cx1, _ = layout.core
    nsites = (cx1 - cx0) // tech.SITE_W
    added = 0
    for r, (y, orient) in enumerate(layout.rows):
        used = [False] * nsites
        for c in layout.components:
            if c.placed and c.y == y:
                s0 = (c.x - cx0) // tech.SITE_W
                for s in range(s0, s0 + lib[c.cell].width // tech.SITE_W):
                    if used[s]:
                        raise StepError(f"fill: overlap at row {r} site {s} ({c.name})")
                    used[s] = True
        s = 0
        while s < nsites:
            if used[s]:
                s += 1
                continue
            gap = 0
            while s + gap < nsites and not used[s + gap]:
                gap += 1
            pos = s
            for width, cell in library.FILLERS:
                while gap >= width:
                    layout.components.append(Component(
                        f"FILL_{r}_{pos}", cell, cx0 + pos * tech.SITE_W, y, orient, "fill", True))
                    pos += width
                    gap -= width
                    added += 1
            s = pos
    return added


def run(ctx: StepContext) -> dict[str, float | int | str]:
    t0 = time.monotonic()
    layout = Layout.load(ctx.input("layout.json"))
    added = fill_rows(layout)
    layout.save(ctx.output("layout.json"))
    write_def(layout, ctx.output("def"))
    decaps = sum(1 for c in layout.components if c.kind == "fill" and "decap" in c.cell)
    return {"fillers": added, "decaps": decaps, "runtime_s": round(time.monotonic() - t0, 2)}
