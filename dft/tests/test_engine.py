"""Unit tests of the Liberty reader, the netlist model and the SAT ATPG (no Fault run)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from dft import sky130
from dft.atpg_engine import Circuit, _pack, run_atpg, verify
from dft.liberty import LibertyError, parse_function, read_liberty
from dft.netlist import NetlistError, build_netlist, fault_list
from gptnano.netlist import yosys_json
from gptnano.pdk import corner_liberty

# y = a&b | !a&c with a redundant consensus term (b&c): the OR input from the consensus
# AND can never be the only 1, so its stuck-at-0 fault is untestable.
REDUNDANT = """
module red(input a, input b, input c, output y);
  wire na, t1, t2, t3, u;
  sky130_fd_sc_hd__inv_1 i0 (.A(a), .Y(na));
  sky130_fd_sc_hd__and2_1 g1 (.A(a), .B(b), .X(t1));
  sky130_fd_sc_hd__and2_1 g2 (.A(na), .B(c), .X(t2));
  sky130_fd_sc_hd__and2_1 g3 (.A(b), .B(c), .X(t3));
  sky130_fd_sc_hd__or3_1 g4 (.A(t1), .B(t2), .C(t3), .X(y));
endmodule
"""


@pytest.fixture(scope="module")
def lib() -> Path:
    return corner_liberty("tt")


@pytest.fixture(scope="module")
def cells(lib):
    return read_liberty(lib)


def _eval(expr, env):
    op = expr[0]
    if op == "var":
        return env[expr[1]]
    if op == "const":
        return expr[1]
    if op == "not":
        return 1 - _eval(expr[1], env)
    a, b = _eval(expr[1], env), _eval(expr[2], env)
    return {"and": a & b, "or": a | b, "xor": a ^ b}[op]


def test_function_parser_precedence():
    expr = parse_function("(A1&!B1) | A2 B2 ^ C'")
    for a1, b1, a2, b2, c in itertools.product((0, 1), repeat=5):
        env = {"A1": a1, "B1": b1, "A2": a2, "B2": b2, "C": c}
        assert _eval(expr, env) == ((a1 & (1 - b1)) | (a2 & (b2 ^ (1 - c))))
    with pytest.raises(LibertyError):
        parse_function("A & (B")


def test_liberty_cells(cells):
    assert cells["sky130_fd_sc_hd__a21oi_1"].inputs == ["A1", "A2", "B1"]
    assert cells["sky130_fd_sc_hd__sdfxtp_1"].sequential
    assert set(cells["sky130_fd_sc_hd__fa_1"].functions) == {"COUT", "SUM"}
    mux = cells["sky130_fd_sc_hd__mux2_1"].functions["X"]
    assert _eval(mux, {"A0": 0, "A1": 1, "S": 1}) == 1
    assert _eval(mux, {"A0": 0, "A1": 1, "S": 0}) == 0


def test_scl_config_matches_only_scannable_flops(cells, tmp_path):
    import yaml

    cfg = yaml.safe_load(sky130.scl_config(cells, tmp_path / "scl.yml").read_text())
    names = cfg["dffMatches"][0]["name"].split(",")
    assert "sky130_fd_sc_hd__dfxtp_1" in names and "sky130_fd_sc_hd__dfrtp_1" in names
    assert not any("dfxbp" in n or n.split("__")[1].startswith("s") for n in names)
    assert cfg["muxInfo"]["name"] == "sky130_fd_sc_hd__mux2_1"


def test_sat_atpg_matches_exhaustive_truth(lib, cells, tmp_path):
    """On a 3-input circuit every fault's detectability is known by trying all 8 inputs: the
    engine must detect exactly the testable ones and prove the redundant one untestable."""
    src = tmp_path / "red.v"
    src.write_text(REDUNDANT)
    netlist = build_netlist(yosys_json(src, lib, "red"), "red", cells)
    faults = fault_list(netlist)
    circuit = Circuit(netlist, faults)
    every = [list(v) for v in itertools.product((0, 1), repeat=3)]
    good = circuit.simulate(_pack(every, 3), 8)
    testable = {i for i, f in enumerate(faults) if circuit.detect(f, good, 255)}
    assert any(f.site == "g4.C" and f.stuck == 0 for i, f in enumerate(faults)
               if i not in testable)
    result = run_atpg(circuit, max_random_batches=0, log=lambda *_: None)  # SAT only
    assert result.detected == len(testable)
    assert result.untestable == len(faults) - len(testable)
    assert verify(circuit, result.vectors) == len(testable)


def test_netlist_errors_name_the_problem(lib, cells, tmp_path):
    loop = tmp_path / "loop.v"
    loop.write_text("module lp(input a, output y); wire w;\n"
                    "sky130_fd_sc_hd__nand2_1 g1 (.A(a), .B(w), .Y(w));\n"
                    "assign y = w; endmodule\n")
    with pytest.raises(NetlistError, match="loop"):
        build_netlist(yosys_json(loop, lib, "lp"), "lp", cells)
    with pytest.raises(NetlistError, match="top module"):
        build_netlist(yosys_json(loop, lib, "lp"), "nope", cells)


def test_liberty_reader_names_a_bad_file(tmp_path):
    bad = tmp_path / "bad.lib"
    bad.write_text("library (x) { cell (a) { pin (A) { direction : input; } }\n")
    with pytest.raises(LibertyError, match="bad.lib: cannot parse Liberty"):
        read_liberty(bad)
    empty = tmp_path / "empty.lib"
    empty.write_text("library (x) { }\n")
    with pytest.raises(LibertyError, match="no cell groups"):
        read_liberty(empty)


def test_chains_are_balanced_to_one_flop() -> None:
    from dft.scan import chain_bounds

    for n, k in ((741, 4), (7, 3), (32, 2), (4, 1), (5, 5)):
        b = chain_bounds(n, k)
        lengths = [b[i + 1] - b[i] for i in range(k)]
        assert b[0] == 0 and b[-1] == n and max(lengths) - min(lengths) <= 1, (n, k, lengths)
    assert chain_bounds(741, 4) == [0, 186, 371, 556, 741]
