"""What re-runs a job: the flow's input fingerprint (flow.project.input_fingerprint)."""

from __future__ import annotations

from pathlib import Path

from flow.project import FLOW_PACKAGES, input_fingerprint, pdk_inputs
from gptnano.design_config import load_design

CODE = '''"""Module docstring."""


def area(w, h):
    """Area of a box."""
    return w * h  # a comment
'''


def _tree(tmp_path: Path) -> tuple[Path, Path, Path]:
    root = tmp_path / "repo"
    for package in FLOW_PACKAGES:
        (root / package).mkdir(parents=True)
    (root / "pnr" / "geometry.py").write_text(CODE)
    (root / "gptnano" / "compat.tcl").write_text("proc x {} { return 1 }\n")
    (root / "pnr" / "tests").mkdir()
    (root / "pnr" / "tests" / "test_x.py").write_text("def test_x():\n    pass\n")
    rtl = tmp_path / "t.v"
    rtl.write_text("module t(input clk); endmodule\n")
    design_dir = tmp_path / "d"
    design_dir.mkdir()
    (design_dir / "constraint.sdc").write_text("create_clock -period 10 [get_ports clk]\n")
    (design_dir / "config.yaml").write_text(
        f"top: t\nrtl: [{rtl}]\nclock: {{port: clk, period_ns: 10}}\n")
    pdk = tmp_path / "cells.lib"
    pdk.write_text("library (x) { }\n")
    return root, design_dir / "config.yaml", pdk


def test_docstring_and_comment_edits_rerun_nothing_code_and_pdk_edits_do(tmp_path) -> None:
    root, config, pdk = _tree(tmp_path)
    design = load_design(config)

    def fingerprint() -> str:
        return input_fingerprint(design, root=root, pdk=[pdk])

    first = fingerprint()
    code = root / "pnr" / "geometry.py"
    code.write_text(CODE.replace("Area of a box.", "Area of a rectangle, in um^2.")
                    .replace("# a comment", "# another comment").replace('"""Module', '"""A'))
    assert fingerprint() == first  # docstrings and comments only
    (root / "pnr" / "tests" / "test_x.py").write_text("def test_y():\n    pass\n")
    assert fingerprint() == first  # tests are not flow code
    code.write_text(CODE.replace("w * h", "w * h * 2"))
    second = fingerprint()
    assert second != first
    pdk.write_text("library (y) { }\n")
    assert fingerprint() != second  # a PDK file changed
    third = fingerprint()
    (root / "gptnano" / "compat.tcl").write_text("proc x {} { return 2 }\n")
    assert fingerprint() != third  # non-Python flow files byte for byte


def test_the_pdk_files_the_flow_reads_are_fingerprinted() -> None:
    names = {p.name for p in pdk_inputs()}
    assert "sky130A.tech" in names and "sky130.lydrc" in names
    assert any(n.endswith(".lib.gz") or n.endswith(".lib") for n in names), names
    assert any(n.endswith(".tlef") for n in names) and any(n.endswith(".lef") for n in names)
