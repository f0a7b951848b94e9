"""What each flow step depends on, as values SiliconCompiler compares to decide what re-runs.

Why: SiliconCompiler resumes a job node by node (``SchedulerNode.requires_run``): a node runs
again when one of its task's *required keys* changed since its last run (values compared as
values, files by hash or time stamp), and every node downstream of a re-run node runs again.
The embedded steps read their settings from the design's ``config.yaml`` and run our own
Python code, neither of which SC sees by itself. So every :class:`flow.tasks.base.EngineTask`
carries two task variables, set here and declared as required keys:

* ``settings`` -- the values of the config keys the step reads (:data:`STEP_SECTIONS`), as
  canonical JSON: editing ``route.max_rounds`` re-runs ``route`` and what follows, not ``syn``;
* ``code`` -- a digest of the step's code by meaning (:func:`code_meaning`: syntax tree
  without docstrings) over the modules it imports, transitively, inside the flow's packages,
  plus their packages' non-Python files (Tcl, decks): editing the router re-runs ``route``
  onward; editing a docstring re-runs nothing.

Files are SC's own business. The design's RTL and SDC are SC filesets
(:func:`flow.project.make_design`); the steps that read them (those that need no view from an
earlier node: ``syn``) declare the fileset files as required keys. The PDK files the steps
read are filesets of SC's library schema (lambdapdk's ``sky130hd`` standard-cell library and
``skywater130`` PDK, which the ``skywater130_demo`` target loads; plus the open_pdks KLayout
DRC deck, which lambdapdk does not carry and :func:`flow.project.add_flow_pdk_files` adds to
the PDK object). Every step declares the keys of :data:`PDK_FILES` as required keys
(:func:`pdk_file_keys`), so SC compares those files itself -- by content, as the flow turns on
SC's file hashing (``option,hash``) -- and a changed Liberty file re-runs the steps.

A step that reads a config key outside its declared sections would be reused after that key
changed. The declaration is therefore enforced twice: at run time the step gets a config whose
undeclared sections raise (:meth:`gptnano.design_config.DesignConfig.for_step`), and
``tests/test_step_inputs.py`` reads each step module's source for the sections it names.
"""

from __future__ import annotations

import ast
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from gptnano.design_config import BY_KEY, IDENTITY_KEYS, DesignConfig
from gptnano.paths import REPO_ROOT

FLOW_PACKAGES = ("gptnano", "pnr", "signoff", "dft", "flow")
# Config sections (dotted prefixes of gptnano.design_config.VARIABLES) each step reads beyond
# the identity keys every step sees (name, top, rtl, sdc, clock, corners). A step not listed
# reads the whole config (ALL): safe for a new step, only less precise about re-runs.
ALL = ("",)
STEP_SECTIONS: dict[str, tuple[str, ...]] = {
    "syn": ("synth",),
    "floorplan": ("floorplan",),
    "place": ("placement",),
    "cts": ("cts", "estimate"),
    "rsz": ("rsz", "timing", "estimate"),
    "ant": ("antenna",),
    "route": ("route", "parasitics"),
    "drc_repair": (),
    "fill": (),
    "gds": (),
    "extract": (),
    "sta": ("timing",),
    "power": ("power",),
    "drc_klayout": ("drc",),
    "drc_magic": (),
    "antenna": ("antenna",),
    "lvs": (),
    # the DFT steps (flow.tasks.dft, task names without the nodes' ``dft_`` prefix):
    # dft.config.dft_settings validates the whole ``dft`` mapping, so each reader declares it
    "cut": ("dft",),
    "atpg": ("dft",),
    "chain": ("dft",),
    "asm": (),
}


def sections_of(step: str) -> tuple[str, ...]:
    """The config sections ``step`` reads (:data:`ALL` for a step not in the table)."""
    return STEP_SECTIONS.get(step, ALL)


def _declared(key: str, sections: tuple[str, ...]) -> bool:
    return key in IDENTITY_KEYS or any(
        s == "" or key == s or key.startswith(s + ".") for s in sections)


def settings_json(design: DesignConfig, step: str) -> str:
    """Canonical JSON of every declared key ``step`` reads, at its effective value (the
    config's or the default), so a default made explicit changes nothing."""
    sections = sections_of(step)
    values: dict[str, Any] = {}
    for key in sorted(BY_KEY):
        if _declared(key, sections):
            value = design.setting(key)
            values[key] = ([str(v) for v in value] if isinstance(value, list | tuple)
                           else str(value) if isinstance(value, Path) else value)
    return json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)


# -- code ----------------------------------------------------------------------------------
@cache
def code_meaning(path: Path) -> bytes:
    """A Python file by what it does: its syntax tree without docstrings and positions
    (comments are not in the tree), so editing a docstring or a comment re-runs nothing.
    A file that does not parse is taken byte for byte (the run will fail on it anyway)."""
    text = path.read_bytes()
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, include_attributes=False).encode()


def _module_file(dotted: str, root: Path) -> Path | None:
    parts = dotted.split(".")
    if parts[0] not in FLOW_PACKAGES:
        return None
    base = root.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@cache
def _imports(path: Path, root: Path) -> frozenset[Path]:
    """Flow-package files ``path`` imports (``import a.b``, ``from a.b import c`` where ``c``
    may itself be a module), with the packages' ``__init__`` files on the way."""
    try:
        tree = ast.parse(path.read_bytes())
    except SyntaxError:
        return frozenset()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    found: set[Path] = set()
    for name in names:
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            f = _module_file(".".join(parts[:depth]), root)
            if f is not None:
                found.add(f)
    return frozenset(found)


def module_closure(modules: tuple[str, ...], root: Path = REPO_ROOT) -> list[Path]:
    """Every flow-package file the ``modules`` import, transitively, plus the data files
    (Tcl, DRC decks, templates; not the ``.md`` documentation) of each package folder
    reached, sorted."""
    todo = [f for m in modules if (f := _module_file(m, root)) is not None]
    seen: set[Path] = set()
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        todo.extend(_imports(f, root) - seen)
    data = {p for f in seen for p in f.parent.iterdir()
            if p.is_file() and p.suffix not in (".py", ".pyc", ".md")}
    return sorted(seen | data)


def _digest(files: list[Path], root: Path) -> str:
    digest = hashlib.sha256()
    for f in files:
        if f.is_file():
            digest.update(str(f.relative_to(root) if f.is_relative_to(root) else f).encode())
            digest.update(code_meaning(f) if f.suffix == ".py" else f.read_bytes())
    return digest.hexdigest()


def code_digest(module: str | None, root: Path = REPO_ROOT) -> str:
    """Digest of what the step module and the task framework do (:func:`module_closure`);
    for a task whose module is not known (``None``), of every flow package."""
    if module is None:
        return _digest(sorted(f for pkg in FLOW_PACKAGES for f in (root / pkg).rglob("*")
                              if f.is_file() and "tests" not in f.relative_to(root).parts
                              and "__pycache__" not in f.parts
                              and f.suffix not in (".pyc", ".md")), root)
    return _digest(module_closure((module, "flow.tasks.base", "flow.tasks.steps"), root), root)


# -- PDK -----------------------------------------------------------------------------------
# Library role (SC's ``asic,mainlib`` / ``asic,pdk``), fileset, filetype: every PDK file the
# embedded steps read, with the accessor that reads it. All steps declare all of them: a
# Liberty/LEF/tech file is read by most steps (synthesis, placement, timing repair, STA, the
# layout database), and a node downstream of a re-run node re-runs anyway.
KLAYOUT_DRC_FILESET = "gptnano.klayout.drc"
PDK_FILES: tuple[tuple[str, str, str], ...] = (
    ("mainlib", "models.timing.slow.nldm", "liberty"),    # gptnano.pdk.liberty_gz("ss")
    ("mainlib", "models.timing.typical.nldm", "liberty"),  # ... ("tt")
    ("mainlib", "models.timing.fast.nldm", "liberty"),    # ... ("ff")
    ("mainlib", "models.physical", "lef"),                # gptnano.pdk.cell_lef
    ("mainlib", "models.physical", "gds"),                # gptnano.pdk.cell_gds
    ("mainlib", "models.lvs", "cdl"),                     # gptnano.pdk.cell_cdl
    ("mainlib", "models.sim", "verilog"),                 # dft.sky130.cell_models
    ("pdk", "views.lef", "lef"),                          # gptnano.pdk.tech_lef
    ("pdk", "magic.drc", "tech"),                         # gptnano.pdk.magic_tech
    ("pdk", "klayout.techmap", "layermap"),               # gptnano.pdk.klayout_tech
    ("pdk", "netgen.lvs", "tcl"),                         # signoff.lvs
    ("pdk", "openroad.pex.minimum", "openrcx"),           # pnr.engine.rcx
    ("pdk", "openroad.pex.typical", "openrcx"),
    ("pdk", "openroad.pex.maximum", "openrcx"),
    ("pdk", KLAYOUT_DRC_FILESET, "drc"),                  # signoff.drc_klayout
)


class PdkSchemaError(RuntimeError):
    """The project's library schema lacks a PDK file the flow reads (names library and key)."""


def pdk_file_keys(project: Any) -> list[tuple[Any, tuple[str, ...]]]:
    """(library object, key) of every :data:`PDK_FILES` entry in ``project``'s schema, for
    :meth:`siliconcompiler.Task.add_required_key`. A project without SC's ASIC schema (a
    plain ``Project`` that runs single tasks in a test) has no PDK to declare: ``[]``."""
    if not project.valid("asic", "mainlib"):
        return []
    out = []
    for role, fileset, filetype in PDK_FILES:
        name = project.get("asic", role)
        if not name or name not in project.getkeys("library"):
            raise PdkSchemaError(f"the project has no {role} library ([asic,{role}] = {name!r})")
        lib = project.get_library(name)
        key = ("fileset", fileset, "file", filetype)
        if not lib.valid(*key, check_complete=True) or not lib.get(*key):
            raise PdkSchemaError(f"library {name} has no [{','.join(key)}] (a PDK file the "
                                 "flow reads, flow.tasks.inputs.PDK_FILES)")
        out.append((lib, key))
    return out
