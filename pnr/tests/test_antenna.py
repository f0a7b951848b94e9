"""Antenna diode insertion (pnr.engine.antenna) on the synthetic placed register bank of
test_cts: estimates from the LEF, diodes in layout and netlist together."""

from __future__ import annotations

import json

import pytest
from test_cts import _bank_netlist, _config

from gptnano.design_config import load_design
from gptnano.netlist import read_netlist
from gptnano.step import StepContext
from pnr.engine import antenna, tech
from pnr.engine.floorplan import build_floorplan
from pnr.engine.layout import Layout
from pnr.engine.place import check_overlaps, global_place, legalize


def test_limit_follows_the_tech_lef_table() -> None:
    assert antenna.limit(0.0) == 400.0            # no diffusion: the bare ratio
    assert antenna.limit(0.4347) > 2600.0         # one diode's worth of diffusion
    assert tech.thickness_um("met4") == 0.8 and tech.thickness_um("met1") == 0.35


def test_diodes_needed_grows_with_the_ratio() -> None:
    est = {"ratio": 150.0, "diff_um2": 0.0}
    assert antenna.diodes_needed(est, 0.4347) == 0
    est["ratio"] = 900.0
    assert antenna.diodes_needed(est, 0.4347) == 1
    est["ratio"] = 1e9
    assert antenna.diodes_needed(est, 0.4347) == antenna.MAX_PER_NET


@pytest.mark.parametrize("enabled", [True, False])
def test_long_port_nets_get_diodes_in_layout_and_netlist(tmp_path, enabled: bool) -> None:
    _bank_netlist(tmp_path / "bank.vg")
    extra = "" if enabled else "antenna: {diodes: false}\n"
    design = load_design(_config(tmp_path, tmp_path / "bank.vg", extra))
    ctx = StepContext.standalone(design, tmp_path / "ant")
    (ctx.inputs_dir / "bank.vg").write_text((tmp_path / "bank.vg").read_text())
    layout = build_floorplan("bank", ctx.input("vg"), {"core_utilization": 0.35})
    x, y, movable = global_place(layout)
    legalize(layout, x, y, movable)
    # the input port d (one sink, g0, no diffusion) moved to the die corner farthest from g0:
    # a long port net, the case the estimate is for
    g0 = layout.comp("g0")
    port = layout.ports["d"]
    w, h = port.rect[2] - port.rect[0], port.rect[3] - port.rect[1]
    fx = layout.die[0] if g0.x > (layout.die[0] + layout.die[2]) / 2 else layout.die[2] - w
    fy = layout.die[1] if g0.y > (layout.die[1] + layout.die[3]) / 2 else layout.die[3] - h
    port.rect = (fx, fy, fx + w, fy + h)
    layout.save(ctx.inputs_dir / "bank.layout.json")

    metrics = antenna.run(ctx)
    report = json.loads((ctx.reports_dir / "antenna_estimate.json").read_text())
    after = Layout.load(ctx.output("layout.json"))
    netlist = read_netlist(ctx.output("vg"))
    diodes = [c for c in after.components if c.cell == antenna.DIODE]
    assert [r["net"] for r in report] == ["d"]  # en and clk: long, but 45/70 gates share it
    assert all(r["ratio"] > antenna.MARGIN * r["limit"] for r in report)
    if not enabled:
        assert not diodes and metrics["antenna_diodes_inserted"] == 0
        return
    assert len(diodes) == metrics["antenna_diodes_inserted"] == sum(
        len(r["diodes"]) for r in report) > 0
    by_name = {i.name: i for i in netlist.instances}
    for d in diodes:
        net = by_name[d.name].conns[antenna.DIODE_PIN]
        assert (d.name, antenna.DIODE_PIN) in after.nets[net] and d.placed
    check_overlaps(after, (after.core[2] - after.core[0]) // tech.SITE_W)
