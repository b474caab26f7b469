"""``workbench import``: recognise a file, parse it completely, write it in one transaction.

Importers live in modules of this package named ``*_formats.py``; each registers itself with
:func:`register`. An importer's ``parse`` is pure (no database): it returns table name ->
rows (DataFrames, or an iterator of DataFrame chunks for big files), under the key
``"recordings"`` a list of :class:`ImportedRecording` for sampled signals and under ``"notes"``
a list of lines for the import summary (units detected, dead channels, substitutions);
:func:`import_file` writes all of it plus an ``imports`` row in one transaction, so a corrupt
file writes nothing. A file whose sha256 is already in ``imports`` is not imported again
(:class:`AlreadyImportedError`). Daily rows already stored for the same athlete, date and
source are skipped when identical and refused, in one line, when they differ.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import pkgutil
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import DataFormatError, StoreError, UnsupportedFormatError, WorkbenchError
from workbench.store import Store


@dataclass(frozen=True)
class ImportContext:
    """What the user told the importer (athlete, unit overrides)."""

    athlete_id: str | None = None
    rr_unit: str | None = None  # "ms" | "s" to override RR unit detection
    source_label: str | None = None


@dataclass
class ImportedStream:
    """One stream of an imported recording; ``values`` is (n, channels)."""

    name: str
    kind: str
    device: str
    channel_names: list[str]
    units: list[str]
    sampling_rate_hz: float | None
    t_s: np.ndarray
    values: np.ndarray
    device_t_s: np.ndarray | None = None


@dataclass
class ImportedRecording:
    """A recording parsed from a file: streams plus markers ``(t_s, label, kind)``."""

    title: str
    started_at: dt.datetime
    streams: list[ImportedStream]
    markers: list[tuple[float, str, str]] = field(default_factory=list)
    notes: str | None = None
    flags: list[str] = field(default_factory=list)  # dead channels, substitutions (summary)


@dataclass(frozen=True)
class Importer:
    """One file format.

    ``sniff(path, head)`` says whether the file looks like this format (``head`` holds its
    first 64 KiB); ``parse(path, ctx)`` returns ``{table: DataFrame}`` or raises
    :class:`DataFormatError` naming the file, line/field and reason. Detection asks importers
    in order of ``priority`` (high first, then name): specific formats (EMG, NIRS) rank above
    generic ones (plain RR text), so detection never depends on module order.
    """

    name: str
    description: str
    sniff: Callable[[Path, bytes], bool]
    parse: Callable[[Path, ImportContext], Mapping[str, pd.DataFrame | list[ImportedRecording]]]
    priority: int = 0


_REGISTRY: dict[str, Importer] = {}
_LOADED = False


def register(importer: Importer) -> Importer:
    """Add an importer (idempotent by name)."""
    _REGISTRY[importer.name] = importer
    return importer


def importers() -> list[Importer]:
    """Every registered importer (loads the ``*_formats`` modules on first call)."""
    global _LOADED
    if not _LOADED:
        for mod in pkgutil.iter_modules(__path__):
            if mod.name.endswith("_formats"):
                importlib.import_module(f"{__name__}.{mod.name}")
        _LOADED = True
    return sorted(_REGISTRY.values(), key=lambda imp: (-imp.priority, imp.name))


def detect(path: Path) -> Importer:
    """The importer for ``path``; :class:`UnsupportedFormatError` lists the supported ones."""
    if not path.is_file():
        raise DataFormatError("no such file", path=path)
    with path.open("rb") as fh:
        head = fh.read(65536)
    if not head:
        raise DataFormatError("file is empty", path=path)
    for imp in importers():
        if imp.sniff(path, head):
            return imp
    supported = "; ".join(f"{i.name} ({i.description})" for i in importers()) or "none registered"
    raise UnsupportedFormatError(
        f"format not recognised. Supported formats: {supported}", path=path
    )


class AlreadyImportedError(DataFormatError):
    """The same file (same sha256) is already in the store; nothing was written."""


class ImportResult(dict):
    """Rows written per table (a ``dict``), plus the import summary.

    Attributes
    ----------
    format:
        Name of the importer that read the file.
    notes:
        Lines for the user: units detected, dead channels, substitutions, skipped rows.
    """

    def __init__(self, written: Mapping[str, int], fmt: str, notes: list[str]):
        super().__init__(written)
        self.format = fmt
        self.notes = notes


def file_sha256(path: Path) -> str:
    """sha256 of a file, read in 1 MiB blocks (memory does not grow with the file)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


#: Exceptions a reader bug or a hostile file can still raise: shown as one line, never a traceback
_UNEXPECTED = (
    ValueError,
    TypeError,
    OverflowError,
    ArithmeticError,
    AttributeError,
    IndexError,
    KeyError,
    LookupError,
    UnicodeError,
    struct.error,
    EOFError,
    OSError,
    MemoryError,
)


def _one_line(path: Path, imp: Importer, exc: BaseException) -> DataFormatError:
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return DataFormatError(
        f"cannot read this {imp.name} file: {type(exc).__name__}"
        + (f": {msg[:200]}" if msg else ""),
        path=path,
    )


def _chunks(rows: pd.DataFrame | Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    if isinstance(rows, pd.DataFrame):
        for start in range(0, len(rows), _WRITE_ROWS):
            yield rows.iloc[start : start + _WRITE_ROWS]
    else:
        for chunk in rows:
            yield from _chunks(chunk)


_WRITE_ROWS = 50_000
#: Tables whose rows have a natural key (no surrogate id): overlapping exports meet here
_NATURAL_KEYS = {"wellness_daily": ("athlete_id", "date", "source")}


def _new_rows(store: Store, table: str, rows: pd.DataFrame, conn, path: Path) -> pd.DataFrame:  # noqa: ANN001
    """Rows not yet stored; identical stored rows are skipped, differing ones refused."""
    key = _NATURAL_KEYS[table]
    if rows.empty:
        return rows
    dup = rows.duplicated(list(key), keep="last")
    rows = rows[~dup]
    import sqlalchemy as sa

    tbl = store._table(table)
    dates = sorted({pd.Timestamp(d).date() for d in rows["date"]})
    query = sa.select(*tbl.c).where(
        tbl.c.athlete_id.in_(sorted(set(rows["athlete_id"]))),
        tbl.c.source.in_(sorted(set(rows["source"]))),
        tbl.c.date >= dates[0],
        tbl.c.date <= dates[-1],
    )
    stored = {
        (r.athlete_id, pd.Timestamp(r.date).date(), r.source): r._mapping
        for r in conn.execute(query)
    }
    if not stored:
        return rows
    keep = []
    for rec in rows.to_dict("records"):
        k = (rec["athlete_id"], pd.Timestamp(rec["date"]).date(), rec["source"])
        old = stored.get(k)
        if old is None:
            keep.append(True)
            continue
        for col, new in rec.items():
            was = old.get(col)
            same = (
                was is None and (new is None or (isinstance(new, float) and np.isnan(new)))
            ) or (
                was is not None
                and new is not None
                and (
                    np.isclose(float(was), float(new), rtol=1e-6, atol=1e-9)
                    if isinstance(was, (int, float)) and isinstance(new, (int, float))
                    else str(pd.Timestamp(was).date() if col == "date" else was)
                    == str(pd.Timestamp(new).date() if col == "date" else new)
                )
            )
            if not same:
                raise DataFormatError(
                    f"{table} already holds {k[0]} {k[1]} from source {k[2]!r} with "
                    f"{col} = {was!r}; this file says {new!r}. Nothing was written (an "
                    "overlapping export with changed values: delete the stored days or "
                    "import under another source)",
                    path=path,
                    field=col,
                )
        keep.append(False)
    return rows[np.asarray(keep, dtype=bool)]


def import_file(store: Store, path: str | Path, ctx: ImportContext | None = None) -> ImportResult:
    """Import one file into ``store`` in a single transaction.

    Returns
    -------
    ImportResult
        Rows written per table (a ``dict``) with ``format`` and ``notes`` (the summary).

    Raises
    ------
    AlreadyImportedError
        The file's sha256 is already in ``imports`` (nothing written).
    DataFormatError
        Unknown, corrupt or implausible file, or daily rows that contradict stored ones; one
        line naming the file (nothing written).
    """
    path = Path(path)
    ctx = ctx or ImportContext()
    imp = detect(path)
    digest = file_sha256(path)
    previous = store.read("imports", sha256=digest)
    if not previous.empty:
        when = pd.Timestamp(previous["imported_at"].iloc[0])
        raise AlreadyImportedError(
            f"already imported on {when:%Y-%m-%d %H:%M} UTC as {previous['format'].iloc[0]} "
            f"(same sha256 {digest[:12]}…); nothing written",
            path=path,
        )
    try:
        tables = dict(imp.parse(path, ctx))
        notes = [str(n) for n in tables.pop("notes", [])]
        recordings = tables.pop("recordings", [])
        for rec in recordings:
            _check_recording(rec, path)
            notes.extend(rec.flags)
        written: dict[str, int] = {}
        with store.transaction() as conn:
            for table, rows in tables.items():
                n = 0
                skipped = 0
                for chunk in _chunks(rows):
                    if table in _NATURAL_KEYS:
                        fresh = _new_rows(store, table, chunk, conn, path)
                        skipped += len(chunk) - len(fresh)
                        chunk = fresh
                    n += store.write(table, chunk, conn=conn)
                written[table] = n
                if skipped:
                    notes.append(
                        f"{skipped} {table} row(s) already stored with the same values: skipped"
                    )
            for rec in recordings:
                _write_recording(store, rec, ctx, conn)
            if recordings:
                written["recordings"] = len(recordings)
            store.write(
                "imports",
                [
                    {
                        "path": str(path.resolve()),
                        "sha256": digest,
                        "format": imp.name,
                        "imported_at": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
                        "rows": sum(written.values()),
                    }
                ],
                conn=conn,
            )
    except StoreError as exc:
        first = str(exc).splitlines()[0]
        raise DataFormatError(
            f"the store refused the rows ({first[:300]}); nothing was written", path=path
        ) from None
    except WorkbenchError:
        raise
    except _UNEXPECTED as exc:
        raise _one_line(path, imp, exc) from None
    return ImportResult(written, imp.name, notes)


#: Highest sampling rate a stored stream may claim (Hz)
MAX_SAMPLING_RATE_HZ = 100_000.0


def _check_recording(rec: ImportedRecording, path: Path) -> None:
    """Refuse streams no device records: non-finite or backwards times, absurd rates, inf."""
    for s in rec.streams:
        fs = s.sampling_rate_hz
        if fs is not None and not (np.isfinite(fs) and 0 < fs <= MAX_SAMPLING_RATE_HZ):
            raise DataFormatError(
                f"stream {s.name!r}: sampling rate {fs!r} Hz is not in (0, "
                f"{MAX_SAMPLING_RATE_HZ:g}]",
                path=path,
                field="sampling_rate_hz",
            )
        t = np.asarray(s.t_s, dtype=np.float64)
        if not np.isfinite(t).all():
            raise DataFormatError(f"stream {s.name!r}: a sample time is not finite", path=path)
        if t.size > 1 and (np.diff(t) < 0).any():
            i = int(np.flatnonzero(np.diff(t) < 0)[0]) + 1
            raise DataFormatError(
                f"stream {s.name!r}: sample time goes backwards at sample {i + 1}", path=path
            )
        v = np.asarray(s.values, dtype=np.float64).reshape(len(t), -1)
        inf = np.isinf(v)
        if inf.any():
            r, c = (int(x[0]) for x in np.nonzero(inf))
            raise DataFormatError(
                f"stream {s.name!r}: value {v[r, c]!r} at sample {r + 1} is infinite",
                path=path,
                field=s.channel_names[c] if c < len(s.channel_names) else None,
            )
        if s.kind == "smo2":
            for c, name in enumerate(s.channel_names):
                if not (name.startswith("smo2") or (c < len(s.units) and s.units[c] == "%")):
                    continue
                col = v[:, c]
                bad = np.isfinite(col) & ((col < 0) | (col > 100))
                if bad.any():
                    r = int(np.flatnonzero(bad)[0])
                    raise DataFormatError(
                        f"stream {s.name!r}: SmO2 {col[r]:g} % at sample {r + 1} is outside "
                        "0-100 %",
                        path=path,
                        field=name,
                    )


_CHUNK = 65536


def _write_recording(store: Store, rec: ImportedRecording, ctx: ImportContext, conn) -> int:
    rid = store.create_recording(
        rec.title, athlete_id=ctx.athlete_id, started_at=rec.started_at, notes=rec.notes, conn=conn
    )
    for s in rec.streams:
        sid = store.add_stream(
            rid,
            s.name,
            kind=s.kind,
            device=s.device,
            channel_names=s.channel_names,
            units=s.units,
            sampling_rate_hz=s.sampling_rate_hz,
            conn=conn,
        )
        values = np.asarray(s.values, dtype=np.float64).reshape(len(s.t_s), -1)
        dev = (
            np.full(len(s.t_s), np.nan) if s.device_t_s is None else np.asarray(s.device_t_s, float)
        )
        for seq, start in enumerate(range(0, max(len(s.t_s), 1), _CHUNK)):
            sl = slice(start, start + _CHUNK)
            store.append_chunk(
                sid, seq, np.asarray(s.t_s[sl], float), dev[sl], values[sl], conn=conn
            )
    for t_s, label, kind in rec.markers:
        store.add_marker(rid, t_s, label, kind, conn=conn)
    store.update("recordings", {"recording_id": rid}, {"status": "complete"}, conn=conn)
    return rid
