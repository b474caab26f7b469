"""The readiness review notebook served by Voilà in headless Chromium: card, plots, squad table."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from conftest import serve_voila
from demo_db import demo_db_url

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "readiness_review.ipynb"
SCREENS = Path(__file__).parent / "screens"

pytestmark = pytest.mark.browser


@pytest.fixture
def voila_readiness(tmp_path):
    url = demo_db_url(
        tmp_path, athletes=6, days=120, seed=7, end_date=dt.date(2026, 11, 20), recordings=False
    )
    env = {"WORKBENCH_DB_URL": url, "WORKBENCH_DATA_DIR": str(tmp_path / "data")}
    with serve_voila(NOTEBOOK, cwd=tmp_path, env=env) as voila_url:
        yield voila_url


def test_readiness_review_renders_card_plots_and_table(browser, voila_readiness):
    page = browser.new_page(viewport={"width": 1100, "height": 2900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(voila_readiness, timeout=120_000)
    card = page.wait_for_selector(".wb-readiness-card", timeout=120_000)
    score = card.query_selector(".wb-score").inner_text()
    assert score == "–" or 0 <= int(score) <= 100
    assert "Contributors" in card.inner_text() and "Bedtime" in card.inner_text()
    page.wait_for_selector("canvas", timeout=60_000)
    page.wait_for_selector(".slick-header-column", timeout=60_000)  # the squad DataTable
    n_plots = page.evaluate(
        """() => {
      let n = 0;
      for (const doc of (window.Bokeh && Bokeh.documents) || []) {
        for (const name of ['readiness-hrv', 'readiness-rhr', 'readiness-sleep',
                            'readiness-acwr', 'readiness-pmc']) {
          if (doc.get_model_by_name(name)) n += 1;
        }
      }
      return n;
    }"""
    )
    assert n_plots == 5
    rows = page.query_selector_all(".slick-row")
    assert len(rows) == 6
    page.wait_for_timeout(500)
    SCREENS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENS / "readiness_review.png"), full_page=True)
    assert not [e for e in errors if "require" in e or "Bokeh" in e], errors
