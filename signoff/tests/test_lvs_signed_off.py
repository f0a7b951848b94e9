"""LVS compares the layout with the netlist STA signs off, so a connectivity bug introduced
after synthesis is caught.

The probe design is taken through synthesis .. timing repair (``flow.run_engine``); then two
nets of the P&R database (``layout.json``) get one sink pin swapped -- a placement/CTS/routing
bug that leaves the signed-off ``.vg`` untouched -- and route, fill, GDS and extraction run on
the corrupted database. LVS against the ``.vg`` must report a mismatch. The same extracted
layout compared with a schematic written from the corrupted ``layout.json`` (what LVS did
before issue #15) matches: that LVS could not have seen the bug.

About 1 minute on two cores (synthesis, placement, repair, route, extraction).
"""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pytest

from flow.run_engine import run_flow
from gptnano.design_config import load_design
from gptnano.step import StepContext
from pnr.engine.layout import Layout
from signoff.lvs import run_lvs

pytestmark = pytest.mark.slow
AFTER_REPAIR = ("route", "drc_repair", "fill", "gds", "extract")


def swap_two_sinks(layout: Layout) -> tuple[str, str]:
    """Swap one sink pin between two signal nets between logic cells (not the clock)."""
    logic = {c.name for c in layout.components if c.kind == "logic"}
    nets = [n for n, pins in sorted(layout.nets.items())
            if n not in layout.ports and len(pins) >= 3 and all(i in logic for i, _ in pins)
            and not any(p == "CLK" for _, p in pins)]
    first, second = nets[0], nets[len(nets) // 2]
    a, b = layout.nets[first], layout.nets[second]
    a[-1], b[-1] = b[-1], a[-1]
    return first, second


def layout_verilog(layout: Layout, path: Path) -> Path:
    """A gate netlist written from the P&R database: the old LVS schematic's source."""
    conns: dict[str, list[str]] = {}
    for net, pins in layout.nets.items():
        for inst, pin in pins:
            if inst != "PIN":
                conns.setdefault(inst, []).append(f".{pin}({net})")
    lines = [f"module {layout.top}({', '.join(layout.ports)});"]
    lines += [f"  {p.direction} {p.name};" for p in layout.ports.values()]
    lines += [f"  wire {n};" for n in sorted(layout.nets) if n not in layout.ports]
    lines += [f"  {c.cell} {c.name} ({', '.join(conns.get(c.name, []))});"
              for c in layout.components if c.kind == "logic"]
    path.write_text("\n".join(lines + ["endmodule", ""]))
    return path


def test_connectivity_bug_after_synthesis_is_caught(tmp_path: Path) -> None:
    design = load_design("probe")
    run_flow("probe", tmp_path / "pre", until="rsz")
    views = {f.name.split(".", 1)[1]: f for f in (next((tmp_path / "pre").glob("*_rsz"))
                                                   / "outputs").iterdir()}
    layout = Layout.load(views["layout.json"])
    swapped = swap_two_sinks(layout)
    bad = tmp_path / "corrupted.layout.json"
    layout.save(bad)
    views["layout.json"] = bad
    for name in AFTER_REPAIR:
        ctx = StepContext.standalone(design, tmp_path / name)
        for ext, f in views.items():
            shutil.copy(f, ctx.inputs_dir / f"{design.top}.{ext}")
        importlib.import_module(f"pnr.engine.{name}").run(ctx)
        views.update({f.name.split(".", 1)[1]: f for f in ctx.outputs_dir.iterdir()})
    spice = views["spice"].resolve()

    (tmp_path / "lvs_vg").mkdir()
    signed_off = run_lvs(spice, views["vg"].resolve(), design.top, tmp_path / "lvs_vg")
    assert signed_off["match"] is False, (swapped, signed_off)

    (tmp_path / "lvs_old").mkdir()
    old_style = run_lvs(spice, layout_verilog(layout, tmp_path / "from_layout.vg"), design.top,
                        tmp_path / "lvs_old")
    assert old_style["match"] is True, old_style
