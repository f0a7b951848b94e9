"""A failing run never destroys the last good result; progress, noise and killed nodes."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flow import cli, runs
from gptnano.fileio import atomic_write_json


def _job(design_dir: Path, passed: bool, gds: str) -> Path:
    job = design_dir / "job0"
    (job / "gds" / "0" / "outputs").mkdir(parents=True, exist_ok=True)
    (job / "gds" / "0" / "outputs" / "t.gds").write_text(gds)
    atomic_write_json(job / "signoff.json", {"metrics": {"flow__passed": passed}})
    return job


def _fake_write_summary(design: Any, jobname: str) -> tuple[Path, dict[str, Any]]:
    """flow.summary.write_summary's contract: build/<d>/signoff.json + the job's own copy."""
    job = design.folder / jobname
    record = {"job": jobname, "gds": (job / "gds/0/outputs/t.gds").read_text(),
              "metrics": {"flow__passed": "bad" not in jobname and
                          (job / "gds/0/outputs/t.gds").read_text() != "broken"}}
    atomic_write_json(design.folder / "signoff.json", record)
    atomic_write_json(job / "signoff.json", record)
    return design.folder / "signoff.json", record


class _Design:
    def __init__(self, folder: Path) -> None:
        self.folder = folder


def test_failing_attempt_keeps_the_last_good_run(tmp_path: Path) -> None:
    """Issue 16: a good run, then an RTL typo re-ran every node of job0 and turned signoff.json
    into a failure with the routed layout deleted."""
    design = _Design(tmp_path)
    job = _job(tmp_path, True, "good layout")
    path = cli.publish(design, job, {"metrics": {"flow__passed": True}}, False,
                        _fake_write_summary)
    assert path == tmp_path / "signoff.json"
    good = tmp_path / "job0.good.1"
    assert json.loads(path.read_text())["job"] == good.name
    # the next attempt fails and SC rewrites job0 in place
    job = _job(tmp_path, False, "broken")
    path = cli.publish(design, job, {"metrics": {"flow__passed": False}}, False,
                        _fake_write_summary)
    assert path == job / "signoff.json"
    published = json.loads((tmp_path / "signoff.json").read_text())
    assert published["job"] == good.name and published["gds"] == "good layout"
    assert (good / "gds/0/outputs/t.gds").read_text() == "good layout"
    latest = json.loads((tmp_path / "latest.json").read_text())
    assert latest["complete"]["job"] == good.name and latest["attempt"]["passed"] is False
    # a later passing run replaces the kept copy (new folder first, then the old one goes)
    job = _job(tmp_path, True, "better layout")
    cli.publish(design, job, {"metrics": {"flow__passed": True}}, False, _fake_write_summary)
    assert not good.exists() and (tmp_path / "job0.good.2/gds/0/outputs/t.gds").is_file()
    assert json.loads((tmp_path / "signoff.json").read_text())["job"] == "job0.good.2"


def test_first_attempt_failing_is_published(tmp_path: Path) -> None:
    """With nothing good to keep, signoff.json describes the failed attempt (the nightly reads
    the failing metric there); a partial (--to) run is never promoted."""
    design = _Design(tmp_path)
    job = _job(tmp_path, False, "broken")
    cli.publish(design, job, {"metrics": {"flow__passed": False}}, False, _fake_write_summary)
    assert json.loads((tmp_path / "signoff.json").read_text())["job"] == "job0"
    job = _job(tmp_path, True, "partial")
    cli.publish(design, job, {"metrics": {"flow__passed": True}}, True, _fake_write_summary)
    assert runs.good_copies(tmp_path, "job0") == []


def test_unfinished_nodes_are_marked(tmp_path: Path) -> None:
    for step, status in (("place", "running"), ("syn", "ok")):
        reports = tmp_path / step / "0" / "reports"
        reports.mkdir(parents=True)
        atomic_write_json(reports / "metrics.json", {"status": status, "error": None})
    nodes = [("syn", "0"), ("place", "0"), ("route", "0"), ("sta", "tt")]
    assert runs.mark_unfinished(tmp_path, nodes, "killed: SIGTERM") == ["place/0"]
    body = json.loads((tmp_path / "place/0/reports/metrics.json").read_text())
    assert body["status"] == "error" and body["error"] == "killed: SIGTERM"
    # a node the scheduler launched that had not written its record yet
    assert runs.mark_unfinished(tmp_path, nodes, "killed: SIGINT",
                                started={("route", "0"), ("syn", "0")}) == ["route/0"]
    body = json.loads((tmp_path / "route/0/reports/metrics.json").read_text())
    assert (body["step"], body["status"], body["error"]) == ("route", "error", "killed: SIGINT")
    assert not (tmp_path / "sta").exists()


def test_noise_filter_keeps_errors(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test_noise")
    runs.quiet_sc_noise(logger)
    with caplog.at_level(logging.INFO, logger="test_noise"):
        logger.warning("Adding sky130hd to [asic,asiclib]")
        logger.info("Setting up node place/0 with gptnano/place")
        logger.error("To generate a testcase, run: sc-issue -cfg build/x.pkg.json")
        logger.error("syn/0: SDC check of constraint.sdc failed")
        logger.error("sta/tt: OpenSTA failed:\nWarning: /b/x_tt.lib, line 31 default_operating"
                     "_condition tt not found.\nError: t.vg, 3 module t not found")
    assert [r.getMessage() for r in caplog.records] == [
        "syn/0: SDC check of constraint.sdc failed",
        "sta/tt: OpenSTA failed:\nError: t.vg, 3 module t not found"]


HOLD = """
import sys, time
from pathlib import Path
from gptnano.lock import JobLock
lock = JobLock(Path(sys.argv[1]), "job", command="siliconcompiler.py --design probe").acquire()
print("locked", flush=True)
time.sleep(60)
"""


def test_second_run_of_a_job_stops_naming_the_holder(tmp_path: Path, monkeypatch: Any,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GPTNANO_BUILD", str(tmp_path))
    lock = tmp_path / "probe" / "job0.lock"
    lock.parent.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(lock)], stdout=subprocess.PIPE,
                              text=True, cwd=Path(__file__).resolve().parent.parent)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        assert cli.main(["--design", "probe"]) == cli.EXIT_USAGE
    finally:
        holder.kill()
        holder.wait()
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: design probe job job0 is already running (pid "
                          f"{holder.pid} on ") and "\n" not in err


@pytest.mark.parametrize(("argv", "message"), [
    (["--design", "probe", "--jobname", "../x"], "--jobname '../x'"),
    (["--design", "probe", "--jobname", "j", "--resume"], "--resume: nothing to resume"),
    (["--design", "../../../x"], "not a design folder name"),
    (["--design", "probe", "--jobname", "a b"], "--jobname 'a b'"),
])
def test_usage_errors_are_one_line_exit_2(tmp_path: Path, monkeypatch: Any, argv: list[str],
                                          message: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GPTNANO_BUILD", str(tmp_path))
    assert cli.main(argv) == cli.EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err


def test_missing_pdk_is_one_line(tmp_path: Path, monkeypatch: Any,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GPTNANO_BUILD", str(tmp_path))
    monkeypatch.setenv("GPTNANO_SHARED", str(tmp_path / "nowhere"))
    assert cli.main(["--design", "probe"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert "Set GPTNANO_SHARED" in err and "\n" not in err


def test_unsafe_build_folder_is_refused(tmp_path: Path, monkeypatch: Any,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GPTNANO_BUILD", str(tmp_path / "my build"))
    assert cli.main(["--design", "probe"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "folder (GPTNANO_BUILD) " in err and "has characters tools would split" in err


class _Project:
    def __init__(self, status: dict[tuple[str, str], str]) -> None:
        self.status = status

    def get(self, *keys: str, step: str, index: str) -> str:
        return self.status.get((step, index), "pending")


def test_progress_lines_name_reused_and_finished_nodes(capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    nodes = [("syn", "0"), ("place", "0"), ("sta", "tt")]
    progress = runs.Progress(nodes, "job0", heartbeat_s=0)
    project = _Project({("syn", "0"): "success"})
    progress.flow_started(project)
    progress.node_started(project, "place", "0")
    project.status[("place", "0")] = "error"
    progress.node_finished(project, "place", "0")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("reusing syn/0 from job job0")
    assert lines[1].endswith("start place/0") and re.search(r"ERROR place/0 in [\d.]+ s$",
                                                              lines[2])


def test_heartbeat_names_running_nodes_and_their_log(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A long step is not silent: each running node with the last line of its newest log."""
    reports = tmp_path / "route" / "0" / "reports"
    reports.mkdir(parents=True)
    (tmp_path / "route" / "0" / "route.log").write_text("")
    (reports / "route.log").write_text("  3.3s routed 439/439 nets, failed 1\n"
                                       "  3.8s rip-up round 1: ripped up 1, failed 0\n\n")
    progress = runs.Progress([("route", "0")], "job0", folder=tmp_path, heartbeat_s=0)
    progress.node_started(_Project({}), "route", "0")
    progress.beat()
    line = capsys.readouterr().out.splitlines()[-1]
    assert re.search(r"running route/0 for \d+ s -- route.log: 3.8s rip-up round 1: ripped up "
                     r"1, failed 0$", line)
