"""``workbench import``: recognise a file, parse it completely, write it in one transaction.

Importers live in modules of this package named ``*_formats.py``; each registers itself with
:func:`register`. An importer's ``parse`` is pure (no database): it returns table name ->
rows (DataFrames), and under the key ``"recordings"`` a list of :class:`ImportedRecording`
for sampled signals; :func:`import_file` writes all of it plus an ``imports`` row in one
transaction, so a corrupt file writes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import DataFormatError, UnsupportedFormatError
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


def import_file(store: Store, path: str | Path, ctx: ImportContext | None = None) -> dict[str, int]:
    """Import one file into ``store`` in a single transaction; returns rows written per table."""
    path = Path(path)
    ctx = ctx or ImportContext()
    imp = detect(path)
    tables = dict(imp.parse(path, ctx))
    written: dict[str, int] = {}
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    recordings = tables.pop("recordings", [])
    with store.transaction() as conn:
        for table, rows in tables.items():
            written[table] = store.write(table, rows, conn=conn)
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
    return written


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
