"""Per-layer wire R and C from OpenRCX's extraction rules (the PDK's sky130 ``*.rules`` files).

OpenROAD's extractor (OpenRCX) reads a rules file per process corner: for each metal, tables of
``sep coupling fringe res`` rows (``DIST count N width W`` blocks) measured on wire patterns --
``OVER k`` (the wire above metal ``k``, 0 = substrate), ``UNDER k``, ``OVER k UNDER m``,
``DIAGUNDER`` and ``RESOVER`` (resistance).  Units, as OpenRCX reads them with nanometre
database units (``extDistRC::readRC``): ``sep`` in um, ``coupling``/``fringe`` in fF per nm of
wire (= pF/um) and ``res`` in ohm per nm.  The ``fringe`` column is the ground capacitance of
*one side* of the wire (OpenRCX measures each side towards its neighbour and, for an isolated
wire, adds ``2 * fringe * len``), so a wire's ground capacitance per unit length is twice it.

Rules metal numbering counts li1 as metal 1: met1..met4 are rules metals 2..5.

What this reader keeps (enough for the engine's routes, which use one width per layer):

* resistance per um at the routed width, from ``RESOVER 0``;
* ground capacitance per um, ``2 * fringe`` from ``OVER 0`` at the spacing to the next
  routing track.  The coupling column is not used: the PDK's lambdapdk rules have zero
  coupling everywhere (and the same fringe in all three corners; only resistance differs), so
  :mod:`pnr.engine.spef` takes coupling from the routed neighbours with Magic's sky130
  sidewall/overlap constants instead.

Via resistances are not in the rules files; they come from the tech LEF (``RESISTANCE`` per
cut of ``mcon``/``via``/``via2``/``via3``) and are the same at every corner.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from gptnano.pdk import tech_lef
from pnr.engine import tech
from pnr.engine.context import StepError

# rules metal index of each routing layer (li1 is rules metal 1)
RULES_METAL = {"li1": 1, "met1": 2, "met2": 3, "met3": 4, "met4": 5}
# spacing (um) from a routed wire's edge to the next track's wire on the same layer: the
# router's track pitch (met1/met2 every grid line, met3/met4 every other) minus the width
PITCH_NM = {"met1": tech.GRID_DY, "met2": tech.GRID_DX, "met3": 2 * tech.GRID_DY,
            "met4": 2 * tech.GRID_DX}
CORNER_FILES = {"min": "minimum.rules", "typ": "typical.rules", "max": "maximum.rules"}


@dataclass(frozen=True)
class LayerRC:
    """One routing layer at one corner: ohm per um and pF per um at the routed width."""

    res_ohm_per_um: float
    cap_pf_per_um: float


Table = dict[float, list[tuple[float, float, float, float]]]  # width um -> rows


def rules_dir() -> Path:
    """The PDK's OpenRCX rules directory (lambdapdk sky130 ``pex/openroad``)."""
    return tech_lef().parent.parent / "pex" / "openroad"


def parse_rules(path: Path) -> dict[tuple[int, str], Table]:
    """``(metal, pattern) -> {width: [(sep, coupling, fringe, res), ...]}`` where pattern is
    the block header after the metal number (``"RESOVER 0"``, ``"OVER 0"``, ``"OVER 1 UNDER
    3"``...). Rows keep file order; the ``WIDTH Table`` summary lines are skipped."""
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise StepError(f"{path}: cannot read the extraction rules: {exc}") from exc
    tables: dict[tuple[int, str], Table] = {}
    key: tuple[int, str] | None = None
    rows: list[tuple[float, float, float, float]] | None = None
    for lineno, raw in enumerate(lines, 1):
        tok = raw.split()
        if not tok:
            continue
        try:
            if tok[0] == "Metal" and len(tok) >= 3:
                key = (int(tok[1]), " ".join(tok[2:]))
            elif tok[0] == "DIST" and key is not None:
                width = float(tok[tok.index("width") + 1])
                rows = tables.setdefault(key, {}).setdefault(width, [])
            elif tok[0] == "END":
                rows = None
            elif rows is not None and len(tok) == 4:
                sep, cc, fr, res = (float(t) for t in tok)
                rows.append((sep, cc, fr, res))
        except (ValueError, IndexError) as exc:
            raise StepError(f"{path}:{lineno}: unexpected rules line {raw.strip()!r}") from exc
    if not tables:
        raise StepError(f"{path}: no Metal/DIST tables (not an OpenRCX rules file)")
    return tables


def _nearest_width(table: Table, width_um: float) -> list[tuple[float, float, float, float]]:
    width = min(table, key=lambda w: (abs(w - width_um), w))
    return table[width]


def _at_sep(rows: list[tuple[float, float, float, float]], sep: float) -> tuple[float, float]:
    """(coupling, fringe) linearly interpolated in ``sep`` (clamped to the table's ends), as
    ``extDistRC::interpolate`` does between measured spacings."""
    seps = [r[0] for r in rows]
    k = bisect.bisect_left(seps, sep)
    if k == 0:
        return rows[0][1], rows[0][2]
    if k >= len(rows):
        return rows[-1][1], rows[-1][2]
    (s0, c0, f0, _), (s1, c1, f1, _) = rows[k - 1], rows[k]
    t = (sep - s0) / (s1 - s0) if s1 != s0 else 0.0
    return c0 + t * (c1 - c0), f0 + t * (f1 - f0)


@cache
def layer_rc(corner: str) -> dict[str, LayerRC]:
    """Per routing layer R and C at ``corner`` (``min``/``typ``/``max``) from the PDK rules."""
    if corner not in CORNER_FILES:
        raise StepError(f"unknown extraction corner {corner!r} (expected one of "
                        f"{', '.join(CORNER_FILES)})")
    path = rules_dir() / CORNER_FILES[corner]
    tables = parse_rules(path)
    out: dict[str, LayerRC] = {}
    for layer in tech.LAYERS:
        metal, width_um = RULES_METAL[layer], tech.WIDTH[layer] / 1000
        res_t, cap_t = tables.get((metal, "RESOVER 0")), tables.get((metal, "OVER 0"))
        if not res_t or not cap_t:
            raise StepError(f"{path}: no RESOVER 0 / OVER 0 table for metal {metal} ({layer})")
        res_rows = [r for r in _nearest_width(res_t, width_um) if r[3] > 0]
        cap_rows = _nearest_width(cap_t, width_um)
        if not res_rows or not cap_rows:
            raise StepError(f"{path}: empty RESOVER 0 / OVER 0 table for metal {metal}")
        # RESOVER rows are (sep left, sep right, 0, res); the resistance of a wire whose
        # neighbours are far (the last row) is the drawn-width value
        res_per_nm = res_rows[-1][3]
        sep_um = (PITCH_NM[layer] - tech.WIDTH[layer]) / 1000
        _, fr = _at_sep(cap_rows, sep_um)
        out[layer] = LayerRC(res_ohm_per_um=res_per_nm * 1000, cap_pf_per_um=2 * fr)
    return out
