"""The DFT steps as flow tasks: one :class:`~flow.tasks.base.EngineTask` per :mod:`dft.steps`
module, inserted between ``syn`` and ``floorplan`` when DFT is on.

Why they are plain engine tasks: a DFT step has the engine's contract (views ``<top>.<ext>`` in
``inputs/`` -> ``outputs/``, ``run(ctx) -> metrics``), so the flow's one task class declares
their views, runs them in a child process, passes the other views on and records the metrics
like any other node. (DFT used to carry its own copy of that wrapper, ``dft.tasks.DftTask``.)
What is added here is DFT's own bookkeeping:

* each step's full metrics go to ``reports/dft_<step>_metrics.json`` (:mod:`dft.summary`
  builds ``dft.json`` from those files, in the flow and in ``python -m dft.run`` alike);
* the registry names of their metrics (``dft__stuck_at__coverage``, ...) come from
  :func:`gptnano.metrics.from_engine` like every step's, into ``reports/metrics.json``;
* SiliconCompiler 0.38's metric schema is a fixed set (``cells``, ``registers``,
  ``setupwns``, ...) with nothing for test: :func:`configure_dft` adds the metrics of
  :data:`SC_DFT_METRICS` to the project's schema (per-node parameters like SC's own), and each
  node records its registry metrics there, so they sit in the job manifest
  ``<design>.pkg.json`` under ``metric/<name>/node/<step>/<index>``; the chain node also fills
  SC's ``registers`` with the scanned flop count (:data:`flow.tasks.metrics.SC_METRICS`).

:data:`TASKS` is the one ordered list of DFT steps: the SiliconCompiler flow
(:func:`add_dft_nodes`) and the standalone run (:mod:`flow.run_dft`) both walk it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from siliconcompiler.schema import EditableSchema, Parameter, PerNode, Scope

from dft.summary import write_step_metrics
from flow.tasks.base import EngineTask
from gptnano import metrics as registry
from gptnano.step import StepContext

# registry metric -> (SC metric name, SC type, unit, help). SC metric names are lower-case
# words without separators (``setupwns``), hence ``dftcoverage`` etc.
SC_DFT_METRICS: dict[str, tuple[str, str, str | None, str]] = {
    name: (sc, sctype, unit, registry.REGISTRY[name].description)
    for name, sc, sctype, unit in (
        ("dft__stuck_at__coverage", "dftcoverage", "float<0.0..>", "%"),
        ("dft__test__coverage", "dfttestcoverage", "float<0.0..>", "%"),
        ("dft__untestable_fault__count", "dftuntestable", "int<0..>", None),
        ("dft__pattern__count", "dftvectors", "int<0..>", None),
        ("dft__scan_flop__count", "dftscanflops", "int<0..>", None),
        ("dft__scan_chain__count", "dftchains", "int<0..>", None),
        ("dft__scan_chain__length__max", "dftchainlength", "int<0..>", None),
        ("dft__test_cycle__count", "dfttestcycles", "int<0..>", None),
    )}
FLOW_PREFIX = "dft_"


class DftStepTask(EngineTask):
    """A :mod:`dft.steps` module as a flow node; subclasses set ``NAME``, ``MODULE``,
    ``NEEDS`` and ``MAKES`` (the module's ``PRODUCES``)."""

    def call_engine(self, ctx: StepContext) -> dict[str, Any]:
        """Run the step and keep its full metrics in ``reports/`` (runs in the node's child
        process, so the file exists exactly when the step finished)."""
        metrics = self.engine_module().run(ctx)
        write_step_metrics(ctx.workdir, self.NAME, metrics)
        return metrics

    def record_metrics(self, named: dict[str, Any]) -> None:
        """SC's own metrics (:mod:`flow.tasks.metrics`: the chain node's ``registers``), then
        the test metrics of :data:`SC_DFT_METRICS` that :func:`configure_dft` added."""
        super().record_metrics(named)
        known = set(self.schema_metric.getkeys())
        for name, value in named.items():
            metric, _, unit, _ = SC_DFT_METRICS.get(name, ("", "", None, ""))
            if metric in known:
                self.record_metric(metric, value, source_file="reports/metrics.json",
                                   source_unit=unit)


def _step_task(name: str, needs: tuple[str, ...], makes: tuple[str, ...],
               doc: str) -> type[DftStepTask]:
    """The task class of DFT step ``name`` (module ``dft.steps.<name>``)."""
    attrs = {"NAME": name, "MODULE": f"dft.steps.{name}", "NEEDS": needs, "MAKES": makes,
             "__doc__": doc, "__module__": __name__}
    return type(f"{name.capitalize()}Task", (DftStepTask,), attrs)


# The DFT steps in flow order: (name, views it reads, views it writes, what it does).
CutTask = _step_task("cut", ("vg",), ("cut.v",),
                     "Fault ``cut``: flip-flops become pseudo inputs/outputs (``<top>.cut.v``).")
AtpgTask = _step_task("atpg", ("cut.v", "vg"), ("tv.json",),
                      "SAT-based stuck-at ATPG on the cut netlist (``<top>.tv.json``).")
# chain reads the SDC it rewrites (SC copies only declared inputs)
ChainTask = _step_task("chain", ("vg", "sdc"), ("vg", "scan.json", "sdc"),
                       "Scan flops + ``dft.chains`` chains on the netlist (``<top>.vg``, "
                       "``<top>.scan.json``) and the scan enable tied off in the SDC.")
AsmTask = _step_task("asm", ("tv.json", "scan.json"), ("patterns.json", "patterns.txt"),
                     "Vectors to chain bit streams (``<top>.patterns.json``/``.txt``).")
TASKS: tuple[type[DftStepTask], ...] = (CutTask, AtpgTask, ChainTask, AsmTask)


def add_dft_nodes(flow: Any, after: str, prefix: str = FLOW_PREFIX) -> str:
    """Add the four DFT nodes after node ``after`` (index 0) and return the last step name;
    the caller connects it to the next step (``floorplan``)."""
    previous = after
    for cls in TASKS:
        step = f"{prefix}{cls.NAME}"
        flow.node(step, cls())
        flow.edge(previous, step)
        previous = step
    return previous


def register_dft_metrics(project: Any) -> None:
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


def configure_dft(project: Any, design_config: Path | str) -> None:
    """Point every DFT task of the project's flow at the design configuration file and make
    room for the DFT metrics in the manifest."""
    register_dft_metrics(project)
    for cls in TASKS:
        cls.find_task(project).set("var", "design_config", str(design_config))
