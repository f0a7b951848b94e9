"""Internal power of the power step (signoff.power + signoff.power_liberty).

The end-to-end checks run OpenSTA on one-cell netlists placed at a grid point of the sky130
tables (input slew and load set by the SDC), so the expected power is a hand computation from
the shipped Liberty text: density x (rise_energy + fall_energy) / 2. With the Liberty read as
shipped, OpenSTA 2.0.17 reports 0 internal power and these tests fail.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gptnano.design_config import load_design
from gptnano.pdk import corner_liberty
from gptnano.step import StepContext, StepError
from signoff import power, power_duty, power_liberty

PERIOD_NS = 10.0
ACTIVITY = 0.1  # power.DEFAULT_ACTIVITY: transitions per clock period
SLEW_NS = 0.1224745  # 4th index_1 point of the sky130 power tables


def _group(text: str, header: str) -> str:
    """The body of the first group starting with ``header`` (brace-matched)."""
    start = text.index(header)
    depth = 0
    for i in range(text.index("{", start), len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start:i + 1]
    raise AssertionError(f"unbalanced group {header}")


def _table(group: str, edge: str) -> list[list[float]]:
    body = _group(group, f'{edge}_power (')
    rows = re.search(r"values\((.*?)\);", body, re.S)
    assert rows is not None
    return [[float(x) for x in row.split(",")] for row in re.findall(r'"([^"]*)"', rows.group(1))]


def _groups(pin: str) -> list[str]:
    """The ``internal_power`` groups of one pin body."""
    out, pos = [], 0
    while (pos := pin.find("internal_power ()", pos)) >= 0:
        out.append(_group(pin[pos:], "internal_power ()"))
        pos += len(out[-1])
    return out


def _mean_pj(group: str, row: int, col: int) -> float:
    return (_table(group, "rise")[row][col] + _table(group, "fall")[row][col]) / 2


def _shipped_cell(cell: str) -> str:
    return _group(corner_liberty("tt").read_text(), f'cell ("{cell}")')


def _run(tmp_path: Path, netlist: str, sdc: str) -> dict[str, float | int | str]:
    design = load_design("probe")
    ctx = StepContext.standalone(design, tmp_path)
    (ctx.inputs_dir / f"{design.top}.vg").write_text(netlist.replace("TOP", design.top))
    (ctx.inputs_dir / f"{design.top}.sdc").write_text(sdc)
    return power.run(ctx)


def _sdc(load_pf: float) -> str:
    return (f"create_clock -name clk -period {PERIOD_NS} [get_ports clk]\n"
            "set_input_delay 0 -clock clk [all_inputs]\n"
            "set_output_delay 0 -clock clk [get_ports y]\n"
            f"set_input_transition {SLEW_NS} [all_inputs]\n"
            f"set_load {load_pf} [get_ports y]\n")


DENSITY = ACTIVITY / (PERIOD_NS * 1e-9)  # transitions per second


# Arc weights of each output pin, derived by hand from the function with the 2.0.17 duty rule
# (signoff.power_duty) and normalised to sum 1: equal for symmetric cells; o21ai_0
# "(!A1&!A2) | (!B1)" infers !(!A1&!A2) (0.75) for B1 and nothing (0.5) for A1, A2.
CELLS = {
    "inv_1": {"A": 1.0},
    "nand2_1": {"A": 0.5, "B": 0.5},
    "a21oi_1": {"A1": 1 / 3, "A2": 1 / 3, "B1": 1 / 3},
    "o21ai_0": {"A1": 0.5 / 1.75, "A2": 0.5 / 1.75, "B1": 0.75 / 1.75},
    "mux2_2": {"A0": 1 / 3, "A1": 1 / 3, "S": 1 / 3},
    "xor2_1": {"A": 0.5, "B": 0.5},
}


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_combinational_internal_power_matches_liberty_tables(tmp_path: Path, cell: str) -> None:
    """Power = density x (weighted mean over the output arcs + each input pin's own table) of
    mean(rise, fall) energy, at the 4th slew and 4th load grid point of the tables."""
    text = _shipped_cell(f"sky130_fd_sc_hd__{cell}")
    out_name = "Y" if 'pin ("Y")' in text else "X"
    out_pin = _group(text, f'pin ("{out_name}")')
    load_pf = float(re.findall(r'index_2\("([^"]*)"', out_pin)[0].split(",")[3])
    weights = CELLS[cell]
    expected_pj = 0.0
    for group in _groups(out_pin):
        related = re.search(r'related_pin : "(\w+)"', group)
        assert related is not None
        expected_pj += weights[related.group(1)] * _mean_pj(group, 3, 3)
    for name in weights:
        for group in _groups(_group(text, f'pin ("{name}")')):
            expected_pj += _mean_pj(group, 0, 3)
    inputs = sorted(weights)
    netlist = (f"module TOP (clk, {', '.join(i.lower() for i in inputs)}, y);\n"
               f"  input clk; input {', '.join(i.lower() for i in inputs)}; output y;\n"
               f"  sky130_fd_sc_hd__{cell} u1 ("
               + ", ".join(f".{i}({i.lower()})" for i in inputs) + f", .{out_name}(y));\n"
               "endmodule\n")
    m = _run(tmp_path, netlist, _sdc(load_pf))
    expected_mw = expected_pj * 1e-12 * DENSITY * 1e3
    assert expected_mw > 0
    assert m["internal_mw"] == pytest.approx(expected_mw, rel=1e-3)
    # Switching is 0.5 C V^2 per transition, independent of the Liberty rewrite.
    assert m["switching_mw"] == pytest.approx(0.5 * load_pf * 1e-12 * 1.8**2 * DENSITY * 1e3,
                                              rel=1e-3)


def test_flop_internal_power_counts_one_clock_rise_and_fall_per_period(tmp_path: Path) -> None:
    """CLK pin: one rise and one fall per period; Q arc (from CLK) and D pin at the data
    density. 2.0.17 as shipped would double the first two once internal power is enabled."""
    cell = _shipped_cell("sky130_fd_sc_hd__dfxtp_1")
    clk, d, q = (_group(cell, f'pin ("{p}")') for p in ("CLK", "D", "Q"))
    load_pf = float(re.findall(r'index_2\("([^"]*)"', q)[0].split(",")[3])
    (q_arc,) = _groups(q)
    expected_pj_per_s = (sum(_mean_pj(g, 0, 3) for g in _groups(clk)) * 2 / (PERIOD_NS * 1e-9)
                         + (_mean_pj(q_arc, 3, 3)
                            + sum(_mean_pj(g, 0, 3) for g in _groups(d))) * DENSITY)
    netlist = ("module TOP (clk, a, y);\n  input clk; input a; output y;\n"
               "  sky130_fd_sc_hd__dfxtp_1 ff (.CLK(clk), .D(a), .Q(y));\nendmodule\n")
    m = _run(tmp_path, netlist, _sdc(load_pf))
    assert m["internal_mw"] == pytest.approx(expected_pj_per_s * 1e-12 * 1e3, rel=1e-3)


def test_default_operating_conditions_moved_after_their_group() -> None:
    text = ('library (x) {\n  default_operating_conditions : "tt";\n'
            '  operating_conditions ("tt") {\n    voltage : 1.8;\n  }\n  cell (c) { }\n}\n')
    fixed = power_liberty.fix_default_oc(text, Path("x.lib"))
    assert fixed.index("default_operating_conditions") > fixed.index("voltage : 1.8")
    assert fixed.count("default_operating_conditions") == 1
    assert power_liberty.fix_default_oc(fixed, Path("x.lib")) == fixed


def test_default_operating_conditions_without_group_is_named() -> None:
    with pytest.raises(StepError, match=r"bad\.lib.*'nope'"):
        power_liberty.fix_default_oc('library (x) {\n  default_operating_conditions : nope;\n}\n',
                                     Path("bad.lib"))


def test_tables_scaled_by_half_over_the_arc_duty_sum() -> None:
    text = """cell (c) {
  pin (A) { direction : input;
    internal_power () { rise_power (t) { values ("0.4, -0.2"); } } }
  pin (B) { direction : input; }
  pin (C) { direction : input; }
  pin (CK) { clock : "true"; direction : input;
    internal_power () { rise_power (t) { values ("0.4, -0.2"); } } }
  pin (Y) { direction : output; function : "(!A)|(!B)";
    internal_power () { related_pin : "A"; fall_power (t) { values ("0.4", "1e-2"); } }
    internal_power () { related_pin : "B"; fall_power (t) { values ("0.4"); } }
    timing () { cell_rise (t) { values ("0.4"); } } }
  pin (Z) { direction : output; function : "(A&B) | (A&C) | (B&C)";
    internal_power () { related_pin : "A"; fall_power (t) { values ("0.3"); } }
    internal_power () { related_pin : "B"; fall_power (t) { values ("0.3"); } }
    internal_power () { related_pin : "C"; fall_power (t) { values ("0.3"); } } }
}"""
    out, changed = power_liberty.correct_internal_power(text)
    assert changed == 3  # CK, Y, Z; the plain input A keeps 2.0.17's own 0.5 duty
    pins = {p: _group(out, f"pin ({p})") for p in ("A", "CK", "Y", "Z")}
    assert 'values ("0.4, -0.2")' in pins["A"]
    assert 'values("0.2, -0.1")' in pins["CK"]
    # Y: duties 0.5 + 0.5 -> x 0.5;  Z (nothing inferable): 3 x 0.5 -> x 1/3.
    assert 'values("0.2", "0.005")' in pins["Y"] and 'values("0.2")' in pins["Y"]
    assert pins["Z"].count('values("0.1")') == 3
    assert 'cell_rise (t) { values ("0.4"); }' in pins["Y"]  # timing untouched


def test_power_view_is_cached_by_content(tmp_path: Path) -> None:
    src = corner_liberty("tt")
    first = power_liberty.power_liberty(src)
    assert power_liberty.power_liberty(src) == first
    assert first != src and first.is_file()
    with pytest.raises(StepError, match="missing"):
        power_liberty.power_liberty(tmp_path / "none.lib")


@pytest.mark.parametrize(("function", "pin", "duty"), [
    ("(!A)", "A", 1.0),                      # inverter: condition "1"
    ("(!A) | (!B)", "B", 0.5),               # nand2: B matters when A is 1
    ("(!A1&!A2) | (!B1)", "B1", 0.75),       # o21ai: B1 matters when !(!A1&!A2)
    ("(!A1&!A2) | (!B1)", "A1", 0.5),        # nothing inferable -> flat 0.5
    ("(A&B&C)", "C", 0.25),                  # left-associative: (A&B)&C
    ("A B' + C", "C", 0.75),                 # juxtaposed and, postfix not
    ("IQ", "CLK", 0.5),                      # flop Q from a non-clock pin
])
def test_arc_duty_follows_opensta_2_0_17(function: str, pin: str, duty: float) -> None:
    assert power_duty.arc_duty(function, pin, None, related_is_clock=False) == pytest.approx(duty)


def test_arc_duty_clock_and_when() -> None:
    assert power_duty.arc_duty("IQ", "CLK", None, related_is_clock=True) == 1.0
    assert power_duty.arc_duty("(!A)", "A", "B&C", related_is_clock=False) == 0.25


def test_bad_function_is_reported() -> None:
    with pytest.raises(power_duty.FuncParseError, match="A & ."):
        power_duty.parse("A & (B")
    with pytest.raises(power_duty.FuncParseError, match="bad character"):
        power_duty.parse("A # B")
