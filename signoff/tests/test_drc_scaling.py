"""Windowed Magic DRC: the cut neither loses nor doubles a violation (tiny GDS files)."""

from __future__ import annotations

from pathlib import Path

import gdstk

from signoff.drc_magic import count_regions, run_magic_drc, windows


def test_windows_cover_the_die_on_grid() -> None:
    cores = windows((5.52, 0.0, 332.12, 325.04), tile_um=200)
    assert len(cores) == 4
    assert min(c[0] for c in cores) == 5.52 and max(c[2] for c in cores) == 332.12
    area = sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in cores)
    assert abs(area - (332.12 - 5.52) * 325.04) < 1e-6
    for x0, y0, x1, y1 in cores:
        for v in (x0, y0, x1, y1):
            assert abs(v / 0.005 - round(v / 0.005)) < 1e-6  # no off-grid cut
        assert x1 - x0 <= 200 and y1 - y0 <= 200
    assert windows((0, 0, 10, 10), tile_um=200) == [(0, 0, 10, 10)]


def test_count_regions_merges_touching_boxes_per_rule() -> None:
    boxes = [("a", 0, 0, 1, 1), ("a", 1, 0, 2, 1),   # touch at x = 1: one violation
             ("a", 5, 5, 6, 6),                     # apart: a second one
             ("b", 0, 0, 1, 1)]                     # another rule counts on its own
    assert count_regions(boxes) == {"a": 2, "b": 1}
    assert count_regions([]) == {}


def _straddling_gds(path: Path) -> Path:
    """A 40 um x 8 um die with two met1 bars 0.10 um apart (m1.2: 0.14 um) astride x = 20.

    With 20 um windows the die is cut at x = 20, through the gap: each window sees one bar
    and the halo holds the other.
    """
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    top = gdstk.Cell("t")
    top.add(gdstk.rectangle((0, 0), (1, 0.5), layer=68, datatype=20))       # die corners
    top.add(gdstk.rectangle((39, 7.5), (40, 8), layer=68, datatype=20))
    top.add(gdstk.rectangle((18, 3), (19.95, 5), layer=68, datatype=20))    # the pair
    top.add(gdstk.rectangle((20.05, 3), (22, 5), layer=68, datatype=20))
    lib.add(top)
    lib.write_gds(str(path))
    return path


def test_windowed_count_equals_single_window(tmp_path: Path) -> None:
    gds = _straddling_gds(tmp_path / "s.gds")
    whole = run_magic_drc(gds, "t", tmp_path / "one", jobs=2, tile_um=1000)
    cut = run_magic_drc(gds, "t", tmp_path / "two", jobs=2, tile_um=20)
    assert sum(whole.values()) > 0 and any("spacing" in k for k in whole), whole
    assert cut == whole
    assert "\"windows\": 2" in (tmp_path / "two" / "drc_magic_windows.json").read_text()
