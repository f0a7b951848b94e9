"""GDS picture and DEF density map: real files in, counted polygons and cells out."""

from __future__ import annotations

from pathlib import Path

import pytest

from reports import layout
from reports.tests.report_fixtures import DEF, write_gds


def test_render_gds_draws_drawing_layers_only(tmp_path: Path) -> None:
    gds = write_gds(tmp_path / "x.gds", squares=10)
    stats = layout.render_gds(gds, tmp_path / "x.png")
    assert stats.polygons == 30 and stats.drawn == 20  # the 10 via cuts are skipped
    assert stats.top == "top"
    assert (tmp_path / "x.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unreadable_gds_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gds"
    bad.write_bytes(b"\x00\x01garbage")
    with pytest.raises(layout.LayoutError, match="bad.gds"):
        layout.render_gds(bad, tmp_path / "bad.png")


def test_parse_def_skips_physical_cells(tmp_path: Path) -> None:
    path = tmp_path / "t.def"
    path.write_text(DEF)
    placement = layout.parse_def(path)
    assert placement.die == (0.0, 0.0, 80.0, 80.0)
    assert placement.points.tolist() == [[10.0, 10.0], [20.0, 12.72], [70.0, 70.0]]
    assert layout.render_density(path, tmp_path / "d.png") == 3


def test_def_without_components_is_named(tmp_path: Path) -> None:
    path = tmp_path / "t.def"
    path.write_text("DIEAREA ( 0 0 ) ( 10 10 ) ;\n")
    with pytest.raises(layout.LayoutError, match="t.def: no placed COMPONENTS"):
        layout.parse_def(path)


def test_def_without_diearea_is_named(tmp_path: Path) -> None:
    path = tmp_path / "t.def"
    path.write_text(DEF.replace("DIEAREA ( 0 0 ) ( 80000 80000 ) ;\n", ""))
    with pytest.raises(layout.LayoutError, match="t.def: no DIEAREA"):
        layout.parse_def(path)


def test_klayout_picture_with_pdk_layer_properties(tmp_path: Path) -> None:
    """The PDK's .lyp gives met1/met2 their own colours and stipples: the picture is neither
    blank nor one solid colour, and the zoomed view shows a different part at a larger scale."""
    from PIL import Image

    gds = write_gds(tmp_path / "x.gds", squares=10)
    pic = layout.render_klayout(gds, tmp_path / "full.png", tmp_path / "zoom.png", zoom_um=10)
    assert pic.top == "top" and layout.sky130_lyp().suffix == ".lyp"
    full, zoom = Image.open(pic.full).convert("RGB"), Image.open(pic.zoom).convert("RGB")
    assert max(full.size) == 900 and zoom.size == (900, 900)
    colours = full.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) >= 3
    top_share = max(n for n, _ in colours) / (full.size[0] * full.size[1])
    assert 0.2 < top_share < 0.95  # white background and drawn layers, not a solid hatch
    assert full.tobytes() != zoom.tobytes()


def test_klayout_unreadable_gds_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gds"
    bad.write_bytes(b"\x00\x01garbage")
    with pytest.raises(layout.LayoutError, match="bad.gds: KLayout cannot read it"):
        layout.render_klayout(bad, tmp_path / "a.png", tmp_path / "b.png")
