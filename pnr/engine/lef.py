"""A small reader for the standard-cell LEF: cell sizes, pin shapes and obstructions.

Only what the engine needs (``MACRO``/``SIZE``/``CLASS``/``PIN``/``DIRECTION``/``USE``/``LAYER``/
``RECT``/``OBS``) is read; every coordinate becomes an integer in nanometres so geometry checks
never meet floating-point rounding.  A hand-written reader rather than a library because no
maintained pure-Python LEF parser is installable here, and the subset is small and stable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

Rect = tuple[int, int, int, int]


class LefError(ValueError):
    """The LEF file is not in the shape this reader expects (the message names file and line)."""


def nm(value: str) -> int:
    """Microns (LEF text) to integer nanometres."""
    return int(round(float(value) * 1000))


@dataclass
class LefPin:
    name: str
    direction: str = "INPUT"
    use: str = "SIGNAL"
    shapes: dict[str, list[Rect]] = field(default_factory=dict)


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


def read_lef(path: Path) -> dict[str, LefMacro]:
    """Parse the macros of a LEF file."""
    macros: dict[str, LefMacro] = {}
    macro: LefMacro | None = None
    pin: LefPin | None = None
    in_obs = False
    layer = ""
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
            elif key == "SIZE":
                macro.width, macro.height = nm(tok[1]), nm(tok[3])
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
            elif key == "LAYER":
                layer = tok[1]
            elif key == "RECT":
                vals = [nm(v) for v in tok[1:5]] if tok[1] != "MASK" else [nm(v) for v in tok[3:7]]
                r = (min(vals[0], vals[2]), min(vals[1], vals[3]),
                     max(vals[0], vals[2]), max(vals[1], vals[3]))
                target = pin.shapes if pin is not None else (macro.obs if in_obs else None)
                if target is not None:
                    target.setdefault(layer, []).append(r)
        except (IndexError, ValueError) as exc:
            raise LefError(f"{path}:{lineno}: cannot read '{raw.strip()}': {exc}") from exc
    if not macros:
        raise LefError(f"{path}: no MACRO found")
    return macros
