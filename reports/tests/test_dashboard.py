"""Dashboard pages: every link resolves, untrusted names are escaped, bad inputs are shown."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

from reports import dashboard, history
from reports.tests.report_fixtures import SIGNOFF, signoff, write_config, write_design, write_job


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.scripts += tag == "script"
        self.targets += [v for k, v in attrs if k in ("href", "src") and v]


def build(ws: dict[str, Path]) -> Path:
    return dashboard.build(out=ws["out"], build=ws["build"], db=ws["db"],
                           designs_dir=ws["designs"], experiments=ws["experiments"],
                           manifest=ws["manifest"])


def targets(page: Path) -> Links:
    parser = Links()
    parser.feed(page.read_text())
    return parser


def add_run(ws: dict[str, Path], run_id: str, cells: float) -> None:
    run_dir = ws["build"] / "nightly" / run_id
    write_design(run_dir, "small", signoff(design__instance__count=cells))
    (run_dir / "summary.txt").write_text("summary\n")
    record = history.DesignRecord("small", "fail", "design__instance__count = 2 (golden: <= 1)",
                                  0, 9.0, {"design__instance__count": cells,
                                           "design__core__area": 4100.0},
                                  [("design__instance__count", "<=", 1, cells, False)])
    history.record_run(ws["db"], history.RunRecord(
        run_id, f"2026-01-0{run_id[-1]}T00:00:00Z", "2026-01-01T01:00:00Z", "abc", "flow",
        str(run_dir), [record]))


def test_every_link_and_image_resolves(workspace) -> None:
    add_run(workspace, "r1", 2500)
    add_run(workspace, "r2", 2600)
    index = build(workspace)
    pages = [index, *sorted((workspace["out"] / "runs").glob("*.html"))]
    assert len(pages) == 3
    for page in pages:
        links = targets(page)
        assert links.targets and links.scripts == 0
        for target in links.targets:
            assert (page.parent / unquote(target)).exists(), (page, target)
    html = index.read_text()
    for image in ("pareto.png", "area_power.png", "runtime.png", "trends.png"):
        assert f"img/{image}" in html
    assert "layout-probe-" in html and "density-small-" in html
    assert "reports/sta.rpt" in html  # the WNS cells link to the STA report
    nightly_designs = sorted((workspace["out"] / "runs").rglob("designs/*.html"))
    assert len(nightly_designs) == 2  # small in r1 and in r2
    for page in nightly_designs:
        run_page = page.parent.parent.with_suffix(".html")  # runs/<id>.html links to it
        assert f'href="{run_page.stem}/designs/{page.name}"' in run_page.read_text()
        for target in targets(page).targets:
            assert (page.parent / unquote(target)).exists(), (page, target)
    run_page = next(p for p in pages if "r2" in p.name).read_text()
    assert "design__instance__count = 2 (golden: &lt;= 1)" in run_page and ">2600<" in run_page
    csv = (workspace["out"] / "ppa.csv").read_text().splitlines()
    assert csv[0].startswith("design,engine,flow,variant,model__perplexity__validation,")
    assert len(csv) == 3


def test_script_in_design_name_is_escaped(workspace) -> None:
    evil = '<script>alert("x")</script>'
    # a design folder cannot hold '/', so the hostile text arrives as a name plus report paths
    name = evil.replace("/", "&#47;")
    (workspace["designs"] / name).mkdir()
    (workspace["designs"] / name / "config.yaml").write_text(f"variant: '{evil}'\n")
    write_design(workspace["build"], name, dict(SIGNOFF, engine=evil))
    add_run(workspace, "r1", 1)
    index = build(workspace)
    html = index.read_text()
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert targets(index).scripts == 0
    for image in (workspace["out"] / "img").iterdir():
        assert re.fullmatch(r"[A-Za-z0-9_.-]+", image.name), image.name


def test_malformed_input_is_reported_on_the_page(workspace, capsys) -> None:
    (workspace["build"] / "probe" / "signoff.json").write_text(json.dumps(
        signoff(design__instance__count="many")))
    workspace["experiments"].write_text("variant\nfp32\n")
    html = build(workspace).read_text()
    assert "Inputs that could not be used" in html
    assert "&#39;design__instance__count&#39; must be a number" in html
    assert "missing columns" in html
    assert "signoff.json: &#39;design__instance__count&#39;" in html
    assert "must be a number" in capsys.readouterr().err


def test_empty_workspace_renders(tmp_path: Path) -> None:
    index = dashboard.build(out=tmp_path / "out", build=tmp_path / "build", db=tmp_path / "h.db",
                            designs_dir=tmp_path, experiments=tmp_path / "e.csv",
                            manifest=tmp_path / "m.json")
    html = index.read_text()
    assert "No design has been run yet" in html and "No nightly run recorded" in html
    assert "model/experiments.csv: not run" in html


def test_run_pictures_are_drawn_once(workspace) -> None:
    add_run(workspace, "r1", 2500)
    build(workspace)
    pictures = sorted((workspace["out"] / "runs").rglob("*.png"))
    # area/power, runtime, KLayout full and zoomed, density, the design page's node timeline
    assert len(pictures) == 6
    stamps = [p.stat().st_mtime_ns for p in pictures]
    build(workspace)
    assert [p.stat().st_mtime_ns for p in pictures] == stamps


def test_index_names_a_design_that_did_not_finish(workspace) -> None:
    """A flow error with no outputs (the router did not finish) still shows on the index."""
    run_dir = workspace["build"] / "nightly" / "r1"
    write_design(run_dir, "probe")
    (run_dir / "small").mkdir()
    records = [history.DesignRecord("probe", "pass", "", 0, 70.0),
               history.DesignRecord("small", "flow_error",
                                    "flow timed out after 600 s, see small/flow.log\n    tail",
                                    None, 600.0)]
    history.record_run(workspace["db"], history.RunRecord(
        "r1", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", "abc", "flow", str(run_dir),
        records))
    html = build(workspace).read_text()
    latest = html[html.index("Latest nightly run"):html.index("Current results")]
    assert '<span class="bad">flow_error</span>' in latest
    assert "flow timed out after 600 s, see small/flow.log</td>" in latest
    assert "tail" not in latest  # the log tail is on the run page only


def test_repository_paths_are_shown_relative() -> None:
    message = f"flow timed out, see {dashboard.REPO_ROOT}/build/nightly/x/small/flow.log"
    assert dashboard.repo_relative(message) == "flow timed out, see build/nightly/x/small/flow.log"
    assert dashboard.repo_relative("/elsewhere/flow.log") == "/elsewhere/flow.log"


def test_only_designs_that_ran_and_broken_configs_as_errors(workspace) -> None:
    """A design folder that never ran gets no row; a config the flow refuses is an error row
    with the flow's message instead of a row of "not run"."""
    write_config(workspace["designs"], "never_ran", "never_top")
    broken = workspace["designs"] / "broken"
    broken.mkdir()
    (broken / "config.yaml").write_text("name: broken\ntop: x\n")
    html = build(workspace).read_text()
    table = html[html.index('<table class="summary">'):]
    table = table[:table.index("</table>")]
    assert "never_ran" not in table
    assert "config error:" in table and "missing required key" in table and ">broken<" in table
    csv = (workspace["out"] / "ppa.csv").read_text()
    assert "never_ran" not in csv and "broken" not in csv


def test_design_page_shows_failed_nets_drc_rules_and_worst_paths(workspace) -> None:
    write_job(workspace["build"] / "probe", route_failed=5, drc={"met1.spacing": 12,
                                                                "li.width": 2})
    build(workspace)
    page = next((workspace["out"] / "designs").glob("probe-*.html"))
    html = page.read_text()
    assert 'Failed nets: <b class="bad">5</b>' in html
    assert "<td>met1.spacing</td><td class=\"bad\">12</td>" in html
    assert html.index("met1.spacing") < html.index("li.width")  # worst rule first
    assert "acc_reg_3 (rising edge-triggered flip-flop clocked by clk)" in html
    assert ">-0.500</a>" in html and ">0.300</a>" in html  # setup and hold slack, linked
    assert "syn &rarr; route &rarr; drc_klayout &rarr; power" in html  # critical path
    links = targets(page)
    for target in links.targets:
        assert (page.parent / unquote(target)).exists(), target
    index = (workspace["out"] / "index.html").read_text()
    assert f'href="designs/{page.name}"' in index


def test_index_reason_skips_liberty_warnings(workspace) -> None:
    """The nightly status line shows the failure, not the tool warnings printed before it."""
    run_dir = workspace["build"] / "nightly" / "r1"
    write_design(run_dir, "probe")
    message = ("Warning: sky130_fd_sc_hd__ss.lib line 1, default_operating_conditions not "
               "found.\nWarning: another Liberty line\nFLOW_ERROR: sta/ss failed (exit 1)")
    history.record_run(workspace["db"], history.RunRecord(
        "r1", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", "abc", "flow", str(run_dir),
        [history.DesignRecord("probe", "flow_error", message, 1, 70.0)]))
    html = build(workspace).read_text()
    latest = html[html.index("Latest nightly run"):html.index("Current results")]
    assert "FLOW_ERROR: sta/ss failed</td>" in latest and "Liberty" not in latest
