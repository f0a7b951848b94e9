"""Nightly runner with a fake flow: pass, a degraded golden fails loudly, broken flows are named."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from flow import nightly

FAKE_FLOW = '''
import argparse, json, os, pathlib, sys
p = argparse.ArgumentParser()
p.add_argument("--design")
p.add_argument("--help-me", action="store_true")
args, rest = p.parse_known_args()
metrics = json.loads(pathlib.Path(os.environ["FAKE_METRICS"]).read_text())
if args.design in metrics.get("_slow", []):
    import time; time.sleep(60)
if args.design in metrics.get("_crash", []):
    print("placement exploded: overflow 1.7 > 1.0"); sys.exit(3)
out = pathlib.Path(os.environ["GPTNANO_BUILD"]) / args.design
out.mkdir(parents=True, exist_ok=True)
(out / "signoff.json").write_text(json.dumps(metrics[args.design]))
if args.design in metrics.get("_signoff_failed", []):
    print("signoff failed: lvs mismatch"); sys.exit(1)
'''

METRICS = {
    "design__instance__count": 812, "design__core__area": 4100.0, "design__die__area": 6400.0,
    "design__instance__utilization": 0.41, "clock__period": 10.0,
    "timing__setup__ws__corner:ss": 0.8, "timing__setup__ws__corner:tt": 3.1,
    "timing__setup__ws__corner:ff": 4.6, "timing__hold__ws__corner:ss": 0.3,
    "timing__hold__ws__corner:tt": 0.2, "timing__hold__ws__corner:ff": 0.1,
    "timing__fmax": 108.7, "power__dynamic__total": 0.9, "power__leakage__total": 0.002,
    "power__total": 0.902, "klayout__drc_error__count": 0, "magic__drc_error__count": 0,
    "design__lvs__clean": True, "runtime__total__step:syn": 1.0,
    "runtime__total__step:place": 2.0, "runtime__total__step:route": 3.0,
}


def signoff(**changes: object) -> dict:
    """A signoff.json as flow.summary writes it, with some metrics changed."""
    return {"gds": "probe.gds", "engine": "embedded", "metrics": dict(METRICS, **changes)}


SIGNOFF = signoff()
RULES = {"design__instance__count": {"value": 900, "compare": "<="},
         "timing__setup__ws__corner:ss": {"value": 0, "compare": ">="},
         "klayout__drc_error__count": {"value": 0, "compare": "=="},
         "design__lvs__clean": {"value": True, "compare": "=="}}


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    designs = tmp_path / "designs"
    for name in ("alpha", "beta"):
        (designs / name).mkdir(parents=True)
        (designs / name / "config.yaml").write_text(f"name: {name}\n")
        (designs / name / "rules.json").write_text(json.dumps(RULES))
    (designs / "regression.yaml").write_text("designs: [alpha, beta]\n")
    flow = tmp_path / "fake_flow.py"
    flow.write_text(FAKE_FLOW)
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"alpha": SIGNOFF, "beta": signoff(design__instance__count=850)}))
    monkeypatch.setenv("FAKE_METRICS", str(metrics))
    return {"designs": designs, "flow": flow, "metrics": metrics, "build": tmp_path / "build",
            "db": tmp_path / "h.sqlite", "out": tmp_path / "out"}


def run(setup: dict[str, Path], *extra: str, dashboard: bool = False) -> int:
    return nightly.main([*([] if dashboard else ["--no-dashboard"]),
        "--regression", str(setup["designs"] / "regression.yaml"),
        "--designs-dir", str(setup["designs"]), "--build", str(setup["build"]),
        "--db", str(setup["db"]), "--out", str(setup["out"]), "--no-dft",
        "--flow-cmd", f"{sys.executable} {setup['flow']} --design {{design}}", *extra])


def test_passing_run_records_history_and_dashboard(setup, capsys) -> None:
    assert run(setup, dashboard=True) == 0
    out = capsys.readouterr().out
    assert "PASSED: 2/2 designs pass" in out
    run_dirs = list((setup["build"] / "nightly").iterdir())
    assert len(run_dirs) == 1
    written = json.loads((run_dirs[0] / "alpha" / "signoff.json").read_text())
    assert written["metrics"]["design__instance__count"] == 812
    assert (run_dirs[0] / "alpha" / "flow.log").read_text().startswith("$ ")
    with sqlite3.connect(setup["db"]) as con:
        assert con.execute("SELECT passed FROM runs").fetchall() == [(1,)]
        assert con.execute("SELECT value FROM metrics WHERE design='beta' "
                           "AND key='design__instance__count'"
                           ).fetchall() == [(850.0,)]
        assert con.execute("SELECT COUNT(*) FROM checks WHERE passed=1").fetchone() == (8,)
    index = (setup["out"] / "index.html").read_text()
    run_id = run_dirs[0].name
    assert run_id in index
    page = next((setup["out"] / "runs").glob("*.html")).read_text()
    assert "alpha" in page and "812" in page


def test_degraded_threshold_fails_with_exact_message(setup, capsys) -> None:
    rules = dict(RULES, design__instance__count={"value": 800, "compare": "<="})
    (setup["designs"] / "alpha" / "rules.json").write_text(json.dumps(rules))
    assert run(setup) == 1
    out = capsys.readouterr().out
    assert "FAIL alpha: design__instance__count = 812 (golden: <= 800)" in out
    assert "FAILED: 1/2 designs pass" in out
    summary = json.loads(next((setup["build"] / "nightly").glob("*/summary.json")).read_text())
    alpha = next(d for d in summary["designs"] if d["design"] == "alpha")
    assert alpha["failures"] == [{"metric": "design__instance__count", "value": 812,
                                  "compare": "<=", "threshold": 800}]
    with sqlite3.connect(setup["db"]) as con:
        assert con.execute("SELECT status FROM results ORDER BY design").fetchall() == [
            ("fail",), ("pass",)]


def test_each_run_gets_its_own_folder(setup) -> None:
    assert run(setup) == 0
    assert run(setup, "--designs", "alpha") == 0
    folders = sorted((setup["build"] / "nightly").iterdir())
    assert len(folders) == 2
    assert sorted((f / "beta" / "signoff.json").is_file() for f in folders) == [False, True]
    with sqlite3.connect(setup["db"]) as con:
        assert con.execute("SELECT COUNT(*) FROM runs").fetchone() == (2,)


def test_flow_failure_shows_log_tail(setup, capsys) -> None:
    data = json.loads(setup["metrics"].read_text())
    setup["metrics"].write_text(json.dumps(dict(data, _crash=["beta"])))
    assert run(setup, "--jobs", "2") == 1
    out = capsys.readouterr().out
    assert "FLOW_ERROR beta" in out and "flow exited with 3" in out
    assert "placement exploded: overflow 1.7 > 1.0" in out


def test_missing_flow_command_is_a_clear_failure(setup, capsys) -> None:
    rc = run(setup, "--flow-cmd", "/nonexistent/sc-flow --design {design}")
    assert rc == 1
    assert "flow command not found: /nonexistent/sc-flow" in capsys.readouterr().out


def test_missing_design_config_and_rules(setup, capsys) -> None:
    (setup["designs"] / "beta" / "rules.json").unlink()
    assert run(setup, "--designs", "alpha,beta,gamma") == 1
    out = capsys.readouterr().out
    assert "no design config" in out and "gamma" in out
    assert "NO_RULES" in out and "beta/rules.json: no golden rules file" in out


def test_scheduler_not_forwarded_to_a_flow_that_does_not_accept_it(setup, capsys) -> None:
    assert run(setup, "--scheduler", "slurm") == 2
    assert "does not accept --scheduler" in capsys.readouterr().err
    assert not (setup["build"] / "nightly").exists()


def test_skip_flow_rechecks_existing_results(setup, capsys) -> None:
    for name in ("alpha", "beta"):
        (setup["build"] / name).mkdir(parents=True)
        (setup["build"] / name / "signoff.json").write_text(json.dumps(signoff(
            design__lvs__clean=False)))
    assert run(setup, "--skip-flow") == 1
    assert "FAIL alpha: design__lvs__clean = false (golden: == true)" in capsys.readouterr().out


def test_regression_list_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "regression.yaml"
    bad.write_text("designs: probe\n")
    with pytest.raises(nightly.NightlyError, match="regression.yaml: expected 'designs:'"):
        nightly.read_regression(bad)


def test_shipped_regression_list() -> None:
    names = nightly.read_regression(nightly.REGRESSION_FILE)
    assert {"probe", "small"} <= set(names)


def echoing_flow(tmp_path: Path, option: str) -> Path:
    """A fake flow that takes ``--<option>`` and echoes its value in the ``engine`` field."""
    flow = tmp_path / "sc_flow.py"
    flow.write_text(FAKE_FLOW.replace('p.add_argument("--help-me", action="store_true")',
                                      f'p.add_argument("--{option}")').replace(
        "json.dumps(metrics[args.design])",
        f"json.dumps(dict(metrics[args.design], engine=args.{option}))"))
    return flow


def test_scheduler_forwarded_when_the_flow_lists_it(setup, tmp_path: Path) -> None:
    flow = echoing_flow(tmp_path, "scheduler")
    assert run(setup, "--scheduler", "slurm", "--flow-cmd",
               f"{sys.executable} {flow} --design {{design}}") == 0
    written = next((setup["build"] / "nightly").glob("*/alpha/signoff.json"))
    assert json.loads(written.read_text())["engine"] == "slurm"


@pytest.mark.parametrize("names", [["../etc"], ["probe", "probe"], [".hidden"]])
def test_design_names_must_be_plain_and_unique(names: list[str]) -> None:
    with pytest.raises(nightly.NightlyError, match="--designs"):
        nightly.check_names(names, "--designs")


def test_flow_that_fails_signoff_still_names_the_metric(setup, capsys) -> None:
    data = json.loads(setup["metrics"].read_text())
    data["alpha"]["metrics"]["design__lvs__clean"] = False
    setup["metrics"].write_text(json.dumps(dict(data, _signoff_failed=["alpha"])))
    assert run(setup) == 1
    out = capsys.readouterr().out
    assert "FAIL       alpha" in out
    assert "FAIL alpha: design__lvs__clean = false (golden: == true)" in out
    assert "flow exited with 1" in out and "signoff failed: lvs mismatch" in out


@pytest.mark.parametrize(("jobs", "scheduler", "flow_jobs", "expected"), [
    (None, None, None, (1, None)),      # local default: one design at a time, flow's own maxnodes
    (2, None, None, (2, 4)),            # 8 cores shared by 2 flows
    (16, None, None, (16, 1)),          # never below one node per flow
    (2, None, 3, (2, 3)),               # the user's --flow-jobs wins
    (None, "slurm", None, (5, None)),   # cluster: every design at once, SC submits the nodes
])
def test_plan_parallelism(jobs, scheduler, flow_jobs, expected) -> None:
    assert nightly.plan_parallelism(5, jobs, scheduler, flow_jobs, cpus=8) == expected


def test_derived_flow_jobs_forwarded_only_to_a_flow_that_takes_them(setup, tmp_path) -> None:
    flow = echoing_flow(tmp_path, "jobs")
    assert run(setup, "--jobs", "2", "--flow-cmd",
               f"{sys.executable} {flow} --design {{design}}") == 0
    written = next((setup["build"] / "nightly").glob("*/alpha/signoff.json"))
    assert json.loads(written.read_text())["engine"] == str(max(1, (os.cpu_count() or 1) // 2))
    # the plain fake flow has no --jobs: the derived value is left out, the run still passes
    assert run(setup, "--jobs", "2") == 0


def test_design_that_does_not_finish_is_a_failure_not_a_crash(setup, capsys) -> None:
    """Like ``small`` today (the router does not finish): FLOW_ERROR, the others still checked."""
    data = json.loads(setup["metrics"].read_text())
    setup["metrics"].write_text(json.dumps(dict(data, _slow=["beta"])))
    assert run(setup, "--timeout", "2", dashboard=True) == 1
    out = capsys.readouterr().out
    assert "PASS       alpha" in out and "FLOW_ERROR beta" in out
    assert "flow timed out after 2 s" in out and "FAILED: 1/2 designs pass" in out
    with sqlite3.connect(setup["db"]) as con:
        assert con.execute("SELECT design, status FROM results ORDER BY design").fetchall() == [
            ("alpha", "pass"), ("beta", "flow_error")]
    assert (setup["out"] / "index.html").is_file()


def test_timeout_ends_the_flows_child_processes(tmp_path: Path) -> None:
    """A timed-out flow's own children (SC node processes) must not outlive it."""
    marker = tmp_path / "child.pid"
    script = tmp_path / "flow.py"
    script.write_text(
        "import pathlib, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"pathlib.Path({str(marker)!r}).write_text(str(child.pid))\n"
        "time.sleep(60)\n")
    out = tmp_path / "out"
    out.mkdir()
    rc, _, problem = nightly.run_stage("flow", [sys.executable, str(script)], out, tmp_path, 2)
    assert rc is None and "flow timed out after 2 s" in problem
    child = int(marker.read_text())
    for _ in range(50):
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"child process {child} of the timed-out flow is still running")
