"""The cell LEF read through KLayout (pnr.engine.lef) against an independent reading of the same
file: every cell of the sky130hd library has the same size, class, pins (order, direction, use)
and the same rectangles on the same layers in the same layer order. (Before the move to KLayout
the hand-written reader of commit 5517fa7 and KLayout's reading were compared the same way; the
reference here is written differently -- regular expressions over blocks -- so it is no copy of
the engine's header scan.)"""

from __future__ import annotations

import re
from pathlib import Path

from gptnano.pdk import cell_lef
from pnr.engine.lef import LefMacro, LefPin, read_lef

# KLayout sorts a layer's shapes into its box tree once there are many of them; below this
# count the file's order is kept (measured: the two cells above it are fah_1 and fahcin_1).
SORTED_ABOVE = 100


def _rects(block: str) -> dict[str, list[tuple[int, int, int, int]]]:
    """``LAYER``/``RECT`` statements of a port or OBS block, rectangles in nm, file order."""
    out: dict[str, list[tuple[int, int, int, int]]] = {}
    layer = ""
    for m in re.finditer(r"\bLAYER\s+(\S+)\s*;|\bRECT\s+([^;]+);", block):
        if m.group(1):
            layer = m.group(1)
            out.setdefault(layer, [])
        else:
            v = [round(float(x) * 1000) for x in m.group(2).split()[-4:]]
            out[layer].append((min(v[0], v[2]), min(v[1], v[3]), max(v[0], v[2]),
                               max(v[1], v[3])))
    return {k: v for k, v in out.items() if v}


def _blocks(text: str, keyword: str) -> list[tuple[str, str]]:
    """(name, body) of every ``<keyword> name ... END name`` block of ``text``."""
    out = []
    for m in re.finditer(rf"^\s*{keyword}\s+(\S+)\s*$", text, re.M):
        end = re.compile(rf"^\s*END\s+{re.escape(m.group(1))}\s*$", re.M).search(text, m.end())
        out.append((m.group(1), text[m.end():end.start()]))
    return out


def reference_read(path: Path) -> dict[str, LefMacro]:
    """The reference: the LEF cut into MACRO, PIN and OBS blocks by regular expressions (a
    different reading from the engine's line scanner), geometry from their RECTs."""
    text = re.sub(r"#[^\n]*", "", path.read_text())
    macros: dict[str, LefMacro] = {}
    for name, body in _blocks(text, "MACRO"):
        pins = _blocks(body, "PIN")
        head = body[:body.find("PIN ")] if pins else body
        size = re.search(r"\bSIZE\s+(\S+)\s+BY\s+(\S+)", head)
        cls = re.search(r"\bCLASS\s+([^;]+);", head)
        macro = LefMacro(name, round(float(size.group(1)) * 1000),
                         round(float(size.group(2)) * 1000), " ".join(cls.group(1).split()))
        for pin, pin_body in pins:
            direction = re.search(r"\bDIRECTION\s+(\w+)", pin_body)
            use = re.search(r"\bUSE\s+(\w+)", pin_body)
            macro.pins[pin] = LefPin(pin, direction.group(1) if direction else "INPUT",
                                     use.group(1) if use else "SIGNAL", _rects(pin_body))
        obs = re.search(r"^\s*OBS\b(.*?)^\s*END\s*$", body, re.M | re.S)
        macro.obs = _rects(obs.group(1)) if obs else {}
        macros[name] = macro
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
