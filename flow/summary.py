"""``build/<design>/signoff.json``: one run's signoff metrics, collected from its nodes.

Every flow node writes ``reports/metrics.json`` (:mod:`flow.tasks.base`: status, runtime, the
step's metrics), also when its check fails; the flow CLI writes ``<job>/gptnano_flow.json``
(engine, planned nodes). This module joins them into the record the dashboard, the goldens and
the nightly regression read (contract in :mod:`reports.collect`). It never invents a value: a
metric a node did not measure is absent from ``metrics``, a node that did not run is listed
under ``not_run``. The verdict: ``flow__complete`` is true when every node of the planned
flowgraph ran (none ``not_run`` or still ``running``; a node that ran and failed counts as run),
so it is false after a ``--to`` run, a killed run, or a node whose failure stopped the nodes
after it; ``flow__passed`` is true only if the flow was complete and every node finished
clean.

Every quantity is under its :mod:`gptnano.metrics` name in ``metrics`` (units there); the
top-level keys are the run's identity and verdict details. ``reports`` maps a metric name to
the report file it was read from.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from design import perf
from gptnano import metrics as m
from gptnano.design_config import DesignConfig
from gptnano.fileio import atomic_write_json, read_json_object
from gptnano.paths import build_root

PLAN_FILE = "gptnano_flow.json"
METRICS_FILE = "metrics.json"


class SummaryError(RuntimeError):
    """The run folder is missing or its records are unreadable (file named)."""


@dataclass
class NodeRecord:
    step: str
    index: str
    status: str          # ok | failed | error | running | not_run
    runtime_s: float | None
    metrics: dict[str, Any]
    error: str | None
    folder: Path
    details: dict[str, Any] = field(default_factory=dict)
    peak_memory_mb: float | None = None

    @property
    def name(self) -> str:
        return self.step if self.index == "0" else f"{self.step}/{self.index}"


def job_dir(design: DesignConfig, jobname: str) -> Path:
    return build_root() / design.name / jobname


def write_plan(job: Path, plan: dict[str, Any]) -> None:
    job.mkdir(parents=True, exist_ok=True)
    atomic_write_json(job / PLAN_FILE, plan)


def read_plan(job: Path) -> dict[str, Any]:
    path = job / PLAN_FILE
    if not path.is_file():
        raise SummaryError(f"{path}: no flow record (run 'python siliconcompiler.py --design "
                           f"{job.parent.name}' first)")
    return _read_json(path)


def _read_json(path: Path) -> dict[str, Any]:
    return read_json_object(path, SummaryError)


SC_STATUS = {"success": "ok", "error": "error", "skipped": "ok", "timeout": "error"}


def read_sc_node(folder: Path, step: str, index: str, sc_name: str) -> NodeRecord:
    """A node that is not one of our EngineTasks (the DFT tasks, SC builtins): its status and
    metrics from the manifest SC writes into the node's ``outputs/`` when it finishes."""
    manifest = folder / "outputs" / f"{sc_name}.pkg.json"
    if not manifest.is_file():
        return NodeRecord(step, index, "not_run", None, {}, None, folder)
    data = _read_json(manifest)
    try:
        sc_status = data["record"]["status"]["node"][step][index]["value"]
    except (KeyError, TypeError):
        return NodeRecord(step, index, "error", None, {}, f"{manifest}: no node status", folder)
    try:  # SC's own metric names stay in SC's manifest: only the node's run time is taken
        runtime = data["metric"]["tasktime"]["node"][step][index]["value"]
    except (KeyError, TypeError):
        runtime = None
    status = SC_STATUS.get(str(sc_status), "error")
    return NodeRecord(step, index, status, round(runtime, 2) if _num(runtime) is not None else None,
                      {}, None if status == "ok" else f"SC status {sc_status}", folder)


def read_node(job: Path, step: str, index: str, sc_name: str = "") -> NodeRecord:
    folder = job / step / index
    path = folder / "reports" / METRICS_FILE
    if not path.is_file():
        return read_sc_node(folder, step, index, sc_name or job.parent.name)
    data = _read_json(path)
    return NodeRecord(step, index, str(data.get("status", "error")), data.get("runtime_s"),
                      dict(data.get("metrics") or {}), data.get("error"), folder,
                      dict(data.get("details") or {}), data.get("peak_memory_mb"))


# ``create_clock ... -period <ns>`` of an SDC (one command a line, as the design SDCs are)
SDC_PERIOD = re.compile(r"^\s*create_clock\b.*?\s-period\s+([0-9]*\.?[0-9]+)", re.M)


def job_clock_period(design: DesignConfig, job: Path) -> float:
    """The clock period ``job`` ran with: the single ``create_clock -period`` of the SDC its
    synthesis passed on (``syn/0/outputs/<top>.sdc``, the file every later step and the STA
    read), else the config's. A job summarized again after its config's clock changed keeps
    its own clock (l1_g2's g2a ran at 45 ns and was re-summarized when the config said 40)."""
    sdc = job / "syn" / "0" / "outputs" / f"{design.top}.sdc"
    try:
        periods = SDC_PERIOD.findall(sdc.read_text(errors="replace"))
    except OSError:
        return design.clock_period_ns
    return float(periods[0]) if len(periods) == 1 else design.clock_period_ns


def _num(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def summarize(design: DesignConfig, job: Path) -> dict[str, Any]:
    """The signoff record of the run in ``job`` (see the module docstring)."""
    plan = read_plan(job)
    out_dir = job.parent
    nodes = {(s, i): read_node(job, s, i, design.name) for s, i in plan["nodes"]}
    metrics: dict[str, Any] = {}
    reports: dict[str, str] = {}

    def node_metric(step: str, name: str, index: str = "0") -> Any:
        node = nodes.get((step, index))
        return node.metrics.get(name) if node else None

    def take(name: str, step: str, report_file: str | None, index: str = "0",
             source: str | None = None) -> bool:
        """Copy registry metric ``source`` (default ``name``) of node step/index into the
        record as ``name``, linking its report; False when the node did not measure it."""
        value = node_metric(step, source or name, index)
        if value is None:
            return False
        metrics[name] = value
        path = job / step / index / "reports" / (report_file or METRICS_FILE)
        if path.is_file():
            reports[name] = os.path.relpath(path, out_dir)
        return True

    corners = list(plan.get("corners", []))
    for c in corners:
        for base, rpt in (("timing__setup__ws", "setup.rpt"), ("timing__setup__tns",
                          "setup_end.rpt"), ("timing__hold__ws", "hold.rpt"),
                          ("timing__hold__tns", "hold.rpt"), ("timing__fmax", "setup.rpt"),
                          ("clock__skew__setup", "clock_skew_setup.rpt"),
                          ("clock__skew__hold", "clock_skew_hold.rpt"),
                          ("clock__insertion_delay__min", None),
                          ("clock__insertion_delay__max", None)):
            take(m.per_corner(base, c), "sta", rpt, c)
    for base in ("timing__setup__ws", "timing__setup__tns", "timing__hold__ws",
                 "timing__hold__tns", "timing__fmax"):
        # unqualified = worst corner (LibreLane's convention)
        value = m.worst((metrics.get(m.per_corner(base, c)) for c in corners),
                        m.REGISTRY[base].better)
        if value is not None:
            metrics[base] = value
    for name in ("power__internal__total", "power__switching__total", "power__dynamic__total",
                 "power__leakage__total", "power__total"):
        take(name, "power", "power.rpt")
    take("synth__design__instance__count", "syn", "stat.rpt")
    take("synth__design__instance__area", "syn", "stat.rpt")
    # logic cells in the layout: after the route step's antenna diodes, timing repair / CTS
    # (their buffers count) when they ran
    if not (take("design__instance__count", "route", "antenna_repair.json")
            or take("design__instance__count", "ant", "antenna_estimate.json")
            or take("design__instance__count", "rsz", "rsz.json")
            or take("design__instance__count", "cts", "cts.json")
            or take("design__instance__count", "floorplan", None)):
        take("design__instance__count", "syn", "stat.rpt", source="synth__design__instance__count")
    for name in ("design__core__area", "design__die__area", "design__instance__utilization"):
        take(name, "floorplan", None)
    take("route__wirelength", "route", "route.rpt")
    take("klayout__drc_error__count", "drc_klayout", "drc_klayout.json")
    take("magic__drc_error__count", "drc_magic", "drc_magic.rpt")
    take("design__lvs__clean", "lvs", "lvs.rpt")
    take("antenna__violating__pins", "antenna", "antenna.json")
    take("antenna__violating__nets", "antenna", "antenna.json")
    take("antenna__diode__count", "ant", "antenna_estimate.json")
    for name in ("route__antenna__violating__pins", "route__antenna_repair__violating__pins",
                 "route__antenna_repair__diode__count"):
        take(name, "route", "antenna_repair.json")
    take("route__drc_repair__shape__count", "drc_repair", None)
    metrics["clock__period"] = job_clock_period(design, job)
    model_to_chip = model_figures(design, metrics, corners, metrics["clock__period"])
    if model_to_chip is not None:
        metrics.update(model_to_chip.pop("metrics", {}))

    # The gds step's own output (later nodes only carry copies of it).
    gds_path = job / "gds" / "0" / "outputs" / f"{design.top}.gds"
    gds = os.path.relpath(gds_path, out_dir) if gds_path.is_file() else None

    failures = [f"{n.name}: {n.error or n.status}" for n in nodes.values()
                if n.status in ("failed", "error")]
    not_run = [n.name for n in nodes.values() if n.status in ("not_run", "running")]
    metrics["flow__complete"] = not not_run
    metrics["flow__passed"] = not failures and not not_run
    for n in nodes.values():
        if n.runtime_s is not None:
            metrics[m.qualified("runtime__total", "step", n.name)] = n.runtime_s
        if n.peak_memory_mb is not None:
            metrics[m.qualified("memory__peak", "step", n.name)] = n.peak_memory_mb
    sta = nodes.get(("sta", corners[0])) if corners else None
    return {
        "design": design.name,
        "top": design.top,
        "job": job.name,
        "engine": plan.get("engine"),
        "failures": failures,
        "not_run": not_run,
        # "report": setup slack at this clock is shown, not a pass criterion (hold always is)
        "setup_mode": design.setup_mode,
        "sta_parasitics": sta.details.get("parasitics") if sta else None,
        "gds": gds,
        # the model on this chip (design/perf.py): config, variant, work per token, or the
        # reason the model__* metrics are absent
        "model_to_chip": model_to_chip,
        # every quantity under its gptnano.metrics name (units in the registry)
        "metrics": metrics,
        "reports": reports,
    }


def model_figures(design: DesignConfig, metrics: dict[str, Any], corners: list[str],
                  period_ns: float | None = None) -> dict[str, Any] | None:
    """The model-to-chip record of a design that names a model ``variant`` (None otherwise).

    Cycles come from design/perf.py's cycle model (GqmvConfig.job_cycles per matrix, the
    formula dv/tests check against the RTL's CYCLES register); throughput is taken at the
    signoff clock (``period_ns``, the job's; default the config's) and at each corner's fmax,
    tokens per joule with the signoff power. A
    config that cannot run the variant gets ``reason`` and no ``model__*`` metrics: absent,
    not zero. The ``model__*`` figures are returned under ``metrics`` for the caller to merge.
    """
    variant_name = design.extra.get("variant")
    if not variant_name:
        return None
    record: dict[str, Any] = {"variant": variant_name, "config": None}
    cfg = perf.config_for_top(design.top)
    if cfg is None:
        record["reason"] = f"top {design.top} is not a GQMV configuration of design/config.py"
        return record
    record["config"] = cfg.name
    try:
        variant = perf.load_variant(str(variant_name))
        reason = perf.unsupported(cfg, variant)
    except perf.PerfError as exc:
        reason = str(exc)
    if reason is not None:
        record["reason"] = reason
        return record
    token = perf.token_perf(cfg, variant)
    fmax = {c: metrics[m.per_corner("timing__fmax", c)] for c in corners
            if _num(metrics.get(m.per_corner("timing__fmax", c))) is not None}
    power = _num(metrics.get("power__total"))
    record.update(jobs=token.jobs, macs=token.macs, weight_bits=token.weight_bits,
                  rowp_bits=token.rowp_bits, source="design/perf.py",
                  metrics=perf.signoff_metrics(token, period_ns or design.clock_period_ns, fmax,
                                               float(power) if power is not None else None))
    return record


def write_summary(design: DesignConfig, jobname: str) -> tuple[Path, dict[str, Any]]:
    """Write ``build/<design>/signoff.json`` for job ``jobname``; returns (path, record)."""
    job = job_dir(design, jobname)
    if not job.is_dir():
        raise SummaryError(f"{job}: no such run folder")
    record = summarize(design, job)
    path = job.parent / "signoff.json"
    atomic_write_json(path, record)
    # The job keeps its own copy (paths are relative to build/<design>/ in both), so a later
    # job that rewrites build/<design>/signoff.json leaves this run's record intact.
    atomic_write_json(job / "signoff.json", record)
    return path, record
