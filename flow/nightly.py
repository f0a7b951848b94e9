"""Nightly regression: run the flow for every regression design, compare with the goldens.

``python -m signoff.nightly`` (``make nightly``):

1. reads the design list from ``designs/regression.yaml`` (``designs: [probe, small]``);
2. creates a fresh run folder ``build/nightly/<run_id>/`` (never reused, so earlier results stay
   intact) and runs the flow once per design as a subprocess with ``GPTNANO_BUILD`` pointing at
   it, so ``python siliconcompiler.py --design <name>`` writes ``<run>/<name>/signoff.json``;
   then DFT (``python -m dft.run --design <name>``, ``dft.json``; ``--no-dft`` skips it); each
   stage's output goes to ``<run>/<name>/<stage>.log``;
3. checks each design's metrics against ``designs/<name>/rules.json`` (:mod:`flow.goldens`);
4. writes ``<run>/summary.txt`` and ``summary.json`` naming the metric, value and threshold of
   every failure, appends the run to the SQLite history (:mod:`reports.history`), rebuilds the
   dashboard (``reports/out/index.html``), and exits 1 if anything failed.

Parallelism (:func:`plan_parallelism`). Each design is one SiliconCompiler project, and SC
schedules its flow's nodes itself: locally up to ``option,scheduler,maxnodes`` at once (the flow
CLI's ``--jobs``), or with ``--scheduler slurm`` (handed to the flow CLI, which sets
``option,scheduler,name``) one Slurm job per node -- the build folder must then be on storage
shared by the cluster. SC 0.38 has no scheduler *across* projects, so the nightly starts the
designs' flows itself: one at a time locally (``--jobs N`` for N at once, each flow then gets
cores / N nodes unless ``--flow-jobs`` says otherwise), all at once with a cluster scheduler.
Options the user asks for are only forwarded when the flow's ``--help`` lists them; otherwise
the run stops with an error rather than silently running locally.

Testing and re-checking. ``--flow-cmd`` replaces the flow command (a template with ``{design}``
and ``{python}``); ``--skip-flow`` runs no flow and re-checks the results already in
``build/<name>/`` (copied into the run folder, so the record stays self-contained).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml

from flow import goldens
from gptnano.paths import REPO_ROOT, build_root
from reports import history
from reports.collect import ReportInputError

REGRESSION_FILE = REPO_ROOT / "designs" / "regression.yaml"
DEFAULT_FLOW_CMD = "{python} siliconcompiler.py --design {design}"
DEFAULT_DFT_CMD = "{python} -m dft.run --design {design}"
RUN_OUTPUTS = ("signoff.json", "dft.json")
LOG_TAIL_LINES = 15
DESIGN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


class NightlyError(RuntimeError):
    """The regression cannot start (bad design list, bad options); nothing was run."""


@dataclass(frozen=True)
class Options:
    designs: list[str]
    flow_cmd: str | None  # None = --skip-flow
    dft_cmd: str | None  # None = no DFT stage
    source_build: Path  # where --skip-flow reads results from
    run_root: Path
    designs_dir: Path
    jobs: int
    timeout_s: float
    flow_args: tuple[str, ...]


def read_regression(path: Path) -> list[str]:
    """The design names listed in ``designs/regression.yaml``."""
    if not path.is_file():
        raise NightlyError(f"{path}: regression list not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise NightlyError(f"{path}: not valid YAML ({exc})") from exc
    names = data.get("designs") if isinstance(data, dict) else None
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise NightlyError(f"{path}: expected 'designs:' with a non-empty list of design names")
    return check_names(names, str(path))


def check_names(names: list[str], where: str) -> list[str]:
    """Design names become folder names: a plain token each, no duplicates."""
    for name in names:
        if not DESIGN_NAME.fullmatch(name):
            raise NightlyError(f"{where}: design name {name!r} is not a plain folder name")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise NightlyError(f"{where}: designs listed twice: {', '.join(duplicates)}")
    return names


def git_rev() -> str | None:
    """The checked-out commit, read from .git without running git (None outside a checkout)."""
    head = REPO_ROOT / ".git" / "HEAD"
    try:
        ref = head.read_text().strip()
        if ref.startswith("ref: "):
            ref_file = REPO_ROOT / ".git" / ref[5:]
            if ref_file.is_file():
                return ref_file.read_text().strip()[:12]
            packed = (REPO_ROOT / ".git" / "packed-refs").read_text().splitlines()
            return next((line.split()[0][:12] for line in packed if line.endswith(ref[5:])), None)
        return ref[:12]
    except OSError:
        return None


def flow_command(template: str, design: str, extra: tuple[str, ...]) -> list[str]:
    cmd = shlex.split(template.format(python=shlex.quote(sys.executable), design=design))
    return cmd + list(extra)


def plan_parallelism(designs: int, jobs: int | None, scheduler: str | None,
                     flow_jobs: int | None, cpus: int | None = None) -> tuple[int, int | None]:
    """(designs run at once, nodes per flow) so the machine is not oversubscribed.

    SiliconCompiler has no scheduler across projects: each design is its own SC project, and SC
    schedules that project's nodes (locally up to ``option,scheduler,maxnodes``, or one
    cluster job per node with ``option,scheduler,name``). So with a cluster scheduler every
    design is launched at once (this machine only submits and waits); locally one design runs
    at a time unless ``--jobs`` says otherwise, and then each flow gets an equal share of the
    cores as its maxnodes (``--jobs`` of the flow CLI) unless ``--flow-jobs`` is given.
    """
    if jobs is None:
        jobs = designs if scheduler else 1
    jobs = max(1, jobs)
    if flow_jobs is None and not scheduler and jobs > 1:
        flow_jobs = max(1, (cpus or os.cpu_count() or 1) // jobs)
    return jobs, flow_jobs


def forwardable(template: str, wanted: dict[str, str | None],
                optional: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """Flow options to pass on, after checking the flow's ``--help`` advertises each of them.

    An option the user asked for and the flow does not accept stops the run; an ``optional``
    one (a default the nightly derived itself) is then left out."""
    requested = {k: v for k, v in wanted.items() if v is not None}
    if not requested:
        return ()
    cmd = shlex.split(template.format(python=shlex.quote(sys.executable), design="_")) + ["--help"]
    try:
        proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NightlyError(f"cannot ask the flow for its options ({' '.join(cmd)}): {exc}") from exc
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise NightlyError(f"'{' '.join(cmd)}' failed with {proc.returncode}: {' | '.join(tail)}")
    helptext = proc.stdout
    args: list[str] = []
    for option, value in requested.items():
        if option not in helptext and option in optional:
            continue
        if option not in helptext:
            raise NightlyError(f"the flow command does not accept {option} (not in "
                               f"'{' '.join(cmd)}' output); run without it")
        args += [option, value]
    return tuple(args)


def run_stage(stage: str, cmd: list[str], out: Path, run_dir: Path, timeout_s: float
              ) -> tuple[int | None, float, str]:
    """Run one stage command with ``GPTNANO_BUILD=<run_dir>``; (rc, seconds, problem).

    The stage runs in its own process group, and a timeout ends the whole group: the flow's
    SiliconCompiler node processes would otherwise outlive a killed flow and keep the cores.
    """
    env = dict(os.environ, GPTNANO_BUILD=str(run_dir))
    log = out / f"{stage}.log"
    start = time.monotonic()
    with log.open("w") as handle:
        handle.write(f"$ {shlex.join(cmd)}\n")
        handle.flush()
        try:
            proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=handle,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        except FileNotFoundError as exc:
            return None, 0.0, f"{stage} command not found: {cmd[0]} ({exc.strerror})"
        try:
            returncode = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            end_group(proc)
            elapsed = time.monotonic() - start
            return None, elapsed, (f"{stage} timed out after {timeout_s:.0f} s, see {log}; "
                                   f"it was at:\n    " + "\n    ".join(log_tail(log, 3)))
        except BaseException:
            end_group(proc)  # Ctrl-C: do not leave the flow running behind the nightly
            raise
    seconds = time.monotonic() - start
    if returncode != 0:
        tail = log_tail(log, LOG_TAIL_LINES)
        return returncode, seconds, (f"{stage} exited with {returncode} "
                                     f"({shlex.join(cmd)}), see {log}:\n    "
                                     + "\n    ".join(tail))
    return 0, seconds, ""


def log_tail(log: Path, lines: int) -> list[str]:
    return log.read_text(errors="replace").splitlines()[-lines:]


def end_group(proc: subprocess.Popen) -> None:
    """Terminate a stage's process group (SIGTERM, then SIGKILL after 10 s) and reap it."""
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=grace)
            break
        except subprocess.TimeoutExpired:
            continue
    proc.wait()
    try:  # members that ignored SIGTERM after the leader exited
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run_flow(design: str, run_dir: Path, opts: Options) -> history.DesignRecord:
    """Run the flow (then DFT) for one design into ``run_dir/<design>``."""
    out = run_dir / design
    out.mkdir(parents=True)
    if opts.flow_cmd is None:
        copied = [name for name in RUN_OUTPUTS if (opts.source_build / design / name).is_file()]
        for name in copied:
            shutil.copy2(opts.source_build / design / name, out / name)
        message = "" if copied else f"no results in {opts.source_build / design} (--skip-flow)"
        return history.DesignRecord(design, "pending", message)
    stages = [("flow", flow_command(opts.flow_cmd, design, opts.flow_args))]
    if opts.dft_cmd:
        stages.append(("dft", flow_command(opts.dft_cmd, design, ())))
    total = 0.0
    for stage, cmd in stages:
        if stage == "dft" and (out / "dft.json").is_file():
            continue  # the flow ran DFT itself (config dft.enable); do not run it twice
        rc, seconds, problem = run_stage(stage, cmd, out, run_dir, opts.timeout_s)
        total += seconds
        if problem:
            return history.DesignRecord(design, "flow_error", problem, rc, total)
    return history.DesignRecord(design, "pending", "", 0, total)


def evaluate(record: history.DesignRecord, run_dir: Path, designs_dir: Path) -> None:
    """Fill in metrics and golden checks of one design's finished run."""
    folder = run_dir / record.design
    if record.status == "flow_error":
        # The flow exits non-zero when signoff fails; its signoff.json still says which metric
        # failed, so the goldens are checked to name it (the run stays failed either way).
        if (folder / "signoff.json").is_file():
            flow_problem = record.message
            record.status = "pending"
            evaluate(record, run_dir, designs_dir)
            if record.status != "fail":
                record.status = "flow_error"
            record.message = "; ".join(m for m in (record.message, flow_problem) if m)
        return
    if not (folder / "signoff.json").is_file():
        record.status = "no_metrics"
        record.message = record.message or f"the flow succeeded but wrote no {folder}/signoff.json"
        return
    try:
        metrics = goldens.run_metrics(folder, record.design, designs_dir)
    except (goldens.GoldenError, ReportInputError) as exc:
        record.status, record.message = "invalid", str(exc)
        return
    record.metrics = goldens.flatten(metrics)
    try:
        rules = goldens.load_rules(goldens.rules_path(record.design, designs_dir))
    except goldens.GoldenError as exc:
        record.status, record.message = "no_rules", str(exc)
        return
    results = goldens.check(rules, metrics)
    record.checks = [(r.rule.metric, r.rule.compare, r.rule.value, r.measured, r.passed)
                     for r in results]
    failures = [r.describe() for r in results if not r.passed]
    record.status = "fail" if failures else "pass"
    record.message = "; ".join(failures)


def summary_text(run: history.RunRecord) -> str:
    lines = [f"nightly {run.run_id} ({run.started_utc} .. {run.finished_utc}, rev {run.git_rev})",
             f"run folder: {run.run_dir}"]
    for d in run.designs:
        timing = f" [{d.flow_s:.0f} s]" if d.flow_s is not None else ""
        lines.append(f"{d.status.upper():10} {d.design}{timing}")
        failed_checks = [f"    FAIL {d.design}: {metric} = "
                         f"{'not reported' if value is None else json.dumps(value)} "
                         f"(golden: {compare} {json.dumps(threshold)})"
                         for metric, compare, threshold, value, ok in d.checks if not ok]
        lines += failed_checks
        if d.flow_rc not in (0, None) or (d.message and not failed_checks):
            lines.append(f"    {d.message.split('; ')[-1] if failed_checks else d.message}")
    verdict = "PASSED" if run.passed else "FAILED"
    failing = sum(d.status != "pass" for d in run.designs)
    lines.append(f"{verdict}: {len(run.designs) - failing}/{len(run.designs)} designs pass")
    return "\n".join(lines) + "\n"


def progress(text: str) -> None:
    """One timestamped status line (designs run for minutes to hours; the nightly must not be
    silent meanwhile). ``print`` of one string is one write, so threads do not interleave."""
    print(f"[{datetime.now(UTC):%H:%M:%S}] {text}", flush=True)


def new_run_dir(root: Path) -> tuple[str, Path]:
    run_id = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"
    path = root / run_id
    path.mkdir(parents=True)  # exist_ok=False: never write into an earlier run
    return run_id, path


def run_nightly(opts: Options) -> history.RunRecord:
    started = datetime.now(UTC)
    run_id, run_dir = new_run_dir(opts.run_root)

    total = len(opts.designs)
    done: list[str] = []

    def one(design: str) -> history.DesignRecord:
        if not (opts.designs_dir / design / "config.yaml").is_file() and opts.flow_cmd:
            (run_dir / design).mkdir()
            record = history.DesignRecord(design, "flow_error", f"no design config "
                                          f"{opts.designs_dir / design / 'config.yaml'}")
        else:
            progress(f"start  {design} (log: {run_dir / design}/flow.log)")
            record = run_flow(design, run_dir, opts)
            evaluate(record, run_dir, opts.designs_dir)
        done.append(design)
        took = f" in {record.flow_s:.0f} s" if record.flow_s else ""
        reason = record.message.splitlines()[0][:160] if record.message else ""
        progress(f"finish {design}: {record.status.upper()}{took} ({len(done)}/{total} done)"
                 + (f" -- {reason}" if reason else ""))
        return record

    progress(f"nightly {run_id}: {total} designs ({', '.join(opts.designs)}), "
             f"{max(1, opts.jobs)} at a time; results in {run_dir}")

    with ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
        records = list(pool.map(one, opts.designs))
    flow = "skip-flow: " + str(opts.source_build) if opts.flow_cmd is None else \
        " ".join([opts.flow_cmd, *opts.flow_args]) + (f"; {opts.dft_cmd}" if opts.dft_cmd else "")
    return history.RunRecord(run_id, started.strftime("%Y-%m-%dT%H:%M:%SZ"),
                             datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), git_rev(),
                             flow, str(run_dir), records)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m signoff.nightly", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--designs", help="comma-separated designs (default: regression list)")
    parser.add_argument("--regression", type=Path, default=REGRESSION_FILE)
    parser.add_argument("--designs-dir", type=Path, default=REPO_ROOT / "designs")
    parser.add_argument("--flow-cmd", default=DEFAULT_FLOW_CMD,
                        help="flow command template, {design} and {python} substituted "
                             f"(default: '{DEFAULT_FLOW_CMD}')")
    parser.add_argument("--dft-cmd", default=DEFAULT_DFT_CMD,
                        help=f"DFT command run after the flow (default: '{DEFAULT_DFT_CMD}')")
    parser.add_argument("--no-dft", action="store_true", help="run the flow only")
    parser.add_argument("--flow-arg", action="append", default=[],
                        help="extra argument appended to the flow command (repeatable)")
    parser.add_argument("--skip-flow", action="store_true",
                        help="run no flow; re-check the results already in build/<design>/")
    parser.add_argument("--build", type=Path, default=None,
                        help="build tree (default: GPTNANO_BUILD or <repo>/build)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="designs run at the same time (default: 1 locally, all with "
                             "--scheduler)")
    parser.add_argument("--scheduler", choices=("slurm", "lsf", "sge"),
                        help="SiliconCompiler scheduler for the flow's steps (forwarded)")
    parser.add_argument("--flow-jobs", type=int,
                        help="parallel steps inside one flow (forwarded as --jobs; default "
                             "with --jobs N locally: cores / N)")
    parser.add_argument("--timeout", type=float, default=4 * 3600, help="seconds per flow")
    parser.add_argument("--db", type=Path, default=history.DEFAULT_DB)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "reports" / "out",
                        help="dashboard folder")
    parser.add_argument("--no-dashboard", action="store_true")
    args = parser.parse_args(argv)

    build = args.build.resolve() if args.build else build_root()
    try:
        designs = (check_names([d.strip() for d in args.designs.split(",") if d.strip()],
                               "--designs") if args.designs else read_regression(args.regression))
        jobs, flow_jobs = plan_parallelism(len(designs), args.jobs, args.scheduler,
                                           args.flow_jobs)
        wanted = {"--scheduler": args.scheduler,
                  "--jobs": str(flow_jobs) if flow_jobs else None}
        derived = frozenset() if args.flow_jobs else frozenset({"--jobs"})
        forwarded = () if args.skip_flow else forwardable(args.flow_cmd, wanted, derived)
    except NightlyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    opts = Options(designs=designs, flow_cmd=None if args.skip_flow else args.flow_cmd,
                   dft_cmd=None if args.no_dft or args.skip_flow else args.dft_cmd,
                   source_build=build, run_root=build / "nightly", designs_dir=args.designs_dir,
                   jobs=jobs, timeout_s=args.timeout,
                   flow_args=tuple(args.flow_arg) + forwarded)
    run = run_nightly(opts)
    text = summary_text(run)
    run_dir = Path(run.run_dir)
    (run_dir / "summary.txt").write_text(text)
    (run_dir / "summary.json").write_text(json.dumps(
        {"run_id": run.run_id, "passed": run.passed,
         "designs": [{"design": d.design, "status": d.status, "message": d.message,
                      "failures": [{"metric": m, "value": v, "compare": c, "threshold": t}
                                   for m, c, t, v, ok in d.checks if not ok]}
                     for d in run.designs]}, indent=2))
    print(text, end="")
    try:
        history.record_run(args.db, run)
    except history.HistoryError as exc:
        print(f"error: results not recorded: {exc}", file=sys.stderr)
        return 2
    if not args.no_dashboard:
        from reports import dashboard

        index = dashboard.build(out=args.out, build=build, db=args.db,
                                designs_dir=args.designs_dir)
        print(f"dashboard: {index}")
    print(f"history: {args.db}")
    return 0 if run.passed else 1


if __name__ == "__main__":
    sys.exit(main())
