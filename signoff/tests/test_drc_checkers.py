"""Both DRC checkers count a deliberate violation and pass a clean layout (tiny GDS files)."""

from __future__ import annotations

import re
from pathlib import Path

import gdstk
import pytest

from gptnano.step import StepError
from signoff.drc_klayout import count_violations, prepare_deck, run_klayout_drc
from signoff.drc_magic import run_magic_drc


def _gds(path: Path, gap_um: float) -> Path:
    """Two 2 um x 0.5 um met1 bars `gap_um` apart (met1 spacing rule: 0.14 um)."""
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    top = gdstk.Cell("t")
    top.add(gdstk.rectangle((0, 0), (2, 0.5), layer=68, datatype=20))
    top.add(gdstk.rectangle((0, 0.5 + gap_um), (2, 1.0 + gap_um), layer=68, datatype=20))
    lib.add(top)
    lib.write_gds(str(path))
    return path


@pytest.mark.parametrize("gap, bad", [(0.10, True), (0.20, False)])
def test_klayout_deck_flags_met1_spacing(tmp_path: Path, gap: float, bad: bool) -> None:
    counts = run_klayout_drc(_gds(tmp_path / "t.gds", gap), tmp_path)
    assert (counts.get("m1.2", 0) > 0) is bad, counts
    if not bad:
        assert counts == {}


@pytest.mark.parametrize("gap, bad", [(0.10, True), (0.20, False)])
def test_magic_flags_met1_spacing(tmp_path: Path, gap: float, bad: bool) -> None:
    counts = run_magic_drc(_gds(tmp_path / "t.gds", gap), "t", tmp_path)
    assert (sum(counts.values()) > 0) is bad, counts
    if bad:
        assert any("Metal1 spacing" in k or "m1.2" in k for k in counts), counts


def test_prepare_deck_unescapes_and_sets_threads(tmp_path: Path) -> None:
    deck = prepare_deck(tmp_path / "d.drc", threads=1).read_text()
    assert "&lt;" not in deck and "&amp;" not in deck
    assert "threads(1)" in deck and "FEOL = true" in deck  # the full deck by default
    assert "vpp.is_empty? || vpp.width(1.43" in deck
    beol = prepare_deck(tmp_path / "b.drc", feol=False).read_text()
    assert re.search(r"^FEOL\s*=\s*false", beol, flags=re.M)


def test_prepare_deck_tiled_mode(tmp_path: Path) -> None:
    deck = prepare_deck(tmp_path / "t.drc", threads=2, mode="tiled", tile_um=50).read_text()
    assert re.search(r"^tiles\(50\.um\)$", deck, flags=re.M)
    assert re.search(r"^tile_borders\(21\.um\)$", deck, flags=re.M)
    assert not re.search(r"^deep\s*$", deck, flags=re.M)
    assert re.search(r"^deep\s*$", prepare_deck(tmp_path / "d.drc").read_text(), flags=re.M)
    with pytest.raises(StepError):
        prepare_deck(tmp_path / "x.drc", mode="flat")


def test_guarded_device_layer_rules_still_fire(tmp_path: Path) -> None:
    """The is_empty? guard skips vpp rules only when there is no vpp shape: a 1 um wide vpp
    (vpp.1: min width 1.43 um) is still flagged by the full deck."""
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    top = gdstk.Cell("t")
    top.add(gdstk.rectangle((0, 0), (1.0, 3.0), layer=82, datatype=64))  # capacitor.vpp
    lib.add(top)
    lib.write_gds(str(tmp_path / "v.gds"))
    counts = run_klayout_drc(tmp_path / "v.gds", tmp_path, threads=1)
    assert counts.get("vpp.1", 0) > 0, counts


def test_count_violations(tmp_path: Path) -> None:
    rdb = tmp_path / "r.lyrdb"
    rdb.write_text("<report-database><items>"
                   "<item><category>'m1.2'</category></item>"
                   "<item><category>'m1.2'</category></item>"
                   "<item><category>'via.2'</category></item></items></report-database>")
    assert count_violations(rdb) == {"m1.2": 2, "via.2": 1}
