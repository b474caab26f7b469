"""Export a stored recording: CSV and Parquet (every stream), EDF+ (EMG/ECG).

Tables have the columns ``t_s`` (host time, s since recording start), ``device_t_s`` and one
column per channel (the stream's channel names, e.g. ``smo2_pct``, ``thb_g_dl``).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import DataFormatError
from workbench.store import Store

__all__ = ["export_csv", "export_edf", "export_parquet", "stream_frame"]


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def stream_frame(store: Store, stream_id: int, channel_names: list[str]) -> pd.DataFrame:
    """One stored stream as a DataFrame: ``t_s``, ``device_t_s``, one column per channel."""
    host, dev, vals = store.read_stream(stream_id)
    df = pd.DataFrame(vals, columns=channel_names)
    df.insert(0, "device_t_s", dev)
    df.insert(0, "t_s", host)
    return df


def _export(store: Store, recording_id: int, folder: str | Path, suffix: str) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    streams = store.streams(recording_id)
    if streams.empty:
        raise DataFormatError(f"recording {recording_id} has no streams to export")
    paths = []
    for row in streams.itertuples():
        df = stream_frame(store, int(row.stream_id), list(row.channel_names))
        path = folder / f"recording{recording_id}_{_safe(row.name)}.{suffix}"
        df.to_csv(path, index=False) if suffix == "csv" else df.to_parquet(path, index=False)
        paths.append(path)
    markers = store.markers(recording_id)[["t_s", "label", "kind"]]
    path = folder / f"recording{recording_id}_markers.{suffix}"
    markers.to_csv(path, index=False) if suffix == "csv" else markers.to_parquet(path, index=False)
    paths.append(path)
    return paths


def export_csv(store: Store, recording_id: int, folder: str | Path) -> list[Path]:
    """One CSV per stream plus ``…_markers.csv``; returns the paths written."""
    return _export(store, recording_id, folder, "csv")


def export_parquet(store: Store, recording_id: int, folder: str | Path) -> list[Path]:
    """One Parquet file per stream plus ``…_markers.parquet``; returns the paths written."""
    return _export(store, recording_id, folder, "parquet")


def export_edf(
    store: Store,
    recording_id: int,
    path: str | Path,
    *,
    kinds: tuple[str, ...] = ("emg", "ecg"),
    record_duration_s: float = 0.1,
) -> dict[str, int]:
    """Write the regular-rate streams of ``kinds`` as EDF+ with markers as annotations.

    Every channel becomes one EDF signal (label ``<stream>:<channel>``, physical range = data
    range). EDF stores whole data records of ``record_duration_s``: all signals are cut to the
    shortest whole number of records, and the samples dropped that way are returned per
    stream (at most one record at the end unless streams differ in length). Gaps from pauses
    are not represented (plain EDF+C).

    Returns
    -------
    dict
        Stream name -> number of samples not written.
    """
    import pyedflib

    streams = store.streams(recording_id)
    streams = streams[streams["kind"].isin(kinds) & streams["sampling_rate_hz"].notna()]
    if streams.empty:
        raise DataFormatError(
            f"recording {recording_id} has no regular-rate stream of kind {list(kinds)} for EDF"
        )
    data = []
    for row in streams.itertuples():
        fs = float(row.sampling_rate_hz)
        per_record = fs * record_duration_s
        if abs(per_record - round(per_record)) > 1e-9:
            raise DataFormatError(
                f"stream {row.name}: {fs} Hz × {record_duration_s} s is not a whole number "
                "of samples per EDF record; choose another record_duration_s"
            )
        _, _, vals = store.read_stream(int(row.stream_id))
        data.append((row, int(round(per_record)), vals))
    n_records = min(v.shape[0] // n for _, n, v in data)
    if n_records == 0:
        raise DataFormatError(f"recording {recording_id}: less than one EDF record of data")
    headers, signals, dropped = [], [], {}
    for row, n, vals in data:
        keep = n_records * n
        dropped[row.name] = int(vals.shape[0] - keep)
        for ch, (label, unit) in enumerate(zip(row.channel_names, row.units, strict=True)):
            x = vals[:keep, ch]
            lo, hi = float(np.min(x)), float(np.max(x))
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise DataFormatError(f"stream {row.name} channel {label}: non-finite samples")
            lo, hi = math.floor(lo), math.ceil(hi)  # EDF keeps 8 characters per bound
            if hi - lo < 1:
                lo, hi = lo - 1, hi + 1
            headers.append(
                {
                    "label": f"{row.name}:{label}"[:16],
                    "dimension": str(unit)[:8],
                    "sample_frequency": float(row.sampling_rate_hz),
                    "physical_min": lo,
                    "physical_max": hi,
                    "digital_min": -32768,
                    "digital_max": 32767,
                    "transducer": "",
                    "prefilter": "",
                }
            )
            signals.append(np.ascontiguousarray(x))
    writer = pyedflib.EdfWriter(str(path), len(signals), file_type=pyedflib.FILETYPE_EDFPLUS)
    try:
        with warnings.catch_warnings():  # we checked that every rate fits the record length
            warnings.simplefilter("ignore", UserWarning)
            writer.setDatarecordDuration(record_duration_s)
        writer.setSignalHeaders(headers)
        writer.writeSamples(signals)
        for m in store.markers(recording_id).itertuples():
            if 0 <= m.t_s <= n_records * record_duration_s:
                writer.writeAnnotation(float(m.t_s), -1, f"{m.kind}: {m.label}")
    finally:
        writer.close()
    return dropped
