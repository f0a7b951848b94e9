"""Values spliced into tool scripts stay one word (Tcl braces, yosys double quotes)."""

from __future__ import annotations

import subprocess

import pytest

from gptnano.toolargs import ToolArgumentError, tcl_word, yosys_word


def test_tcl_word_keeps_spaces_dollars_and_brackets_literal(tmp_path) -> None:
    hostile = "/tmp/a b/$HOME/[exit 3]/x.lib"
    (tmp_path / "s.tcl").write_text(f"puts \"LEN [string length {tcl_word(hostile)}]\"\n")
    out = subprocess.run(["sta", "-no_init", "-no_splash", "-exit", str(tmp_path / "s.tcl")],
                         capture_output=True, text=True)  # OpenSTA's Tcl, as the flow uses it
    assert f"LEN {len(hostile)}" in out.stdout, out
    for bad in ("a}b", "a{b", "a\\b", "a\nb"):
        with pytest.raises(ToolArgumentError):
            tcl_word(bad)


def test_yosys_word_reads_a_file_in_a_folder_with_spaces(tmp_path) -> None:
    folder = tmp_path / "a b"
    folder.mkdir()
    (folder / "t x.v").write_text("module t(input a, output y); assign y = ~a; endmodule\n")
    script = f"read_verilog -sv {yosys_word(folder / 't x.v')}\nhierarchy -top t\n"
    (tmp_path / "s.ys").write_text(script)
    proc = subprocess.run(["yosys", "-q", "-s", str(tmp_path / "s.ys")], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    for bad in ('a"b', "a;b", "a\nb"):
        with pytest.raises(ToolArgumentError):
            yosys_word(bad)
