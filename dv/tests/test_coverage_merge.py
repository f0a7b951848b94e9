"""Merging per-run coverage exports (no simulator)."""

from __future__ import annotations

import pytest

from dv.coverage_merge import merge


def test_merge_sums_hits_per_bin(tmp_path):
    a, b = tmp_path / "a.yml", tmp_path / "b.yml"
    a.write_text("gqmv.mode:\n  bins:_hits:\n    int8: 2\n    int32: 0\n")
    b.write_text("gqmv.mode:\n  bins:_hits:\n    int8: 1\n    int32: 3\n")
    assert merge([a, b]) == {"gqmv.mode": {"int8": 3, "int32": 3}}


def test_merge_refuses_nothing_or_garbage(tmp_path):
    with pytest.raises(FileNotFoundError):
        merge([])
    bad = tmp_path / "bad.yml"
    bad.write_text("- just a list\n")
    with pytest.raises(ValueError, match="bad.yml"):
        merge([bad])
