"""Magic DRC signoff on the sky130A rules (the same deck Magic uses interactively), by windows.

Reads ``<top>.gds``; writes ``reports/drc_magic.json`` (violations per rule text) and
``reports/drc_magic.rpt`` (every error box Magic reported, in um).

Why windows: checked as one cell, Magic reads, flattens and checks the whole chip in one
process, so one process's time and memory grow with the die.  Instead the die is cut into a
grid of windows of about ``TILE_UM``; KLayout (C++) writes each window, the layout clipped to
the window grown by ``HALO_UM``, as its own small GDS (hierarchy kept), and one Magic process
per window flattens it and checks only the window's core (``drc listall why`` on a box).  Each
window's cost follows its area, ``ctx.threads`` windows run at a time, and no process holds the
whole chip flat.

Correctness of the cut: a rule only looks a bounded distance around an edge (sky130's largest
Magic interaction distances are a few um; ``HALO_UM`` = 10), so inside the core every rule sees
exactly the geometry it would see in the whole chip; the false errors that the clip edge makes
(a wire cut short looks too small) lie in the halo, which is not reported.  Magic's error
boxes are split at whatever area it is asked about, so a violation that straddles two windows
comes back as two boxes.  The count is therefore taken the same way with and without windows:
per rule, the error boxes are merged (boxes that overlap or touch form one violation) and the
merged regions are counted.  Tests: a violation straddling a window edge is counted once, and
the windowed count equals the single-window count (signoff/tests/test_drc_scaling.py).

Why ``drc listall why`` alone: it runs the full check (``DRCInteractionCheck``, paint and
subcell interactions) over the box it is given.  The former script first ran ``drc check`` +
``drc catchup`` (the same check, for the error plane) and then ``listall why``: every area was
checked twice.  On the probe with three deliberate violations both gave the same 8 boxes; the
check alone took 31 of the 41 s of checking (loaded machine, wall time).

Measured (``python -m signoff.bench_drc``, CPU seconds on a loaded 2-core machine): small
(0.106 mm2, 17 948 instances) 40.7 s with 4 windows, 46.3 s as one window, 125.0 s with the
former script (check + catchup + listall, one flat cell); the probe (0.014 mm2) 4.2 s against
7.0 s.  Magic's peak memory on small: 164 MB per window, 360 MB as one window, 533 MB before.

Each window is flattened (in Magic) before checking, so the rules see the merged geometry
exactly as KLayout does: the team had seen Magic 8.3.105 report "subcell overlap" artefacts
between abutting cells in earlier (qflow) layouts.
"""

from __future__ import annotations

import json
import math
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import gdstk

from gptnano.magic import load_gds, run_magic
from gptnano.step import StepContext, StepError
from gptnano.toolargs import tcl_word

# Window size and the margin of geometry around each window (um); see the module docstring.
TILE_UM = 200.0
HALO_UM = 10.0

Rect = tuple[float, float, float, float]  # x0, y0, x1, y1 in um


def windows(bbox: Rect, tile_um: float = TILE_UM) -> list[Rect]:
    """The die cut into an even grid of cores no larger than ``tile_um`` on a side.

    Edges are rounded to 0.005 um (the sky130 grid) so a cut adds no off-grid coordinate.
    """
    x0, y0, x1, y1 = bbox
    nx = max(1, math.ceil((x1 - x0) / tile_um))
    ny = max(1, math.ceil((y1 - y0) / tile_um))

    def cuts(lo: float, hi: float, n: int) -> list[float]:
        inner = [round((lo + (hi - lo) * i / n) / 0.005) * 0.005 for i in range(1, n)]
        return [lo, *inner, hi]

    xs, ys = cuts(x0, x1, nx), cuts(y0, y1, ny)
    return [(xs[i], ys[j], xs[i + 1], ys[j + 1]) for j in range(ny) for i in range(nx)]


_CLIP_SCRIPT = r'''
import json
import pya
spec = json.load(open(spec_path))
ly = pya.Layout()
ly.read(spec["gds"])
top = ly.cell(spec["top"])
if top is None:
    raise SystemExit("no cell " + spec["top"] + " in " + spec["gds"])
top_index = top.cell_index()
for w in spec["windows"]:
    ci = ly.clip(top_index, pya.DBox(*w["outer"]).to_itype(ly.dbu))
    ly.cell(ci).name = w["name"]
    opt = pya.SaveLayoutOptions()
    opt.select_cell(ci)
    ly.write(w["gds"], opt)
'''


def _klayout(script: str, workdir: Path, name: str, args: dict[str, str]) -> str:
    """Run a KLayout Python script in batch mode; returns its output (one error line on failure)."""
    path = workdir / f"{name}.py"
    path.write_text(script)
    cmd = ["klayout", "-b", "-r", str(path)]
    for k, v in args.items():
        cmd += ["-rd", f"{k}={v}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    (workdir / f"{name}.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise StepError(f"KLayout {name} failed (exit {proc.returncode}), see "
                        f"{workdir / (name + '.log')}")
    return proc.stdout


def die_bbox(gds: Path, top: str) -> Rect:
    """Bounding box (um) of cell ``top`` in ``gds`` (gdstk: 0.1 s on a 10 MB layout, where a
    KLayout start costs seconds on a loaded machine)."""
    try:
        lib = gdstk.read_gds(str(gds))
    except (OSError, RuntimeError) as exc:
        raise StepError(f"{gds}: cannot read the GDS: {exc}") from exc
    cell = next((c for c in lib.cells if c.name == top), None)
    bb = cell.bounding_box() if cell is not None else None
    if bb is None:
        raise StepError(f"{gds}: no cell {top!r} with geometry")
    (x0, y0), (x1, y1) = bb
    return round(x0, 4), round(y0, 4), round(x1, 4), round(y1, 4)


def cut_windows(gds: Path, top: str, cores: list[Rect], workdir: Path,
                halo_um: float = HALO_UM) -> list[dict]:
    """Write one GDS per window (the layout clipped to core + halo); returns the specs.

    KLayout's ``Layout.clip`` keeps the hierarchy: cells wholly inside stay instances, only the
    cells the window edge cuts become clipped variants.  Magic then reads each standard cell
    once and flattens in memory -- on the probe 2.7 s of Magic CPU, where reading the same
    window as flat merged polygons cost 4.8 s (Magic's GDS reader runs its layer boolean rules
    over every flat polygon).
    """
    specs = []
    for i, (x0, y0, x1, y1) in enumerate(cores):
        wdir = workdir / f"w{i}"
        wdir.mkdir(parents=True, exist_ok=True)
        specs.append({"name": f"w{i}", "core": [x0, y0, x1, y1],
                      "outer": [x0 - halo_um, y0 - halo_um, x1 + halo_um, y1 + halo_um],
                      "gds": str(wdir / f"w{i}.gds"), "dir": str(wdir)})
    spec = workdir / "windows.json"
    spec.write_text(json.dumps({"gds": str(gds), "top": top, "windows": specs}))
    _klayout(_CLIP_SCRIPT, workdir, "cut_windows", {"spec_path": str(spec)})
    return specs


def window_script(gds: Path, cell: str, core: Rect, out_json: Path) -> str:
    """Magic script: read the window's GDS, flatten it, check the core, write the boxes (um).

    The internal-units-per-um scale is read back from Magic (``box values`` of a 1 um box)
    because Magic may rescale its grid while reading a GDS.
    """
    x0, y0, x1, y1 = core
    return load_gds(gds, cell) + f"""
flatten {cell}_flat
load {cell}_flat
box values 0um 0um 1um 1um
set per_um [lindex [box values] 2]
box values {x0:.4f}um {y0:.4f}um {x1:.4f}um {y1:.4f}um
drc euclidean on
drc style drc(full)
set jf [open {tcl_word(out_json)} w]
puts $jf "\\["
set first 1
foreach {{why boxes}} [drc listall why] {{
    set why2 [string map {{"\\"" "'" "\\\\" "/"}} $why]
    foreach b $boxes {{
        if {{!$first}} {{ puts $jf "," }}
        set first 0
        set um {{}}
        foreach v $b {{ lappend um [expr {{double($v) / $per_um}}] }}
        puts -nonewline $jf "\\[\\"$why2\\", [join $um {{, }}]\\]"
    }}
}}
puts $jf "\\n\\]"
close $jf
"""


def _finder(parent: list[int]) -> Callable[[int], int]:
    """``find`` with path halving over ``parent`` (union-find)."""
    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i
    return find


def count_regions(boxes: list[tuple[str, float, float, float, float]],
                  eps: float = 1e-4) -> dict[str, int]:
    """Per rule, the number of connected regions of error boxes (overlapping or touching).

    Union-find over box pairs found by a sweep along x; boxes are few (errors), so this is cheap.
    """
    by_rule: dict[str, list[tuple[float, float, float, float]]] = {}
    for why, x0, y0, x1, y1 in boxes:
        by_rule.setdefault(why, []).append((x0, y0, x1, y1))
    counts = {}
    for why, rects in by_rule.items():
        parent = list(range(len(rects)))
        find = _finder(parent)
        order = sorted(range(len(rects)), key=lambda i: rects[i][0])
        active: list[int] = []
        for i in order:
            x0, y0, x1, y1 = rects[i]
            active = [j for j in active if rects[j][2] >= x0 - eps]
            for j in active:
                if rects[j][1] <= y1 + eps and y0 <= rects[j][3] + eps:
                    parent[find(i)] = find(j)
            active.append(i)
        counts[why] = len({find(i) for i in range(len(rects))})
    return dict(sorted(counts.items()))


def run_magic_drc(gds: Path, top: str, workdir: Path, jobs: int = 2,
                  tile_um: float = TILE_UM, halo_um: float = HALO_UM) -> dict[str, int]:
    """Check ``gds`` window by window (``jobs`` Magic processes at a time); violations per rule."""
    if not gds.is_file():
        raise StepError(f"{gds}: no such GDS file")
    workdir = workdir.resolve()
    tiles = workdir / "magic_windows"
    tiles.mkdir(parents=True, exist_ok=True)
    cores = windows(die_bbox(gds, top), tile_um)
    specs = cut_windows(gds.resolve(), top, cores, tiles, halo_um)

    def check(spec: dict) -> list:
        wdir, out = Path(spec["dir"]), Path(spec["dir"]) / "boxes.json"
        log = run_magic(window_script(Path(spec["gds"]), spec["name"], tuple(spec["core"]), out),
                        wdir, "drc_magic")
        if not out.is_file():
            raise StepError(f"magic DRC of window {spec['name']} wrote no result, see {log}")
        try:
            return json.loads(out.read_text())
        except json.JSONDecodeError as exc:
            raise StepError(f"{out}: unreadable Magic DRC boxes: {exc}") from exc

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        per_window = list(pool.map(check, specs))
    boxes = [tuple(b) for found in per_window for b in found]
    with open(workdir / "drc_magic.rpt", "w") as fh:
        for why, x0, y0, x1, y1 in boxes:
            fh.write(f"{why}\t{x0:.3f} {y0:.3f} {x1:.3f} {y1:.3f}\n")
    counts = count_regions(boxes)  # type: ignore[arg-type]
    (workdir / "drc_magic.json").write_text(json.dumps(counts, indent=2))
    (workdir / "drc_magic_windows.json").write_text(json.dumps(
        {"tile_um": tile_um, "halo_um": halo_um, "jobs": jobs, "windows": len(specs),
         "boxes": len(boxes)}, indent=2))
    return counts


def run(ctx: StepContext) -> dict[str, float | int | str]:
    t0 = time.monotonic()
    counts = run_magic_drc(ctx.input("gds").resolve(), ctx.top, ctx.reports_dir.resolve(),
                           jobs=ctx.threads)
    return {"drc_magic_total": sum(counts.values()),
            "drc_magic_by_rule": ";".join(f"{k}:{v}" for k, v in counts.items()) or "none",
            "runtime_s": round(time.monotonic() - t0, 2)}
