"""The cell LEF read through KLayout (pnr.engine.lef) against the hand-written reader it
replaced (kept here, condensed, as the reference: the reader of commit 5517fa7): every cell of the sky130hd
library has the same size, class, pins (order, direction, use) and the same rectangles on the
same layers in the same layer order."""

from __future__ import annotations

from pathlib import Path

from gptnano.pdk import cell_lef
from pnr.engine.lef import LefMacro, LefPin, read_lef

# KLayout sorts a layer's shapes into its box tree once there are many of them; below this
# count the file's order is kept (measured: the two cells above it are fah_1 and fahcin_1).
SORTED_ABOVE = 100


def reference_read(path: Path) -> dict[str, LefMacro]:
    """The former hand-written reader: MACRO/SIZE/CLASS/PIN/DIRECTION/USE/LAYER/RECT/OBS."""
    macros: dict[str, LefMacro] = {}
    macro: LefMacro | None = None
    pin: LefPin | None = None
    in_obs, layer = False, ""
    for raw in path.read_text().splitlines():
        tok = raw.split("#", 1)[0].replace(";", " ").split()
        if not tok:
            continue
        key = tok[0]
        if key == "MACRO":
            macro = macros.setdefault(tok[1], LefMacro(tok[1]))
        elif macro is None:
            continue
        elif key == "END" and len(tok) > 1 and tok[1] == macro.name:
            macro, pin, in_obs = None, None, False
        elif key == "SIZE":
            macro.width, macro.height = (round(float(tok[i]) * 1000) for i in (1, 3))
        elif key == "CLASS" and pin is None and not in_obs:
            macro.cls = " ".join(tok[1:])
        elif key == "PIN":
            pin = macro.pins.setdefault(tok[1], LefPin(tok[1]))
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
            v = [round(float(x) * 1000) for x in tok[1:5]]
            rect = (min(v[0], v[2]), min(v[1], v[3]), max(v[0], v[2]), max(v[1], v[3]))
            target = pin.shapes if pin is not None else (macro.obs if in_obs else None)
            if target is not None:
                target.setdefault(layer, []).append(rect)
    return macros


def test_klayout_read_equals_the_hand_written_reader() -> None:
    before, after = reference_read(cell_lef()), read_lef(cell_lef())
    assert list(after) == list(before) and len(after) > 400
    resorted = []
    for name, old in before.items():
        new = after[name]
        assert (new.width, new.height, new.cls) == (old.width, old.height, old.cls), name
        assert [(p.name, p.direction, p.use) for p in new.pins.values()] == \
            [(p.name, p.direction, p.use) for p in old.pins.values()], name
        for pin in old.pins:
            assert list(new.pins[pin].shapes.items()) == list(old.pins[pin].shapes.items()), \
                (name, pin)
        assert list(new.obs) == list(old.obs), name
        for layer, rects in old.obs.items():
            assert sorted(new.obs[layer]) == sorted(rects), (name, layer)
            if new.obs[layer] != rects:
                assert len(rects) > SORTED_ABOVE, (name, layer)
                resorted.append(name)
    assert sorted(resorted) == ["sky130_fd_sc_hd__fah_1", "sky130_fd_sc_hd__fahcin_1"]
