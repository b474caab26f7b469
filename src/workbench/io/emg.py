"""Readers of surface-EMG files: path in, ``(samples[n, channels], sampling_rate_hz)`` out.

Formats: OpenSignals / BITalino text (JSON header line or ``# key:= value`` lines), Myo
armband text (``ch1..ch8,label`` at ~200 Hz, no header) and CSV with a time column
(``t_s`` / ``time`` / ``timestamp``, seconds, regular sampling). Values are returned as
recorded (raw ADC counts for BITalino, int8 units for Myo, file units for CSV);
:func:`workbench.signals.emg.emg_clean` removes the ADC baseline.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import DataFormatError

__all__ = ["EmgFile", "read_emg", "read_emg_file", "sniff_emg", "MYO_SAMPLING_RATE_HZ"]

#: Nominal raw-EMG rate of the Myo armband (the file has no time column).
MYO_SAMPLING_RATE_HZ = 200.0
_TIME_NAMES = ("t_s", "time_s", "time", "timestamp", "t")


@dataclass
class EmgFile:
    """Everything a reader found: samples (n × channels), rate, channel names, labels, format."""

    samples: np.ndarray
    sampling_rate_hz: float
    channel_names: tuple[str, ...]
    format: str
    labels: np.ndarray | None = None  # per-sample label (Myo gesture), if any
    meta: dict = field(default_factory=dict)


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataFormatError("not a UTF-8 text file", path=path) from None


def _numeric_block(path: Path, lines: list[str], first_line_no: int, sep: str | None) -> np.ndarray:
    body = "\n".join(ln for ln in lines if ln.strip())
    try:
        arr = np.loadtxt(io.StringIO(body), delimiter=sep, ndmin=2)
    except ValueError as exc:
        # find the offending line for the message
        for k, ln in enumerate(lines):
            if not ln.strip():
                continue
            try:
                [float(x) for x in (ln.split(sep) if sep else ln.split()) if x.strip()]
            except ValueError:
                raise DataFormatError(
                    f"not a number in {ln.strip()[:60]!r}", path=path, line=first_line_no + k
                ) from None
        raise DataFormatError(f"ragged or non-numeric rows ({exc})", path=path) from None
    if arr.size == 0:
        raise DataFormatError("no samples after the header", path=path, line=first_line_no)
    return arr


#: Highest EMG sampling rate accepted (Hz); a header claiming more is corrupt
MAX_EMG_RATE_HZ = 100_000.0


def _check_rate(fs: object, path: Path, field_name: str) -> float:
    try:
        rate = float(fs)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DataFormatError(
            f"sampling rate {fs!r} is not a number", path=path, field=field_name
        ) from None
    if not (np.isfinite(rate) and 0 < rate <= MAX_EMG_RATE_HZ):
        raise DataFormatError(
            f"sampling rate {rate:g} Hz is not in (0, {MAX_EMG_RATE_HZ:g}]",
            path=path,
            field=field_name,
        )
    return rate


def _resolution(meta: dict) -> int | None:
    """ADC bits of the analog channels from an OpenSignals header, if stated."""
    res = meta.get("resolution")
    if isinstance(res, list) and res:
        res = res[-1]
    try:
        bits = int(float(str(res).strip()))
    except (TypeError, ValueError):
        return None
    return bits if 1 <= bits <= 24 else None


def _flag_dead(f: EmgFile, rails: tuple[float, ...]) -> EmgFile:
    """Record dead channels (all zero, constant, saturated) in ``meta["dead_channels"]``."""
    from workbench.io.quality import dead_reason

    dead = {}
    for j, name in enumerate(f.channel_names):
        reason = dead_reason(f.samples[:, j], rails=rails, min_samples=10)
        if reason:
            dead[name] = reason
    f.meta["dead_channels"] = dead
    return f


def _read_opensignals(path: Path) -> EmgFile:
    lines = _text(path).splitlines()
    header = [ln for ln in lines if ln.startswith("#")]
    n_head = len(header)
    meta: dict = {}
    fs = None
    labels: list[str] | None = None
    columns: list[str] | None = None
    for k, ln in enumerate(header, start=1):
        s = ln.lstrip("#").strip()
        if s.startswith("{"):
            try:
                hdr = json.loads(s)
            except json.JSONDecodeError as exc:
                raise DataFormatError(
                    f"OpenSignals: header JSON invalid ({exc})", path=path, line=k
                ) from None
            dev = next(iter(hdr.values())) if hdr else {}
            meta.update(dev)
            fs = dev.get("sampling rate")
            columns = list(dev.get("column", []))
            labels = list(dev.get("label", []))
        elif ":=" in s:
            key, _, value = s.partition(":=")
            key = key.strip().lower()
            meta[key] = value.strip()
            if key.startswith("sampling rate"):
                try:
                    fs = float(value)
                except ValueError:
                    raise DataFormatError(
                        "OpenSignals: bad sampling rate", path=path, line=k, field="Sampling Rate"
                    ) from None
            elif key == "labels":
                labels = [x.strip() for x in value.split(",") if x.strip()]
    if fs is None:
        raise DataFormatError(
            "OpenSignals: no sampling rate in the header", path=path, field="sampling rate"
        )
    fs = _check_rate(fs, path, "sampling rate")
    arr = _numeric_block(path, lines[n_head:], n_head + 1, None)
    if columns:  # JSON variant: keep analog channels (A1..A6)
        if arr.shape[1] != len(columns):
            raise DataFormatError(
                f"OpenSignals: {arr.shape[1]} columns, header lists {len(columns)}",
                path=path,
                line=n_head + 1,
            )
        idx = [i for i, c in enumerate(columns) if c.startswith("A")]
        names = tuple(columns[i] for i in idx)
        arr = arr[:, idx]
    else:
        names = tuple(labels or [f"ch{i + 1}" for i in range(arr.shape[1])])
        if len(names) != arr.shape[1]:
            names = tuple(f"ch{i + 1}" for i in range(arr.shape[1]))
    res = _resolution(meta)
    rails = (0.0, float(2**res - 1)) if res else ()
    if not re.search(r"emg", json.dumps(meta, default=str), re.IGNORECASE):
        meta["note"] = "the header does not name the sensor: channels read as EMG (raw ADC counts)"
    out = EmgFile(arr.astype(np.float64), fs, names, "opensignals", meta=meta)
    return _flag_dead(out, rails)


def _read_myo(path: Path) -> EmgFile:
    lines = _text(path).splitlines()
    arr = _numeric_block(path, lines, 1, ",")
    if arr.shape[1] != 9:
        raise DataFormatError(
            f"Myo text: {arr.shape[1]} columns, expected 9 (ch1..ch8,label)", path=path, line=1
        )
    emg = arr[:, :8]
    if np.any(np.abs(emg) > 128):
        bad = int(np.flatnonzero(np.any(np.abs(emg) > 128, axis=1))[0])
        raise DataFormatError("Myo text: value outside int8 range", path=path, line=bad + 1)
    out = EmgFile(
        emg,
        MYO_SAMPLING_RATE_HZ,
        tuple(f"ch{i}" for i in range(1, 9)),
        "myo",
        labels=arr[:, 8].astype(int),
        meta={"note": "nominal 200 Hz; the file has no time column"},
    )
    return _flag_dead(out, (-128.0, 127.0))


def _read_csv(path: Path) -> EmgFile:
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"EMG CSV: {exc}", path=path) from None
    low = {c.strip().lower(): c for c in df.columns}
    tcol = next((low[n] for n in _TIME_NAMES if n in low), None)
    if tcol is None:
        raise DataFormatError(f"EMG CSV: no time column (one of {_TIME_NAMES})", path=path, line=1)
    data = df.drop(columns=[tcol])
    for c in data.columns:
        if not pd.api.types.is_numeric_dtype(data[c]):
            bad = pd.to_numeric(data[c], errors="coerce").isna() & data[c].notna()
            line = int(np.flatnonzero(bad.to_numpy())[0]) + 2 if bad.any() else None
            raise DataFormatError("EMG CSV: not a number", path=path, line=line, field=str(c))
    t = pd.to_numeric(df[tcol], errors="coerce").to_numpy(float)
    if np.isnan(t).any():
        raise DataFormatError(
            "EMG CSV: bad time value",
            path=path,
            line=int(np.flatnonzero(np.isnan(t))[0]) + 2,
            field=str(tcol),
        )
    dt_s = np.diff(t)
    if dt_s.size == 0 or np.any(dt_s <= 0):
        line = int(np.flatnonzero(dt_s <= 0)[0]) + 3 if dt_s.size else 2
        raise DataFormatError("EMG CSV: time must increase", path=path, line=line, field=str(tcol))
    med = float(np.median(dt_s))
    if np.max(np.abs(dt_s - med)) > 0.5 * med:
        k = int(np.argmax(np.abs(dt_s - med)))
        raise DataFormatError(
            f"EMG CSV: irregular sampling (step {dt_s[k]:.6g} s vs median {med:.6g} s)",
            path=path,
            line=k + 3,
            field=str(tcol),
        )
    values = data.to_numpy(np.float64)
    if not np.isfinite(values).all():
        r, c = (int(x[0]) for x in np.nonzero(~np.isfinite(values)))
        raise DataFormatError(
            f"EMG CSV: {values[r, c]!r} is not a finite number",
            path=path,
            line=r + 2,
            field=str(data.columns[c]),
        )
    fs = _check_rate(1.0 / med, path, str(tcol))
    return _flag_dead(EmgFile(values, fs, tuple(map(str, data.columns)), "csv"), ())


def sniff_emg(path: str | Path, head: bytes | None = None) -> str | None:
    """``opensignals`` / ``myo`` / ``csv`` when ``path`` looks like an EMG file, else ``None``.

    A CSV counts as EMG only when a column name contains ``emg`` (or it is ``ch1``…)."""
    path = Path(path)
    if head is None:
        with path.open("rb") as fh:
            head = fh.read(65536)
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = text.splitlines()
    if not lines:
        return None
    if text.startswith("# OpenSignals") or text.startswith("# Simple Text Format"):
        hdr = "\n".join(ln for ln in lines if ln.startswith("#")).lower()
        if "emg" in hdr:
            return "opensignals"
        # a header naming another sensor (ECG, EDA, ACC, ...) is not EMG; an unlabelled
        # analog channel (label "A1", no "sensor" list) is read as EMG and said so
        if re.search(r'"sensor":\s*\[\s*"(?!emg)[a-z]', hdr) or re.search(
            r"labels:=\s*(ecg|eda|acc|eeg|resp|pzt|lux|ppg)", hdr
        ):
            return None
        return "opensignals"
    first = lines[0].strip().split(",")
    if len(first) == 9:
        try:
            vals = [int(x) for x in first]
            if all(-128 <= v <= 127 for v in vals[:8]):
                return "myo"
        except ValueError:
            pass
    low = [c.strip().lower() for c in first]
    if any(c in _TIME_NAMES for c in low) and any("emg" in c or c.startswith("ch") for c in low):
        return "csv"
    return None


def read_emg_file(path: str | Path) -> EmgFile:
    """Read an EMG file with its channel names, labels and metadata (see :class:`EmgFile`)."""
    path = Path(path)
    if not path.is_file():
        raise DataFormatError("no such file", path=path)
    fmt = sniff_emg(path)
    readers = {"opensignals": _read_opensignals, "myo": _read_myo, "csv": _read_csv}
    if fmt in readers:
        f = readers[fmt](path)
        bad = ~np.isfinite(f.samples)
        if bad.any():
            r, c = (int(x[0]) for x in np.nonzero(bad))
            raise DataFormatError(
                f"sample {r + 1} of channel {f.channel_names[c]!r} is {f.samples[r, c]!r}: "
                "not a finite number",
                path=path,
                field=f.channel_names[c],
            )
        return f
    raise DataFormatError(
        "not a recognised EMG file (OpenSignals/BITalino text, Myo text, CSV with a time "
        "column and EMG channel columns)",
        path=path,
        line=1,
    )


def read_emg(path: str | Path) -> tuple[np.ndarray, float]:
    """Read an EMG file.

    Returns
    -------
    samples : numpy.ndarray
        float64, shape (n_samples, n_channels), in file units (ADC counts / int8 / CSV units).
    sampling_rate_hz : float
        From the header (OpenSignals), nominal 200 Hz (Myo) or 1 / median step (CSV).

    Raises
    ------
    DataFormatError
        Unknown format or malformed content (file, line/field and reason).
    """
    f = read_emg_file(path)
    return f.samples, f.sampling_rate_hz
