"""Token id streams of the train/val splits, cached under ``build/model/tokens/``.

The cache file name carries the tokenizer's sha256 prefix, so a retrained tokenizer never reads
stale ids. Ids are uint16 (vocab 1024); documents are separated by the end-of-text id.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from gptnano.paths import build_root
from model.data import load_split
from model.tokenizer import TOKENIZER_PATH, encode_documents, load_tokenizer, tokenizer_hash


@lru_cache(maxsize=4)
def token_ids(split: str) -> np.ndarray:
    """The whole split as one uint16 id array (read-only)."""
    digest = tokenizer_hash(TOKENIZER_PATH)[:16]
    path = build_root() / "model" / "tokens" / f"{split}_{digest}.npy"
    if path.is_file():
        ids = np.load(path)
    else:
        tok = load_tokenizer(TOKENIZER_PATH)
        ids = np.asarray(encode_documents(tok, load_split(split).texts), dtype=np.uint16)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.stem + ".tmp.npy")
        np.save(tmp, ids)
        tmp.replace(path)
    ids.setflags(write=False)
    return ids
