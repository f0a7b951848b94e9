"""CPU training loop: AdamW, warmup + cosine, gradient clipping, periodic validation, best and
resumable checkpoints, fixed seeds, a tqdm bar, and a step budget.

A run is defined by its steps: ``max_steps`` ends it and the cosine schedule runs on
step / max_steps, so the same settings give the same trajectory on a fast or a busy machine
(an earlier wall-time budget made the shipped weights depend on the machine's load).
``time_guard_s`` is only a guard: a run that exceeds it stops with an error, never silently
with fewer steps.

Run directory layout (``build/model/train/<name>/``): ``last.pt`` (model + optimizer + RNG +
step + elapsed, for ``--resume``), ``best.pt`` (lowest validation loss, weights + config +
tokenizer hash), ``log.csv`` (step, lr, train loss, val loss, elapsed).

    python -m model.train --config tiny --steps 50      # quick look
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from tqdm import tqdm

from gptnano.paths import build_root
from model.corpus_tokens import token_ids
from model.gpt import GPT, GPTConfig, load_config
from model.tokenizer import TOKENIZER_PATH, tokenizer_hash

NUM_THREADS = 2


@dataclass
class TrainSettings:
    batch_size: int = 32
    lr: float = 3e-3
    min_lr: float = 3e-4
    weight_decay: float = 0.1
    warmup_steps: int = 100
    max_steps: int = 3000
    time_guard_s: float | None = None  # fail (never shorten the run) past this many seconds
    eval_interval: int = 100
    eval_batches: int = 16
    grad_clip: float = 1.0
    seed: int = 1337

    @classmethod
    def from_dict(cls, data: dict) -> TrainSettings:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown train settings {sorted(unknown)}")
        return cls(**data)


class TrainingTimeout(RuntimeError):
    """A run went past its ``time_guard_s``."""


def lr_at(step: int, s: TrainSettings) -> float:
    """Linear warmup over ``warmup_steps``, then cosine to ``min_lr`` at ``max_steps``."""
    if step < s.warmup_steps:
        return s.lr * (step + 1) / s.warmup_steps
    progress = min(1.0, step / max(1, s.max_steps))
    return s.min_lr + 0.5 * (s.lr - s.min_lr) * (1.0 + math.cos(math.pi * progress))


def get_batch(
    data: np.ndarray, block: int, batch: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random windows of ``block`` tokens and their one-step-shifted targets."""
    starts = torch.randint(0, len(data) - block - 1, (batch,), generator=gen).numpy()
    x = np.stack([data[i:i + block] for i in starts])
    y = np.stack([data[i + 1:i + 1 + block] for i in starts])
    return torch.from_numpy(x.astype(np.int64)), torch.from_numpy(y.astype(np.int64))


def make_optimizer(model: nn.Module, s: TrainSettings) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices only (not biases, LayerNorm, position rows)."""
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "wpe" not in n]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2 or "wpe" in n]
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": s.weight_decay},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=s.lr, betas=(0.9, 0.95),
    )


LossFn = Callable[[GPT, torch.Tensor, torch.Tensor], torch.Tensor]


def default_loss(model: GPT, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return model.loss(x, y)


@torch.no_grad()
def estimate_val_loss(
    model: GPT, val: np.ndarray, block: int, s: TrainSettings, loss_fn: LossFn = default_loss
) -> float:
    """Mean loss on ``eval_batches`` fixed validation batches (same windows every call)."""
    gen = torch.Generator().manual_seed(s.seed + 1)
    was_training = model.training
    model.eval()
    losses = [loss_fn(model, *get_batch(val, block, s.batch_size, gen)).item()
              for _ in range(s.eval_batches)]
    model.train(was_training)
    return float(np.mean(losses))


def checkpoint_payload(model: GPT, **extra: object) -> dict:
    return {
        "model": model.state_dict(),
        "config": model.config.to_dict(),
        "tokenizer_sha256": tokenizer_hash(TOKENIZER_PATH),
        **extra,
    }


def load_checkpoint(path: Path) -> tuple[GPT, dict]:
    """A checkpoint -> (model in eval mode, payload). Refuses a tokenizer mismatch."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"checkpoint {path} not found; run `make model`")
    payload = torch.load(path, map_location="cpu", weights_only=False)
    want = payload.get("tokenizer_sha256")
    have = tokenizer_hash(TOKENIZER_PATH)
    if want != have:
        raise ValueError(f"{path} was trained with tokenizer {want}, but {TOKENIZER_PATH} "
                         f"is {have}; retrain with `make model`")
    model = GPT(GPTConfig(**payload["config"]))
    model.load_state_dict(payload["model"])
    model.eval()
    return model, payload


def train(
    model: GPT,
    settings: TrainSettings,
    out_dir: Path,
    resume: bool = False,
    after_step: Callable[[GPT], None] | None = None,
    desc: str = "train",
    loss_fn: LossFn = default_loss,
) -> dict:
    """Train ``model`` in place; returns a summary. ``after_step`` runs after each optimizer step
    (pruning uses it to keep masked weights at zero); ``loss_fn`` replaces the plain loss (QAT
    trains through the fake-quant forward)."""
    torch.set_num_threads(NUM_THREADS)
    torch.manual_seed(settings.seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    block = model.config.block_size
    train_ids, val_ids = token_ids("train"), token_ids("val")
    opt = make_optimizer(model, settings)
    gen = torch.Generator().manual_seed(settings.seed)
    step, elapsed_before, best = 0, 0.0, float("inf")
    last_path, best_path, log_path = out_dir / "last.pt", out_dir / "best.pt", out_dir / "log.csv"
    if resume and last_path.is_file():
        state = torch.load(last_path, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        gen.set_state(state["generator"])
        step, elapsed_before, best = state["step"], state["elapsed"], state["best_val"]
    elif log_path.exists():
        log_path.unlink()
    model.train()
    t0 = time.monotonic()
    bar = tqdm(total=settings.max_steps, initial=step, desc=desc, dynamic_ncols=True,
               mininterval=5.0)
    val_loss = float("nan")
    while step < settings.max_steps:
        elapsed = elapsed_before + time.monotonic() - t0
        if settings.time_guard_s is not None and elapsed >= settings.time_guard_s:
            bar.close()
            raise TrainingTimeout(
                f"{desc}: {elapsed:.0f} s at step {step} of {settings.max_steps}, past the "
                f"guard of {settings.time_guard_s:.0f} s; resume with --resume (last.pt) or "
                "raise time_guard_s")
        lr = lr_at(step, settings)
        for group in opt.param_groups:
            group["lr"] = lr
        x, y = get_batch(train_ids, block, settings.batch_size, gen)
        loss = loss_fn(model, x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip)
        opt.step()
        if after_step is not None:
            after_step(model)
        step += 1
        bar.update(1)
        if step % settings.eval_interval == 0 or step == settings.max_steps:
            val_loss = estimate_val_loss(model, val_ids, block, settings, loss_fn)
            elapsed = elapsed_before + time.monotonic() - t0
            bar.set_postfix(loss=f"{loss.item():.3f}", val=f"{val_loss:.3f}", lr=f"{lr:.1e}")
            with log_path.open("a", newline="") as fh:
                csv.writer(fh).writerow([step, f"{lr:.6g}", f"{loss.item():.5f}",
                                         f"{val_loss:.5f}", f"{elapsed:.1f}"])
            if val_loss < best:
                best = val_loss
                torch.save(checkpoint_payload(model, step=step, val_loss=val_loss), best_path)
            torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                        "generator": gen.get_state(), "step": step, "elapsed": elapsed,
                        "best_val": best}, last_path)
    bar.close()
    elapsed = elapsed_before + time.monotonic() - t0
    if not best_path.exists() or step % settings.eval_interval:
        val_loss = estimate_val_loss(model, val_ids, block, settings, loss_fn)
        if val_loss < best or not best_path.exists():
            best = val_loss
            torch.save(checkpoint_payload(model, step=step, val_loss=val_loss), best_path)
    tokens = (step * settings.batch_size * block)
    return {"steps": step, "elapsed_s": elapsed, "best_val_loss": best,
            "tokens": tokens, "best_path": best_path}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--config", default="base", help="configs/<name>.yaml")
    ap.add_argument("--steps", type=int, help="override max_steps")
    ap.add_argument("--time-guard", type=float,
                    help="override time_guard_s: fail past this many seconds")
    ap.add_argument("--out", type=Path, help="run directory (default build/model/train/<config>)")
    ap.add_argument("--resume", action="store_true", help="continue from <out>/last.pt")
    args = ap.parse_args(argv)
    cfg, tdict = load_config(args.config)
    settings = TrainSettings.from_dict(tdict)
    if args.steps is not None:
        settings.max_steps = args.steps
    if args.time_guard is not None:
        settings.time_guard_s = args.time_guard
    out = args.out or build_root() / "model" / "train" / args.config
    torch.manual_seed(settings.seed)
    model = GPT(cfg)
    print(f"{args.config}: {model.num_params():,} parameters")
    summary = train(model, settings, out, resume=args.resume, desc=args.config)
    print(f"steps {summary['steps']}  {summary['elapsed_s']:.0f} s  "
          f"best val loss {summary['best_val_loss']:.4f}  -> {summary['best_path']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
