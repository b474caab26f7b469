"""``workbench import`` for NIRS / SmO₂ files: one recording with one ``smo2`` stream.

Formats are those of :func:`workbench.io.read_nirs`. Laps become ``lap`` markers (at each
lap change) and Oxysoft events ``event`` markers. The recording's notes name the source
format and file; files without a year (Moxy onboard) take it from the file's mtime and say so.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.ingest import ImportContext, ImportedRecording, ImportedStream, Importer, register
from workbench.io.nirs import read_nirs, sniff_nirs

_UNITS = {"smo2_pct": "%", "thb_g_dl": "g/dL", "o2hb_um": "uM", "hhb_um": "uM",
          "thb_um": "uM", "hr_bpm": "bpm"}  # fmt: skip


def _unit(col: str) -> str:
    base = col.rsplit("_", 1)[0] if col[-1].isdigit() else col
    return _UNITS.get(base, "")


def nirs_recording(df: pd.DataFrame, path: Path) -> ImportedRecording:
    """Map a :func:`read_nirs` frame to an :class:`ImportedRecording` (pure)."""
    fmt = df.attrs.get("format", "nirs")
    chans = [c for c in df.columns if c not in ("t_s", "lap", "event")]
    mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc).replace(tzinfo=None)
    markers: list[tuple[float, str, str]] = []
    t = df["t_s"].to_numpy(float)
    if "lap" in df:
        lap = df["lap"].to_numpy()
        for i in np.flatnonzero(np.diff(lap) != 0) + 1:
            markers.append((float(t[i]), f"lap {lap[i]}", "lap"))
    if "event" in df:
        for i in np.flatnonzero(df["event"].astype(str).str.len().to_numpy() > 0):
            markers.append((float(t[i]), str(df["event"].iat[i]), "event"))
    dropped = df.attrs.get("dropped_rows", [])
    notes = (
        f"imported from {path.name} (format {fmt}, sensors {df.attrs.get('sensors')}); "
        f"start time from the file's modification time (the export carries no full date)"
        + (f"; {len(dropped)} noise row(s) skipped: lines {dropped[:20]}" if dropped else "")
    )
    stream = ImportedStream(
        name="smo2", kind="smo2", device=f"file:{fmt}", channel_names=chans,
        units=[_unit(c) for c in chans], sampling_rate_hz=df.attrs.get("sampling_rate_hz"),
        t_s=t, values=df[chans].to_numpy(np.float64),
    )  # fmt: skip
    fs = df.attrs.get("sampling_rate_hz")
    flags = [
        f"{len(df)} samples at {fs:g} Hz, channels "
        + ", ".join(f"{c} [{_unit(c)}]" for c in chans)
        + f" (format {fmt})"
    ]
    for col, src in df.attrs.get("substitutions", {}).items():
        flags.append(f"{col} read from {src}")
        notes += f"; {col} read from {src}"
    for col, reason in df.attrs.get("dead_channels", {}).items():
        flags.append(f"dead SmO2 channel {col}: {reason}")
        notes += f"; dead channel {col}: {reason}"
    if dropped:
        flags.append(f"{len(dropped)} noise row(s) skipped: lines {dropped[:10]}")
    return ImportedRecording(title=f"NIRS {path.stem}", started_at=mtime, streams=[stream],
                             markers=markers, notes=notes, flags=flags)  # fmt: skip


def _sniff(path: Path, head: bytes) -> bool:
    fmt = sniff_nirs(path, head)
    if fmt == "fit":  # only FIT files that name an SmO2 field
        return any(
            k in head for k in (b"SmO2", b"smo2", b"SMO2", b"Saturated", b"HemoPerc", b"hemoPerc")
        )
    return fmt is not None


def _parse(path: Path, ctx: ImportContext) -> dict[str, list[ImportedRecording]]:
    return {"recordings": [nirs_recording(read_nirs(path), path)]}


register(
    Importer(
        name="nirs",
        description="NIRS/SmO2: Moxy CSV, PerfPro xlsx, Train.Red CSV, VO2 Master CSV, "
        "Oxysoft xlsx, FIT with SmO2 fields",
        sniff=_sniff,
        parse=_parse,
        priority=10,
    )
)
