"""The technology model is read from the tech LEF, and a LEF the router cannot use is refused
with the file and the reason named."""

from __future__ import annotations

from pathlib import Path

import pytest

from gptnano import pdk
from pnr.engine import tech


def test_sky130hd_numbers_come_from_the_tech_lef() -> None:
    t = tech.technology()
    assert (t.site_w, t.row_h) == (460, 2720)
    assert (t.grid_x0, t.grid_dx, t.grid_y0, t.grid_dy) == (230, 460, 170, 340)
    # met1's SPACINGTABLE has a 0.28 um row for wide wires: the minimum is the first row
    assert t.spacing == {"li1": 170, "met1": 140, "met2": 140, "met3": 300, "met4": 300}
    assert t.width["met3"] == 300 and t.min_area["met3"] == 240_000
    assert t.vias["L1M1"] == ("mcon", 85, ("li1", 85, 85), ("met1", 145, 115))
    assert t.vias["M2M3"] == ("via2", 100, ("met2", 140, 185), ("met3", 165, 165))
    assert t.via1_cut_pitch == 320
    assert tech.GRID_DY == 340 and tech.VIA1_CUT == 150 and tech.RAIL_HALF == 240


def _edited_lef(tmp_path: Path, *edits: tuple[str, str]) -> str:
    text = pdk.tech_lef().read_text()
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "edited.tlef"
    path.write_text(text)
    return str(path)


def test_an_edited_lef_changes_the_model(tmp_path: Path) -> None:
    path = _edited_lef(tmp_path, ("  RECT -0.145 -0.115 0.145 0.115 ;",
                                  "  RECT -0.155 -0.125 0.155 0.125 ;"))
    assert tech.technology(path).vias["L1M1"][3] == ("met1", 155, 125)


def test_a_grid_the_router_cannot_use_is_refused_by_name(tmp_path: Path) -> None:
    path = _edited_lef(tmp_path, ("  PITCH 0.68 ;", "  PITCH 0.7 ;"))
    with pytest.raises(tech.TechError, match=r"edited.tlef: .*met3 pitch 700 nm is not twice"):
        tech.technology(path)


def test_a_missing_via_is_refused_by_name(tmp_path: Path) -> None:
    path = _edited_lef(tmp_path, ("VIA M1M2_PR DEFAULT", "VIA M1M2_XX DEFAULT"),
                       ("END M1M2_PR", "END M1M2_XX"))
    with pytest.raises(tech.TechError, match="edited.tlef: no VIA M1M2_PR"):
        tech.technology(path)


def test_an_unterminated_block_is_refused_by_name(tmp_path: Path) -> None:
    path = _edited_lef(tmp_path, ("END met5", ""))
    with pytest.raises(tech.TechError, match="edited.tlef: LAYER met5 has no END met5"):
        tech.lef_blocks(path)


def test_gds_layers_come_from_the_klayout_layer_map(tmp_path: Path) -> None:
    assert tech.GDS["met1"] == (68, 20) and tech.GDS["mcon"] == (67, 44)
    assert tech.GDS_PIN["met4"] == (71, 16)
    text = pdk.klayout_tech().read_text()
    assert "'via2.drawing : 69/44';" in text
    edited = tmp_path / "edited.lyt"
    edited.write_text(text.replace("'via2.drawing : 69/44';", ""))
    with pytest.raises(tech.TechError, match="edited.lyt: the GDS layer map lacks via2.drawing"):
        tech.gds_layer_map(str(edited))


def test_rc_from_the_lef_and_coupling_from_magics_tech_file(tmp_path: Path) -> None:
    assert tech.AREA_CAP["met1"] == 25.7784e-6 and tech.EDGE_CAP["met4"] == 36.676e-6
    assert tech.SHEET_R == {"met1": 0.125, "met2": 0.125, "met3": 0.047, "met4": 0.047}
    assert tech.VIA_R == {"L1M1": 9.3, "M1M2": 4.5, "M2M3": 3.41, "M3M4": 3.41}
    # the default extraction style's values, not the (si)/(orig) variants'
    assert tech.SIDEWALL_AF == {"met1": 45.0, "met2": 50.0, "met3": 63.0, "met4": 67.0}
    assert tech.CROSS_AF[("met2", "met1")] == (134.0, 67.0, 48.0)
    assert tech.CROSS_AF[("met1", "li1")] == (114.0, 59.0, 35.0)
    assert tech.SIDE_HALO_NM == 2000
    magic = pdk.magic_tech()
    edited = tmp_path / "edited.tech"
    edited.write_text(magic.read_text().replace(" defaultsidewall    allm3 metal3     63", ""))
    with pytest.raises(tech.TechError, match="edited.tech: extract section lacks "
                                             "defaultsidewall met3"):
        tech.magic_coupling(str(edited))
