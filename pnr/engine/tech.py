"""The technology model: the sky130hd numbers the engine builds its geometry from, read from
the tech LEF (and the cell LEF for the rails), in nanometres.

Why one module: the router, the GDS/DEF writers, the floorplan and the DRC repair all draw
shapes whose legality depends on the same widths, spacings, pitches and via pads; read once
here, a changed LEF changes every consumer together instead of leaving hand-copied copies
behind.  The values are read on first use (module ``__getattr__``), so importing the engine
needs no PDK; a LEF the engine cannot build on (a missing statement, or a grid the router's
scheme does not fit) stops with one line naming the file and the problem
(:class:`TechError`).

The routing grid is the cell library's own pin grid: x = OFFSET + PITCH*i of met2 (the li1
and met2 pitch, 0.46 um), y = OFFSET + PITCH*j of met1 (0.34 um).  met1 runs horizontally and
met2 vertically on every grid line; met3 (horizontal) and met4 (vertical) use only even i and
even j, which must be their own LEF pitches (checked: 0.68 and 0.92 um), so their wider
0.3 um wires and via pads never need a spacing check against neighbouring tracks.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from gptnano.step import StepError

# The engine's choices (not technology numbers): the routing layers it uses, the LEF vias it
# places between them and the site its rows are made of.
LAYERS = ("met1", "met2", "met3", "met4")
HORIZONTAL = {"met1": True, "met2": False, "met3": True, "met4": False}
LEF_VIAS = {"L1M1": "L1M1_PR", "M1M2": "M1M2_PR", "M2M3": "M2M3_PR", "M3M4": "M3M4_PR"}
VIA_BETWEEN = {("met1", "met2"): "M1M2", ("met2", "met3"): "M2M3", ("met3", "met4"): "M3M4"}
SITE = "unithd"
RAIL_CELL = "sky130_fd_sc_hd__fill_1"   # a cell whose VPWR pin is just the row's met1 rail
STRAP_W = 1000           # our met2 power straps beside the core (a floorplan choice)

# GDS purposes: shapes on ``drawing``, pin shapes and their texts on ``pin`` (datatype 16):
# Magic's sky130 GDS input makes texts on the pin purpose ports (texts on ``label``, datatype
# 5, become plain net names), and LVS needs ports.
GDS_LAYERS = ("li1", "mcon", "met1", "via", "met2", "via2", "met3", "via3", "met4")


class TechError(StepError):
    """The tech LEF lacks something the engine needs, or its grid does not fit the router."""


# -- reading the tech LEF ----------------------------------------------------------------------
BLOCKS = ("LAYER", "VIA", "SITE", "VIARULE")


@cache
def lef_blocks(path: str | None = None) -> dict[tuple[str, str], list[list[str]]]:
    """Each ``LAYER``/``VIA``/``SITE``/``VIARULE`` block of the tech LEF as its statements
    (split at ``;``, comments dropped), e.g. ``[("LAYER", "met1")]`` holds ``["PITCH",
    "0.34"]`` and ``["SPACINGTABLE", "PARALLELRUNLENGTH", "0", "WIDTH", "0", "0.14", ...]``.

    Why a scan and not KLayout: KLayout's LEF reader builds the layout and keeps no layer
    properties such as PITCH, THICKNESS or the antenna ratio tables.  Statements, not lines:
    a ``SPACINGTABLE`` runs over several lines, each starting with ``WIDTH``."""
    key = _tech_lef(path)
    blocks: dict[tuple[str, str], list[list[str]]] = {}
    current: list[list[str]] | None = None
    name, pending = ("", ""), ""
    for raw in open(key).read().splitlines():
        text = raw.split("#", 1)[0]
        tok = text.split()
        if not tok:
            continue
        if current is None:
            if tok[0] in BLOCKS and len(tok) >= 2 and ";" not in text:
                name, current, pending = (tok[0], tok[1]), [], ""
            continue
        if tok == ["END", name[1]]:
            blocks[name], current = current, None
            continue
        pending += " " + text
        while ";" in pending:
            statement, pending = pending.split(";", 1)
            if statement.split():
                current.append(statement.split())
    if current is not None:
        raise TechError(f"{key}: {name[0]} {name[1]} has no END {name[1]}")
    return blocks


@cache
def lef_layer_statements(path: str | None = None) -> dict[str, dict[str, list[str]]]:
    """Each ``LAYER`` block as {statement keyword: its tokens after the keyword} (the first
    statement of each keyword), e.g. ``["met1"]["THICKNESS"] == ["0.35"]``."""
    layers: dict[str, dict[str, list[str]]] = {}
    for (kind, name), statements in lef_blocks(path).items():
        if kind == "LAYER":
            layers[name] = {}
            for st in statements:
                layers[name].setdefault(st[0], st[1:])
    return layers


def _nm(value: str) -> int:
    return round(float(value) * 1000)


def _tech_lef(path: str | None) -> str:
    from gptnano import pdk

    return str(path or pdk.tech_lef())


def _need(layers: dict[str, dict[str, list[str]]], layer: str, keyword: str,
          path: str) -> list[str]:
    """The tokens of LAYER `layer`'s `keyword` statement; its absence names file and layer."""
    if keyword not in layers[layer]:
        raise TechError(f"{path}: layer {layer} has no {keyword} statement")
    return layers[layer][keyword]


def _min_spacing(layers: dict[str, dict[str, list[str]]], layer: str, path: str) -> int:
    """The layer's minimum spacing: a plain ``SPACING`` or the first row of a
    ``SPACINGTABLE`` (``WIDTH 0 <spacing>``, the narrow-wire spacing)."""
    if "SPACING" in layers[layer]:
        return _nm(layers[layer]["SPACING"][0])
    row = _need(layers, layer, "SPACINGTABLE", path)
    if "WIDTH" not in row:
        raise TechError(f"{path}: layer {layer}: SPACINGTABLE without a WIDTH row")
    return _nm(row[row.index("WIDTH") + 2])


@dataclass(frozen=True)
class Technology:
    """What the engine draws with (nm).  ``vias[name]`` is (cut layer, cut half-size,
    (lower layer, pad half x, pad half y), (upper layer, pad half x, pad half y))."""

    site_w: int
    row_h: int
    grid_x0: int
    grid_dx: int
    grid_y0: int
    grid_dy: int
    width: dict[str, int]
    spacing: dict[str, int]
    min_area: dict[str, int]          # nm^2
    vias: dict[str, tuple[str, int, tuple[str, int, int], tuple[str, int, int]]]
    via1_cut_pitch: int               # M1M2 cut pitch of the LEF's via rule (power straps)


def _via(blocks: dict, lef_name: str, cut_layers: set[str], path: str):
    statements = blocks.get(("VIA", lef_name))
    if statements is None:
        raise TechError(f"{path}: no VIA {lef_name}")
    rects: list[tuple[str, tuple[int, ...]]] = []
    layer = ""
    for st in statements:
        if st[0] == "LAYER":
            layer = st[1]
        elif st[0] == "RECT":
            rects.append((layer, tuple(_nm(v) for v in st[1:5])))
    cut = [(lay, r) for lay, r in rects if lay in cut_layers]
    pads = [(lay, r) for lay, r in rects if lay not in cut_layers]
    if len(cut) != 1 or len(pads) != 2:
        raise TechError(f"{path}: VIA {lef_name}: expected one cut and two metal rectangles")
    (cut_layer, c), = cut

    def half(layer_rect: tuple[str, tuple[int, ...]]) -> tuple[str, int, int]:
        lay, r = layer_rect
        return (lay, (r[2] - r[0]) // 2, (r[3] - r[1]) // 2)
    return (cut_layer, (c[2] - c[0]) // 2, half(pads[0]), half(pads[1]))


@cache
def technology(path: str | None = None) -> Technology:
    """The technology model of the tech LEF at `path` (default: the PDK's), checked against
    the router's grid scheme (module docstring)."""
    where = _tech_lef(path)
    blocks = lef_blocks(where)
    layers = lef_layer_statements(where)
    for layer in ("li1", *LAYERS):
        if layer not in layers:
            raise TechError(f"{where}: no LAYER {layer}")
    site = blocks.get(("SITE", SITE))
    size = next((st for st in site or [] if st[0] == "SIZE"), None)
    if size is None or len(size) < 4:
        raise TechError(f"{where}: no SITE {SITE} with a SIZE")

    def pitch_offset(layer: str) -> tuple[int, int]:
        return (_nm(_need(layers, layer, "PITCH", where)[0]),
                _nm(_need(layers, layer, "OFFSET", where)[0]))
    (dx, x0), (dy, y0) = pitch_offset("met2"), pitch_offset("met1")
    (p3, _), (p4, _) = pitch_offset("met3"), pitch_offset("met4")
    site_w, row_h = _nm(size[1]), _nm(size[3])
    problems = [f"met3 pitch {p3} nm is not twice met1's {dy}" if p3 != 2 * dy else "",
                f"met4 pitch {p4} nm is not twice met2's {dx}" if p4 != 2 * dx else "",
                f"site width {site_w} nm is not met2's pitch {dx}" if site_w != dx else "",
                f"row height {row_h} nm is not a multiple of met1's pitch {dy}"
                if row_h % dy else ""]
    problems = [p for p in problems if p]
    if problems:
        raise TechError(f"{where}: the router's grid does not fit: {'; '.join(problems)}")
    cut_layers = {name for (kind, name), sts in blocks.items() if kind == "LAYER"
                  and ["TYPE", "CUT"] in sts}
    rule = blocks.get(("VIARULE", LEF_VIAS["M1M2"]), [])
    cut_spacing = next((st for st in rule if st[0] == "SPACING"), None)
    if cut_spacing is None:
        raise TechError(f"{where}: VIARULE {LEF_VIAS['M1M2']} has no SPACING")
    return Technology(
        site_w=site_w, row_h=row_h, grid_x0=x0, grid_dx=dx, grid_y0=y0, grid_dy=dy,
        width={m: _nm(_need(layers, m, "WIDTH", where)[0]) for m in ("li1", *LAYERS)},
        spacing={m: _min_spacing(layers, m, where) for m in ("li1", *LAYERS)},
        min_area={m: round(float(_need(layers, m, "AREA", where)[0]) * 1e6)
                  for m in ("li1", *LAYERS)},
        vias={name: _via(blocks, lef, cut_layers, where) for name, lef in LEF_VIAS.items()},
        via1_cut_pitch=_nm(cut_spacing[1]))


@cache
def rail_half() -> int:
    """Half the height of the cells' met1 supply rails (0.48 um tall, centred on the row
    boundaries), from the cell LEF's :data:`RAIL_CELL`."""
    from pnr.engine import library

    cell = library.cells().get(RAIL_CELL)
    rails = cell.pins["VPWR"].shapes.get("met1", []) if cell else []
    if not rails:
        raise TechError(f"cell LEF: {RAIL_CELL} has no met1 VPWR rail")
    return (rails[0][3] - rails[0][1]) // 2


@cache
def gds_layer_map(path: str | None = None) -> dict[str, tuple[int, int]]:
    """``{"met1.drawing": (68, 20), ...}`` from the ``layer_map(...)`` of the PDK's KLayout
    technology file (the map its LEF/DEF reader uses), the longest one in the file."""
    import re

    from gptnano import pdk

    where = str(path or pdk.klayout_tech())
    maps = re.findall(r"<layer-map>layer_map\((.*?)\)</layer-map>", open(where).read(), re.S)
    table: dict[str, tuple[int, int]] = {}
    for entry in re.findall(r"'([\w.]+)\s*:\s*(\d+)/(\d+)'", max(maps, key=len, default="")):
        table.setdefault(entry[0], (int(entry[1]), int(entry[2])))
    missing = [f"{m}.{p}" for m in GDS_LAYERS for p in ("drawing", "pin")
               if f"{m}.{p}" not in table and (p == "drawing" or m in LAYERS)]
    if missing:
        raise TechError(f"{where}: the GDS layer map lacks {', '.join(missing)}")
    return table


def layer_rc(path: str | None = None) -> dict[str, tuple[float, float, float]]:
    """Per routing layer (area capacitance pF/um^2, edge capacitance pF/um, sheet resistance
    ohm/square): the tech LEF's ``CAPACITANCE CPERSQDIST``, ``EDGECAPACITANCE`` and
    ``RESISTANCE RPERSQ`` (the lumped estimates of placement, CTS and the SPEF use them)."""
    where = _tech_lef(path)
    layers = lef_layer_statements(where)
    return {m: (float(_need(layers, m, "CAPACITANCE", where)[-1]),
                float(_need(layers, m, "EDGECAPACITANCE", where)[0]),
                float(_need(layers, m, "RESISTANCE", where)[-1])) for m in LAYERS}


def via_resistance(path: str | None = None) -> dict[str, float]:
    """Ohm per cut of each via the router places, from its cut layer's ``RESISTANCE``."""
    where = _tech_lef(path)
    layers = lef_layer_statements(where)
    return {name: float(_need(layers, via[0], "RESISTANCE", where)[0])
            for name, via in technology(where).vias.items()}


MAGIC_LAYERS = {"allli": "li1", "allm1": "met1", "allm2": "met2", "allm3": "met3",
                "allm4": "met4"}


@cache
def magic_coupling(path: str | None = None) -> tuple[dict, dict, int]:
    """Magic's coupling model from its sky130A tech file (the extractor signoff runs), default
    extraction style: ``defaultsidewall`` (aF per um of facing edges at 1 um, per layer),
    ``defaultoverlap``/``defaultsideoverlap`` per (upper, lower) layer pair as (aF/um^2 of
    overlap, aF/um of the upper layer's edges over the lower, aF/um of the lower layer's
    edges under the upper) and ``sidehalo`` in nm.  Lines of other variants (``(orig)``,
    ``(si)``) are skipped."""
    from gptnano import pdk

    where = str(path or pdk.magic_tech())
    side: dict[str, float] = {}
    over: dict[tuple[str, str], float] = {}
    side_over: dict[tuple[str, str], float] = {}
    halo = None
    section, variants = "", "*"
    for raw in open(where).read().splitlines():
        tok = raw.split("#", 1)[0].split()
        if not tok:
            continue
        if not raw[0].isspace() and (tok == ["extract"] or tok == ["end"]):
            section, variants = tok[0], "*"      # sections open and close at column 0
            continue
        if section != "extract":
            continue
        if tok[0] == "variants":
            variants = " ".join(tok[1:])
            continue
        if variants != "*" and "()" not in variants:
            continue
        layers = [MAGIC_LAYERS.get(t) for t in tok[1:-1]]
        if tok[0] == "sidehalo" and halo is None:
            halo = round(float(tok[1]) * 1000)
        elif tok[0] == "defaultsidewall" and layers[0]:
            side.setdefault(layers[0], float(tok[-1]))
        elif tok[0] in ("defaultoverlap", "defaultsideoverlap") and len(tok) == 6 \
                and layers[0] and layers[2]:
            table = over if tok[0] == "defaultoverlap" else side_over
            table.setdefault((layers[0], layers[2]), float(tok[-1]))
    cross = {}
    for lower, upper in zip(("li1", *LAYERS), LAYERS, strict=False):
        key = (upper, lower)
        if key not in over or key not in side_over or (lower, upper) not in side_over:
            raise TechError(f"{where}: no default overlap/sideoverlap for {upper} over {lower}")
        cross[key] = (over[key], side_over[key], side_over[(lower, upper)])
    missing = [m for m in LAYERS if m not in side]
    if missing or halo is None:
        raise TechError(f"{where}: extract section lacks "
                        f"{'sidehalo' if halo is None else 'defaultsidewall ' + missing[0]}")
    return {m: side[m] for m in LAYERS}, cross, halo


def _rc_column(column: int) -> dict[str, float]:
    return {m: rc[column] for m, rc in layer_rc().items()}


# Module attributes the engine reads as constants, each resolved on first use (then cached
# as a plain module global): name -> how to compute it.
_DERIVED = {
    "SITE_W": lambda: technology().site_w, "ROW_H": lambda: technology().row_h,
    "GRID_X0": lambda: technology().grid_x0, "GRID_DX": lambda: technology().grid_dx,
    "GRID_Y0": lambda: technology().grid_y0, "GRID_DY": lambda: technology().grid_dy,
    "WIDTH": lambda: {m: technology().width[m] for m in LAYERS},
    "SPACING": lambda: dict(technology().spacing),
    "MIN_AREA": lambda: dict(technology().min_area),
    "VIAS": lambda: dict(technology().vias),
    "VIA1_CUT": lambda: 2 * technology().vias["M1M2"][1],
    "VIA1_PITCH": lambda: technology().via1_cut_pitch,
    "RAIL_HALF": rail_half,
    "AREA_CAP": lambda: _rc_column(0), "EDGE_CAP": lambda: _rc_column(1),
    "SHEET_R": lambda: _rc_column(2),
    "VIA_R": via_resistance,
    "SIDEWALL_AF": lambda: magic_coupling()[0], "CROSS_AF": lambda: magic_coupling()[1],
    "SIDE_HALO_NM": lambda: magic_coupling()[2],
    "GDS": lambda: {m: gds_layer_map()[f"{m}.drawing"] for m in GDS_LAYERS},
    "GDS_PIN": lambda: {m: gds_layer_map()[f"{m}.pin"] for m in LAYERS},
    "GDS_LABEL": lambda: _DERIVED["GDS_PIN"](),   # texts go on the pin purpose
}


def __getattr__(name: str) -> Any:
    if name not in _DERIVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = _DERIVED[name]()
    globals()[name] = value
    return value


def thickness_um(layer: str) -> float:
    """The routing layer's metal THICKNESS (um) from the tech LEF."""
    return float(lef_layer_statements()[layer]["THICKNESS"][0])


def pwl(layer: str, keyword: str) -> list[tuple[float, float]]:
    """A ``PWL ( ( x y ) ... )`` table of the tech LEF layer (e.g. the antenna ratio limit
    ``ANTENNADIFFSIDEAREARATIO`` against the connected diffusion area in um^2)."""
    tokens = [t for t in lef_layer_statements()[layer][keyword] if t not in ("(", ")", "PWL")]
    values = [float(t) for t in tokens]
    return list(zip(values[0::2], values[1::2], strict=True))
