"""What a design page shows beyond signoff.json: the flow nodes' own reports.

The flow writes each node's outputs under ``build/<design>/<job>/<step>/<index>/`` (the job
named by signoff.json's ``job``). This module reads, without recomputing anything:

* ``route/<i>/reports/metrics.json`` -- ``route__net__failed`` and the other route metrics;
* ``drc_klayout/<i>/reports/drc_klayout.json`` -- violation count per KLayout rule;
* ``sta/<corner>/reports/setup.rpt`` / ``hold.rpt`` -- OpenSTA ``report_checks`` path reports;
  each path's ``Startpoint:``, ``Endpoint:``, ``Path Group:`` and ``slack`` line are picked out;
* ``route/<i>/reports/congestion.png`` -- the global router's congestion map;
* ``<job>/<design>.pkg.json`` -- the SiliconCompiler manifest of the job: per node
  ``record,starttime`` / ``record,endtime`` and the flow graph's ``input`` edges.

Critical path of a run (the runtime chart): when start and end times are recorded, the path is
walked backwards from the node that finished last, each time to the node that finished last
before it started -- its input, or the node that freed the worker slot it waited for -- the
"last arrival" trace of a schedule under resource limits. Without times, nodes are laid out
at their earliest start with unlimited parallelism (the forward pass of the critical path
method, Kelley & Walker 1959) and the same trace gives the longest path of node runtimes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

Node = tuple[str, str]


@dataclass(frozen=True)
class TimingPath:
    """One path of an OpenSTA report: where it starts and ends and its slack (ns)."""

    startpoint: str
    endpoint: str
    group: str
    slack: float
    report: Path


@dataclass
class Timeline:
    """Node start/end seconds (relative to the first start) and the flow graph's edges."""

    spans: dict[Node, tuple[float, float]] = field(default_factory=dict)
    inputs: dict[Node, list[Node]] = field(default_factory=dict)
    critical: list[Node] = field(default_factory=list)
    source: Path | None = None
    timed: bool = True  # False: spans are runtimes laid end to end along the graph

    @property
    def wall(self) -> float:
        return max((end for _, end in self.spans.values()), default=0.0)


def job_folder(folder: Path, signoff: dict[str, Any] | None) -> Path | None:
    """``build/<design>/<job>``: the job signoff.json was written from, if it exists."""
    job = (signoff or {}).get("job")
    if not isinstance(job, str) or not job or "/" in job or job.startswith("."):
        return None
    path = folder / job
    return path if path.is_dir() else None


def _node_files(job: Path, step: str, name: str) -> list[Path]:
    return sorted(job.glob(f"{step}/*/reports/{name}"))


def _json_objects(paths: list[Path]) -> Iterator[tuple[dict[str, Any], Path]]:
    """Each of ``paths`` that holds a JSON object, with its file (unreadable ones skipped:
    a node that died mid-write must not take the design page down)."""
    for path in paths:
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(data, dict):
            yield data, path


def route_summary(job: Path) -> tuple[dict[str, Any], Path] | None:
    """The route node's metrics (``route__net__failed``, ...) and details, with the file."""
    for data, path in _json_objects(_node_files(job, "route", "metrics.json")):
        if isinstance(data.get("metrics"), dict):
            return {**(data.get("details") or {}), **data["metrics"]}, path
    return None


def drc_by_rule(job: Path) -> tuple[dict[str, int], Path] | None:
    """KLayout DRC violations per rule (``{}`` = clean), from ``drc_klayout.json``."""
    for data, path in _json_objects(_node_files(job, "drc_klayout", "drc_klayout.json")):
        counts = data.get("by_rule", data)
        if isinstance(counts, dict):
            return {str(k): int(v) for k, v in counts.items()
                    if isinstance(v, int | float) and not isinstance(v, bool)}, path
    return None


PATH_FIELDS = re.compile(r"^(Startpoint|Endpoint|Path Group):\s*(.*?)\s*$")
SLACK = re.compile(r"^\s*(-?[\d.]+(?:e-?\d+)?)\s+slack\b")


def parse_sta_report(path: Path) -> list[TimingPath]:
    """Every path of an OpenSTA ``report_checks`` text report, in file order."""
    paths: list[TimingPath] = []
    current: dict[str, str] = {}
    for line in path.read_text(errors="replace").splitlines():
        if match := PATH_FIELDS.match(line):
            if match.group(1) == "Startpoint":
                current = {}
            current[match.group(1)] = match.group(2)
        elif (match := SLACK.match(line)) and "Startpoint" in current:
            paths.append(TimingPath(current["Startpoint"], current.get("Endpoint", "?"),
                                    current.get("Path Group", ""), float(match.group(1)), path))
            current = {}
    return paths


def worst_paths(job: Path, check: str) -> dict[str, TimingPath]:
    """Corner -> worst (least slack) path of ``sta/<corner>/reports/<check>.rpt``."""
    out: dict[str, TimingPath] = {}
    for report in sorted(job.glob(f"sta/*/reports/{check}.rpt")):
        paths = parse_sta_report(report)
        if paths:
            out[report.parent.parent.name] = min(paths, key=lambda p: p.slack)
    return out


def congestion_map(job: Path) -> Path | None:
    found = _node_files(job, "route", "congestion.png")
    return found[0] if found else None


def _manifest(job: Path) -> tuple[dict[str, Any], Path] | None:
    for data, path in _json_objects(sorted(job.glob("*.pkg.json"))):
        if "record" in data and "flowgraph" in data:
            return data, path
    return None


def _per_node(param: dict[str, Any]) -> dict[Node, Any]:
    """Values of a per-node SC parameter: ``{(step, index): value}`` (defaults dropped)."""
    out: dict[Node, Any] = {}
    for step, by_index in (param.get("node") or {}).items():
        for index, entry in (by_index or {}).items():
            if step != "default" and isinstance(entry, dict) and entry.get("value") is not None:
                out[(step, index)] = entry["value"]
    return out


def _inputs_of(params: dict[str, Any]) -> list[Node]:
    """A node's ``input`` list (SC keeps it under the ``*`` step/index wildcard)."""
    for by_index in ((params.get("input") or {}).get("node") or {}).values():
        for entry in (by_index or {}).values():
            if isinstance(entry, dict) and entry.get("value"):
                return [(str(s), str(i)) for s, i in entry["value"]]
    return []


def _graph(manifest: dict[str, Any], nodes: set[Node]) -> dict[Node, list[Node]]:
    """Input edges of the smallest flow graph of the manifest that holds all ``nodes``."""
    best: dict[Node, list[Node]] = {}
    for flow, steps in (manifest.get("flowgraph") or {}).items():
        if flow == "default" or not isinstance(steps, dict):
            continue
        graph = {(step, index): _inputs_of(params)
                 for step, by_index in steps.items() if step != "default"
                 for index, params in (by_index or {}).items()
                 if index != "default" and isinstance(params, dict)}
        if nodes <= set(graph) and (not best or len(graph) < len(best)):
            best = graph
    return best


def critical_path(spans: dict[Node, tuple[float, float]], inputs: dict[Node, list[Node]],
                  slack: float = 1.0) -> list[Node]:
    """Nodes on the path that decided the run's end, first to last (see module docstring).

    A node's predecessor is the node that finished last before it started (within ``slack``
    seconds): its input when the node started as soon as the input was there, otherwise the
    node whose end freed the worker slot it waited for (SC runs at most ``maxnodes`` at once).
    Inputs win ties, so an unlimited-parallelism layout gives the pure graph path.
    """
    if not spans:
        return []
    node = max(spans, key=lambda n: spans[n][1])
    path = [node]
    while True:
        start = spans[node][0]
        done = [n for n in spans if n not in path and spans[n][1] <= start + slack]
        if not done:
            break
        latest = max(spans[n][1] for n in done)
        feeding = [n for n in inputs.get(node, []) if n in done
                   and spans[n][1] >= latest - slack]
        node = feeding[0] if feeding else max(done, key=lambda n: spans[n][1])
        path.append(node)
    return path[::-1]


def _parse_time(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f")
    except (TypeError, ValueError):
        return None


def longest_path_spans(runtimes: dict[Node, float], inputs: dict[Node, list[Node]]
                       ) -> dict[Node, tuple[float, float]]:
    """Earliest start/finish of every node with unlimited parallelism (CPM forward pass)."""
    finish: dict[Node, float] = {}
    spans: dict[Node, tuple[float, float]] = {}

    def visit(node: Node, trail: frozenset[Node]) -> float:
        if node in finish:
            return finish[node]
        if node in trail:  # a cycle cannot occur in an SC flow graph; do not recurse forever
            return 0.0
        start = max((visit(p, trail | {node}) for p in inputs.get(node, []) if p in runtimes),
                    default=0.0)
        finish[node] = start + runtimes[node]
        spans[node] = (start, finish[node])
        return finish[node]

    for node in runtimes:
        visit(node, frozenset())
    return spans


def timeline(job: Path, step_runtimes: dict[str, float] | None = None) -> Timeline | None:
    """The job's node timeline from its SC manifest; runtimes laid along the graph if the
    manifest has no start/end times (``step_runtimes``: signoff.json's ``runtime__total``
    per ``step`` or ``step/index``)."""
    found = _manifest(job)
    if found is None:
        return None
    manifest, path = found
    record = manifest.get("record") or {}
    starts = {n: _parse_time(v) for n, v in _per_node(record.get("starttime") or {}).items()}
    ends = {n: _parse_time(v) for n, v in _per_node(record.get("endtime") or {}).items()}
    timed_nodes = {n for n in starts if starts[n] and ends.get(n)}
    inputs = _graph(manifest, timed_nodes)
    if timed_nodes:
        zero = min(starts[n] for n in timed_nodes)
        spans = {n: ((starts[n] - zero).total_seconds(), (ends[n] - zero).total_seconds())
                 for n in timed_nodes}
        return Timeline(spans, inputs, critical_path(spans, inputs), path, True)
    runtimes: dict[Node, float] = {}
    for node in inputs:
        step, index = node
        for key in (f"{step}/{index}", step):
            if key in (step_runtimes or {}):
                runtimes[node] = float((step_runtimes or {})[key])
                break
    if not runtimes:
        return None
    spans = longest_path_spans(runtimes, inputs)
    return Timeline(spans, inputs, critical_path(spans, inputs), path, False)
