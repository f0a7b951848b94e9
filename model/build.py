"""``make model``: tokenizer, training, evaluation, compression variants, exports, experiments.csv.

    python -m model.build                        # everything: train, calibrate, variants, exports
    python -m model.build --reuse-checkpoint     # keep tokenizer, base.pt and its calibration
    python -m model.build --reuse-checkpoint --reuse-variants   # also keep fine-tuned variants
    python -m model.build --reuse-checkpoint --recalibrate      # measure the calibration again

Every measurement is on the validation split with the protocol of ``model/evaluate.py``. The
calibration text for activation scales is the last ``CALIB_WINDOWS`` blocks of the *training*
split (never validation). Outputs: ``model/artifacts/{tokenizer.json, base.pt, base_calib.json,
base_int8.npz}``, ``model/experiments.csv`` (committed); ``build/model/{train, variants, export,
hex}/`` and ``build/model/summary.json`` (generated).

Reproducibility: every run is budgeted in steps, never wall seconds. With ``--reuse-checkpoint``
the stored calibration is used, so ``base_int8.npz`` comes out byte-identical on any CPU. A new
checkpoint, or ``--recalibrate``, measures the calibration again (float32 torch: its last bits
depend on the CPU) and prints how far the operands moved from the previous ones
(``model.deployed.recalibration_drift``; tolerances: mult within 1 LSB, bias within 1e-4).
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gptnano.paths import REPO_ROOT, MissingDataError, build_root
from model import compress, export
from model.corpus_tokens import token_ids
from model.data import load_split
from model.deployed import (
    ARTIFACTS,
    BASE_CKPT,
    CALIB_JSON,
    CALIB_WINDOWS,
    EXPORT_GROUP,
    INT8_NPZ,
    build_deployed,
    calibration_windows,
    export_recipe,
    file_sha256,
    fresh_calibration,
    recalibration_drift,
    store_calibration,
    stored_calibration,
)
from model.evaluate import Metrics, evaluate, generate_text
from model.gpt import GPT, load_config
from model.quant import (
    Calibration,
    CalibrationFileError,
    QuantRecipe,
    calibrate,
    quant_forward,
    quantized_bytes,
    smooth_quant,
)
from model.tokenizer import TOKENIZER_PATH, save_tokenizer, train_tokenizer
from model.train import (
    NUM_THREADS,
    TrainingTimeout,
    TrainSettings,
    checkpoint_payload,
    load_checkpoint,
    train,
)

EXPERIMENTS_CSV = REPO_ROOT / "model" / "experiments.csv"
INT4_GROUP = 32
HEADS_REMOVED = 5  # of 20
PRUNE_SPARSITY = 0.5
PROMPTS = ("The jury said", "In the morning")
# Fine-tuning budgets in optimizer steps (batch 32 x 128). They replace the wall-clock budgets
# of the first shipped run (240 s QAT, 300 s pruning), which came to roughly one step a second
# on that loaded machine.
QAT_STEPS = 240
PRUNE_STEPS = 300
CSV_FIELDS = ("variant", "params", "bytes", "val_ppl", "next_token_acc", "notes")


@dataclass
class Row:
    variant: str
    params: int
    bytes: int
    metrics: Metrics
    notes: str

    def as_csv(self) -> dict:
        return {"variant": self.variant, "params": self.params, "bytes": self.bytes,
                "val_ppl": f"{self.metrics.ppl:.3f}",
                "next_token_acc": f"{self.metrics.accuracy:.4f}", "notes": self.notes}


def build_tokenizer() -> None:
    tok = train_tokenizer(load_split("train").texts)
    save_tokenizer(tok, TOKENIZER_PATH)
    print(f"tokenizer: vocab {tok.get_vocab_size()} -> {TOKENIZER_PATH}")


def train_base(out: Path, resume: bool) -> None:
    cfg, tdict = load_config("base")
    settings = TrainSettings.from_dict(tdict)
    torch.manual_seed(settings.seed)
    model = GPT(cfg)
    print(f"training base: {model.num_params():,} parameters, {settings.max_steps} steps")
    summary = train(model, settings, out, resume=resume, desc="base")
    payload = torch.load(summary["best_path"], map_location="cpu", weights_only=False)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    payload["train_summary"] = {k: (str(v) if isinstance(v, Path) else v)
                                for k, v in summary.items()}
    torch.save(payload, BASE_CKPT)


EVAL_WINDOWS: int | None = None  # None = the whole validation split (--eval-windows: smoke runs)


def eval_fp32(model: GPT, val: np.ndarray) -> Metrics:
    return evaluate(model, val, model.config.block_size, max_windows=EVAL_WINDOWS)


def eval_quant(model: GPT, calib: Calibration, recipe: QuantRecipe, val: np.ndarray) -> Metrics:
    return evaluate(lambda x: quant_forward(model, x, calib, recipe), val,
                    model.config.block_size, max_windows=EVAL_WINDOWS)


def variant_model(out: Path, name: str, base_sha: str, budget: int, reuse: bool, make) -> GPT:
    """A fine-tuned variant, reused from ``out/variants`` when asked and made from the same
    base.pt with the same step budget."""
    path = out / "variants" / name / "final.pt"
    if reuse and path.is_file():
        payload = torch.load(path, map_location="cpu", weights_only=False)
        if payload.get("base_sha256") == base_sha and payload.get("steps") == budget:
            model, _ = load_checkpoint(path)
            return model
    model = make(path.parent)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint_payload(model, base_sha256=base_sha, steps=budget), path)
    return model


def recalibrate(model: GPT, dest: Destination) -> Calibration:
    """Measure the calibration again, report how far it moves the shipped operands, store it."""
    fresh = fresh_calibration(model)
    try:
        old = stored_calibration(path=dest.calib)
    except CalibrationFileError:
        old = None  # a new checkpoint: nothing to compare with
    if old is not None:
        drift = recalibration_drift(model, old, fresh)
        print(f"recalibration: {drift.maxima_moved} of {len(old.absmax)} maxima moved; mult "
              f"by up to {drift.mult_lsb} LSB, bias by up to {drift.bias_rel:.1e} relative")
        for problem in drift.problems():
            print(f"recalibration: WARNING beyond tolerance: {problem}")
    store_calibration(fresh, path=dest.calib)
    print(f"calibration -> {dest.calib}")
    return fresh


@dataclass(frozen=True)
class Destination:
    """Where the committed artifacts go: the repository by default, a folder with --dest."""

    csv: Path
    npz: Path
    calib: Path

    @classmethod
    def at(cls, folder: Path | None) -> Destination:
        if folder is None:
            return cls(EXPERIMENTS_CSV, INT8_NPZ, CALIB_JSON)
        folder.mkdir(parents=True, exist_ok=True)
        return cls(folder / EXPERIMENTS_CSV.name, folder / INT8_NPZ.name,
                   folder / CALIB_JSON.name)


def run(args: argparse.Namespace) -> dict:
    torch.set_num_threads(NUM_THREADS)
    t_start = time.monotonic()
    out = args.out  # main() fills in the default
    dest = Destination.at(args.dest)
    if args.dest is not None and args.reuse_checkpoint and not args.recalibrate:
        shutil.copyfile(CALIB_JSON, dest.calib)
    if not args.reuse_checkpoint:
        build_tokenizer()
        train_base(out / "train" / "base", resume=args.resume)
    model, payload = load_checkpoint(BASE_CKPT)
    base_sha = file_sha256(BASE_CKPT)
    val = token_ids("val")
    block = model.config.block_size
    calib_win = calibration_windows(model)
    n_params = model.num_params()
    rows: list[Row] = []

    fp32 = eval_fp32(model, val)
    rows.append(Row("fp32", n_params, 4 * n_params, fp32, "float32 reference"))
    print(f"fp32: ppl {fp32.ppl:.3f} acc {fp32.accuracy:.4f} over {fp32.count} tokens")

    calib = (recalibrate(model, dest) if args.recalibrate or not args.reuse_checkpoint
             else stored_calibration(path=dest.calib))
    ptq = {"w8a8": QuantRecipe(), "w8a8_group": export_recipe(),
           "int4_ptq": QuantRecipe(w_bits=4, group=INT4_GROUP)}
    notes = {"w8a8": "PTQ int8 per-channel weights, int8 per-tensor activations",
             "w8a8_group": f"PTQ int8 weights, group size {EXPORT_GROUP}",
             "int4_ptq": f"PTQ int4 weights (group {INT4_GROUP}), int8 act, no fine-tuning"}
    for name, recipe in ptq.items():
        m = eval_quant(model, calib, recipe, val)
        rows.append(Row(name, n_params, quantized_bytes(model, recipe), m, notes[name]))
        print(f"{name}: ppl {m.ppl:.3f}")

    # SmoothQuant needs per-channel maxima, which the stored calibration does not keep: it is
    # a float experiment (a row of experiments.csv), not part of the shipped integer contract.
    channels = calib if calib.channel_max else calibrate(model, calib_win)
    smooth = smooth_quant(copy.deepcopy(model), channels, alpha=0.5)
    smooth_calib = calibrate(smooth, calib_win)
    m = eval_quant(smooth, smooth_calib, QuantRecipe(), val)
    rows.append(Row("smoothquant", n_params, quantized_bytes(smooth, QuantRecipe()), m,
                    "W8A8 after SmoothQuant (alpha 0.5) folded into LayerNorms"))
    print(f"smoothquant: ppl {m.ppl:.3f}")

    for name, recipe, steps in (("int8_qat", QuantRecipe(), args.qat_steps // 2),
                                ("int4_qat", QuantRecipe(w_bits=4, group=INT4_GROUP),
                                 args.qat_steps)):
        tuned = variant_model(out, name, base_sha, steps, args.reuse_variants,
                              lambda d, r=recipe, n=steps: compress.qat(model, calib, r, n, d))
        m = eval_quant(tuned, calib, recipe, val)
        rows.append(Row(name, n_params, quantized_bytes(tuned, recipe), m,
                        f"QAT {steps} steps, w{recipe.w_bits} group {recipe.group or 'row'}"))
        print(f"{name}: ppl {m.ppl:.3f}")

    heads_win = calib_win[:16]
    head_model = variant_model(
        out, "pruned_heads", base_sha, args.prune_steps // 2, args.reuse_variants,
        lambda d: compress._finetune(
            compress.prune_heads(model, np.concatenate([heads_win, heads_win[:, :1]], 1),
                                 HEADS_REMOVED)[0],
            compress.finetune_settings(args.prune_steps // 2), d, "heads"))
    m = eval_fp32(head_model, val)
    hp = head_model.num_params()
    rows.append(Row("pruned_heads", hp, 4 * hp, m,
                    f"{HEADS_REMOVED} of {sum(model.config.layer_heads)} heads removed "
                    f"{head_model.config.layer_heads}, fine-tuned {args.prune_steps // 2} steps"))
    print(f"pruned_heads: ppl {m.ppl:.3f} heads {head_model.config.layer_heads}")

    sparse = variant_model(
        out, "pruned_50", base_sha, args.prune_steps, args.reuse_variants,
        lambda d: compress.magnitude_prune(model, PRUNE_SPARSITY, args.prune_steps, d))
    m = eval_fp32(sparse, val)
    nz = sum(int((p != 0).sum()) for p in sparse.parameters())
    prunable = sum(p.numel() for p in compress.prunable(sparse).values())
    rows.append(Row("pruned_50", nz, 4 * nz + prunable // 8, m,
                    f"{compress.sparsity_of(sparse):.0%} of block weights zero, "
                    f"fine-tuned {args.prune_steps} steps; bytes = fp32 nonzeros + bitmask"))
    print(f"pruned_50: ppl {m.ppl:.3f}")

    control = variant_model(
        out, "fp32_finetuned", base_sha, args.prune_steps, args.reuse_variants,
        lambda d: compress._finetune(copy.deepcopy(model),
                                     compress.finetune_settings(args.prune_steps, lr=1e-3), d,
                                     "fp32-ft"))
    m = eval_fp32(control, val)
    rows.append(Row("fp32_finetuned", n_params, 4 * n_params, m,
                    f"control: fp32 fine-tuned {args.prune_steps} steps like pruned_50 "
                    "(the shipped model is under-trained, so fine-tuning alone helps)"))
    print(f"fp32_finetuned: ppl {m.ppl:.3f}")

    write_csv(rows, dest.csv)

    # exports
    ig = build_deployed(model, calib).integer
    export.save_npz(ig, dest.npz)
    manifest = export.write_hex(ig, out / "hex")
    probe = np.asarray(val[:block], dtype=np.int64)[None]
    ts_err = export.check_torchscript(model, export.export_torchscript(
        model, out / "export" / "base.ts.pt"), probe)
    onnx_err = export.check_onnx(model, export.export_onnx(model, out / "export" / "base.onnx"),
                                 probe)
    samples = {p: {"greedy": generate_text(model, p, 40, temperature=0.0),
                   "sampled_T0.8_top40_seed1234": generate_text(model, p, 40, 0.8, 40, 1234)}
               for p in PROMPTS}
    summary = {
        "params": n_params, "val_tokens": fp32.count, "calib_windows": CALIB_WINDOWS,
        "train": payload.get("train_summary"), "checkpoint_step": payload.get("step"),
        "rows": [r.as_csv() for r in rows], "torchscript_max_abs_err": ts_err,
        "onnx_max_abs_err": onnx_err, "hex_manifest": str(manifest), "samples": samples,
    }
    summary["seconds"] = time.monotonic() - t_start  # reported here only, never in an artifact
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str) + "\n")
    for s in samples.values():
        print(f"greedy  | {s['greedy']!r}\nsampled | {s['sampled_T0.8_top40_seed1234']!r}")
    print(f"done in {summary['seconds']:.0f} s -> {dest.csv}, {dest.npz}, {out}")
    return summary


def write_csv(rows: list[Row], path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow(r.as_csv())
    shutil.move(tmp, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reuse-checkpoint", action="store_true",
                    help="keep the tokenizer and model/artifacts/base.pt (no base training)")
    ap.add_argument("--reuse-variants", action="store_true",
                    help="reuse fine-tuned variants in build/model/variants made from this base.pt")
    ap.add_argument("--resume", action="store_true", help="resume an interrupted base training")
    ap.add_argument("--recalibrate", action="store_true",
                    help="measure the activation calibration again (new base_calib.json)")
    ap.add_argument("--qat-steps", type=int, default=QAT_STEPS,
                    help="INT4 QAT steps (INT8: half)")
    ap.add_argument("--prune-steps", type=int, default=PRUNE_STEPS,
                    help="50%% pruning fine-tune steps (head pruning: half)")
    ap.add_argument("--out", type=Path, help="work folder (default build/model)")
    ap.add_argument("--dest", type=Path,
                    help="write experiments.csv, base_int8.npz, base_calib.json here instead "
                         "of the repository")
    ap.add_argument("--eval-windows", type=int,
                    help="evaluate on the first N validation windows only (smoke runs)")
    args = ap.parse_args(argv)
    global EVAL_WINDOWS
    EVAL_WINDOWS = args.eval_windows
    if args.resume and args.reuse_checkpoint:
        ap.error("--resume continues a base training; --reuse-checkpoint skips it")
    args.out = out = args.out or build_root() / "model"
    if args.resume and not (out / "train" / "base" / "last.pt").is_file():
        print(f"error: --resume: no interrupted training to resume "
              f"({out / 'train' / 'base' / 'last.pt'} does not exist)", file=sys.stderr)
        return 2
    try:
        run(args)
    except (FileNotFoundError, CalibrationFileError, MissingDataError, TrainingTimeout) as exc:
        print(f"error: {exc}", file=sys.stderr)  # a missing corpus/checkpoint/calibration
        return 2 if not isinstance(exc, TrainingTimeout) else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
