"""The committed rtl/ must be what design/ generates, and the manifest must describe it."""

from __future__ import annotations

import json
import re

import pytest

from design.config import CONFIGS, GqmvConfig
from design.generate import RTL_DIR, write_all


def test_committed_rtl_is_fresh(tmp_path):
    written = write_all(tmp_path)
    stale = [p.name for p in written if (RTL_DIR / p.name).read_text() != p.read_text()]
    assert not stale, f"rtl/ is stale, run `make rtl`: {stale}"


def test_manifest_ports_match_verilog():
    manifest = json.loads((RTL_DIR / "manifest.json").read_text())
    assert set(manifest["configs"]) == set(CONFIGS)
    for entry in manifest["configs"].values():
        text = (RTL_DIR / entry["file"]).read_text()
        header = re.search(rf"module {entry['top']}\((.*?)\);", text, re.S)
        assert header, f"no module {entry['top']} in {entry['file']}"
        declared = {p.strip() for p in header.group(1).split(",")}
        assert declared == {p["name"] for p in entry["ports"]}
        for port in entry["ports"]:
            width = f"[{port['width'] - 1}:0] " if port["width"] > 1 else ""
            assert f"{port['dir']} {width}{port['name']};" in text, port


@pytest.mark.parametrize("kwargs, message", [
    (dict(lanes=3, group=8, max_len=32), "power of two"),
    (dict(lanes=1, group=8, max_len=36), "multiple of group"),
    (dict(lanes=1, group=8, max_len=32, req_bits=3), "must divide"),
    (dict(lanes=1, group=128, max_len=2**20), "worst-case total"),
    (dict(lanes=1, group=8, max_len=32, mutation="typo"), "unknown mutation"),
])
def test_config_rejects_unsafe_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GqmvConfig("bad", **kwargs)


def test_base_config_fits_the_model_shapes():
    """The base engine must hold the widest activation of the shipped model (MLP: 4 x 128)."""
    base = CONFIGS["base"]
    assert base.group == 64 and base.max_len >= 4 * 128
