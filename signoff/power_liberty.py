"""A Liberty view for the power step that Debian's OpenSTA 2.0.17 (2019) evaluates correctly.

Two defects of that OpenSTA version against the sky130_fd_sc_hd Liberty, both found on a
one-inverter / one-flop netlist and in its ``search/Power.cc``:

1. **Internal power is 0.** ``Power::findInternalPower`` only counts an ``internal_power`` group
   when the voltage of its ``related_pg_pin`` is non-zero; sky130 groups have no
   ``related_pg_pin``, so the voltage falls back to the default operating conditions. The
   sky130 Liberty names them (``default_operating_conditions : "tt_025C_1v80"``) *before* the
   ``operating_conditions`` group defines them, and 2.0.17 resolves the name on the spot
   ("default_operating_condition tt_025C_1v80 not found"), so the library has none: voltage
   0.0, every group skipped. Fix: move the attribute after the group (``fix_default_oc``).
2. **Arc energies are summed, not averaged.** For each group 2.0.17 adds the ``rise_power``
   and ``fall_power`` table energies and multiplies the sum by a duty and by the pin's
   transition density. A Liberty energy is *per transition of its edge* and half of the
   transitions are rises, so the power is density x (rise + fall) / 2 -- what current OpenSTA
   computes ("average non-inf energies"). 2.0.17 compensates with a 0.5 duty only for input
   pins off the clock network; a clock pin gets duty 1 (doubled), and the arcs of an output pin
   get unnormalised duties (``signoff.power_duty``): 1 for an inverter or a flop's clock arc
   (doubled), 3 x 0.5 for an and-or-invert cell (tripled). Current OpenSTA weights the arcs of
   an output pin by duty / sum of duties. Fix (``correct_internal_power``): scale the
   ``internal_power`` tables of each output pin by 0.5 / (sum of its arc duties) and those of
   Liberty clock pins by 0.5, so 2.0.17's sum becomes that weighted mean.

The correction assumes the power step's activity model (``set_power_activity -global``: every
net at the same activity and duty 0.5). Residual approximations: 2.0.17's own arc weights
(inferred conditions) are kept within a pin, where current OpenSTA uses Boolean differences;
a cell with input-pin internal power sitting on the clock net (a gate used for clock gating,
not the clkbuf/clkinv cells, which have none) is still doubled.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from gptnano.fileio import atomic_write
from gptnano.pdk import group_end, liberty_cache_dir
from gptnano.step import StepError
from signoff.power_duty import arc_duty

# Bump when the rewrite changes, so cached views are regenerated.
REWRITE_VERSION = "2"

_GROUP = re.compile(r"\b(\w+)\s*\(\s*\"?([^\")]*)\"?\s*\)\s*\{")
_VALUES = re.compile(r"\bvalues\s*\(([^;]*?)\)\s*;", re.S)
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def fix_default_oc(text: str, source: Path) -> str:
    """Move ``default_operating_conditions`` after the group it names (see module doc, 1)."""
    attr = re.search(r"\n[ \t]*default_operating_conditions\s*:\s*\"?(\w+)\"?\s*;", text)
    if attr is None:
        return text
    name = attr.group(1)
    group = re.search(rf"\boperating_conditions\s*\(\s*\"?{re.escape(name)}\"?\s*\)\s*\{{", text)
    if group is None:
        raise StepError(f"{source}: default_operating_conditions names '{name}' but no "
                        "operating_conditions group defines it")
    if group.start() < attr.start():
        return text
    end = group_end(text, group.end() - 1) + 1
    moved = text[:end] + attr.group(0) + text[end:]
    return moved[:attr.start()] + moved[attr.end():]


def _scale_values(body: str, factor: float) -> str:
    def scale_table(m: re.Match[str]) -> str:
        numbers = _NUMBER.sub(lambda n: f"{float(n.group(0)) * factor:.10g}", m.group(1))
        return f"values({numbers});"

    return _VALUES.sub(scale_table, body)


def _own_attributes(body: str) -> str:
    """A group body without its nested groups: only the group's own attributes."""
    out, pos = [], 0
    for m in _GROUP.finditer(body):
        if m.start() < pos:
            continue
        out.append(body[pos:m.start()])
        pos = group_end(body, m.end() - 1) + 1
    out.append(body[pos:])
    return "".join(out)


def _attr(own: str, name: str) -> str | None:
    m = re.search(rf"\b{name}\s*:\s*(\"[^\"]*\"|[^;\s]+)\s*;", own)
    return m.group(1).strip('"') if m else None


@dataclass
class _Pin:
    name: str
    start: int  # offsets of the pin body inside the cell body
    end: int
    direction: str | None
    is_clock: bool
    function: str | None


def _pins(cell_body: str) -> list[_Pin]:
    pins = []
    for m in re.finditer(r"\bpin\s*\(\s*\"?([^\")]*?)\"?\s*\)\s*\{", cell_body):
        end = group_end(cell_body, m.end() - 1)
        own = _own_attributes(cell_body[m.end():end])
        pins.append(_Pin(m.group(1), m.end(), end, _attr(own, "direction"),
                         (_attr(own, "clock") or "").lower() == "true", _attr(own, "function")))
    return pins


def _internal_power_groups(pin_body: str) -> list[tuple[int, int]]:
    return [(g.start(), group_end(pin_body, g.end() - 1) + 1)
            for g in re.finditer(r"\binternal_power\s*\(\s*\)\s*\{", pin_body)]


def pin_scale(pin: _Pin, pin_body: str, clock_pins: set[str]) -> float:
    """Factor turning 2.0.17's internal power of ``pin`` into density x mean(rise, fall) energy
    with arc weights summing to 1 (module doc, 2)."""
    if pin.direction not in ("output", "inout"):
        return 0.5 if pin.is_clock else 1.0
    duty_sum = 0.0
    for start, end in _internal_power_groups(pin_body):
        own = _own_attributes(pin_body[start:end][pin_body[start:end].index("{") + 1:-1])
        related, when = _attr(own, "related_pin"), _attr(own, "when")
        for port in (related.split() if related else [None]):
            duty_sum += arc_duty(pin.function, port, when, port in clock_pins)
    return 0.5 / duty_sum if duty_sum > 0 else 0.5


def correct_internal_power(text: str) -> tuple[str, int]:
    """Rescale every pin's ``internal_power`` tables by ``pin_scale`` (module doc, 2). Returns
    the new text and the number of pins changed."""
    out: list[str] = []
    pos = changed = 0
    for m in re.finditer(r"\bcell\s*\(\s*\"?[^\")]*\"?\s*\)\s*\{", text):
        end = group_end(text, m.end() - 1)
        body = text[m.end():end]
        pins = _pins(body)
        clock_pins = {p.name for p in pins if p.is_clock}
        parts, bpos = [], 0
        for pin in pins:
            pin_body = body[pin.start:pin.end]
            groups = _internal_power_groups(pin_body)
            factor = pin_scale(pin, pin_body, clock_pins) if groups else 1.0
            if factor == 1.0:
                continue
            parts.append(body[bpos:pin.start])
            gpos, pieces = 0, []
            for start, gend in groups:
                pieces.append(pin_body[gpos:start])
                pieces.append(_scale_values(pin_body[start:gend], factor))
                gpos = gend
            pieces.append(pin_body[gpos:])
            parts.append("".join(pieces))
            bpos = pin.end
            changed += 1
        parts.append(body[bpos:])
        out.append(text[pos:m.end()] + "".join(parts))
        pos = end
    out.append(text[pos:])
    return "".join(out), changed


def rewrite(text: str, source: Path) -> str:
    """Both fixes; errors name ``source``."""
    try:
        fixed = fix_default_oc(text, source)
        fixed, _ = correct_internal_power(fixed)
    except ValueError as exc:  # includes FuncParseError
        raise StepError(f"{source}: cannot parse Liberty groups: {exc}") from exc
    return fixed


def power_liberty(source: Path) -> Path:
    """The power view of ``source``, cached in the build tree by content hash (so an updated
    PDK or a new rewrite version produces a new file, never a stale one)."""
    if not source.is_file():
        raise StepError(f"liberty for the power step missing: {source}")
    text = source.read_text()
    digest = hashlib.sha256((REWRITE_VERSION + text).encode()).hexdigest()[:16]
    cache = liberty_cache_dir() / "power"
    cache.mkdir(parents=True, exist_ok=True)
    dst = cache / f"{source.stem}.{digest}.lib"
    if not dst.is_file():
        atomic_write(dst, rewrite(text, source))
    return dst
