"""``build/<design>/signoff.json``: one run's signoff metrics, collected from its nodes.

Every flow node writes ``reports/metrics.json`` (:mod:`flow.tasks.base`: status, runtime, the
step's metrics), also when its check fails; the flow CLI writes ``<job>/gptnano_flow.json``
(engine, planned nodes). This module joins them into the record the dashboard, the goldens and
the nightly regression read (contract in :mod:`reports.collect`). It never invents a value: a
node that did not run leaves its fields ``null`` and is listed under ``not_run``; the run
``passed`` only if the flow was complete and every node finished clean.

Units: times in ns, areas in um^2, power in mW, ``utilization`` as a fraction (0-1).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gptnano.design_config import DesignConfig
from gptnano.fileio import atomic_write_json
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
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise SummaryError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise SummaryError(f"{path}: expected a JSON object")
    return data


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
    metrics: dict[str, Any] = {}
    for name, body in (data.get("metric") or {}).items():
        try:
            value = body["node"][step][index]["value"]
        except (KeyError, TypeError):
            continue
        if value is not None:
            metrics[name] = value
    runtime = metrics.get("tasktime")
    status = SC_STATUS.get(str(sc_status), "error")
    return NodeRecord(step, index, status, round(runtime, 2) if _num(runtime) is not None else None,
                      metrics, None if status == "ok" else f"SC status {sc_status}", folder)


def read_node(job: Path, step: str, index: str, sc_name: str = "") -> NodeRecord:
    folder = job / step / index
    path = folder / "reports" / METRICS_FILE
    if not path.is_file():
        return read_sc_node(folder, step, index, sc_name or job.parent.name)
    data = _read_json(path)
    return NodeRecord(step, index, str(data.get("status", "error")), data.get("runtime_s"),
                      dict(data.get("metrics") or {}), data.get("error"), folder)


def _num(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def summarize(design: DesignConfig, job: Path) -> dict[str, Any]:
    """The signoff record of the run in ``job`` (see the module docstring)."""
    plan = read_plan(job)
    out_dir = job.parent
    nodes = {(s, i): read_node(job, s, i, design.name) for s, i in plan["nodes"]}

    def metric(step: str, key: str, index: str = "0") -> Any:
        node = nodes.get((step, index))
        return node.metrics.get(key) if node else None

    def rel(path: Path) -> str:
        return os.path.relpath(path, out_dir)

    reports: dict[str, str] = {}

    def report(name: str, step: str, filename: str, index: str = "0") -> None:
        path = job / step / index / "reports" / filename
        if path.is_file():
            reports[name] = rel(path)

    corners = list(plan.get("corners", []))
    wns = {c: _num(metric("sta", "setup_slack_ns", c)) for c in corners}
    tns = {c: _num(metric("sta", "setup_tns_ns", c)) for c in corners}
    hold = {c: _num(metric("sta", "hold_slack_ns", c)) for c in corners}
    fmax_by = {c: _num(metric("sta", "fmax_mhz", c)) for c in corners}
    for c in corners:
        report(f"wns_ns.{c}", "sta", "setup.rpt", c)
        report(f"tns_ns.{c}", "sta", "setup_end.rpt", c)
        report(f"hold_wns_ns.{c}", "sta", "hold.rpt", c)
        report(f"fmax_mhz.{c}", "sta", "setup.rpt", c)
    fmax_values = [v for v in fmax_by.values() if v is not None]
    power = None
    if nodes.get(("power", "0")) and nodes[("power", "0")].metrics:
        pm = nodes[("power", "0")].metrics
        power = {"dynamic": _num(pm.get("dynamic_mw")), "leakage": _num(pm.get("leakage_mw")),
                 "total": _num(pm.get("total_mw"))}
        report("power_mw", "power", "power.rpt")

    synth_cells = _num(metric("syn", "cells"))
    # logic cells in the layout: after timing repair / CTS (their buffers count) when they ran
    placed_cells = _num(metric("rsz", "cells"))
    if placed_cells is None:
        placed_cells = _num(metric("cts", "cells"))
    if placed_cells is None:
        placed_cells = _num(metric("floorplan", "cells"))
    if _num(metric("rsz", "cells")) is not None:
        report("cells", "rsz", "rsz.json")
    elif _num(metric("cts", "cells")) is not None:
        report("cells", "cts", "cts.json")
    else:
        report("cells", "syn", "stat.rpt")
    report("cell_area_um2", "syn", "stat.rpt")
    for key in ("core_area_um2", "die_area_um2", "utilization"):
        report(key, "floorplan", METRICS_FILE)
    report("wirelength_um", "route", "route.rpt")
    report("drc_klayout", "drc_klayout", "drc_klayout.json")
    report("drc_magic", "drc_magic", "drc_magic.rpt")
    lvs_node = nodes.get(("lvs", "0"))
    lvs_clean = None
    if lvs_node and _num(lvs_node.metrics.get("lvs_match")) is not None:
        lvs_clean = bool(lvs_node.metrics["lvs_match"])
        report("lvs_clean", "lvs", "lvs.rpt")

    # The gds step's own output (later nodes only carry copies of it).
    gds_path = job / "gds" / "0" / "outputs" / f"{design.top}.gds"
    gds = rel(gds_path) if gds_path.is_file() else None

    failures = [f"{n.name}: {n.error or n.status}" for n in nodes.values()
                if n.status in ("failed", "error")]
    not_run = [n.name for n in nodes.values() if n.status in ("not_run", "running")]
    missing = list(plan.get("missing", []))
    passed = not failures and not not_run and not missing
    return {
        "design": design.name,
        "top": design.top,
        "job": job.name,
        "engine": plan.get("engine"),
        "complete": not missing,
        "missing_steps": missing,
        "passed": passed,
        "failures": failures,
        "not_run": not_run,
        "cells": placed_cells if placed_cells is not None else synth_cells,
        "cells_synth": synth_cells,
        "cell_area_um2": _num(metric("syn", "cellarea")),
        "core_area_um2": _num(metric("floorplan", "core_area_um2")),
        "die_area_um2": _num(metric("floorplan", "die_area_um2")),
        "utilization": _num(metric("floorplan", "utilization")),
        "wirelength_um": _num(metric("route", "wirelength_um")),
        "clock_ns": design.clock_period_ns,
        # "report": setup slack at this clock is shown, not a pass criterion (hold always is)
        "setup_mode": design.setup_mode,
        "wns_ns": wns,
        "tns_ns": tns,
        "hold_wns_ns": hold,
        "fmax_mhz": min(fmax_values) if fmax_values else None,
        "fmax_mhz_by_corner": fmax_by,
        "sta_parasitics": metric("sta", "parasitics", corners[0]) if corners else None,
        "power_mw": power,
        "drc_klayout": _num(metric("drc_klayout", "drc_klayout_total")),
        "drc_magic": _num(metric("drc_magic", "drc_magic_total")),
        "lvs_clean": lvs_clean,
        "gds": gds,
        "runtime_s": {n.name: n.runtime_s for n in nodes.values() if n.runtime_s is not None},
        "reports": reports,
    }


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
