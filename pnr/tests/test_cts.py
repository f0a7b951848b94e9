"""Clock-tree / high-fanout buffering step (pnr.engine.cts) and its helpers, on a synthetic
placed register bank: fast, no external tools."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gptnano.design_config import DesignConfigError, load_design
from gptnano.netlist import read_netlist
from gptnano.step import StepContext, StepError
from pnr.engine import buffer_tree, cts, liberty, library
from pnr.engine.floorplan import build_floorplan
from pnr.engine.layout import Component, Layout
from pnr.engine.place import (
    check_overlaps,
    global_place,
    legalize,
    place_in_free_sites,
    site_occupancy,
)

FLOPS = 70     # clock sinks: 70 -> 8 leaf groups of <= 9 -> one root: two levels
GATES = 45     # loads of the enable input: above the signal fan-out limit of 20


def _bank_netlist(path: Path) -> None:
    """A shift register of ``FLOPS`` flops on ``clk``; the first ``GATES`` stages are gated
    by ``en`` (an AND in front of D), so ``en`` has ``GATES`` loads and nothing else more
    than two."""
    lines = ["module bank(clk, en, d, y);", "  input clk; input en; input d; output y;"]
    prev = "d"
    for k in range(FLOPS):
        q, a = f"q{k}", f"a{k}"
        lines.append(f"  wire {q}; wire {a};")
        other = "en" if k < GATES else prev
        lines.append(f"  sky130_fd_sc_hd__and2_1 g{k} (.A({other}), .B({prev}), .X({a}));")
        lines.append(f"  sky130_fd_sc_hd__dfxtp_1 r{k} (.CLK(clk), .D({a}), .Q({q}));")
        prev = q
    lines.append(f"  sky130_fd_sc_hd__buf_2 ob (.A({prev}), .X(y));")
    lines.append("endmodule")
    path.write_text("\n".join(lines) + "\n")


def _config(folder: Path, netlist: Path, extra: str = "") -> Path:
    (folder / "constraint.sdc").write_text("create_clock -name clk -period 10 [get_ports clk]\n")
    cfg = folder / "config.yaml"
    cfg.write_text(f"name: bank\ntop: bank\nrtl: [{netlist}]\nsdc: constraint.sdc\n"
                   f"clock: {{port: clk, period_ns: 10.0}}\n{extra}")
    return cfg


@pytest.fixture(scope="module")
def placed(tmp_path_factory: pytest.TempPathFactory) -> tuple[StepContext, Layout]:
    tmp = tmp_path_factory.mktemp("bank")
    _bank_netlist(tmp / "bank.vg")
    ctx = StepContext.standalone(load_design(_config(tmp, tmp / "bank.vg")), tmp / "cts")
    (ctx.inputs_dir / "bank.vg").write_text((tmp / "bank.vg").read_text())
    layout = build_floorplan("bank", ctx.input("vg"), {"core_utilization": 0.35})
    x, y, movable = global_place(layout)
    legalize(layout, x, y, movable)
    layout.save(ctx.inputs_dir / "bank.layout.json")
    return ctx, layout


@pytest.fixture(scope="module")
def after(placed: tuple[StepContext, Layout]) -> tuple[dict, Layout]:
    ctx, _ = placed
    metrics = cts.run(ctx)
    return metrics, Layout.load(ctx.output("layout.json"))


def _driver_of(nets: dict[str, list[tuple[str, str]]], cells: dict[str, str]) -> dict:
    """net -> driving (instance, pin) from the LEF directions (ports: inputs drive)."""
    lib = library.cells()
    out = {}
    for net, pins in nets.items():
        for inst, pin in pins:
            if inst == "PIN" and net in ("clk", "en", "d"):
                out[net] = (inst, pin)
            elif inst != "PIN" and lib[cells[inst]].pins[pin].direction == "OUTPUT":
                out[net] = (inst, pin)
    return out


def test_every_sink_still_reaches_its_driver_through_buffers_only(placed, after) -> None:
    ctx, before = placed
    _, layout = after
    cells = {c.name: c.cell for c in layout.components}
    drivers = _driver_of(layout.nets, cells)
    net_of = {(i, p): n for n, pins in layout.nets.items() for i, p in pins}
    for net, pins in before.nets.items():
        for inst, pin in pins:
            if (inst, pin) == ("PIN", net) or (net in drivers and drivers[net] == (inst, pin)):
                continue
            n, depth = net_of[(inst, pin)], 0
            while n != net:  # walk up through inserted buffers
                drv_inst, _ = drivers[n]
                assert cells[drv_inst].split("__")[1].startswith(("clkbuf_", "buf_")), n
                n, depth = net_of[(drv_inst, "A")], depth + 1
            if net == "clk":
                assert depth == 2, f"{inst} sits at clock depth {depth}"


def test_clock_tree_shape_and_metrics(after) -> None:
    metrics, layout = after
    assert metrics["clock_sinks"] == FLOPS
    assert metrics["clock_levels"] == 2
    assert metrics["clock_buffers"] == 8 + 1
    assert metrics["clock_max_fanout"] <= 16
    assert [p for p in layout.nets["clk"]] == [("PIN", "clk"), ("cts_clk_2_0", "A")]
    assert 0 <= metrics["clock_skew_est_ns"] < metrics["clock_latency_est_ns"] < 1.0
    assert metrics["signal_nets_buffered"] == 1 and metrics["signal_buffers"] == 4  # en: 45
    assert metrics["max_fanout"] <= 20


def test_outputs_agree_and_placed_cells_did_not_move(placed, after) -> None:
    ctx, before = placed
    _, layout = after
    nl = read_netlist(ctx.output("vg"))
    assert {(n, i, p) for n, ps in nl.nets().items() for i, p in ps} == \
        {(n, i, p) for n, ps in layout.nets.items() for i, p in ps}
    old = {c.name: (c.x, c.y, c.orient) for c in before.components}
    new = {c.name: (c.x, c.y, c.orient) for c in layout.components}
    assert {k: new[k] for k in old} == old
    assert len(new) - len(old) == after[0]["clock_buffers"] + after[0]["signal_buffers"]
    check_overlaps(layout, (layout.core[2] - layout.core[0]) // 460)
    trees = json.loads((ctx.reports_dir / "cts.json").read_text())
    assert trees[0]["net"] == "clk" and trees[0]["kind"] == "clock"
    assert ctx.output("def").read_text().count("cts_clk_") >= 9


def test_cts_rejects_unknown_settings_and_mismatched_views(placed, tmp_path: Path) -> None:
    ctx, _ = placed
    # an unknown cts key is refused when the config is loaded, before any step runs
    with pytest.raises(DesignConfigError, match=r"cts: unknown keys \['max_fanout'\]"):
        load_design(_config(tmp_path, ctx.design.rtl[0], "cts: {max_fanout: 8}\n"))
    nl_text = ctx.input("vg").read_text().replace(".D(a3)", ".D(a4)")
    other = StepContext.standalone(ctx.design, tmp_path / "mismatch")
    (other.inputs_dir / "bank.vg").write_text(nl_text)
    (other.inputs_dir / "bank.layout.json").write_text(ctx.input("layout.json").read_text())
    with pytest.raises(StepError, match="layout.json and the netlist differ"):
        cts.run(other)


def test_place_in_free_sites_takes_the_nearest_gap(placed) -> None:
    _, before = placed
    layout = _copy(before)
    occ = site_occupancy(layout)
    target = layout.comp("r10")
    comp = Component("extra", "sky130_fd_sc_hd__clkbuf_4")
    place_in_free_sites(layout, comp, target.x, target.y + 1360, occ)
    layout.components.append(comp)
    check_overlaps(layout, (layout.core[2] - layout.core[0]) // 460)
    # the placer leaves gaps in every row: the buffer lands within a row and a few sites
    assert abs(comp.y - target.y) <= 2720 and abs(comp.x - target.x) < 20 * 460


def _copy(layout: Layout) -> Layout:
    return Layout(**{k: getattr(layout, k) for k in (
        "top", "die", "core", "rows", "ports", "nets", "power", "tap_columns", "routes")},
        components=[Component(**c.__dict__) for c in layout.components])


def test_bisect_groups_are_balanced_and_complete() -> None:
    pins = [buffer_tree.Pin(f"i{k}", "A", (k * 37) % 101 * 1000, (k * 53) % 97 * 1000)
            for k in range(499)]
    groups = buffer_tree.bisect(pins, 16)
    assert sorted(p.inst for g in groups for p in g) == sorted(p.inst for p in pins)
    assert len(groups) == 32 and {len(g) for g in groups} <= {15, 16}
    with pytest.raises(ValueError):
        buffer_tree.bisect(pins, 0)


def test_rmst_and_centre() -> None:
    assert buffer_tree.rmst_length([(0, 0), (10, 0), (5, 0)]) == 10
    assert buffer_tree.rmst_length([(0, 0), (3, 4)]) == 7
    assert buffer_tree.rmst_length([(1, 1)]) == 0
    pins = [buffer_tree.Pin("a", "A", 0, 0), buffer_tree.Pin("b", "A", 10, 2),
            buffer_tree.Pin("c", "A", 2, 8)]
    assert buffer_tree.centre(pins) == (5, 4)


def test_liberty_tables_interpolate_and_grow_with_load() -> None:
    t = liberty.Table((0.0, 1.0), (0.0, 2.0), ((1.0, 3.0), (2.0, 6.0)))
    assert t(0.0, 0.0) == 1.0 and t(1.0, 2.0) == 6.0
    assert t(0.5, 1.0) == pytest.approx((1 + 3 + 2 + 6) / 4)
    assert t(2.0, 0.0) == pytest.approx(3.0)  # linear extrapolation past the table
    lib = liberty.load("tt")
    arc = lib.arc("sky130_fd_sc_hd__clkbuf_4", "A", "X")
    delays = [arc.delay(0.05, c) for c in (0.001, 0.01, 0.05, 0.2)]
    assert delays == sorted(delays) and 0.05 < delays[0] < 0.5
    assert 0.001 < lib.pin_cap("sky130_fd_sc_hd__dfxtp_1", "CLK") < 0.005
    with pytest.raises(StepError, match="no timing arc"):
        lib.arc("sky130_fd_sc_hd__clkbuf_4", "X", "A")
