"""The core's DEF reader (gptnano.lefdef, KLayout's LEF/DEF reader): DEF locations for every
orientation, unplaced components left out, the die of a polygon DIEAREA, bad files named."""

from __future__ import annotations

from pathlib import Path

import pytest

from gptnano.lefdef import Component, DefError, read_def_placement

DEF = """VERSION 5.8 ;
DESIGN top ;
UNITS DISTANCE MICRONS 1000 ;
DIEAREA ( 0 0 ) ( 80000 0 ) ( 80000 60000 ) ( 40000 60000 ) ( 40000 90000 ) ( 0 90000 ) ;
COMPONENTS 6 ;
- u1 sky130_fd_sc_hd__inv_1 + PLACED ( 10000 10000 ) N ;
- u2 sky130_fd_sc_hd__nand2_1
   + PLACED ( 20000 12720 ) FS ;
- u3 sky130_fd_sc_hd__inv_1 + PLACED ( 30460 15440 ) S ;
- u4 sky130_fd_sc_hd__inv_1 + PLACED ( 41400 18160 ) FN ;
- u5 sky130_fd_sc_hd__dfxtp_1 + FIXED ( 70000 50000 ) N ;
- u6 sky130_fd_sc_hd__inv_1 + UNPLACED ;
END COMPONENTS
END DESIGN
"""


def test_placed_components_at_their_def_location(tmp_path: Path, capfd) -> None:
    path = tmp_path / "t.def"
    path.write_text(DEF)
    placement = read_def_placement(path)
    assert placement.die == (0, 0, 80000, 90000) and placement.units_per_um == 1000
    assert sorted(placement.components, key=lambda c: c.name) == [
        Component("u1", "sky130_fd_sc_hd__inv_1", 10000, 10000),
        Component("u2", "sky130_fd_sc_hd__nand2_1", 20000, 12720),
        Component("u3", "sky130_fd_sc_hd__inv_1", 30460, 15440),
        Component("u4", "sky130_fd_sc_hd__inv_1", 41400, 18160),
        Component("u5", "sky130_fd_sc_hd__dfxtp_1", 70000, 50000),
    ]
    assert "Macro not found" not in capfd.readouterr().err   # no LEF is read, and no noise


def test_missing_and_unreadable_def_are_named(tmp_path: Path) -> None:
    with pytest.raises(DefError, match="nope.def: no such DEF file"):
        read_def_placement(tmp_path / "nope.def")
    bad = tmp_path / "bad.def"
    bad.write_text("COMPONENTS 1 ;\n- u1 inv + PLACED ( 1 ;\nEND COMPONENTS\n")
    with pytest.raises(DefError, match="bad.def"):
        read_def_placement(bad)
