"""The whole physical engine on the probe design: synthesis -> floorplan -> place -> route ->
fill -> GDS -> extraction -> KLayout DRC, Magic DRC and LVS, all required clean.

About 1.5-2 minutes on two cores (route ~50 s, the two DRC runs ~30 s).
"""

from __future__ import annotations

import json
from pathlib import Path

from flow.run_engine import run_flow


def test_probe_is_signoff_clean(tmp_path: Path) -> None:
    out = tmp_path / "engine_probe"
    metrics = run_flow("probe", out)
    assert metrics["floorplan"]["cells"] > 300
    assert 0.2 < metrics["floorplan"]["utilization"] < 0.5
    assert metrics["route"]["failed_nets"] == 0
    assert metrics["route"]["wirelength_um"] > 1000
    assert metrics["drc_klayout"]["drc_klayout_total"] == 0, metrics["drc_klayout"]
    assert metrics["drc_magic"]["drc_magic_total"] == 0, metrics["drc_magic"]
    assert metrics["lvs"]["lvs_match"] == 1, metrics["lvs"]
    assert metrics["cts"]["clock_buffers"] > 0 and metrics["cts"]["max_fanout"] <= 20
    # every step left its views and reports in its own folder (<nn>_<step>)
    assert (next(out.glob("*_gds")) / "outputs" / "probe_mac.gds").stat().st_size > 100_000
    lvs = json.loads((next(out.glob("*_lvs")) / "reports" / "lvs.json").read_text())
    assert lvs["devices"][0] == lvs["devices"][1] > 300
    assert json.loads((out / "metrics.json").read_text())["lvs"]["lvs_match"] == 1
