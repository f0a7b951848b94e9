"""Reading run outputs: malformed files are named, missing ones are 'not run', links resolve."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reports.collect import ReportInputError, load_design_run, load_experiments
from reports.tests.report_fixtures import LEGACY_SIGNOFF, SIGNOFF, signoff, write_design


def test_values_link_to_report_files_or_the_json(tmp_path: Path) -> None:
    folder = write_design(tmp_path, "probe")
    run = load_design_run("probe", folder)
    assert run.errors == []
    tt = "timing__setup__ws__corner:tt"
    assert run.get(tt).value == 2.0
    # the report of the metric without its qualifier
    assert run.get(tt).source == (folder / "reports" / "sta.rpt").resolve()
    assert run.get("klayout__drc_error__count").source.name == "drc.lyrdb"
    # a reports entry pointing at a missing file falls back to the json itself
    assert run.get("design__instance__count").source == (folder / "signoff.json").resolve()
    assert run.get("route__wirelength").value is None
    assert run.field("engine").value == "embedded"


def test_legacy_signoff_reads_as_the_registry_names(tmp_path: Path) -> None:
    """A signoff.json from before gptnano.metrics (old nightly folders) reads like a new one."""
    new = load_design_run("new", write_design(tmp_path, "new"))
    old = load_design_run("old", write_design(tmp_path, "old", LEGACY_SIGNOFF))
    assert old.errors == []
    assert old.signoff["metrics"] == new.signoff["metrics"]
    assert old.signoff["reports"] == new.signoff["reports"]
    assert old.field("engine").value == "embedded"


def test_absent_outputs_are_not_errors(tmp_path: Path) -> None:
    run = load_design_run("ghost", tmp_path / "ghost")
    assert run.signoff is None and run.dft is None and run.errors == []
    assert run.get("design__instance__count").value is None


@pytest.mark.parametrize(("content", "fragment"), [
    ("{oops", "not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
    (json.dumps(signoff(design__instance__count="812")),
     "'design__instance__count' must be a number (count)"),
    (json.dumps(signoff(**{"timing__setup__ws__corner:tt": "fast"})),
     "'timing__setup__ws__corner:tt' must be a number (ns)"),
    (json.dumps(signoff(design__lvs__clean="yes")), "'design__lvs__clean' must be true/false"),
    (json.dumps(signoff(wns_ns=1.0)), "metric 'wns_ns' is not in gptnano.metrics"),
    (json.dumps(signoff(**{"timing__setup__ws__corner:sf": 1.0})), "unknown corner 'sf'"),
    (json.dumps(dict(SIGNOFF, metrics=[1])), "'metrics' must be a mapping"),
])
def test_malformed_signoff_is_named(tmp_path: Path, content: str, fragment: str) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "signoff.json").write_text(content)
    run = load_design_run("d", tmp_path / "d")
    assert run.signoff is None
    assert len(run.errors) == 1 and fragment in run.errors[0]
    assert str(tmp_path / "d" / "signoff.json") in run.errors[0]


def test_dft_coverage_must_be_percent(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "dft.json").write_text(json.dumps({"stuck_at_coverage": 0.985 * 1000}))
    assert "is a percent" in load_design_run("d", tmp_path / "d").errors[0]


def test_experiments_csv_checks(tmp_path: Path) -> None:
    path = tmp_path / "experiments.csv"
    assert load_experiments(path) is None
    path.write_text("variant,params,bytes,val_ppl\nfp32,1,4,12.0\n")
    with pytest.raises(ReportInputError, match="missing columns \\['next_token_acc'\\]"):
        load_experiments(path)
    path.write_text("variant,params,bytes,val_ppl,next_token_acc\nfp32,1,4,twelve,0.4\n")
    with pytest.raises(ReportInputError, match="'val_ppl' has non-numeric value 'twelve'"):
        load_experiments(path)
