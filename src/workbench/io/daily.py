"""Daily wearable exports (WHOOP, Oura, HRV4Training, generic) and biomarker/performance CSVs.

Pure readers: path in, DataFrame with the workbench's column names (units in the names) out.
Unknown columns are ignored; a missing required column, a value that is not a number or is out
of its plausible range (usually a wrong unit) raises :class:`DataFormatError` naming the file,
the line and the field.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import DataFormatError

__all__ = [
    "DAILY_COLUMNS",
    "iter_long",
    "daily_format",
    "read_daily",
    "read_biomarkers",
    "read_performance_tests",
]

#: Columns :func:`read_daily` can return besides ``date`` (units in the names).
DAILY_COLUMNS: tuple[str, ...] = (
    "rmssd_ms",
    "resting_hr_bpm",
    "sleep_total_min",
    "sleep_deep_min",
    "sleep_rem_min",
    "sleep_light_min",
    "sleep_awake_min",
    "bedtime",
    "daytime_stress",
    "readiness_score",
)

# plausible ranges per output column: a value outside is refused (usually a wrong unit)
_RANGES: dict[str, tuple[float, float]] = {
    "rmssd_ms": (1.0, 400.0),
    "resting_hr_bpm": (20.0, 200.0),
    "sleep_total_min": (0.0, 1440.0),
    "sleep_deep_min": (0.0, 1440.0),
    "sleep_rem_min": (0.0, 1440.0),
    "sleep_light_min": (0.0, 1440.0),
    "sleep_awake_min": (0.0, 1440.0),
    "daytime_stress": (0.0, 100.0),
    "readiness_score": (0.0, 100.0),
}

_MISSING = {"", "-", "--", "na", "n/a", "nan", "null", "none"}


@dataclass(frozen=True)
class _Col:
    out: str
    names: tuple[str, ...]  # accepted source headers, first match wins
    scale: float = 1.0  # multiply source value by this to reach the output unit
    kind: str | None = None  # "duration" / "rmssd": unit detected from the values too


@dataclass(frozen=True)
class _Format:
    name: str
    signature: tuple[str, ...]  # headers that identify the format (all required)
    date_cols: tuple[str, ...]  # first present one gives the date
    cols: tuple[_Col, ...]
    bedtime_col: str | None = None
    date_from_datetime: bool = False
    exclude: tuple[str, ...] = ()  # headers that must be absent (tells look-alikes apart)
    row_filter: tuple[str, tuple[str, ...]] | None = None  # keep rows whose column is one of
    detect_date_order: bool = False  # year-day-month vs year-month-day from the values
    duration_unit_documented: bool = True  # False: the app's docs do not state the unit
    keep_longest: bool = False  # several rows a day: keep the longest sleep (else the last)


_WHOOP_SLEEP_COLS = (
    _Col("sleep_total_min", ("Asleep duration (min)",), kind="duration"),
    _Col("sleep_deep_min", ("Deep (SWS) duration (min)",), kind="duration"),
    _Col("sleep_rem_min", ("REM duration (min)",), kind="duration"),
    _Col("sleep_light_min", ("Light sleep duration (min)",), kind="duration"),
    _Col("sleep_awake_min", ("Awake duration (min)",), kind="duration"),
)

_WHOOP = _Format(
    name="whoop_cycles",
    signature=("Cycle start time", "Recovery score %"),
    date_cols=("Wake onset", "Cycle start time"),
    date_from_datetime=True,
    bedtime_col="Sleep onset",
    cols=(
        _Col("rmssd_ms", ("Heart rate variability (ms)",), kind="rmssd"),
        _Col("resting_hr_bpm", ("Resting heart rate (bpm)",)),
        *_WHOOP_SLEEP_COLS,
        _Col("readiness_score", ("Recovery score %",)),
    ),
)

# WHOOP sleeps.csv: one row per sleep, naps flagged in "Nap" (main sleeps only are read)
_WHOOP_SLEEPS = _Format(
    name="whoop_sleeps",
    signature=("Sleep onset", "Wake onset", "Sleep performance %", "Asleep duration (min)"),
    exclude=("Recovery score %",),
    date_cols=("Wake onset", "Cycle start time"),
    date_from_datetime=True,
    bedtime_col="Sleep onset",
    row_filter=("Nap", ("false", "", "0", "no")),
    cols=_WHOOP_SLEEP_COLS,
)

# Elite HRV web-dashboard export: one row per reading; "Type" readiness = morning reading
_ELITE = _Format(
    name="elitehrv_readings",
    signature=("Date Time Start", "Morning Readiness", "Rmssd"),
    date_cols=("Date Time Start",),
    date_from_datetime=True,
    row_filter=("Type", ("readiness",)),
    cols=(
        _Col("rmssd_ms", ("Rmssd",), kind="rmssd"),
        _Col("resting_hr_bpm", ("HR",)),
        _Col("readiness_score", ("Morning Readiness",), 10.0),  # 0-10 in the app
    ),
)

# Oura membership "App Data" export: semicolon CSVs (and the same fields in API v2 JSON)
_OURA_SLEEPMODEL = _Format(
    name="oura_sleep",
    signature=("day", "total_sleep_duration"),
    date_cols=("day",),
    bedtime_col="bedtime_start",
    keep_longest=True,
    cols=(
        _Col("rmssd_ms", ("average_hrv",), kind="rmssd"),
        _Col("resting_hr_bpm", ("lowest_heart_rate",)),
        _Col("sleep_total_min", ("total_sleep_duration",), 1 / 60, "duration"),
        _Col("sleep_deep_min", ("deep_sleep_duration",), 1 / 60, "duration"),
        _Col("sleep_rem_min", ("rem_sleep_duration",), 1 / 60, "duration"),
        _Col("sleep_light_min", ("light_sleep_duration",), 1 / 60, "duration"),
        _Col("sleep_awake_min", ("awake_time",), 1 / 60, "duration"),
        _Col("readiness_score", ("readiness.score",)),
    ),
)

_OURA_READINESS = _Format(
    name="oura_readiness",
    signature=("day", "score", "temperature_deviation"),
    date_cols=("day",),
    cols=(_Col("readiness_score", ("score",)),),
)

# Oura Cloud v1 JSON export ({"sleep": [...], "readiness": [...]}; durations in s)
_OURA_JSON_V1 = _Format(
    name="oura_json_v1",
    signature=("summary_date",),
    date_cols=("summary_date",),
    bedtime_col="bedtime_start",
    keep_longest=True,
    cols=(
        _Col("rmssd_ms", ("rmssd",), kind="rmssd"),
        _Col("resting_hr_bpm", ("hr_lowest",)),
        _Col("sleep_total_min", ("total",), 1 / 60, "duration"),
        _Col("sleep_deep_min", ("deep",), 1 / 60, "duration"),
        _Col("sleep_rem_min", ("rem",), 1 / 60, "duration"),
        _Col("sleep_light_min", ("light",), 1 / 60, "duration"),
        _Col("sleep_awake_min", ("awake",), 1 / 60, "duration"),
        _Col("readiness_score", ("readiness.score",)),
    ),
)

_OURA = _Format(
    name="oura_daily",
    signature=("date", "Readiness Score"),
    date_cols=("date",),
    bedtime_col="Bedtime Start",
    cols=(
        _Col("rmssd_ms", ("Average HRV",), kind="rmssd"),
        _Col("resting_hr_bpm", ("Lowest Resting Heart Rate", "Average Resting Heart Rate")),
        _Col("sleep_total_min", ("Total Sleep Time", "Total Sleep Duration"), 1 / 60, "duration"),
        _Col("sleep_deep_min", ("Deep Sleep Time", "Deep Sleep Duration"), 1 / 60, "duration"),
        _Col("sleep_rem_min", ("REM Sleep Time", "REM Sleep Duration"), 1 / 60, "duration"),
        _Col("sleep_light_min", ("Light Sleep Time", "Light Sleep Duration"), 1 / 60, "duration"),
        _Col("sleep_awake_min", ("Awake Time",), 1 / 60, "duration"),
        _Col("readiness_score", ("Readiness Score",)),
    ),
)

_HRV4T_COLS = (
    _Col("rmssd_ms", ("rMSSD",), kind="rmssd"),
    _Col("resting_hr_bpm", ("HR",)),
    # sleep_time: hours in the exports seen; HRV4Training's documentation does not state the
    # unit, so it is detected from the values and the summary says so
    _Col("sleep_total_min", ("sleep_time",), 60.0, "duration"),
    # Recovery Points: a log transform of rMSSD, "usually between 1 and 10" (HRV4Training);
    # x10 puts it on the 0-100 device-score scale, it is not a composite readiness score
    _Col("readiness_score", ("HRV4T_Recovery_Points",), 10.0),
)

_HRV4T_IOS = _Format(
    name="hrv4training_ios",
    signature=("timestamp_measurement", "rMSSD", "HRV4T_Recovery_Points"),
    date_cols=("timestamp_measurement",),
    date_from_datetime=True,
    cols=_HRV4T_COLS,
    duration_unit_documented=False,
)

# "date, rMSSD, HR, ..., HRV4T_Recovery_Points" (Dropbox export MyMeasurements*.csv): the
# Android file writes year-day-month dates; the order is detected from the values
_HRV4T_ANDROID = _Format(
    name="hrv4training_android",
    signature=("date", "rMSSD", "HRV4T_Recovery_Points"),
    date_cols=("date",),
    cols=_HRV4T_COLS,
    detect_date_order=True,
    duration_unit_documented=False,
)

_GENERIC = _Format(
    name="workbench_daily",
    signature=("date",),
    date_cols=("date",),
    bedtime_col="bedtime",
    cols=tuple(_Col(c, (c,)) for c in DAILY_COLUMNS if c != "bedtime"),
)

_FORMATS = (
    _WHOOP,
    _WHOOP_SLEEPS,
    _ELITE,
    _HRV4T_IOS,
    _HRV4T_ANDROID,
    _OURA,
    _OURA_SLEEPMODEL,
    _OURA_READINESS,
    _OURA_JSON_V1,
)


def _read_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataFormatError("no such file", path=path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFormatError(
            f"not a text CSV (byte {exc.start} is not UTF-8)", path=path
        ) from None
    if not text.strip():
        raise DataFormatError("file is empty", path=path)
    if text.lstrip().startswith(("{", "[")):
        return _json_table(path, text)
    first = text.splitlines()[0]
    sep = ";" if first.count(";") > first.count(",") else ","
    try:
        df = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        msg = str(exc).strip().splitlines()[-1]
        m = re.search(r"line (\d+)", msg)
        raise DataFormatError(
            f"malformed CSV ({msg})", path=path, line=int(m[1]) if m else None
        ) from None
    df.columns = [str(c).strip() for c in df.columns]
    # a trailing separator (HRV4Training Android) makes an unnamed empty column
    empty = [c for c in df.columns if c.startswith("Unnamed:") and not df[c].str.strip().any()]
    return df.drop(columns=empty)


def _json_records(obj: object) -> list[dict]:
    if isinstance(obj, dict) and isinstance(obj.get("data"), list):
        obj = obj["data"]
    if isinstance(obj, list):
        return [r for r in obj if isinstance(r, dict)]
    return []


def _json_table(path: Path, text: str) -> pd.DataFrame:
    """Oura JSON (v1 export ``{"sleep": [...], "readiness": [...]}`` or API v2 ``{"data": [...]}``
    and combinations) as a table of strings, readiness scores as ``readiness.score``."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"invalid JSON ({exc.msg})", path=path, line=exc.lineno) from None
    if isinstance(obj, dict) and "data" not in obj:
        groups = {k: _json_records(v) for k, v in obj.items()}
    else:
        groups = {"data": _json_records(obj)}
    sleep: list[dict] = []
    ready: list[dict] = []
    for key, recs in groups.items():
        if not recs:
            continue
        sample = recs[0]
        if "readiness" in key.lower() or (
            "score" in sample and not {"total", "total_sleep_duration"} & set(sample)
        ):
            ready.extend(recs)
        elif key.lower() in ("sleep", "data", "sleep_periods", "sleepmodel") or {
            "total",
            "total_sleep_duration",
        } & set(sample):
            sleep.extend(recs)
    if not sleep and not ready:
        raise DataFormatError(
            "JSON holds no Oura sleep or readiness records (expected 'sleep'/'readiness' "
            "lists or a 'data' list with 'day'/'summary_date')",
            path=path,
        )

    def frame(recs: list[dict]) -> pd.DataFrame:
        flat = [
            {
                k: ("" if v is None else str(v))
                for k, v in r.items()
                if not isinstance(v, (dict, list))
            }
            for r in recs
        ]
        return pd.DataFrame(flat, dtype=str)

    if sleep and ready:
        s, r = frame(sleep), frame(ready)
        key = "summary_date" if "summary_date" in s else "day"
        if key not in r:
            raise DataFormatError(f"readiness records lack {key!r}", path=path)
        r = r[[key, "score"]].rename(columns={"score": "readiness.score"}).drop_duplicates(key)
        out = s.merge(r, on=key, how="outer").fillna("")
    else:
        out = frame(sleep or ready)
        if not sleep and "summary_date" in out and "score" in out:
            out = out.rename(columns={"score": "readiness.score"})
    return out


def daily_format(columns: list[str] | pd.Index) -> str | None:
    """Name of the daily-export format whose signature headers are all in ``columns``."""
    cols = set(columns)
    for fmt in _FORMATS:
        if all(s in cols for s in fmt.signature) and not any(x in cols for x in fmt.exclude):
            return fmt.name
    known = set(DAILY_COLUMNS)
    if "date" in cols and cols & known:
        return _GENERIC.name
    return None


def _number(value: str, path: Path, line: int, field: str) -> float:
    v = value.strip()
    if v.lower() in _MISSING:
        return np.nan
    try:
        x = float(v.replace(",", ".")) if v.count(",") == 1 and "." not in v else float(v)
    except ValueError:
        raise DataFormatError(
            f"{value!r} is not a number", path=path, line=line, field=field
        ) from None
    if not np.isfinite(x):
        raise DataFormatError(
            f"{value!r} is not a finite number", path=path, line=line, field=field
        )
    return x


_YEARS = (1900, 2200)


def _parse_date(value: str, path: Path, line: int, field: str, from_datetime: bool) -> dt.date:
    v = value.strip()
    if not v:
        raise DataFormatError("date is empty", path=path, line=line, field=field)
    try:
        ts = pd.Timestamp(v)
        if ts is pd.NaT:
            raise ValueError
        d = ts.date()  # local calendar date of the row (a time part, if any, is dropped)
    except (ValueError, TypeError, OverflowError, NotImplementedError):
        raise DataFormatError(
            f"{value!r} is not a date", path=path, line=line, field=field
        ) from None
    if not _YEARS[0] <= d.year <= _YEARS[1]:
        raise DataFormatError(
            f"{value!r}: year {d.year} is outside {_YEARS[0]}-{_YEARS[1]}",
            path=path,
            line=line,
            field=field,
        )
    return d


_YMD = re.compile(r"^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(.*)$")


def _date_order(values: list[str]) -> tuple[str, str | None]:
    """``"ymd"`` or ``"ydm"`` for dates written ``YYYY-xx-yy``, with a note when ``ydm``.

    A middle field above 12 proves year-day-month, a last field above 12 proves
    year-month-day; when neither does (all days <= 12) the order that gives dates one day
    apart most often wins.
    """
    parts = [m.groups()[:3] for v in values if (m := _YMD.match(v))]
    if not parts:
        return "ymd", None
    mid = [int(p[1]) for p in parts]
    last = [int(p[2]) for p in parts]
    if max(mid) > 12 and max(last) <= 12:
        return "ydm", "date order year-day-month detected (a middle field is above 12)"
    if max(last) > 12 or max(mid) > 12:
        return "ymd", None

    def steps(order: str) -> int:
        ds = []
        for y, a, b in parts:
            try:
                ds.append(
                    dt.date(int(y), int(a), int(b))
                    if order == "ymd"
                    else dt.date(int(y), int(b), int(a))
                )
            except ValueError:
                return -1
        return sum(1 for x, y in zip(ds, ds[1:], strict=False) if abs((y - x).days) == 1)

    if steps("ydm") > steps("ymd"):
        return "ydm", "date order year-day-month chosen: consecutive rows are then one day apart"
    return "ymd", None


def _swap_ydm(value: str) -> str:
    m = _YMD.match(value)
    return f"{m[1]}-{m[3]}-{m[2]}{m[4]}" if m else value


def _hhmm(value: str) -> str | None:
    v = value.strip()
    if not v or v.lower() in _MISSING:
        return None
    try:
        ts = pd.Timestamp(v)
    except (ValueError, TypeError):
        m = re.fullmatch(r"(\d{1,2}):(\d{2})(:\d{2})?", v)
        return f"{int(m[1]):02d}:{m[2]}" if m else None
    return f"{ts.hour:02d}:{ts.minute:02d}"


def _detect_duration(fmt: _Format, present, arrays) -> tuple[float | None, str | None]:  # noqa: ANN001
    """Scale (to minutes) of the file's sleep durations from their values, and a note."""
    dur = [(c, src) for c, src in present if c.kind == "duration"]
    if not dur:
        return None, None
    c, src = next(((c, s) for c, s in dur if c.out == "sleep_total_min"), dur[0])
    x = arrays[src]
    x = x[np.isfinite(x) & (x > 0)]
    if x.size == 0:
        return None, None
    med = float(np.median(x))
    unit, scale = ("s", 1 / 60) if med > 1440 else ("min", 1.0) if med > 24 else ("h", 60.0)
    names = {1 / 60: "s", 1.0: "min", 60.0: "h"}
    documented = names.get(c.scale, "?")
    if not fmt.duration_unit_documented:
        return scale, (
            f"sleep durations ({src}) in {unit}: detected from the values (median {med:g}); "
            "the app does not document the unit"
        )
    if unit != documented:
        return scale, (
            f"sleep durations ({src}) look like {unit} (median {med:g}), not {documented} as "
            f"the {fmt.name} export writes them: read as {unit}"
        )
    return None, None


def _detect_ln_rmssd(src: str, x: np.ndarray) -> str | None:
    """A note when an RMSSD column holds ln(RMSSD) (values 1.5-6.5, median 2-5.5)."""
    v = x[np.isfinite(x)]
    if v.size and 1.5 <= v.min() and v.max() <= 6.5 and 2.0 <= np.median(v) <= 5.5:
        return (
            f"{src} holds ln(RMSSD) (values {v.min():g}-{v.max():g}), not ms: converted with exp()"
        )
    return None


def read_daily(path: str | Path) -> pd.DataFrame:
    """Daily wearable values from a WHOOP, Oura, HRV4Training, Elite HRV or workbench file.

    Supported: WHOOP ``physiological_cycles.csv`` (date = morning of "Wake onset") and
    ``sleeps.csv`` (main sleeps; naps left out); Oura trends CSV (durations in s), Oura
    "App Data" CSVs ``sleepmodel.csv`` / ``dailyreadiness.csv`` (semicolon-separated) and Oura
    JSON (v1 export ``{"sleep": [...], "readiness": [...]}``, API v2 ``{"data": [...]}``);
    HRV4Training exports (``timestamp_measurement`` and ``date`` variants; ``-`` = missing,
    ``sleep_time`` unit detected from the values, recovery points x10, year-day-month dates
    detected); Elite HRV dashboard export (``Type`` = readiness rows, ``Rmssd``, ``HR``,
    ``Morning Readiness`` 0-10 x10); Garmin FIT files with ``hrv_status_summary``
    messages (``rmssd_ms`` = last-night average); and a plain CSV with ``date`` and the
    column names of :data:`DAILY_COLUMNS`. Elite HRV's per-reading RR text files are read with
    :func:`workbench.io.read_rr`.

    Units are checked against the values: sleep durations in h/min/s and RMSSD as
    ln(RMSSD) are detected and converted; what was detected is listed in
    ``df.attrs["notes"]``.

    Parameters
    ----------
    path:
        The CSV or JSON file.

    Returns
    -------
    pandas.DataFrame
        ``date`` (``datetime.date``) plus those of ``rmssd_ms``, ``resting_hr_bpm``,
        ``sleep_total_min``, ``sleep_deep_min``, ``sleep_rem_min``, ``sleep_light_min``,
        ``sleep_awake_min`` (min), ``bedtime`` ("HH:MM" local), ``daytime_stress`` (0-100)
        and ``readiness_score`` (0-100, the device's own score) that the file has; sorted by
        date, one row per date (the last reading of a day, the longest sleep for Oura; rows
        without any value, such as WHOOP's unfinished cycle, are dropped).
        ``df.attrs["format"]`` names the format, ``df.attrs["notes"]`` the unit decisions.

    Raises
    ------
    DataFormatError
        Unknown layout (missing required columns are named), unparseable values, or values
        outside their plausible range (wrong unit), naming file, line and field.
    """
    path = Path(path)
    if path.is_file():
        with path.open("rb") as fh:
            if fh.read(12)[8:12] == b".FIT":
                return _read_fit_hrv_status(path)
    df = _read_table(path)
    name = daily_format(df.columns)
    if name is None:
        wanted = "; ".join(f"{f.name}: {', '.join(f.signature)}" for f in _FORMATS)
        raise DataFormatError(
            f"not a known daily export: required columns missing (found {list(df.columns)[:8]}; "
            f"expected one of {wanted}; or 'date' plus any of {', '.join(DAILY_COLUMNS)})",
            path=path,
        )
    fmt = next((f for f in _FORMATS if f.name == name), _GENERIC)
    if df.empty:
        raise DataFormatError("file has a header but no rows", path=path)
    notes: list[str] = []
    lines = np.arange(len(df)) + 2  # file line of each row (header = line 1)
    blank = (df.apply(lambda c: c.astype(str).str.strip()) == "").all(axis=1).to_numpy()
    if blank.any():  # HRV4Training writes completely empty rows
        df, lines = df[~blank].reset_index(drop=True), lines[~blank]
        if df.empty:
            raise DataFormatError("file has a header but only empty rows", path=path)
    if fmt.row_filter and fmt.row_filter[0] in df.columns:
        col, allowed = fmt.row_filter
        keep = df[col].str.strip().str.lower().isin(allowed).to_numpy()
        if (~keep).any():
            notes.append(f"{int((~keep).sum())} row(s) left out ({col} is not {allowed[0]})")
        df, lines = df[keep].reset_index(drop=True), lines[keep]
        if df.empty:
            raise DataFormatError(
                f"no rows with {col} = {allowed[0]!r} (the daily readings)", path=path, field=col
            )
    date_col = next((c for c in fmt.date_cols if c in df.columns), None)
    present = [
        (c, next(n for n in c.names if n in df.columns))
        for c in fmt.cols
        if any(n in df.columns for n in c.names)
    ]
    # dates
    raw_dates = []
    for rec in df.to_dict("records"):
        value = rec[date_col] if date_col else ""
        if not str(value).strip() and len(fmt.date_cols) > 1:
            value = next((rec[a] for a in fmt.date_cols[1:] if str(rec.get(a, "")).strip()), value)
        raw_dates.append(str(value))
    if fmt.detect_date_order:
        order, note = _date_order(raw_dates)
        if order == "ydm":
            raw_dates = [_swap_ydm(v) for v in raw_dates]
        if note:
            notes.append(note)
    dates = [
        _parse_date(v, path, int(lines[i]), date_col or "date", fmt.date_from_datetime)
        for i, v in enumerate(raw_dates)
    ]
    # numbers, then units from the values, then ranges
    arrays = {
        src: np.array(
            [_number(str(v), path, int(lines[i]), src) for i, v in enumerate(df[src])], dtype=float
        )
        for _, src in present
    }
    dur_scale, note = _detect_duration(fmt, present, arrays)
    if note:
        notes.append(note)
    out: dict[str, object] = {"date": dates}
    for c, src in present:
        x = arrays[src]
        if c.kind == "rmssd" and (note := _detect_ln_rmssd(src, x)):
            notes.append(note)
            x = np.exp(x)
        elif c.kind == "duration" and dur_scale is not None:
            x = x * dur_scale
        else:
            x = x * c.scale
        lo, hi = _RANGES[c.out]
        bad = np.isfinite(x) & ((x < lo) | (x > hi))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataFormatError(
                f"{df[src].iat[i]!r} gives {c.out} = {x[i]:g}, outside {lo:g}-{hi:g}: wrong unit?",
                path=path,
                line=int(lines[i]),
                field=src,
            )
        out[c.out] = x
    if fmt.bedtime_col is not None and fmt.bedtime_col in df.columns:
        out["bedtime"] = [_hhmm(str(v)) for v in df[fmt.bedtime_col]]
    result = pd.DataFrame(out)
    values = [c for c in result.columns if c not in ("date", "bedtime")]
    if not values:
        raise DataFormatError(
            f"{fmt.name}: none of the value columns is present "
            f"({', '.join(n for c in fmt.cols for n in c.names)})",
            path=path,
        )
    result = result[result[values].notna().any(axis=1)]  # e.g. WHOOP's unfinished cycle
    if fmt.keep_longest and "sleep_total_min" in result:
        # several sleeps a day (naps, Oura rest periods): the longest is the night
        result = result.assign(_k=result["sleep_total_min"].fillna(-1.0))
        result = result.sort_values(["date", "_k"], kind="stable").drop(columns="_k")
    # several readings on one day (HRV4Training re-measurements): the last one counts
    result = result.drop_duplicates("date", keep="last")
    result = result.sort_values("date", kind="stable").reset_index(drop=True)
    result.attrs["format"] = fmt.name
    result.attrs["notes"] = notes
    return result


#: Rows per chunk when reading long-format CSVs (memory stays flat for any file size)
LONG_CHUNK_ROWS = 200_000


def iter_long(
    path: str | Path, kind: str, key: str, *, chunk_rows: int = LONG_CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """Read a long-format CSV (``date, <key>, value, unit``) chunk by chunk.

    Yields DataFrames with ``date`` (``datetime64[ns]``), ``<key>``, ``value`` (float) and
    ``unit``; memory is bounded by ``chunk_rows`` whatever the file size. A bad row raises
    :class:`DataFormatError` naming its line and field (rows of earlier chunks may already
    have been yielded: write them inside one transaction).
    """
    path = Path(path)
    if not path.is_file():
        raise DataFormatError("no such file", path=path)
    with path.open("rb") as fh:
        head = fh.read(65536)
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:
            raise DataFormatError(
                f"not a text CSV (byte {exc.start} is not UTF-8)", path=path
            ) from None
        text = head[: exc.start].decode("utf-8-sig")
    if not text.strip():
        raise DataFormatError("file is empty", path=path)
    first = text.splitlines()[0]
    sep = ";" if first.count(";") > first.count(",") else ","
    names = [c.strip().strip('"') for c in first.split(sep)]
    cols = {c.lower(): c for c in names}
    missing = [c for c in ("date", key, "value", "unit") if c not in cols]
    if missing:
        raise DataFormatError(
            f"{kind} CSV needs columns date, {key}, value, unit; missing: {', '.join(missing)}",
            path=path,
        )
    try:
        reader = pd.read_csv(
            path,
            sep=sep,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            skip_blank_lines=False,
            encoding="utf-8-sig",
            chunksize=chunk_rows,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"malformed CSV ({exc})", path=path) from None
    start_line = 2
    n = 0
    with reader:
        while True:
            try:
                chunk = next(reader)
            except StopIteration:
                break
            except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
                msg = str(exc).strip().splitlines()[-1]
                m = re.search(r"line (\d+)", msg)
                raise DataFormatError(
                    f"malformed CSV ({msg})", path=path, line=int(m[1]) if m else None
                ) from None
            chunk.columns = [str(c).strip() for c in chunk.columns]
            lines = np.arange(len(chunk)) + start_line
            start_line += len(chunk)
            blank = (chunk.apply(lambda c: c.str.strip()) == "").all(axis=1).to_numpy()
            chunk, lines = chunk[~blank], lines[~blank]
            if chunk.empty:
                continue
            n += len(chunk)
            yield _long_chunk(chunk, lines, path, cols, key)
    if n == 0:
        raise DataFormatError("file has a header but no rows", path=path)


def _long_chunk(
    chunk: pd.DataFrame, lines: np.ndarray, path: Path, cols: dict[str, str], key: str
) -> pd.DataFrame:
    dcol, kcol, vcol, ucol = (cols[c] for c in ("date", key, "value", "unit"))
    raw_d = chunk[dcol].str.strip()
    d = pd.to_datetime(raw_d, format="%Y-%m-%d", errors="coerce")
    for i in np.flatnonzero(d.isna().to_numpy()):  # other spellings, or a real error
        d.iat[i] = pd.Timestamp(_parse_date(raw_d.iat[i], path, int(lines[i]), dcol, False))
    years = d.dt.year.to_numpy()
    bad = (years < _YEARS[0]) | (years > _YEARS[1])
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        _parse_date(raw_d.iat[i], path, int(lines[i]), dcol, False)  # raises with the reason
    name = chunk[kcol].str.strip()
    if (name == "").any():
        i = int(np.flatnonzero((name == "").to_numpy())[0])
        raise DataFormatError(f"{key} is empty", path=path, line=int(lines[i]), field=kcol)
    raw_v = chunk[vcol].str.strip()
    comma = raw_v.str.count(",").eq(1) & ~raw_v.str.contains(".", regex=False)
    v = pd.to_numeric(raw_v.where(~comma, raw_v.str.replace(",", ".")), errors="coerce")
    v = v.to_numpy(float)
    bad = ~np.isfinite(v)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        what = (
            "value is missing" if raw_v.iat[i] == "" else f"{raw_v.iat[i]!r} is not a finite number"
        )
        raise DataFormatError(what, path=path, line=int(lines[i]), field=vcol)
    unit = chunk[ucol].str.strip()
    if (unit == "").any():
        i = int(np.flatnonzero((unit == "").to_numpy())[0])
        raise DataFormatError("unit is empty", path=path, line=int(lines[i]), field=ucol)
    return pd.DataFrame(
        {"date": d.to_numpy("datetime64[ns]"), key: name.to_numpy(object), "value": v,
         "unit": unit.to_numpy(object)}
    )  # fmt: skip


def _read_fit_hrv_status(path: Path) -> pd.DataFrame:
    """Garmin ``hrv_status_summary`` messages (FIT global 370) as daily rows.

    ``rmssd_ms`` is ``last_night_average`` (the watch's overnight RMSSD average, ms);
    the date is the UTC date of the message's timestamp (written on waking).
    """
    import fitdecode

    rows: list[dict] = []
    try:
        with fitdecode.FitReader(str(path), check_crc=fitdecode.CrcCheck.RAISE) as reader:
            for frame in reader:
                if not isinstance(frame, fitdecode.FitDataMessage):
                    continue
                if frame.name != "hrv_status_summary":
                    continue
                ts = frame.get_value("timestamp", fallback=None)
                avg = frame.get_value("last_night_average", fallback=None)
                if not isinstance(ts, dt.datetime):
                    raise DataFormatError(
                        "hrv_status_summary without a timestamp", path=path, field="timestamp"
                    )
                rows.append(
                    {
                        "date": ts.date(),
                        "rmssd_ms": float(avg) if isinstance(avg, (int, float)) else np.nan,
                        "status": str(frame.get_value("status", fallback="") or ""),
                        "weekly": frame.get_value("weekly_average", fallback=None),
                    }
                )
    except fitdecode.FitError as exc:
        raise DataFormatError(f"corrupt FIT file ({exc})", path=path) from None
    if not rows:
        raise DataFormatError(
            "FIT file has no hrv_status_summary message (Garmin writes it to the HRV status "
            "file of the watch's wellness data, not to activity files)",
            path=path,
        )
    df = pd.DataFrame(rows)
    lo, hi = _RANGES["rmssd_ms"]
    bad = df["rmssd_ms"].notna() & ~df["rmssd_ms"].between(lo, hi)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataFormatError(
            f"last_night_average {df['rmssd_ms'].iat[i]:g} ms is outside {lo:g}-{hi:g}",
            path=path,
            line=i + 1,
            field="last_night_average",
        )
    notes = [
        "rmssd_ms = Garmin last_night_average (overnight RMSSD, ms); date = UTC date of the "
        "summary; status " + ", ".join(sorted(set(df["status"]) - {""}) or ["-"])
    ]
    out = df[["date", "rmssd_ms"]].dropna().drop_duplicates("date", keep="last")
    out = out.sort_values("date", kind="stable").reset_index(drop=True)
    out.attrs["format"] = "garmin_hrv_status"
    out.attrs["notes"] = notes
    return out


def _read_long(path: str | Path, kind: str, key: str) -> pd.DataFrame:
    parts = list(iter_long(path, kind, key))
    df = pd.concat(parts, ignore_index=True)
    df["date"] = [t.date() for t in df["date"]]
    return df


def read_biomarkers(path: str | Path) -> pd.DataFrame:
    """Biomarker CSV (``date, marker, value, unit``; extra columns ignored).

    Returns
    -------
    pandas.DataFrame
        ``date`` (``datetime.date``), ``marker`` (e.g. ``cortisol``, ``creatine_kinase``),
        ``value`` (float, in ``unit``), ``unit`` (as written, e.g. ``nmol/L``, ``U/L``).
    """
    return _read_long(path, "biomarker", "marker")


def read_performance_tests(path: str | Path) -> pd.DataFrame:
    """Performance-test CSV (``date, test, value, unit``; extra columns ignored).

    Returns
    -------
    pandas.DataFrame
        ``date`` (``datetime.date``), ``test`` (e.g. ``cmj_height``), ``value`` (float, in
        ``unit``), ``unit`` (e.g. ``cm``).
    """
    return _read_long(path, "performance-test", "test")
