"""The shipped byte-level BPE tokenizer."""

from __future__ import annotations

from model.data import load_split
from model.tokenizer import EOT, VOCAB_SIZE, load_tokenizer, train_tokenizer


def test_shipped_tokenizer_vocab_and_lossless_roundtrip() -> None:
    tok = load_tokenizer()
    assert tok.get_vocab_size() == VOCAB_SIZE == 1024
    assert tok.token_to_id(EOT) == 0
    text = load_split("val").texts[7][:3000] + " naïve café ☃ \t\n"
    ids = tok.encode(text).ids
    assert tok.decode(ids) == text
    assert len(ids) < len(text.encode()) / 2  # it really compresses English


def test_training_is_deterministic() -> None:
    texts = ["the cat sat on the mat. " * 20, "a dog ate the hat! " * 20]
    a, b = train_tokenizer(texts, 300), train_tokenizer(texts, 300)
    assert a.to_str() == b.to_str()
    assert a.get_vocab_size() <= 300
