"""The project's one synthesis entry point: RTL to a sky130_fd_sc_hd gate netlist, in modes.

Every consumer synthesizes through :func:`synthesize` (or the flow step :func:`run`), choosing a
mode (:data:`MODES`) and a yosys build (:data:`YOSYS_IMPLS`):

* ``flow`` -- the physical flow's netlist ``<top>.vg`` that the engine, DFT, STA and LVS read
  (the ``syn`` node of the SiliconCompiler flow, :func:`run`): mapped for timing and shaped for
  place and route (details below);
* ``dft`` -- a scan-ready netlist for DFT experiments outside the flow: the Liberty without the
  cells a scan chain cannot test (:data:`gptnano.pdk.DFT_DONT_USE`), yosys' stock ABC script,
  ports split to bits (Fault and the ATPG see one fault site per bit);
* ``estimate`` -- the quick cell/area estimate for design decisions (``python -m design.synth``):
  generic ``synth -noabc`` then ``dfflibmap``/``abc`` on the full typical Liberty.

Why one module in the core (``gptnano``): the design layer (estimates), DFT and the physical
flow all need synthesis, and only the core sits below all three (``tests/test_layering.py``).
Before, four separate scripts (engine, DFT stand-in, design estimate, benchmark) each built
their yosys call; the modes keep each one's script command for command, so the netlists are
the ones they produced (checked on probe: same cells, area and netlist bytes).

Tool: Debian's yosys 0.23 (native, so ABC runs at full speed on two cores; the PyPI yowasp build
is WebAssembly and the SiliconCompiler stock task wants yosys >= 0.48 with Tcl) or the 0.60
library of the virtualenv's pyosys wheel. Yosys 0.23 has no ``-dont_use`` for
``dfflibmap``/``abc``, so the cells a mode must never instantiate are cut out of the Liberty
file itself (:func:`synth_liberty`, the dont-use catalogue is :mod:`gptnano.pdk`).

The ``flow`` netlist is shaped for place and route:

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
* ABC is run with a delay target (``-D``) which makes it buffer high-fanout nets and size
  gates for it (the script choice is measured, see ``pnr/README.md``). The target is the
  combinational budget of a register-to-register path, not the clock period: ABC times the
  logic between flops as if a flop's output switched at the clock edge and its input were
  needed at the next one, so the flop's clock-to-Q and setup are subtracted
  (:func:`abc_delay_target_ns`, read from the mapping corner's Liberty), and the rest is
  scaled to ABC's delay model, which reads ~15 % fast against OpenSTA. With the bare period
  ABC's area recovery stretched every unregistered adder of ``designs/small`` to ~25 ns in its
  own model, ~29-31 ns in STA at a 25 ns clock (``design/README.md``).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gptnano import liberty as liberty_reader
from gptnano.pdk import DFT_DONT_USE, PREFIX, corner_liberty, filtered_liberty, flow_dont_use
from gptnano.step import StepContext, StepError
from gptnano.toolargs import yosys_word

LIB_PREFIX = PREFIX
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

# What each mode is for (see the module docstring).
MODES = ("flow", "dft", "estimate")

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
# ``synth: {abc_buffers: false}`` drops the sized script's ``buffer -p``: ABC then leaves
# high-fanout nets on their drivers and the engine buffers them after placement (cts's
# signal trees, clustered by position; rsz's design repair), as ORFS's REMOVE_ABC_BUFFERS
# does. Why: ABC buffers without wires, and for a net of ~150 loads it built chains (each
# buffer driving ~10 loads and the next buffer): orfs_riscv32i's synthesized netlist (job
# rv2) had 20 chains 9-16 buffers deep, and its worst tt path ran through 13 of them (9.3 ns
# of its 15.5 ns, setup WS -9.88 ns at 6 ns).
DEFAULT_ABC_BUFFERS = True

# The register overhead subtracted from the clock period for ABC's target: the plain D flop
# that dfflibmap uses for the (reset-less) datapath registers, its clock-to-Q at a clock
# transition / output load typical of a routed design (a clock-tree leaf; ~6 gate inputs and
# a short wire) and its setup at typical data/clock transitions. Rise and fall: the worse.
OVERHEAD_FLOP = f"{PREFIX}dfxtp_1"
OVERHEAD_CLOCK_SLEW_NS = 0.5
OVERHEAD_DATA_SLEW_NS = 0.5
OVERHEAD_Q_LOAD_PF = 0.01
# ABC's own timing of its mapped netlist (``stime -p``, the last line of its script) reads
# ~15 % below OpenSTA's on the same netlist at the same corner (designs/small at ss, 25 ns:
# ABC 21.95 ns vs OpenSTA 25.5 ns register to register, and 22.26 vs 26.3 on the previous
# RTL); its area recovery stretches every path up to the target in its own model, so the
# target is the combinational budget scaled by this factor.
ABC_DELAY_SCALE = 0.85
# ``synth: {target_period_ns: ...}``: the clock period ABC's target is derived from, when a
# design wants it shorter than its clock (None: the clock's). ABC times without wires; on
# designs/small the routed, coupled wire C took 3.5 ns of ss slack that the unrouted estimate
# still showed (job s45r), and ABC's area recovery left weak cells (o21ai_0, nor4_1) driving
# those wires. A shorter target sizes them up before placement (design/README.md, Timing).
DEFAULT_TARGET_PERIOD = None


def abc_buffers(design: Any) -> bool:
    """Whether ABC buffers high-fanout nets for ``design`` (``synth.abc_buffers``)."""
    return bool(design.extra.get("synth", {}).get("abc_buffers", DEFAULT_ABC_BUFFERS))


def abc_period_ns(design: Any) -> float:
    """The clock period ``design`` (a :class:`gptnano.design_config.DesignConfig`) has ABC
    map for: ``synth.target_period_ns`` if set, else the clock period."""
    target = design.extra.get("synth", {}).get("target_period_ns", DEFAULT_TARGET_PERIOD)
    return float(design.clock_period_ns if target is None else target)


def _table_value(group: Any, variables: dict[str, list[str]], point: dict[str, float],
                 what: str) -> float:
    """A Liberty lookup table (1-D or 2-D) at ``point`` (template variable -> value),
    bilinear inside the characterised range and linear beyond it, as STA tools do."""
    names = variables.get(liberty_reader.unquote(group.args[0]))
    parts = {c.id: c for c in group.children}
    if not names or "values" not in parts:
        raise StepError(f"Liberty {what}: table without template variables or values")

    def floats(text: str) -> list[float]:
        return [float(v) for v in liberty_reader.unquote(text).replace("\\", "").split(",")
                if v.strip()]

    axes = [floats(parts[f"index_{k + 1}"].args[0]) for k in range(len(names))]
    rows = [floats(r) for r in parts["values"].args]
    if any(n not in point for n in names):
        raise StepError(f"Liberty {what}: indexed by {names}, not by {sorted(point)}")

    def weights(axis: list[float], x: float) -> tuple[int, float]:
        i = min(max(sum(1 for a in axis if a <= x) - 1, 0), len(axis) - 2)
        return i, (x - axis[i]) / (axis[i + 1] - axis[i])

    i, ti = weights(axes[0], point[names[0]])
    if len(names) == 1:
        v = rows[0]
        return v[i] + (v[i + 1] - v[i]) * ti
    j, tj = weights(axes[1], point[names[1]])
    low = rows[i][j] + (rows[i][j + 1] - rows[i][j]) * tj
    high = rows[i + 1][j] + (rows[i + 1][j + 1] - rows[i + 1][j]) * tj
    return low + (high - low) * ti


def register_overhead_ns(lib: Path, flop: str = OVERHEAD_FLOP) -> tuple[float, float]:
    """(clock-to-Q, setup) of ``flop`` in the Liberty ``lib``, in ns, at the transitions and
    load of :data:`OVERHEAD_CLOCK_SLEW_NS` etc.; the worse of rise and fall each."""
    ast = liberty_reader.parse(lib)
    variables = {liberty_reader.unquote(t.args[0]):
                 [liberty_reader.unquote(c.value) for c in t.children
                  if c.id.startswith("variable_")]
                 for t in liberty_reader.groups(ast, "lu_table_template")}
    cells = [c for c in liberty_reader.groups(ast, "cell")
             if liberty_reader.unquote(c.args[0]) == flop]
    if not cells:
        raise StepError(f"{lib}: no cell {flop} to read the register overhead from")
    clk_q = setup = None
    for pin in liberty_reader.groups(cells[0], "pin"):
        for timing in liberty_reader.groups(pin, "timing"):
            kind = liberty_reader.attributes(timing).get("timing_type", "")
            tables = {c.id: c for c in timing.children if c.children}
            if kind == "rising_edge":
                point = {"input_net_transition": OVERHEAD_CLOCK_SLEW_NS,
                         "total_output_net_capacitance": OVERHEAD_Q_LOAD_PF}
                clk_q = max(_table_value(tables[k], variables, point, f"{flop} {k}")
                            for k in ("cell_rise", "cell_fall"))
            elif kind == "setup_rising":
                point = {"related_pin_transition": OVERHEAD_CLOCK_SLEW_NS,
                         "constrained_pin_transition": OVERHEAD_DATA_SLEW_NS}
                setup = max(_table_value(tables[k], variables, point, f"{flop} {k}")
                            for k in ("rise_constraint", "fall_constraint"))
    if clk_q is None or setup is None:
        raise StepError(f"{lib}: {flop} has no clock-to-Q or setup table")
    return clk_q, setup


def abc_delay_target_ns(period_ns: float, lib: Path) -> float:
    """ABC's delay target for ``period_ns``: the period less the register overhead
    (:func:`register_overhead_ns`) at the Liberty ``lib`` ABC maps against, in ABC's delay
    model (x :data:`ABC_DELAY_SCALE`)."""
    clk_q, setup = register_overhead_ns(lib)
    target = (period_ns - clk_q - max(setup, 0.0)) * ABC_DELAY_SCALE
    if target <= 0:
        raise StepError(f"clock period {period_ns} ns is shorter than the register overhead "
                        f"{clk_q + setup:.3f} ns of {OVERHEAD_FLOP} in {lib.name}")
    return target


# Which yosys runs the script (``synth: {yosys: ...}``), measured in pnr/README.md: Debian's
# native 0.23 (``/usr/bin/yosys`` with ``berkeley-abc``) or the 0.60 library the virtualenv's
# pyosys wheel carries (``libyosys.so`` + its own ``yosys-abc``), run through the Python API.
YOSYS_IMPLS = ("debian", "pyosys")
DEFAULT_YOSYS = "debian"
PYOSYS_RUNNER = ("import sys\nfrom pyosys import libyosys as ys\n"
                 "ys.run_pass(f'tee -q -o {sys.argv[2]} script {sys.argv[1]}', ys.Design())\n")


def pyosys_abc() -> Path:
    """The ``yosys-abc`` shipped inside the pyosys package (yosys' default lookup would search
    next to the Python interpreter)."""
    spec = importlib.util.find_spec("pyosys")
    if spec is None or spec.origin is None:
        raise StepError("synth.yosys: pyosys is not installed in this Python environment")
    exe = Path(spec.origin).with_name("yosys-abc")
    if not exe.is_file():
        raise StepError(f"synth.yosys: pyosys has no yosys-abc at {exe}")
    return exe


def yosys_command(impl: str, script: Path, log: Path) -> list[str]:
    """The command line that runs ``script`` with the chosen yosys, logging to ``log``."""
    if impl == "pyosys":
        return [sys.executable, "-c", PYOSYS_RUNNER, str(script), str(log)]
    return ["yosys", "-q", "-l", str(log), "-s", str(script)]


def synth_liberty(corner: str = "tt") -> Path:
    """``corner``'s Liberty without the flow's dont-use cells (:func:`gptnano.pdk.flow_dont_use`:
    lambdapdk's list, physical-only and flow-only cells). The tie cell is dropped too so ABC
    never maps logic onto it; ``hilomap`` names it directly."""
    return filtered_liberty(corner, flow_dont_use(), "synth")


def mode_liberty(mode: str, corner: str = "tt") -> Path:
    """The Liberty ``mode`` maps onto: the flow's dont-use cut, the DFT keep-out cut, or the
    full library for the estimate."""
    if mode == "flow":
        return synth_liberty(corner)
    if mode == "dft":
        return filtered_liberty(corner, DFT_DONT_USE, "dft")
    if mode == "estimate":
        return corner_liberty(corner)
    raise StepError(f"unknown synthesis mode '{mode}'; known: {list(MODES)}")


def flow_script(rtl: Sequence[Path], top: str, period_ns: float, lib: Path, netlist: Path,
                reports: Path, abc_mode: str, abc_exe: Path | None = None,
                abc_buffers: bool = DEFAULT_ABC_BUFFERS) -> str:
    """The ``flow`` mode's yosys script; ``abc_mode`` is a key of :data:`ABC_MODES`;
    ``abc_exe`` the ABC binary when it is not the yosys build's default (pyosys);
    ``abc_buffers`` False takes the buffering out of the sized script
    (:data:`DEFAULT_ABC_BUFFERS`). Writes the sized ABC script file into ``reports``."""
    if abc_mode not in ABC_MODES:
        raise StepError(f"unknown ABC mode '{abc_mode}'; known: {sorted(ABC_MODES)}")
    # ABC times logic between flops from a clock edge to the next: its budget is the period
    # less the flop's clock-to-Q and setup (only the sized script has a delay target)
    target_ns = abc_delay_target_ns(period_ns, lib) if abc_mode == "sized" else period_ns
    period_ps = int(round(target_ns * 1000))
    reads = "\n".join(f"read_verilog -sv {yosys_word(f)}" for f in rtl)
    abc_script = reports / "abc.script"
    # yosys replaces {D} only in its own scripts, not inside a -script file: the delay target
    # is written into the file here (with the placeholder left in, ABC ignored it and the
    # netlist was the same at every clock).
    sized = ABC_SIZED_SCRIPT if abc_buffers else ABC_SIZED_SCRIPT.replace("buffer -p\n", "")
    abc_script.write_text(sized.replace("{D}", f"-D {period_ps}"))
    abc = ABC_MODES[abc_mode].format(period_ps=period_ps, lib=yosys_word(lib),
                                     script=yosys_word(abc_script))
    if abc_exe is not None:
        abc += f" -exe {abc_exe}"  # yosys hands -exe to the shell as is: not quoted here
    full_lib = corner_liberty("tt")
    # every path is one quoted word, except tee's -o file, which yosys does not unquote (the
    # reports folder is under the build folder, whose path the flow has validated)
    return f"""read_liberty -lib {yosys_word(full_lib)}
{reads}
hierarchy -check -top {top}
synth -top {top} -flatten
opt -purge
dfflibmap -liberty {yosys_word(lib)}
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
tee -o {reports / "stat.rpt"} stat -liberty {yosys_word(full_lib)}
write_verilog -noattr -noexpr -nohex -nodec {yosys_word(netlist)}
"""


def yosys_script(ctx: StepContext, lib: Path, netlist: Path, abc_mode: str,
                 abc_exe: Path | None = None) -> str:
    """:func:`flow_script` for ``ctx.design`` (RTL, top, clock, ABC buffering), reports in
    ``ctx``."""
    design = ctx.design
    return flow_script(design.rtl, design.top, abc_period_ns(design), lib, netlist,
                       ctx.reports_dir, abc_mode, abc_exe, abc_buffers(design))


def _reads_and_abc(rtl: Sequence[Path], lib: Path, abc_exe: Path | None,
                   sv: bool) -> tuple[str, str, str]:
    """The ``read_verilog`` lines, the quoted Liberty and yosys' stock ``abc`` call of the
    ``dft`` and ``estimate`` scripts."""
    flag = "-sv " if sv else ""
    reads = "\n".join(f"read_verilog {flag}{yosys_word(f)}" for f in rtl)
    lib_word = yosys_word(lib)
    abc = f"abc -liberty {lib_word}" + (f" -exe {abc_exe}" if abc_exe is not None else "")
    return reads, lib_word, abc


def dft_script(rtl: Sequence[Path], top: str, lib: Path, netlist: Path, reports: Path,
               abc_exe: Path | None = None) -> str:
    """The ``dft`` mode's script (the former ``dft.synth`` stand-in, command for command)."""
    reads, lib_word, abc = _reads_and_abc(rtl, lib, abc_exe, sv=True)
    return f"""{reads}
synth -top {top} -flatten
dfflibmap -liberty {lib_word}
{abc}
opt_clean -purge
hilomap -hicell {TIE_CELL} HI -locell {TIE_CELL} LO
setundef -zero
splitnets -ports
opt_clean -purge
tee -o {reports / "stat.rpt"} stat -liberty {lib_word}
write_verilog -noattr -noexpr -nohex -nodec {yosys_word(netlist)}
"""


def estimate_script(rtl: Sequence[Path], top: str, lib: Path, netlist: Path, reports: Path,
                    abc_exe: Path | None = None) -> str:
    """The ``estimate`` mode's script (the former ``design.synth``, command for command)."""
    reads, lib_word, abc = _reads_and_abc(rtl, lib, abc_exe, sv=False)
    return f"""{reads}
synth -flatten -top {top} -noabc
dfflibmap -liberty {lib_word}
{abc}
opt_clean
tee -o {reports / "stat.rpt"} stat -liberty {lib_word}
write_verilog -noattr {yosys_word(netlist)}
"""


def parse_stat(text: str, top: str) -> dict[str, float | int]:
    """Cell count, area and flip-flop count from yosys ``stat -liberty``, in 0.23's layout
    (``Number of cells: N``, ``<cell> <count>`` lines) or 0.60's (``N <area> cells``,
    ``<count> <area> <cell>`` lines)."""
    cells = (re.search(r"Number of cells:\s+(\d+)", text)
             or re.search(r"^\s*(\d+)\s+\S+\s+cells\s*$", text, re.M))
    area = re.search(r"Chip area for (?:top )?module '\\?" + re.escape(top) + r"':\s+([\d.]+)",
                     text)
    if not cells or not area:
        raise StepError("yosys stat report has no cell count / chip area")
    counts = [(name, int(n)) for name, n in
              re.findall(r"^\s*(\S+__\w+_\d+)\s+(\d+)\s*$", text, re.M)]
    counts += [(name, int(n)) for n, name in
               re.findall(r"^\s*(\d+)\s+[\d.eE+-]+\s+(\S+__\w+_\d+)\s*$", text, re.M)]
    regs = sum(n for name, n in counts if re.search(r"__(?:df|edf|sdf)", name))
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


def synthesize(rtl: Sequence[Path], top: str, netlist: Path, reports: Path, mode: str = "flow",
               *, clock_period_ns: float | None = None, abc_mode: str = DEFAULT_ABC_MODE,
               corner: str = "tt", yosys: str = DEFAULT_YOSYS,
               abc_buffers: bool = DEFAULT_ABC_BUFFERS) -> dict[str, float | int | str]:
    """Synthesize ``rtl`` (top module ``top``) into ``netlist`` in ``mode``; the script, the
    yosys log and ``stat.rpt`` go to ``reports``. Returns cells, area, registers, runtime.

    ``clock_period_ns`` (ABC's delay target), ``abc_mode``, ``corner`` (the Liberty ABC maps
    against) and ``abc_buffers`` are the ``flow`` mode's knobs; ``dft`` and ``estimate`` map
    at ``corner`` too."""
    if mode not in MODES:
        raise StepError(f"unknown synthesis mode '{mode}'; known: {list(MODES)}")
    if yosys not in YOSYS_IMPLS:
        raise StepError(f"synth.yosys must be one of {sorted(YOSYS_IMPLS)}, got '{yosys}'")
    reports.mkdir(parents=True, exist_ok=True)
    netlist.parent.mkdir(parents=True, exist_ok=True)
    lib = mode_liberty(mode, corner)
    abc_exe = pyosys_abc() if yosys == "pyosys" else None
    if mode == "flow":
        if clock_period_ns is None:
            raise StepError("flow synthesis needs the clock period (ABC's delay target)")
        text = flow_script(rtl, top, clock_period_ns, lib, netlist, reports, abc_mode, abc_exe,
                           abc_buffers)
    elif mode == "dft":
        text = dft_script(rtl, top, lib, netlist, reports, abc_exe)
    else:
        text = estimate_script(rtl, top, lib, netlist, reports, abc_exe)
    script = reports / "synth.ys"
    script.write_text(text)
    log = reports / "yosys.log"
    start = time.monotonic()
    proc = subprocess.run(yosys_command(yosys, script, log), capture_output=True, text=True)
    runtime = time.monotonic() - start
    if proc.returncode != 0 or not netlist.is_file():
        tail = (proc.stderr or proc.stdout)[-1500:]
        raise StepError(f"synthesis of {top}: yosys failed (exit {proc.returncode}), "
                        f"see {log}\n{tail}")
    metrics: dict[str, float | int | str] = dict(
        parse_stat((reports / "stat.rpt").read_text(), top))
    metrics["synth_runtime_s"] = round(runtime, 2)
    metrics["synth_mode"] = mode
    metrics["yosys"] = yosys
    return metrics


def run(ctx: StepContext, abc_mode: str | None = None) -> dict[str, float | int | str]:
    """The flow's ``syn`` step: ``ctx.design`` into ``outputs/<top>.vg`` (+ ``<top>.sdc``, the
    design's constraints) in ``flow`` mode; returns cells, area, runtime. ``abc_mode``
    defaults to the config's ``synth: {abc: ...}`` or :data:`DEFAULT_ABC_MODE`. ABC maps
    against the Liberty of the config's ``synth: {corner: ...}`` (default ``tt``): a design
    whose clock is set by the ss corner maps at ss, so ABC's delay target (the clock period)
    means the corner that limits. ``synth: {target_period_ns: ...}`` replaces the clock period
    in ABC's target (:func:`abc_period_ns`); the SDC keeps the clock."""
    for sub in (ctx.outputs_dir, ctx.reports_dir):
        sub.mkdir(parents=True, exist_ok=True)
    settings = ctx.design.extra.get("synth", {})
    abc_mode = abc_mode or str(settings.get("abc", DEFAULT_ABC_MODE))
    corner = str(settings.get("corner", "tt"))
    impl = str(settings.get("yosys", DEFAULT_YOSYS))
    if impl not in YOSYS_IMPLS:
        raise StepError(f"{ctx.design.folder / 'config.yaml'}: synth.yosys must be one of "
                        f"{sorted(YOSYS_IMPLS)}, got '{impl}'")
    netlist = ctx.output("vg")
    metrics = synthesize(ctx.design.rtl, ctx.top, netlist, ctx.reports_dir, "flow",
                         clock_period_ns=abc_period_ns(ctx.design), abc_mode=abc_mode,
                         corner=corner, yosys=impl, abc_buffers=abc_buffers(ctx.design))
    check_netlist(netlist)
    # The constraints travel with the netlist as the SDC view (DFT may rewrite it downstream).
    shutil.copyfile(ctx.design.sdc, ctx.output("sdc"))
    del metrics["synth_mode"]
    metrics["abc_mode"] = abc_mode
    metrics["map_corner"] = corner
    metrics["yosys"] = metrics.pop("yosys")  # the key order the step always returned
    return metrics
