"""The DFT summary ``build/<name>/dft.json``, from the four step folders of one run.

Two producers share it: ``python -m dft.run`` (steps in ``build/<name>/dft/<step>/``) and the
SiliconCompiler flow with DFT on (nodes ``build/<name>/<job>/dft_<step>/0/``), so the contract
keys (``scan_flops``, ``chains``, ``chain_lengths``, ``stuck_at_coverage``, ``vectors``,
``runtime_s``) mean the same whichever ran. Everything is read back from the files the steps
wrote (``reports/atpg.json``, ``outputs/<top>.scan.json``, ``reports/dft_<step>_metrics.json``),
never from memory, so the summary of a flow run can be rebuilt after the fact.

``runtime_s`` is the time of the four DFT steps (cut + ATPG + chain + asm), without synthesis:
that is the cost DFT adds to the flow; ``step_runtime_s`` has each step (and ``syn`` when
``dft.run`` synthesized the design itself).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gptnano.design_config import DesignConfig
from gptnano.fileio import atomic_write_json

STEP_NAMES = ("cut", "atpg", "chain", "asm")
FLOW_PREFIX = "dft_"
SUMMARY_FILE = "dft.json"


class DftSummaryError(RuntimeError):
    """A step's result file is missing or unreadable (the file is named)."""


def metrics_path(step_dir: Path, name: str) -> Path:
    """Where step ``name`` leaves its metrics (same place in ``dft.run`` and in SC nodes)."""
    return step_dir / "reports" / f"dft_{name}_metrics.json"


def write_step_metrics(step_dir: Path, name: str, metrics: Mapping[str, Any]) -> Path:
    path = metrics_path(step_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dict(metrics), indent=1))
    return path


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise DftSummaryError(f"{path}: missing (did that DFT step run and succeed?)") from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise DftSummaryError(f"{path}: unreadable: {exc}") from exc


def summarize(design: DesignConfig, step_dirs: Mapping[str, Path],
              extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The summary of one DFT run whose step ``name`` ran in ``step_dirs[name]``."""
    missing = [n for n in STEP_NAMES if n not in step_dirs]
    if missing:
        raise DftSummaryError(f"no folder given for DFT steps {missing}")
    step_metrics = {n: _read(metrics_path(step_dirs[n], n)) for n in STEP_NAMES}
    report = _read(step_dirs["atpg"] / "reports" / "atpg.json")
    chains = _read(step_dirs["chain"] / "outputs" / f"{design.top}.scan.json")
    lengths = [len(c["flops"]) for c in chains["chains"]]
    runtimes = {n: float(step_metrics[n][f"dft_{n}_runtime_s"]) for n in STEP_NAMES}
    asm_out = step_dirs["asm"] / "outputs"
    summary: dict[str, Any] = {
        "design": design.name,
        "top": design.top,
        "scan_flops": sum(lengths),
        "chains": len(lengths),
        "chain_lengths": lengths,
        "stuck_at_coverage": report["stuck_at_coverage"],
        "test_coverage": report["test_coverage"],
        "fault_tool_coverage": report["fault_tool_coverage"],
        "faults": report["faults"],
        "untestable_faults": report["untestable"],
        "aborted_faults": report["aborted"],
        "vectors": report["vectors"],
        "test_cycles": step_metrics["asm"]["dft_test_cycles"],
        "runtime_s": round(sum(runtimes.values()), 2),
        "step_runtime_s": {n: round(v, 2) for n, v in runtimes.items()},
        "netlist": str(asm_out / f"{design.top}.vg"),
        "patterns": str(asm_out / f"{design.top}.patterns.json"),
    }
    summary.update(extra or {})
    return summary


def write_summary(base: Path, summary: Mapping[str, Any]) -> Path:
    """``base/dft.json``, replaced atomically (a reader never sees half a file)."""
    path = base / SUMMARY_FILE
    atomic_write_json(path, dict(summary), indent=1, newline=False)
    return path


def flow_step_dirs(job: Path, prefix: str = FLOW_PREFIX) -> dict[str, Path]:
    """The DFT node folders of a SiliconCompiler job (``<job>/dft_<step>/0``)."""
    return {n: job / f"{prefix}{n}" / "0" for n in STEP_NAMES}


def write_flow_summary(design: DesignConfig, job: Path) -> Path:
    """``<job>/../dft.json`` (= ``build/<name>/dft.json``) from the DFT nodes of flow run
    ``job``; raises :class:`DftSummaryError` when a DFT node did not finish."""
    summary = summarize(design, flow_step_dirs(job), {
        "source": f"flow job {job.name}",
        "synthesis": "flow syn node",
    })
    return write_summary(job.parent, summary)
