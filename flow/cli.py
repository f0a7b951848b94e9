"""Flow command line: ``python siliconcompiler.py --design probe`` (``make gds``, ``sc-gptnano``).

Builds the SiliconCompiler project for ``designs/<name>/config.yaml`` (:mod:`flow.project`), runs
it under ``build/<name>/<job>/`` and writes ``build/<name>/signoff.json``
(:mod:`flow.summary`). The exit status is 0 only when the flow was complete and every node
passed its checks (DRC = 0, LVS clean, setup and hold met at every corner).

Re-running the same job resumes it: SiliconCompiler re-runs only the nodes whose inputs or
settings changed; ``--from``/``--to`` restrict the run to a part of the flowgraph. Another
``--jobname`` starts a separate run beside the earlier ones.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from gptnano.design_config import DesignConfigError, design_names, load_design

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="siliconcompiler.py",
        description="gpt-nano-asic: RTL to signoff-checked GDSII with SiliconCompiler.")
    ap.add_argument("--design", help="design folder under designs/ (or a config.yaml path)")
    ap.add_argument("--engine", choices=("embedded", "openroad", "auto"), default="auto",
                    help="physical engine (auto: openroad when installed, else embedded)")
    ap.add_argument("--from", dest="from_steps", action="append", default=[], metavar="STEP",
                    help="start at STEP (repeatable); earlier nodes are reused")
    ap.add_argument("--to", dest="to_steps", action="append", default=[], metavar="STEP",
                    help="stop after STEP (repeatable)")
    ap.add_argument("--jobs", type=int, default=2, help="flow nodes run at the same time")
    ap.add_argument("--jobname", default="job0", help="run folder build/<design>/<jobname>")
    ap.add_argument("--dft", choices=("on", "off"),
                    help="insert the DFT steps between syn and floorplan (default: config)")
    ap.add_argument("--scheduler", choices=("slurm", "lsf", "sge"),
                    help="SiliconCompiler scheduler for the nodes (default: local)")
    ap.add_argument("--quiet", action="store_true", help="less SiliconCompiler output")
    ap.add_argument("--list", action="store_true",
                    help="list designs (with --design: the flow's nodes) and exit")
    return ap


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _print_record(path: Any, record: dict[str, Any]) -> None:
    """The headline figures of signoff.json (names and units: gptnano.metrics)."""
    mt = record.get("metrics") or {}
    corners = sorted({n.split("corner:")[1] for n in mt if "__corner:" in n})
    slacks = " ".join(f"{c}:{mt.get(f'timing__setup__ws__corner:{c}')}/"
                      f"{mt.get(f'timing__hold__ws__corner:{c}')}" for c in corners)
    print(f"signoff: {path}")
    print(f"  flow__passed={mt.get('flow__passed')} engine={record['engine']} "
          f"design__instance__count={mt.get('design__instance__count')} "
          f"design__instance__utilization={mt.get('design__instance__utilization')} "
          f"timing__fmax={mt.get('timing__fmax')} MHz")
    print(f"  setup/hold worst slack (ns) {slacks}")
    print(f"  klayout__drc_error__count={mt.get('klayout__drc_error__count')} "
          f"magic__drc_error__count={mt.get('magic__drc_error__count')} "
          f"design__lvs__clean={mt.get('design__lvs__clean')} "
          f"power__total={mt.get('power__total')} mW")
    for failure in record["failures"]:
        print(f"  FAILED {failure}")
    if record["not_run"]:
        print(f"  not run: {', '.join(record['not_run'])}")
    if record["missing_steps"]:
        print(f"  flow incomplete, engine modules missing: {', '.join(record['missing_steps'])}")



STAMP = "gptnano_inputs.sha256"


def stale_job(job: Path, fingerprint: str) -> bool:
    """True if ``job`` holds node results made from other inputs than ``fingerprint``.

    A job folder with results but no stamp has unknown provenance (older code, or a crash
    before the stamp was written): it counts as stale, so it is re-run, never silently reused.
    """
    if not job.is_dir() or not any(p.is_dir() for p in job.iterdir()):
        return False
    stamp = job / STAMP
    return not stamp.is_file() or stamp.read_text().strip() != fingerprint


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.list and not args.design:
        print("\n".join(design_names()))
        return EXIT_OK
    if not args.design:
        return _fail("--design is required (known designs: "
                     f"{', '.join(design_names()) or 'none'})")
    if args.jobs < 1:
        return _fail("--jobs must be at least 1")
    try:
        design = load_design(args.design)
    except DesignConfigError as exc:
        return _fail(str(exc))

    from flow.project import FlowError, build_project, input_fingerprint, select_engine
    from flow.summary import SummaryError, job_dir, write_plan, write_summary

    try:
        engine, why = select_engine(args.engine)
        dft = None if args.dft is None else args.dft == "on"
        project, plan = build_project(design, engine, jobname=args.jobname, jobs=args.jobs,
                                      dft=dft, quiet=args.quiet)
    except FlowError as exc:
        return _fail(str(exc))
    flow = project.get_flow()
    known_steps = set(flow.getkeys())
    for step in args.from_steps + args.to_steps:
        if step not in known_steps:
            return _fail(f"unknown step '{step}'; the flow has: {', '.join(sorted(known_steps))}")
    if args.list:
        nodes = plan.nodes() if plan is not None else [
            (s, i) for s in flow.getkeys() for i in flow.getkeys(s)]
        print("\n".join(f"{s}/{i}" for s, i in nodes))
        return EXIT_OK
    print(f"engine: {engine} ({why})")
    if plan is not None and plan.missing:
        print(f"warning: flow truncated, missing engine modules: {', '.join(plan.missing)}",
              file=sys.stderr)
    if args.from_steps:
        project.option.add_from(args.from_steps, clobber=True)
    if args.to_steps:
        project.option.add_to(args.to_steps, clobber=True)
    if args.scheduler:
        project.option.scheduler.set_name(args.scheduler)

    job = job_dir(design, args.jobname)
    stamp = job / STAMP
    fingerprint = input_fingerprint(design)
    if stale_job(job, fingerprint):
        if args.from_steps:
            print(f"warning: design inputs or flow code changed since job '{args.jobname}' "
                  "last ran; steps before --from keep their old results", file=sys.stderr)
        else:
            print(f"design inputs or flow code changed since job '{args.jobname}' last ran: "
                  "re-running every node")
            project.option.set_clean(True)
    record_plan = {} if plan is None else {
        "engine": engine, "engine_reason": why, "nodes": plan.nodes(),
        "corners": list(plan.corners), "missing": plan.missing, "dft_steps": plan.dft_steps}
    if record_plan:  # before the run, so a killed run can still be summarized ...
        write_plan(job, record_plan)
    if job.is_dir():  # before the run too, so a killed run resumes with the same inputs
        stamp.write_text(fingerprint + "\n")
    start = time.monotonic()
    run_error = None
    try:
        project.run()
    except RuntimeError as exc:
        run_error = str(exc)
    if record_plan:  # ... and after it: SC empties the job folder when the flowgraph changed
        write_plan(job, record_plan)
    if job.is_dir():
        stamp.write_text(fingerprint + "\n")
    print(f"flow wall time: {time.monotonic() - start:.1f} s")
    if plan is None:
        # SC's stock flow: its own manifest and summary are the record.
        project.summary()
        return EXIT_FAILED if run_error else EXIT_OK
    try:
        path, record = write_summary(design, args.jobname)
    except SummaryError as exc:
        return _fail(str(exc), EXIT_FAILED)
    _print_record(path, record)
    if plan.dft_steps:
        from dft.summary import DftSummaryError, write_flow_summary

        try:
            print(f"dft: {write_flow_summary(design, job)}")
        except DftSummaryError as exc:
            print(f"dft: no summary: {exc}", file=sys.stderr)
    if run_error:
        print(f"error: {run_error}", file=sys.stderr)
    if args.to_steps:
        # A partial run is judged only on the nodes it ran.
        return EXIT_FAILED if record["failures"] or run_error else EXIT_OK
    return EXIT_OK if record["metrics"]["flow__passed"] and not run_error else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
