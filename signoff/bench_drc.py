"""DRC cost against layout size: ``python -m signoff.bench_drc <gds>... [--tools ...]``.

Prints, per layout and tool, the wall time, the CPU time (user + system, of the tool and all its
child processes: the figure that stays meaningful on a shared, loaded machine), the peak
resident memory of the largest single process, and the violations found; with die area and the
top cell's instance count, so the table can be rerun as designs grow (issue #12).

Tools: ``klayout`` (the signoff deck, deep mode, :mod:`signoff.drc_klayout`), ``magic``
(windowed, :mod:`signoff.drc_magic`), ``magic1`` (the same check as one window: the baseline
the windows are measured against), ``klayout_tiled`` (the deck in KLayout's flat tiled mode
on ``--jobs`` threads).  Each measurement runs in its own child process, measured
with ``os.wait4`` (so the figures belong to that run only).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gptnano.step import StepError

TOOLS = ("klayout", "magic", "magic1", "klayout_tiled")

_INFO_SCRIPT = r'''
import pya
ly = pya.Layout()
ly.read(src)
tops = ly.top_cells()
top = max(tops, key=lambda c: c.bbox().area())
bb = top.dbbox()
print("INFO %s %d %.4f %.4f %.4f %.4f" % (top.name, top.child_instances(), bb.left, bb.bottom,
                                         bb.right, bb.top))
'''


def layout_info(gds: Path, workdir: Path) -> dict[str, object]:
    """Top cell, its instance count and die size of ``gds`` (read by KLayout)."""
    script = workdir / "info.py"
    script.write_text(_INFO_SCRIPT)
    proc = subprocess.run(["klayout", "-b", "-r", str(script), "-rd", f"src={gds}"],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    for line in proc.stdout.splitlines():
        if line.startswith("INFO "):
            _, top, n, x0, y0, x1, y1 = line.split()
            w, h = float(x1) - float(x0), float(y1) - float(y0)
            return {"top": top, "instances": int(n), "die_um": f"{w:.0f}x{h:.0f}",
                    "area_mm2": round(w * h / 1e6, 4)}
    raise StepError(f"{gds}: KLayout could not read the layout: {proc.stderr.strip()[-200:]}")


def _one(tool: str, gds: Path, top: str, workdir: Path, jobs: int) -> None:
    """Child-process body: run one tool, print its violation count as JSON."""
    if tool.startswith("klayout"):
        from signoff.drc_klayout import run_klayout_drc
        counts = run_klayout_drc(gds, workdir, threads=jobs,
                                 mode="tiled" if tool == "klayout_tiled" else "deep")
    else:
        from signoff.drc_magic import TILE_UM, run_magic_drc
        tile = 1e9 if tool == "magic1" else TILE_UM  # magic1: the whole die as one window
        counts = run_magic_drc(gds, top, workdir, jobs=jobs, tile_um=tile)
    print(json.dumps({"violations": sum(counts.values())}))


def measure(tool: str, gds: Path, top: str, workdir: Path, jobs: int) -> dict[str, object]:
    """Run ``tool`` on ``gds`` in a child process; wall, CPU, peak RSS and violations."""
    workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "signoff.bench_drc", "--one", tool, str(gds),
                             top, str(workdir), str(jobs)], stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    violations: object = "failed"
    for line in out.splitlines():
        if line.startswith("{"):
            violations = json.loads(line)["violations"]
    return {"tool": tool, "wall_s": round(wall, 1),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "peak_rss_mb": round(usage.ru_maxrss / 1024), "violations": violations}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--one"]:
        tool, gds, top, workdir, jobs = args[1:6]
        try:
            _one(tool, Path(gds), top, Path(workdir), int(jobs))
        except StepError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    ap = argparse.ArgumentParser(prog="python -m signoff.bench_drc", description=__doc__.split(
        "\n")[0])
    ap.add_argument("gds", nargs="+", type=Path)
    ap.add_argument("--tools", default=",".join(TOOLS[:2]),
                    help=f"comma-separated, of {', '.join(TOOLS)} (default klayout,magic)")
    ap.add_argument("--jobs", type=int, default=2, help="threads / Magic processes (default 2)")
    ap.add_argument("--workdir", type=Path, default=None, help="keep run folders here")
    ap.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    opts = ap.parse_args(args)
    tools = [t for t in opts.tools.split(",") if t]
    bad = [t for t in tools if t not in TOOLS]
    if bad:
        print(f"error: unknown tool(s) {', '.join(bad)}; choose from {', '.join(TOOLS)}",
              file=sys.stderr)
        return 2
    base = opts.workdir or Path(tempfile.mkdtemp(prefix="bench_drc_"))
    rows = []
    header = (f"{'layout':<22} {'die um':>9} {'mm2':>7} {'inst':>6} {'tool':<8} {'wall s':>7} "
              f"{'cpu s':>7} {'RSS MB':>7} {'viol':>5}")
    print(header)
    for gds in opts.gds:
        if not gds.is_file():
            print(f"error: {gds}: no such GDS file", file=sys.stderr)
            return 2
        run_dir = base / gds.stem
        run_dir.mkdir(parents=True, exist_ok=True)
        try:
            info = layout_info(gds.resolve(), run_dir)
        except StepError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        for tool in tools:
            row = {"layout": gds.stem, **info,
                   **measure(tool, gds.resolve(), str(info["top"]), run_dir / tool, opts.jobs)}
            rows.append(row)
            print(f"{row['layout']:<22} {row['die_um']:>9} {row['area_mm2']:>7} "
                  f"{row['instances']:>6} {row['tool']:<8} {row['wall_s']:>7} {row['cpu_s']:>7} "
                  f"{row['peak_rss_mb']:>7} {row['violations']:>5}", flush=True)
    if opts.json:
        opts.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
