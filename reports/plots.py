"""Dashboard plots drawn with matplotlib (object API, no pyplot: no GUI backend, no global state).

Each function takes plain data, writes one PNG and returns its path. When there is nothing to
draw yet (a stage has not run), the picture says which input is missing instead of being
omitted, so the page layout stays the same and the reader sees why it is empty.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from reports.node_reports import Timeline

DPI = 110


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    return path


def _empty(path: Path, title: str, message: str) -> Path:
    fig = Figure(figsize=(6, 2.2))
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.45, message, ha="center", va="center", wrap=True, fontsize=10, color="#555")
    return _save(fig, path)


def pareto_front(points: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Points not dominated on (x, y), both minimised; sorted by x."""
    ordered = points.sort_values([x, y])
    best = float("inf")
    keep = []
    for index, row in ordered.iterrows():
        if row[y] < best:
            keep.append(index)
            best = row[y]
    return ordered.loc[keep]


def plot_pareto(points: pd.DataFrame, path: Path, notes: list[str] | None = None) -> Path:
    """Validation perplexity vs area × cycles per token for every (hardware config, model
    variant) pair: one colour per config, filled circles for a signed-off layout area, hollow
    triangles for a synthesis estimate (cell area only), hollow squares for an estimate made
    from RTL that has changed since, a cross for a layout that did not pass signoff; the Pareto
    front over all points. Configs without a point (and stale estimates) are named below."""
    title = "Perplexity vs area × latency"
    notes = notes or []
    if points.empty:
        return _empty(path, title, "no (hardware config, model variant) pair has perplexity, "
                      "area and cycles/token yet\n" + "\n".join(notes[:6]))
    fig = Figure(figsize=(7.2, 4.6))
    ax = fig.add_subplot()
    span = float(points["val_ppl"].max() - points["val_ppl"].min()) or 1.0
    palette = matplotlib.colormaps["tab10"].colors
    for k, (config, group) in enumerate(points.groupby("config", sort=True)):
        colour = palette[k % len(palette)]
        for kind, sub in group.groupby("area_kind"):
            style = PARETO_STYLE.get(str(kind), PARETO_STYLE["layout, signoff not passed"])
            candidate = "candidate, " if bool(sub.get("candidate", pd.Series([False])).any()) \
                else ""
            # an "x" is a line marker, coloured by its face (edgecolors on it is a warning)
            paint = {"color": colour} if style["marker"] == "x" else \
                {"edgecolors": colour, "facecolors": colour if style["filled"] else "none"}
            ax.scatter(sub["area_x_latency"], sub["val_ppl"], s=44,
                       label=f"{config} ({candidate}{kind})", marker=style["marker"],
                       linewidths=1.3, **paint)
        for (x, y), label in _merged_labels(group, span).items():
            ax.annotate(label, (x, y), fontsize=7, xytext=(4, 2), textcoords="offset points",
                        color=colour)
    front = pareto_front(points, "area_x_latency", "val_ppl")
    ax.step(front["area_x_latency"], front["val_ppl"], where="post", color="k", lw=1,
            label="Pareto front")
    ax.set_xscale(pareto_x_scale(points["area_x_latency"]))
    unit = "µm² · cycles/token"
    if ax.get_xscale() == "linear":  # the power of ten once, in the label, not on every tick
        exponent = int(math.floor(math.log10(max(float(points["area_x_latency"].max()), 1.0))))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 10 ** exponent:g}"))
        unit = f"10^{exponent} {unit}"
    ax.set_xlabel(f"area × latency ({unit}); area: layout core or synthesized cells")
    ax.set_ylabel("validation perplexity")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    ax.grid(alpha=0.3)
    if notes:  # under the legend, one line per left-out config
        ax.text(0.0, -0.34, "left out or caveats:\n" + "\n".join(notes), transform=ax.transAxes,
                fontsize=7, color="#555", va="top")
    return _save(fig, path)


def pareto_x_scale(values: pd.Series) -> str:
    """"log" when the area × latency values span a decade or more, else "linear": inside one
    decade a log axis has no major tick, and matplotlib then labels every minor tick in full
    ("2.375×10^11", "2.4×10^11", ...), which overprints (l1_g2's variants alone, 2.37e11 to
    2.56e11, did)."""
    positive = values[values > 0]
    if positive.empty:
        return "linear"
    return "log" if float(positive.max()) >= 10.0 * float(positive.min()) else "linear"


def _merged_labels(group: pd.DataFrame, span: float) -> dict[tuple[float, float], str]:
    """One label per cluster of a config's points at the same area × latency whose
    perplexities are within 3 % of the plot's range (w8a8, w8a8_group and smoothquant differ
    by 0.004): "w8a8 / w8a8_group / smoothquant" instead of three overprinted names."""
    out: dict[tuple[float, float], str] = {}
    for x, at_x in group.groupby("area_x_latency"):
        cluster: list[tuple[float, str]] = []
        for _, row in at_x.sort_values("val_ppl").iterrows():
            name = str(row["variant"]) + (" (fp32 ppl)" if "fp32" in str(row["note"]) else "")
            if cluster and row["val_ppl"] - cluster[0][0] <= 0.03 * span:
                cluster.append((float(row["val_ppl"]), name))
                continue
            if cluster:
                out[(float(x), cluster[0][0])] = " / ".join(n for _, n in cluster)
            cluster = [(float(row["val_ppl"]), name)]
        if cluster:
            out[(float(x), cluster[0][0])] = " / ".join(n for _, n in cluster)
    return out


PARETO_STYLE = {"signed-off": {"marker": "o", "filled": True},
                "synthesis estimate": {"marker": "^", "filled": False},
                "synthesis estimate of older RTL": {"marker": "s", "filled": False},
                "layout, signoff not passed": {"marker": "x", "filled": True}}


def plot_area_power(frame: pd.DataFrame, path: Path) -> Path:
    """Area breakdown (cells / core whitespace / die margin) and power (dynamic / leakage)."""
    title = "Area and power breakdown"
    have_area = frame["design__core__area"].notna().any() if not frame.empty else False
    have_power = frame["power__total"].notna().any() if not frame.empty else False
    if not have_area and not have_power:
        return _empty(path, title, "no signoff.json with area or power yet")
    fig = Figure(figsize=(9, 3.6))
    ax_area, ax_power = fig.subplots(1, 2)
    names = frame["design"].astype(str).tolist()
    core_known = pd.to_numeric(frame["design__core__area"], errors="coerce")
    core = core_known.fillna(0)
    util = pd.to_numeric(frame["design__instance__utilization"], errors="coerce")
    reported = pd.to_numeric(frame["synth__design__instance__area"], errors="coerce")
    cell_area = reported.fillna(core * util).fillna(0)
    # a run that stopped after synthesis has a cell area but no core: no whitespace bar
    whitespace = (core - cell_area).where(reported.notna() | util.notna(), core)
    whitespace = whitespace.where(core_known.notna(), 0).clip(lower=0)
    die = pd.to_numeric(frame["design__die__area"], errors="coerce")
    margin = (die - core).where(die.notna(), 0).clip(lower=0)
    ax_area.bar(names, cell_area, label="standard cells (cell area, else utilization × core)")
    ax_area.bar(names, whitespace, bottom=cell_area, label="core whitespace")
    ax_area.bar(names, margin, bottom=cell_area + whitespace, label="die margin (die − core)")
    ax_area.set_ylabel("area (µm²)")
    ax_area.set_title("area")
    # legends below the axes and slanted design names: no text drawn over bars or labels
    ax_area.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    dynamic = pd.to_numeric(frame["power__dynamic__total"], errors="coerce")
    leakage = pd.to_numeric(frame["power__leakage__total"], errors="coerce")
    total = pd.to_numeric(frame["power__total"], errors="coerce")
    unsplit = total.where(dynamic.isna() | leakage.isna(), 0).fillna(0)
    ax_power.bar(names, dynamic.fillna(0), label="dynamic")
    ax_power.bar(names, leakage.fillna(0), bottom=dynamic.fillna(0), label="leakage")
    if unsplit.any():
        ax_power.bar(names, unsplit, bottom=dynamic.fillna(0) + leakage.fillna(0),
                     label="total (not split by the flow)")
    if total.isna().all() and dynamic.isna().all():
        ax_power.text(0.5, 0.5, "not run", ha="center", va="center", transform=ax_power.transAxes)
    ax_power.set_ylabel("power (mW)")
    ax_power.set_title("power")
    ax_power.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    for ax in (ax_area, ax_power):
        ax.tick_params(axis="x", labelsize=8, rotation=30)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
    fig.suptitle(title)
    return _save(fig, path)


def _node_label(node: tuple[str, str]) -> str:
    step, index = node
    return step if index == "0" else f"{step}/{index}"


def plot_critical_paths(timelines: dict[str, Timeline], path: Path) -> Path:
    """Each design's wall-clock time split along its flow's critical path.

    Steps that ran in parallel with the critical path (DRC next to LVS, the STA corners) are
    not stacked on top of it, so a bar is as long as the run took. Segment labels are written
    inside segments wide enough for them and left out otherwise (no overlapping text).
    """
    title = "Runtime along each flow's critical path"
    timelines = {d: t for d, t in timelines.items() if t is not None and t.critical}
    if not timelines:
        return _empty(path, title, "no flow job with recorded node times yet")
    fig = Figure(figsize=(8, 0.7 * len(timelines) + 1.8))
    ax = fig.add_subplot()
    palette = matplotlib.colormaps["tab20"].colors
    steps = sorted({_node_label(n) for tl in timelines.values() for n in tl.critical})
    colour = {step: palette[k % len(palette)] for k, step in enumerate(steps)}  # same per step
    wall = max(t.wall for t in timelines.values())
    for row, tl in enumerate(timelines.values()):
        for node in tl.critical:
            start, end = tl.spans[node]
            label = _node_label(node)
            ax.barh(row, end - start, left=start, color=colour[label], edgecolor="white",
                    linewidth=0.5)
            if end - start > 0.016 * wall * len(label):
                ax.text((start + end) / 2, row, label, ha="center", va="center",
                        fontsize=7, clip_on=True)
        kind = "" if tl.timed else " (runtimes along the graph)"
        ax.text(tl.wall, row, f" {tl.wall:.0f} s{kind}", va="center", fontsize=8)
    ax.legend(handles=[Patch(color=colour[s], label=s) for s in steps], fontsize=7,
              ncol=min(len(steps), 7), loc="upper center", bbox_to_anchor=(0.5, -0.2))
    ax.set_yticks(range(len(timelines)), [str(d) for d in timelines])
    ax.set_xlim(0, wall * 1.18)
    ax.invert_yaxis()
    ax.set_xlabel("seconds since the first node started")
    ax.set_title(title, fontsize=10)
    return _save(fig, path)


def plot_timeline(design: str, tl: Timeline, path: Path) -> Path:
    """Gantt chart of one job's nodes (start to end); the critical path in colour."""
    order = sorted(tl.spans, key=lambda n: tl.spans[n])
    fig = Figure(figsize=(7.5, 0.28 * len(order) + 1.3))
    ax = fig.add_subplot()
    critical = set(tl.critical)
    for row, node in enumerate(order):
        start, end = tl.spans[node]
        ax.barh(row, max(end - start, tl.wall * 0.002), left=start,
                color="#c0392b" if node in critical else "#95a5a6")
        ax.text(end, row, f" {end - start:.1f} s", va="center", fontsize=7)
    ax.set_yticks(range(len(order)), [_node_label(n) for n in order], fontsize=8)
    ax.set_xlim(0, tl.wall * 1.15 or 1)
    ax.invert_yaxis()
    ax.set_xlabel("seconds since the first node started")
    how = "recorded start/end times" if tl.timed else "runtimes laid along the flow graph"
    ax.set_title(f"{design}: {tl.wall:.0f} s wall clock ({how}); red = critical path",
                 fontsize=9)
    return _save(fig, path)


TREND_METRICS = (("design__instance__count", "cells"), ("design__core__area", "core area (µm²)"),
                 ("timing__setup__ws__corner:tt", "worst setup slack tt (ns)"),
                 ("power__total", "power (mW)"))


def plot_trends(history: pd.DataFrame, path: Path) -> Path:
    """Metrics of each design across nightly runs (from the SQLite history)."""
    title = "Trends across nightly runs"
    if history.empty:
        return _empty(path, title, "no nightly runs in the history database yet")
    fig = Figure(figsize=(9, 5.2))
    axes = fig.subplots(2, 2).ravel()
    for ax, (key, label) in zip(axes, TREND_METRICS, strict=True):
        data = history[history["key"] == key]
        for design, group in data.groupby("design"):
            group = group.sort_values("started_utc")
            ax.plot(pd.to_datetime(group["started_utc"]), group["value"], marker="o",
                    label=str(design))
        ax.set_title(label, fontsize=9)
        times = pd.to_datetime(data["started_utc"])
        if not data.empty and times.nunique() == 1:  # one run: a day either side, not years
            ax.set_xlim(times.iloc[0] - pd.Timedelta(days=1), times.iloc[0] + pd.Timedelta(days=1))
        ax.tick_params(axis="x", labelsize=7, rotation=30)
        ax.grid(alpha=0.3)
        if not data.empty:
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, "not recorded", ha="center", va="center", transform=ax.transAxes)
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)
