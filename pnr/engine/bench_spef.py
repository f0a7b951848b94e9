"""Bench: the RC-tree SPEF against Magic's extraction, and its effect on timing.

``python -m pnr.engine.bench_spef build/<design>/<job>`` on a finished flow job:

1. Magic extracts the job's GDS with capacitance, coupling and (lumped) resistance switched on
   (the signoff extract step runs ``extract no all``: connectivity only).  Each top-level Magic
   node is matched to an engine net by its reference point (a lower-left tile corner in 5 nm
   units, on the node's layer) falling on that net's routed wire, via pad or patch.  For the
   ``--nets`` longest matched nets (and the sum over all matched nets) it prints the engine's
   typical-corner tree totals -- capacitance without and with the coupling model
   (``coupling=True``), wire resistance without vias -- next to Magic's substrate
   capacitance, total capacitance (substrate + every coupling ``cap`` entry the node is in,
   rails included, caps between two names of one merged node left out, + the substrate C
   adjustments of its ``merge`` lines) and the wire
   resistance of Magic's drawn metal area (area / width^2 squares per layer, pads included).
2. OpenSTA at ss/tt/ff on the job's netlist and SDC: worst setup/hold slack with the old
   lumped star SPEF (tech LEF values, ``model="star"``) and with the RC trees (max corner for
   setup, min corner for hold, as signoff does), also with the max SPEF for hold and with
   ``coupling=True``.

Most reference points are an mcon cut's corner (Magic type ``v0``): cuts are matched too.

Like with like: Magic extracts hierarchically.  The cells' own ``.ext`` files hold each pin's
capacitance inside the cell (its li1/poly to substrate, to the cell's other nodes and rails);
Liberty's pin capacitance was characterized from the same cell layouts, so OpenSTA already has
it and it is not read here.  The top cell's ``.ext`` holds what the routing adds: its own
shapes' C, and in the areas where wires overlap cells a flat re-extraction *minus* the cells'
own values (negative ``cap`` entries and the ``merge`` adjustments, mostly the substrate C that
a wire above takes from the li1 below).  That parent-level sum is "Magic total" here: the wire
load that is not in Liberty.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

from gptnano.magic import load_gds, run_magic
from gptnano.opensta import load_script
from gptnano.pdk import corner_liberty
from gptnano.toolargs import tcl_word
from pnr.engine import library, rcx, spef, tech
from pnr.engine.buffer_tree import rmst_length
from pnr.engine.cts import WIRE_C_PF_PER_UM
from pnr.engine.layout import Layout, grid_x, grid_y, place_rect

MAGIC_UNIT_NM = 5
MAGIC_LAYER = {"m1": "met1", "m2": "met2", "m3": "met3", "m4": "met4", "li": "li1",
               "v0": "mcon", "v1": "via", "v2": "via2", "v3": "via3"}
# sky130A.tech resist classes (the .ext ``resistclasses`` order): li1 is 17, met1..met4 18..21
MAGIC_METAL_CLASS = {18: "met1", 19: "met2", 20: "met3", 21: "met4"}


def net_shapes(route: dict) -> list[tuple[str, tuple[int, int, int, int]]]:
    """(layer, rect nm) of one routed net: wires at their width, via pads, patches."""
    out = []
    for layer, i1, j1, i2, j2 in route.get("segs", []):
        h = tech.WIDTH[layer] // 2
        x0, x1 = sorted((grid_x(i1), grid_x(i2)))
        y0, y1 = sorted((grid_y(j1), grid_y(j2)))
        out.append((layer, (x0 - h, y0 - h, x1 + h, y1 + h)))
    for kind, i, j, *off in route.get("vias", []):
        x, y = grid_x(i) + (off[0] if off else 0), grid_y(j)
        cut, c, (lo, lx, ly), (up, ux, uy) = tech.VIAS[kind]
        out.append((cut, (x - c, y - c, x + c, y + c)))
        out.append((lo, (x - lx, y - ly, x + lx, y + ly)))
        out.append((up, (x - ux, y - uy, x + ux, y + uy)))
        if off and off[0]:
            out.append(("met1", (min(x, grid_x(i)) - 70, y - 70, max(x, grid_x(i)) + 70, y + 70)))
    for layer, x0, y0, x1, y1 in route.get("patches", []):
        out.append((layer, (x0, y0, x1, y1)))
    return out


def magic_nodes(gds: Path, top: str, work: Path) -> dict[str, tuple[float, float, int, int,
                                                                      str, float]]:
    """name -> (area R ohm, substrate C fF, x nm, y nm, layer, total C fF) of the top cell.
    Area R is each metal's drawn area over its routing width squared times its sheet
    resistance (Magic's own lumped node R, a perimeter/area estimate, does not follow the
    shape of a branching net and is not used)."""
    script = load_gds(gds, top) + """
extract do capacitance
extract do coupling
extract do resistance
extract all
"""
    run_magic(script, work, "bench_extract")
    text = (work / f"{top}.ext").read_text()
    m = re.search(r"^scale (\S+) (\S+) (\S+)", text, re.M)
    cscale = float(m.group(2)) if m else 1.0
    classes = re.search(r"^resistclasses (.*)$", text, re.M)
    sheet = [float(v) / 1000 for v in classes.group(1).split()] if classes else []
    nodes: dict[str, list] = {}
    for line in text.splitlines():
        tok = line.split()
        if tok and tok[0] == "node":
            name = tok[1].strip('"')
            areas = [int(v) * MAGIC_UNIT_NM ** 2 for v in tok[7::2]]
            area_r = sum(sheet[k] * areas[k] / tech.WIDTH[layer] ** 2
                         for k, layer in MAGIC_METAL_CLASS.items() if k < len(areas))
            nodes[name] = [area_r, float(tok[3]) * cscale / 1000,
                           int(tok[4]) * MAGIC_UNIT_NM, int(tok[5]) * MAGIC_UNIT_NM, tok[6],
                           float(tok[3]) * cscale / 1000]
    # a top-level node and the cell pins it lands on are one electrical node (``merge``
    # lines); a cap between two names of one node is not a load and is skipped
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    merges = re.findall(r'^merge "([^"]*)" "([^"]*)" ?(\S*)', text, re.M)
    for a, b, _ in merges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
    owner = {find(n): n for n in nodes}
    # a merge line's number adjusts the merged node's substrate C (ext(5)): the parent's wires
    # shield the cells' own shapes from the substrate where they overlap, so it is negative
    for a, _, c in merges:
        if c and find(a) in owner:
            nodes[owner[find(a)]][5] += float(c) * cscale / 1000
    for a, b, c in re.findall(r'^cap "([^"]*)" "([^"]*)" (\S+)', text, re.M):
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        for r in (ra, rb):
            if r in owner:
                nodes[owner[r]][5] += float(c) * cscale / 1000
    return {k: tuple(v) for k, v in nodes.items()}


def match(layout: Layout, nodes: dict) -> dict[str, list[str]]:
    """engine net -> Magic node names whose reference point lies on the net's geometry."""
    index: dict[str, list[tuple[str, tuple[int, int, int, int]]]] = {}
    for net, route in layout.routes.items():
        for layer, r in net_shapes(route):
            index.setdefault(layer, []).append((net, r))
    out: dict[str, list[str]] = {}
    for name, (_, _, x, y, kind, _) in sorted(nodes.items()):
        layer = MAGIC_LAYER.get(kind)
        hits = {net for net, r in index.get(layer or "", [])
                if r[0] <= x <= r[2] and r[1] <= y <= r[3]}
        if len(hits) == 1:
            out.setdefault(hits.pop(), []).append(name)
    return out


def engine_totals(layout: Layout, net: str, neighbours: spef.Neighbours | None
                  ) -> tuple[float, float, float]:
    """(C fF, wire R ohm without vias, length um) of the net's typical-corner tree."""
    tree = spef.net_tree(layout, net, layout.routes[net], "typ", neighbours)
    rc = rcx.layer_rc("typ")
    wire_r = length = 0.0
    for layer, i1, j1, i2, j2 in layout.routes[net]["segs"]:
        um = (abs(grid_x(i2) - grid_x(i1)) + abs(grid_y(j2) - grid_y(j1))) / 1000
        wire_r += rc[layer].res_ohm_per_um * um
        length += um
    return tree.total_cap() * 1000, wire_r, length


def wire_c_calibration(layout: Layout) -> tuple[float, float, float, int]:
    """(placement estimate pF, routed tree C pF, with coupling pF, nets) summed over the routed
    nets: the timing repair's estimate (:meth:`pnr.engine.rsz.Repair.net_rc` at
    ``wire_c_scale`` 1: the pins' rectilinear minimum spanning tree times
    :data:`pnr.engine.cts.WIRE_C_PF_PER_UM`) against the route step's SPEF, so the ratio is the
    ``estimate.wire_c_scale`` that makes the repair see the signoff wire load on average."""
    lib = library.cells()
    comp = {c.name: c for c in layout.components}
    neighbours = spef.Neighbours(layout)

    def xy(inst: str, pin: str) -> tuple[float, float]:
        if inst == "PIN":
            r = layout.ports[pin].rect
        else:
            macro = lib[comp[inst].cell]
            shape = next(r for rects in macro.pins[pin].shapes.values() for r in rects)
            r = place_rect(shape, comp[inst], macro.height)
        return (r[0] + r[2]) / 2, (r[1] + r[3]) / 2

    est = ground = coupled = 0.0
    count = 0
    for net in sorted(layout.routes):
        pins = layout.nets.get(net, [])
        if len(pins) < 2:
            continue
        est += rmst_length([xy(i, p) for i, p in pins]) / 1000 * WIRE_C_PF_PER_UM
        ground += spef.net_tree(layout, net, layout.routes[net], "max").total_cap()
        coupled += spef.net_tree(layout, net, layout.routes[net], "max",
                                 neighbours).total_cap()
        count += 1
    return est, ground, coupled, count


def sta_slacks(job: Path, top: str, corner: str, reads: list[str]) -> tuple[float, float]:
    """(setup WS, hold WS) ns at ``corner``; ``reads`` are Tcl lines run before each query
    (``reads[0]`` before setup, ``reads[1]`` before hold)."""
    inputs = job / "sta" / corner / "inputs"
    sdc = inputs / f"{top}.sdc"
    load = load_script(corner_liberty(corner), inputs / f"{top}.vg", top, sdc, None)
    tcl = load + reads[0] + '\nputs "S [sta::worst_slack -max]"\n' + reads[1] + \
        '\nputs "H [sta::worst_slack -min]"\n'
    path = job / "bench_spef" / f"sta_{corner}.tcl"
    path.write_text(tcl)
    out = subprocess.run(["sta", "-no_init", "-no_splash", "-exit", str(path)],
                         capture_output=True, text=True).stdout
    s = re.search(r"^S (\S+)", out, re.M)
    h = re.search(r"^H (\S+)", out, re.M)
    if not s or not h:
        raise SystemExit(f"bench_spef: OpenSTA printed no slack, see {path}:\n{out[-800:]}")
    return float(s.group(1)), float(h.group(1))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("job", type=Path, help="a finished flow job folder, build/<design>/<job>")
    ap.add_argument("--nets", type=int, default=10, help="nets listed one by one")
    ap.add_argument("--calibrate", action="store_true",
                    help="only print the estimate.wire_c_scale that matches the routed SPEF")
    ap.add_argument("--no-sta", action="store_true", help="skip the STA comparison")
    args = ap.parse_args(argv)
    job = args.job
    routed = sorted(job.glob("route/*/outputs/*.layout.json"))
    gds = sorted(job.glob("gds/*/outputs/*.gds"))
    if not routed or not gds:
        print(f"bench_spef: {job}: no route/*/outputs/*.layout.json or gds/*/outputs/*.gds "
              "(run the flow first)", file=sys.stderr)
        return 2
    layout = Layout.load(routed[0])
    if args.calibrate:
        est, ground, coupled, count = wire_c_calibration(layout)
        print(f"{count} routed nets: rsz placement estimate {est * 1000:.1f} fF (wire_c_scale "
              f"1), routed ground C {ground * 1000:.1f} fF ({ground / est:.3f}), with coupling "
              f"{coupled * 1000:.1f} fF ({coupled / est:.3f} = estimate.wire_c_scale for the "
              "coupled SPEF)")
        return 0
    work = job / "bench_spef"
    work.mkdir(exist_ok=True)
    nodes = magic_nodes(gds[0].resolve(), layout.top, work)
    matched = match(layout, nodes)
    neighbours = spef.Neighbours(layout)
    rows = []
    for net, names in matched.items():
        if len(names) != 1:      # a net split over several Magic nodes: not comparable
            continue
        c, r, length = engine_totals(layout, net, None)
        cc = engine_totals(layout, net, neighbours)[0]
        mr, msub, *_, mtot = nodes[names[0]]
        rows.append((length, net, c, cc, r, msub, mtot, mr))
    rows.sort(key=lambda t: (-t[0], t[1]))
    print(f"{len(rows)} of {len(layout.routes)} routed nets matched one Magic node each; "
          "C = ground only (the flow's SPEF), C+cpl = with coupling=True")
    print(f"{'net':>16} {'um':>6} {'C fF':>6} {'C+cpl':>6} {'Mag sub':>7} {'Mag tot':>7} "
          f"{'C/sub':>5} {'C/tot':>5} {'+cpl/tot':>8} {'R ohm':>7} {'Mag R':>7} {'R/Mag':>5}")
    for length, net, c, cc, r, msub, mtot, mr in rows[:args.nets]:
        print(f"{net:>16} {length:6.1f} {c:6.2f} {cc:6.2f} {msub:7.2f} {mtot:7.2f} "
              f"{c / msub:5.2f} {c / mtot:5.2f} {cc / mtot:8.2f} {r:7.2f} {mr:7.2f} "
              f"{r / mr if mr else float('nan'):5.2f}")
    tc, tcc, tr, tsub, ttot, tmr = (sum(t[i] for t in rows) for i in range(2, 8))
    print(f"all matched: C {tc:.1f} fF vs Magic substrate {tsub:.1f} ({tc / tsub:.2f}) and "
          f"total {ttot:.1f} fF ({tc / ttot:.2f}); with coupling {tcc:.1f} fF "
          f"({tcc / ttot:.2f} of Magic's total); wire R {tr:.0f} vs Magic {tmr:.0f} ohm "
          f"({tr / tmr:.2f})")
    if args.no_sta:
        return 0
    top = layout.top
    star, tree = work / f"{top}.star.spef", work / f"{top}.spef"
    cpl = work / f"{top}.cpl.spef"
    spef.write_spef(layout, star, model="star")
    spef.write_spef(layout, tree)
    spef.write_spef(layout, cpl, coupling=True)
    mn, cmn = spef.corner_path(tree, "min"), spef.corner_path(cpl, "min")
    print("worst slack ns, setup / hold: star = old lumped SPEF; tree = max setup, min hold; "
          "tree max = max SPEF for hold too; cpl = tree with coupling=True")
    print(f"{'corner':>6} {'star':>17} {'tree':>17} {'tree max hold':>13} {'cpl':>17}")
    for corner in ("ss", "tt", "ff"):
        s0, h0 = sta_slacks(job, top, corner, [f"read_spef {tcl_word(star)}", ""])
        s1, h1 = sta_slacks(job, top, corner, [f"read_spef {tcl_word(tree)}",
                                               f"read_spef {tcl_word(mn)}"])
        _, h2 = sta_slacks(job, top, corner, [f"read_spef {tcl_word(tree)}", ""])
        s3, h3 = sta_slacks(job, top, corner, [f"read_spef {tcl_word(cpl)}",
                                               f"read_spef {tcl_word(cmn)}"])
        print(f"{corner:>6} {s0:8.4f} {h0:8.4f} {s1:8.4f} {h1:8.4f} {h2:13.4f} "
              f"{s3:8.4f} {h3:8.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
