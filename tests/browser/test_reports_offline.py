"""A rendered weekly report opens in headless Chromium with the network blocked."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from demo_db import demo_db_url
from workbench.reports.runner import ReportJob, default_notebook, render_report

SCREENS = Path(__file__).parent / "screens"
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    url = demo_db_url(tmp, athletes=3, days=90, seed=7, end_date=dt.date(2026, 11, 22))
    res = render_report(
        ReportJob("ath02", "2026-W47", str(tmp / "out"), url, str(default_notebook()))
    )
    assert res.ok, res.error
    return Path(res.html)


def test_report_is_self_contained_offline(browser, report):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    requests: list[str] = []
    failed: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    t0 = time.perf_counter()
    page.goto(report.as_uri())
    canvases = page.locator("canvas")  # Bokeh draws inside shadow roots; locators pierce them
    while canvases.count() < 5 and time.perf_counter() - t0 < 60:
        page.wait_for_timeout(50)
    tti = time.perf_counter() - t0
    assert canvases.count() >= 5
    print(f"\nreport time to interactive (all Bokeh canvases drawn): {tti:.2f} s")
    external = [u for u in requests if not u.startswith(("file:", "data:", "blob:", "about:"))]
    assert external == [] and failed == [] and errors == []
    assert page.locator("text=Executive summary").count() == 1
    assert page.locator("h2", has_text="BFR sessions").count() == 1
    assert page.locator("table.wb-table").count() >= 3
    SCREENS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENS / "report_weekly.png"), full_page=True)
    page.close()
