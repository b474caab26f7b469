"""``workbench import`` for EMG files: one recording with one ``emg`` stream.

Formats are those of :func:`workbench.io.emg.read_emg_file`. Sample times are
``index / sampling_rate_hz``; Myo gesture labels become ``label`` markers at each change.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from workbench.ingest import ImportContext, ImportedRecording, ImportedStream, Importer, register
from workbench.io.emg import EmgFile, read_emg_file, sniff_emg

_UNITS = {"opensignals": "adc", "myo": "int8", "csv": "file units"}


def emg_recording(f: EmgFile, path: Path) -> ImportedRecording:
    """Map an :class:`EmgFile` to an :class:`ImportedRecording` (pure)."""
    n = f.samples.shape[0]
    t = np.arange(n) / f.sampling_rate_hz
    markers: list[tuple[float, str, str]] = []
    if f.labels is not None:
        for i in np.r_[0, np.flatnonzero(np.diff(f.labels) != 0) + 1]:
            markers.append((float(t[i]), f"label {int(f.labels[i])}", "label"))
    mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc).replace(tzinfo=None)
    stream = ImportedStream(
        name="emg", kind="emg", device=f"file:{f.format}", channel_names=list(f.channel_names),
        units=[_UNITS.get(f.format, "")] * len(f.channel_names),
        sampling_rate_hz=f.sampling_rate_hz, t_s=t, values=f.samples,
    )  # fmt: skip
    notes = (
        f"imported from {path.name} (format {f.format}, {f.sampling_rate_hz:g} Hz); "
        "start time from the file's modification time"
    )
    flags = [
        f"{f.samples.shape[0]} samples x {len(f.channel_names)} channel(s) at "
        f"{f.sampling_rate_hz:g} Hz, units {_UNITS.get(f.format, '')} (format {f.format})"
    ]
    if f.meta.get("note"):
        flags.append(str(f.meta["note"]))
    for name, reason in f.meta.get("dead_channels", {}).items():
        flags.append(f"dead EMG channel {name}: {reason}")
    if f.meta.get("dead_channels"):
        notes += f"; dead channels: {f.meta['dead_channels']}"
    return ImportedRecording(title=f"EMG {path.stem}", started_at=mtime, streams=[stream],
                             markers=markers, notes=notes, flags=flags)  # fmt: skip


def _parse(path: Path, ctx: ImportContext) -> dict[str, list[ImportedRecording]]:
    return {"recordings": [emg_recording(read_emg_file(path), path)]}


register(
    Importer(
        name="emg",
        description="EMG: OpenSignals/BITalino text, Myo text (ch1..ch8,label), CSV with time",
        sniff=lambda path, head: sniff_emg(path, head) is not None,
        parse=_parse,
        priority=10,
    )
)
