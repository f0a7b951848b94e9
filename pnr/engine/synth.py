"""Synthesis step: RTL (``<top>.v`` files from the design config) to a sky130_fd_sc_hd gate
netlist ``<top>.vg`` that the physical engine, DFT and STA can all read.

Tool: Debian's yosys 0.23 (native, so ABC runs at full speed on two cores; the PyPI yowasp build
is WebAssembly and the SiliconCompiler stock task wants yosys >= 0.48 with Tcl). Yosys 0.23 has
no ``-dont_use`` for ``dfflibmap``/``abc``, so the cells the flow must never instantiate are cut
out of the Liberty file itself (:func:`synth_liberty`).

The netlist is shaped for place and route:

* ``splitnets -ports`` + ``rename -hide``/``-enumerate``: only plain identifiers, no ``$``
  names, no buses. Generated RTL (Amaranth) carries public names such as ``\\$22``,
  ``\\$signal$62`` or ``\\xbuf[0]`` that only Verilog escaping can spell; every wire or cell
  name with a character outside ``[A-Za-z0-9_]`` is made internal (:data:`UNSPELLABLE`) and
  enumerated, plain names (ports, most registers) survive for readable reports;
* ``hilomap`` onto ``conb_1``: constants become tie cells rather than ``1'b0`` connections.
  The cells are declared from the *full* Liberty (``read_liberty -lib``), because the tie cell
  is cut out of the mapping Liberty: without its pin directions ``check -assert`` sees the tie
  net as undriven and ``stat`` leaves its area out;
* ``insbuf``: a port driven straight from another port or a tie cell gets a real buffer, so
  the netlist has no ``assign`` statements. ``opt_clean -purge`` runs right before it: the
  bit-split aliases of internal buses (``csr.length_0_ = \\$22`` in ``gqmv_small``) are
  dropped instead of each costing a buffer;
* ``setundef -zero``: undefined constants left by the RTL (``x`` don't-care defaults) become
  0 -- a valid refinement of ``x``, and the netlist may not carry ``1'bx``;
* ABC is run with the clock period as delay target (``-D``) which makes it buffer high-fanout
  nets and size gates for the period (the script choice is measured, see ``pnr/README.md``).
"""

from __future__ import annotations

import fnmatch
import gzip
import hashlib
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from gptnano.paths import build_root, sky130hd_dir
from gptnano.step import StepContext, StepError

LIB_PREFIX = "sky130_fd_sc_hd__"
CORNER_LIBERTY = {
    "ss": "sky130_fd_sc_hd__ss_n40C_1v40",
    "tt": "sky130_fd_sc_hd__tt_025C_1v80",
    "ff": "sky130_fd_sc_hd__ff_100C_1v95",
}
# Cell families synthesis must not pick, besides lambdapdk's own dont-use list: physical-only
# cells (fill, tap, decap, diode), probe pads, low-power/retention cells (need extra supplies),
# the hold-fix delay cells (left to the timing repair of the physical flow), clock-gating
# cells (no clock gating is inferred; keeping them out keeps the clock tree plain) and two
# logic cells the physical flow cannot close (see below).
EXTRA_DONT_USE = (
    "*__fill_*", "*__fakediode_*", "*__diode_*", "*__tap*", "*__decap_*", "*__probe*",
    "*__lpflow_*", "*__dlygate*", "*__dlymetal*", "*__dlclkp_*", "*__sdlclkp_*",
    "*__macro_sparecell", "*__conb_1",
    # Measured on `small` with the embedded router: a222oi_1's six li1 inputs sit on
    # neighbouring grid nodes that cannot all get a contact (5 of the last 11 unroutable nets),
    # and a2111oi_0's own layout trips Magic's licon.8a rule (3 Magic DRC errors, KLayout clean).
    "*__a222oi_1", "*__a2111oi_0",
)
TIE_CELL = f"{LIB_PREFIX}conb_1"
BUFFER_CELL = f"{LIB_PREFIX}buf_2"
# Yosys selection of the non-port wires and the cells whose public name is not a plain Verilog
# identifier: a character outside [A-Za-z0-9_] or a leading digit. Yosys ``patmatch`` has no
# ranges and matches the id with its leading backslash first, hence the spelled-out ``[!...]``
# set after ``\\``. Ports are left alone: a port needing escapes is the RTL's interface and
# ``check_netlist`` reports it. ``rename -enumerate`` then names the hidden ones ``n_<k>``.
_PLAIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"
_UNPLAIN = (f"\\\\*[!{_PLAIN}]*", "\\\\[0123456789]*")
UNSPELLABLE = (f"w:{_UNPLAIN[0]} w:{_UNPLAIN[1]} %u x:* %d "
               f"c:{_UNPLAIN[0]} c:{_UNPLAIN[1]}")

# ABC scripts, measured on designs/probe and the multiplier-heavy pnr/tests/data/dot4 (numbers
# in pnr/README.md). "sized" (the default) maps for the clock period, then lets ABC buffer
# high-fanout nets and up/down-size gates against the same target -- the netlist then needs no
# separate buffering pass before placement. "area" is yosys' stock liberty script (smallest),
# "fast" its quick script (for big designs where runtime dominates).
ABC_SIZED_SCRIPT = """strash
&get -n
&fraig -x
&put
scorr
dc2
dretime
strash
&get -n
&dch -f
&nf {D}
&put
buffer -p
upsize {D}
dnsize {D}
stime -p
"""
ABC_MODES = {
    "sized": "abc -D {period_ps} -script {script} -liberty {lib}",
    "area": "abc -liberty {lib}",
    "fast": "abc -fast -liberty {lib}",
}
DEFAULT_ABC_MODE = "sized"


def lambdapdk_dont_use() -> list[str]:
    """The cells lambdapdk's sky130hd library object marks ``dontuse`` (read from the installed
    package, so an updated PDK package updates the list)."""
    from lambdapdk.sky130.libs.sky130sc import Sky130_SCHDLibrary

    return list(Sky130_SCHDLibrary().get("asic", "cells", "dontuse"))


def atomic_write(path: Path, text: str) -> None:
    """Write via a temporary file + rename, so concurrent runs never read half a library."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def liberty_cache_dir() -> Path:
    path = build_root() / "pdk" / "liberty"
    path.mkdir(parents=True, exist_ok=True)
    return path


def corner_liberty(corner: str) -> Path:
    """The full (unfiltered) Liberty of ``corner`` gunzipped into the build tree: the Debian
    OpenSTA 2019 and yosys 0.23 cannot read ``.lib.gz``."""
    if corner not in CORNER_LIBERTY:
        raise StepError(f"unknown corner '{corner}'; known: {sorted(CORNER_LIBERTY)}")
    name = CORNER_LIBERTY[corner]
    dst = liberty_cache_dir() / f"{name}.lib"
    if not dst.is_file():
        src = sky130hd_dir() / "nldm" / f"{name}.lib.gz"
        if not src.is_file():
            raise StepError(f"liberty for corner {corner} missing: {src}")
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
        if m.start() < pos or not any(fnmatch.fnmatchcase(m.group(1), p) for p in patterns):
            continue
        i = group_end(text, m.end() - 1)
        out.append(text[pos:m.start()])
        removed.append(m.group(1))
        pos = i + 1
    out.append(text[pos:])
    return "".join(out), removed


def synth_liberty(corner: str = "tt") -> Path:
    """``corner``'s Liberty without the dont-use cells (lambdapdk list + :data:`EXTRA_DONT_USE`).
    The tie cell is dropped too so ABC never maps logic onto it; ``hilomap`` names it directly."""
    patterns = tuple(lambdapdk_dont_use()) + EXTRA_DONT_USE
    # the cache file is keyed by the dont-use list: editing the list must not reuse a stale lib
    key = hashlib.sha256("\n".join(patterns).encode()).hexdigest()[:12]
    dst = liberty_cache_dir() / f"{CORNER_LIBERTY[corner]}.synth-{key}.lib"
    if not dst.is_file():
        text, removed = drop_cells(corner_liberty(corner).read_text(), patterns)
        if not removed:
            raise StepError(f"dont-use filter removed no cell from {corner} liberty")
        atomic_write(dst, text)
    return dst


def yosys_script(ctx: StepContext, lib: Path, netlist: Path, abc_mode: str) -> str:
    """The yosys script for ``ctx.design``; ``abc_mode`` is a key of :data:`ABC_MODES`."""
    if abc_mode not in ABC_MODES:
        raise StepError(f"unknown ABC mode '{abc_mode}'; known: {sorted(ABC_MODES)}")
    design = ctx.design
    period_ps = int(round(design.clock_period_ns * 1000))
    reads = "\n".join(f"read_verilog -sv {f}" for f in design.rtl)
    abc_script = ctx.reports_dir / "abc.script"
    abc_script.write_text(ABC_SIZED_SCRIPT)
    abc = ABC_MODES[abc_mode].format(period_ps=period_ps, lib=lib, script=abc_script)
    full_lib = corner_liberty("tt")
    return f"""read_liberty -lib {full_lib}
{reads}
hierarchy -check -top {design.top}
synth -top {design.top} -flatten
opt -purge
dfflibmap -liberty {lib}
opt
{abc}
opt_clean -purge
setundef -zero
hilomap -singleton -hicell {TIE_CELL} HI -locell {TIE_CELL} LO
splitnets -ports -format __
rename -hide {UNSPELLABLE}
opt_clean -purge
insbuf -buf {BUFFER_CELL} A X
opt_clean -purge
rename -enumerate -pattern n_%
check -assert
tee -o {ctx.reports_dir}/stat.rpt stat -liberty {full_lib}
write_verilog -noattr -noexpr -nohex -nodec {netlist}
"""


def parse_stat(text: str, top: str) -> dict[str, float | int]:
    """Cell count, area and flip-flop count from yosys ``stat -liberty``."""
    cells = re.search(r"Number of cells:\s+(\d+)", text)
    area = re.search(r"Chip area for (?:top )?module '\\?" + re.escape(top) + r"':\s+([\d.]+)",
                     text)
    if not cells or not area:
        raise StepError("yosys stat report has no cell count / chip area")
    regs = sum(int(n) for name, n in re.findall(r"(\S+__\w+_\d+)\s+(\d+)\s*$", text, re.M)
               if re.search(r"__(?:df|edf|sdf)", name))
    return {"cells": int(cells.group(1)), "cellarea": float(area.group(1)), "registers": regs}


def check_netlist(path: Path) -> None:
    """Reject constructs the physical engine cannot place: escaped names, ``$`` names,
    ``assign`` statements and constant connections."""
    text = path.read_text()
    problems = []
    for pattern, what in ((r"\\\S", "escaped identifier"), (r"\$", "'$' in a name"),
                          (r"\bassign\b", "assign statement"), (r"1'b[01x]", "constant net")):
        m = re.search(pattern, text)
        if m:
            line = text.count("\n", 0, m.start()) + 1
            problems.append(f"{what} at line {line}")
    if problems:
        raise StepError(f"synthesis netlist {path} is not P&R-ready: {'; '.join(problems)}")


def run(ctx: StepContext, abc_mode: str | None = None) -> dict[str, float | int | str]:
    """Synthesize ``ctx.design`` into ``outputs/<top>.vg`` (+ ``<top>.sdc``, the design's
    constraints); returns cells, area, runtime. ``abc_mode`` defaults to the config's
    ``synth: {abc: ...}`` or :data:`DEFAULT_ABC_MODE`. ABC maps against the Liberty of the
    config's ``synth: {corner: ...}`` (default ``tt``): a design whose clock is set by the ss
    corner maps at ss, so ABC's delay target (the clock period) means the corner that limits."""
    for sub in (ctx.outputs_dir, ctx.reports_dir):
        sub.mkdir(parents=True, exist_ok=True)
    settings = ctx.design.extra.get("synth", {})
    abc_mode = abc_mode or str(settings.get("abc", DEFAULT_ABC_MODE))
    corner = str(settings.get("corner", "tt"))
    lib = synth_liberty(corner)
    netlist = ctx.output("vg")
    script = ctx.reports_dir / "synth.ys"
    script.write_text(yosys_script(ctx, lib, netlist, abc_mode))
    log = ctx.reports_dir / "yosys.log"
    start = time.monotonic()
    proc = subprocess.run(["yosys", "-q", "-l", str(log), "-s", str(script)],
                          capture_output=True, text=True)
    runtime = time.monotonic() - start
    if proc.returncode != 0 or not netlist.is_file():
        tail = (proc.stderr or proc.stdout)[-1500:]
        raise StepError(f"synthesis: yosys failed (exit {proc.returncode}), see {log}\n{tail}")
    check_netlist(netlist)
    # The constraints travel with the netlist as the SDC view (DFT may rewrite it downstream).
    shutil.copyfile(ctx.design.sdc, ctx.output("sdc"))
    metrics: dict[str, float | int | str] = dict(
        parse_stat((ctx.reports_dir / "stat.rpt").read_text(), ctx.top))
    metrics["synth_runtime_s"] = round(runtime, 2)
    metrics["abc_mode"] = abc_mode
    metrics["map_corner"] = corner
    return metrics
