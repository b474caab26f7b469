"""RR-interval readers: FIT (``hrv`` messages, FR935 ``hr`` beat times) and RR text/CSV.

Pure: path in, raw RR intervals (ms) out; nothing is cleaned or reordered.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workbench.errors import DataFormatError

__all__ = ["RRRecording", "read_rr", "read_rr_recording", "is_fit_file", "rr_flags"]

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
    unit:
        Unit the file's values were in (``ms`` or ``s``; FIT: as the FIT profile defines).
    flags:
        Dead-channel / plausibility flags (see :func:`rr_flags`); empty when the series
        looks like beat-to-beat data.
    notes:
        What the reader decided (unit detection, dropped intervals at clock resets).
    """

    rr_ms: np.ndarray
    start_time: dt.datetime | None
    source_format: str
    device: str = ""
    unit: str = "ms"
    flags: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


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


def read_rr_recording(
    path: str | Path, *, unit: str | None = None, max_beats: int | None = None
) -> RRRecording:
    """Like :func:`read_rr`, plus start time, format and device (see :class:`RRRecording`).

    ``max_beats``: refuse a text file with more intervals as soon as the count is passed
    (the rest of the file is not read; memory stays at ``8 * max_beats`` bytes).
    """
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
        rec = _read_text(path, unit, max_beats)
    _check_plausible(rec.rr_ms, path)
    flags = rr_flags(rec.rr_ms)
    return dataclasses.replace(rec, flags=flags) if flags else rec


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
    rr_beats = beats.intervals_ms()
    if rr_beats.size:
        notes = []
        if beats.resets:
            notes.append(
                f"beat clock restarted {beats.resets} time(s) (per-length resets, e.g. pool "
                "swims): the interval across each restart is unknown and left out"
            )
        if beats.repeats:
            notes.append(f"{beats.repeats} repeated beat time(s) (no new beat) skipped")
        if beats.gaps:
            notes.append(
                f"{beats.gaps} pause(s) without beats (> {_BeatClock.MAX_GAP_S:g} s) left out"
            )
        return RRRecording(rr_beats, start, "fit_hr_beats", device, notes=tuple(notes))
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

    Each anchor may start a new segment: when it lies before the last accumulated beat (the
    watch restarted its beat clock, as a Forerunner 945 does at each pool length) or after a
    pause longer than :attr:`MAX_GAP_S`. Intervals are taken within segments only.
    """

    MAX_GAP_S = 3.0

    def __init__(self) -> None:
        self.last: int | None = None
        self.segments: list[list[int]] = []
        self.resets = 0
        self.gaps = 0
        self.repeats = 0

    @property
    def ticks(self) -> list[int]:
        return [t for seg in self.segments for t in seg]

    def _anchor(self, raw: int) -> None:
        if self.last is None or not self.segments:
            self.segments.append([raw])
        elif raw <= self.last:
            self.resets += 1
            self.segments.append([raw])
        elif raw - self.last > self.MAX_GAP_S * 1024:
            self.gaps += 1
            self.segments.append([raw])
        else:
            self.segments[-1].append(raw)
        self.last = raw

    def add(self, frame) -> None:  # noqa: ANN001 - fitdecode message
        for fld in frame.fields:
            if fld.name == "event_timestamp" and isinstance(fld.raw_value, int):
                if not isinstance(fld.value, dt.datetime):  # full anchor, not an expansion
                    self._anchor(fld.raw_value)
            elif fld.name == "event_timestamp_12" and fld.raw_value is not None:
                if self.last is None:
                    continue  # no anchor yet: these beats cannot be placed
                raw = bytes(fld.raw_value)
                packed = int.from_bytes(raw, "little")
                for i in range(len(raw) * 8 // 12):
                    low = (packed >> (12 * i)) & 0xFFF
                    if low == self.last & 0xFFF:
                        # the same 12-bit time again: no new beat (the watch repeats the
                        # last beat time while it has none); read literally it would be a
                        # 4.000-s interval
                        self.repeats += 1
                        continue
                    new = (self.last & ~0xFFF) | low
                    if new <= self.last:
                        new += 0x1000
                    self.last = new
                    self.segments[-1].append(new)

    def intervals_ms(self) -> np.ndarray:
        parts = [
            np.diff(np.asarray(seg, dtype=np.float64)) for seg in self.segments if len(seg) > 1
        ]
        if not parts:
            return np.empty(0)
        return np.concatenate(parts) * (1000.0 / 1024.0)


# --------------------------------------------------------------------------- text
_SPLIT = re.compile(r"[;,\t ]+")
_HEAD_BYTES = 65536
_CHUNK_ROWS = 1_000_000
#: An interval longer than this is not a heartbeat interval (a gap or a corrupt value).
RR_HARD_MAX_MS = 20_000.0
#: A value below this in a millisecond file is a value in seconds (mixed units).
_MS_FLOOR = 20.0


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


def _tokens(line: str) -> list[str]:
    if re.search(r"[;,\t]", line):
        return [t.strip() for t in re.split(r"[;,\t]", line) if t.strip()]
    return [t for t in line.split() if t]


@dataclass(frozen=True)
class _Layout:
    header_line: int  # 1-based line of the header, 0 when there is none
    sep: str | None  # None: whitespace
    rr_col: int
    header_unit: str | None
    start: dt.datetime | None
    fmt: str


def _layout(path: Path, head: str) -> _Layout:
    """Header, separator and RR column from the first lines of the file."""
    if head.startswith("# OpenSignals") or head.startswith("# Simple Text Format"):
        raise DataFormatError(
            "this is an OpenSignals/BITalino raw-sample recording, not RR intervals "
            "(import it as EMG, or detect beats in the ECG first)",
            path=path,
            line=1,
        )
    lines = [(i + 1, ln.strip()) for i, ln in enumerate(head.splitlines())]
    lines = [(i, ln) for i, ln in lines if ln and not ln.startswith("#")]
    if not lines:
        raise DataFormatError("file has no RR values", path=path)
    header_line = 0
    header_unit: str | None = None
    rr_col: int | None = None
    first_no, first = lines[0]
    first_tokens = [t for t in _SPLIT.split(first) if t]
    if any(_parse_float(t) is None and _parse_time(t) is None for t in first_tokens):
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
        header_line = first_no
        lines = lines[1:]
        if not lines:
            raise DataFormatError("file has a header but no RR values", path=path)
    no, data = lines[0]
    sep = next((c for c in (";", "\t", ",") if c in data), None)
    tokens = _tokens(data)
    col = rr_col if rr_col is not None else len(tokens) - 1
    start: dt.datetime | None = None
    fmt = "rr_text"
    if len(tokens) > 1:
        t0 = _parse_time(tokens[0])
        if t0 is not None:
            start, fmt = t0, "polar_rr"
        elif _parse_float(tokens[0]) is not None:
            fmt = "time_rr"
    if col >= len(tokens):
        raise DataFormatError(
            f"expected at least {col + 1} columns, found {len(tokens)}", path=path, line=no
        )
    return _Layout(header_line, sep, col, header_unit, start, fmt)


def _too_many(path: Path, max_beats: int) -> DataFormatError:
    return DataFormatError(
        f"more than {max_beats:,} RR intervals in one file (about "
        f"{max_beats * 0.8 / 86400:.0f} days of beats): split the file",
        path=path,
    )


def _fast_values(path: Path, lay: _Layout, max_beats: int | None = None) -> np.ndarray:
    """All RR values via the C CSV parser in chunks (memory: 8 bytes per beat + one chunk)."""
    import pandas as pd

    reader = pd.read_csv(
        path,
        sep=lay.sep if lay.sep is not None else r"\s+",
        header=None,
        skiprows=lay.header_line,
        comment="#",
        skip_blank_lines=True,
        usecols=[lay.rr_col],
        dtype=np.float64,
        engine="c",
        chunksize=_CHUNK_ROWS,
        encoding="utf-8-sig",
    )
    parts: list[np.ndarray] = []
    n = 0
    with reader:
        for chunk in reader:
            parts.append(chunk.iloc[:, 0].to_numpy(np.float64, copy=True))
            n += len(chunk)
            if max_beats is not None and n > max_beats:
                raise _too_many(path, max_beats)
    return np.concatenate(parts) if parts else np.empty(0)


def _slow_values(path: Path, lay: _Layout, max_beats: int | None = None) -> np.ndarray:
    """Line-by-line parse (streaming); names the first bad line."""
    from array import array

    values = array("d")
    with path.open(encoding="utf-8-sig", newline=None) as fh:
        for no, raw in enumerate(fh, start=1):
            ln = raw.strip()
            if no <= lay.header_line or not ln or ln.startswith("#"):
                continue
            tokens = _tokens(ln)
            if lay.rr_col >= len(tokens):
                raise DataFormatError(
                    f"expected at least {lay.rr_col + 1} columns, found {len(tokens)}",
                    path=path,
                    line=no,
                )
            v = _parse_float(tokens[lay.rr_col])
            if v is None:
                raise DataFormatError(
                    f"RR value {tokens[lay.rr_col]!r} is not a number", path=path, line=no
                )
            values.append(v)
            if max_beats is not None and len(values) > max_beats:
                raise _too_many(path, max_beats)
    return np.frombuffer(values, dtype=np.float64).copy() if values else np.empty(0)


def _line_of(path: Path, lay: _Layout, index: int) -> int | None:
    """1-based file line of the ``index``-th RR value (rescans the file; error path only)."""
    k = -1
    with path.open(encoding="utf-8-sig", newline=None) as fh:
        for no, raw in enumerate(fh, start=1):
            ln = raw.strip()
            if no <= lay.header_line or not ln or ln.startswith("#"):
                continue
            k += 1
            if k == index:
                return no
    return None


def _read_text(path: Path, unit: str | None, max_beats: int | None = None) -> RRRecording:
    with path.open("rb") as fh:
        raw_head = fh.read(_HEAD_BYTES)
    try:
        head = raw_head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(raw_head) - 4:  # not just a multi-byte character cut at the end
            raise DataFormatError(
                f"not a text RR file (byte {exc.start} is not UTF-8)", path=path
            ) from None
        head = raw_head[: exc.start].decode("utf-8-sig")
    if len(raw_head) == _HEAD_BYTES:  # drop a possibly cut last line
        head = head[: max(head.rfind("\n"), head.rfind("\r"), 0)] or head
    lay = _layout(path, head)
    try:
        values = _fast_values(path, lay, max_beats)
    except DataFormatError:
        raise
    except (ValueError, UnicodeDecodeError, IndexError):
        # pandas' messages have no file line; the slow path names it (or the file is fine
        # for it, e.g. a mixed separator the C parser refuses)
        try:
            values = _slow_values(path, lay, max_beats)
        except UnicodeDecodeError as exc:
            raise DataFormatError(f"not a UTF-8 text file ({exc.reason})", path=path) from None
    if values.size == 0:
        raise DataFormatError("file has no RR values", path=path)
    bad = ~np.isfinite(values) | (values <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataFormatError(
            f"RR value {values[i]!r} is not a positive number",
            path=path,
            line=_line_of(path, lay, i),
        )
    chosen = unit or lay.header_unit
    if chosen is None:
        chosen = "s" if np.median(values) < 10 else "ms"
    # one file, one unit: a value in the other unit is refused, never averaged in
    wrong = values < _MS_FLOOR if chosen == "ms" else values >= _MS_FLOOR
    if wrong.any() and not wrong.all():  # all of them: a wrong unit, refused below
        i = int(np.flatnonzero(wrong)[0])
        other = "seconds" if chosen == "ms" else "milliseconds"
        raise DataFormatError(
            f"RR value {values[i]:g} looks like {other} while the file's RR are in {chosen} "
            f"({int(wrong.sum())} such value(s)): mixed units; fix the file",
            path=path,
            line=_line_of(path, lay, i),
        )
    rr_ms = values * 1000.0 if chosen == "s" else values
    huge = rr_ms > RR_HARD_MAX_MS
    if huge.any() and _RR_MIN_MS <= np.median(rr_ms) <= _RR_MAX_MS:  # else: wrong unit
        i = int(np.flatnonzero(huge)[0])
        raise DataFormatError(
            f"RR value {values[i]:g} {chosen} is longer than {RR_HARD_MAX_MS:g} ms: not a "
            f"heartbeat interval ({int(huge.sum())} such value(s)); the file is corrupt",
            path=path,
            line=_line_of(path, lay, i),
        )
    start = lay.start
    if start is None:
        m = _ELITE_NAME.search(path.name)  # Elite HRV names its RR files by start time
        if m:
            start = dt.datetime.fromisoformat(f"{m[1]}T{m[2]}:{m[3]}:{m[4]}")
    how = "given" if unit else ("from the header" if lay.header_unit else "detected from values")
    note = f"RR unit {chosen} ({how}; median {np.median(values):g})"
    return RRRecording(rr_ms, start, lay.fmt, unit=chosen, notes=(note,))


def rr_flags(rr_ms: np.ndarray) -> tuple[str, ...]:
    """Dead-channel and plausibility flags of an RR series (empty when it looks alive).

    ``constant``: every interval identical (a simulator, a keep-alive or an HR-derived
    series, not beat-to-beat data); ``out_of_range``: more than half of the intervals
    outside 250–2500 ms (24–240 bpm).
    """
    from workbench.io.quality import dead_reason

    reason = dead_reason(rr_ms, valid_range=(250.0, 2500.0), min_samples=10)
    return (f"dead RR channel: {reason}",) if reason else ()


def _check_plausible(rr_ms: np.ndarray, path: Path) -> None:
    if rr_ms.size == 0:
        raise DataFormatError("file has no RR values", path=path)
    if not np.isfinite(rr_ms).all() or (rr_ms <= 0).any():
        i = int(np.flatnonzero(~np.isfinite(rr_ms) | (rr_ms <= 0))[0])
        raise DataFormatError(
            f"RR interval {i + 1} is {rr_ms[i]!r}: not a positive number", path=path, field="rr"
        )
    med = float(np.median(rr_ms))
    if not _RR_MIN_MS <= med <= _RR_MAX_MS:
        raise DataFormatError(
            f"median RR is {med:g} ms, outside {_RR_MIN_MS:g}-{_RR_MAX_MS:g} ms: wrong unit? "
            "(pass unit='ms' or unit='s')",
            path=path,
            field="rr",
        )
    huge = rr_ms > RR_HARD_MAX_MS
    if huge.any():
        i = int(np.flatnonzero(huge)[0])
        raise DataFormatError(
            f"RR interval {i + 1} is {rr_ms[i]:g} ms: longer than {RR_HARD_MAX_MS:g} ms is not a "
            f"heartbeat interval ({int(huge.sum())} such value(s)); the file is corrupt or "
            "holds a recording gap",
            path=path,
            field="rr",
        )
