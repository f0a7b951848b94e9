"""Exact validation metrics and text generation.

Perplexity protocol (stated, so numbers are comparable): the whole validation split as one token
stream, cut into *non-overlapping* windows of ``block_size + 1`` tokens that share their boundary
token (window i covers ids[i*T : i*T + T + 1]); each window predicts its last T tokens from the
tokens before them inside the window, the last window may be shorter. Every token except the very
first is predicted exactly once, with 0..T-1 tokens of context (mean context ~T/2).
perplexity = exp(total NLL / number of predicted tokens); next-token accuracy = share of
positions whose argmax is the true next token.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from model.tokenizer import load_tokenizer

LogitsFn = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Metrics:
    nll_sum: float
    count: int
    correct: int

    @property
    def ppl(self) -> float:
        return math.exp(self.nll_sum / self.count)

    @property
    def accuracy(self) -> float:
        return self.correct / self.count


def windows(ids: np.ndarray, block: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(inputs, targets) of the non-overlapping evaluation windows described above."""
    out = []
    for start in range(0, len(ids) - 1, block):
        chunk = np.asarray(ids[start:start + block + 1], dtype=np.int64)
        if len(chunk) >= 2:
            out.append((chunk[:-1], chunk[1:]))
    return out


@torch.no_grad()
def evaluate(
    logits_fn: LogitsFn, ids: np.ndarray, block: int, batch: int = 32,
    max_windows: int | None = None,
) -> Metrics:
    """Metrics of ``logits_fn`` ([B, T] ids -> [B, T, V] logits) over ``ids`` (see docstring).

    ``max_windows`` limits the evaluation to the first windows (fast tests); None = everything.
    """
    wins = windows(ids, block)
    if max_windows is not None:
        wins = wins[:max_windows]
    nll, count, correct = 0.0, 0, 0
    full = [w for w in wins if len(w[0]) == block]
    rest = [w for w in wins if len(w[0]) != block]
    groups = [full[i:i + batch] for i in range(0, len(full), batch)] + [[w] for w in rest]
    for group in groups:
        x = torch.from_numpy(np.stack([w[0] for w in group]))
        y = torch.from_numpy(np.stack([w[1] for w in group]))
        logits = logits_fn(x).float()
        nll += F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1),
                               reduction="sum").item()
        correct += int((logits.argmax(-1) == y).sum())
        count += y.numel()
    return Metrics(nll, count, correct)


def generate_text(
    model: torch.nn.Module, prompt: str, max_new_tokens: int = 60, temperature: float = 0.0,
    top_k: int | None = 40, seed: int = 1234,
) -> str:
    """Greedy (``temperature=0``) or seeded sampled continuation of ``prompt``, decoded."""
    tok = load_tokenizer()
    ids = torch.tensor([tok.encode(prompt).ids], dtype=torch.long)
    gen = torch.Generator().manual_seed(seed)
    out = model.generate(ids, max_new_tokens, temperature=temperature, top_k=top_k,
                         generator=gen)
    return tok.decode(out[0].tolist())
