"""The whole embedded flow, as a user runs it: ``python siliconcompiler.py --design <name>``.

``test_probe_rtl_flow_passes_signoff`` is the CI-sized end-to-end run (about 1.5 min here): the
probe RTL in a temporary design folder whose clock is 30 ns, because the probe's own 10 ns
misses the ss corner (ss_n40C_1v40 critical path ~20 ns, measured). It checks a clean signoff
(DRC 0 in KLayout and Magic, LVS clean, setup and hold met at ss/tt/ff) and resuming
(``--from sta`` re-runs STA only). The runs of the real design configs are ``slow``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gptnano.design_config import DESIGNS_DIR
from gptnano.paths import REPO_ROOT


def run_flow(build: Path, *args: str, timeout: int = 3600) -> subprocess.CompletedProcess:
    env = dict(os.environ, GPTNANO_BUILD=str(build))
    return subprocess.run([sys.executable, "siliconcompiler.py", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def assert_signoff_clean(record: dict, build: Path, design: str) -> None:
    m = record["metrics"]  # names and units: gptnano.metrics
    assert m["flow__complete"] and m["flow__passed"], (record["failures"], record["not_run"])
    assert m["klayout__drc_error__count"] == 0 and m["magic__drc_error__count"] == 0
    assert m["design__lvs__clean"] is True
    for corner in ("ss", "tt", "ff"):
        assert m[f"timing__setup__ws__corner:{corner}"] >= 0
        assert m[f"timing__hold__ws__corner:{corner}"] >= 0
    assert m["timing__fmax"] >= 1000 / m["clock__period"]
    assert (build / design / record["gds"]).stat().st_size > 0
    assert m["design__instance__count"] > 0 and 0 < m["design__instance__utilization"] < 1


def relaxed_probe(folder: Path, period_ns: float) -> Path:
    """designs/probe with another clock period (SDC scaled alike), outside designs/."""
    src = DESIGNS_DIR / "probe"
    config = yaml.safe_load((src / "config.yaml").read_text())
    config["name"] = "probe_relaxed"
    config["clock"]["period_ns"] = period_ns
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    io_delay = 0.2 * period_ns
    (folder / "constraint.sdc").write_text(
        f"create_clock -name clk -period {period_ns} [get_ports clk]\n"
        f"set_input_delay {io_delay} -clock clk [delete_from_list [all_inputs] [get_ports clk]]\n"
        f"set_output_delay {io_delay} -clock clk [all_outputs]\n"
        "set_load 0.01 [all_outputs]\n"
        "set_driving_cell -lib_cell sky130_fd_sc_hd__buf_2 "
        "[delete_from_list [all_inputs] [get_ports clk]]\n")
    return folder / "config.yaml"


def test_probe_rtl_flow_passes_signoff(tmp_path: Path) -> None:
    config = relaxed_probe(tmp_path / "design", 30.0)
    build = tmp_path / "build"
    proc = run_flow(build, "--design", str(config), "--engine", "embedded", "--quiet")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    record = json.loads((build / "probe_relaxed" / "signoff.json").read_text())
    assert_signoff_clean(record, build, "probe_relaxed")
    assert record["sta_parasitics"] == "spef"  # route's estimated parasitics were read

    job = build / "probe_relaxed" / "job0"
    routed = job / "route" / "0" / "outputs" / "probe_mac.layout.json"
    sta_log = job / "sta" / "tt" / "reports" / "sta_tt.log"
    before = (routed.stat().st_mtime_ns, sta_log.stat().st_mtime_ns)
    proc = run_flow(build, "--design", str(config), "--engine", "embedded", "--from", "sta")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert routed.stat().st_mtime_ns == before[0]      # layout reused
    assert sta_log.stat().st_mtime_ns != before[1]     # timing re-run


@pytest.mark.slow
@pytest.mark.parametrize("design", ["probe", "small"])
def test_design_flow(tmp_path: Path, design: str) -> None:
    proc = run_flow(tmp_path, "--design", design, "--engine", "embedded", "--quiet",
                    timeout=4 * 3600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    record = json.loads((tmp_path / design / "signoff.json").read_text())
    assert_signoff_clean(record, tmp_path, design)
