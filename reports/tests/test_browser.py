"""The dashboard in headless Chromium: no console errors, every image decoded, a screenshot.

Chromium is a required tool of this project (installed by scripts/setup.sh), so a missing
browser fails this test instead of skipping it.
"""

from __future__ import annotations

from pathlib import Path

from reports import browser, dashboard, history
from reports.tests.report_fixtures import signoff, write_design

ARTIFACTS = Path(__file__).resolve().parents[1] / "out"


def test_dashboard_loads_cleanly_in_chromium(workspace) -> None:
    for n, cells in enumerate((2500, 2450, 2610), start=1):
        run_dir = workspace["build"] / "nightly" / f"r{n}"
        write_design(run_dir, "small", signoff(design__instance__count=cells))
        history.record_run(workspace["db"], history.RunRecord(
            f"r{n}", f"2026-01-0{n}T00:00:00Z", f"2026-01-0{n}T01:00:00Z", "abc", "flow",
            str(run_dir), [history.DesignRecord("small", "pass", "", 0, 9.0,
                                                {"design__instance__count": cells,
                                                 "timing__setup__ws__corner:tt": 2.0 - n / 10})]))
    index = dashboard.build(out=workspace["out"], build=workspace["build"], db=workspace["db"],
                            designs_dir=workspace["designs"],
                            experiments=workspace["experiments"], manifest=workspace["manifest"])
    shot = ARTIFACTS / "test_browser_index.png"
    report = browser.check_page(index, shot)
    assert report.errors == []
    assert len(report.images) == 8  # 4 plots, 2 layouts, 2 density maps
    assert report.broken_images == []
    assert report.title == "gpt-nano-asic PPA"
    assert shot.stat().st_size > 10_000
    run_page = next((workspace["out"] / "runs").glob("*.html"))
    run_report = browser.check_page(run_page)
    assert run_report.ok and len(run_report.images) == 4  # 2 plots, layout, density


def test_checker_catches_errors_and_broken_images(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><head><title>t</title></head><body>'
                    '<img src="missing.png"><script>console.error("boom")</script></body></html>')
    report = browser.check_page(page)
    assert not report.ok
    assert report.broken_images == ["missing.png"]
    assert any("console.error: boom" in e for e in report.errors)
    assert any("missing.png" in e for e in report.errors)  # the failed load is logged too
