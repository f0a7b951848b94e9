"""Model-to-chip performance: cycles, parameter traffic and throughput of the shipped model on
one GQMV configuration (issue #14).

Why here: the cycle count must come from one place, and the accelerator's timing contract is
already :meth:`design.config.GqmvConfig.job_cycles` (the CYCLES register of a free-flowing job;
``dv/tests`` assert equality job by job, and it follows the pipeline depth of the config).
This module only adds what a *token* is: the list of matrix-vector jobs one forward step of
the model sends to the engine (5 x [c_attn, attn c_proj, c_fc, mlp c_proj] + lm_head for the
shipped base model, the same 21 jobs per token as the DV headline run), each padded the way
the host pads it (rows to a multiple of LANES with zero rows, ``dv.payload.pad_rows``; columns
to a multiple of GROUP with zero columns). Attention scores, softmax, LayerNorm and the
embeddings run on the host and are not counted (as in the DV forward pass).

Reports read only files (tests/test_layering.py), so the figures are computed in the flow:
:mod:`flow.summary` writes them into ``signoff.json`` (at the design's signoff clock and each
corner's fmax, with the signoff power), and ``python -m design.perf`` writes
``build/design/perf.json``: every shipped config x every model variant, with the reason when a
config cannot run a variant, and the synthesized cell area of a config when
``python -m design.synth <config>`` has run (the dashboard's Pareto plot labels it "synthesis
estimate").

Parameter traffic per token = what the ``w`` stream carries (LANES x (GROUP int8 weights + a
16-bit group scale) per beat, K/GROUP beats per row block) plus the ``rowp`` stream (per row:
int32 bias + 16-bit requantization multiplier). The beat format is fixed by the hardware, so
an int4 variant streams its weights sign-extended to 8 bits: the same traffic as int8.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from design.config import CONFIGS, GqmvConfig
from gptnano.paths import REPO_ROOT, build_root

MODEL_CONFIG = REPO_ROOT / "model" / "configs" / "base.yaml"
EXPERIMENTS = REPO_ROOT / "model" / "experiments.csv"
PERF_FILE = "perf.json"
# The GQMV datapath multiplies int8 weights; narrower weights are sign-extended into the beat.
ENGINE_WEIGHT_BITS = 8


class PerfError(ValueError):
    """An input of the performance model is missing or inconsistent (file and problem named)."""


@dataclass(frozen=True)
class Matrix:
    """One matrix-vector job of a token: ``rows`` x ``cols`` (N x K, y = W x)."""

    name: str
    rows: int
    cols: int


@dataclass(frozen=True)
class ModelShape:
    """The model dimensions that decide the engine's work (model/gpt.py's layer shapes)."""

    n_layer: int
    n_embd: int
    head_dim: int
    vocab_size: int
    block_size: int
    layer_heads: tuple[int, ...]

    def matrices(self) -> list[Matrix]:
        """The jobs of one token, in the order ``IntegerGPT.forward`` issues them."""
        c = self.n_embd
        out: list[Matrix] = []
        for i, heads in enumerate(self.layer_heads):
            inner = heads * self.head_dim
            out += [Matrix(f"h{i}.attn.c_attn", 3 * inner, c),
                    Matrix(f"h{i}.attn.c_proj", c, inner),
                    Matrix(f"h{i}.mlp.c_fc", 4 * c, c),
                    Matrix(f"h{i}.mlp.c_proj", c, 4 * c)]
        out.append(Matrix("lm_head", self.vocab_size, c))
        return out

    def params(self) -> int:
        """Parameter count as model/gpt.py counts it (tied head; Linear biases; LayerNorms with
        bias; position table): checked against experiments.csv's ``params`` column."""
        c = self.n_embd
        total = self.vocab_size * c + self.block_size * c + 2 * c  # wte, wpe, ln_f
        for m in self.matrices()[:-1]:
            total += m.rows * m.cols + m.rows
        return total + 4 * c * self.n_layer  # ln_1, ln_2

    def quantized_bytes(self, w_bits: int, group: int | None) -> int:
        """Storage of a quantized variant by model.quant.quantized_bytes' formula (packed codes,
        uint16 gscale per group, int32 bias + uint16 mult per row; LayerNorm and position tables
        at 4 B): checked against experiments.csv's ``bytes`` column, which proves the recipe
        table :data:`RECIPES` describes the variants model/build.py evaluated."""
        total = 0
        for m in self.matrices():
            g = group or m.cols
            total += -(-m.rows * m.cols * w_bits // 8) + 2 * m.rows * (m.cols // g) + 6 * m.rows
        ln_and_wpe = 2 * self.n_embd * (2 * self.n_layer + 1) + self.block_size * self.n_embd
        return total + 4 * ln_and_wpe


def load_shape(path: Path = MODEL_CONFIG, layer_heads: tuple[int, ...] | None = None
               ) -> ModelShape:
    """The shipped model's shape from its training config (``model:`` section)."""
    try:
        data = yaml.safe_load(path.read_text())["model"]
        n_layer, n_head, n_embd = int(data["n_layer"]), int(data["n_head"]), int(data["n_embd"])
        vocab, block = int(data["vocab_size"]), int(data["block_size"])
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise PerfError(f"{path}: no readable model section with n_layer, n_head, n_embd, "
                        f"vocab_size, block_size ({exc})") from exc
    heads = tuple(data.get("layer_heads") or ()) or (n_head,) * n_layer
    if layer_heads is not None:
        heads = layer_heads
    if len(heads) != n_layer or n_embd % n_head:
        raise PerfError(f"{path}: layer_heads {list(heads)} do not fit {n_layer} layers "
                        f"(or n_embd {n_embd} is not a multiple of n_head {n_head})")
    return ModelShape(n_layer, n_embd, n_embd // n_head, vocab, block, tuple(heads))


@dataclass(frozen=True)
class Recipe:
    """How a variant's weights reach the chip: weight bits (None = evaluated in float) and the
    scale group (None = one scale per row)."""

    w_bits: int | None
    group: int | None
    note: str = ""


# Mirrors model/build.py's recipes (QuantRecipe() = int8 per row; export_recipe() = int8,
# group EXPORT_GROUP 64; INT4_GROUP 32); tests/test_perf.py recomputes experiments.csv's bytes
# from this table, so a change there fails here. Float variants say why they are (not) on chip.
RECIPES: dict[str, Recipe] = {
    "w8a8": Recipe(8, None),
    "w8a8_group": Recipe(8, 64),
    "smoothquant": Recipe(8, None),
    "int8_qat": Recipe(8, None),
    "int4_ptq": Recipe(4, 32),
    "int4_qat": Recipe(4, 32),
    "pruned_heads": Recipe(None, None, "heads really removed (smaller c_attn / c_proj); its "
                           "perplexity is the fp32 model's, the chip would run it int8"),
    "pruned_50": Recipe(None, None, "unstructured sparsity: the dense engine streams every "
                        "weight, and only an fp32 perplexity exists"),
    "fp32": Recipe(None, None, "float model: the engine is integer-only"),
    "fp32_finetuned": Recipe(None, None, "float model: the engine is integer-only"),
}
# The variant the exported integer model implements (model/deployed.py export_recipe: int8,
# group EXPORT_GROUP 64 = base_int8.npz, what the DV forward pass runs on the RTL). Configs of
# rtl/manifest.json that no design folder builds are shown with this variant.
DEPLOYED_VARIANT = "w8a8_group"
# Variants whose shape differs from the base model but whose weights are float: the chip runs
# them quantized like the exported model (int8, group = the hardware's GROUP).
STRUCTURAL = frozenset({"pruned_heads"})
HEADS_NOTE = re.compile(r"heads removed \[(?P<heads>[\d, ]+)\]")


@dataclass(frozen=True)
class Variant:
    name: str
    recipe: Recipe
    shape: ModelShape
    val_ppl: float | None = None


def read_experiments(path: Path = EXPERIMENTS) -> dict[str, dict[str, str]]:
    """experiments.csv rows by variant (model/build.py writes it)."""
    try:
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise PerfError(f"{path}: cannot read ({exc})") from exc
    if rows and "variant" not in rows[0]:
        raise PerfError(f"{path}: no 'variant' column")
    return {r["variant"]: r for r in rows}


def load_variant(name: str, experiments: dict[str, dict[str, str]] | None = None,
                 experiments_path: Path = EXPERIMENTS, model_config: Path = MODEL_CONFIG
                 ) -> Variant:
    """A model variant's recipe and shape; pruned_heads takes its per-layer head counts from
    the notes model/build.py writes (``heads removed [4, 2, 3, 4, 2]``), checked against the
    row's parameter count."""
    if name not in RECIPES:
        raise PerfError(f"variant {name!r} has no recipe in design/perf.py RECIPES "
                        f"(known: {', '.join(RECIPES)})")
    rows = experiments if experiments is not None else (
        read_experiments(experiments_path) if experiments_path.is_file() else {})
    row = rows.get(name)
    shape = load_shape(model_config)
    if name in STRUCTURAL:
        found = HEADS_NOTE.search(row.get("notes", "")) if row else None
        if found is None:
            raise PerfError(f"{experiments_path}: no {name} row with 'heads removed [...]' in "
                            "its notes (run make model)")
        heads = tuple(int(h) for h in found["heads"].split(","))
        shape = load_shape(model_config, heads)
        if row and row.get("params") and int(float(row["params"])) != shape.params():
            raise PerfError(f"{experiments_path}: {name} has {row['params']} params, its head "
                            f"counts {list(heads)} give {shape.params()}")
    ppl = None
    if row and row.get("val_ppl"):
        try:
            ppl = float(row["val_ppl"])
        except ValueError as exc:
            raise PerfError(f"{experiments_path}: {name} val_ppl {row['val_ppl']!r} is not a "
                            "number") from exc
    return Variant(name, RECIPES[name], shape, ppl)


def unsupported(cfg: GqmvConfig, variant: Variant) -> str | None:
    """Why ``cfg`` cannot run ``variant`` (None: it can). Short, shown in the dashboard."""
    recipe = variant.recipe
    if recipe.w_bits is None and variant.name not in STRUCTURAL:
        return recipe.note
    if recipe.w_bits is not None and recipe.w_bits > ENGINE_WEIGHT_BITS:
        return f"{recipe.w_bits}-bit weights > the engine's int8"
    if recipe.group is not None and recipe.group % cfg.group:
        return (f"scale group {recipe.group} < GROUP {cfg.group}: one gscale per {cfg.group} "
                f"weights cannot hold per-{recipe.group} scales")
    widths = [m.cols for m in variant.shape.matrices()]
    padded = -(-max(widths) // cfg.group) * cfg.group
    if padded > cfg.max_len:
        return (f"MAX_LEN {cfg.max_len} < the model's {min(widths)}..{max(widths)}-wide "
                f"vectors: {cfg.name} cannot hold them")
    return None


@dataclass(frozen=True)
class TokenPerf:
    """Engine work of one token of ``variant`` on ``cfg``."""

    config: str
    variant: str
    cycles: int
    jobs: int
    macs: int                  # useful multiply-accumulates (unpadded N x K)
    weight_bits: int           # w stream: int8 weights + 16-bit group scales
    rowp_bits: int             # rowp stream: int32 bias + 16-bit requantization multiplier
    per_job: list[dict[str, int | str]] = field(default_factory=list)

    @property
    def parameter_bits(self) -> int:
        return self.weight_bits + self.rowp_bits


def token_perf(cfg: GqmvConfig, variant: Variant) -> TokenPerf:
    """Cycles and parameter bits of one token (raises PerfError if cfg cannot run it)."""
    reason = unsupported(cfg, variant)
    if reason is not None:
        raise PerfError(f"{cfg.name} cannot run {variant.name}: {reason}")
    cycles = macs = wbits = rbits = 0
    jobs = []
    for m in variant.shape.matrices():
        rows = -(-m.rows // cfg.lanes) * cfg.lanes
        cols = -(-m.cols // cfg.group) * cfg.group
        blocks, beats = rows // cfg.lanes, cols // cfg.group
        c = cfg.job_cycles(cols, rows)
        cycles += c
        macs += m.rows * m.cols
        wbits += blocks * beats * cfg.w_width
        rbits += blocks * cfg.rowp_width
        jobs.append({"name": m.name, "rows": rows, "cols": cols, "cycles": c})
    return TokenPerf(cfg.name, variant.name, cycles, len(jobs), macs, wbits, rbits, jobs)


def config_for_top(top: str) -> GqmvConfig | None:
    """The shipped GQMV config whose generated top module is ``top`` (None: not the engine)."""
    return next((c for c in CONFIGS.values() if c.top_name == top), None)


# -- throughput at a clock ------------------------------------------------------------------
def throughput(perf: TokenPerf, period_ns: float) -> dict[str, float]:
    """µs/token, tokens/s and parameter bandwidth (Gbit/s) at a clock period."""
    us = perf.cycles * period_ns / 1000.0
    tps = 1e6 / us
    return {"us_per_token": us, "tokens_per_s": tps,
            "weight_bandwidth_gbps": perf.parameter_bits * tps / 1e9}


def signoff_metrics(perf: TokenPerf, period_ns: float, fmax_mhz: dict[str, float],
                    power_mw: float | None) -> dict[str, float]:
    """The registry metrics of :mod:`gptnano.metrics` (``model__*``) for signoff.json.

    At the signoff clock (the period every corner, ss included, was timed at): cycles, µs and
    tokens per second, parameter bandwidth and tokens per joule with the signoff power (which
    the power step computes at that clock). Per corner: tokens/s at that corner's fmax.
    """
    at = throughput(perf, period_ns)
    out = {"model__cycles_per_token": float(perf.cycles),
           "model__us_per_token": at["us_per_token"],
           "model__tokens_per_s": at["tokens_per_s"],
           "model__weight_bits_per_token": float(perf.parameter_bits),
           "model__weight_bandwidth": at["weight_bandwidth_gbps"]}
    for corner, mhz in fmax_mhz.items():
        if mhz > 0:
            out[f"model__tokens_per_s__corner:{corner}"] = \
                throughput(perf, 1000.0 / mhz)["tokens_per_s"]
    if power_mw is not None and power_mw > 0:
        out["model__tokens_per_j"] = at["tokens_per_s"] / (power_mw / 1000.0)
    return out


# -- build/design/perf.json -----------------------------------------------------------------
# Design-space candidates next to the shipped configs: not in CONFIGS (no committed RTL, no DV
# regression of their own), generated and synthesized only for the Pareto plot by
# ``python -m design.perf --synth <name>``. One lane each (base has four), so their synthesis
# runs in minutes where base's 256 multipliers take much longer: l1_g64 is base's datapath with
# one lane; l1_g32 halves the group, which lets it hold per-32 scales, so it also runs the int4
# variants (group 32). req_bits 8 as in base: 2 requantization cycles per row, hidden behind
# K=128's 2 (GROUP 64) or 4 (GROUP 32) beats.
# l1_g4 / l1_g8 are the shipped l1_g2 (design/config.py) with a wider group: the 512-byte
# vector buffer is most of their cells, so 2x / 4x the MACs per cycle cost +2.5 % / +12 % cells
# (design/README.md, "Sizing a configuration for the model").
CANDIDATES: dict[str, GqmvConfig] = {
    "l1_g64": GqmvConfig("l1_g64", lanes=1, group=64, max_len=512, req_bits=8),
    "l1_g32": GqmvConfig("l1_g32", lanes=1, group=32, max_len=512, req_bits=8),
    "l1_g8": GqmvConfig("l1_g8", lanes=1, group=8, max_len=512, req_bits=1),
    "l1_g4": GqmvConfig("l1_g4", lanes=1, group=4, max_len=512, req_bits=1),
}
SYNTH_CELLS = re.compile(r"Number of cells:\s+(\d+)")
SYNTH_AREA = re.compile(r"Chip area for (?:top )?module .*?:\s+([\d.]+)")
# what design.synth / gptnano.synth's estimate mode leave in build/design/<config>/
SYNTH_REPORTS = ("stat.rpt", "synth.log")
RTL_HASH = "rtl.sha256"  # written by synthesize_config: which RTL the estimate is of


def all_configs() -> dict[str, GqmvConfig]:
    return {**CONFIGS, **CANDIDATES}


def rtl_file(cfg: GqmvConfig, build: Path) -> Path:
    """The Verilog a config's synthesis reads: committed for shipped configs, generated into
    the build tree for candidates."""
    from design.generate import RTL_DIR

    if CONFIGS.get(cfg.name) == cfg:
        return RTL_DIR / f"{cfg.top_name}.v"
    return build / "design" / cfg.name / f"{cfg.top_name}.v"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rtl_sha(cfg: GqmvConfig, build: Path) -> str | None:
    """SHA-256 of the RTL a synthesis of ``cfg`` would read now: the committed file of a shipped
    config, the Verilog the generator makes now for a candidate (a changed datapath changes it),
    None when a shipped config's file is missing."""
    if cfg.name in CANDIDATES:
        from design.generate import to_verilog

        return hashlib.sha256(to_verilog(cfg).encode()).hexdigest()
    rtl = rtl_file(cfg, build)
    return _sha256(rtl) if rtl.is_file() else None


def synth_estimate(cfg: GqmvConfig, build: Path, current_sha: str | None = None
                   ) -> dict[str, Any] | None:
    """Cell count and area of the estimate-mode synthesis of ``cfg`` (Yosys ``stat`` with the tt
    liberty, ``build/design/<config>/stat.rpt`` or the older ``synth.log``), None when it has
    not run. ``stale`` (the area is then not used) when the RTL differs from the one
    synthesized: by the SHA-256 ``synthesize_config`` recorded vs ``current_sha``
    (:func:`rtl_sha`), else -- ``python -m design.synth`` records no hash -- when the RTL file
    is newer than the report."""
    folder = build / "design" / cfg.name
    reports = sorted((folder / n for n in SYNTH_REPORTS if (folder / n).is_file()),
                     key=lambda p: p.stat().st_mtime)
    for report in reversed(reports):
        text = report.read_text(errors="replace")
        cells, area = SYNTH_CELLS.findall(text), SYNTH_AREA.findall(text)
        if not cells or not area:
            continue
        out: dict[str, Any] = {"cells": int(cells[-1]), "cell_area_um2": float(area[-1]),
                               "source": _rel(report)}
        rtl, recorded = rtl_file(cfg, build), folder / RTL_HASH
        if recorded.is_file() and recorded.stat().st_mtime >= report.stat().st_mtime:
            if recorded.read_text().strip() != current_sha:
                out["stale"] = (f"the RTL of {cfg.name} changed since {_rel(report)}: "
                                f"python -m design.perf --synth {cfg.name}")
        elif cfg.name in CANDIDATES or not rtl.is_file():
            out["stale"] = f"no record of the RTL {_rel(report)} was made from"
        elif rtl.stat().st_mtime > report.stat().st_mtime:
            out["stale"] = f"{_rel(rtl)} is newer than {_rel(report)}: synthesize again"
        return out
    return None


def synthesize_config(name: str, build: Path) -> dict[str, Any]:
    """Estimate-mode synthesis (gptnano.synth, the script ``python -m design.synth`` runs) of a
    shipped config's committed RTL or a candidate's freshly generated Verilog; records the
    RTL's SHA-256 so that a later change of it marks the estimate stale."""
    from design.generate import to_verilog
    from gptnano import synth

    cfg = all_configs()[name]
    rtl = rtl_file(cfg, build)
    folder = build / "design" / cfg.name
    folder.mkdir(parents=True, exist_ok=True)
    if name in CANDIDATES:
        rtl.write_text(to_verilog(cfg))
    digest = _sha256(rtl)
    result = synth.synthesize([rtl], cfg.top_name, folder / f"{cfg.top_name}.synth.v", folder,
                              "estimate")
    (folder / RTL_HASH).write_text(digest + "\n")
    return result


def perf_table(build: Path, experiments_path: Path = EXPERIMENTS,
               model_config: Path = MODEL_CONFIG) -> dict[str, Any]:
    """Every shipped config and candidate x every variant of experiments.csv: figures or the
    reason; each config with its synthesized area when an estimate exists."""
    experiments = read_experiments(experiments_path)
    load_shape(model_config)  # a broken model config is one error, not a reason per point
    configs: dict[str, Any] = {}
    for cfg in all_configs().values():
        configs[cfg.name] = {"top": cfg.top_name, "lanes": cfg.lanes, "group": cfg.group,
                             "max_len": cfg.max_len, "shipped": cfg.name in CONFIGS,
                             "synth": synth_estimate(cfg, build, rtl_sha(cfg, build))}
    points = []
    for name in experiments:
        try:
            variant = load_variant(name, experiments, experiments_path, model_config)
        except PerfError as exc:
            points += [{"config": c, "variant": name, "reason": str(exc)} for c in configs]
            continue
        for cfg in all_configs().values():
            reason = unsupported(cfg, variant)
            point: dict[str, Any] = {"config": cfg.name, "variant": name}
            if reason is not None:
                point["reason"] = reason
            else:
                p = token_perf(cfg, variant)
                point.update(cycles_per_token=p.cycles, jobs=p.jobs, macs=p.macs,
                             weight_bits=p.weight_bits, rowp_bits=p.rowp_bits,
                             parameter_bits_per_token=p.parameter_bits)
                if variant.recipe.note:
                    point["note"] = variant.recipe.note
            points.append(point)
    return {"model_config": _rel(model_config), "experiments": _rel(experiments_path),
            "deployed_variant": DEPLOYED_VARIANT, "configs": configs, "points": points}


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m design.perf", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", type=Path, default=None,
                        help="build tree (default: GPTNANO_BUILD or <repo>/build)")
    parser.add_argument("--experiments", type=Path, default=EXPERIMENTS)
    parser.add_argument("--model-config", type=Path, default=MODEL_CONFIG)
    parser.add_argument("--synth", nargs="+", default=[], choices=sorted(all_configs()),
                        help="synthesize these configs first (candidates: generated RTL; "
                             "minutes each, base much longer)")
    args = parser.parse_args(argv)
    build = args.build or build_root()
    for name in args.synth:
        result = synthesize_config(name, build)
        print(f"{name}: {result['cells']} cells, {result['cellarea']:.0f} um2 (estimate)")
    try:
        table = perf_table(build, args.experiments, args.model_config)
    except PerfError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    out = build / "design" / PERF_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(table, indent=1) + "\n")
    for p in table["points"]:
        figure = (f"{p['cycles_per_token']} cycles/token, "
                  f"{p['parameter_bits_per_token']} parameter bits/token"
                  if "cycles_per_token" in p else f"n/a: {p['reason']}")
        print(f"{p['config']:>6} {p['variant']:<15} {figure}")
    print(f"-> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
