"""``workbench report``: one HTML + JSON per athlete, the squad index, atomic writes, failures
listed without stopping the batch, Dask fan-out, PDF through headless chromium."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from demo_db import demo_db_url
from workbench.cli import main
from workbench.reports.runner import html_to_pdf
from workbench.reports.weekly import key_figures, load_weekly
from workbench.store import open_store

WEEK = "2026-W47"
END = dt.date(2026, 11, 22)  # a Sunday: W47 is the last complete week


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory) -> str:
    return demo_db_url(
        tmp_path_factory.mktemp("reports"), athletes=3, days=90, seed=7, end_date=END
    )


@pytest.fixture(scope="module")
def first_run(demo_url, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    rc = main(
        [
            "--db",
            demo_url,
            "report",
            "--week",
            WEEK,
            "--all",
            "--workers",
            "2",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    return rc, out / WEEK


def test_all_reports_index_and_sidecars(first_run):
    rc, week_dir = first_run
    assert rc == 0
    for a in ("ath01", "ath02", "ath03"):
        page = (week_dir / f"{a}.html").read_text()
        assert "Executive summary" in page and "Plan for next week" in page
        assert "display(HTML" not in page  # code hidden
        assert "<script src=" not in page  # BokehJS inline, nothing from a CDN
        assert "Bokeh" in page
        fig = json.loads((week_dir / f"{a}.json").read_text())
        assert fig["athlete_id"] == a and fig["week"] == WEEK
        assert len(fig["plan"]) == 7
        assert fig["mobility_priorities"] and all(
            c["verdict"] in ("improved", "declined", "within MDC", "first screen")
            and c["mdc_deg"] > 0
            for c in fig["mobility_changes"]
        )
        assert 0 <= fig["readiness_mean"] <= 100
    index = (week_dir / "index.html").read_text()
    assert all(f'href="./{a}.html"' in index for a in ("ath01", "ath02", "ath03"))
    summary = json.loads((week_dir / "index.json").read_text())
    assert summary["ok"] == 3 and summary["failed"] == 0
    assert not list(week_dir.glob(".*.tmp"))


def test_sidecar_matches_the_report_data(demo_url, first_run):
    _, week_dir = first_run
    with open_store(demo_url) as store:
        expected = key_figures(load_weekly(store, "ath02", WEEK))
    got = json.loads((week_dir / "ath02.json").read_text())
    for key in (
        "readiness_mean",
        "load_done_au",
        "acwr_last",
        "ctl",
        "plan_status",
        "n_bfr_sessions",
    ):
        assert got[key] == expected[key], key


def test_corrupt_athlete_is_listed_and_does_not_stop_the_batch(demo_url, first_run, tmp_path):
    """Garbage RR blob for ath02: its report fails, the good one on disk stays, others render.

    Runs on Dask (``--scheduler local``) to cover the fan-out path too.
    """
    _, good_dir = first_run
    out = tmp_path / "out"
    shutil.copytree(good_dir, out / WEEK)
    before = (out / WEEK / "ath02.html").read_bytes()
    db = Path(demo_url.removeprefix("sqlite:///"))
    bad_db = tmp_path / "bad.db"
    shutil.copy(db, bad_db)
    bad_url = f"sqlite:///{bad_db}"
    with open_store(bad_url) as store, store.transaction() as conn:
        conn.exec_driver_sql(
            "UPDATE hrv_readings SET rr_ms = X'DEADBEEF' WHERE athlete_id = 'ath02' AND date = '2026-11-20'"
        )
    rc = main(
        [
            "--db",
            bad_url,
            "report",
            "--week",
            WEEK,
            "--athlete",
            "ath02",
            "--athlete",
            "ath03",
            "--workers",
            "2",
            "--scheduler",
            "local",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert rc != 0
    assert (out / WEEK / "ath02.html").read_bytes() == before  # never overwritten by a failure
    summary = json.loads((out / WEEK / "index.json").read_text())
    rows = {r["athlete_id"]: r for r in summary["reports"]}
    assert rows["ath02"]["ok"] is False and "encoding" in rows["ath02"]["error"]
    assert rows["ath03"]["ok"] and rows["ath01"]["ok"]  # ath01 not re-run: kept in the index
    index = (out / WEEK / "index.html").read_text()
    assert "FAILED" in index and "previous report kept" in index


def test_unknown_athlete_and_bad_week_exit_non_zero(demo_url, tmp_path):
    assert main(["--db", demo_url, "report", "--athlete", "nobody", "--out", str(tmp_path)]) == 2
    assert main(["--db", demo_url, "report", "--week", "2026-47", "--out", str(tmp_path)]) == 1
    assert not any(tmp_path.iterdir())


def test_pdf_from_a_report(first_run, tmp_path):
    _, week_dir = first_run
    pdf = tmp_path / "ath01.pdf"
    html_to_pdf(week_dir / "ath01.html", pdf)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 10_000
