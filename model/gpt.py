"""GPT-Nano: a decoder-only transformer in the nanoGPT style, small enough to read in one sitting.

Pre-LayerNorm blocks (x + attn(ln_1(x)), x + mlp(ln_2(x))), learned position embeddings, token
embedding tied to the LM head, ReLU MLP (ReLU is exact in integers: max(0, x) on an int8 code, so
the integer golden model needs no activation table). Every matrix product is an ``nn.Linear``
with bias except the tied head, which is what the accelerator's matrix-vector engine executes.

Each attention layer may have its own number of heads (``layer_heads``), so head pruning can
really remove heads: a pruned layer has smaller ``c_attn`` ([3*h*d, C]) and ``c_proj`` ([C, h*d]).

Parameter count, for vocab V, context T, width C, L layers, head dim d and h_l heads in layer l
(``GPTConfig.param_formula``): V*C + T*C + 2*C (final LN) + sum_l [ 4*C (two LNs)
+ 3*h_l*d*C + 3*h_l*d (qkv) + h_l*d*C + C (proj) + 8*C*C + 5*C (MLP, hidden 4C) ].
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
import yaml

CONFIG_DIR = Path(__file__).resolve().parent / "configs"


@dataclass
class GPTConfig:
    vocab_size: int = 1024
    block_size: int = 128
    n_layer: int = 5
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    layer_heads: list[int] = field(default_factory=list)  # per layer; empty = n_head everywhere

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd {self.n_embd} not divisible by n_head {self.n_head}")
        if not self.layer_heads:
            self.layer_heads = [self.n_head] * self.n_layer
        if len(self.layer_heads) != self.n_layer or min(self.layer_heads) < 1:
            raise ValueError(f"layer_heads {self.layer_heads} must give >=1 head for each of "
                             f"{self.n_layer} layers")

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    def param_formula(self) -> int:
        """Exact parameter count from the formula in the module docstring."""
        v, t, c, d = self.vocab_size, self.block_size, self.n_embd, self.head_dim
        total = v * c + t * c + 2 * c
        for h in self.layer_heads:
            a = h * d
            total += 4 * c + 3 * a * c + 3 * a + a * c + c + 8 * c * c + 5 * c
        return total

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_yaml(cls, path: Path) -> GPTConfig:
        try:
            data = yaml.safe_load(Path(path).read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"cannot read model config {path}: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("model"), dict):
            raise ValueError(f"{path}: expected a mapping with a 'model' section")
        known = set(cls.__dataclass_fields__)
        unknown = set(data["model"]) - known
        if unknown:
            raise ValueError(f"{path}: unknown model keys {sorted(unknown)}")
        return cls(**data["model"])


def load_config(name: str) -> tuple[GPTConfig, dict]:
    """``configs/<name>.yaml`` -> (model config, training section)."""
    path = CONFIG_DIR / f"{name}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"no model config {path} (have: "
                                f"{sorted(p.stem for p in CONFIG_DIR.glob('*.yaml'))})")
    data = yaml.safe_load(path.read_text())
    return GPTConfig.from_yaml(path), dict(data.get("train") or {})


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: GPTConfig, n_head: int) -> None:
        super().__init__()
        self.n_head, self.head_dim = n_head, cfg.head_dim
        inner = n_head * cfg.head_dim
        self.c_attn = nn.Linear(cfg.n_embd, 3 * inner)
        self.c_proj = nn.Linear(inner, cfg.n_embd)
        self.dropout = cfg.dropout

    def split_qkv(self, qkv: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        b, t, _ = qkv.shape
        q, k, v = qkv.chunk(3, dim=2)
        shape = (b, t, self.n_head, self.head_dim)
        return tuple(z.view(shape).transpose(1, 2) for z in (q, k, v))  # type: ignore[return-value]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        q, k, v = self.split_qkv(self.c_attn(x))
        y = F.scaled_dot_product_attention(
            q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0
        )
        return self.c_proj(y.transpose(1, 2).reshape(b, t, self.n_head * self.head_dim))


class MLP(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd)
        self.c_proj = nn.Linear(4 * cfg.n_embd, cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.c_proj(F.relu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, cfg: GPTConfig, n_head: int) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd)
        self.attn = CausalSelfAttention(cfg, n_head)
        self.ln_2 = nn.LayerNorm(cfg.n_embd)
        self.mlp = MLP(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.config = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)
        self.h = nn.ModuleList(Block(cfg, h) for h in cfg.layer_heads)
        self.ln_f = nn.LayerNorm(cfg.n_embd)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # tied
        self.apply(self._init_weights)
        for name, p in self.named_parameters():  # GPT-2: scale residual projections by depth
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_params(self) -> int:
        """Unique parameters (the tied head counted once)."""
        return sum(p.numel() for p in self.parameters())

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """Token ids [B, T] -> logits [B, T, V]."""
        _, t = idx.shape
        if t > self.config.block_size:
            raise ValueError(f"sequence length {t} > block_size {self.config.block_size}")
        pos = torch.arange(t, device=idx.device)
        x = self.drop(self.wte(idx) + self.wpe(pos))
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))

    def loss(self, idx: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        logits = self(idx)
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))

    @torch.no_grad()
    def generate(
        self, idx: torch.Tensor, max_new_tokens: int, temperature: float = 1.0,
        top_k: int | None = None, generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Greedy when ``temperature == 0``, else sampling (optionally top-k) with ``generator``."""
        for _ in range(max_new_tokens):
            logits = self(idx[:, -self.config.block_size:])[:, -1, :]
            if temperature == 0:
                nxt = logits.argmax(dim=-1, keepdim=True)
            else:
                logits = logits / temperature
                if top_k is not None:
                    kth = torch.topk(logits, min(top_k, logits.size(-1))).values[:, [-1]]
                    logits = logits.masked_fill(logits < kth, float("-inf"))
                probs = F.softmax(logits, dim=-1)
                nxt = torch.multinomial(probs, 1, generator=generator)
            idx = torch.cat([idx, nxt], dim=1)
        return idx
