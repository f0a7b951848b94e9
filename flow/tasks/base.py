"""EngineTask: one SiliconCompiler task wrapping one engine step module (``run(ctx) -> metrics``).

Why one generic wrapper: the engine steps already share a contract (``pnr.engine``): views
``<top>.<ext>`` in ``inputs/`` -> ``outputs/``, reports in ``reports/``, metrics returned as a
dict. A SiliconCompiler node has exactly that folder layout, so the wrapper only has to

* declare to SiliconCompiler the views the step needs (``NEEDS``) and makes (``MAKES``), plus
  the views it passes on unchanged (every other view the input nodes provide) -- SiliconCompiler
  copies only declared inputs and fails a node that leaves undeclared files in ``outputs/``;
* run the step in the node folder and copy the pass-through views;
* name the step's metrics in the registry's vocabulary (:func:`gptnano.metrics.from_engine`:
  the engine steps keep their own return keys, this is the one boundary that maps them) and
  record them in the SiliconCompiler manifest (:mod:`flow.tasks.metrics`) and in
  ``reports/metrics.json`` (read by :mod:`flow.summary`, also when the run failed);
* fail the node when a signoff criterion is violated (:meth:`EngineTask.violations`): the
  metrics are recorded first so the failure is visible in ``signoff.json``.
"""

from __future__ import annotations

import importlib
import os
import shutil
import time
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from flow.tasks.inputs import pdk_file_keys, sections_of
from flow.tasks.metrics import record_all
from gptnano import metrics as registry
from gptnano.design_config import load_design
from gptnano.fileio import atomic_write_json
from gptnano.proc import StepDied, run_measured
from gptnano.sdc_check import check_constraints
from gptnano.step import StepContext
from siliconcompiler import Task

METRICS_FILE = "metrics.json"
TOOL = "gptnano"


def write_status(reports: Path, status: str, step: str, index: str, metrics: dict[str, Any],
                 runtime_s: float | None, error: str | None = None,
                 details: dict[str, Any] | None = None,
                 peak_memory_mb: float | None = None) -> None:
    """``reports/metrics.json``: status is ``running`` until the step ends (a killed node keeps
    ``running``, which the summary reports as not finished). ``metrics`` carries registry names
    only; ``details`` the step's other return values (diagnostics, not tracked)."""
    reports.mkdir(parents=True, exist_ok=True)
    body = {"step": step, "index": index, "status": status, "runtime_s": runtime_s,
            "peak_memory_mb": peak_memory_mb,
            "metrics": metrics, "details": details or {}, "error": error}
    atomic_write_json(reports / METRICS_FILE, body, newline=False, default=str)


class EngineTask(Task):
    """Base class; subclasses set ``NAME``, ``MODULE`` (dotted), ``NEEDS`` and ``MAKES``."""

    NAME = ""
    MODULE = ""
    NEEDS: tuple[str, ...] = ()
    MAKES: tuple[str, ...] = ()
    # Views never passed on: SiliconCompiler's own manifest copy.
    NEVER_PASS = ("pkg.json",)

    def __init__(self) -> None:
        super().__init__()
        self.add_parameter("design_config", "str",
                           "path of the design's config.yaml (gptnano.design_config)")
        # What SC compares to decide whether the node re-runs (flow.tasks.inputs).
        self.add_parameter("settings", "str", "config values this step reads (canonical JSON)")
        self.add_parameter("code", "str", "digest of this step's code by meaning")

    def tool(self) -> str:
        return TOOL

    def task(self) -> str:
        return self.NAME

    # -- SiliconCompiler hooks -------------------------------------------------------------
    def available_views(self) -> set[str]:
        """Extensions of the ``<top>.<ext>`` files the input nodes provide."""
        top = self.design_topmodule
        return {f[len(top) + 1:] for f in self.get_files_from_input_nodes()
                if f.startswith(top + ".") and f[len(top) + 1:] not in self.NEVER_PASS}

    def passthrough(self) -> list[str]:
        return sorted(self.available_views() - set(self.MAKES))

    def setup(self) -> None:
        super().setup()
        self.set_threads(1)
        for var in ("design_config", "settings", "code"):
            self.add_required_key("var", var)
        for obj, key in pdk_file_keys(self.project):  # the PDK files, from SC's library schema
            self.add_required_key(obj, *key)
        if not self.NEEDS:  # a step that starts from the design's sources (syn)
            for obj, key in (self.get_fileset_file_keys("verilog")
                             + self.get_fileset_file_keys("sdc")):
                self.add_required_key(obj, *key)
        for ext in self.NEEDS:
            self.add_input_file(ext=ext)
        for ext in self.passthrough():
            if ext not in self.NEEDS:
                self.add_input_file(ext=ext)
        for ext in sorted(set(self.MAKES) | set(self.passthrough())):
            self.add_output_file(ext=ext)

    def engine_module(self) -> ModuleType:
        return importlib.import_module(self.MODULE)

    def call_engine(self, ctx: StepContext) -> dict[str, Any]:
        """Run the engine step; subclasses override to pass extra arguments (the corner)."""
        return self.engine_module().run(ctx)

    def record_metrics(self, named: dict[str, Any]) -> None:
        """Record the step's registry metrics in SC's manifest (:mod:`flow.tasks.metrics`)."""
        record_all(self, named)

    def violations(self, metrics: dict[str, Any]) -> list[str]:
        """Signoff criteria this step's metrics violate (empty = pass). Overridden by the
        checking steps; a violation fails the node."""
        return []

    def run(self) -> int:
        workdir = Path(os.getcwd())
        reports = workdir / "reports"
        write_status(reports, "running", self.step, self.index, {}, None)
        design = load_design(self.get("var", "design_config")).for_step(
            self.NAME, sections_of(self.NAME))
        ctx = StepContext(design=design, workdir=workdir, threads=1)
        start = time.monotonic()
        try:
            # In a child process, so a step the OS kills (out of memory) is reported with its
            # signal and peak memory instead of staying "running" (gptnano.proc).
            result, peak_mb = run_measured(f"{self.step}/{self.index}", self.call_engine, ctx)
            metrics = dict(result)
            if {"vg", "sdc"} <= set(self.MAKES):  # a new netlist: the user's SDC must fit it
                check_constraints("tt", ctx.output("vg"), ctx.top, design.sdc,
                                  design.clock_port, reports)
        except Exception as exc:  # the step's own error message names tool and log
            runtime = round(time.monotonic() - start, 2)
            error = str(exc) if isinstance(exc, StepDied) else f"{type(exc).__name__}: {exc}"
            write_status(reports, "error", self.step, self.index, {}, runtime, error)
            (reports / "traceback.txt").write_text(
                getattr(exc, "child_traceback", None) or traceback.format_exc())
            self.logger.error(f"{self.step}/{self.index}: {exc} "
                              f"(traceback: {reports / 'traceback.txt'})")
            return 1
        runtime = round(time.monotonic() - start, 2)
        for ext in self.passthrough():
            src = ctx.inputs_dir / f"{ctx.top}.{ext}"
            dst = ctx.outputs_dir / f"{ctx.top}.{ext}"
            if src.is_file() and not dst.exists():
                shutil.copy2(src, dst)
        named, details = registry.from_engine(self.NAME, self.index, metrics)
        self.record_metrics(named)
        problems = self.violations(metrics)
        write_status(reports, "failed" if problems else "ok", self.step, self.index, named,
                     runtime, "; ".join(problems) or None, details, peak_mb)
        for key, value in named.items():
            self.logger.info(f"{key}: {value}")
        if problems:
            for p in problems:
                self.logger.error(f"signoff violation in {self.step}/{self.index}: {p}")
            return 1
        return 0
