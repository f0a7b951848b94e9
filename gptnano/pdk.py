"""The sky130_fd_sc_hd library as every step sees it: corners, Liberty, cell views, dont-use.

One table of corners (:data:`CORNERS`: Liberty file, supply voltage, temperature), one place
that unpacks a corner's Liberty (:func:`corner_liberty`), one dont-use catalogue and one
function that cuts cells out of a Liberty file (:func:`drop_cells`, :func:`filtered_liberty`).
The physical engine, the signoff checks, DFT and the design estimates all read the PDK
through this module, so a corner or a dont-use rule is defined once.

Why the Liberty is unpacked and filtered here: Debian's yosys 0.23 and OpenSTA 2019 cannot
read ``.lib.gz``, and yosys 0.23 has no ``-dont_use`` for ``dfflibmap``/``abc``, so the cells a
flow must never instantiate are removed from the Liberty file itself. Both results are cached
under ``<build>/pdk/liberty/<digest of the .lib.gz>/`` (a changed PDK file is unpacked anew)
and written atomically, so parallel flow nodes share them.
"""

from __future__ import annotations

import fnmatch
import gzip
import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from gptnano.fileio import atomic_write
from gptnano.paths import build_root, open_pdks_dir, require, sky130_base_dir, sky130hd_dir
from gptnano.step import StepError

LIB = "sky130_fd_sc_hd"
PREFIX = f"{LIB}__"


@dataclass(frozen=True)
class Corner:
    """One characterised corner of the library (values from the Liberty's ``nom_*``)."""

    name: str
    liberty: str          # file stem in <sky130hd>/nldm/, also the Liberty's library name
    voltage_v: float
    temperature_c: float


CORNERS: dict[str, Corner] = {c.name: c for c in (
    Corner("ss", f"{PREFIX}ss_n40C_1v40", 1.40, -40.0),
    Corner("tt", f"{PREFIX}tt_025C_1v80", 1.80, 25.0),
    Corner("ff", f"{PREFIX}ff_100C_1v95", 1.95, 100.0),
)}

# -- dont-use catalogue ---------------------------------------------------------------------
# Cells no logic synthesis may pick: physical-only cells (fill, tap, decap, diode), probe pads
# and the spare-cell macro.
PHYSICAL_ONLY = (
    "*__fill_*", "*__fakediode_*", "*__diode_*", "*__tap*", "*__decap_*", "*__probe*",
    "*__macro_sparecell",
)
# The physical flow's synthesis also keeps out: low-power/retention cells (need extra
# supplies), the hold-fix delay cells (left to the timing repair of the physical flow),
# clock-gating cells (no clock gating is inferred; keeping them out keeps the clock tree
# plain), the tie cell (``hilomap`` names it directly, ABC must not map logic onto it) and two
# logic cells the physical flow cannot close -- measured on `small` with the embedded router:
# a222oi_1's six li1 inputs sit on neighbouring grid nodes that cannot all get a contact (5 of
# the last 11 unroutable nets), and a2111oi_0's own layout trips Magic's licon.8a rule (3 Magic
# DRC errors, KLayout clean). buf_16's own layout trips licon.8a too (google/skywater-pdk
# issue 293; 2 Magic errors on orfs_gcd when timing repair used it for a split, 7 Dec).
FLOW_ONLY = (
    "*__lpflow_*", "*__dlygate*", "*__dlymetal*", "*__dlclkp_*", "*__sdlclkp_*", "*__conb_1",
    "*__a222oi_1", "*__a2111oi_0", "*__buf_16",
)
# DFT-ready synthesis keeps out what a scan chain cannot test: latches, clock gates and delay
# cells (``dl*``/``sdl*``), tri-state drivers (no Boolean function), the low-power cells, flops
# with a ``Q_N`` output (the cut would lose it), the library's own scan/enable flops (Fault
# inserts the muxes itself) and the negative-edge reset flop.
DFT_ONLY = tuple(f"*__{p}" for p in (
    "dl*", "sdl*", "ebuf*", "einv*", "lpflow_*", "df*bp_*", "df*bn_*", "sdf*", "edf*",
    "sedf*", "dfrtn_*",
))


def lambdapdk_dont_use() -> list[str]:
    """The cells lambdapdk's sky130hd library object marks ``dontuse`` (read from the installed
    package, so an updated PDK package updates the list)."""
    from lambdapdk.sky130.libs.sky130sc import Sky130_SCHDLibrary

    return list(Sky130_SCHDLibrary().get("asic", "cells", "dontuse"))


def flow_dont_use() -> tuple[str, ...]:
    """Patterns the physical flow's synthesis must not map to."""
    return tuple(lambdapdk_dont_use()) + PHYSICAL_ONLY + FLOW_ONLY


DFT_DONT_USE = PHYSICAL_ONLY + DFT_ONLY


def matches(cell: str, patterns: tuple[str, ...] | list[str]) -> bool:
    """Whether ``cell`` matches one of the ``fnmatch`` ``patterns`` (case-sensitive)."""
    return any(fnmatch.fnmatchcase(cell, p) for p in patterns)


# -- Liberty files --------------------------------------------------------------------------
def corner(name: str) -> Corner:
    if name not in CORNERS:
        raise StepError(f"unknown corner '{name}'; known: {sorted(CORNERS)}")
    return CORNERS[name]


def liberty_cache_dir() -> Path:
    path = build_root() / "pdk" / "liberty"
    path.mkdir(parents=True, exist_ok=True)
    return path


def liberty_gz(name: str) -> Path:
    """The packaged (gzipped) Liberty of corner ``name``."""
    src = sky130hd_dir() / "nldm" / f"{corner(name).liberty}.lib.gz"
    if not src.is_file():
        raise StepError(f"liberty for corner {name} missing: {src}")
    return src


@cache
def _file_digest(path: Path, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _source_cache_dir(src: Path) -> Path:
    """``<liberty cache>/<digest of src>/``: a changed PDK Liberty never reuses a file unpacked
    from the old one (the flow re-runs a step when the Liberty changes, flow.tasks.inputs)."""
    stat = src.stat()
    path = liberty_cache_dir() / _file_digest(src, stat.st_mtime_ns, stat.st_size)
    path.mkdir(parents=True, exist_ok=True)
    return path


def corner_liberty(name: str) -> Path:
    """The full (unfiltered) Liberty of corner ``name``, gunzipped once into the build tree."""
    src = liberty_gz(name)
    dst = _source_cache_dir(src) / f"{corner(name).liberty}.lib"
    if not dst.is_file():
        with gzip.open(src, "rt") as fin:
            atomic_write(dst, fin.read())
    return dst


def group_end(text: str, open_brace: int) -> int:
    """Index of the ``}`` closing the Liberty group whose ``{`` is at ``open_brace`` (braces
    inside quoted strings skipped)."""
    depth, quoted = 0, False
    for i in range(open_brace, len(text)):
        ch = text[i]
        if ch == '"' and text[i - 1] != "\\":
            quoted = not quoted
        elif not quoted and ch == "{":
            depth += 1
        elif not quoted and ch == "}":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError(f"unbalanced braces from offset {open_brace}")


def drop_cells(text: str, patterns: list[str] | tuple[str, ...]) -> tuple[str, list[str]]:
    """Remove every ``cell (name) { ... }`` group whose name matches one of ``patterns``
    (braces matched outside quoted strings). Returns the new text and the names removed."""
    out: list[str] = []
    removed: list[str] = []
    pos = 0
    for m in re.finditer(r'\bcell\s*\(\s*"?([A-Za-z0-9_]+)"?\s*\)\s*\{', text):
        if m.start() < pos or not matches(m.group(1), patterns):
            continue
        i = group_end(text, m.end() - 1)
        out.append(text[pos:m.start()])
        removed.append(m.group(1))
        pos = i + 1
    out.append(text[pos:])
    return "".join(out), removed


def filtered_liberty(name: str, patterns: tuple[str, ...], tag: str) -> Path:
    """Corner ``name``'s Liberty without the cells matching ``patterns``, cached as
    ``<liberty>.<tag>-<hash of patterns>.lib`` (editing a list never reuses a stale file)."""
    key = hashlib.sha256("\n".join(patterns).encode()).hexdigest()[:12]
    full = corner_liberty(name)
    dst = full.parent / f"{corner(name).liberty}.{tag}-{key}.lib"
    if not dst.is_file():
        text, removed = drop_cells(full.read_text(), patterns)
        if not removed:
            raise StepError(f"dont-use filter '{tag}' removed no cell from {name} liberty")
        atomic_write(dst, text)
    return dst


# -- cell views -----------------------------------------------------------------------------
def cell_lef() -> Path:
    return require(sky130hd_dir() / "lef" / "sky130_fd_sc_hd_merged.lef", "sky130hd cell LEF")


def tech_lef() -> Path:
    return require(sky130_base_dir() / "apr" / "sky130_fd_sc.tlef", "sky130 tech LEF")


def magic_tech() -> Path:
    """The PDK's Magic tech file (Magic runs on a copy, :func:`gptnano.magic.magic_tech`;
    the engine reads its extraction section, :func:`pnr.engine.tech.magic_coupling`)."""
    return require(sky130_base_dir() / "setup" / "magic" / "sky130A.tech", "sky130A magic tech")


def klayout_tech() -> Path:
    """The PDK's KLayout technology file (its LEF/DEF reader options hold the GDS layer map)."""
    return require(sky130_base_dir() / "setup" / "klayout" / "skywater130.lyt",
                   "sky130 KLayout technology file")


def cell_gds() -> Path:
    return require(sky130hd_dir() / "gds" / "sky130_fd_sc_hd.gds", "sky130hd cell GDS")


def cell_cdl() -> Path:
    return require(sky130hd_dir() / "cdl" / "sky130_fd_sc_hd.cdl", "sky130hd cell CDL")


def netgen_setup() -> Path:
    """lambdapdk's sky130 Netgen LVS setup (signoff.lvs sources it)."""
    return require(sky130_base_dir() / "setup" / "netgen" / "lvs_setup.tcl", "netgen LVS setup")


def klayout_drc_deck() -> Path:
    """open_pdks' KLayout DRC deck (signoff.drc_klayout runs its script)."""
    return require(open_pdks_dir() / "klayout" / "sky130.lydrc", "open_pdks KLayout DRC deck")
