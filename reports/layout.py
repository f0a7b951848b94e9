"""Pictures of the layout: the GDS drawn by KLayout with the PDK's layer properties (full view
and a zoomed view an engineer recognises from the layout editor), the GDS drawn with
matplotlib (kept for the rendering benchmark), and a cell-density map from the DEF (read by the
core's KLayout DEF reader, :mod:`gptnano.lefdef`).

KLayout rendering: ``klayout.lay.LayoutView`` in batch mode (no GUI), the layer colours and
stipples of lambdapdk's ``sky130A.lyp`` (the PDK's own KLayout setup), ``max_hier`` so cell
contents are drawn, ``save_image_with_options`` for a fixed pixel size and target box.

Why matplotlib polygons rather than gdstk's SVG: gdstk writes an SVG very fast (0.02 s for a
~50k-polygon sky130 block, because it keeps cell references as ``<use>``), but the page needs a
PNG and rasterising SVG needs cairosvg plus the system cairo library, or a browser. Drawing the
flattened polygons as one ``PolyCollection`` per layer measured 0.61 s for a 54k-polygon block
and 2.7 s for a 360k-polygon one, reading and PNG writing included (``python -m
reports.bench_layout``, ``--rows 60 --wires 3000``). Cut layers (datatype 44: contacts, vias) and
text/pin/boundary datatypes are skipped: at page resolution they are sub-pixel and make up about
70-80 % of a standard-cell layout's polygons.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import gdstk
import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from gptnano import lefdef

# sky130 drawing layers (layer, datatype 20) in stacking order, with display colours.
SKY130_LAYERS: dict[int, tuple[str, str]] = {
    64: ("nwell", "#b9b9b9"),
    65: ("diff", "#2ca02c"),
    66: ("poly", "#d62728"),
    67: ("li1", "#9467bd"),
    68: ("met1", "#1f77b4"),
    69: ("met2", "#ff7f0e"),
    70: ("met3", "#17becf"),
    71: ("met4", "#8c564b"),
    72: ("met5", "#e377c2"),
}
DRAWING_DATATYPE = 20


KLAYOUT_LYP_GLOB = "pdk/lambdapdk/**/sky130/base/setup/klayout/*.lyp"
ZOOM_UM = 30.0  # side of the zoomed view: a few rows of standard cells, readable at 900 px


class LayoutError(ValueError):
    """A GDS or DEF file that cannot be drawn; the message names the file."""


@dataclass(frozen=True)
class LayoutStats:
    polygons: int
    drawn: int
    seconds: float
    top: str


def render_gds(gds: Path, png: Path, label: str = "", size_in: float = 7.0) -> LayoutStats:
    """Draw the top cell of ``gds`` (flattened, drawing layers only) to ``png``."""
    start = time.perf_counter()
    try:
        library = gdstk.read_gds(str(gds))
    except Exception as exc:  # gdstk raises bare RuntimeError/OSError with no file name
        raise LayoutError(f"{gds}: cannot read GDS ({exc})") from exc
    tops = library.top_level()
    if not tops:
        raise LayoutError(f"{gds}: no top-level cell")
    top = max(tops, key=lambda c: len(c.references) + len(c.polygons))
    polygons = top.get_polygons()
    by_layer: dict[int, list[np.ndarray]] = {}
    for polygon in polygons:
        if polygon.datatype == DRAWING_DATATYPE and polygon.layer in SKY130_LAYERS:
            by_layer.setdefault(polygon.layer, []).append(polygon.points)
    fig = Figure(figsize=(size_in, size_in))
    ax = fig.add_subplot()
    for layer in sorted(by_layer):
        name, colour = SKY130_LAYERS[layer]
        ax.add_collection(PolyCollection(by_layer[layer], facecolors=colour, alpha=0.45,
                                         linewidths=0, label=f"{name} ({len(by_layer[layer])})"))
    box = top.bounding_box()
    if box is not None:
        (x0, y0), (x1, y1) = box
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xlabel("µm")
    ax.set_title(f"{label or top.name}: {len(polygons):,} polygons")
    if by_layer:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110, bbox_inches="tight")
    drawn = sum(len(v) for v in by_layer.values())
    return LayoutStats(len(polygons), drawn, time.perf_counter() - start, top.name)


def sky130_lyp() -> Path:
    """The PDK's KLayout layer properties file (``$GPTNANO_SHARED/pdk/lambdapdk/...``)."""
    from gptnano.paths import shared_root

    found = sorted(shared_root().glob(KLAYOUT_LYP_GLOB))
    if not found:
        raise LayoutError(f"no KLayout layer properties under {shared_root()} "
                          f"({KLAYOUT_LYP_GLOB}); run scripts/setup.sh to fetch the PDK")
    return found[0]


@dataclass(frozen=True)
class KLayoutPicture:
    full: Path
    zoom: Path
    top: str
    box_um: tuple[float, float, float, float]
    seconds: float


def render_klayout(gds: Path, png: Path, zoom_png: Path, lyp: Path | None = None,
                   pixels: int = 900, zoom_um: float = ZOOM_UM) -> KLayoutPicture:
    """The whole top cell and a ``zoom_um`` square at its centre, as KLayout draws them."""
    import klayout.db as kdb
    import klayout.lay as lay

    start = time.perf_counter()
    lyp = lyp or sky130_lyp()
    view = lay.LayoutView()
    for key, value in (("background-color", "#ffffff"), ("grid-visible", "false"),
                       ("text-visible", "false")):
        view.set_config(key, value)
    try:
        index = view.load_layout(str(gds), True)
    except RuntimeError as exc:
        raise LayoutError(f"{gds}: KLayout cannot read it ({exc})") from exc
    view.load_layer_props(str(lyp))
    view.max_hier()
    cell = view.cellview(index).cell
    box = cell.dbbox()
    if box.empty():
        raise LayoutError(f"{gds}: the top cell is empty")
    png.parent.mkdir(parents=True, exist_ok=True)
    # the picture has the die's aspect ratio (longer side ``pixels``), no white bands; with
    # oversampling 2 (anti-aliased), so a dense block does not alias into a moire hatch
    box = box.enlarged(0.02 * max(box.width(), box.height()))
    scale = pixels / max(box.width(), box.height())
    width, height = max(1, round(box.width() * scale)), max(1, round(box.height() * scale))
    view.save_image_with_options(str(png), width, height, 0, 2, 0, box, False)
    centre, half = box.center(), min(zoom_um, box.width(), box.height()) / 2
    view.save_image_with_options(str(zoom_png), pixels, pixels, 0, 0, 0,
                                 kdb.DBox(centre.x - half, centre.y - half,
                                          centre.x + half, centre.y + half), False)
    return KLayoutPicture(png, zoom_png, cell.name, (box.left, box.bottom, box.right, box.top),
                          time.perf_counter() - start)


@dataclass(frozen=True)
class Placement:
    die: tuple[float, float, float, float]  # x0, y0, x1, y1 in µm
    points: np.ndarray  # (n, 2) cell origins in µm


# Physical-only cells say nothing about logic density.
_PHYSICAL = re.compile(r"fill|decap|tap|phy_", re.I)


def parse_def(path: Path) -> Placement:
    """Die area and placed standard-cell origins from a DEF file, read by the core's DEF
    reader (:func:`gptnano.lefdef.read_def_placement`, KLayout's LEF/DEF reader)."""
    try:
        placement = lefdef.read_def_placement(path)
    except lefdef.DefError as exc:
        raise LayoutError(str(exc)) from exc
    if not placement.components:
        raise LayoutError(f"{path}: no placed COMPONENTS")
    scale = float(placement.units_per_um)
    x0, y0, x1, y1 = placement.die
    points = [(c.x / scale, c.y / scale) for c in placement.components
              if not _PHYSICAL.search(c.macro)]
    return Placement(
        die=(x0 / scale, y0 / scale, x1 / scale, y1 / scale),
        points=np.array(points, dtype=float).reshape(-1, 2),
    )


def render_density(def_path: Path, png: Path, label: str = "", bins: int = 24) -> int:
    """Heat map of placed logic cells per bin over the die; returns the number of cells."""
    placement = parse_def(def_path)
    x0, y0, x1, y1 = placement.die
    fig = Figure(figsize=(5.2, 4.4))
    ax = fig.add_subplot()
    counts, xedges, yedges = np.histogram2d(
        placement.points[:, 0], placement.points[:, 1], bins=bins, range=[[x0, x1], [y0, y1]])
    image = ax.imshow(counts.T, origin="lower", extent=(x0, x1, y0, y1), cmap="viridis",
                      aspect="equal")
    fig.colorbar(image, ax=ax, label="cells per bin")
    ax.set_title(f"{label + ': ' if label else ''}cell density "
                 f"({len(placement.points):,} logic cells)")
    ax.set_xlabel("µm")
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110, bbox_inches="tight")
    return len(placement.points)


def main(argv: list[str] | None = None) -> int:
    """``python -m reports.layout --design small``: draw the GDS of the design's latest flow
    run (``build/<design>/signoff.json`` names it) with KLayout to ``reports/layout_<design>.png``
    (and ``..._zoom.png``) -- the pictures in the README."""
    import argparse
    import json

    from gptnano.paths import REPO_ROOT, build_root

    parser = argparse.ArgumentParser(prog="python -m reports.layout", description=main.__doc__)
    parser.add_argument("--design", required=True)
    parser.add_argument("--gds", type=Path,
                        help="draw this GDS instead of the one signoff.json names (a job that "
                             "reached the GDS step but not signoff)")
    parser.add_argument("--out", type=Path, help="PNG path (default reports/layout_<design>.png)")
    args = parser.parse_args(argv)
    gds = args.gds
    if gds is None:
        record_path = build_root() / args.design / "signoff.json"
        try:
            record = json.loads(record_path.read_text())
            gds = record_path.parent / record["gds"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            print(f"error: {record_path}: no flow run with a GDS ({exc}); run `make gds "
                  f"DESIGN={args.design}` first", file=sys.stderr)
            return 2
    out = args.out or REPO_ROOT / "reports" / f"layout_{args.design}.png"
    try:
        picture = render_klayout(gds, out, out.with_name(f"{out.stem}_zoom.png"))
    except LayoutError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{out}, {picture.zoom}: {picture.top} in {picture.seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
