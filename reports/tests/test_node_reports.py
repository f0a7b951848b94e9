"""Node reports of a flow job: STA paths, route and DRC summaries, the critical path."""

from __future__ import annotations

import json
from pathlib import Path

from reports import node_reports
from reports.tests.report_fixtures import EDGES, SPANS, sc_manifest, write_job


def test_worst_setup_and_hold_path_per_corner(tmp_path: Path) -> None:
    job = write_job(tmp_path)
    setup = node_reports.worst_paths(job, "setup")
    assert sorted(setup) == ["ss", "tt"]
    # the clk path (-0.5) is worse than the recovery path printed first (19.786)
    worst = setup["ss"]
    assert (worst.startpoint.split()[0], worst.endpoint.split()[0], worst.group, worst.slack) == (
        "acc_reg_3", "acc_reg_7", "clk", -0.5)
    assert node_reports.worst_paths(job, "hold")["tt"].slack == 0.3


def test_route_failed_nets_and_drc_by_rule(tmp_path: Path) -> None:
    job = write_job(tmp_path, route_failed=7, drc={"m1.2": 4, "li.3": 1})
    route, source = node_reports.route_summary(job)
    assert route["route__net__failed"] == 7 and source.name == "metrics.json"
    assert node_reports.drc_by_rule(job)[0] == {"m1.2": 4, "li.3": 1}


def test_parallel_steps_are_not_stacked(tmp_path: Path) -> None:
    """DRC (50 s) and LVS/STA ran side by side: the run took 82 s, not the 92 s sum of node
    runtimes, and the critical path goes through the DRC, not through LVS."""
    job = write_job(tmp_path)
    tl = node_reports.timeline(job)
    assert tl is not None and tl.timed
    assert sum(end - start for start, end in tl.spans.values()) == 92.0
    assert tl.wall == 82.0
    assert tl.critical == [("syn", "0"), ("route", "0"), ("drc_klayout", "0"), ("power", "0")]


def test_waiting_for_a_worker_slot_is_on_the_critical_path() -> None:
    """power's input (route) ended at 30 s, but power started at 80 s, when the DRC freed the
    slot: the DRC is what it waited for."""
    spans = dict(SPANS)
    assert node_reports.critical_path(spans, EDGES)[-2:] == [("drc_klayout", "0"), ("power", "0")]


def test_without_times_the_longest_path_of_runtimes(tmp_path: Path) -> None:
    job = tmp_path / "job0"
    job.mkdir()
    (job / "top.pkg.json").write_text(json.dumps(sc_manifest(timed=False)))
    runtimes = {"syn": 10.0, "route": 20.0, "drc_klayout": 50.0, "lvs": 5.0, "sta/tt": 5.0,
                "power": 2.0}
    tl = node_reports.timeline(job, runtimes)
    assert tl is not None and not tl.timed
    assert tl.wall == 80.0  # syn + route + drc; lvs, sta and power run beside the DRC
    assert tl.critical == [("syn", "0"), ("route", "0"), ("drc_klayout", "0")]


def test_job_folder_must_stay_inside_the_design(tmp_path: Path) -> None:
    (tmp_path / "job0").mkdir()
    assert node_reports.job_folder(tmp_path, {"job": "job0"}) == tmp_path / "job0"
    for bad in ("../x", "/etc", "", None, "missing"):
        assert node_reports.job_folder(tmp_path, {"job": bad}) is None


def test_a_truncated_node_file_is_passed_over(tmp_path: Path) -> None:
    """A node that died mid-write leaves half a JSON file: the next readable one is used,
    and none readable is None, not a traceback on the design page."""
    job = write_job(tmp_path, route_failed=3, drc={"m1.2": 2})
    good = job / "route/0/reports/metrics.json"
    (job / "route/1/reports").mkdir(parents=True)
    (job / "route/1/reports/metrics.json").write_text(good.read_text())
    good.write_text('{"metrics": {"route__net__fa')
    route, source = node_reports.route_summary(job)
    assert route["route__net__failed"] == 3 and source.parent.parent.name == "1"
    for path in job.glob("drc_klayout/*/reports/drc_klayout.json"):
        path.write_text("[1, 2")
    assert node_reports.drc_by_rule(job) is None
    for path in job.glob("*.pkg.json"):
        path.write_text("")
    assert node_reports.timeline(job) is None
