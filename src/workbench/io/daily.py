"""Daily wearable exports (WHOOP, Oura, HRV4Training, generic) and biomarker/performance CSVs.

Pure readers: path in, DataFrame with the workbench's column names (units in the names) out.
Unknown columns are ignored; a missing required column, a value that is not a number or is out
of its plausible range (usually a wrong unit) raises :class:`DataFormatError` naming the file,
the line and the field.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import DataFormatError

__all__ = [
    "DAILY_COLUMNS",
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


@dataclass(frozen=True)
class _Format:
    name: str
    signature: tuple[str, ...]  # headers that identify the format (all required)
    date_cols: tuple[str, ...]  # first present one gives the date
    cols: tuple[_Col, ...]
    bedtime_col: str | None = None
    date_from_datetime: bool = False


_WHOOP = _Format(
    name="whoop_cycles",
    signature=("Cycle start time", "Recovery score %"),
    date_cols=("Wake onset", "Cycle start time"),
    date_from_datetime=True,
    bedtime_col="Sleep onset",
    cols=(
        _Col("rmssd_ms", ("Heart rate variability (ms)",)),
        _Col("resting_hr_bpm", ("Resting heart rate (bpm)",)),
        _Col("sleep_total_min", ("Asleep duration (min)",)),
        _Col("sleep_deep_min", ("Deep (SWS) duration (min)",)),
        _Col("sleep_rem_min", ("REM duration (min)",)),
        _Col("sleep_light_min", ("Light sleep duration (min)",)),
        _Col("sleep_awake_min", ("Awake duration (min)",)),
        _Col("readiness_score", ("Recovery score %",)),
    ),
)

_OURA = _Format(
    name="oura_daily",
    signature=("date", "Readiness Score"),
    date_cols=("date",),
    bedtime_col="Bedtime Start",
    cols=(
        _Col("rmssd_ms", ("Average HRV",)),
        _Col("resting_hr_bpm", ("Lowest Resting Heart Rate", "Average Resting Heart Rate")),
        _Col("sleep_total_min", ("Total Sleep Time", "Total Sleep Duration"), 1 / 60),
        _Col("sleep_deep_min", ("Deep Sleep Time", "Deep Sleep Duration"), 1 / 60),
        _Col("sleep_rem_min", ("REM Sleep Time", "REM Sleep Duration"), 1 / 60),
        _Col("sleep_light_min", ("Light Sleep Time", "Light Sleep Duration"), 1 / 60),
        _Col("sleep_awake_min", ("Awake Time",), 1 / 60),
        _Col("readiness_score", ("Readiness Score",)),
    ),
)

_HRV4T_COLS = (
    _Col("rmssd_ms", ("rMSSD",)),
    _Col("resting_hr_bpm", ("HR",)),
    _Col("sleep_total_min", ("sleep_time",), 60.0),  # hours in the app's export
    _Col("readiness_score", ("HRV4T_Recovery_Points",), 10.0),  # 0-10 points
)

_HRV4T_IOS = _Format(
    name="hrv4training_ios",
    signature=("timestamp_measurement", "rMSSD", "HRV4T_Recovery_Points"),
    date_cols=("timestamp_measurement",),
    date_from_datetime=True,
    cols=_HRV4T_COLS,
)

_HRV4T_ANDROID = _Format(
    name="hrv4training_android",
    signature=("date", "rMSSD", "HRV4T_Recovery_Points"),
    date_cols=("date",),
    cols=_HRV4T_COLS,
)

_GENERIC = _Format(
    name="workbench_daily",
    signature=("date",),
    date_cols=("date",),
    bedtime_col="bedtime",
    cols=tuple(_Col(c, (c,)) for c in DAILY_COLUMNS if c != "bedtime"),
)

_FORMATS = (_WHOOP, _HRV4T_IOS, _HRV4T_ANDROID, _OURA)


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
    first = text.splitlines()[0]
    sep = ";" if first.count(";") > first.count(",") else ","
    try:
        df = pd.read_csv(
            path,
            sep=sep,
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
            skipinitialspace=True,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        msg = str(exc).strip().splitlines()[-1]
        m = re.search(r"line (\d+)", msg)
        raise DataFormatError(
            f"malformed CSV ({msg})", path=path, line=int(m[1]) if m else None
        ) from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


def daily_format(columns: list[str] | pd.Index) -> str | None:
    """Name of the daily-export format whose signature headers are all in ``columns``."""
    cols = set(columns)
    for fmt in _FORMATS:
        if all(s in cols for s in fmt.signature):
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


def _parse_date(value: str, path: Path, line: int, field: str, from_datetime: bool) -> dt.date:
    v = value.strip()
    if not v:
        raise DataFormatError("date is empty", path=path, line=line, field=field)
    try:
        ts = pd.Timestamp(v)
    except (ValueError, TypeError):
        raise DataFormatError(
            f"{value!r} is not a date", path=path, line=line, field=field
        ) from None
    if ts is pd.NaT:
        raise DataFormatError(f"{value!r} is not a date", path=path, line=line, field=field)
    return ts.date()  # local calendar date of the row (a time part, if any, is dropped)


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


def read_daily(path: str | Path) -> pd.DataFrame:
    """Daily wearable values from a WHOOP, Oura, HRV4Training or workbench daily CSV.

    Supported: WHOOP ``physiological_cycles.csv`` (date = morning of "Wake onset"), Oura
    daily CSV (trends export; durations in s), HRV4Training exports (iOS
    ``timestamp_measurement`` and Android ``date`` variants; ``-`` = missing, ``sleep_time``
    in hours, recovery points 0–10), and a plain CSV with ``date`` and the column names of
    :data:`DAILY_COLUMNS`. Elite HRV exports RR files, read with
    :func:`workbench.io.read_rr`.

    Parameters
    ----------
    path:
        The CSV file.

    Returns
    -------
    pandas.DataFrame
        ``date`` (``datetime.date``) plus those of ``rmssd_ms``, ``resting_hr_bpm``,
        ``sleep_total_min``, ``sleep_deep_min``, ``sleep_rem_min``, ``sleep_light_min``,
        ``sleep_awake_min`` (min), ``bedtime`` ("HH:MM" local), ``daytime_stress`` (0–100)
        and ``readiness_score`` (0–100, the device's own score) that the file has; sorted by
        date, one row per date (the last reading of a day; rows without any value, such as
        WHOOP's unfinished cycle, are dropped). ``df.attrs["format"]`` names the format.

    Raises
    ------
    DataFormatError
        Unknown layout (missing required columns are named), unparseable values, or values
        outside their plausible range (wrong unit), naming file, line and field.
    """
    path = Path(path)
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
    date_col = next((c for c in fmt.date_cols if c in df.columns), None)
    out: dict[str, list] = {"date": []}
    present = [
        (c, next(n for n in c.names if n in df.columns))
        for c in fmt.cols
        if any(n in df.columns for n in c.names)
    ]
    for c, _ in present:
        out[c.out] = []
    has_bed = fmt.bedtime_col is not None and fmt.bedtime_col in df.columns
    if has_bed:
        out["bedtime"] = []
    for i, row in enumerate(df.itertuples(index=False, name=None)):
        line = i + 2
        rec = dict(zip(df.columns, row, strict=False))
        value = rec[date_col] if date_col else ""
        if not str(value).strip() and len(fmt.date_cols) > 1:
            for alt in fmt.date_cols[1:]:
                if alt in rec and str(rec[alt]).strip():
                    value = rec[alt]
                    break
        out["date"].append(
            _parse_date(str(value), path, line, date_col or "date", fmt.date_from_datetime)
        )
        for c, src in present:
            x = _number(str(rec[src]), path, line, src) * c.scale
            lo, hi = _RANGES[c.out]
            if np.isfinite(x) and not lo <= x <= hi:
                raise DataFormatError(
                    f"{rec[src]!r} gives {c.out} = {x:g}, outside {lo:g}-{hi:g}: wrong unit?",
                    path=path,
                    line=line,
                    field=src,
                )
            out[c.out].append(x)
        if has_bed:
            out["bedtime"].append(_hhmm(str(rec[fmt.bedtime_col])))
    result = pd.DataFrame(out)
    values = [c for c in result.columns if c not in ("date", "bedtime")]
    result = result[result[values].notna().any(axis=1)]  # e.g. WHOOP's unfinished cycle
    # several readings on one day (HRV4Training re-measurements): the last one counts
    result = result.drop_duplicates("date", keep="last")
    result = result.sort_values("date", kind="stable").reset_index(drop=True)
    result.attrs["format"] = fmt.name
    return result


def _read_long(path: str | Path, kind: str, key: str) -> pd.DataFrame:
    path = Path(path)
    df = _read_table(path)
    cols = {c.lower(): c for c in df.columns}
    missing = [c for c in ("date", key, "value", "unit") if c not in cols]
    if missing:
        raise DataFormatError(
            f"{kind} CSV needs columns date, {key}, value, unit; missing: {', '.join(missing)}",
            path=path,
        )
    if df.empty:
        raise DataFormatError("file has a header but no rows", path=path)
    rows = []
    for i, rec in enumerate(df.to_dict("records")):
        line = i + 2
        d = _parse_date(str(rec[cols["date"]]), path, line, cols["date"], False)
        name = str(rec[cols[key]]).strip()
        if not name:
            raise DataFormatError(f"{key} is empty", path=path, line=line, field=cols[key])
        v = _number(str(rec[cols["value"]]), path, line, cols["value"])
        if not np.isfinite(v):
            raise DataFormatError("value is missing", path=path, line=line, field=cols["value"])
        unit = str(rec[cols["unit"]]).strip()
        if not unit:
            raise DataFormatError("unit is empty", path=path, line=line, field=cols["unit"])
        rows.append({"date": d, key: name, "value": v, "unit": unit})
    return pd.DataFrame(rows)


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
