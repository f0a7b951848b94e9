"""The engine's layout database, shared by floorplan, place, route and gds.

Every step reads ``<top>.layout.json`` from its inputs and writes an updated copy to its
outputs, beside the standard ``<top>.def`` view (for humans and other tools): JSON because the
router needs exact grid bookkeeping (which net owns which node and via) that DEF would lose
and that re-parsing DEF would only approximate.  All coordinates are integer nanometres.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pnr.engine import tech
from pnr.engine.context import StepError


@dataclass
class Component:
    name: str
    cell: str
    x: int = 0
    y: int = 0
    orient: str = "N"          # N or FS (rows alternate)
    kind: str = "logic"        # logic | tap | fill
    placed: bool = False


@dataclass
class Port:
    name: str
    direction: str
    layer: str
    rect: tuple[int, int, int, int]
    node: tuple[int, int]       # routing-grid (i, j) on `layer` where the router meets it


@dataclass
class Layout:
    top: str
    die: tuple[int, int, int, int]
    core: tuple[int, int, int, int]
    rows: list[tuple[int, str]]                       # (y, orient)
    components: list[Component]
    ports: dict[str, Port]
    nets: dict[str, list[tuple[str, str]]]            # net -> [(instance|'PIN', pin)]
    power: list[tuple[str, str, tuple[int, int, int, int]]] = field(default_factory=list)
    tap_columns: list[int] = field(default_factory=list)
    routes: dict[str, dict] = field(default_factory=dict)

    @property
    def grid_size(self) -> tuple[int, int]:
        nx = (self.die[2] - tech.GRID_X0) // tech.GRID_DX + 1
        ny = (self.die[3] - tech.GRID_Y0) // tech.GRID_DY + 1
        return nx, ny

    def comp(self, name: str) -> Component:
        return self._index()[name]

    def _index(self) -> dict[str, Component]:
        if getattr(self, "_idx", None) is None or len(self._idx) != len(self.components):
            self._idx = {c.name: c for c in self.components}
        return self._idx

    def save(self, path: Path) -> None:
        data = asdict(self)
        data.pop("_idx", None)
        path.write_text(json.dumps(data))

    @classmethod
    def load(cls, path: Path) -> Layout:
        try:
            d = json.loads(path.read_text())
            return cls(
                top=d["top"], die=tuple(d["die"]), core=tuple(d["core"]),
                rows=[tuple(r) for r in d["rows"]],
                components=[Component(**c) for c in d["components"]],
                ports={k: Port(**{**v, "rect": tuple(v["rect"]), "node": tuple(v["node"])})
                       for k, v in d["ports"].items()},
                nets={k: [tuple(p) for p in v] for k, v in d["nets"].items()},
                power=[(a, b, tuple(r)) for a, b, r in d["power"]],
                tap_columns=list(d.get("tap_columns", [])),
                routes=d.get("routes", {}),
            )
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise StepError(f"{path}: not a valid engine layout file: {exc}") from exc


def grid_x(i: int) -> int:
    return tech.GRID_X0 + tech.GRID_DX * i


def grid_y(j: int) -> int:
    return tech.GRID_Y0 + tech.GRID_DY * j


Rect = tuple[int, int, int, int]


def net_rects(route: dict) -> dict[str, list[Rect]]:
    """Every drawn rectangle (nm) of one routed net per layer: wires at their width, via cuts
    and pads, the router's patches and the DRC repair step's rectangles
    (:mod:`pnr.engine.drc_repair`). The one definition of a net's metal that the GDS writer,
    the DEF writer and the repair step share."""
    rects: dict[str, list[Rect]] = {}

    def add(layer: str, x0: int, y0: int, x1: int, y1: int) -> None:
        rects.setdefault(layer, []).append((x0, y0, x1, y1))

    for layer, i1, j1, i2, j2 in route["segs"]:
        # a wire runs half its width past its end node (LEF's default wire extension), so
        # DEF readers and the GDS writer draw the same wire
        e = hw = tech.WIDTH[layer] // 2
        xa, xb = sorted((grid_x(i1), grid_x(i2)))
        ya, yb = sorted((grid_y(j1), grid_y(j2)))
        if ya == yb:
            add(layer, xa - e, ya - hw, xb + e, ya + hw)
        else:
            add(layer, xa - hw, ya - e, xa + hw, yb + e)
    for kind, i, j, *offset in route["vias"]:
        cut, half, lower, upper = tech.VIAS[kind]
        x, y = grid_x(i) + (offset[0] if offset else 0), grid_y(j)
        add(cut, x - half, y - half, x + half, y + half)
        for lay, hx, hy in (lower, upper):
            add(lay, x - hx, y - hy, x + hx, y + hy)
    for layer, x0, y0, x1, y1 in (*route.get("patches", []), *route.get("repair", [])):
        add(layer, x0, y0, x1, y1)
    return rects


def place_rect(rect: tuple[int, int, int, int], comp: Component, height: int) -> tuple[int, ...]:
    """A cell-local rectangle in die coordinates for the component's orientation."""
    x0, y0, x1, y1 = rect
    if comp.orient == "N":
        return (comp.x + x0, comp.y + y0, comp.x + x1, comp.y + y1)
    if comp.orient == "FS":
        return (comp.x + x0, comp.y + height - y1, comp.x + x1, comp.y + height - y0)
    raise StepError(f"component {comp.name}: unsupported orientation {comp.orient}")


def write_def(layout: Layout, path: Path) -> None:
    """DEF view: die, rows, tracks, components, pins and net connectivity (with routed wires
    as plain segments, vias, and the router's patches and the DRC repair rectangles as
    ``RECT`` routing points when the router has run).

    Written in a canonical order -- components, pins, nets, each net's connections, wires
    and vias sorted -- and without a date, so two layouts with the same content give
    byte-identical files whatever order the steps appended to the layout's lists in."""
    u = 1000
    x0, y0, x1, y1 = layout.die
    nx, ny = layout.grid_size
    lines = ["VERSION 5.8 ;", 'DIVIDERCHAR "/" ;', 'BUSBITCHARS "[]" ;', f"DESIGN {layout.top} ;",
             f"UNITS DISTANCE MICRONS {u} ;", f"DIEAREA ( {x0} {y0} ) ( {x1} {y1} ) ;"]
    cx0, _, cx1, _ = layout.core
    nsites = (cx1 - cx0) // tech.SITE_W
    for k, (y, orient) in enumerate(layout.rows):
        lines.append(f"ROW ROW_{k} unithd {cx0} {y} {orient} DO {nsites} BY 1 "
                     f"STEP {tech.SITE_W} 0 ;")
    for layer in tech.LAYERS:
        step_x = tech.GRID_DX * (2 if layer in ("met3", "met4") else 1)
        step_y = tech.GRID_DY * (2 if layer in ("met3", "met4") else 1)
        lines.append(f"TRACKS X {tech.GRID_X0} DO {(nx - 1) * tech.GRID_DX // step_x + 1} "
                     f"STEP {step_x} LAYER {layer} ;")
        lines.append(f"TRACKS Y {tech.GRID_Y0} DO {(ny - 1) * tech.GRID_DY // step_y + 1} "
                     f"STEP {step_y} LAYER {layer} ;")
    placed = sorted(layout.components, key=lambda c: c.name)
    lines.append(f"COMPONENTS {len(placed)} ;")
    for c in placed:
        status = "PLACED" if c.placed else "UNPLACED"
        where = f" ( {c.x} {c.y} ) {c.orient}" if c.placed else ""
        lines.append(f"  - {c.name} {c.cell} + {status}{where} ;")
    lines.append("END COMPONENTS")
    lines.append(f"PINS {len(layout.ports) + 2} ;")
    for _name, p in sorted(layout.ports.items()):
        d = {"input": "INPUT", "output": "OUTPUT"}.get(p.direction, "INOUT")
        r = p.rect
        cxm, cym = (r[0] + r[2]) // 2, (r[1] + r[3]) // 2
        lines.append(f"  - {p.name} + NET {p.name} + DIRECTION {d} + USE SIGNAL + LAYER {p.layer} "
                     f"( {r[0] - cxm} {r[1] - cym} ) ( {r[2] - cxm} {r[3] - cym} ) "
                     f"+ PLACED ( {cxm} {cym} ) N ;")
    for net, use in (("VPWR", "POWER"), ("VGND", "GROUND")):
        lines.append(f"  - {net} + NET {net} + SPECIAL + DIRECTION INOUT + USE {use} ;")
    lines.append("END PINS")
    lines.append("SPECIALNETS 2 ;")
    for net, use in (("VPWR", "POWER"), ("VGND", "GROUND")):
        lines.append(f"  - {net} ( * {net} )")
        first = True
        for pnet, layer, (a, b, c, d) in layout.power:
            if pnet != net or layer not in tech.LAYERS:
                continue
            w = min(c - a, d - b)
            pts = f"( {a} {(b + d) // 2} ) ( {c} * )" if c - a >= d - b else \
                f"( {(a + c) // 2} {b} ) ( * {d} )"
            lines.append(f"    {'+ ROUTED' if first else 'NEW'} {layer} {w} {pts}")
            first = False
        lines.append(f"    + USE {use} ;")
    lines.append("END SPECIALNETS")
    lines.append(f"NETS {len(layout.nets)} ;")
    for net, pins in sorted(layout.nets.items()):
        conn = " ".join(f"( {i} {p} )" for i, p in sorted(pins))
        lines.append(f"  - {net} {conn}")
        route = layout.routes.get(net)
        if route:
            first = True
            for layer, i1, j1, i2, j2 in sorted(route.get("segs", [])):
                lines.append(f"    {'+ ROUTED' if first else 'NEW'} {layer} ( {grid_x(i1)} "
                             f"{grid_y(j1)} ) ( {grid_x(i2)} {grid_y(j2)} )")
                first = False
            for kind, i, j, *off in sorted(route.get("vias", [])):
                lower = tech.VIAS[kind][2][0]
                x = grid_x(i) + sum(off)
                lines.append(f"    {'+ ROUTED' if first else 'NEW'} {lower} ( {x} "
                             f"{grid_y(j)} ) {kind}_PR")
                first = False
            for layer, x0, y0, x1, y1 in sorted((*route.get("patches", []),
                                                 *route.get("repair", []))):
                lines.append(f"    {'+ ROUTED' if first else 'NEW'} {layer} ( {x0} {y0} ) "
                             f"RECT ( 0 0 {x1 - x0} {y1 - y0} )")
                first = False
        lines.append("  ;")
    lines.append("END NETS")
    lines.append("END DESIGN")
    path.write_text("\n".join(lines) + "\n")
