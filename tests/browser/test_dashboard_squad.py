"""Coach dashboards in Voilà (served by ``workbench dashboard``), headless Chromium."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

import pytest

from conftest import free_port, serve
from demo_db import demo_db_url
from workbench.store import open_store

SCREENS = Path(__file__).parent / "screens"
pytestmark = pytest.mark.browser
BUTTON = ".wb-athlete-button button, button.wb-athlete-button"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dash")
    url = demo_db_url(tmp, athletes=4, days=90, seed=7, end_date=dt.date(2026, 11, 22))
    port = free_port()
    cmd = [sys.executable, "-m", "workbench", "dashboard", "--port", str(port), "--pool-size", "1"]
    with serve(cmd, port=port, cwd=tmp, env={"WORKBENCH_DB_URL": url}) as base:
        # `workbench dashboard` reports ready once the preheated kernels ran the notebooks
        deadline = time.monotonic() + 300
        while "ready in" not in (tmp / "server.log").read_text():
            assert time.monotonic() < deadline, (tmp / "server.log").read_text()[-2000:]
            time.sleep(0.2)
        yield base.rstrip("/")


def _open_squad(browser, base: str):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    t0 = time.perf_counter()
    page.goto(f"{base}/voila/render/squad_overview.ipynb", timeout=120_000)
    page.wait_for_selector(BUTTON, timeout=120_000)
    return page, time.perf_counter() - t0


def test_squad_overview_and_drill_down(browser, server):
    page, first = _open_squad(browser, server)
    print(f"\nsquad dashboard time to interactive, first visit after ready: {first:.2f} s")
    buttons = page.locator(BUTTON)
    assert buttons.count() == 4
    assert page.locator("text=Squad readiness").count() >= 1
    SCREENS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENS / "dashboard_squad.png"), full_page=True)

    page.locator(".wb-athlete-ath02 button, button.wb-athlete-ath02").first.click()
    page.wait_for_selector(".wb-athlete-title", timeout=60_000)
    page.locator(".wb-athlete-view canvas").first.wait_for(timeout=60_000)
    assert "(ath02)" in page.locator(".wb-athlete-title").inner_text()
    assert page.locator("text=Plan for next week").count() == 1
    page.screenshot(path=str(SCREENS / "dashboard_athlete.png"), full_page=True)

    # group filter: the team group of the 4-athlete demo squad has one athlete (ath02)
    page.locator("select").first.select_option(label="team")
    page.wait_for_function(
        f"() => document.querySelectorAll('{BUTTON}').length === 1", timeout=30_000
    )
    page.close()

    # a second coach: the pool has had time to preheat a kernel
    time.sleep(5)
    page, warm = _open_squad(browser, server)
    print(f"squad dashboard time to interactive, preheated kernel: {warm:.2f} s")
    page.close()


def test_sessions_page_shows_a_bfr_session(browser, server):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{server}/voila/render/sessions.ipynb", timeout=120_000)
    page.wait_for_selector("select", timeout=120_000)
    labels = page.locator("select option").all_inner_texts()
    bfr = [lab for lab in labels if "BFR" in lab]
    assert bfr, labels
    page.locator("select").first.select_option(label=bfr[0])
    page.wait_for_selector("text=Events", timeout=60_000)
    page.locator("canvas").first.wait_for(timeout=60_000)
    # trips and alarms come first; the setpoint ramps are counted, not listed
    assert page.locator("text=Trips and alarms").count() == 1
    assert page.locator("text=setpoint commands not listed").count() == 1
    assert page.locator("td", has_text="calibration_setpoint").count() == 0
    page.screenshot(path=str(SCREENS / "dashboard_sessions.png"), full_page=True)
    page.close()


def test_a_broken_database_gives_the_coach_a_readable_message(browser, tmp_path):
    """Issue 15 item 9: not "There was an error when executing cell [2]" but what failed and
    where the log is."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    open_store(url).close()  # a database without athletes
    log = tmp_path / "logs" / "dashboards.log"
    port = free_port()
    cmd = [sys.executable, "-m", "workbench", "dashboard", "--port", str(port), "--no-preheat"]
    env = {"WORKBENCH_DB_URL": url, "WORKBENCH_DASHBOARD_LOG": str(log)}
    with serve(cmd, port=port, cwd=tmp_path, env=env) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 700})
        page.goto(f"{base}voila/render/squad_overview.ipynb", timeout=120_000)
        page.wait_for_selector(".wb-dashboard-error", timeout=120_000)
        text = page.locator(".wb-dashboard-error").inner_text()
        SCREENS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENS / "dashboard_error.png"), full_page=True)
        body = page.locator("body").inner_text()
        page.close()
    assert "Could not show the squad readiness overview" in text
    assert "holds no athletes" in text and str(log) in text
    assert "There was an error when executing cell" not in body
    assert "holds no athletes" in log.read_text()
