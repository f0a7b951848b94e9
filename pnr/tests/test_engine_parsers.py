"""Unit tests of the engine's readers (LEF, gate netlist) and layout helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from gptnano.netlist import NetlistError, read_netlist
from pnr.engine import library, tech
from pnr.engine.layout import Component, place_rect
from pnr.engine.lef import LefError, read_lef

LEF = """VERSION 5.7 ;
MACRO demo_inv
  CLASS CORE ;
  SIZE 0.920000 BY 2.720000 ;
  PIN A
    DIRECTION INPUT ;
    USE SIGNAL ;
    PORT
      LAYER li1 ;
        RECT 0.085 1.075 0.430 1.325 ;
    END
  END A
  PIN VGND
    USE GROUND ;
    PORT
      LAYER met1 ;
        RECT 0.000 -0.240 0.920 0.240 ;
    END
  END VGND
  OBS
    LAYER met1 ;
      RECT 0.500 1.000 0.700 1.200 ;
  END
END demo_inv
"""


def test_read_lef_sizes_pins_and_obstructions(tmp_path: Path) -> None:
    path = tmp_path / "demo.lef"
    path.write_text(LEF)
    m = read_lef(path)["demo_inv"]
    assert (m.width, m.height) == (920, 2720)
    assert m.pins["A"].shapes["li1"] == [(85, 1075, 430, 1325)]
    assert m.pins["VGND"].use == "GROUND"
    assert [p.name for p in m.signal_pins] == ["A"]
    assert m.obs["met1"] == [(500, 1000, 700, 1200)]


def test_read_lef_rejects_garbage(tmp_path: Path) -> None:
    path = tmp_path / "bad.lef"
    path.write_text("MACRO x\n  SIZE a BY b ;\nEND x\n")
    with pytest.raises(LefError, match="bad.lef:2"):
        read_lef(path)


def test_library_lef_has_the_cells_the_engine_inserts() -> None:
    cells = library.cells()
    assert cells[library.TAP_CELL].width == tech.SITE_W
    for width, name in library.FILLERS:
        assert cells[name].width == width * tech.SITE_W, name


def test_read_netlist(tmp_path: Path) -> None:
    path = tmp_path / "t.vg"
    path.write_text("""module t(a, y);
  input a; wire a;
  output y; wire y;
  wire n1;
  sky130_fd_sc_hd__inv_1 u1 (.A(a), .Y(n1));
  sky130_fd_sc_hd__inv_1 u2 (.A(n1), .Y(y));
endmodule
""")
    nl = read_netlist(path)
    assert nl.top == "t" and nl.ports == {"a": "input", "y": "output"}
    nets = nl.nets()
    assert sorted(nets["n1"]) == [("u1", "Y"), ("u2", "A")]
    assert ("PIN", "y") in nets["y"]


def test_read_netlist_rejects_assign(tmp_path: Path) -> None:
    path = tmp_path / "t.vg"
    path.write_text("module t(a, y); input a; output y; assign y = a;\n"
                    "sky130_fd_sc_hd__inv_1 u (.A(a), .Y(y)); endmodule\n")
    with pytest.raises(NetlistError, match="assign"):
        read_netlist(path)


def test_place_rect_flips_fs_rows() -> None:
    comp = Component("u", "c", x=1000, y=2720, orient="FS")
    # a shape at the bottom of the cell ends up at the top of an FS row
    assert place_rect((0, 0, 100, 200), comp, 2720) == (1000, 5240, 1100, 5440)
    comp.orient = "N"
    assert place_rect((0, 0, 100, 200), comp, 2720) == (1000, 2720, 1100, 2920)
