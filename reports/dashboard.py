"""Render the static PPA dashboard: ``python -m reports.dashboard`` -> ``reports/out/index.html``.

The index shows the current results under ``build/``, the plots, the layout pictures and the
nightly history from SQLite; each nightly run gets its own page (``runs/<run_id>.html``). Pages
are plain HTML with relative links and PNG images -- no JavaScript, no server -- so the folder
opens from disk and can be archived as a CI artifact.

All run data is untrusted (design names and report paths come from files anyone can edit):
Jinja2 autoescaping is on for every template, links are percent-quoted relative paths, and file
names derived from design names are reduced to a safe alphabet plus a hash.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import pandas as pd

from gptnano import metrics as registry
from gptnano.paths import REPO_ROOT, build_root
from reports import history, layout, node_reports, plots
from reports.collect import (
    CORNERS,
    DesignRun,
    ReportInputError,
    discover_designs,
    load_design_run,
    load_dv_latency,
    load_experiments,
    load_manifest,
    load_perf,
    resolve_report,
)
from reports.ppa import (
    COLUMNS,
    SLACK_KEYS,
    SUMMARY,
    Context,
    compact,
    pareto_points,
    ppa_frame,
    ppa_rows,
    rtl_only_configs,
    short_reason,
)

TEMPLATES = Path(__file__).parent / "templates"
DEFAULT_OUT = REPO_ROOT / "reports" / "out"


@dataclass(frozen=True)
class Image:
    path: Path
    alt: str


def repo_relative(text: Any) -> str:
    """Messages with repository paths shortened (``build/...``): the page stays readable and a
    published dashboard or screenshot does not show the machine's folder layout."""
    return str(text).replace(f"{REPO_ROOT}{os.sep}", "")


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["short"] = repo_relative
    env.filters["compact"] = compact
    env.filters["reason"] = lambda message: short_reason([message] if message else [], 120)
    return env


def safe_name(name: str) -> str:
    """A file-name-safe, collision-free token for an untrusted design name or run id."""
    slug = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:40].lstrip(".") or "x"
    return f"{slug}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"


def linker(page_dir: Path) -> Any:
    def link(path: Path | str) -> str:
        return quote(os.path.relpath(Path(path).resolve(), page_dir.resolve()))
    return link


def render(page: Path, template: str, **values: Any) -> Path:
    page.parent.mkdir(parents=True, exist_ok=True)
    html = environment().get_template(template).render(
        link=linker(page.parent), columns=COLUMNS, summary_columns=SUMMARY,
        slack_keys=SLACK_KEYS,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), **values)
    page.write_text(html)
    return page


def load_context(designs_dir: Path, experiments: Path, manifest: Path,
                 problems: list[str], dv_runs: Path | None = None,
                 perf: Path | None = None) -> Context:
    """Model results, RTL manifest, DV latency and the cycle model's table (perf.json) shared
    by every row; bad files -> problems."""
    frame = data = perf_data = None
    try:
        frame = load_experiments(experiments)
    except ReportInputError as exc:
        problems.append(str(exc))
    try:
        data = load_manifest(manifest)
    except ReportInputError as exc:
        problems.append(str(exc))
    latency = load_dv_latency(dv_runs, problems) if dv_runs is not None else {}
    if perf is not None:
        try:
            perf_data = load_perf(perf)
        except ReportInputError as exc:
            problems.append(str(exc))
    return Context(frame, experiments, data, manifest, designs_dir, latency, perf_data,
                   perf.resolve() if perf_data is not None and perf is not None else None)


def load_runs(names: list[str], folder: Path, problems: list[str]) -> list[DesignRun]:
    runs = [load_design_run(name, folder / name) for name in names]
    for run in runs:
        problems.extend(run.errors)
    return runs


def step_runtimes(run: DesignRun) -> dict[str, float]:
    """signoff.json's ``runtime__total__step:<node>`` (seconds per flow node)."""
    steps: dict[str, float] = {}
    for name, value in ((run.signoff or {}).get("metrics") or {}).items():
        base, kind, node = registry.split(name)
        if base == "runtime__total" and kind == "step" and isinstance(value, int | float):
            steps[str(node)] = float(value)
    return steps


def timelines(runs: list[DesignRun]) -> dict[str, node_reports.Timeline | None]:
    """Each design's node timeline from the job signoff.json names (None: no SC manifest)."""
    out: dict[str, node_reports.Timeline | None] = {}
    for run in runs:
        job = node_reports.job_folder(run.folder, run.signoff)
        out[run.name] = node_reports.timeline(job, step_runtimes(run)) if job else None
    return out


def fresh(target: Path, source: Path) -> bool:
    return target.is_file() and target.stat().st_mtime >= source.stat().st_mtime


def find_def(run: DesignRun) -> Path | None:
    """The placed DEF: signoff.json ``def`` or ``reports.def``, else the newest in the job
    folder signoff.json names (the design folder for a record without ``job``)."""
    if run.signoff and run.signoff_path:
        for entry in (run.signoff.get("def"), (run.signoff.get("reports") or {}).get("def")):
            if isinstance(entry, str) and (found := resolve_report(entry, run.folder)):
                return found
    # the job signoff.json came from, not a newer job of the same design that did not finish
    folder = node_reports.job_folder(run.folder, run.signoff) or run.folder
    candidates = sorted(folder.rglob("*.def"), key=lambda p: p.stat().st_mtime)
    return candidates[-1] if candidates else None


def layout_images(runs: list[DesignRun], img_dir: Path, notes: list[str],
                  problems: list[str]) -> dict[str, list[Image]]:
    """Per design: KLayout picture of the GDS (full and zoomed), the DEF's cell density and
    the global router's congestion map; pictures are redrawn only when their source changed."""
    images: dict[str, list[Image]] = {}
    for run in runs:
        out = images.setdefault(run.name, [])
        gds_entry = (run.signoff or {}).get("gds")
        gds = resolve_report(gds_entry, run.folder) if isinstance(gds_entry, str) else None
        if gds is not None:
            png = img_dir / f"layout-{safe_name(run.name)}.png"
            zoom = img_dir / f"layout-zoom-{safe_name(run.name)}.png"
            try:
                if not (fresh(png, gds) and fresh(zoom, gds)):
                    pic = layout.render_klayout(gds, png, zoom)
                    notes.append(f"{run.name}: {gds.name} (top {pic.top}) drawn by KLayout with "
                                 f"the PDK layer properties in {pic.seconds:.2f} s")
                out += [Image(png, f"layout of {run.name} (KLayout)"),
                        Image(zoom, f"layout of {run.name}, {layout.ZOOM_UM:.0f} µm at the "
                                    "centre")]
            except layout.LayoutError as exc:
                problems.append(str(exc))
        elif isinstance(gds_entry, str):
            problems.append(f"{run.signoff_path}: gds {gds_entry!r} does not exist")
        def_path = find_def(run)
        if def_path is not None:
            png = img_dir / f"density-{safe_name(run.name)}.png"
            try:
                if not fresh(png, def_path):
                    layout.render_density(def_path, png, run.name)
                out.append(Image(png, f"cell density of {run.name}"))
            except layout.LayoutError as exc:
                problems.append(str(exc))
        job = node_reports.job_folder(run.folder, run.signoff)
        congestion = node_reports.congestion_map(job) if job else None
        if congestion is not None:
            out.append(Image(congestion, f"global-routing congestion of {run.name}"))
    return images


def design_page(folder: Path, run: DesignRun, row: dict, layouts: list[Image],
                index: Path) -> Path:
    """``<folder>/<design>.html``: every PPA figure of one design, its failures, failed nets,
    DRC by rule, the worst setup and hold path per corner, the node timeline and pictures
    (``designs/`` for the current results, ``runs/<id>/designs/`` for a nightly run)."""
    page = folder / f"{safe_name(run.name)}.html"
    job = node_reports.job_folder(run.folder, run.signoff)
    route = node_reports.route_summary(job) if job else None
    drc = node_reports.drc_by_rule(job) if job else None
    paths = {check: node_reports.worst_paths(job, check) if job else {}
             for check in ("setup", "hold")}
    images = list(layouts)
    tl = node_reports.timeline(job, step_runtimes(run)) if job else None
    if tl is not None and tl.spans and tl.source is not None:
        png = folder / f"timeline-{safe_name(run.name)}.png"
        if not fresh(png, tl.source):  # a finished job's manifest no longer changes
            plots.plot_timeline(run.name, tl, png)
        images.insert(0, Image(png, f"node timeline of {run.name}"))
    failures = [str(f) for f in (run.signoff or {}).get("failures") or []]
    skipped = [str(s) for s in (run.signoff or {}).get("not_run") or []]
    failed_nets = None
    if route is not None:
        metrics = route[0]
        failed_nets = metrics.get("route__net__failed", metrics.get("failed_nets"))
    return render(page, "design.html.j2", title=f"{run.name}: run details", run=run, row=row,
                  job=job, route=route, failed_nets=failed_nets, drc=drc, paths=paths,
                  failures=failures, skipped=skipped, timeline=tl, plots=images,
                  corners=sorted(set(paths["setup"]) | set(paths["hold"]),
                                 key=lambda c: (CORNERS + (c,)).index(c)),
                  problems=run.errors, index=index)


def run_plots(runs: list[DesignRun], rows: list, ctx: Context, img_dir: Path,
              points: pd.DataFrame, notes: list[str]) -> list[Image]:
    frame = ppa_frame(rows)
    return [
        Image(plots.plot_pareto(points, img_dir / "pareto.png", notes),
              "Pareto: perplexity vs area x latency"),
        Image(plots.plot_area_power(frame, img_dir / "area_power.png"), "area and power"),
        Image(plots.plot_critical_paths(timelines(runs), img_dir / "runtime.png"),
              "runtime along the critical path"),
    ]


def snapshot_plots(runs: list[DesignRun], rows: list, img_dir: Path) -> list[Image]:
    """Area/power and runtime plots of a finished nightly run, drawn once.

    A run folder does not change after the run, so its pictures are reused on later rebuilds:
    the dashboard's cost stays flat as the history grows.
    """
    area, runtime = img_dir / "area_power.png", img_dir / "runtime.png"
    if not area.is_file():
        plots.plot_area_power(ppa_frame(rows), area)
    if not runtime.is_file():
        plots.plot_critical_paths(timelines(runs), runtime)
    return [Image(area, "area and power"), Image(runtime, "runtime along the critical path")]


def build_run_page(out: Path, run: dict[str, Any], db: Path, ctx: Context
                   ) -> tuple[Path, list[dict[str, Any]], list[dict[str, Any]]]:
    """``runs/<run_id>.html``: results, golden checks and PPA of one nightly run;
    returns (page, PPA rows, per-design results)."""
    page = out / "runs" / f"{safe_name(run['run_id'])}.html"
    run_dir = history.run_folder(run["run_dir"])
    results = history.results_frame(db, run["run_id"]).to_dict("records")
    problems: list[str] = []
    names = [r["design"] for r in results]
    runs = load_runs(names, run_dir, problems) if run_dir.is_dir() else []
    runs = [r for r in runs if r.signoff is not None or r.dft is not None]
    rows = ppa_rows(runs, ctx)
    img_dir = out / "runs" / safe_name(run["run_id"])
    images = snapshot_plots(runs, rows, img_dir) if runs else []
    layouts = layout_images(runs, img_dir, [], problems)  # drawn once per run
    for pictures in layouts.values():
        images += pictures
    pages = {r.name: design_page(img_dir / "designs", r, row, layouts.get(r.name, []), page)
             for r, row in zip(runs, rows, strict=True)}
    summary = run_dir / "summary.txt"
    for r in results:
        r["flow_s"] = None if pd.isna(r["flow_s"]) else r["flow_s"]
    checks = history.checks_frame(db, run["run_id"]).to_dict("records")
    render(page, "run.html.j2", title=f"nightly {run['run_id']}", run=run, results=results,
           checks=checks, rows=rows, plots=images, problems=problems, pages=pages,
           summary=summary if summary.is_file() else None, index=out / "index.html")
    return page, rows, results


def build(out: Path = DEFAULT_OUT, build: Path | None = None, db: Path = history.DEFAULT_DB,
          designs_dir: Path = REPO_ROOT / "designs",
          experiments: Path = REPO_ROOT / "model" / "experiments.csv",
          manifest: Path = REPO_ROOT / "rtl" / "manifest.json") -> Path:
    """Write the whole dashboard into ``out``; return the index page."""
    build = build or build_root()
    out.mkdir(parents=True, exist_ok=True)
    img = out / "img"
    problems: list[str] = []
    ctx = load_context(designs_dir, experiments, manifest, problems, build / "dv" / "runs",
                       build / "design" / "perf.json")
    names, config_errors = discover_designs(build, designs_dir)
    runs = load_runs(names, build, problems)
    rows = ppa_rows(runs, ctx)
    folders = {p.parent.name for p in designs_dir.glob("*/config.yaml")}
    rtl_runs = load_runs(rtl_only_configs(ctx, sorted(folders | set(names))), build, problems)
    rtl_rows = ppa_rows(rtl_runs, ctx)
    csv = out / "ppa.csv"
    ppa_frame(rows + rtl_rows).to_csv(csv, index=False)
    points, pareto_notes = pareto_points(runs + rtl_runs, ctx)
    images = run_plots(runs + rtl_runs, rows + rtl_rows, ctx, img, points, pareto_notes)
    try:
        history_runs = history.runs_frame(db)
        trends = history.metrics_history(db)
        updates = history.golden_updates_frame(db).to_dict("records")
    except history.HistoryError as exc:
        problems.append(str(exc))
        history_runs, trends, updates = pd.DataFrame(), pd.DataFrame(), []
    images.append(Image(plots.plot_trends(trends, img / "trends.png"), "nightly trends"))
    notes: list[str] = []
    layouts = layout_images(runs, img, notes, problems)
    index = out / "index.html"
    pages = {run.name: design_page(out / "designs", run, row, layouts.get(run.name, []), index)
             for run, row in zip(runs, rows, strict=True)}
    full = render(out / "ppa.html", "ppa.html.j2", title="gpt-nano-asic: every PPA column",
                  rows=rows + rtl_rows, pages=pages, index=index, csv=csv, problems=[])
    run_list, latest_rows, latest_results = [], [], []
    for run in history_runs.to_dict("records"):  # newest first
        run["page"], rows_of_run, results = build_run_page(out, run, db, ctx)
        if not run_list:
            latest_rows, latest_results = rows_of_run, results
        run_list.append(run)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    return render(out / "index.html", "index.html.j2", title="gpt-nano-asic PPA",
                  build=history.portable(str(build)), db=history.portable(str(db)),
                  rows=rows, csv=csv, plots=images, layouts=layouts, layout_notes=notes,
                  pages=pages, config_errors=config_errors, full=full,
                  runs=run_list, latest_rows=latest_rows, latest_results=latest_results,
                  problems=problems,
                  golden_updates=updates, pareto=points.to_dict("records"),
                  pareto_notes=pareto_notes,
                  experiments=experiments if ctx.experiments is not None else None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports.dashboard", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--build", type=Path, default=None,
                        help="build tree (default: GPTNANO_BUILD or <repo>/build)")
    parser.add_argument("--db", type=Path, default=history.DEFAULT_DB)
    parser.add_argument("--designs-dir", type=Path, default=REPO_ROOT / "designs")
    parser.add_argument("--experiments", type=Path, default=REPO_ROOT / "model" / "experiments.csv")
    parser.add_argument("--manifest", type=Path, default=REPO_ROOT / "rtl" / "manifest.json")
    args = parser.parse_args(argv)
    index = build(args.out, args.build.resolve() if args.build else None, args.db,
                  args.designs_dir, args.experiments, args.manifest)
    print(f"dashboard: {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
