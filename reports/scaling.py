"""How the flow's cost grows with design size: runtime and peak memory per step against cells.

``python -m reports.scaling`` reads the runs already in ``build/`` (each design's
``signoff.json``, or ``build/<design>/<job>/signoff.json`` with ``--job``) and writes

* ``reports/out/scaling.md``: one row per design (cells, whether the run passed, total wall
  time and peak memory) and one row per flow node with runtime / peak memory per design;
* ``reports/out/scaling.json``: the same figures plus, per node, the growth exponent ``k`` of a
  least-squares fit ``runtime ~ cells^k`` in log-log space (from designs whose node finished;
  1 = linear, 2 = quadratic), the figure that says which step will not scale;
* ``reports/out/scaling.png``: runtime and peak memory against cells, log-log, per step.

``make bench-scale`` runs the flows first (job ``scale``: gcd, small, riscv32i, aes, hours on
two cores) and then this command on them. Like every report it only reads files: runs that did
not finish are listed with the node that failed, and their finished nodes still count.

Runtime is wall-clock and moves with the machine's load: the table names the run folder of
every figure so a reader can check when and where it was measured.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from gptnano import metrics as registry
from gptnano.paths import REPO_ROOT, build_root
from reports.collect import ReportInputError, read_json_object, upgrade_signoff

DEFAULT_DESIGNS = ("orfs_gcd", "small", "orfs_riscv32i", "orfs_aes")
CELLS = "design__instance__count"
# the steps drawn in the picture (every node is in the table and the json)
PLOTTED = ("syn", "place", "cts", "rsz", "route", "drc_repair", "gds", "extract",
           "drc_klayout", "drc_magic", "lvs", "sta/ss")


@dataclass
class ScalingRun:
    """One design's run: its cell count and per-node runtime (s) and peak memory (MB)."""

    design: str
    source: Path
    cells: int | None
    passed: bool
    failures: list[str]
    runtime_s: dict[str, float] = field(default_factory=dict)
    memory_mb: dict[str, float] = field(default_factory=dict)


def _per_step(metrics: dict[str, Any], base: str) -> dict[str, float]:
    out = {}
    for name, value in metrics.items():
        head, kind, node = registry.split(name)
        if head == base and kind == "step" and isinstance(value, int | float) and node:
            out[node] = float(value)
    return out


def load_run(design: str, path: Path) -> ScalingRun:
    """One run's figures from its ``signoff.json``; :class:`ReportInputError` names a bad file."""
    data = upgrade_signoff(read_json_object(path))
    metrics = data.get("metrics")
    if not isinstance(metrics, dict):
        raise ReportInputError(f"{path}: no 'metrics' object")
    cells = metrics.get(CELLS)
    return ScalingRun(design, path, int(cells) if isinstance(cells, int | float) else None,
                      bool(metrics.get("flow__passed")), list(data.get("failures") or []),
                      _per_step(metrics, "runtime__total"), _per_step(metrics, "memory__peak"))


def growth_exponent(points: list[tuple[float, float]]) -> float | None:
    """Slope of log(value) against log(cells), least squares; None below two distinct sizes."""
    pts = [(math.log(c), math.log(v)) for c, v in points if c > 0 and v > 0]
    if len({x for x, _ in pts}) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    return round(sum((x - mx) * (y - my) for x, y in pts) / sxx, 2)


def node_order(runs: list[ScalingRun]) -> list[str]:
    """Nodes in flow order as the runs recorded them (first appearance wins)."""
    seen: dict[str, None] = {}
    for run in runs:
        for node in run.runtime_s:
            seen.setdefault(node, None)
    return list(seen)


def summarize(runs: list[ScalingRun]) -> dict[str, Any]:
    nodes = node_order(runs)
    sized = [r for r in runs if r.cells]
    growth = {}
    for node in nodes:
        growth[node] = {
            "runtime": growth_exponent([(r.cells, r.runtime_s[node]) for r in sized
                                        if node in r.runtime_s]),
            "memory": growth_exponent([(r.cells, r.memory_mb[node]) for r in sized
                                       if node in r.memory_mb]),
        }
    return {
        "runs": [{"design": r.design, "source": _rel(r.source), "cells": r.cells,
                  "passed": r.passed, "failures": r.failures,
                  "runtime_total_s": round(sum(r.runtime_s.values()), 1),
                  "peak_memory_mb": max(r.memory_mb.values(), default=None),
                  "runtime_s": r.runtime_s, "memory_mb": r.memory_mb} for r in runs],
        "growth_exponent": growth,
    }


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def _fmt(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def markdown(summary: dict[str, Any]) -> str:
    runs = summary["runs"]
    lines = ["| design | cells | passed | node runtimes summed (s) | peak memory (MB) | run |",
             "| --- | ---: | --- | ---: | ---: | --- |"]
    for r in runs:
        status = "yes" if r["passed"] else ("no: " + "; ".join(r["failures"])[:80]
                                            if r["failures"] else "no (incomplete)")
        lines.append(f"| {r['design']} | {_fmt(r['cells'])} | {status} | "
                     f"{_fmt(r['runtime_total_s'], 1)} | {_fmt(r['peak_memory_mb'])} | "
                     f"`{r['source']}` |")
    lines += ["", "Per node: runtime s / peak memory MB; k = growth exponent of runtime "
              "(runtime ~ cells^k, least squares over the designs that ran the node).", ""]
    head = "| node | " + " | ".join(f"{r['design']} ({_fmt(r['cells'])})" for r in runs) + " | k |"
    lines += [head, "| --- |" + " ---: |" * (len(runs) + 1)]
    for node, k in summary["growth_exponent"].items():
        cells = []
        for r in runs:
            t, m = r["runtime_s"].get(node), r["memory_mb"].get(node)
            cells.append("–" if t is None else f"{t:,.1f}" + ("" if m is None else f" / {m:,.0f}"))
        lines.append(f"| {node} | " + " | ".join(cells) + f" | {_fmt(k['runtime'], 2)} |")
    return "\n".join(lines) + "\n"


def plot(runs: list[ScalingRun], path: Path) -> Path:
    fig = Figure(figsize=(11, 4.2))
    axes = fig.subplots(1, 2)
    sized = sorted((r for r in runs if r.cells), key=lambda r: r.cells)
    for ax, attr, label in ((axes[0], "runtime_s", "runtime (s)"),
                            (axes[1], "memory_mb", "peak memory (MB)")):
        for node in PLOTTED:
            pts = [(r.cells, getattr(r, attr)[node]) for r in sized if node in getattr(r, attr)]
            if pts:
                ax.plot(*zip(*pts, strict=True), marker="o", label=node)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("cells")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_title("runtime per flow node against design size")
    axes[1].set_title("peak memory per flow node")
    axes[1].legend(fontsize=7, ncol=2)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path


def find_run(design: str, job: str | None, build: Path) -> Path:
    return build / design / job / "signoff.json" if job else build / design / "signoff.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports.scaling", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--designs", nargs="+", default=list(DEFAULT_DESIGNS))
    parser.add_argument("--job", help="read build/<design>/<job>/signoff.json (default: the "
                        "design's signoff.json, its last good run or latest attempt)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "reports" / "out")
    args = parser.parse_args(argv)
    build = build_root()
    runs, missing = [], []
    for design in args.designs:
        path = find_run(design, args.job, build)
        if not path.is_file():
            missing.append(f"{design}: no run ({path} missing; run 'python siliconcompiler.py "
                           f"--design {design}{' --jobname ' + args.job if args.job else ''}')")
            continue
        try:
            runs.append(load_run(design, path))
        except ReportInputError as exc:
            print(f"reports.scaling: {exc}", file=sys.stderr)
            return 2
    for line in missing:
        print(f"reports.scaling: {line}", file=sys.stderr)
    if not runs:
        return 1
    summary = summarize(runs)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scaling.json").write_text(json.dumps(summary, indent=1) + "\n")
    table = markdown(summary)
    (args.out / "scaling.md").write_text(table)
    plot(runs, args.out / "scaling.png")
    print(table)
    print(f"wrote {args.out / 'scaling.md'}, scaling.json, scaling.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
