"""Byte-level BPE tokenizer, trained offline on the training split with HF ``tokenizers``.

Byte-level means every string encodes (no unknown token) and decoding is lossless. The vocabulary
is 1024: 256 byte symbols + 767 merges + ``<|endoftext|>`` (id 0 is the end-of-text separator put
between documents). 1024 keeps the tied embedding/LM head (vocab x width) a modest share of the
~1.1M parameters while still cutting the text ~2.6x versus bytes (measured on the
training split: 5.37 MB of text -> 2.04M tokens).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from gptnano.paths import REPO_ROOT, MissingDataError

VOCAB_SIZE = 1024
EOT = "<|endoftext|>"
TOKENIZER_PATH = REPO_ROOT / "model" / "artifacts" / "tokenizer.json"


def train_tokenizer(texts: list[str] | tuple[str, ...], vocab_size: int = VOCAB_SIZE) -> Tokenizer:
    """Train byte-level BPE on ``texts`` (deterministic for the same input)."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer, length=len(texts))
    return tok


def save_tokenizer(tok: Tokenizer, path: Path = TOKENIZER_PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tok.save(str(path))
    return path


def load_tokenizer(path: Path = TOKENIZER_PATH) -> Tokenizer:
    if not path.is_file():
        raise MissingDataError(f"tokenizer not found at {path}; run `make model` to train it")
    return Tokenizer.from_file(str(path))


def tokenizer_hash(path: Path = TOKENIZER_PATH) -> str:
    """sha256 of the tokenizer file: stored in checkpoints so a mismatch is caught on load."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def encode_documents(tok: Tokenizer, texts: list[str] | tuple[str, ...]) -> list[int]:
    """Token ids of the documents, each followed by the end-of-text id."""
    eot = tok.token_to_id(EOT)
    ids: list[int] = []
    for enc in tok.encode_batch(list(texts)):
        ids.extend(enc.ids)
        ids.append(eot)
    return ids
