"""Corpus location, de-tagging and the document-level split."""

from __future__ import annotations

import pytest

from gptnano.paths import MissingDataError
from model import data


def test_strip_tags_and_detokenize() -> None:
    line = ("``/`` Only/rb a/at handful/nn was/bedz received/vbn ''/'' ,/, the/at jury/nn "
            "said/vbd (/( in/in 1961/cd )/) ;/. it/pps didn't/dod* ./.")
    words = data.strip_tags(line)
    assert words[:3] == ["``", "Only", "a"]
    assert data.detokenize(words) == ('"Only a handful was received", the jury said (in 1961); '
                                      "it didn't.")


def test_parse_document_keeps_paragraphs() -> None:
    raw = "\n\n\tThe/at cat/nn sat/vbd ./.\n\n\n\tIt/pps slept/vbd ./.\n"
    assert data.parse_document(raw) == "The cat sat.\nIt slept.\n"


def test_missing_corpus_names_path_and_fix(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GPTNANO_BUILD", str(tmp_path))
    with pytest.raises(MissingDataError) as err:
        data.corpus_dir()
    assert str(tmp_path) in str(err.value) and "make setup" in str(err.value)


def test_split_is_by_document_deterministic_and_complete() -> None:
    train, val = data.load_split("train"), data.load_split("val")
    assert len(train.names) == 450 and len(val.names) == 50
    assert not set(train.names) & set(val.names)
    assert val.names[:3] == ("ca10", "ca20", "ca30")
    assert {n[1] for n in val.names} == {n[1] for n in train.names}  # every genre on both sides
    assert "/" not in val.texts[0].split()[0]  # tags stripped
    assert val.texts[0].startswith("Vincent G. Ierulli has been appointed temporary assistant")
    with pytest.raises(ValueError, match="split"):
        data.load_split("test")
