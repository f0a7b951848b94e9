"""Flow command line: ``python siliconcompiler.py --design probe`` (``make gds``, ``sc-gptnano``).

Builds the SiliconCompiler project for ``designs/<name>/config.yaml`` (:mod:`flow.project`), runs
it under ``build/<name>/<job>/`` and writes ``build/<name>/signoff.json``
(:mod:`flow.summary`). The exit status is 0 only when the flow was complete and every node
passed its checks (DRC = 0, LVS clean, setup and hold met at every corner).

Re-running the same job resumes it: SiliconCompiler re-runs only the nodes whose inputs or
settings changed (the reused ones are announced); ``--from``/``--to`` restrict the run to a part
of the flowgraph. Another ``--jobname`` starts a separate run beside the earlier ones.

Safe runs (issue 16): one run per job at a time (:mod:`gptnano.lock`, the refused run names the
holder); a complete passing run is promoted to ``<job>.good.<n>`` and ``signoff.json`` follows
it, so a failing attempt never replaces the last good layout (:mod:`flow.runs`,
``latest.json`` names both); SIGTERM/SIGINT end the whole process tree and mark the running
nodes killed. Exit status: 0 passed, 1 a check failed or the run failed, 2 a usage or
configuration error (one line, no traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import sys
import time
from pathlib import Path
from typing import Any

from flow import runs
from flow.runs import GOOD_SUFFIX
from gptnano.design_config import (
    SAFE_NAME,
    DesignConfigError,
    check_tool_path,
    design_names,
    load_design,
)
from gptnano.fileio import atomic_write_json
from gptnano.lock import JobLock, LockHeld, describe
from gptnano.paths import SHARED_ENV, MissingDataError, build_root, shared_root

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
    ap.add_argument("--resume", action="store_true",
                    help="continue the job's earlier run (an error if there is none)")
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
    print(f"  antenna__violating__pins={mt.get('antenna__violating__pins')} "
          f"antenna__diode__count={mt.get('antenna__diode__count')} "
          f"route__drc_repair__shape__count={mt.get('route__drc_repair__shape__count')}")
    for failure in record["failures"]:
        print(f"  FAILED {failure}")
    if record["not_run"]:
        print(f"  not run: {', '.join(record['not_run'])}")


def _install_stop_handlers(job: Path, nodes: list[tuple[str, str]],
                           progress: runs.Progress) -> None:
    """SIGTERM/SIGINT on the flow: end every descendant process (SC workers, the steps'
    children, KLayout, Magic), mark the unfinished nodes as killed, say so, exit 128+signal.
    Only the flow's own process acts; forked workers inherit the handler and just stop."""
    from gptnano.proc import kill_tree

    main_pid = os.getpid()

    def stop(signum: int, _frame: Any) -> None:
        if os.getpid() != main_pid:
            os._exit(128 + signum)
        name = signal.Signals(signum).name
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up
        print(f"\nstopping: received {name}; ending the flow's processes", file=sys.stderr,
              flush=True)
        ended = kill_tree(main_pid)
        marked = runs.mark_unfinished(job, nodes, f"killed: the flow was stopped by {name}",
                                      started=set(progress.running))
        runs.write_latest(job.parent, {"job": job.name, "signoff": None, "passed": False,
                                       "stopped_by": name, "finished_utc": time.strftime(
                                           "%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, None)
        print(f"stopped {len(ended)} processes ({', '.join(ended[:8])}"
              f"{', ...' if len(ended) > 8 else ''}); nodes marked killed: "
              f"{', '.join(marked) or 'none'}; re-run the same command to resume",
              file=sys.stderr, flush=True)
        os._exit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)


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
    if not SAFE_NAME.fullmatch(args.jobname) or ".." in args.jobname \
            or GOOD_SUFFIX in args.jobname:
        return _fail(f"--jobname {args.jobname!r}: use letters, digits, _ . + - (it becomes "
                     f"a folder; '{GOOD_SUFFIX}' is reserved for kept runs)")
    try:
        design = load_design(args.design)
    except DesignConfigError as exc:
        return _fail(str(exc))
    try:
        for folder, setting in ((build_root(), "GPTNANO_BUILD"), (shared_root(), SHARED_ENV)):
            check_tool_path(folder, f"folder ({setting})")
    except DesignConfigError as exc:
        return _fail(str(exc))

    from flow.project import FlowError, build_project, select_engine
    from flow.summary import SummaryError, job_dir, summarize, write_plan, write_summary

    try:
        engine, why = select_engine(args.engine)
        dft = None if args.dft is None else args.dft == "on"
        project, plan = build_project(design, engine, jobname=args.jobname, jobs=args.jobs,
                                      dft=dft, quiet=args.quiet)
    except FlowError as exc:
        return _fail(str(exc))
    except MissingDataError as exc:  # PDK not where GPTNANO_SHARED says
        return _fail(str(exc))
    runs.quiet_sc_noise(project.logger)
    flow = project.get_flow()
    known_steps = set(flow.getkeys())
    for step in args.from_steps + args.to_steps:
        if step not in known_steps:
            return _fail(f"unknown step '{step}'; the flow has: {', '.join(sorted(known_steps))}")
    nodes = plan.nodes() if plan is not None else [
        (s, i) for s in flow.getkeys() for i in flow.getkeys(s)]
    if args.list:
        print("\n".join(f"{s}/{i}" for s, i in nodes))
        return EXIT_OK
    job = job_dir(design, args.jobname)
    if args.resume and not (job.is_dir() and any(p.is_dir() for p in job.iterdir())):
        return _fail(f"--resume: nothing to resume, {job} holds no run (leave out --resume "
                     "to start one)")
    lock = JobLock(job.parent / f"{args.jobname}.lock", f"design {design.name} job "
                   f"{args.jobname}", command=" ".join(["siliconcompiler.py", *(argv or
                                                                               sys.argv[1:])]))
    try:
        lock.acquire()
    except LockHeld as exc:
        return _fail(str(exc))
    try:
        if lock.stale:
            print(f"note: taking over the lock of a run that ended without releasing it "
                  f"({describe(lock.stale)})", file=sys.stderr)
        return _run(args, design, engine, why, project, plan, job, nodes,
                    (SummaryError, summarize, write_plan, write_summary))
    finally:
        lock.release()


def _run(args: argparse.Namespace, design: Any, engine: str, why: str, project: Any,
         plan: Any, job: Path, nodes: list[tuple[str, str]], helpers: tuple[Any, ...]) -> int:
    """The run itself, under the job lock: SC in the job folder, then the record, promotion
    of a complete passing run and ``latest.json`` (:mod:`flow.runs`)."""
    summary_error, summarize, write_plan, write_summary = helpers
    print(f"engine: {engine} ({why})")
    if args.from_steps:
        project.option.add_from(args.from_steps, clobber=True)
    if args.to_steps:
        project.option.add_to(args.to_steps, clobber=True)
    if args.scheduler:
        project.option.scheduler.set_name(args.scheduler)

    record_plan = {} if plan is None else {
        "engine": engine, "engine_reason": why, "nodes": plan.nodes(),
        "corners": list(plan.corners), "dft_steps": plan.dft_steps}
    if record_plan:  # before the run, so a killed run can still be summarized ...
        write_plan(job, record_plan)
    from siliconcompiler.scheduler import Scheduler

    progress = runs.Progress(nodes, args.jobname, folder=job)
    Scheduler.add_listener(progress)
    _install_stop_handlers(job, nodes, progress)
    start = time.monotonic()
    run_error = None
    try:
        project.run()
    except RuntimeError as exc:
        run_error = str(exc)
    finally:
        Scheduler.remove_listener(progress)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.default_int_handler if sig == signal.SIGINT
                          else signal.SIG_DFL)
    if record_plan:  # ... and after it: SC empties the job folder when the flowgraph changed
        write_plan(job, record_plan)
    dead = runs.mark_unfinished(job, nodes, "the node's process ended without recording a "
                                "result (killed by a signal or out of memory; see its log)")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"flow wall time: {time.monotonic() - start:.1f} s; largest process: {peak:,.0f} MB")
    if dead:
        print(f"error: {', '.join(dead)} ended without a result", file=sys.stderr)
    if plan is None:
        # SC's stock flow: its own manifest and summary are the record.
        project.summary()
        return EXIT_FAILED if run_error else EXIT_OK
    try:
        record = summarize(design, job)
    except summary_error as exc:
        return _fail(str(exc), EXIT_FAILED)
    atomic_write_json(job / "signoff.json", record)
    path = publish(design, job, record, partial=bool(args.to_steps), write_summary=write_summary)
    _print_record(path, record)
    gds = json.loads(path.read_text()).get("gds")  # relative to build/<design>/ in every copy
    if gds:
        print(f"gds: {job.parent / gds}")
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
    return EXIT_OK if runs.passed(record) and not run_error else EXIT_FAILED


def publish(design: Any, job: Path, record: dict[str, Any], partial: bool,
             write_summary: Any) -> Path:
    """Keep the last good result (:mod:`flow.runs`): a complete passing run is promoted and
    ``build/<design>/signoff.json`` rewritten for it; a failed or partial attempt leaves that
    file describing the last good run (when there is one). Returns the signoff.json of this
    attempt's record."""
    design_dir = job.parent
    attempt = runs.run_entry(design_dir, job, record)
    previous = runs.read_latest(design_dir).get("complete") or {}
    kept = design_dir / str(previous.get("job", "")) if previous.get("job") else None
    if runs.passed(record) and not partial:
        good = runs.promote(job)
        path, good_record = write_summary(design, good.name)
        runs.drop_older_copies(good)
        runs.write_latest(design_dir, attempt, runs.run_entry(design_dir, good, good_record))
        print(f"kept as the latest good run: {good} ({path} describes it)")
        return path
    if kept is not None and kept.is_dir():
        runs.write_latest(design_dir, attempt, None)
        print(f"this attempt did not pass: its record is {job / 'signoff.json'}; "
              f"{design_dir / 'signoff.json'} still describes the last good run {kept.name}")
        return job / "signoff.json"
    path, _ = write_summary(design, job.name)  # nothing good to keep: describe this attempt
    runs.write_latest(design_dir, attempt, None)
    return path


if __name__ == "__main__":
    sys.exit(main())
