"""Design configurations: one folder per design under ``designs/`` (ORFS style).

``designs/<name>/config.yaml`` sits beside the design's SDC (``constraint.sdc``) and its golden
metrics (``rules.json``). Every stage reads the design through :func:`load_design`, so a typo in
a config is reported once, with the file and the key, before any tool runs.

Every key is declared once in :data:`VARIABLES` with its type, default and help text (the idea
of LibreLane's ``Variable`` table and SiliconCompiler's task variables): the loader rejects a
key the table does not know, a value of the wrong type or out of range, and any value that
becomes a file name or a tool argument but holds characters a yosys, Tcl or shell command line
would split or interpret (``python -m gptnano.design_config`` prints the table). The step
modules keep reading their settings from :class:`DesignConfig` (``floorplan``, ``placement``,
``dft``, ``extra[...]``) with their own defaults; ``tests/test_design_config.py`` checks that
the table's defaults are the ones the modules use.

Example::

    name: probe
    top: probe_mac
    rtl: [designs/probe/probe_mac.v]      # repository-relative Verilog files
    sdc: constraint.sdc                   # relative to the design folder
    clock: {port: clk, period_ns: 10.0}
    floorplan: {core_utilization: 0.45, aspect_ratio: 1.0, core_margin_um: 12.0}
    placement: {density: 0.6}
    corners: [ss, tt, ff]
    dft: {enable: false, chains: 1}
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from gptnano import pdk
from gptnano.paths import REPO_ROOT

DESIGNS_DIR = REPO_ROOT / "designs"
# How a timing check counts: "signoff" (negative slack fails the flow, the default) or "report"
# (the slack is measured and shown but does not fail the run: benchmark designs run at another
# flow's clock, e.g. ORFS's, to compare slack). Hold is always signoff.
TIMING_MODES = ("signoff", "report")
IO_PLACEMENTS = ("floorplan", "wirelength")  # placement.io_placement (pnr.engine.iop)
CORNERS = tuple(pdk.CORNERS)  # every corner the PDK table characterises, in its order
REQUIRED = object()           # default of a key the config must give

# A design name becomes a folder (build/<name>/) and part of every tool's file arguments.
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")
# A file path spliced into yosys scripts, OpenSTA/Magic Tcl and netgen arguments unquoted: no
# whitespace, quotes, Tcl brackets/braces/$, redirections or separators.
SAFE_PATH = re.compile(r"[A-Za-z0-9_./+-]+")
# A Verilog (non-escaped) identifier: top module and port names.
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


class DesignConfigError(ValueError):
    """A design configuration is missing, malformed, or names files that do not exist."""


class UndeclaredSettingError(RuntimeError):
    """A flow step read a config section its task does not declare (flow.tasks.inputs): the
    step would be reused after that section changed, so reading it is a bug in the flow."""


@dataclass(frozen=True)
class Variable:
    """One config key: dotted ``key`` (``route.max_rounds``), its ``type`` (``bool``, ``int``,
    ``float``, ``str``, ``list``), ``default`` (:data:`REQUIRED` if the config must give it),
    ``help``; optional ``choices``, bounds (``low``/``high``, ``low_open`` excludes ``low``),
    a ``pattern`` a string must match in full (``pattern_help`` says what it means) and
    ``nullable`` (``null`` allowed). ``items`` is the element Variable of a list."""

    key: str
    type: type
    default: Any
    help: str
    choices: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    pattern: re.Pattern[str] | None = None
    pattern_help: str = ""
    nullable: bool = False
    items: Variable | None = None

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not acceptable for this key (``None`` if it is)."""
        if value is None:
            return None if self.nullable else "must not be empty (null)"
        if self.type is list:
            values = [value] if isinstance(value, str) else value
            if not isinstance(values, list):
                return f"must be a list, got {value!r}"
            for item in values:
                why = self.items.problem(item) if self.items else None
                if why:
                    return f"entry {item!r}: {why}"
            return None
        if self.type is float:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        elif self.type is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, self.type)
        if not ok:
            return f"must be {_TYPE_WORDS[self.type]}, got {value!r}"
        if self.choices is not None and value not in self.choices:
            return f"must be one of {list(self.choices)}, got {value!r}"
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return f"must be {'>' if self.low_open else '>='} {self.low:g}, got {value!r}"
        if self.high is not None and value > self.high:
            return f"must be <= {self.high:g}, got {value!r}"
        if self.pattern is not None and not self.pattern.fullmatch(value):
            return f"{value!r} is not {self.pattern_help}"
        return None


_TYPE_WORDS = {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}


def _v(key: str, type_: type, default: Any, help_: str, **kw: Any) -> Variable:
    return Variable(key, type_, default, help_, **kw)


def _ident(key: str, default: Any, help_: str, nullable: bool = False) -> Variable:
    return _v(key, str, default, help_, pattern=IDENTIFIER, nullable=nullable,
              pattern_help="a Verilog identifier (letters, digits, _ and $)")


def _path(key: str, default: Any, help_: str) -> Variable:
    return _v(key, str, default, help_, pattern=SAFE_PATH,
              pattern_help="a safe path (letters, digits, _ . / + - only: it is passed "
                           "unquoted to yosys/OpenSTA/Magic)")


# The declaration of every key. Defaults are the ones the reading module applies (checked by
# tests/test_design_config.py against the modules' constants).
VARIABLES: tuple[Variable, ...] = (
    _v("name", str, None, "design name; the build folder build/<name>/ (default: the folder "
       "name)", pattern=SAFE_NAME, nullable=True,
       pattern_help="a safe name (letters, digits, _ . + -, starting with a letter or digit; "
                    "it becomes a folder and a tool argument)"),
    _ident("top", REQUIRED, "top module of the RTL"),
    _v("rtl", list, REQUIRED, "Verilog files, relative to the repository root",
       items=_path("rtl[]", None, "Verilog file")),
    _path("sdc", "constraint.sdc", "SDC file, relative to the design folder"),
    _ident("clock.port", REQUIRED, "clock input port"),
    _v("clock.period_ns", float, REQUIRED, "clock period in ns", low=0, low_open=True),
    _v("corners", list, list(CORNERS), "PVT corners signed off (STA per corner)",
       items=_v("corners[]", str, None, "corner", choices=CORNERS)),
    _v("variant", str, None, "model variant of the design (a row of model/experiments.csv)",
       nullable=True, pattern=SAFE_NAME, pattern_help="a safe name"),
    _v("floorplan.core_utilization", float, 0.4, "cell area / core area", low=0,
       low_open=True, high=1),
    _v("floorplan.aspect_ratio", float, 1.0, "core height / width", low=0, low_open=True),
    _v("floorplan.core_margin_um", float, 10.0, "die edge to core distance (um)", low=0),
    _v("floorplan.tap_pitch_um", float, 13.8, "tap cell column pitch (um)", low=0,
       low_open=True),
    _v("placement.density", float, 0.7, "placer bin target density (pnr.engine.gpl default)",
       low=0, low_open=True, high=1),
    _v("placement.timing_driven", int, 0, "global placement weights nets by setup slack "
       "(pnr.engine.tdp; 1 on, 0 off)", low=0, high=1),
    _v("placement.routability_driven", int, 1, "global placement inflates cells in tiles "
       "RUDY finds congested and re-spreads (pnr.engine.gpl; 1 on, 0 off)", low=0, high=1),
    _v("placement.io_placement", str, "floorplan", "IO pins where the floorplan puts them "
       "('floorplan': inputs bottom, outputs top, by name) or moved to the edge slots nearest "
       "their logic after a first global placement ('wirelength': pnr.engine.iop, ORFS's "
       "place_pins)", choices=IO_PLACEMENTS),
    _v("placement.cell_pad_sites", int, 1, "free sites kept right of every logic cell (cell "
       "padding, like ORFS' CELL_PAD_IN_SITES_DETAIL_PLACEMENT)", low=0, high=8),
    _v("timing.setup", str, "signoff", "setup slack: 'signoff' fails the run when negative, "
       "'report' only shows it (hold is always signoff)", choices=TIMING_MODES),
    _v("synth.abc", str, "sized", "ABC mapping mode (gptnano.synth.ABC_MODES)",
       choices=("sized", "area", "fast")),
    _v("synth.corner", str, "tt", "Liberty corner ABC maps against", choices=CORNERS),
    _v("synth.abc_buffers", bool, True, "ABC buffers high-fanout nets (its 'buffer -p'); false "
       "leaves them to the engine's placement-aware trees (cts, rsz), like ORFS's "
       "REMOVE_ABC_BUFFERS"),
    _v("synth.target_period_ns", float, None, "clock period ABC's delay target is derived "
       "from instead of the clock's (gptnano.synth.abc_period_ns; shorter sizes the logic for "
       "the routed wires ABC does not see); null: the clock period", nullable=True, low=0,
       low_open=True),
    _v("synth.yosys", str, "debian", "yosys build: Debian's 0.23 or the virtualenv's pyosys "
       "0.60 (gptnano.synth.YOSYS_IMPLS)", choices=("debian", "pyosys")),
    _v("cts.clock_max_fanout", float, 16, "clock tree buffer fanout", low=2),
    _v("cts.signal_max_fanout", float, 20, "high-fanout signal net buffer fanout", low=2),
    _v("cts.clock_max_transition_ns", float, 0.15, "clock tree max transition (ns)", low=0,
       low_open=True),
    _v("cts.signal_max_transition_ns", float, 0.4, "buffered signal max transition (ns)",
       low=0, low_open=True),
    _v("rsz.hold_margin_ns", float, 0.05, "hold repair target slack (ns)"),
    _v("rsz.max_rounds", float, 10, "hold repair rounds", low=0),
    _v("rsz.size_rounds", float, 20, "setup repair rounds before hold repair (0: off)", low=0),
    _v("rsz.setup_paths", float, 3, "worst violating setup paths per corner and round", low=1),
    _v("rsz.pin_swap", float, 1, "setup repair swaps equivalent input pins (1) or not (0)",
       low=0, high=1),
    _v("rsz.split_load", float, 1, "setup repair buffers non-critical loads (1) or not (0)",
       low=0, high=1),
    _v("rsz.repair_design", float, 1, "max slew/capacitance/fanout repair before setup (1/0)",
       low=0, high=1),
    _v("rsz.max_fanout", float, 0, "fanout limit of the design repair (0: none)", low=0),
    _v("rsz.tns_weight", float, 0.01, "weight of TNS next to WS in the setup repair's score",
       low=0),
    _v("rsz.setup_margin_ns", float, 0.0, "setup slack the repair aims for at the placement "
       "estimate (repair_timing -setup_margin; 0: repair negative slack only)", low=0),
    _v("antenna.diodes", bool, True, "insert antenna diodes where the placement estimate "
       "exceeds the sky130 antenna ratio (pnr.engine.antenna)"),
    _v("antenna.check", str, "signoff", "antenna violations: 'signoff' fails the run, "
       "'report' only shows them (say why in the config)", choices=TIMING_MODES),
    _v("estimate.wire_c_scale", float, 3.4, "factor on the placement-stage wire capacitance "
       "estimate (RMST x the tech's ground C/um) that CTS and timing repair size against, "
       "calibrated per design against the routed SPEF by pnr.engine.bench_spef --calibrate "
       "(ORFS: set_wire_rc). Default: the coupled SPEF measured 3.18 / 3.27 / 3.73 x the "
       "estimate on probe / orfs_gcd / small", low=0, low_open=True),
    _v("parasitics.coupling", bool, True, "route SPEF adds routed-neighbour coupling C, grounded"),
    _v("route.max_rounds", int, 60, "router rip-up round budget", low=0),
    _v("route.time_guard_s", float, 3600.0, "router wall-clock guard (s): fails, never cuts "
       "rounds", low=0, low_open=True),
    _v("route.antenna_repair", bool, True, "after routing, diodes at the gates still over the "
       "sky130 antenna ratio, joined to their routed nets (pnr.engine.antenna_repair)"),
    _v("power.activity", float, 0.1, "default switching activity for power analysis", low=0,
       high=1),
    _v("drc.feol", bool, True, "KLayout DRC runs the FEOL rule groups too (the full deck)"),
    _v("dft.enable", bool, False, "insert scan chains and run ATPG in the flow"),
    _v("dft.chains", int, 1, "number of scan chains", low=1),
    _ident("dft.scan_in", "scan_in", "scan-in port name (_<k> added per chain)"),
    _ident("dft.scan_out", "scan_out", "scan-out port name"),
    _ident("dft.scan_enable", "scan_en", "scan-enable port name"),
    _ident("dft.reset", None, "reset port held inactive during ATPG", nullable=True),
    _v("dft.reset_active_low", bool, False, "the reset port is active low"),
    _v("dft.atpg.seed", int, 1, "random-pattern seed"),
    _v("dft.atpg.conflict_budget", int, 20000, "SAT conflict budget per fault", low=1),
    _v("dft.atpg.max_random_batches", int, 32, "random pattern batches before SAT", low=0),
    _v("dft.atpg.solver", str, "cadical153", "PySAT solver name", pattern=SAFE_NAME,
       pattern_help="a solver name"),
)
BY_KEY = {v.key: v for v in VARIABLES}
# Keys every flow step may read: what the design is and its clock and corners.
IDENTITY_KEYS = frozenset({"name", "top", "rtl", "sdc", "clock.port", "clock.period_ns",
                           "corners"})
# Mappings: every dotted prefix of a declared key (clock, dft, dft.atpg, ...).
SECTIONS = sorted({".".join(v.key.split(".")[:i]) for v in VARIABLES
                   for i in range(1, v.key.count(".") + 1)})


@dataclass(frozen=True)
class DesignConfig:
    name: str
    top: str
    rtl: tuple[Path, ...]
    sdc: Path
    folder: Path
    clock_port: str
    clock_period_ns: float
    floorplan: dict[str, Any] = field(default_factory=dict)
    placement: dict[str, Any] = field(default_factory=dict)
    corners: tuple[str, ...] = CORNERS
    dft: dict[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    setup_mode: str = "signoff"
    # Sections a flow step declared it reads (None: all); see for_step.
    readable: tuple[str, ...] | None = None

    @property
    def rules_file(self) -> Path:
        return self.folder / "rules.json"

    @property
    def config_file(self) -> Path:
        return self.folder / "config.yaml"

    def may_read(self, key: str) -> bool:
        """Whether ``key`` (a declared key or a section) is within :attr:`readable`."""
        if self.readable is None or key in IDENTITY_KEYS:
            return True
        return any(s == "" or key == s or key.startswith(s + ".") or s.startswith(key + ".")
                   for s in self.readable)

    def for_step(self, step: str, sections: tuple[str, ...]) -> DesignConfig:
        """This config as ``step`` may see it: reading a section outside ``sections`` (through
        :meth:`setting`, ``extra``, ``floorplan``, ``placement`` or ``dft``) raises
        :class:`UndeclaredSettingError` instead of returning a value SiliconCompiler did not
        compare when it decided to reuse the step's last result."""
        view = replace(self, readable=tuple(sections))

        def section(name: str, value: dict[str, Any]) -> Mapping[str, Any]:
            return value if view.may_read(name) else _Undeclared(step, name)
        return replace(view, floorplan=section("floorplan", self.floorplan),
                       placement=section("placement", self.placement),
                       dft=section("dft", self.dft), extra=_StepExtra(step, view, self.extra))

    def setting(self, key: str) -> Any:
        """The value of declared ``key`` (``route.max_rounds``): the config's, else the
        table's default."""
        var = BY_KEY[key]
        if not self.may_read(key):
            raise UndeclaredSettingError(_undeclared_message("", key))
        structured = {"name": self.name, "top": self.top, "rtl": list(self.rtl),
                      "sdc": self.sdc, "clock.port": self.clock_port,
                      "clock.period_ns": self.clock_period_ns, "corners": list(self.corners)}
        if key in structured:
            return structured[key]
        node: Any = {**self.extra, "floorplan": self.floorplan, "placement": self.placement,
                     "dft": self.dft, "timing": {"setup": self.setup_mode}}
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return var.default
            node = node[part]
        return node


def _undeclared_message(step: str, key: str) -> str:
    who = f"step '{step}'" if step else "this step"
    return (f"{who} read config '{key}', which its task does not declare (add it to "
            "flow/tasks/inputs.py STEP_SECTIONS so a change to it re-runs the step)")


class _Undeclared(Mapping[str, Any]):
    """A config section a step did not declare: any read raises."""

    def __init__(self, step: str, name: str) -> None:
        self._step, self._name = step, name

    def _refuse(self) -> UndeclaredSettingError:
        return UndeclaredSettingError(_undeclared_message(self._step, self._name))

    def __getitem__(self, key: str) -> Any:
        raise self._refuse()

    def __iter__(self) -> Iterator[str]:
        raise self._refuse()

    def __len__(self) -> int:
        raise self._refuse()


class _StepExtra(Mapping[str, Any]):
    """The config's other sections (``synth``, ``route``, ...) as one step may see them:
    declared ones read as usual, undeclared ones raise; iteration lists only declared ones."""

    def __init__(self, step: str, view: DesignConfig, data: Mapping[str, Any]) -> None:
        self._step, self._view, self._data = step, view, data

    def __getitem__(self, key: str) -> Any:
        if not self._view.may_read(key):
            raise UndeclaredSettingError(_undeclared_message(self._step, key))
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return (k for k in self._data if self._view.may_read(k))

    def __len__(self) -> int:
        return sum(1 for _ in self)


def check_values(data: dict[str, Any], where: Path) -> None:
    """Reject unknown keys, missing required keys and bad values, naming file and key."""
    def walk(mapping: Any, prefix: str) -> None:
        if not isinstance(mapping, dict):
            example = ", ".join(f"{k.split('.')[-1]}: ..." for k in BY_KEY
                                if k.startswith(prefix + ".") and k.count(".") == prefix.count(
                                    ".") + 1)
            raise DesignConfigError(f"{where}: {prefix} must be a mapping like {{{example}}}, "
                                    f"got {mapping!r}")
        for key, value in mapping.items():
            dotted = f"{prefix}.{key}" if prefix else str(key)
            if dotted in SECTIONS:
                if value is not None:  # an empty section ("route:") means all defaults
                    walk(value, dotted)
            elif dotted in BY_KEY:
                why = BY_KEY[dotted].problem(value)
                if why:
                    raise DesignConfigError(f"{where}: {dotted} {why}")
            else:
                siblings = sorted(k.split(".")[-1] for k in (*BY_KEY, *SECTIONS)
                                  if k.rpartition(".")[0] == prefix)
                label = prefix or "top level"
                raise DesignConfigError(f"{where}: {label}: unknown keys [{str(key)!r}] "
                                        f"(known: {', '.join(siblings)})")
    walk(data, "")
    for var in VARIABLES:
        if var.default is REQUIRED:
            node: Any = data
            for part in var.key.split("."):
                if not isinstance(node, dict) or part not in node:
                    raise DesignConfigError(f"{where}: missing required key '{var.key}'")
                node = node[part]


def check_tool_path(path: Path | str, what: str) -> None:
    """Refuse a path that reaches yosys scripts or OpenSTA/Magic Tcl unquoted and holds
    characters they would split or interpret (spaces, quotes, brackets, ``$``, ``;``)."""
    if not SAFE_PATH.fullmatch(str(path)):
        raise DesignConfigError(f"{what} {str(path)!r} has characters tools would split or "
                                "interpret (use letters, digits, _ . / + -)")


def design_names() -> list[str]:
    """Every design folder that has a config.yaml."""
    return sorted(p.parent.name for p in DESIGNS_DIR.glob("*/config.yaml"))


def config_path(name_or_path: str | Path) -> Path:
    """``designs/<name>/config.yaml`` for a design name, or the given ``.yaml`` path. A name
    that is not a plain folder name (``../x``, ``a/b``) is refused before any file is read."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml"):
        return candidate
    if not SAFE_NAME.fullmatch(str(name_or_path)) or ".." in str(name_or_path):
        raise DesignConfigError(f"design name {str(name_or_path)!r} is not a design folder "
                                f"name (known designs: {', '.join(design_names()) or 'none'})")
    return DESIGNS_DIR / str(name_or_path) / "config.yaml"


def load_design(name_or_path: str | Path) -> DesignConfig:
    """Load ``designs/<name>/config.yaml`` (or a config file path) and check it."""
    path = config_path(name_or_path)
    if not path.is_file():
        known = ", ".join(design_names()) or "none"
        raise DesignConfigError(f"no design config at {path} (known designs: {known})")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise DesignConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise DesignConfigError(f"{path}: expected a mapping at the top level")
    check_values(data, path)
    folder = path.parent
    name = data.get("name") or folder.name
    if not SAFE_NAME.fullmatch(name) or ".." in name:
        raise DesignConfigError(f"{path}: name {name!r} is not a safe name (letters, digits, "
                                "_ . + -; it becomes the folder build/<name>/)")
    rtl_entries = data["rtl"]
    if isinstance(rtl_entries, str):
        rtl_entries = [rtl_entries]
    rtl = tuple((REPO_ROOT / f).resolve() for f in rtl_entries)
    for f in rtl:
        if not f.is_file():
            raise DesignConfigError(f"{path}: rtl file {f} does not exist")
    sdc = folder / data.get("sdc", "constraint.sdc")
    if not sdc.is_file():
        raise DesignConfigError(f"{path}: SDC file {sdc} does not exist")
    for f in (*rtl, sdc, folder.resolve()):
        check_tool_path(f, f"{path}: the path")
    clock = data["clock"]
    unset = {"floorplan": {}, "placement": {}, "dft": {}, "timing": {}}
    sections = {k: data.get(k) or v for k, v in unset.items()}
    structured = {"name", "top", "rtl", "sdc", "clock", "corners", *unset}
    return DesignConfig(
        name=str(name),
        top=str(data["top"]),
        rtl=rtl,
        sdc=sdc,
        folder=folder,
        clock_port=str(clock["port"]),
        clock_period_ns=float(clock["period_ns"]),
        floorplan=dict(sections["floorplan"]),
        placement=dict(sections["placement"]),
        corners=tuple(data.get("corners") or CORNERS),
        dft=dict(sections["dft"]),
        extra={k: v for k, v in data.items() if k not in structured},
        setup_mode=str(sections["timing"].get("setup", BY_KEY["timing.setup"].default)),
    )


def describe() -> str:
    """The variable table as text (``python -m gptnano.design_config``)."""
    lines = []
    for var in VARIABLES:
        default = "required" if var.default is REQUIRED else f"default {var.default!r}"
        kind = _TYPE_WORDS.get(var.type, "a list")
        lines.append(f"{var.key:34s} {kind}, {default}: {var.help}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(describe() + "\n")
