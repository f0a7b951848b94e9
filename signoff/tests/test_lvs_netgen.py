"""LVS: the powered schematic from the signed-off gate netlist, the black-boxed layout netlist,
and netgen's verdict on a small circuit wired correctly and with two pins swapped; the layout's
physical-only cells (tap, decap, a diode) are not in the netlist and must be ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from gptnano.pdk import cell_cdl
from signoff.lvs import blackbox_layout, cdl_pins, powered_verilog, read_gate_netlist, run_lvs

INV = "sky130_fd_sc_hd__inv_1"
NAND = "sky130_fd_sc_hd__nand2_1"


def _netlist(path: Path) -> Path:
    """The signed-off netlist as the flow writes it (no supplies, no physical-only cells)."""
    path.write_text(f"""module top(a, b, y);
  input a;
  input b;
  output y;
  wire n1;
  {INV} u1 (.A(a), .Y(n1));
  {NAND} u2 (.A(n1), .B(b), .Y(y));
endmodule
""")
    return path


def _extracted(path: Path, swap: bool) -> Path:
    """A netlist shaped like Magic's ext2spice output: cell pins in Magic's order, bodies."""
    a, b = ("b", "a") if swap else ("a", "b")
    path.write_text(f"""* extracted
.subckt {INV} VGND Y VPWR A VPB VNB
X0 Y A VGND VNB sky130_fd_pr__nfet_01v8 w=650000u l=150000u
X1 Y A VPWR VPB sky130_fd_pr__pfet_01v8_hvt w=1e+06u l=150000u
.ends
.subckt {NAND} VGND Y VPWR A VPB B VNB
X0 VPWR A Y VPB sky130_fd_pr__pfet_01v8_hvt w=1e+06u l=150000u
.ends
.subckt sky130_fd_sc_hd__tapvpwrvgnd_1 VPWR VGND
.ends
.subckt sky130_fd_sc_hd__decap_3 VGND VPWR VPB VNB
.ends
.subckt sky130_fd_sc_hd__diode_2 DIODE VGND VNB VPB VPWR
.ends
.subckt top a b y VPWR VGND
X{INV}_0 VGND n1 VPWR {a} VPWR VGND {INV}
X{NAND}_0 VGND y VPWR n1 VPWR {b}
+ VGND {NAND}
Xtap VPWR VGND sky130_fd_sc_hd__tapvpwrvgnd_1
Xdecap VGND VPWR VPWR VGND sky130_fd_sc_hd__decap_3
Xdiode n1 VGND VGND VPWR VPWR sky130_fd_sc_hd__diode_2
.ends
""")
    return path


def test_powered_verilog_ties_supplies_in_cdl_order(tmp_path: Path) -> None:
    netlist = read_gate_netlist(_netlist(tmp_path / "top.vg"), "top", tmp_path)
    assert netlist.ports == [("a", "input"), ("b", "input"), ("y", "output")]
    text = powered_verilog(netlist, tmp_path / "p.v").read_text()
    assert f"{INV} u1 (.A(a), .VGND(VGND), .VNB(VGND), .VPB(VPWR), .VPWR(VPWR), .Y(n1));" in text
    assert "module top (a, b, y, VPWR, VGND);" in text


def test_blackbox_reorders_instance_pins(tmp_path: Path) -> None:
    pins = cdl_pins(cell_cdl())
    src = _extracted(tmp_path / "l.spice", False)
    out = blackbox_layout(src, tmp_path / "bb.spice", "top", pins)
    text = out.read_text()
    assert f".subckt {INV} {' '.join(pins[INV])}" in text
    assert "sky130_fd_pr__nfet_01v8" not in text
    assert f"X{NAND}_0 n1 b VGND VGND VPWR VPWR y {NAND}" in text


@pytest.mark.parametrize("swap, match", [(False, True), (True, False)])
def test_netgen_verdict(tmp_path: Path, swap: bool, match: bool) -> None:
    result = run_lvs(_extracted(tmp_path / "l.spice", swap), _netlist(tmp_path / "top.vg"),
                     "top", tmp_path)
    assert result["match"] is match, result
    # the physical-only cells were ignored (setup file), not matched: 2 logic cells per side
    assert result["devices"] == [2, 2], result
