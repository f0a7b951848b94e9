"""``python -m signoff.check --design X`` (``make signoff``): signoff on an existing run.

Re-runs the signoff nodes (STA at every corner, power, KLayout DRC, Magic DRC, LVS) of the
design's existing job -- SiliconCompiler's ``from`` reuses the layout nodes as they are -- and
rewrites ``build/<design>/signoff.json``. ``--collect-only`` runs nothing and only rebuilds
the job's ``signoff.json`` from the node records (``build/<design>/signoff.json`` follows only
a complete passing run, :func:`flow.cli.publish`). Exit status 0 only if the run passes
signoff.
"""

from __future__ import annotations

import argparse
import sys

from gptnano.design_config import DesignConfigError, load_design

SIGNOFF_STEPS = ("sta", "power", "drc_klayout", "drc_magic", "antenna", "lvs")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--design", required=True)
    ap.add_argument("--jobname", default="job0")
    ap.add_argument("--engine", default="embedded", choices=("embedded",),
                    help="only the embedded flow's nodes write the records this reads")
    ap.add_argument("--collect-only", action="store_true",
                    help="only rebuild signoff.json from the existing node records")
    args = ap.parse_args(argv)
    try:
        design = load_design(args.design)
    except DesignConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from flow.cli import publish
    from flow.summary import SummaryError, job_dir, read_plan, summarize, write_summary
    from gptnano.fileio import atomic_write_json

    job = job_dir(design, args.jobname)
    try:
        plan = read_plan(job)
    except SummaryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.collect_only:
        from flow.cli import main as flow_main

        steps = [s for s in SIGNOFF_STEPS if any(n[0] == s for n in plan["nodes"])]
        flow_args = ["--design", args.design, "--jobname", args.jobname,
                     "--engine", args.engine]
        for step in steps:
            flow_args += ["--from", step]
        return flow_main(flow_args)
    try:
        record = summarize(design, job)
    except SummaryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    atomic_write_json(job / "signoff.json", record)
    # as after a run: build/<design>/signoff.json moves only to a complete passing run
    path = publish(design, job, record, partial=False, write_summary=write_summary)
    passed = record["metrics"]["flow__passed"]
    print(f"{path}: flow__passed={passed}")
    for failure in record["failures"]:
        print(f"  FAILED {failure}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
