"""The demo squad on a real PostgreSQL server gives the same rows as on SQLite."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from workbench.demo import generate_demo
from workbench.demo.live import BFR_SCHEDULE
from workbench.store import open_store

pytestmark = pytest.mark.postgres

END = dt.date(2026, 6, 30)
ARGS = dict(athletes=3, days=75, seed=11, end_date=END)


@pytest.fixture(scope="module")
def pg_demo_url(postgres_server):
    engine = sa.create_engine(postgres_server.url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP DATABASE IF EXISTS demo_squad")
        conn.exec_driver_sql("CREATE DATABASE demo_squad")
    engine.dispose()
    return postgres_server.url.rsplit("/", 1)[0] + "/demo_squad"


def test_postgres_demo_matches_sqlite(pg_demo_url, tmp_path):
    pg = open_store(pg_demo_url)
    lite = open_store(f"sqlite:///{tmp_path / 'demo.db'}")
    s_pg = generate_demo(pg, **ARGS)
    s_lite = generate_demo(lite, **ARGS)
    assert s_pg.counts == s_lite.counts
    assert s_pg.counts["bfr_sessions"] == len(BFR_SCHEDULE) and s_pg.counts["episodes"] > 0
    for table in ["athletes", "wellness_daily", "training_sessions", "episodes", "bfr_events"]:
        a = pg.read(table).drop(columns=["id", "session_id"], errors="ignore")
        b = lite.read(table).drop(columns=["id", "session_id"], errors="ignore")
        pd.testing.assert_frame_equal(a, b, obj=table, check_dtype=False)
    ha, hb = pg.hrv_readings(), lite.hrv_readings()
    assert len(ha) == len(hb)
    assert all(np.array_equal(x, y) for x, y in zip(ha["rr_ms"], hb["rr_ms"], strict=True))
    pg.close()
    lite.close()
