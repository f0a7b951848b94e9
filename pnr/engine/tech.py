"""sky130hd numbers the engine builds its geometry from (nanometres, from the tech LEF and
the sky130 periphery rules that the KLayout deck checks).

The routing grid is the cell library's own pin grid: x = 230 + 460*i (li1/met2 pitch), y = 170 +
340*j (met1 pitch).  met1 runs horizontally and met2 vertically on every grid line; met3
(horizontal) and met4 (vertical) use only even i and even j, which gives them 0.68 um and 0.92 um
pitch -- their own pitches in the tech LEF -- so their wider 0.3 um wires and via pads never
need a spacing check against neighbouring tracks.
"""

from __future__ import annotations

SITE_W = 460
ROW_H = 2720
GRID_X0, GRID_DX = 230, 460
GRID_Y0, GRID_DY = 170, 340

LAYERS = ("met1", "met2", "met3", "met4")
HORIZONTAL = {"met1": True, "met2": False, "met3": True, "met4": False}
# (GDS layer, datatype) for drawing, pin and label purposes (sky130 layer map).
GDS = {
    "li1": (67, 20), "mcon": (67, 44), "met1": (68, 20), "via": (68, 44), "met2": (69, 20),
    "via2": (69, 44), "met3": (70, 20), "via3": (70, 44), "met4": (71, 20),
}
GDS_PIN = {"met1": (68, 16), "met2": (69, 16), "met3": (70, 16), "met4": (71, 16)}
# Texts go on the pin purpose (datatype 16): Magic's sky130 GDS input makes those ports
# (texts on the label purpose, datatype 5, become plain net names), and LVS needs ports.
GDS_LABEL = {"met1": (68, 16), "met2": (69, 16), "met3": (70, 16), "met4": (71, 16)}

WIDTH = {"met1": 140, "met2": 140, "met3": 300, "met4": 300}
SPACING = {"met1": 140, "met2": 140, "met3": 300, "met4": 300, "li1": 170}
MIN_AREA = {"met1": 83000, "met2": 67600, "met3": 240000, "met4": 240000}  # nm^2

# Via geometry as (cut half-size, lower-pad half (x, y), upper-pad half (x, y)), from the tech
# LEF's L1M1_PR, M1M2_PR, M2M3_PR and M3M4_PR definitions.
VIAS = {
    "L1M1": ("mcon", 85, ("li1", 85, 85), ("met1", 145, 115)),
    "M1M2": ("via", 75, ("met1", 160, 130), ("met2", 130, 160)),
    "M2M3": ("via2", 100, ("met2", 140, 185), ("met3", 165, 165)),
    "M3M4": ("via3", 100, ("met3", 190, 160), ("met4", 165, 165)),
}
VIA_BETWEEN = {("met1", "met2"): "M1M2", ("met2", "met3"): "M2M3", ("met3", "met4"): "M3M4"}
# A met3 island made only of a via2/via3 stack is below met3's minimum area (0.24 um^2); the
# router widens it to this patch (0.56 x 0.44 um = 0.246 um^2), which still keeps 0.3 um to the
# neighbouring met3 tracks (0.68 um away) and to the next node along the track (0.92 um).
MET3_PATCH_HALF = (280, 220)

# Power grid
RAIL_HALF = 240          # the cells' met1 rails are 0.48 um tall, centred on row boundaries
STRAP_W = 1000           # met2 power straps beside the core
VIA1_CUT, VIA1_SPACE = 150, 170


# -- values read from the tech LEF -----------------------------------------------------------
def lef_layer_statements(path: str | None = None) -> dict[str, dict[str, list[str]]]:
    """Each ``LAYER`` block of the tech LEF as {statement keyword: its tokens}, e.g.
    ``["met1"]["THICKNESS"] == ["0.35"]``; comments dropped. Read once per process.

    Why a scan and not KLayout: KLayout's LEF reader builds the layout and keeps no layer
    properties such as THICKNESS or the antenna ratio tables."""
    from gptnano import pdk

    key = str(path or pdk.tech_lef())
    if key not in _LEF_LAYERS:
        layers: dict[str, dict[str, list[str]]] = {}
        current: dict[str, list[str]] | None = None
        name = ""
        for raw in open(key).read().splitlines():
            tok = raw.split("#", 1)[0].replace(";", " ").split()
            if not tok:
                continue
            if tok[0] == "LAYER" and len(tok) == 2 and current is None:
                name, current = tok[1], {}
                layers[name] = current
            elif current is not None and tok[:2] == ["END", name]:
                current = None
            elif current is not None:
                current[tok[0]] = tok[1:]
        _LEF_LAYERS[key] = layers
    return _LEF_LAYERS[key]


_LEF_LAYERS: dict[str, dict[str, dict[str, list[str]]]] = {}


def thickness_um(layer: str) -> float:
    """The routing layer's metal THICKNESS (um) from the tech LEF."""
    return float(lef_layer_statements()[layer]["THICKNESS"][0])


def pwl(layer: str, keyword: str) -> list[tuple[float, float]]:
    """A ``PWL ( ( x y ) ... )`` table of the tech LEF layer (e.g. the antenna ratio limit
    ``ANTENNADIFFSIDEAREARATIO`` against the connected diffusion area in um^2)."""
    tokens = [t for t in lef_layer_statements()[layer][keyword] if t not in ("(", ")", "PWL")]
    values = [float(t) for t in tokens]
    return list(zip(values[0::2], values[1::2], strict=True))
