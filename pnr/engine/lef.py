"""The standard-cell LEF as the engine sees it: cell sizes, pin shapes and obstructions.

The geometry is read by KLayout's LEF/DEF reader (``klayout.db``, installed with the flow's
KLayout DRC; the loader is the core's :func:`gptnano.lefdef.read_lef_layout`, next to its DEF
reader): each macro becomes a cell whose ``SIZE`` is its outline box, whose pin ports land
on ``<layer>.PIN`` layers with the pin name as a shape property, and whose ``OBS`` land on
``<layer>.OBS`` layers. The database unit is set to 1 nm, so every coordinate is an integer in
nanometres and geometry checks never meet floating-point rounding.

What KLayout's reader does not give back, and is therefore read from the text here
(:func:`_macro_headers`, a scan of the ``MACRO``/``CLASS``/``PIN``/``DIRECTION``/``USE``/
``LAYER`` statements, no geometry): the macro ``CLASS`` (``CORE WELLTAP``, ``CORE SPACER``,
...), each pin's ``DIRECTION`` and ``USE`` (the engine tells signal pins from supply pins by
``USE``), the pins' order in the file (KLayout keeps shapes, not pins: a pin is known only
through its shapes' property) and the order of the layers within a port or ``OBS`` (CTS and
placement take a pin's shapes layer by layer).

Compared with the hand-written RECT reader this replaced, on every cell of the sky130hd library
(``pnr/tests/test_lef_klayout.py``): the same sizes, pins, directions, uses and the same
rectangles on the same layers; the rectangles of a layer come in the file's order except where
KLayout has sorted a large layer into its box tree (the ``OBS`` ``li1`` of ``fah_1`` and
``fahcin_1``: 100+ rectangles), an order no consumer relies on (obstructions are blockages).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gptnano.lefdef import OBS_SUFFIX, OUTLINE, PIN_PROPERTY, PIN_SUFFIX, LefError, read_lef_layout

Rect = tuple[int, int, int, int]
__all__ = ["LefError", "LefMacro", "LefPin", "Rect", "read_lef"]


@dataclass
class LefPin:
    name: str
    direction: str = "INPUT"
    use: str = "SIGNAL"
    shapes: dict[str, list[Rect]] = field(default_factory=dict)
    # um^2: gate oxide area behind an input pin, diffusion area behind an output pin (LEF
    # ANTENNAGATEAREA / ANTENNADIFFAREA; 0 where the LEF gives none), for the antenna step
    antenna_gate_area: float = 0.0
    antenna_diff_area: float = 0.0


@dataclass
class LefMacro:
    name: str
    width: int = 0
    height: int = 0
    cls: str = ""
    pins: dict[str, LefPin] = field(default_factory=dict)
    obs: dict[str, list[Rect]] = field(default_factory=dict)

    @property
    def signal_pins(self) -> list[LefPin]:
        return [p for p in self.pins.values() if p.use not in ("POWER", "GROUND")]


def _macro_headers(path: Path) -> dict[str, LefMacro]:
    """Macros with their ``CLASS`` and their pins (in file order) with ``DIRECTION``/``USE``
    and antenna areas: the statements KLayout's reader does not return. Geometry is left empty."""
    macros: dict[str, LefMacro] = {}
    macro: LefMacro | None = None
    pin: LefPin | None = None
    in_obs = False
    for lineno, raw in enumerate(path.read_text().splitlines(), 1):
        tok = raw.split("#", 1)[0].replace(";", " ").split()
        if not tok:
            continue
        key = tok[0]
        try:
            if key == "MACRO":
                macro = LefMacro(tok[1])
                macros[macro.name] = macro
            elif macro is None:
                continue
            elif key == "END" and len(tok) > 1 and tok[1] == macro.name:
                macro, pin, in_obs = None, None, False
            elif key == "CLASS" and pin is None and not in_obs:
                macro.cls = " ".join(tok[1:])
            elif key == "PIN":
                pin = LefPin(tok[1])
                macro.pins[pin.name] = pin
            elif key == "END" and pin is not None and len(tok) > 1 and tok[1] == pin.name:
                pin = None
            elif key == "OBS":
                in_obs, pin = True, None
            elif key == "END" and in_obs and len(tok) == 1:
                in_obs = False
            elif key == "DIRECTION" and pin is not None:
                pin.direction = tok[1]
            elif key == "USE" and pin is not None:
                pin.use = tok[1]
            elif key == "ANTENNAGATEAREA" and pin is not None:
                pin.antenna_gate_area += float(tok[1])
            elif key == "ANTENNADIFFAREA" and pin is not None:
                pin.antenna_diff_area += float(tok[1])
            elif key == "LAYER" and (pin is not None or in_obs):
                # the layer order of the port/OBS: an empty list marks it (the geometry
                # dicts are filled in this order, see read_lef)
                target = pin.shapes if pin is not None else macro.obs
                target.setdefault(tok[1], [])
        except IndexError as exc:
            raise LefError(f"{path}:{lineno}: cannot read '{raw.strip()}': {exc}") from exc
    return macros


def _drop_empty(shapes: dict[str, list[Rect]]) -> dict[str, list[Rect]]:
    return {layer: rects for layer, rects in shapes.items() if rects}


def read_lef(path: Path) -> dict[str, LefMacro]:
    """The macros of the LEF file ``path``: headers from :func:`_macro_headers`, geometry
    (size, pin shapes per layer, obstructions per layer) from KLayout."""
    if not path.is_file():
        raise LefError(f"{path}: no such LEF file")
    macros = _macro_headers(path)
    if not macros:
        raise LefError(f"{path}: no MACRO found")
    layout = read_lef_layout(path)
    layers = [(index, layout.get_info(index).name) for index in layout.layer_indexes()]
    for macro in macros.values():
        cell = layout.cell(macro.name)
        if cell is None:
            raise LefError(f"{path}: KLayout read no cell for MACRO {macro.name}")
        for index, name in layers:
            for shape in cell.shapes(index).each():
                box = shape.bbox()
                rect = (box.left, box.bottom, box.right, box.top)
                if name == OUTLINE:
                    macro.width, macro.height = box.width(), box.height()
                elif name.endswith(PIN_SUFFIX):
                    pin_name = shape.property(PIN_PROPERTY)
                    pin = macro.pins.get(pin_name)
                    if pin is None:
                        raise LefError(f"{path}: MACRO {macro.name}: shape of unknown pin "
                                       f"{pin_name!r}")
                    pin.shapes.setdefault(name[:-len(PIN_SUFFIX)], []).append(rect)
                elif name.endswith(OBS_SUFFIX):
                    macro.obs.setdefault(name[:-len(OBS_SUFFIX)], []).append(rect)
                if not shape.is_box():
                    raise LefError(f"{path}: MACRO {macro.name}: a non-rectangular shape on "
                                   f"{name} (the engine reads RECTs only)")
        for pin in macro.pins.values():
            pin.shapes = _drop_empty(pin.shapes)
        macro.obs = _drop_empty(macro.obs)
    return macros
