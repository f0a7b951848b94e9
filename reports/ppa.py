"""The PPA table: one row per design configuration, every cell linked to its source file.

Values are either read (signoff.json, dft.json, experiments.csv, rtl/manifest.json) or derived
from read values by a formula stated in the cell's tooltip (fmax per corner from the clock and
the corner's slack; microseconds per token from cycles and the signoff clock; tokens/s/W). A
missing input gives "not run" (the stage did not produce its file) or "n/a" (the stage ran but
does not report that figure) -- never a made-up number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gptnano.paths import REPO_ROOT
from reports.collect import (
    CORNERS,
    DesignRun,
    ReportInputError,
    Sourced,
    _is_number,
    design_setting,
    resolve_report,
    variant_ppl,
)

NOT_RUN = "not run"
NA = "n/a"


@dataclass(frozen=True)
class Cell:
    """One table cell: what to show, where it came from, how it was obtained."""

    text: str
    value: float | str | None = None
    source: Path | None = None
    title: str = ""


@dataclass(frozen=True)
class Context:
    """Inputs shared by all designs of a run (model results, RTL manifest, design configs)."""

    experiments: pd.DataFrame | None
    experiments_path: Path
    manifest: dict[str, Any] | None
    manifest_path: Path
    designs_dir: Path
    # RTL config name -> measured cycles per token (reports.collect.load_dv_latency)
    dv_latency: dict[str, Sourced] = field(default_factory=dict)
    # build/design/perf.json (reports.collect.load_perf): the cycle model's figures per
    # (hardware config, variant) and the configs' synthesized areas
    perf: dict[str, Any] | None = None
    perf_path: Path | None = None


# Columns that are registry metrics carry the registry name (gptnano.metrics); the others
# are the row's identity, verdicts, or figures derived here (DERIVED, formula in the cell).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("design", "design"),
    ("engine", "engine"),
    ("flow", "flow status"),
    ("variant", "model variant"),
    ("model__perplexity__validation", "val. perplexity"),
    ("clock__period", "clock (ns)"),
    *((f"timing__fmax__corner:{c}", f"fmax {c} (MHz)") for c in CORNERS),
    *((f"timing__setup__ws__corner:{c}", f"setup WS {c} (ns)") for c in CORNERS),
    *((f"timing__setup__tns__corner:{c}", f"setup TNS {c} (ns)") for c in CORNERS),
    *((f"timing__hold__ws__corner:{c}", f"hold WS {c} (ns)") for c in CORNERS),
    *((f"clock__insertion_delay__max__corner:{c}", f"clock latency {c} (ns)") for c in CORNERS),
    *((f"clock__skew__setup__corner:{c}", f"clock skew {c} (ns)") for c in CORNERS),
    ("model__cycles_per_token", "cycles/token"),
    ("model__us_per_token", "µs/token"),
    ("model__tokens_per_s", "tokens/s (signoff clock)"),
    ("model__tokens_per_s__corner:tt", "tokens/s (tt fmax)"),
    ("model__weight_bandwidth", "param. bandwidth (Gbit/s)"),
    ("design__die__area", "die area (µm²)"),
    ("design__core__area", "core area (µm²)"),
    ("synth__design__instance__area", "cell area (µm²)"),
    ("design__instance__utilization", "utilization"),
    ("design__instance__count", "cells"),
    ("memory_bits", "memory bits"),
    ("power__dynamic__total", "dynamic (mW)"),
    ("power__leakage__total", "leakage (mW)"),
    ("power__total", "power (mW)"),
    ("model__tokens_per_j", "tokens/J (= tokens/s/W)"),
    ("dft__stuck_at__coverage", "stuck-at cov. (%)"),
    ("drc", "DRC (KLayout / Magic)"),
    ("design__lvs__clean", "LVS"),
)
# The index's summary table (fits a 1400 px window): (group label, [(key, sub-label)]); a group
# of several keys gets a spanning header with the corners below it.
SUMMARY: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("design", (("design", ""),)),
    ("status", (("flow", ""),)),
    ("clock (ns)", (("clock__period", ""),)),
    ("fmax (MHz)", tuple((f"timing__fmax__corner:{c}", c) for c in CORNERS)),
    ("setup WS (ns)", tuple((f"timing__setup__ws__corner:{c}", c) for c in CORNERS)),
    ("setup TNS (ns)", tuple((f"timing__setup__tns__corner:{c}", c) for c in CORNERS)),
    ("hold WS (ns)", tuple((f"timing__hold__ws__corner:{c}", c) for c in CORNERS)),
    ("core area (µm²)", (("design__core__area", ""),)),
    ("util.", (("design__instance__utilization", ""),)),
    ("power (mW)", (("power__total", ""),)),
    ("DRC KL / Magic", (("drc", ""),)),
    ("LVS", (("design__lvs__clean", ""),)),
    ("stuck-at cov. (%)", (("dft__stuck_at__coverage", ""),)),
)
SLACK_KEYS = frozenset(k for _, keys in SUMMARY[4:7] for k, _ in keys)
CLOCK_TREE_KEYS = tuple(k for k, _ in COLUMNS if k.startswith("clock__") and k != "clock__period")
# Columns that are not registry metrics: identity/verdict cells and figures of the RTL and
# model stages derived in this module (each cell's tooltip states its formula or source).
NOT_METRICS = frozenset({"design", "engine", "flow", "variant", "memory_bits", "drc"})
CYCLES, US, TPS, TPS_TT, BANDWIDTH, TPJ = (
    "model__cycles_per_token", "model__us_per_token", "model__tokens_per_s",
    "model__tokens_per_s__corner:tt", "model__weight_bandwidth", "model__tokens_per_j")
MODEL_KEYS = (CYCLES, US, TPS, TPS_TT, BANDWIDTH, TPJ)


def fmt(value: float | int, digits: int = 4) -> str:
    """Numbers with enough significant digits to compare runs, integers without decimals."""
    if isinstance(value, int) or abs(value) >= 10 ** digits:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def compact(value: float | int) -> str:
    """A number in at most ~6 characters for the summary table (``-12.3k``, ``123M``): the
    exact figure is on the design page, in the full table and in ppa.csv."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e4, "k")):
        if abs(value) >= scale:
            divisor = 1e3 if suffix == "k" else scale
            return f"{value / divisor:.3g}{suffix}"
    return fmt(value, 4)


def _cell(item: Sourced, run_ran: bool, digits: int = 4) -> Cell:
    if item.value is None:
        return Cell(NA if run_ran else NOT_RUN)
    if _is_number(item.value):
        return Cell(fmt(item.value, digits), float(item.value), item.source, item.note)
    return Cell(str(item.value), str(item.value), item.source, item.note)


def manifest_entry(ctx: Context, name: str) -> dict[str, Any] | None:
    """The part of ``rtl/manifest.json`` describing the RTL a design is built from.

    The manifest lists generated configurations (``configs: {name: {top, file, params}}``); the
    entry whose ``top`` is the design's top (from its config.yaml) applies, its ``params``
    merged in and its config name as ``config``. A name without a design folder is looked up
    as a config name (the RTL-only rows, :func:`rtl_only_configs`). A flat manifest (keys at
    the top level, optional ``top``) is accepted too.
    """
    if ctx.manifest is None:
        return None
    has_design = (ctx.designs_dir / name / "config.yaml").is_file()
    top = design_setting(ctx.designs_dir, name, "top")
    configs = ctx.manifest.get("configs")
    if isinstance(configs, dict):
        for key, entry in configs.items():
            if not isinstance(entry, dict):
                continue
            if (entry.get("top") is not None and entry["top"] == top) or (
                    not has_design and key == name):
                params = entry.get("params") if isinstance(entry.get("params"), dict) else {}
                return {**params, **entry, "config": key}
        return None
    flat_top = ctx.manifest.get("top")
    return ctx.manifest if flat_top is None or flat_top == top else None


def rtl_only_configs(ctx: Context, design_names: list[str]) -> list[str]:
    """Manifest configs that no design folder builds: shown as rows of their own, because
    their RTL-level figures (memory bits, DV-measured cycles per token) exist without a flow."""
    configs = (ctx.manifest or {}).get("configs")
    if not isinstance(configs, dict):
        return []
    tops = {design_setting(ctx.designs_dir, n, "top") for n in design_names}
    return sorted(k for k, e in configs.items()
                  if isinstance(e, dict) and e.get("top") not in tops and k not in design_names)


def memory_bits(entry: dict[str, Any], manifest_path: Path) -> Sourced:
    """On-chip memory of an RTL config: the manifest's ``memory_bits``, else the activation
    buffer (design/gqmv.py's only ``lib.memory.Memory``: ``max_len / group`` words of
    ``x_width`` bits) computed from the manifest's params; weights stream in, not stored."""
    if _is_number(entry.get("memory_bits")):
        return Sourced(entry["memory_bits"], manifest_path)
    x_width, max_len, group = (entry.get(k) for k in ("x_width", "max_len", "group"))
    if all(isinstance(v, int) and v > 0 for v in (x_width, max_len, group)) and \
            max_len % group == 0:
        bits = x_width * (max_len // group)
        return Sourced(bits, manifest_path, f"derived: activation buffer x_width {x_width} × "
                                            f"max_len {max_len} / group {group}")
    return Sourced(None)


def fmax_cells(run: DesignRun, ran: bool) -> dict[str, Cell]:
    """fmax per corner: the flow's own figure, else 1000 / (clock - worst setup slack)."""
    out: dict[str, Cell] = {}
    clock = run.get("clock__period")
    for corner in CORNERS:
        key = f"timing__fmax__corner:{corner}"
        reported = run.get(key)
        if _is_number(reported.value):
            out[key] = _cell(reported, ran)
            continue
        ws_name = f"timing__setup__ws__corner:{corner}"
        ws = run.get(ws_name)
        if _is_number(clock.value) and _is_number(ws.value) and clock.value - ws.value > 0:
            mhz = 1000.0 / (clock.value - ws.value)
            out[key] = _cell(Sourced(
                mhz, ws.source, f"derived: 1000 / (clock__period {clock.value} - {ws_name} "
                f"{ws.value})"), ran)
        else:
            out[key] = Cell(NA if ran else NOT_RUN)
    return out


def design_row(run: DesignRun, ctx: Context) -> dict[str, Cell]:
    """All PPA cells of one design."""
    ran = run.signoff is not None
    row: dict[str, Cell] = {"design": Cell(run.name, run.name, run.signoff_path)}
    if run.errors:
        row["design"] = Cell(run.name, run.name, None, "; ".join(run.errors))
    row["engine"] = _cell(run.field("engine"), ran)
    row["flow"] = flow_cell(run, ran)

    manifest = manifest_entry(ctx, run.name) or {}
    config_path = ctx.designs_dir / run.name / "config.yaml"
    variant = design_setting(ctx.designs_dir, run.name, "variant")
    variant_src = config_path
    if variant is None and manifest.get("variant"):
        variant, variant_src = manifest["variant"], ctx.manifest_path
    variant_note = ""
    if variant is None and manifest and not config_path.is_file() and ctx.perf is not None \
            and ctx.perf.get("deployed_variant"):
        # an RTL-only config runs the exported integer model
        variant, variant_src = ctx.perf["deployed_variant"], ctx.perf_path
        variant_note = "the exported integer model's variant (perf.json deployed_variant)"
    row["variant"] = Cell(str(variant), str(variant), variant_src, variant_note) if variant \
        else Cell(NA)
    try:
        ppl = variant_ppl(ctx.experiments, ctx.experiments_path, variant, variant_src)
    except ReportInputError as exc:
        ppl = Sourced(None, None, str(exc))
    if ppl.value is not None:
        row["model__perplexity__validation"] = Cell(fmt(ppl.value), ppl.value, ppl.source)
    else:
        row["model__perplexity__validation"] = Cell(
            NOT_RUN if ctx.experiments is None else NA, title=ppl.note)

    row["clock__period"] = _cell(run.get("clock__period"), ran)
    row.update(fmax_cells(run, ran))
    for key in SLACK_KEYS:  # negative slack is a violation: shown in red
        item = run.get(key)
        cell = _cell(item, ran, 3)
        negative = _is_number(item.value) and item.value < 0
        row[key] = Cell(cell.text, "violations" if negative else cell.value, cell.source,
                        cell.title)

    for key in CLOCK_TREE_KEYS:
        row[key] = _cell(run.get(key), ran, 3)

    row.update(model_cells(run, ctx, manifest, variant, row))

    for key in ("design__die__area", "design__core__area", "synth__design__instance__area",
                "design__instance__utilization", "design__instance__count"):
        row[key] = _cell(run.get(key), ran)
    memory = memory_bits(manifest, ctx.manifest_path) if manifest else Sourced(None)
    row["memory_bits"] = _cell(memory, True) if memory.value is not None else Cell(NA)

    for key in ("power__dynamic__total", "power__leakage__total", "power__total"):
        row[key] = _cell(run.get(key), ran)

    row["dft__stuck_at__coverage"] = _cell(run.get_dft("dft__stuck_at__coverage"),
                                           run.dft is not None)
    row["drc"] = drc_cell(run, ran)
    lvs = run.get("design__lvs__clean")
    if lvs.value is None:
        row["design__lvs__clean"] = Cell(NA if ran else NOT_RUN)
    else:
        row["design__lvs__clean"] = Cell("clean" if lvs.value else "MISMATCH", str(lvs.value),
                                         lvs.source)
    return row


def perf_point(ctx: Context, config: Any, variant: Any) -> dict[str, Any] | None:
    """perf.json's entry for (hardware config, variant), if any."""
    if ctx.perf is None or config is None or variant is None:
        return None
    return next((p for p in ctx.perf["points"]
                 if p["config"] == str(config) and p["variant"] == str(variant)), None)


def model_cells(run: DesignRun, ctx: Context, manifest: dict[str, Any], variant: Any,
                row: dict[str, Cell]) -> dict[str, Cell]:
    """The model-to-chip columns of one row.

    signoff.json's ``model__*`` metrics when the flow wrote them (flow.summary, from
    design/perf.py's cycle model, at the signoff clock / tt fmax / signoff power); its
    ``model_to_chip.reason`` when the design's config cannot run the model (absent, not zero);
    otherwise cycles from perf.json's cycle model, the manifest or a DV forward pass, and the
    rest derived from them with the row's clock, fmax and power (formula in the tooltip).
    """
    ran = run.signoff is not None
    signoff = run.signoff or {}
    record = signoff.get("model_to_chip")
    record = record if isinstance(record, dict) else {}
    if _is_number(run.get(CYCLES).value):
        how = (f"design/perf.py cycle model: {record.get('jobs')} jobs per token of "
               f"{record.get('variant')} on {record.get('config')} (flow.summary)")
        out = {key: _cell(run.get(key), ran) for key in MODEL_KEYS}
        cycles = out[CYCLES]
        out[CYCLES] = Cell(cycles.text, cycles.value, cycles.source, how)
        for key in MODEL_KEYS:
            if out[key].text == NA:
                out[key] = Cell(NA, title="not in signoff.json (needs fmax / power)")
        return out
    if record.get("reason"):
        reason = str(record["reason"])
        out = {key: Cell(NA, title=f"absent: {reason}") for key in MODEL_KEYS}
        out[CYCLES] = Cell(f"n/a: {short_reason([reason], 40)}", None, run.signoff_path,
                           f"absent ({record.get('config')} / {record.get('variant')}): {reason}")
        return out

    config = manifest.get("config") if manifest else None
    point = perf_point(ctx, config, variant)
    cycles, bits = Sourced(None), None
    missing = ("no model runs on this design (no variant, not an RTL configuration of "
               "rtl/manifest.json)" if not manifest and variant is None else
               "not an RTL configuration of rtl/manifest.json" if not manifest else
               "no cycles per token for this RTL: no perf.json point (python -m design.perf), "
               "no manifest cycles_per_token, no DV forward pass naming this config")
    if point is not None and _is_number(point.get("cycles_per_token")):
        cycles = Sourced(point["cycles_per_token"], ctx.perf_path,
                         f"design/perf.py cycle model: {point.get('jobs')} jobs per token of "
                         f"{variant} on {config}")
        bits = point.get("parameter_bits_per_token")
    elif point is not None and point.get("reason"):
        missing = f"{config} cannot run {variant}: {point['reason']}"
    if cycles.value is None and manifest:
        value = manifest.get("cycles_per_token")
        if isinstance(value, dict):
            value = value.get(str(variant)) if variant else None
        if _is_number(value):
            cycles = Sourced(value, ctx.manifest_path)
    if cycles.value is None and config in ctx.dv_latency:
        cycles = ctx.dv_latency[config]
    out: dict[str, Cell] = {}
    if not _is_number(cycles.value):
        out = {key: Cell(NA, title=f"needs cycles/token: {missing}") for key in MODEL_KEYS}
        out[CYCLES] = Cell(NA, title=missing)
        return out
    n = float(cycles.value)
    out[CYCLES] = Cell(fmt(n), n, cycles.source, cycles.note)
    clock = run.get("clock__period").value
    tps = None
    if _is_number(clock) and clock > 0:
        us = n * clock / 1000.0
        tps = 1e6 / us
        out[US] = Cell(fmt(us), us, cycles.source, f"derived: cycles/token {fmt(n)} × clock "
                                                     f"{clock} ns")
        out[TPS] = Cell(fmt(tps), tps, cycles.source, "derived: 1e6 / µs per token")
    else:
        out[US] = out[TPS] = Cell(NA, title="needs a signoff clock (no flow run)")
    fmax_tt = row.get("timing__fmax__corner:tt")
    if fmax_tt is not None and isinstance(fmax_tt.value, float) and fmax_tt.value > 0:
        at_tt = fmax_tt.value * 1e6 / n
        out[TPS_TT] = Cell(fmt(at_tt), at_tt, fmax_tt.source,
                           f"derived: fmax tt {fmt(fmax_tt.value)} MHz × 1e6 / {fmt(n)} cycles")
    else:
        out[TPS_TT] = Cell(NA, title="needs the tt fmax (no flow run)")
    if tps is not None and _is_number(bits):
        gbps = bits * tps / 1e9
        out[BANDWIDTH] = Cell(fmt(gbps), gbps, cycles.source,
                              f"derived: {fmt(bits)} parameter bits/token × tokens/s")
    else:
        out[BANDWIDTH] = Cell(NA, title="needs parameter bits per token (perf.json) and "
                                        "tokens/s")
    total = run.get("power__total")
    if tps is not None and _is_number(total.value) and total.value > 0:
        per_j = tps / (total.value / 1000.0)
        out[TPJ] = Cell(fmt(per_j), per_j, total.source,
                        "derived: tokens/s / (power__total mW / 1000)")
    else:
        out[TPJ] = Cell(NA if ran else NOT_RUN, title="needs tokens/s and the signoff power")
    return out


NOISE = re.compile(r"^\s*(\[?warning\b|\[?info\b|sc-issue)", re.I)
REASON_CHARS = 70


def short_reason(problems: list[str], limit: int = REASON_CHARS) -> str:
    """The first failing check in a few words: its first line that is not a tool warning
    (Liberty and SC noise come before the error in tool output), up to the first ``;``."""
    if not problems:
        return ""
    lines = [ln.strip() for ln in problems[0].splitlines() if ln.strip()]
    first = next((ln for ln in lines if not NOISE.match(ln)), lines[0] if lines else "")
    first = first.split("; ")[0].split(" (")[0]
    if len(first) > limit:
        first = first[:limit - 1].rstrip() + "…"
    more = len(problems) - 1
    return first + (f" (+{more} more)" if more > 0 else "")


def flow_cell(run: DesignRun, ran: bool) -> Cell:
    """The flow's own verdict (``passed``); a failure shows its first reason in the text (all
    of them on the design page and on hover)."""
    passed = run.get("flow__passed")
    if passed.value is None:
        return Cell(NA if ran else NOT_RUN)
    problems = [str(p) for p in (run.signoff or {}).get("failures") or []]
    skipped = [str(p) for p in (run.signoff or {}).get("not_run") or []]
    if skipped:
        problems.append(f"stopped before {skipped[0]} ({len(skipped)} steps not run: "
                        + ", ".join(skipped) + ")")
    text = "pass" if passed.value else "FAIL"
    if not passed.value and problems:
        text = f"FAIL: {short_reason(problems)}"
    return Cell(text, "pass" if passed.value else "violations", run.signoff_path,
                "; ".join(problems))


def drc_cell(run: DesignRun, ran: bool) -> Cell:
    klayout = run.get("klayout__drc_error__count")
    magic = run.get("magic__drc_error__count")
    if klayout.value is None and magic.value is None:
        return Cell(NA if ran else NOT_RUN)
    parts = [fmt(v.value) if v.value is not None else NA for v in (klayout, magic)]
    clean = all(v.value in (None, 0) for v in (klayout, magic))
    return Cell(" / ".join(parts), "clean" if clean else "violations",
                klayout.source or magic.source, "violation counts: KLayout / Magic")


def ppa_rows(runs: list[DesignRun], ctx: Context) -> list[dict[str, Cell]]:
    return [design_row(run, ctx) for run in runs]


def ppa_frame(rows: list[dict[str, Cell]]) -> pd.DataFrame:
    """The table's values (numbers where numeric) for CSV export and plots."""
    return pd.DataFrame([{key: row[key].value for key, _ in COLUMNS} for row in rows],
                        columns=[key for key, _ in COLUMNS])


SIGNED_OFF, LAYOUT, ESTIMATE, STALE = ("signed-off", "layout, signoff not passed",
                                       "synthesis estimate", "synthesis estimate of older RTL")
PARETO_COLUMNS = ["config", "variant", "val_ppl", "area_um2", "area_kind", "area_source",
                  "cycles_per_token", "area_x_latency", "note", "candidate"]


def design_areas(runs: list[DesignRun], ctx: Context) -> dict[str, tuple[float, str, Path | None]]:
    """Layout core area per hardware config (the design folder whose top is the config's top):
    (area, "signed-off" if the flow passed else "layout, signoff not passed", source)."""
    tops = {c.get("top"): name for name, c in ((ctx.perf or {}).get("configs") or {}).items()
            if isinstance(c, dict)}
    out: dict[str, tuple[float, str, Path | None]] = {}
    for run in runs:
        area = run.get("design__core__area")
        top = (run.signoff or {}).get("top") or design_setting(ctx.designs_dir, run.name, "top")
        config = tops.get(top)
        if config is None or not _is_number(area.value):
            continue
        kind = SIGNED_OFF if run.get("flow__passed").value is True else LAYOUT
        best = out.get(config)
        if best is None or (kind == SIGNED_OFF and best[1] != SIGNED_OFF):
            out[config] = (float(area.value), kind, area.source)
    return out


def pareto_points(runs: list[DesignRun], ctx: Context) -> tuple[pd.DataFrame, list[str]]:
    """(points, notes): (config, variant, val_ppl, area, area kind, cycles/token, area × cycles)
    for every pair with a perplexity, a cycle count and an area; notes say which configs were
    left out and why.

    Cycles come from perf.json (design/perf.py's cycle model, per variant: pruned heads run
    fewer cycles) or a design's manifest ``cycles_per_token`` map. Area: the layout's core area
    of a design built from that config ("signed-off" when its flow passed), else the config's
    synthesized cell area from perf.json ("synthesis estimate", no whitespace: smaller than a
    core area). Latency is in cycles so that configs without a signoff clock compare too.
    """
    notes: list[str] = []
    if ctx.experiments is None:
        return pd.DataFrame(columns=PARETO_COLUMNS), ["model/experiments.csv not run"]
    ppl = {v: float(p) for v, p in zip(ctx.experiments["variant"], ctx.experiments["val_ppl"],
                                       strict=True) if pd.notna(p)}
    points: dict[tuple[str, str], tuple] = {}
    areas = design_areas(runs, ctx)
    if ctx.perf is None:
        notes.append("build/design/perf.json missing: run python -m design.perf")
    else:
        configs = ctx.perf.get("configs") or {}
        by_config: dict[str, list[dict[str, Any]]] = {}
        for point in ctx.perf["points"]:
            if _is_number(point.get("cycles_per_token")):
                by_config.setdefault(point["config"], []).append(point)
        for config in configs:
            usable = by_config.get(config, [])
            if not usable:
                notes.append(f"{config}: runs no model variant "
                             f"({_first_reason(ctx.perf['points'], config)})")
                continue
            synth = (configs[config] or {}).get("synth") or {}
            if config in areas:
                area, kind, source = areas[config]
            elif _is_number(synth.get("cell_area_um2")):
                # a stale estimate is still the best area there is: plotted, labelled as such
                area, kind = float(synth["cell_area_um2"]), STALE if synth.get("stale") \
                    else ESTIMATE
                source = resolve_report(str(synth.get("source", "")),
                                        (ctx.perf_path or REPO_ROOT).parent)
                if synth.get("stale"):
                    notes.append(f"{config}: area from a synthesis of older RTL "
                                 f"({synth['stale']})")
            else:
                notes.append(f"{config}: no area yet (no flow run, no synthesis: "
                             f"python -m design.perf --synth {config})")
                continue
            for point in usable:
                variant = point["variant"]
                if variant not in ppl:
                    continue
                n = float(point["cycles_per_token"])
                points[(config, variant)] = (config, variant, ppl[variant], area, kind,
                                             str(source or ""), n, area * n,
                                             str(point.get("note", "")),
                                             not (configs[config] or {}).get("shipped", True))
    for run in runs:  # a manifest's own per-variant cycles
        cycles = (manifest_entry(ctx, run.name) or {}).get("cycles_per_token")
        area = run.get("design__core__area")
        if not isinstance(cycles, dict) or not _is_number(area.value):
            continue
        kind = SIGNED_OFF if run.get("flow__passed").value is True else LAYOUT
        for variant, n in cycles.items():
            if _is_number(n) and str(variant) in ppl and (run.name, str(variant)) not in points:
                points[(run.name, str(variant))] = (
                    run.name, str(variant), ppl[str(variant)], float(area.value), kind,
                    str(area.source or ""), float(n), float(area.value) * float(n),
                    "cycles from rtl/manifest.json", False)
    return pd.DataFrame(list(points.values()), columns=PARETO_COLUMNS), notes


def _first_reason(points: list[dict[str, Any]], config: str) -> str:
    reasons = [str(p["reason"]) for p in points if p["config"] == config and p.get("reason")
               and "integer-only" not in str(p["reason"])]
    return reasons[0] if reasons else "no integer variant"
