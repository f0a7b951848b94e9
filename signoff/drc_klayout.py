"""KLayout DRC signoff with open_pdks' sky130 deck (``klayout/sky130.lydrc``).

Reads ``<top>.gds``; writes ``reports/drc_klayout.lyrdb`` (the marker database, viewable in
KLayout) and ``reports/drc_klayout.json`` (violations per rule).

The deck ships as a KLayout macro (XML with an embedded DSL script, ``&lt;``-escaped);
:func:`prepare_deck` extracts the script, lowers the thread count to the step's, and switches
on the front-end (FEOL) rule group, which the deck leaves off by default: signoff runs the full
deck (``drc: {feol: false}`` in a design config drops back to BEOL + OFFGRID).

Cost: the deck runs in KLayout's deep (hierarchical) mode, so each standard cell's interior is
checked once. Most of its FEOL time went into rules of device layers a standard-cell layout does
not have: ``vpp.5`` alone unions poly, li, met1 and met2 of the whole chip before intersecting
the result with the (empty) vpp layer -- 25 of 31.5 s on ORFS's gcd. :func:`prepare_deck`
guards the rules of those device layers (:data:`DEVICE_LAYERS`) with ``layer.is_empty? ||``, so
they are skipped exactly when the layer has no shape (and run unchanged, with the same result,
when it has): gcd's FEOL+BEOL deck went from 32.2 s to 5.7 s of KLayout time, with the same
(zero) violations.

Why deep and not tiled (issue #12): KLayout's tiled mode is flat -- every standard-cell instance
is checked again -- and the threads only split the tiles.  Measured on the probe (1.8k
instances; ``python -m signoff.bench_drc --tools klayout,klayout_tiled``, 2 threads, 50 um tiles
with a 21 um border): 108.6 s CPU tiled against 13.5 s deep, same (zero) violations, same
~430 MB peak; ``li.3`` (li spacing) alone took 45.6 s flat.  The deep deck's cost follows the
number of distinct cells plus the top-level wiring, which grows linearly with area, so signoff
stays deep; ``mode="tiled"`` stays available to rerun the comparison.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from gptnano.pdk import klayout_drc_deck
from gptnano.step import StepContext, StepError

# Device layers of capacitors/varactors that standard-cell layouts never draw; their rules are
# skipped when the layer is empty (see the module docstring).
DEVICE_LAYERS = ("vpp", "capm", "cap2m")

# Tiled mode's border must exceed the deck's largest reach: capm.6 sizes by 20 um (then dnwell.3
# 6.3 um, m4.11 5 um); a smaller border would change results at tile edges.
TILE_BORDER_UM = 21.0


def prepare_deck(dst: Path, threads: int = 2, feol: bool = True, mode: str = "deep",
                 tile_um: float = 100.0) -> Path:
    """The deck as a plain DRC script; ``mode`` "deep" (the deck's own, signoff) or "tiled".

    "tiled" is KLayout's flat mode cut into ``tile_um`` tiles run on ``threads`` threads, with
    a tile border of :data:`TILE_BORDER_UM`; kept for ``python -m signoff.bench_drc --tools
    klayout_tiled`` (see the module docstring for why signoff stays deep).
    """
    if mode not in ("deep", "tiled"):
        raise StepError(f"KLayout DRC mode {mode!r}: expected 'deep' or 'tiled'")
    src = klayout_drc_deck()
    m = re.search(r"<text>(.*)</text>", src.read_text(), flags=re.S)
    if not m:
        raise StepError(f"{src}: no <text> script inside the KLayout macro")
    script = html.unescape(m.group(1))
    script = re.sub(r"^threads\(\d+\)", f"threads({threads})", script, flags=re.M)
    if feol:
        script = re.sub(r"^FEOL\s*=\s*false", "FEOL = true", script, flags=re.M)
    layers = "|".join(DEVICE_LAYERS)
    script = re.sub(rf"^({layers})\.(?!is_empty)", r"\1.is_empty? || \1.", script, flags=re.M)
    if mode == "tiled":
        script = re.sub(r"^tiles\(.*\)$", f"tiles({tile_um:g}.um)", script, flags=re.M)
        script = re.sub(r"^tile_borders\(.*\)$", f"tile_borders({TILE_BORDER_UM:g}.um)", script,
                        flags=re.M)
        script, n = re.subn(r"^deep\s*$", "# deep (tiled mode instead)", script, flags=re.M)
        if n != 1:
            raise StepError(f"{src}: expected one 'deep' line to switch to tiled mode, found {n}")
    dst.write_text(script)
    return dst


def count_violations(lyrdb: Path) -> dict[str, int]:
    """Violations per category name in a KLayout report database."""
    try:
        root = ET.parse(lyrdb).getroot()
    except (OSError, ET.ParseError) as exc:
        raise StepError(f"{lyrdb}: cannot read the DRC report: {exc}") from exc
    counts: dict[str, int] = {}
    for item in root.iter("item"):
        cat = (item.findtext("category") or "?").strip().strip("'")
        counts[cat] = counts.get(cat, 0) + 1
    return dict(sorted(counts.items()))


def run_klayout_drc(gds: Path, workdir: Path, threads: int = 2, feol: bool = True,
                    name: str = "drc_klayout", mode: str = "deep") -> dict[str, int]:
    deck = prepare_deck(workdir / f"{name}.drc", threads, feol, mode=mode)
    report = workdir / f"{name}.lyrdb"
    log = workdir / f"{name}.log"
    with open(log, "w") as fh:
        proc = subprocess.run(["klayout", "-b", "-r", str(deck), "-rd", f"input={gds}",
                               "-rd", f"report={report}"], stdout=fh, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL)
    if proc.returncode != 0 or not report.is_file():
        raise StepError(f"KLayout DRC failed (exit {proc.returncode}), see {log}")
    counts = count_violations(report)
    (workdir / f"{name}.json").write_text(json.dumps(counts, indent=2))
    return counts


def run(ctx: StepContext) -> dict[str, float | int | str]:
    t0 = time.monotonic()
    # the full deck; designs/<name>/config.yaml may say `drc: {feol: false}` (BEOL only)
    feol = bool(ctx.design.setting("drc.feol"))
    counts = run_klayout_drc(ctx.input("gds").resolve(), ctx.reports_dir.resolve(), ctx.threads,
                             feol=feol)
    return {"drc_klayout_total": sum(counts.values()), "drc_klayout_feol": int(feol),
            "drc_klayout_by_rule": ",".join(f"{k}:{v}" for k, v in counts.items()) or "none",
            "runtime_s": round(time.monotonic() - t0, 2)}
