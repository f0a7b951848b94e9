"""SiliconCompiler (0.38) tasks for the DFT steps: one ``Task`` subclass per step.

Each task runs its :mod:`dft.steps` module in Python (``run()``), in the node's folder, with a
:class:`pnr.engine.context.StepContext` built from the design configuration named by the task
parameter ``design_config``. Inputs and outputs are declared in ``setup()``: the views the step
needs, the views it produces, and the pass-through views it copies (:data:`PASSTHROUGH`) when the
previous node provides them, so SiliconCompiler finds exactly the declared files in
``outputs/``.

The flow helper inserts them between ``syn`` and ``floorplan`` with :func:`add_dft_nodes` and
points them at the design with :func:`configure_dft` once the flow is set on the project.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

from dft.steps import asm, atpg, chain, cut
from dft.steps.common import PASSTHROUGH
from pnr.design_config import load_design
from pnr.engine.context import StepContext
from siliconcompiler import Task


class DftTask(Task):
    """Base: a DFT step run in Python; subclasses set ``STEP``, ``NAME`` and ``REQUIRES``."""

    STEP: ModuleType
    NAME = ""
    REQUIRES: tuple[str, ...] = ()

    def __init__(self):
        super().__init__()
        self.add_parameter("design_config", "str",
                           "path of the design's config.yaml (pnr.design_config)")

    def tool(self) -> str:
        return "dft"

    def task(self) -> str:
        return self.NAME

    def setup(self) -> None:
        super().setup()
        self.set_threads(1)
        self.add_required_key("var", "design_config")
        top = self.design_topmodule
        available = {f[len(top) + 1:] for f in self.get_files_from_input_nodes()
                     if f.startswith(top + ".")}
        produced = [e for e in self.STEP.PRODUCES if e != "sdc" or "sdc" in available]
        for ext in self.REQUIRES:
            self.add_input_file(ext=ext)
        for ext in PASSTHROUGH:
            if ext in available and ext not in self.REQUIRES:
                self.add_input_file(ext=ext)
        for ext in sorted(set(produced) | {e for e in PASSTHROUGH if e in available}):
            self.add_output_file(ext=ext)

    def run(self) -> int:
        design = load_design(self.get("var", "design_config"))
        ctx = StepContext(design=design, workdir=Path.cwd())
        metrics = self.STEP.run(ctx)
        Path("reports").mkdir(exist_ok=True)
        (Path("reports") / f"dft_{self.NAME}_metrics.json").write_text(json.dumps(metrics))
        for name, value in metrics.items():
            self.logger.info(f"{name}: {value}")
        return 0


class CutTask(DftTask):
    """Fault ``cut``: flip-flops become pseudo inputs/outputs (``<top>.cut.v``)."""

    STEP = cut
    NAME = "cut"
    REQUIRES = ("vg",)


class AtpgTask(DftTask):
    """SAT-based stuck-at ATPG on the cut netlist (``<top>.tv.json``, Fault format)."""

    STEP = atpg
    NAME = "atpg"
    REQUIRES = ("cut.v", "vg")


class ChainTask(DftTask):
    """Scan flops + ``dft.chains`` chains on the netlist (``<top>.vg``, ``<top>.scan.json``)."""

    STEP = chain
    NAME = "chain"
    REQUIRES = ("vg",)


class AsmTask(DftTask):
    """Vectors to chain bit streams (``<top>.patterns.json``/``.txt``)."""

    STEP = asm
    NAME = "asm"
    REQUIRES = ("tv.json", "scan.json")


TASKS: tuple[type[DftTask], ...] = (CutTask, AtpgTask, ChainTask, AsmTask)


def add_dft_nodes(flow, after: str, prefix: str = "dft_") -> str:
    """Add the four DFT nodes after node ``after`` (index 0) and return the last step name;
    the caller connects it to the next step (``floorplan``)."""
    previous = after
    for cls in TASKS:
        step = f"{prefix}{cls.NAME}"
        flow.node(step, cls())
        flow.edge(previous, step)
        previous = step
    return previous


def configure_dft(project, design_config: Path | str) -> None:
    """Point every DFT task of the project's flow at the design configuration file."""
    for cls in TASKS:
        cls.find_task(project).set("var", "design_config", str(design_config))
