"""Build the SiliconCompiler project and flowgraph for one design configuration.

Two engines:

* ``embedded`` -- the tools that install from Debian/PyPI here (yosys 0.23, our placer, CTS and
  router, KLayout, Magic, Netgen, OpenSTA 2019), each step a :mod:`flow.tasks` class. SC's own
  stock tasks reject these tool versions, hence our tasks.
* ``openroad`` -- SC's stock ``asicflow`` (yosys >= 0.48, OpenROAD, KLayout) for the
  ``skywater130_demo`` target. Needs OpenROAD installed (not installable from the registries
  this project may use), so it is selected only when the tools are found.

``auto`` picks ``openroad`` when :func:`openroad_available` says its tools are present, else
``embedded``. Both engines share the project set-up (design files, SDC, PDK, corners) and the
build folder layout ``<build>/<design>/<job>/<step>/<index>/`` (SC's own), so runs resume with
SC's ``from``/``to`` and never overwrite another job.

The PDK: the ``skywater130_demo`` target names the ``lambdapdk`` data root; every library is
pointed at the local copy (:func:`gptnano.paths.lambdapdk_root`) so SC never downloads it.
"""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType

from flow.tasks import inputs
from flow.tasks.base import TOOL, EngineTask
from flow.tasks.dft import FLOW_PREFIX as DFT_PREFIX
from flow.tasks.dft import TASKS as DFT_TASKS
from flow.tasks.steps import CHECK_TASKS, LAYOUT_TASKS, PowerTask, StaTask, SynTask
from gptnano.design_config import DesignConfig
from gptnano.paths import build_root, lambdapdk_root, open_pdks_dir
from siliconcompiler import ASIC, Design, Flowgraph

ENGINES = ("embedded", "openroad", "auto")
FLOW_NAME = "gptnano_embedded"
# Minimum versions SC 0.38's stock tasks accept (measured: they reject Debian's yosys 0.23).
OPENROAD_MIN_YOSYS = (0, 48)


TASK_MODULES = {cls.NAME: cls.MODULE
                for cls in (SynTask, *LAYOUT_TASKS, *CHECK_TASKS, StaTask, PowerTask, *DFT_TASKS)}


class FlowError(RuntimeError):
    """The flow cannot be built as asked (engine not available, unknown step)."""


# -- engine selection -----------------------------------------------------------------------
def tool_version(exe: str, args: tuple[str, ...] = ("-V",)) -> tuple[int, ...] | None:
    """First ``x.y[.z]`` number the tool prints for ``args``; ``None`` if it cannot run."""
    try:
        proc = subprocess.run([exe, *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", proc.stdout + proc.stderr)
    return tuple(int(g) for g in m.groups() if g is not None) if m else None


def openroad_available(which: Callable[[str], str | None] = shutil.which,
                       version: Callable[[str], tuple[int, ...] | None] = tool_version
                       ) -> tuple[bool, str]:
    """Whether SC's stock flow can run here, and why not."""
    for exe in ("openroad", "yosys", "klayout"):
        if which(exe) is None:
            return False, f"'{exe}' not found on PATH"
    yosys = version("yosys")
    if yosys is None or yosys[:2] < OPENROAD_MIN_YOSYS:
        return False, (f"yosys {'.'.join(map(str, yosys or ()))} is older than "
                       f"{'.'.join(map(str, OPENROAD_MIN_YOSYS))} (SC's stock synthesis)")
    return True, "openroad, yosys and klayout found"


def select_engine(requested: str, available: Callable[[], tuple[bool, str]] = openroad_available
                  ) -> tuple[str, str]:
    """(engine, reason). ``openroad`` requested but unavailable is an error, not a fallback."""
    if requested not in ENGINES:
        raise FlowError(f"unknown engine '{requested}'; choose one of {', '.join(ENGINES)}")
    if requested == "embedded":
        return "embedded", "requested"
    ok, why = available()
    if requested == "openroad":
        if not ok:
            raise FlowError(f"engine 'openroad' requested but not available: {why}")
        return "openroad", "requested"
    return ("openroad", f"auto: {why}") if ok else ("embedded", f"auto: {why}")


# -- flowgraph ------------------------------------------------------------------------------
@dataclass
class FlowPlan:
    """What the embedded flowgraph contains: every step of the flow, always (an engine module
    that cannot be imported is an error, :func:`import_step_modules`)."""

    steps: list[str] = field(default_factory=list)   # step names in order (sta once)
    corners: tuple[str, ...] = ()
    dft_steps: list[str] = field(default_factory=list)

    def nodes(self) -> list[tuple[str, str]]:
        """Every (step, index) of the flowgraph in flow order."""
        out = []
        for step in self.steps:
            if step == "sta":
                out.extend(("sta", c) for c in self.corners)
            else:
                out.append((step, "0"))
            if step == SynTask.NAME:
                out.extend((s, "0") for s in self.dft_steps)
        return out


def plan_embedded(design: DesignConfig, dft: bool) -> FlowPlan:
    """The embedded flow's steps: synthesis, [DFT,] the layout chain, the checks, STA at the
    design's corners and power."""
    plan = FlowPlan(corners=tuple(design.corners))
    plan.steps = [SynTask.NAME, *(cls.NAME for cls in (*LAYOUT_TASKS, *CHECK_TASKS)),
                  StaTask.NAME, PowerTask.NAME]
    if dft:
        plan.dft_steps = [f"{DFT_PREFIX}{cls.NAME}" for cls in DFT_TASKS]
    return plan


def step_modules(plan: FlowPlan) -> dict[str, str]:
    """Flow step -> the engine module its task runs (``MODULE``, read at call time)."""
    tasks = {cls.NAME: cls.MODULE
             for cls in (SynTask, *LAYOUT_TASKS, *CHECK_TASKS, StaTask, PowerTask)}
    tasks.update({f"{DFT_PREFIX}{cls.NAME}": cls.MODULE for cls in DFT_TASKS})
    return {step: tasks[step] for step in [*plan.steps, *plan.dft_steps]}


def import_step_modules(plan: FlowPlan,
                        load: Callable[[str], ModuleType] = importlib.import_module) -> None:
    """Import the engine module of every step of ``plan`` before anything runs: one that
    cannot be imported (absent, a syntax error, a missing dependency) is a :class:`FlowError`
    naming the step, the module and the cause in one line."""
    for step, module in step_modules(plan).items():
        try:
            load(module)
        except Exception as exc:  # any import failure: the cause is in the message
            cause = " ".join(str(exc).split())
            raise FlowError(f"step '{step}': engine module {module} cannot be imported: "
                            f"{type(exc).__name__}{': ' + cause if cause else ''}") from None


def build_embedded_flow(plan: FlowPlan) -> Flowgraph:
    """syn -> [dft] -> floorplan -> place -> cts -> rsz -> ant -> route -> drc_repair -> fill ->
    gds -> extract, then the checks (sta per corner, power, drc_klayout, drc_magic, lvs) in
    parallel on extract's views."""
    by_name: dict[str, type[EngineTask]] = {
        cls.NAME: cls for cls in (SynTask, *LAYOUT_TASKS, *CHECK_TASKS, StaTask, PowerTask)}
    flow = Flowgraph(FLOW_NAME)
    flow.node(SynTask.NAME, SynTask())
    previous = SynTask.NAME
    if plan.dft_steps:
        from flow.tasks.dft import add_dft_nodes

        previous = add_dft_nodes(flow, previous)
        if previous != plan.dft_steps[-1]:
            raise FlowError(f"DFT chain ends at '{previous}', expected '{plan.dft_steps[-1]}'")
    chain = [s for s in plan.steps if s in {c.NAME for c in LAYOUT_TASKS}]
    for step in chain:
        flow.node(step, by_name[step]())
        flow.edge(previous, step)
        previous = step
    for step in plan.steps:
        if step in chain or step == SynTask.NAME:
            continue
        if step == StaTask.NAME:
            for corner in plan.corners:
                flow.node(step, StaTask(), index=corner)
                flow.edge(previous, step, head_index=corner)
        else:
            flow.node(step, by_name[step]())
            flow.edge(previous, step)
    return flow


# -- project --------------------------------------------------------------------------------
def declare_step_inputs(project: ASIC, design: DesignConfig, task: str) -> None:
    """Set the task vars SiliconCompiler compares to decide whether ``task``'s nodes re-run:
    the config values it reads and its code (:mod:`flow.tasks.inputs`; the PDK files are
    library filesets, :func:`add_flow_pdk_files`)."""
    values = {"settings": inputs.settings_json(design, task),
              "code": inputs.code_digest(TASK_MODULES.get(task))}
    for var, value in values.items():
        project.set("tool", TOOL, "task", task, "var", var, value)


def point_pdk_at_local_copy(project: ASIC) -> None:
    """Every library that uses the ``lambdapdk`` data root reads the shared local copy."""
    root = str(lambdapdk_root())
    for name in project.getkeys("library"):
        lib = project.get_library(name)
        if "lambdapdk" in lib.getkeys("dataroot"):
            lib.set_dataroot("lambdapdk", path=root, tag=None, clobber=True)


def add_flow_pdk_files(project: ASIC) -> None:
    """PDK files the embedded steps read that lambdapdk's schema does not carry, as filesets of
    the project's PDK object (:data:`flow.tasks.inputs.PDK_FILES`): open_pdks' KLayout DRC
    deck, under its own data root ``gptnano_open_pdks``."""
    pdk = project.get_library(project.get("asic", "pdk"))
    pdk.set_dataroot("gptnano_open_pdks", path=str(open_pdks_dir()), tag=None, clobber=True)
    with pdk.active_dataroot("gptnano_open_pdks"), pdk.active_fileset(inputs.KLAYOUT_DRC_FILESET):
        pdk.add_file("klayout/sky130.lydrc", filetype="drc", clobber=True)


def make_design(design: DesignConfig) -> Design:
    sc_design = Design(design.name)
    with sc_design.active_fileset("rtl"):
        sc_design.set_topmodule(design.top)
        for f in design.rtl:
            sc_design.add_file(str(f))
    with sc_design.active_fileset("sdc"):
        sc_design.add_file(str(design.sdc), filetype="sdc")
    return sc_design


def base_project(design: DesignConfig, jobname: str = "job0", jobs: int = 2,
                 quiet: bool = False) -> ASIC:
    """The SC project for ``design`` before a flow is set: the design's filesets, the
    ``skywater130_demo`` target's PDK and libraries on the local copy plus the flow's own PDK
    files (:func:`add_flow_pdk_files`), file hashing, area constraints and the job options."""
    from siliconcompiler.targets import skywater130_demo

    project = ASIC(make_design(design))
    project.add_fileset(["rtl", "sdc"])
    skywater130_demo(project)
    point_pdk_at_local_copy(project)
    add_flow_pdk_files(project)
    # SC compares required files (RTL, SDC, PDK) by content, not time stamp, for re-runs
    project.option.set_hash(True)
    area = project.constraint.area
    if "core_utilization" in design.floorplan:
        area.set_density(100 * float(design.floorplan["core_utilization"]))
    if "core_margin_um" in design.floorplan:
        area.set_coremargin(float(design.floorplan["core_margin_um"]))
    project.option.set_builddir(str(build_root()))
    project.option.set_jobname(jobname)
    project.option.scheduler.set_maxnodes(max(1, jobs))
    project.option.set_nodisplay(True)
    project.option.set_quiet(quiet)
    return project


def build_project(design: DesignConfig, engine: str = "embedded", jobname: str = "job0",
                  jobs: int = 2, dft: bool | None = None, quiet: bool = False
                  ) -> tuple[ASIC, FlowPlan | None]:
    """The SC project for ``design`` with the engine's flow set; ``(project, plan)``; the
    plan is ``None`` for the stock openroad flow."""
    project = base_project(design, jobname, jobs, quiet)
    use_dft = bool(design.dft.get("enable", False)) if dft is None else dft
    plan: FlowPlan | None = None
    if engine == "embedded":
        plan = plan_embedded(design, use_dft)
        import_step_modules(plan)
        project.set_flow(build_embedded_flow(plan))
        config = str(design.folder / "config.yaml")
        for task in project.getkeys("tool", TOOL, "task"):
            project.set("tool", TOOL, "task", task, "var", "design_config", config)
            declare_step_inputs(project, design, task)
        if plan.dft_steps:
            from flow.tasks.dft import configure_dft

            configure_dft(project, config)
    elif engine == "openroad":
        if use_dft:
            raise FlowError("DFT insertion is only wired into the embedded flow")
        project.set_flow("asicflow")
    else:
        raise FlowError(f"build_project needs a resolved engine, got '{engine}'")
    return project, plan
