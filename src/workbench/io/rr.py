"""RR-interval readers: FIT (``hrv`` messages, FR935 ``hr`` beat times) and RR text/CSV.

Pure: path in, raw RR intervals (ms) out; nothing is cleaned or reordered.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workbench.errors import DataFormatError

__all__ = ["RRRecording", "read_rr", "read_rr_recording", "is_fit_file"]

_RR_MIN_MS = 200.0  # 300 bpm
_RR_MAX_MS = 3000.0  # 20 bpm, plausibility bound for the median
_ELITE_NAME = re.compile(r"(\d{4}-\d{2}-\d{2}) (\d{2})-(\d{2})-(\d{2})")


@dataclass(frozen=True)
class RRRecording:
    """Raw RR intervals of one file and what the file says about them.

    Attributes
    ----------
    rr_ms:
        RR intervals in ms (float64), in recorded order, not cleaned.
    start_time:
        Start of the recording as naive UTC datetime, or None when the file has no clock.
    source_format:
        ``fit_hrv``, ``fit_hr_beats``, ``rr_text``, ``polar_rr`` or ``time_rr``.
    device:
        Device name from the file (FIT ``file_id``), else empty.
    """

    rr_ms: np.ndarray
    start_time: dt.datetime | None
    source_format: str
    device: str = ""


def is_fit_file(head: bytes) -> bool:
    """True if ``head`` (first bytes of a file) is a FIT file header."""
    return len(head) >= 12 and head[8:12] == b".FIT"


def read_rr(path: str | Path, *, unit: str | None = None) -> np.ndarray:
    """Raw RR intervals of a FIT or RR text file, in ms.

    Parameters
    ----------
    path:
        FIT file (``hrv`` messages, or FR935-style ``hr`` beat timestamps) or text/CSV with
        one RR per line, ``timestamp;rr`` (Polar apps) or ``time rr`` (Kubios/GoldenCheetah).
    unit:
        ``"ms"`` or ``"s"`` to override unit detection for text files (detection: a header
        naming the unit, else median < 10 means seconds).

    Returns
    -------
    numpy.ndarray
        float64 RR intervals (ms), in recorded order, concatenated across messages.

    Raises
    ------
    DataFormatError
        Empty, corrupt or implausible input (naming the file, line or field and the reason).
    """
    return read_rr_recording(path, unit=unit).rr_ms


def read_rr_recording(path: str | Path, *, unit: str | None = None) -> RRRecording:
    """Like :func:`read_rr`, plus start time, format and device (see :class:`RRRecording`)."""
    path = Path(path)
    if unit not in (None, "ms", "s"):
        raise DataFormatError(f"unit must be 'ms' or 's', got {unit!r}", path=path)
    if not path.is_file():
        raise DataFormatError("no such file", path=path)
    with path.open("rb") as fh:
        head = fh.read(16)
    if not head:
        raise DataFormatError("file is empty", path=path)
    if is_fit_file(head):
        rec = _read_fit(path)
    else:
        rec = _read_text(path, unit)
    _check_plausible(rec.rr_ms, path)
    return rec


# --------------------------------------------------------------------------- FIT
def _naive_utc(t: dt.datetime) -> dt.datetime:
    if t.tzinfo is not None:
        t = t.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return t


def _read_fit(path: Path) -> RRRecording:
    import fitdecode

    rr_s: list[float] = []
    beats = _BeatClock()
    start: dt.datetime | None = None
    first_ts: dt.datetime | None = None
    device = ""
    try:
        with fitdecode.FitReader(
            str(path), check_crc=fitdecode.CrcCheck.RAISE, keep_raw_chunks=False
        ) as reader:
            for frame in reader:
                if not isinstance(frame, fitdecode.FitDataMessage):
                    continue
                name = frame.name
                if name == "file_id":
                    prod = frame.get_value("garmin_product", fallback=None) or frame.get_value(
                        "product", fallback=None
                    )
                    manu = frame.get_value("manufacturer", fallback="")
                    device = " ".join(str(p) for p in (manu, prod) if p)
                elif name == "session" and start is None:
                    st = frame.get_value("start_time", fallback=None)
                    if isinstance(st, dt.datetime):
                        start = _naive_utc(st)
                elif name == "hrv":
                    val = frame.get_value("time", fallback=None)
                    vals = val if isinstance(val, tuple) else (val,)
                    rr_s.extend(float(v) for v in vals if v is not None)
                elif name == "hr":
                    beats.add(frame)
                if first_ts is None and frame.has_field("timestamp"):
                    ts = frame.get_value("timestamp", fallback=None)
                    if isinstance(ts, dt.datetime):
                        first_ts = _naive_utc(ts)
    except fitdecode.FitError as exc:
        raise DataFormatError(f"corrupt FIT file ({exc})", path=path) from None
    start = start or first_ts
    if rr_s:
        return RRRecording(np.asarray(rr_s) * 1000.0, start, "fit_hrv", device)
    if len(beats.ticks) >= 2:
        rr = np.diff(np.asarray(beats.ticks, dtype=np.float64)) * (1000.0 / 1024.0)
        if (rr <= 0).any():
            i = int(np.flatnonzero(rr <= 0)[0])
            raise DataFormatError(
                f"beat timestamps go backwards at beat {i + 1} of the 'hr' messages",
                path=path,
                field="event_timestamp",
            )
        return RRRecording(rr, start, "fit_hr_beats", device)
    raise DataFormatError(
        "FIT file has no RR data: neither 'hrv' messages nor 'hr' beat timestamps "
        "(record HRV on the watch: 'log HRV' / chest strap)",
        path=path,
    )


class _BeatClock:
    """Beat times from FIT ``hr`` messages (FR935 and similar), in 1/1024-s ticks.

    A message either carries a full ``event_timestamp`` (the anchor) or up to eight 12-bit
    ``event_timestamp_12`` values packed little-endian into 12 bytes: the low 12 bits of the
    next beat times, accumulated with roll-over (FIT SDK "compressed" timestamps).
    fitdecode's own expansion of these does not accumulate, so they are decoded here.
    """

    def __init__(self) -> None:
        self.last: int | None = None
        self.ticks: list[int] = []

    def add(self, frame) -> None:  # noqa: ANN001 - fitdecode message
        for fld in frame.fields:
            if fld.name == "event_timestamp" and isinstance(fld.raw_value, int):
                if not isinstance(fld.value, dt.datetime):  # full anchor, not an expansion
                    self.last = fld.raw_value
                    self.ticks.append(self.last)
            elif fld.name == "event_timestamp_12" and fld.raw_value is not None:
                if self.last is None:
                    continue  # no anchor yet: these beats cannot be placed
                raw = bytes(fld.raw_value)
                packed = int.from_bytes(raw, "little")
                for i in range(len(raw) * 8 // 12):
                    low = (packed >> (12 * i)) & 0xFFF
                    new = (self.last & ~0xFFF) | low
                    if new <= self.last:
                        new += 0x1000
                    self.last = new
                    self.ticks.append(new)


# --------------------------------------------------------------------------- text
_SPLIT = re.compile(r"[;,\t ]+")


def _unit_from_header(name: str) -> str | None:
    low = name.lower()
    if re.search(r"\bms\b|\[ms\]|\(ms\)|_ms\b|msec|millisec", low):
        return "ms"
    if re.search(r"\[s\]|\(s\)|_s\b|\bsec\b|seconds", low):
        return "s"
    return None


def _parse_float(tok: str) -> float | None:
    try:
        return float(tok)
    except ValueError:
        return None


def _parse_time(tok: str) -> dt.datetime | None:
    try:
        t = dt.datetime.fromisoformat(tok.replace("Z", "+00:00"))
    except ValueError:
        return None
    return _naive_utc(t)


def _read_text(path: Path, unit: str | None) -> RRRecording:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFormatError(
            f"not a text RR file (byte {exc.start} is not UTF-8)", path=path
        ) from None
    lines = [(i + 1, ln.strip()) for i, ln in enumerate(text.splitlines())]
    lines = [(i, ln) for i, ln in lines if ln and not ln.startswith("#")]
    if not lines:
        raise DataFormatError("file has no RR values", path=path)

    header_unit: str | None = None
    rr_col: int | None = None
    first_no, first = lines[0]
    first_tokens = [t for t in _SPLIT.split(first) if t]
    if any(_parse_float(t) is None and _parse_time(t) is None for t in first_tokens):
        # a header line
        names = (
            [t.strip() for t in re.split(r"[;,\t]", first)]
            if re.search(r"[;,\t]", first)
            else first_tokens
        )
        for j, name in enumerate(names):
            if re.search(r"rr|ibi|interval", name, re.IGNORECASE):
                rr_col = j
                header_unit = _unit_from_header(name)
        if rr_col is None:
            raise DataFormatError(
                f"header {first!r} names no RR column (expected a column called RR, "
                "RR-interval or IBI)",
                path=path,
                line=first_no,
            )
        lines = lines[1:]
        if not lines:
            raise DataFormatError("file has a header but no RR values", path=path)

    values = np.empty(len(lines))
    start: dt.datetime | None = None
    fmt = "rr_text"
    for k, (no, ln) in enumerate(lines):
        tokens = (
            [t for t in re.split(r"[;,\t]", ln) if t.strip()]
            if re.search(r"[;,\t]", ln)
            else [t for t in ln.split() if t]
        )
        tokens = [t.strip() for t in tokens]
        col = rr_col if rr_col is not None else len(tokens) - 1
        if col >= len(tokens):
            raise DataFormatError(
                f"expected at least {col + 1} columns, found {len(tokens)}", path=path, line=no
            )
        v = _parse_float(tokens[col])
        if v is None or not np.isfinite(v) or v <= 0:
            raise DataFormatError(
                f"RR value {tokens[col]!r} is not a positive number", path=path, line=no
            )
        values[k] = v
        if len(tokens) > 1 and k == 0:
            t0 = _parse_time(tokens[0])
            if t0 is not None:
                start, fmt = t0, "polar_rr"
            elif _parse_float(tokens[0]) is not None:
                fmt = "time_rr"
    chosen = unit or header_unit
    if chosen is None:
        chosen = "s" if np.median(values) < 10 else "ms"
    rr_ms = values * 1000.0 if chosen == "s" else values.copy()
    if start is None:
        m = _ELITE_NAME.search(path.name)  # Elite HRV names its RR files by start time
        if m:
            start = dt.datetime.fromisoformat(f"{m[1]}T{m[2]}:{m[3]}:{m[4]}")
    return RRRecording(rr_ms, start, fmt)


def _check_plausible(rr_ms: np.ndarray, path: Path) -> None:
    if rr_ms.size == 0:
        raise DataFormatError("file has no RR values", path=path)
    med = float(np.median(rr_ms))
    if not _RR_MIN_MS <= med <= _RR_MAX_MS:
        raise DataFormatError(
            f"median RR is {med:g} ms, outside {_RR_MIN_MS:g}-{_RR_MAX_MS:g} ms: wrong unit? "
            "(pass unit='ms' or unit='s')",
            path=path,
            field="rr",
        )
