"""Simulator throughput: GQMV transactions (jobs) per second on Icarus and Verilator.

``python -m dv.bench`` (part of ``make bench``). The model is compiled first (not timed), then
the same seeded random sequence runs on each simulator with free-flowing streams. Throughput is
jobs (and DUT clock cycles) per second of the cocotb test's own run time from results.xml; the
wall time of the whole run (process start-up, imports, runner checks) is reported beside it.
Results go to ``build/dv/bench.json``. A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import time
import xml.etree.ElementTree as ET

from design.config import CONFIGS
from dv.sim import SIMULATORS, dv_root, run


def bench(sim: str, config: str, items: int) -> dict[str, float | int | str]:
    cfg = CONFIGS[config]
    run(sim, cfg, "GqmvRandomTest", f"bench_{sim}_{config}_warmup", items=1)
    start = time.perf_counter()
    result = run(sim, cfg, "GqmvRandomTest", f"bench_{sim}_{config}", items=items, seed=7,
                 backpressure=False)
    wall = time.perf_counter() - start
    if not result.passed:
        raise RuntimeError(f"benchmark run failed: {result.out_dir / 'sim.log'}")
    jobs = json.loads((result.out_dir / "summary.json").read_text())["jobs"]
    cycles = sum(j["cycles"] for j in jobs)
    case = ET.parse(result.out_dir / "results.xml").getroot().find(".//testcase")
    if case is None:
        raise RuntimeError(f"no testcase in {result.out_dir / 'results.xml'}")
    test_s = float(case.get("time", "nan"))
    return {"simulator": sim, "config": config, "jobs": len(jobs), "test_s": round(test_s, 3),
            "wall_s": round(wall, 2), "jobs_per_s": round(len(jobs) / test_s, 1),
            "dut_cycles": cycles, "cycles_per_s": round(cycles / test_s, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--configs", nargs="+", default=["small", "base"], choices=sorted(CONFIGS))
    args = parser.parse_args(argv)
    rows = [bench(sim, config, args.items) for config in args.configs for sim in SIMULATORS]
    for r in rows:
        print(f"{r['simulator']:>9} {r['config']:>5}: {r['jobs_per_s']:8.1f} jobs/s "
              f"{r['cycles_per_s']:10.1f} DUT cycles/s ({r['jobs']} jobs in {r['test_s']} s; "
              f"{r['wall_s']} s wall with start-up)")
    out = dv_root() / "bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"-> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
