"""The store: one object over a SQLAlchemy engine; reads return pandas DataFrames.

Columns of every read are the table's columns (see :mod:`workbench.store.schema`), with
dates as ``datetime64[ns]`` normalised to midnight and ``rr_ms`` decoded to float64 arrays.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from workbench.errors import ConfigError, DataFormatError, StoreError
from workbench.log import get_logger
from workbench.store import schema
from workbench.store.codec import decode_array, decode_matrix, encode_array, encode_matrix
from workbench.store.ids import validate_athlete_ids

log = get_logger(__name__)

TABLES: dict[str, sa.Table] = dict(schema.metadata.tables)

#: Date-like column used by the ``start``/``end`` filters of :meth:`Store.read`.
_DATE_COLUMN = {
    "wellness_daily": "date",
    "biomarkers": "date",
    "performance_tests": "date",
    "hrv_readings": "date",
    "training_sessions": "date",
    "mobility_assessments": "date",
    "bfr_sessions": "started_at",
    "recordings": "started_at",
    "episodes": "start_date",
}
_ORDER = {
    "athletes": ["athlete_id"],
    "wellness_daily": ["athlete_id", "date", "source"],
    "hrv_readings": ["athlete_id", "start_time", "id"],
    "bfr_events": ["session_id", "t_s", "id"],
    "recording_chunks": ["stream_id", "seq"],
}
_BLOB_ARRAYS = {"rr_ms"}


def _engine_for(url: str) -> Engine:
    try:
        sa_url = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ConfigError(
            f"not a database URL: {url!r} ({exc}); e.g. sqlite:///data/workbench.db"
        ) from exc
    if sa_url.get_backend_name() == "sqlite":
        if sa_url.database and sa_url.database != ":memory:":
            Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if sa_url.get_backend_name() == "postgresql" and sa_url.drivername == "postgresql":
        sa_url = sa_url.set(drivername="postgresql+psycopg")
    return sa.create_engine(sa_url, pool_pre_ping=True)


def _to_python(value: Any) -> Any:
    """Convert numpy/pandas scalars to plain Python for the DB driver; NaN/NaT to None."""
    if value is None:
        return None
    if isinstance(value, (np.ndarray, list, tuple)):
        return value
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


class Store:
    """Access to the workbench database.

    Use :func:`open_store` to get one (it migrates the schema). Close it with
    :meth:`close` or use it as a context manager.
    """

    def __init__(self, engine: Engine):
        self.engine = engine

    # ----------------------------------------------------------------- basics
    @property
    def url(self) -> str:
        """The database URL (password hidden)."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"`` (or another SQLAlchemy dialect name)."""
        return self.engine.dialect.name

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction: everything inside commits together or not at all."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(
                f"database error on {self.url}: {exc.__class__.__name__}: {exc}"
            ) from exc

    # ----------------------------------------------------------------- writes
    def _prepare_rows(
        self,
        table: sa.Table,
        rows: pd.DataFrame | Iterable[Mapping[str, Any]],
        *,
        partial: bool = False,
    ) -> list[dict]:
        """Validate column names and convert values to what the DB driver takes.

        DataFrames are converted column by column (fast path for bulk writes); other
        iterables row by row. Missing required columns and unknown columns are errors.
        """
        if isinstance(rows, pd.DataFrame):
            self._check_columns(table, [list(rows.columns)], partial)
            if table.name == "athletes" and "athlete_id" in rows:
                validate_athlete_ids(rows["athlete_id"])
            names = list(rows.columns)
            columns = [self._convert_column(table.columns[n], rows[n]) for n in names]
            return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
        records = [dict(r) for r in rows]
        self._check_columns(table, [list(r) for r in records], partial)
        if table.name == "athletes":
            validate_athlete_ids(r["athlete_id"] for r in records if "athlete_id" in r)
        return [
            {k: self._convert_value(table.columns[k], v) for k, v in rec.items()} for rec in records
        ]

    @staticmethod
    def _check_columns(table: sa.Table, keysets: list[list[str]], partial: bool) -> None:
        known = set(table.columns.keys())
        required = [
            c.name
            for c in table.columns
            if not c.nullable and not c.primary_key and c.default is None
        ]
        for i, keys in enumerate(keysets):
            unknown = set(keys) - known
            if unknown:
                raise DataFormatError(
                    f"unknown column(s) {sorted(unknown)} for table {table.name}; known: {sorted(known)}",
                    line=i + 1,
                )
            missing = [] if partial else [c for c in required if c not in keys]
            if missing:
                raise DataFormatError(
                    f"missing required column {missing[0]!r} for table {table.name}", line=i + 1
                )

    @staticmethod
    def _convert_value(col: sa.Column, value: Any) -> Any:
        if col.name in _BLOB_ARRAYS:
            return encode_array(np.asarray(value, dtype=np.float64))
        value = _to_python(value)
        if value is not None and isinstance(col.type, sa.Date) and isinstance(value, dt.datetime):
            value = value.date()
        return value

    @classmethod
    def _convert_column(cls, col: sa.Column, values: pd.Series) -> list:
        if col.name in _BLOB_ARRAYS or values.dtype == object:
            return [cls._convert_value(col, v) for v in values]
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            if isinstance(col.type, sa.Date) and not isinstance(col.type, sa.DateTime):
                converted = values.dt.date
            else:
                converted = values.astype(object)  # pandas Timestamps are datetime objects
            return converted.astype(object).where(values.notna(), None).tolist()
        if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
            return values.astype(object).where(values.notna(), None).tolist()
        return [cls._convert_value(col, v) for v in values]

    def write(
        self,
        table: str,
        rows: pd.DataFrame | Iterable[Mapping[str, Any]],
        *,
        conn: Connection | None = None,
    ) -> int:
        """Insert rows (a DataFrame or dicts) into ``table``; returns the number written.

        Inside :meth:`transaction`, pass its ``conn`` so that several writes commit together.
        """
        tbl = self._table(table)
        prepared = self._prepare_rows(tbl, rows)
        if not prepared:
            return 0
        if conn is None:
            with self.transaction() as own:
                own.execute(tbl.insert(), prepared)
        else:
            conn.execute(tbl.insert(), prepared)
        return len(prepared)

    def insert_one(
        self, table: str, row: Mapping[str, Any], *, conn: Connection | None = None
    ) -> int:
        """Insert one row and return its integer primary key."""
        tbl = self._table(table)
        (prepared,) = self._prepare_rows(tbl, [row])
        if conn is None:
            with self.transaction() as own:
                result = own.execute(tbl.insert().values(**prepared))
        else:
            result = conn.execute(tbl.insert().values(**prepared))
        return int(result.inserted_primary_key[0])

    def update(
        self,
        table: str,
        key: Mapping[str, Any],
        values: Mapping[str, Any],
        *,
        conn: Connection | None = None,
    ) -> int:
        """Update the rows matching ``key`` (column -> value); returns rows changed."""
        tbl = self._table(table)
        (prepared,) = self._prepare_rows(tbl, [values], partial=True)
        cond = sa.and_(*[tbl.c[k] == _to_python(v) for k, v in key.items()])
        stmt = tbl.update().where(cond).values(**prepared)
        if conn is not None:
            return conn.execute(stmt).rowcount
        with self.transaction() as own:
            return own.execute(stmt).rowcount

    def delete(self, table: str, **key: Any) -> int:
        """Delete the rows whose columns equal ``key``; returns rows deleted."""
        tbl = self._table(table)
        cond = sa.and_(*[tbl.c[k] == _to_python(v) for k, v in key.items()]) if key else sa.true()
        with self.transaction() as conn:
            return conn.execute(tbl.delete().where(cond)).rowcount

    # ------------------------------------------------------------------ reads
    def _table(self, name: str) -> sa.Table:
        try:
            return TABLES[name]
        except KeyError:
            raise StoreError(f"no table {name!r}; tables: {sorted(TABLES)}") from None

    def read(
        self,
        table: str,
        *,
        athlete_id: str | Iterable[str] | None = None,
        start: dt.date | str | None = None,
        end: dt.date | str | None = None,
        columns: Iterable[str] | None = None,
        **equals: Any,
    ) -> pd.DataFrame:
        """Read ``table`` as a DataFrame, filtered by athlete, date range (inclusive) and equality.

        Date columns come back as ``datetime64[ns]``; ``rr_ms`` as float64 numpy arrays.
        """
        tbl = self._table(table)
        cols = [tbl.c[c] for c in columns] if columns else list(tbl.columns)
        query = sa.select(*cols)
        if athlete_id is not None:
            ids = [athlete_id] if isinstance(athlete_id, str) else list(athlete_id)
            query = query.where(tbl.c.athlete_id.in_(ids))
        date_col = _DATE_COLUMN.get(table)
        if start is not None:
            query = query.where(tbl.c[date_col] >= pd.Timestamp(start).date())
        if end is not None:
            end_ts = pd.Timestamp(end)
            bound = (
                end_ts.date()
                if isinstance(tbl.c[date_col].type, sa.Date)
                else end_ts + pd.Timedelta(days=1)
            )
            op = (
                (tbl.c[date_col] <= bound)
                if isinstance(tbl.c[date_col].type, sa.Date)
                else (tbl.c[date_col] < bound)
            )
            query = query.where(op)
        for key, value in equals.items():
            query = query.where(tbl.c[key] == _to_python(value))
        order = _ORDER.get(table) or ([date_col] if date_col else []) + [
            c.name for c in tbl.primary_key
        ]
        query = query.order_by(*[tbl.c[c] for c in order if c in tbl.c])
        with self.transaction() as conn:
            result = conn.execute(query)
            df = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
        for col in cols:
            name = col.name
            if name not in df:
                continue
            if name in _BLOB_ARRAYS:
                df[name] = [decode_array(b) for b in df[name]]
            elif isinstance(col.type, (sa.Date, sa.DateTime)):
                df[name] = pd.to_datetime(df[name])
            elif isinstance(col.type, sa.Float):
                df[name] = pd.to_numeric(df[name], errors="coerce").astype("float64")
        return df

    # Convenience readers with the common filters ------------------------------------
    def athletes(self) -> pd.DataFrame:
        """Athletes: athlete_id, name, sex, birth_date, sport, goal, group_name, anthropometrics."""
        return self.read("athletes")

    def athlete(self, athlete_id: str) -> dict[str, Any]:
        """One athlete as a dict; ``KeyError`` naming the id when unknown."""
        df = self.read("athletes", athlete_id=athlete_id)
        if df.empty:
            raise KeyError(f"no athlete {athlete_id!r} in {self.url}")
        return df.iloc[0].to_dict()

    def wellness(self, athlete_id=None, start=None, end=None) -> pd.DataFrame:
        """Daily wellness rows (sleep minutes, resting HR, stress, 1-10 items) per source."""
        return self.read("wellness_daily", athlete_id=athlete_id, start=start, end=end)

    def hrv_readings(
        self, athlete_id=None, start=None, end=None, *, with_rr: bool = True, **eq
    ) -> pd.DataFrame:
        """HRV readings; ``rr_ms`` holds float64 arrays unless ``with_rr=False``."""
        cols = (
            None if with_rr else [c for c in TABLES["hrv_readings"].columns.keys() if c != "rr_ms"]
        )
        return self.read(
            "hrv_readings", athlete_id=athlete_id, start=start, end=end, columns=cols, **eq
        )

    def training_sessions(self, athlete_id=None, start=None, end=None, **eq) -> pd.DataFrame:
        """Training sessions (planned and done) with duration, sRPE and load in AU."""
        return self.read("training_sessions", athlete_id=athlete_id, start=start, end=end, **eq)

    def biomarkers(self, athlete_id=None, start=None, end=None, **eq) -> pd.DataFrame:
        """Lab biomarkers: date, marker, value, unit, source."""
        return self.read("biomarkers", athlete_id=athlete_id, start=start, end=end, **eq)

    def performance_tests(self, athlete_id=None, start=None, end=None, **eq) -> pd.DataFrame:
        """Performance tests: date, test, value, unit, source."""
        return self.read("performance_tests", athlete_id=athlete_id, start=start, end=end, **eq)

    def mobility_assessments(self, athlete_id=None, start=None, end=None, **eq) -> pd.DataFrame:
        """Mobility assessments: date, screen, movement, side, angle_deg, quality, speed."""
        return self.read("mobility_assessments", athlete_id=athlete_id, start=start, end=end, **eq)

    def bfr_sessions(self, athlete_id=None, start=None, end=None, **eq) -> pd.DataFrame:
        """BFR sessions: limb, cuff, AOP, prescription, status, time under pressure."""
        return self.read("bfr_sessions", athlete_id=athlete_id, start=start, end=end, **eq)

    def bfr_events(self, session_id: int) -> pd.DataFrame:
        """The audit events of one BFR session in time order."""
        return self.read("bfr_events", session_id=session_id)

    def episodes(self, athlete_id=None, **eq) -> pd.DataFrame:
        """Ground-truth episodes (illness, overreaching, sleep debt, travel, load spike)."""
        return self.read("episodes", athlete_id=athlete_id, **eq)

    # --------------------------------------------------------------- recordings
    def create_recording(
        self,
        title: str,
        *,
        athlete_id: str | None = None,
        started_at: dt.datetime | None = None,
        notes: str | None = None,
        conn: Connection | None = None,
    ) -> int:
        """Start a recording row (status ``recording``) and return its id."""
        return self.insert_one(
            "recordings",
            {
                "title": title,
                "athlete_id": athlete_id,
                "notes": notes,
                "status": "recording",
                "started_at": started_at or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
            },
            conn=conn,
        )

    def add_stream(
        self,
        recording_id: int,
        name: str,
        *,
        kind: str,
        device: str,
        channel_names: list[str],
        units: list[str],
        sampling_rate_hz: float | None,
        conn: Connection | None = None,
    ) -> int:
        """Declare a stream of a recording; returns its ``stream_id``."""
        if len(channel_names) != len(units):
            raise DataFormatError(
                f"stream {name!r}: {len(channel_names)} channels but {len(units)} units"
            )
        return self.insert_one(
            "recording_streams",
            {
                "recording_id": recording_id,
                "name": name,
                "kind": kind,
                "device": device,
                "channel_names": json.dumps(list(channel_names)),
                "units": json.dumps(list(units)),
                "sampling_rate_hz": sampling_rate_hz,
            },
            conn=conn,
        )

    def append_chunk(
        self,
        stream_id: int,
        seq: int,
        host_t_s: np.ndarray,
        device_t_s: np.ndarray,
        values: np.ndarray,
        *,
        conn: Connection | None = None,
    ) -> None:
        """Append one chunk of samples (committed when it returns unless ``conn`` is given)."""
        values = np.asarray(values, dtype=np.float64)
        if values.ndim == 1:
            values = values[:, None]
        n = values.shape[0]
        if len(host_t_s) != n or len(device_t_s) != n:
            raise DataFormatError(
                f"chunk {seq} of stream {stream_id}: {n} samples but "
                f"{len(host_t_s)} host and {len(device_t_s)} device times"
            )
        row = {
            "stream_id": stream_id,
            "seq": seq,
            "n_samples": n,
            "host_t_s": encode_matrix(np.asarray(host_t_s, dtype=np.float64)),
            "device_t_s": encode_matrix(np.asarray(device_t_s, dtype=np.float64)),
            "values": encode_matrix(values),
        }
        if conn is None:
            with self.transaction() as own:
                own.execute(TABLES["recording_chunks"].insert(), [row])
        else:
            conn.execute(TABLES["recording_chunks"].insert(), [row])

    def add_marker(
        self,
        recording_id: int,
        t_s: float,
        label: str,
        kind: str = "marker",
        *,
        conn: Connection | None = None,
    ) -> int:
        """Add a marker/lap to a recording at ``t_s`` seconds from its start."""
        return self.insert_one(
            "recording_markers",
            {"recording_id": recording_id, "t_s": float(t_s), "label": label, "kind": kind},
            conn=conn,
        )

    def finish_recording(
        self, recording_id: int, status: str = "complete", ended_at: dt.datetime | None = None
    ) -> None:
        """Mark a recording complete (or ``interrupted``)."""
        self.update(
            "recordings",
            {"recording_id": recording_id},
            {
                "status": status,
                "ended_at": ended_at or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
            },
        )

    def recordings(self, athlete_id=None, **eq) -> pd.DataFrame:
        """Recordings with their title, athlete, times and status."""
        return self.read("recordings", athlete_id=athlete_id, **eq)

    def streams(self, recording_id: int) -> pd.DataFrame:
        """Streams of a recording; ``channel_names`` and ``units`` decoded to lists."""
        df = self.read("recording_streams", recording_id=recording_id)
        for col in ("channel_names", "units"):
            df[col] = [json.loads(v) for v in df[col]]
        return df

    def read_stream(self, stream_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All samples of a stream: ``(host_t_s, device_t_s, values[n, channels])``."""
        stream = self.read("recording_streams", stream_id=stream_id)
        if stream.empty:
            raise StoreError(f"no stream {stream_id} in {self.url}")
        n_ch = len(json.loads(stream.iloc[0]["channel_names"]))
        chunks = self.read("recording_chunks", stream_id=stream_id)
        if chunks.empty:
            return np.empty(0), np.empty(0), np.empty((0, n_ch))
        host = np.concatenate([decode_matrix(b, 1)[:, 0] for b in chunks["host_t_s"]])
        dev = np.concatenate([decode_matrix(b, 1)[:, 0] for b in chunks["device_t_s"]])
        vals = np.concatenate([decode_matrix(b, n_ch) for b in chunks["values"]])
        return host, dev, vals

    def markers(self, recording_id: int) -> pd.DataFrame:
        """Markers of a recording: t_s, label, kind."""
        return self.read("recording_markers", recording_id=recording_id).sort_values(
            "t_s", ignore_index=True
        )

    # ---------------------------------------------------------------- summary
    def counts(self) -> dict[str, int]:
        """Row count of every table."""
        with self.transaction() as conn:
            return {
                name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
                for name, t in TABLES.items()
            }

    def integrity_check(self) -> str:
        """SQLite ``PRAGMA integrity_check`` result (``"ok"`` when sound); ``"n/a"`` elsewhere."""
        if self.dialect != "sqlite":
            return "n/a"
        with self.engine.connect() as conn:
            return str(conn.exec_driver_sql("PRAGMA integrity_check").scalar_one())
