"""Store: migrations, URL selection, lossless round trip of every table (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from workbench.errors import ConfigError, DataFormatError, StoreError
from workbench.store import TABLES, open_store
from workbench.store.codec import decode_array, encode_array
from workbench.store.ids import ATHLETE_ID_PATTERN

FINITE = st.floats(allow_nan=False, allow_infinity=False, width=64)
TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)
PARENT = {"athlete_id": "p1", "recording_id": 1, "stream_id": 1, "session_id": 1}


def _column_strategy(col: sa.Column):
    if col.name in PARENT and col.foreign_keys:
        return st.just(PARENT[col.name])
    if col.name == "rr_ms":
        return hnp.arrays(np.float64, st.integers(0, 300), elements=FINITE)
    if col.table.name == "athletes" and col.name == "athlete_id":
        return st.from_regex(ATHLETE_ID_PATTERN, fullmatch=True)  # the store refuses others
    t = col.type
    if isinstance(t, sa.Float):
        base = st.floats(allow_nan=False, width=64)
    elif isinstance(t, sa.Integer):
        base = st.integers(-(2**31), 2**31 - 1)
    elif isinstance(t, sa.DateTime):
        base = st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1))
    elif isinstance(t, sa.Date):
        base = st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1))
    elif isinstance(t, sa.LargeBinary):
        base = st.binary(max_size=200)
    else:
        length = getattr(t, "length", None) or 40
        base = st.text(
            st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
            min_size=1,
            max_size=min(length, 40),
        )
    return base if not col.nullable or col.primary_key else st.one_of(st.none(), base)


def _row_strategy(table: sa.Table):
    cols = {
        c.name: _column_strategy(c)
        for c in table.columns
        if not (c.primary_key and c.autoincrement is True and isinstance(c.type, sa.Integer))
    }
    return st.fixed_dictionaries(cols)


def _unique_key(table: sa.Table):
    keys = [
        c.name
        for c in table.primary_key
        if c.name in {x.name for x in table.columns}
        and not (c.autoincrement is True and isinstance(c.type, sa.Integer))
    ]
    for cons in table.constraints:
        if isinstance(cons, sa.UniqueConstraint):
            keys += [c.name for c in cons.columns]
    return keys


def _norm(table: sa.Table, name: str, value):
    col = table.columns[name]
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if name == "rr_ms":
        return np.asarray(value, dtype=np.float64).tobytes()
    if isinstance(col.type, sa.DateTime):
        return pd.Timestamp(value).to_pydatetime()
    if isinstance(col.type, sa.Date):
        return pd.Timestamp(value).date()
    if isinstance(col.type, sa.Float):
        return float(value) + 0.0  # scalar columns compare by value: SQLite stores -0.0 as 0.0
    if isinstance(col.type, sa.Integer):
        return int(value)
    if isinstance(col.type, sa.LargeBinary):
        return bytes(value)
    return value


ROUND_TRIP_TABLES = [t for t in TABLES]


def _seed_parents(store):
    """Parent rows for foreign keys; ids come from the database (sequences stay consistent)."""
    store.write(
        "athletes",
        [
            {
                "athlete_id": "p1",
                "name": "Parent",
                "sex": "F",
                "birth_date": dt.date(1999, 5, 1),
                "sport": "rowing",
            }
        ],
    )
    ids = {
        "recording_id": store.insert_one(
            "recordings",
            {"title": "r", "status": "complete", "started_at": dt.datetime(2026, 1, 1)},
        ),
        "stream_id": store.insert_one(
            "recording_streams",
            {
                "recording_id": 1,
                "name": "parent stream: longer than any generated name (40 chars)",
                "kind": "emg",
                "device": "sim",
                "channel_names": '["a"]',
                "units": '["mV"]',
            },
        ),
        "session_id": store.insert_one(
            "bfr_sessions",
            {
                "athlete_id": "p1",
                "started_at": dt.datetime(2026, 1, 1),
                "limb": "leg",
                "side": "left",
                "cuff_id": "c1",
                "status": "complete",
            },
        ),
    }
    assert ids == {k: PARENT[k] for k in ids}


def _roundtrip(store, table_name, rows):
    table = TABLES[table_name]
    cleanup = {
        "athletes": {"athlete_id": "p1"},
        "recordings": {"recording_id": 1},
        "recording_streams": {"stream_id": 1},
        "bfr_sessions": {"session_id": 1},
    }
    with store.transaction() as conn:
        keep = cleanup.get(table_name)
        cond = sa.and_(*[table.c[k] != v for k, v in keep.items()]) if keep else sa.true()
        conn.execute(table.delete().where(cond))
    store.write(table_name, rows)
    back = store.read(table_name)
    if table_name in cleanup:
        k, v = next(iter(cleanup[table_name].items()))
        back = back[back[k] != v]
    names = [n for n in rows[0]] if rows else []
    want = sorted((tuple(_norm(table, n, r[n]) for n in names) for r in rows), key=repr)
    got = sorted(
        (
            tuple(_norm(table, n, v) for n, v in zip(names, rec, strict=True))
            for rec in back[names].itertuples(index=False)
        ),
        key=repr,
    )
    assert got == want


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory):
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('rt') / 'rt.db'}")
    _seed_parents(store)
    yield store
    store.close()


@pytest.fixture(scope="module")
def pg_store(postgres_server):
    store = open_store(postgres_server.url)
    _seed_parents(store)
    yield store
    store.close()


def _table_rows(table_name):
    table = TABLES[table_name]
    key = _unique_key(table)
    return st.lists(
        _row_strategy(table),
        min_size=1,
        max_size=6,
        unique_by=(lambda r: tuple(r[k] for k in key)) if key else None,
    )


@pytest.mark.parametrize("table_name", ROUND_TRIP_TABLES)
def test_every_table_round_trips_losslessly_sqlite(sqlite_store, table_name):
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(rows=_table_rows(table_name))
    def check(rows):
        _roundtrip(sqlite_store, table_name, rows)

    check()


@pytest.mark.postgres
@pytest.mark.parametrize("table_name", ROUND_TRIP_TABLES)
def test_every_table_round_trips_losslessly_postgres(pg_store, table_name):
    @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
    @given(rows=_table_rows(table_name))
    def check(rows):
        _roundtrip(pg_store, table_name, rows)

    check()


@settings(max_examples=300, deadline=None)
@given(hnp.arrays(np.float64, st.integers(0, 500), elements=st.floats(width=64)))
def test_codec_is_bit_exact_for_any_float64(values):
    back = decode_array(encode_array(values))
    assert back.dtype == np.float64
    assert back.tobytes() == values.tobytes()


@given(st.lists(st.integers(200, 3000), min_size=1, max_size=400))
def test_ble_rr_is_stored_at_two_bytes_per_beat(counts):
    rr_ms = np.asarray(counts, dtype=np.float64) * 1000.0 / 1024.0
    blob = encode_array(rr_ms)
    assert len(blob) == 1 + 2 * len(counts)
    assert decode_array(blob).tobytes() == rr_ms.tobytes()


def test_open_store_migrates_and_uses_wal(sqlite_url):
    store = open_store(sqlite_url)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
    assert version == _head_revision()
    assert set(store.counts()) == set(TABLES)
    store.close()
    open_store(sqlite_url).close()  # migrating twice is a no-op


def _head_revision() -> str:
    from alembic.script import ScriptDirectory

    from workbench.store import MIGRATIONS_DIR

    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def test_upgrade_from_the_first_revision_keeps_data(sqlite_url):
    from alembic import command

    from workbench.store import Store, _alembic_config, migrate
    from workbench.store.store import _engine_for

    store = Store(_engine_for(sqlite_url))
    cfg = _alembic_config(sqlite_url)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO athletes (athlete_id, name, sex, birth_date, sport) VALUES ('a', 'A', 'F', '2000-01-01', 'x')"
        )
    migrate(store)
    assert store.athletes()["athlete_id"].tolist() == ["a"]
    assert "readiness_device_0_100" in store.wellness().columns


def test_env_url_is_honoured(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.setenv("WORKBENCH_DB_URL", url)
    store = open_store()
    assert store.url == url
    store.close()


def test_bad_url_is_a_config_error():
    with pytest.raises(ConfigError, match="not a database URL"):
        open_store("no such url")


def test_unknown_column_and_missing_column_are_named(sqlite_url):
    store = open_store(sqlite_url)
    with pytest.raises(DataFormatError, match="unknown column"):
        store.write("biomarkers", [{"athlete_id": "x", "colour": "red"}])
    with pytest.raises(DataFormatError, match="missing required column 'unit'"):
        store.write(
            "biomarkers",
            [
                {
                    "athlete_id": "x",
                    "date": dt.date(2026, 1, 1),
                    "marker": "ck",
                    "value": 1.0,
                    "source": "t",
                }
            ],
        )


def test_transaction_is_all_or_nothing(sqlite_url):
    store = open_store(sqlite_url)
    athlete = {
        "athlete_id": "a",
        "name": "A",
        "sex": "M",
        "birth_date": dt.date(2000, 1, 1),
        "sport": "x",
    }
    with pytest.raises(StoreError):
        with store.transaction() as conn:
            store.write("athletes", [athlete], conn=conn)
            store.write("athletes", [athlete], conn=conn)  # duplicate primary key
    assert store.athletes().empty


def test_recording_chunks_concatenate_in_order(sqlite_url):
    store = open_store(sqlite_url)
    rec = store.create_recording("emg test")
    sid = store.add_stream(
        rec,
        "emg",
        kind="emg",
        device="sim",
        channel_names=["c1", "c2"],
        units=["mV", "mV"],
        sampling_rate_hz=2000.0,
    )
    rng = np.random.default_rng(1)
    parts = [rng.normal(size=(n, 2)) for n in (5, 0, 7)]
    for seq, part in enumerate(parts):
        t = np.arange(len(part), dtype=float) + seq * 100
        store.append_chunk(sid, seq, t, t + 0.5, part)
    host, dev, values = store.read_stream(sid)
    assert values.tobytes() == np.concatenate(parts).tobytes()
    assert np.array_equal(dev - host, np.full(12, 0.5))
    with pytest.raises(DataFormatError):
        store.append_chunk(sid, 9, np.zeros(3), np.zeros(2), np.zeros((3, 2)))
    store.add_marker(rec, 2.0, "lap 2", "lap")
    store.add_marker(rec, 1.0, "lap 1", "lap")
    assert store.markers(rec)["label"].tolist() == ["lap 1", "lap 2"]


def test_read_filters_by_athlete_and_date(sqlite_url):
    store = open_store(sqlite_url)
    store.write(
        "athletes",
        [
            {
                "athlete_id": a,
                "name": a,
                "sex": "F",
                "birth_date": dt.date(2000, 1, 1),
                "sport": "x",
            }
            for a in ("a", "b")
        ],
    )
    rows = [
        {
            "athlete_id": a,
            "date": dt.date(2026, 1, d),
            "marker": "ck",
            "value": float(d),
            "unit": "U/L",
            "source": "lab",
        }
        for a in ("a", "b")
        for d in (1, 2, 3)
    ]
    store.write("biomarkers", pd.DataFrame(rows))
    got = store.biomarkers(athlete_id="a", start="2026-01-02", end="2026-01-03")
    assert got["value"].tolist() == [2.0, 3.0]
    assert str(got["date"].dtype).startswith("datetime64")


def test_codec_keeps_nan_payloads_and_negative_zero():
    bits = np.array(
        [0x7FF8000000000001, 0x7FF8000000000000, 0x8000000000000000, 0x3FF0000000000000],
        dtype="<u8",
    )
    values = bits.view("<f8")
    assert decode_array(encode_array(values)).tobytes() == values.tobytes()
