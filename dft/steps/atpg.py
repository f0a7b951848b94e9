"""Step ``atpg``: stuck-at test generation on the cut netlist (see :mod:`dft.atpg_engine`).

Writes ``<top>.tv.json`` in Fault's format and reports ``reports/atpg.json`` (coverage, counts,
runtimes) and ``reports/undetected.txt`` (every fault not detected, with its class).

Bypassed inputs: the clock is held at 1 (as Fault does). A reset is a normal test input when it
only feeds logic (synchronous reset); any input that drives asynchronous flop pins (found by
:func:`dft.netlist.async_controls`) is held inactive, because pulsing it during capture would
clear the flops instead of capturing.
"""

from __future__ import annotations

import json
import time

from dft.atpg_engine import Circuit, as_fault_tool_sees, detected_set, run_atpg
from dft.config import dft_settings
from dft.netlist import async_controls, build_netlist, fault_list
from dft.steps.common import cells, liberty, pass_through
from dft.vectors import write_fault_json
from gptnano.netlist import yosys_json
from gptnano.step import StepContext, StepError

PRODUCES = ("tv.json",)


def run(ctx: StepContext) -> dict[str, float | int | str]:
    start = time.monotonic()
    settings = dft_settings(ctx.design)
    lib = liberty()
    lib_cells = cells(lib)
    bypass = {ctx.design.clock_port: 1}
    uncut = yosys_json(ctx.input("vg"), lib, ctx.top, ctx.workdir)
    async_ports = async_controls(uncut, ctx.top, lib_cells)
    if settings.reset and settings.reset in async_ports:
        expected = 1 if settings.reset_active_low else 0
        if async_ports[settings.reset] != expected:
            raise StepError(f"{ctx.design.folder}: dft.reset_active_low does not match how "
                            f"{settings.reset} reaches the flops' asynchronous pins")
    bypass.update(async_ports)
    data = yosys_json(ctx.input("cut.v"), lib, ctx.top, ctx.workdir)
    netlist = build_netlist(data, ctx.top, lib_cells, bypass)
    faults = fault_list(netlist)
    circuit = Circuit(netlist, faults)
    opts = settings.atpg
    log_lines: list[str] = []
    result = run_atpg(
        circuit,
        seed=int(opts.get("seed", 1)),
        max_random_batches=int(opts.get("max_random_batches", 32)),
        conflict_budget=int(opts.get("conflict_budget", 20000)),
        solver=str(opts.get("solver", "cadical153")),
        log=log_lines.append,
    )
    held = {k: v for k, v in bypass.items() if k != ctx.design.clock_port}
    write_fault_json(ctx.output("tv.json"), circuit, result, held)
    detected = {(f.site, f.stuck) for fl in result.detected_by for f in fl}
    undetected = [f for f in faults if (f.site, f.stuck) not in detected]
    # Fault's own simulator injects input-pin faults on the whole net (see
    # dft.faultsim_check); count what it would report for these vectors too.
    as_fault = [as_fault_tool_sees(f) for f in undetected]
    fault_tool_extra = len(detected_set(circuit, result.vectors, as_fault))
    (ctx.reports_dir / "undetected.txt").write_text(
        "".join(f"{f.site} sa{f.stuck} {f.kind}\n" for f in undetected))
    runtime = round(time.monotonic() - start, 2)
    summary = {
        "fault_sites": len(faults) // 2,
        "faults": result.total_faults,
        "detected": result.detected,
        "untestable": result.untestable,
        "aborted": result.aborted,
        "stuck_at_coverage": round(result.coverage, 3),
        "test_coverage": round(result.test_coverage, 3),
        "fault_tool_coverage": round(
            100.0 * (result.detected + fault_tool_extra) / max(result.total_faults, 1), 3),
        "vectors": len(result.vectors),
        "random_vectors": result.random_vectors,
        "sat_vectors": result.sat_vectors,
        "test_inputs": len(circuit.input_nets),
        "held_inputs": sorted(bypass),
        "runtime_s": runtime,
        "phase_runtime_s": {k: round(v, 2) for k, v in result.runtime_s.items()},
        "log": log_lines,
    }
    (ctx.reports_dir / "atpg.json").write_text(json.dumps(summary, indent=1))
    pass_through(ctx, PRODUCES)
    return {
        "dft_stuck_at_coverage": summary["stuck_at_coverage"],
        "dft_test_coverage": summary["test_coverage"],
        "dft_vectors": summary["vectors"],
        "dft_faults": summary["faults"],
        "dft_untestable": summary["untestable"],
        "dft_atpg_runtime_s": runtime,
    }
