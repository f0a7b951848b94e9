"""Placement benchmark: runtime and peak memory of the placer against cell count.

    python -m pnr.engine.bench_place                      # 1k, 5k, 20k, 54k synthetic cells
    python -m pnr.engine.bench_place --sizes 2000 10000 --util 0.5 --density 0.7
    python -m pnr.engine.bench_place --netlist build/x/syn/0/outputs/top.vg --util 0.4
    python -m pnr.engine.bench_place --sizes 1000 --routability   # with routability rounds

Each size runs in its own child process, so the peak resident set size it reports (the
child's own ``resource.getrusage(RUSAGE_SELF).ru_maxrss``, kB on Linux) belongs to that size:
floorplan + global placement + legalization + detailed placement, without synthesis. It prints
one table row per size: cells, nets, the B2B matrix non-zeros, seconds per phase, HPWL, peak
RSS. The synthetic netlists are deterministic (seeded): real sky130hd cells (inverters, NAND,
NOR, AOI, MUX, flops on one clock) whose inputs are driven by cells a few places away on a
virtual 2-D grid, which gives the locality (Rent exponent below 1) of real logic.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from gptnano.netlist import Instance, Netlist, write_netlist

# (cell, input pins, output pin), drawn with these weights
_CELLS = (("sky130_fd_sc_hd__inv_1", ("A",), "Y", 3),
          ("sky130_fd_sc_hd__nand2_1", ("A", "B"), "Y", 4),
          ("sky130_fd_sc_hd__nor2_1", ("A", "B"), "Y", 2),
          ("sky130_fd_sc_hd__a21oi_1", ("A1", "A2", "B1"), "Y", 2),
          ("sky130_fd_sc_hd__mux2_1", ("A0", "A1", "S"), "X", 1),
          ("sky130_fd_sc_hd__dfxtp_1", ("D",), "Q", 2))
DEFAULT_SIZES = (1000, 5000, 20000, 54000)


def synthetic_netlist(n: int, seed: int = 1, reach: int = 3) -> Netlist:
    """``n`` cells on a virtual sqrt(n) x sqrt(n) grid; each input is driven by a cell at most
    ``reach`` grid steps away (or by a primary input on the bottom edge); flops share ``clk``."""
    rng = np.random.default_rng(seed)
    side = max(2, int(np.ceil(np.sqrt(n))))
    weights = np.array([c[3] for c in _CELLS], dtype=float)
    kinds = rng.choice(len(_CELLS), size=n, p=weights / weights.sum())
    nl = Netlist(top="synth")
    n_in = max(2, side // 2)
    for p in range(n_in):
        nl.ports[f"in{p}"] = "input"
    nl.ports["clk"] = "input"
    out_net = [f"n{k}" for k in range(n)]
    for k in range(n):
        cell, ins, out, _ = _CELLS[kinds[k]]
        gx, gy = k % side, k // side
        conns: dict[str, str] = {}
        for pin in ins:
            if gy == 0 and rng.random() < 0.3:
                conns[pin] = f"in{int(gx * n_in / side)}"
                continue
            while True:
                sx = int(np.clip(gx + rng.integers(-reach, reach + 1), 0, side - 1))
                sy = int(np.clip(gy + rng.integers(-reach, reach + 1), 0, side - 1))
                src = sy * side + sx
                if src != k and src < n:
                    break
            conns[pin] = out_net[src]
        if cell.endswith("dfxtp_1"):
            conns["CLK"] = "clk"
        conns[out] = out_net[k]
        nl.instances.append(Instance(f"g{k}", cell, conns))
    # the last grid row drives the outputs
    outs = [k for k in range(max(0, n - side), n)][:: max(1, side // max(2, side // 2))]
    for p, k in enumerate(outs):
        nl.ports[f"out{p}"] = "output"
        nl.instances.append(Instance(f"ob{p}", "sky130_fd_sc_hd__buf_1",
                                     {"A": out_net[k], "X": f"out{p}"}))
    return nl


def run_one(netlist: Path, top: str, util: float, density: float, pad: int,
            routability: bool = False) -> dict[str, float]:
    """Floorplan + place one netlist in this process; the phases' seconds and sizes
    (``routability``: with the routability-driven rounds, their count and RUDY congestion)."""
    from pnr.engine import dpl, gpl, tech
    from pnr.engine.floorplan import build_floorplan
    from pnr.engine.place import hpwl_um
    t0 = time.monotonic()
    layout = build_floorplan(top, netlist, {"core_utilization": util})
    t1 = time.monotonic()
    prob = gpl.build_problem(layout)
    prob.pad = pad * tech.SITE_W
    a, _ = gpl.b2b_system(prob, np.zeros(prob.n), 0)
    density = max(density, gpl.utilization(prob, padded=True))
    res = gpl.global_place(prob, density, routability=routability)
    prob.inflate = None
    t2 = time.monotonic()
    dpl.legalize(layout, prob, res.x, res.y, pad)
    t3 = time.monotonic()
    legal = hpwl_um(layout)
    dpl.improve(layout, prob, density, pad=pad)
    t4 = time.monotonic()
    rd = res.routability
    extra = {} if rd is None else {"rd_rounds": rd.rounds, "rd_rc_first": rd.rc_first,
                                   "rd_rc": rd.rc_kept}
    return extra | {"cells": prob.n, "nets": len(prob.net_start) - 1, "b2b_nnz": int(a.nnz),
            "floorplan_s": t1 - t0, "gpl_s": t2 - t1, "gpl_iters": res.iterations,
            "overflow": res.overflow, "legalize_s": t3 - t2, "detailed_s": t4 - t3,
            "hpwl_legal_um": legal, "hpwl_um": hpwl_um(layout),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _child(args: argparse.Namespace) -> int:
    netlist = Path(args.child)
    top = args.top or "synth"
    print(json.dumps(run_one(netlist, top, args.util, args.density, args.pad,
                             args.routability)))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    ap.add_argument("--util", type=float, default=0.5, help="floorplan core utilization")
    ap.add_argument("--density", type=float, default=0.7, help="placement target density")
    ap.add_argument("--pad", type=int, default=1, help="cell padding in sites (the flow's "
                    "placement.cell_pad_sites default)")
    ap.add_argument("--netlist", type=Path, action="append",
                    help="a real gate netlist (.vg) instead of the synthetic sizes (repeatable)")
    ap.add_argument("--top", help="module name of --netlist (default: read from the file)")
    ap.add_argument("--routability", action="store_true",
                    help="run the routability-driven rounds (the flow's default; off here so "
                         "the rows stay comparable with the table in pnr/README.md)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return _child(args)
    jobs: list[tuple[str, Path, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.netlist:
            from gptnano.netlist import read_netlist
            for f in args.netlist:
                if not f.is_file():
                    print(f"error: {f}: no such netlist", file=sys.stderr)
                    return 1
                jobs.append((f.name, f, args.top or read_netlist(f).top))
        else:
            for n in args.sizes:
                path = Path(tmp) / f"synth_{n}.vg"
                write_netlist(synthetic_netlist(n), path)
                jobs.append((f"synthetic {n}", path, "synth"))
        print(f"{'design':<22} {'cells':>7} {'nets':>7} {'b2b nnz':>9} {'gpl s':>7} {'iters':>5} "
              f"{'legal s':>7} {'dp s':>6} {'HPWL legal um':>14} {'HPWL um':>12} {'peak MB':>8}")
        for name, path, top in jobs:
            cmd = [sys.executable, "-m", "pnr.engine.bench_place", "--child", str(path),
                   "--top", top, "--util", str(args.util), "--density", str(args.density),
                   "--pad", str(args.pad)] + (["--routability"] if args.routability else [])
            proc = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
            if proc.returncode != 0:
                print(f"{name}: failed\n{proc.stderr.strip()[-2000:]}", file=sys.stderr)
                return 1
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"{name:<22} {r['cells']:>7} {r['nets']:>7} {r['b2b_nnz']:>9} "
                  f"{r['gpl_s']:>7.1f} {r['gpl_iters']:>5} {r['legalize_s']:>7.1f} "
                  f"{r['detailed_s']:>6.1f} {r['hpwl_legal_um']:>14.0f} {r['hpwl_um']:>12.0f} "
                  f"{r['peak_mb']:>8.0f}" + (f"  RD rounds {r['rd_rounds']}, RUDY "
                                             f"{r['rd_rc_first']:.2f} -> {r['rd_rc']:.2f}"
                                             if "rd_rounds" in r else ""), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
