"""Placement step: sparse analytic global placement, Abacus legalization, detailed placement.

Reads ``<top>.layout.json`` (from floorplan); writes it back with every logic cell placed, plus
``<top>.def``.

The algorithms live in :mod:`pnr.engine.gpl` (Bound2Bound quadratic wirelength solved by
conjugate gradient on a ``scipy.sparse`` system, with SimPL look-ahead density spreading to
``placement.density``) and :mod:`pnr.engine.dpl` (Abacus legalization into the rows' free
segments between the fixed tap cells, then moves into white space that lower HPWL). Memory
and time grow about linearly with the pin count (``python -m pnr.engine.bench_place``
measures it); the dense n x n solve this replaced ran out of memory at 54k cells.

``placement.density`` (config) is the target density of every placement bin: cells are
spread until no bin holds more cell area than ``density x`` its free area (up to a 10 %
overflow, which legalization absorbs). It must not be below the core's cell utilization (cell
area / core area without tap cells); without the key, 0.7 (OpenROAD's default) is used.
``placement.cell_pad_sites`` (default 1) free sites are kept on both sides of every logic cell
(to the next logic or tap cell) and counted in the density (ORFS' cell padding).
``placement.routability_driven`` (default 1) runs :func:`pnr.engine.gpl.routability_rounds`
after the wirelength-driven spreading: cells in tiles a RUDY estimate finds congested are
inflated and spread again (OpenROAD's ``gpl -routability_driven``); the step reports the
rounds, the RUDY congestion before and after, the raised bin density and the inflated share.
``placement.io_placement: wirelength`` moves the IO pins to the edge slots nearest their logic
after the first global placement and places again (:mod:`pnr.engine.iop`, ORFS's
``place_pins``); the default ``floorplan`` keeps the floorplan's pins.
"""

from __future__ import annotations

import time

import numpy as np

from gptnano.design_config import IO_PLACEMENTS
from pnr.engine import dpl, gpl, iop, library, tech
from pnr.engine.context import StepContext, StepError
from pnr.engine.layout import Component, Layout, write_def

DEFAULT_PAD_SITES = 1   # one free site between logic cells: pin access for the router
DEFAULT_ROUTABILITY = 1  # routability-driven global placement on (gpl.routability_rounds)


def target_density(layout_or_prob: Layout | gpl.Problem, density: float | None,
                   where: str = "placement.density") -> float:
    """The bin target density to spread to: ``density`` (default 0.7), checked against the
    core's utilization. A value at most 0.01 below it (floorplan rounding) is raised to it,
    and so is a value below the utilization with cell padding (``prob.pad``) counted."""
    prob = layout_or_prob if isinstance(layout_or_prob, gpl.Problem) \
        else gpl.build_problem(layout_or_prob)
    util = gpl.utilization(prob)
    if density is None:
        density = gpl.DEFAULT_DENSITY
    try:
        density = float(density)
    except (TypeError, ValueError):
        raise StepError(f"{where}: {density!r} is not a number") from None
    if not 0.0 < density <= 1.0:
        raise StepError(f"{where}: {density} outside (0, 1]")
    if density < util - 0.01:
        raise StepError(f"{where}: {density} is below the core's cell utilization "
                        f"{util:.3f}; raise it or lower floorplan.core_utilization")
    return min(1.0, max(density, util, gpl.utilization(prob, padded=True)))


def cell_pad_sites(placement: dict, where: str = "placement.cell_pad_sites") -> int:
    """Free sites kept beside every logic cell (``placement.cell_pad_sites``, default
    DEFAULT_PAD_SITES); like ORFS' CELL_PAD_IN_SITES_DETAIL_PLACEMENT."""
    value = placement.get("cell_pad_sites", DEFAULT_PAD_SITES)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 8:
        raise StepError(f"{where}: {value!r} is not a whole number of sites in 0..8")
    return value


def io_placement(placement: dict, where: str = "placement.io_placement") -> str:
    """``placement.io_placement``: ``floorplan`` keeps the pins where the floorplan put them
    (inputs bottom, outputs top, in name order); ``wirelength`` moves each to the edge slot
    nearest its logic after a first global placement and places again
    (:func:`pnr.engine.iop.place_pins`, ORFS's ``place_pins``)."""
    value = placement.get("io_placement", IO_PLACEMENTS[0])
    if value not in IO_PLACEMENTS:
        raise StepError(f"{where}: {value!r} is not one of {', '.join(IO_PLACEMENTS)}")
    return value


def routability_driven(placement: dict, where: str = "placement.routability_driven") -> bool:
    """``placement.routability_driven`` (default DEFAULT_ROUTABILITY): 1 runs the
    routability-driven rounds of :func:`pnr.engine.gpl.routability_rounds`, 0 skips them."""
    value = placement.get("routability_driven", DEFAULT_ROUTABILITY)
    if isinstance(value, bool) or value not in (0, 1):
        raise StepError(f"{where}: {value!r} is not 0 or 1")
    return bool(value)


def global_place(layout: Layout, density: float | None = None, pad: int = DEFAULT_PAD_SITES,
                 routability: bool = bool(DEFAULT_ROUTABILITY)
                 ) -> tuple[np.ndarray, np.ndarray, list[Component]]:
    """Global placement of the logic cells; returns x, y (nm) of each cell centre (spread to
    ``density``, cells counted with ``pad`` sites of padding, routability-driven rounds if
    ``routability``) and the cells in that order."""
    prob = gpl.build_problem(layout)
    prob.pad = pad * tech.SITE_W
    res = gpl.global_place(prob, target_density(prob, density), routability=routability)
    return res.x, res.y, prob.movable


def legalize(layout: Layout, x: np.ndarray, y: np.ndarray, movable: list[Component],
             detailed: bool = True, density: float | None = None,
             pad: int = DEFAULT_PAD_SITES) -> None:
    """Abacus legalization of ``movable`` (centres x, y) onto free sites with ``pad`` free
    sites on both sides of each cell, then (``detailed``) wirelength-reducing moves into white space
    (keeping bins within ``density`` if given); raises StepError on any overlap."""
    prob = gpl.build_problem(layout)
    if [c.name for c in prob.movable] != [c.name for c in movable]:
        raise StepError("placement: the cells to legalize are not the layout's logic cells")
    prob.movable = movable
    prob.pad = pad * tech.SITE_W
    dpl.legalize(layout, prob, x, y, pad)
    if detailed:
        dpl.improve(layout, prob, density, pad=pad)
    cx0, _, cx1, _ = layout.core
    check_overlaps(layout, (cx1 - cx0) // tech.SITE_W)


def check_overlaps(layout: Layout, nsites: int) -> None:
    lib = library.cells()
    cx0 = layout.core[0]
    occupied: dict[tuple[int, int], str] = {}
    for c in layout.components:
        if not c.placed:
            raise StepError(f"placement: {c.name} left unplaced")
        s0 = (c.x - cx0) // tech.SITE_W
        for s in range(s0, s0 + lib[c.cell].width // tech.SITE_W):
            if s >= nsites or (s, c.y) in occupied:
                raise StepError(f"placement: {c.name} overlaps {occupied.get((s, c.y))} "
                                "or leaves the row")
            occupied[(s, c.y)] = c.name


def site_occupancy(layout: Layout) -> list[bytearray]:
    """Per row, one byte per site: 1 where a placed component (logic or tap) sits."""
    lib = library.cells()
    cx0, _, cx1, _ = layout.core
    nsites = (cx1 - cx0) // tech.SITE_W
    row_of = {y: r for r, (y, _) in enumerate(layout.rows)}
    occ = [bytearray(nsites) for _ in layout.rows]
    for c in layout.components:
        if c.placed:
            s0 = (c.x - cx0) // tech.SITE_W
            occ[row_of[c.y]][s0:s0 + lib[c.cell].width // tech.SITE_W] = \
                b"\x01" * (lib[c.cell].width // tech.SITE_W)
    return occ


def place_in_free_sites(layout: Layout, comp: Component, x: float, y: float,
                        occ: list[bytearray]) -> None:
    """Put one new component into the free sites nearest to (``x``, ``y``) (its centre, nm),
    leaving every placed cell where it is; updates ``occ``.

    Why not re-run :func:`legalize`: cells added after placement (clock and fanout buffers)
    must not move the cells their positions were computed from; the placer's even spreading
    leaves free sites in every row, so a nearest-gap search is enough."""
    lib = library.cells()
    cx0, cy0 = layout.core[0], layout.core[1]
    width = lib[comp.cell].width // tech.SITE_W
    nsites = len(occ[0]) if occ else 0
    want_s = (x - cx0) / tech.SITE_W - width / 2
    want_r = (y - cy0) / tech.ROW_H - 0.5
    best: tuple[float, int, int] | None = None
    for dr in range(len(occ)):
        if best is not None and (dr - 1) * tech.ROW_H > best[0]:
            break
        for r in {int(round(want_r)) - dr, int(round(want_r)) + dr}:
            if not 0 <= r < len(occ):
                continue
            s = _nearest_gap(occ[r], width, int(round(want_s)), nsites)
            if s is None:
                continue
            cost = abs(s - want_s) * tech.SITE_W + abs(r - want_r) * tech.ROW_H
            if best is None or cost < best[0]:
                best = (cost, r, s)
    if best is None:
        raise StepError(f"placement: no {width} free sites left for {comp.name}")
    _, r, s = best
    comp.x, comp.y, comp.orient = cx0 + s * tech.SITE_W, layout.rows[r][0], layout.rows[r][1]
    comp.placed = True
    occ[r][s:s + width] = b"\x01" * width


def _nearest_gap(row: bytearray, width: int, want: int, nsites: int) -> int | None:
    """First site index nearest to ``want`` where ``width`` free sites start, or None."""
    free = b"\x00" * width
    for d in range(nsites):
        for s in (want - d, want + d):
            if 0 <= s <= nsites - width and row[s:s + width] == free:
                return s
    return None


def hpwl_um(layout: Layout) -> float:
    """Half-perimeter wirelength (um) over all nets, cell positions taken at their origin and
    IO pins at their stub's lower edge (the measure this step has always reported)."""
    hpwl = 0.0
    pos = {c.name: (c.x, c.y) for c in layout.components}
    for pins in layout.nets.values():
        pts = [((layout.ports[p].rect[0] + layout.ports[p].rect[2]) / 2, layout.ports[p].rect[1])
               if i == "PIN" else pos[i] for i, p in pins]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        hpwl += (max(xs) - min(xs)) + (max(ys) - min(ys))
    return round(hpwl / 1000, 1)


def run(ctx: StepContext) -> dict[str, float | int | str]:
    t0 = time.monotonic()
    layout = Layout.load(ctx.input("layout.json"))
    where = f"{ctx.design.folder / 'config.yaml'}: placement"
    prob = gpl.build_problem(layout)
    pad = cell_pad_sites(ctx.design.placement, f"{where}.cell_pad_sites")
    prob.pad = pad * tech.SITE_W
    density = target_density(prob, ctx.design.placement.get("density"), f"{where}.density")
    routability = routability_driven(ctx.design.placement, f"{where}.routability_driven")
    from pnr.engine import tdp  # here: tdp -> cts -> place would be an import cycle

    def place_globally(prob: gpl.Problem) -> tuple[gpl.GplResult, tdp.TimingWeights | None]:
        weights = tdp.TimingWeights(ctx, layout, prob) if tdp.enabled(ctx) else None
        try:
            return gpl.global_place(prob, density, weights, routability=routability), weights
        finally:
            if weights is not None:
                weights.close()

    res, weights = place_globally(prob)
    io_moved = None
    if io_placement(ctx.design.placement, f"{where}.io_placement") == "wirelength":
        # ORFS's 3_2_place_iop: pins to the slots nearest their logic, then place again
        io_moved = iop.place_pins(layout, {c.name: (float(x), float(y)) for c, x, y in
                                           zip(prob.movable, res.x, res.y, strict=True)})
        gpl_hpwl_first = round(gpl.hpwl(prob, res.x, res.y) / 1000, 1)
        prob = gpl.build_problem(layout)
        prob.pad = pad * tech.SITE_W
        res, weights = place_globally(prob)
    prob.inflate = None      # legalization and detailed placement see the cells' real area
    dpl.legalize(layout, prob, res.x, res.y, pad)
    dpl.improve(layout, prob, density, pad=pad)
    cx0, _, cx1, _ = layout.core
    check_overlaps(layout, (cx1 - cx0) // tech.SITE_W)
    layout.save(ctx.output("layout.json"))
    write_def(layout, ctx.output("def"))
    metrics: dict[str, float | int | str] = {"cells": prob.n, "hpwl_um": hpwl_um(layout),
                                             "runtime_s": round(time.monotonic() - t0, 2)}
    if res.routability is not None:
        rd = res.routability
        metrics.update(rd_rounds=rd.rounds, rd_rudy_rc_first=round(rd.rc_first, 3),
                       rd_rudy_rc=round(rd.rc_kept, 3), rd_density=round(rd.density, 3),
                       rd_inflated_share=round(rd.inflated_share, 3))
    if io_moved is not None:
        metrics.update(io_pins_moved=io_moved, gpl_hpwl_um_floorplan_pins=gpl_hpwl_first,
                       gpl_hpwl_um=round(gpl.hpwl(prob, res.x, res.y) / 1000, 1))
    if weights is not None:     # timing-driven: the worst slack the placer saw, per call
        metrics["timing_reweights"] = res.reweights
        metrics["timing_wns_ns"] = ",".join(str(c["wns_ns"]) for c in weights.calls)
    return metrics
