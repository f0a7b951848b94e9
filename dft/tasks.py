"""SiliconCompiler (0.38) tasks for the DFT steps: one ``Task`` subclass per step.

Each task runs its :mod:`dft.steps` module in Python (``run()``), in the node's folder, with a
:class:`gptnano.step.StepContext` built from the design configuration named by the task
parameter ``design_config``. Inputs and outputs are declared in ``setup()``: the views the step
needs, the views it produces, and the pass-through views it copies (:data:`PASSTHROUGH`) when the
previous node provides them, so SiliconCompiler finds exactly the declared files in
``outputs/``.

The flow helper inserts them between ``syn`` and ``floorplan`` with :func:`add_dft_nodes` and
points them at the design with :func:`configure_dft` once the flow is set on the project.

Metrics: SC 0.38's metric schema is a fixed set (``cells``, ``registers``, ``setupwns``, ...)
with nothing for test. :func:`configure_dft` therefore adds the DFT metrics of
:data:`SC_DFT_METRICS` to the project's metric schema (per-node parameters like SC's own), and
each node records its values there, so they sit in the job manifest ``<design>.pkg.json``
under ``metric/<name>/node/<step>/<index>``, next to SC's ``tasktime``. The chain node also
fills SC's standard ``registers`` with the scanned flop count. The full step metrics stay in
``reports/dft_<step>_metrics.json`` (:mod:`dft.summary` reads those).
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from siliconcompiler.schema import EditableSchema, Parameter, PerNode, Scope

from dft.steps import asm, atpg, chain, cut
from dft.steps.common import PASSTHROUGH
from dft.summary import write_step_metrics
from gptnano.design_config import load_design
from gptnano.step import StepContext
from siliconcompiler import Task

# step metric key -> (SC metric name, SC type, unit, help). SC metric names are lower-case
# words without separators (``setupwns``), hence ``dftcoverage`` etc.
SC_DFT_METRICS: dict[str, tuple[str, str, str | None, str]] = {
    "dft_stuck_at_coverage": ("dftcoverage", "float<0.0..>", "%",
                              "stuck-at fault coverage: detected / all faults"),
    "dft_test_coverage": ("dfttestcoverage", "float<0.0..>", "%",
                          "stuck-at test coverage: detected / faults not proven untestable"),
    "dft_untestable": ("dftuntestable", "int<0..>", None, "faults proven untestable"),
    "dft_vectors": ("dftvectors", "int<0..>", None, "ATPG test vectors (patterns)"),
    "dft_scan_flops": ("dftscanflops", "int<0..>", None, "flip-flops on the scan chains"),
    "dft_chains": ("dftchains", "int<0..>", None, "number of scan chains"),
    "dft_max_chain_length": ("dftchainlength", "int<0..>", None, "longest scan chain"),
    "dft_test_cycles": ("dfttestcycles", "int<0..>", None,
                        "tester clock cycles to apply every pattern"),
}
# step metric key -> SC's own metric
SC_STANDARD_METRICS = {"dft_scan_flops": "registers"}


class DftTask(Task):
    """Base: a DFT step run in Python; subclasses set ``STEP``, ``NAME`` and ``REQUIRES``."""

    STEP: ModuleType
    NAME = ""
    REQUIRES: tuple[str, ...] = ()

    def __init__(self):
        super().__init__()
        self.add_parameter("design_config", "str",
                           "path of the design's config.yaml (gptnano.design_config)")

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
        source = str(write_step_metrics(Path.cwd(), self.NAME, metrics).relative_to(Path.cwd()))
        known = set(self.schema_metric.getkeys())  # ``registers`` exists for ASIC projects only
        for key, value in metrics.items():
            self.logger.info(f"{key}: {value}")
            for metric in (SC_DFT_METRICS.get(key, ("",))[0], SC_STANDARD_METRICS.get(key)):
                if metric in known:
                    unit = self.schema_metric.get(metric, field="unit")
                    self.record_metric(metric, value, source_file=source, source_unit=unit)
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


def register_dft_metrics(project) -> None:
    """Add :data:`SC_DFT_METRICS` to the project's metric schema (idempotent)."""
    schema = project.get("metric", field="schema")
    known = set(schema.getkeys())
    editable = EditableSchema(schema)
    for name, sctype, unit, text in SC_DFT_METRICS.values():
        if name in known:
            continue
        editable.insert(name, Parameter(
            sctype, unit=unit, scope=Scope.JOB, pernode=PerNode.REQUIRED,
            shorthelp=f"Metric: {text}", help=f"Metric (gpt-nano-asic DFT): {text}."))


def configure_dft(project, design_config: Path | str) -> None:
    """Point every DFT task of the project's flow at the design configuration file and make
    room for the DFT metrics in the manifest."""
    register_dft_metrics(project)
    for cls in TASKS:
        cls.find_task(project).set("var", "design_config", str(design_config))
