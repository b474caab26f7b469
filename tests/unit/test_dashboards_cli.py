"""``workbench dashboard``: loopback by default, token required elsewhere, preheated kernels;
the squad table and drill-down without a browser."""

from __future__ import annotations

import argparse
import datetime as dt

import pytest

from workbench.cli import main
from workbench.dashboards.cli import voila_command
from workbench.demo import generate_demo
from workbench.store import open_store


def ns(**kw) -> argparse.Namespace:
    base = dict(
        port=8866, ip="127.0.0.1", token=None, pool_size=1, no_preheat=False, dry_run=True, db=None
    )
    base.update(kw)
    return argparse.Namespace(**base)


def test_loopback_default_with_preheated_kernels():
    cmd = voila_command(ns())
    assert "--Voila.ip=127.0.0.1" in cmd
    assert "--preheat_kernel=True" in cmd and "--pool_size=1" in cmd
    assert cmd[-1].endswith("notebooks/dashboards")
    assert not any(c.startswith("--token") for c in cmd)


def test_other_address_needs_a_token():
    with pytest.raises(ValueError, match="token"):
        voila_command(ns(ip="0.0.0.0"))
    cmd = voila_command(ns(ip="0.0.0.0", token="s3cret"))
    assert "--token=s3cret" in cmd and "--Voila.ip=0.0.0.0" in cmd


def test_cli_refuses_and_dry_runs(capsys):
    assert main(["dashboard", "--ip", "192.168.1.5"]) == 2
    assert "refusing" in capsys.readouterr().err
    assert main(["dashboard", "--dry-run", "--port", "8899", "--token", "abc"]) == 0
    out = capsys.readouterr().out
    assert "--port=8899" in out and "abc" not in out  # the token is not echoed


def test_squad_dashboard_table_filter_and_drill_down(sqlite_url):
    from workbench.dashboards.squad import SquadDashboard

    with open_store(sqlite_url) as store:
        generate_demo(
            store, athletes=3, days=75, seed=3, end_date=dt.date(2026, 11, 22), recordings=False
        )
    d = SquadDashboard(sqlite_url)
    assert d.day == dt.date(2026, 11, 22)
    assert list(d.table["athlete_id"]) == ["ath01", "ath02", "ath03"]
    assert d.table["score"].between(0, 100).all()
    grid = d.rows.children[0]
    assert len(grid.children) == 7 * 4  # header + 3 athletes
    d.group.value = "team"
    assert len(d.rows.children[0].children) == 7 * 2
    d.show_athlete("ath02")
    assert d.selected == "ath02"
    texts = " ".join(getattr(c, "value", "") for c in d.detail.children)
    assert "(ath02)" in texts and "Plan for next week" in texts
    plan = d.athlete_plan("ath02")
    assert plan.days["date"].iloc[0] == dt.date(2026, 11, 23)
    d.close_athlete()
    assert d.detail.children == () and d.selected is None
    with pytest.raises(Exception, match="unknown athlete"):
        d.show_athlete("nobody")
