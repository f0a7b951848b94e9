"""Compression variants of a trained GPT: QAT, head pruning, unstructured magnitude pruning.

PTQ (W8A8, group-wise, SmoothQuant) needs no training and lives in ``model/quant.py``; this
module holds the variants that change or fine-tune weights. Each fine-tuning is short and
budgeted in optimizer steps (never wall seconds: the result must not depend on the machine's
speed), runs through ``model.train.train`` (same seeds, bar and logs) in its
own directory, and returns the weights with the best validation loss.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch

from model.gpt import GPT, GPTConfig
from model.quant import Calibration, QuantRecipe, quant_forward
from model.train import TrainSettings, load_checkpoint, train


def finetune_settings(steps: int, lr: float = 5e-4, seed: int = 4242) -> TrainSettings:
    """Short fine-tuning: small learning rate, brief warmup, frequent validation."""
    return TrainSettings(batch_size=32, lr=lr, min_lr=lr / 10, weight_decay=0.0,
                         warmup_steps=min(20, max(1, steps // 5)), max_steps=steps,
                         eval_interval=25, eval_batches=8, grad_clip=1.0, seed=seed)


def _finetune(model: GPT, settings: TrainSettings, out_dir: Path, desc: str, **kwargs) -> GPT:
    summary = train(model, settings, out_dir, desc=desc, **kwargs)
    best, _ = load_checkpoint(summary["best_path"])
    return best


def qat(model: GPT, calib: Calibration, recipe: QuantRecipe, steps: int,
        out_dir: Path) -> GPT:
    """Quantization-aware fine-tuning: the loss runs through the fake-quant forward (STE on
    weights and activations, activation scales fixed from ``calib``)."""
    tuned = copy.deepcopy(model)

    def loss_fn(m: GPT, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        logits = quant_forward(m, x, calib, recipe)
        return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)),
                                                 y.reshape(-1))

    return _finetune(tuned, finetune_settings(steps), out_dir, f"qat-w{recipe.w_bits}",
                     loss_fn=loss_fn)


# -- head pruning ------------------------------------------------------------------------------
@torch.no_grad()
def head_importance(model: GPT, windows: np.ndarray) -> np.ndarray:
    """Loss increase when each head's output is zeroed, [layer, head] (ablation on ``windows``)."""
    x = torch.from_numpy(windows[:, :-1].astype(np.int64))
    y = torch.from_numpy(windows[:, 1:].astype(np.int64))
    model.eval()
    base = model.loss(x, y).item()
    cfg = model.config
    out = np.zeros((cfg.n_layer, max(cfg.layer_heads)))
    for li, blk in enumerate(model.h):
        d = cfg.head_dim
        for h in range(blk.attn.n_head):
            w = blk.attn.c_proj.weight
            saved = w[:, h * d:(h + 1) * d].clone()
            w[:, h * d:(h + 1) * d] = 0
            out[li, h] = model.loss(x, y).item() - base
            w[:, h * d:(h + 1) * d] = saved
    return out


@torch.no_grad()
def remove_heads(model: GPT, keep: list[list[int]]) -> GPT:
    """A new, smaller GPT that keeps heads ``keep[layer]``: c_attn rows and c_proj columns of the
    removed heads are dropped, so the Linear layers really shrink."""
    cfg = model.config
    d = cfg.head_dim
    new_cfg = GPTConfig(**{**cfg.to_dict(), "layer_heads": [len(k) for k in keep]})
    small = GPT(new_cfg)
    sd = model.state_dict()
    new_sd = small.state_dict()
    for key in new_sd:
        new_sd[key] = sd[key].clone()
    for li, heads in enumerate(keep):
        inner = model.h[li].attn.n_head * d
        cols = np.concatenate([np.arange(h * d, (h + 1) * d) for h in heads])
        rows = np.concatenate([cols + j * inner for j in range(3)])
        p = f"h.{li}.attn."
        new_sd[p + "c_attn.weight"] = sd[p + "c_attn.weight"][rows].clone()
        new_sd[p + "c_attn.bias"] = sd[p + "c_attn.bias"][rows].clone()
        new_sd[p + "c_proj.weight"] = sd[p + "c_proj.weight"][:, cols].clone()
    small.load_state_dict(new_sd)
    return small


def prune_heads(model: GPT, windows: np.ndarray, n_remove: int) -> tuple[GPT, list[list[int]]]:
    """Remove the ``n_remove`` least important heads overall (at least one head kept per layer)."""
    imp = head_importance(model, windows)
    cfg = model.config
    order = sorted((imp[li, h], li, h) for li in range(cfg.n_layer)
                   for h in range(cfg.layer_heads[li]))
    keep = [list(range(n)) for n in cfg.layer_heads]
    removed = 0
    for _, li, h in order:
        if removed == n_remove:
            break
        if len(keep[li]) > 1:
            keep[li].remove(h)
            removed += 1
    return remove_heads(model, keep), keep


# -- unstructured magnitude pruning ------------------------------------------------------------
def prunable(model: GPT) -> dict[str, torch.nn.Parameter]:
    """The transformer blocks' Linear weights (embeddings, LayerNorms and biases stay dense)."""
    return {n: p for n, p in model.named_parameters()
            if n.startswith("h.") and n.endswith(".weight") and p.dim() == 2}


@torch.no_grad()
def magnitude_masks(model: GPT, sparsity: float) -> dict[str, torch.Tensor]:
    """Per-layer masks keeping the largest-magnitude (1 - sparsity) share of each weight."""
    masks = {}
    for name, p in prunable(model).items():
        k = int(round(sparsity * p.numel()))
        thresh = p.abs().flatten().kthvalue(k).values if k > 0 else -1.0
        masks[name] = p.abs() > thresh
    return masks


@torch.no_grad()
def apply_masks(model: GPT, masks: dict[str, torch.Tensor]) -> None:
    params = dict(model.named_parameters())
    for name, mask in masks.items():
        params[name].mul_(mask)


def magnitude_prune(model: GPT, sparsity: float, steps: int, out_dir: Path) -> GPT:
    """Prune to ``sparsity`` per layer, then fine-tune with the masks re-applied every step."""
    pruned = copy.deepcopy(model)
    masks = magnitude_masks(pruned, sparsity)
    apply_masks(pruned, masks)
    if steps <= 0:
        return pruned
    tuned = _finetune(pruned, finetune_settings(steps, lr=1e-3), out_dir, "prune",
                      after_step=lambda m: apply_masks(m, masks))
    apply_masks(tuned, masks)
    return tuned


def sparsity_of(model: GPT) -> float:
    ps = prunable(model).values()
    return float(sum(int((p == 0).sum()) for p in ps) / sum(p.numel() for p in ps))
