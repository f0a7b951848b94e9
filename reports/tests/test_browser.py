"""The dashboard in headless Chromium: no console errors, every image decoded, the summary table
within a 1400 px laptop window, a screenshot.

Chromium is a required tool of this project (installed by scripts/setup.sh), so a missing
browser fails this test instead of skipping it.
"""

from __future__ import annotations

from pathlib import Path

from reports import browser, dashboard, history
from reports.tests.report_fixtures import signoff, write_config, write_design

ARTIFACTS = Path(__file__).resolve().parents[1] / "out"
WINDOW = 1400  # px: a laptop browser window


def wide_failure(ws: dict[str, Path]) -> None:
    """A failing design with the widest figures a table cell can get: large negative slacks
    and TNS at every corner, and a long failure message led by Liberty warnings."""
    big = {f"timing__{kind}__corner:{c}": -12345.678 for kind in ("setup__ws", "setup__tns",
                                                                  "hold__ws") for c in
           ("ss", "tt", "ff")}
    message = ("Warning: sky130_fd_sc_hd__ss_100C_1v60.lib line 1, default_operating_conditions "
               "not found.\nsta/ss: setup slack -12345.678 ns < 0 at corner ss; hold slack "
               "-12345.678 ns < 0 at corner ss, and a long tail " + "x" * 300)
    write_config(ws["designs"], "wide_failing_design_name", "wide_top")
    write_design(ws["build"], "wide_failing_design_name", signoff(
        {"failures": [message, "drc: 12 violations"]}, flow__passed=False,
        design__core__area=123456789.0, power__total=12345.678, **big))


def test_dashboard_loads_cleanly_in_chromium(workspace) -> None:
    for n, cells in enumerate((2500, 2450, 2610), start=1):
        run_dir = workspace["build"] / "nightly" / f"r{n}"
        write_design(run_dir, "small", signoff(design__instance__count=cells))
        history.record_run(workspace["db"], history.RunRecord(
            f"r{n}", f"2026-01-0{n}T00:00:00Z", f"2026-01-0{n}T01:00:00Z", "abc", "flow",
            str(run_dir), [history.DesignRecord("small", "pass", "", 0, 9.0,
                                                {"design__instance__count": cells,
                                                 "timing__setup__ws__corner:tt": 2.0 - n / 10})]))
    wide_failure(workspace)
    index = dashboard.build(out=workspace["out"], build=workspace["build"], db=workspace["db"],
                            designs_dir=workspace["designs"],
                            experiments=workspace["experiments"], manifest=workspace["manifest"])
    shot = ARTIFACTS / "test_browser_index.png"
    report = browser.check_page(index, shot, width=WINDOW)
    assert report.errors == []
    # 4 plots; per design (3) KLayout full + zoom, cell density, congestion
    assert len(report.images) == 4 + 3 * 4
    assert report.broken_images == []
    assert report.title == "gpt-nano-asic PPA"
    assert shot.stat().st_size > 10_000
    assert max(report.table_widths) <= WINDOW, report.table_widths
    assert report.document_width <= WINDOW
    run_page = next((workspace["out"] / "runs").glob("*.html"))
    run_report = browser.check_page(run_page, width=WINDOW)
    assert run_report.ok and len(run_report.images) == 6  # 2 plots, layout, zoom, density, cong.
    assert max(run_report.table_widths) <= WINDOW
    for page in sorted((workspace["out"] / "designs").glob("*.html")):
        design = browser.check_page(page, width=WINDOW)
        assert design.ok, (page, design.errors, design.broken_images)
        assert len(design.images) == 5  # node timeline, layout, zoom, density, congestion
        assert design.document_width <= WINDOW, page


def test_checker_catches_errors_and_broken_images(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><head><title>t</title></head><body>'
                    '<img src="missing.png"><script>console.error("boom")</script></body></html>')
    report = browser.check_page(page)
    assert not report.ok
    assert report.broken_images == ["missing.png"]
    assert any("console.error: boom" in e for e in report.errors)
    assert any("missing.png" in e for e in report.errors)  # the failed load is logged too


def test_checker_measures_table_width(tmp_path: Path) -> None:
    page = tmp_path / "wide.html"
    cells = "".join(f"<td>{'x' * 20}</td>" for _ in range(30))
    page.write_text(f"<!DOCTYPE html><html><head><title>t</title></head><body>"
                    f"<table><tr>{cells}</tr></table></body></html>")
    report = browser.check_page(page, width=WINDOW)
    assert report.table_widths[0] > WINDOW and report.document_width > WINDOW
