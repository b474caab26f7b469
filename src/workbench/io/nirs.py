"""Readers of muscle-oxygen (NIRS) files: path in, one tidy DataFrame out.

Every reader returns a DataFrame sorted by ``t_s`` (float seconds since the first sample)
with, where the file has them:

- ``smo2_pct``, ``smo2_pct_2``, … one SmO₂ / TSI column per sensor (%),
- ``thb_g_dl``, ``thb_g_dl_2``, … total haemoglobin in g/dL (Moxy, VO2 Master, FIT),
- ``o2hb_um``, ``hhb_um``, ``thb_um`` (+ ``_2`` …) haemoglobin concentrations in µM
  (Artinis: absolute-scale changes; Train.Red: changes from the initial value),
- ``lap`` (int) and ``event`` (str label) columns.

``df.attrs`` holds ``format`` (reader name), ``sampling_rate_hz`` (nominal, from the file or
the median sample interval), ``sensors`` (one label per sensor) and ``dropped_rows``
(1-based line numbers of noise rows that were skipped, never silently: they are listed).
Values are returned as recorded; invalid codes (0, 100, …) are left for
:func:`workbench.signals.smo2.smo2_clean` to flag.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import DataFormatError
from workbench.io.quality import dead_reason

__all__ = ["read_nirs", "sniff_nirs", "NIRS_FORMATS"]

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}


def _suffix(i: int) -> str:
    return "" if i == 0 else f"_{i + 1}"


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise DataFormatError("not a text file (neither UTF-8 nor Windows-1252)", path=path)


def _finish(
    df: pd.DataFrame,
    path: Path,
    fmt: str,
    sensors: list[str],
    dropped: list[int],
    sampling_rate_hz: float | None = None,
) -> pd.DataFrame:
    if df.empty:
        raise DataFormatError(f"{fmt}: no data rows", path=path)
    _check_values(df, path, fmt)
    df = df.sort_values("t_s", kind="stable").reset_index(drop=True)
    if sampling_rate_hz is None:
        dt_s = np.diff(df["t_s"].to_numpy())
        dt_s = dt_s[dt_s > 0]
        sampling_rate_hz = float(1.0 / np.median(dt_s)) if dt_s.size else float("nan")
    if not (np.isfinite(sampling_rate_hz) and 0 < sampling_rate_hz <= 10_000):
        raise DataFormatError(
            f"{fmt}: sampling rate {sampling_rate_hz:g} Hz (from the sample times) is not in "
            "(0, 10000] Hz: the time column is wrong",
            path=path,
            field="t_s",
        )
    dead = {
        c: reason
        for c in df.columns
        if c.startswith("smo2_pct")
        and (reason := dead_reason(df[c].to_numpy(float), rails=(0.0, 100.0), min_samples=10))
    }
    df.attrs.update(
        format=fmt,
        sampling_rate_hz=sampling_rate_hz,
        sensors=sensors,
        dropped_rows=dropped,
        path=str(path),
        dead_channels={**dead, **df.attrs.get("dead_channels", {})},
        substitutions=df.attrs.get("substitutions", {}),
    )
    return df


def _check_values(df: pd.DataFrame, path: Path, fmt: str) -> None:
    """Refuse what no NIRS device records: non-finite times, inf, SmO2 outside 0-100 %."""
    t = df["t_s"].to_numpy(float)
    if not np.isfinite(t).all():
        i = int(np.flatnonzero(~np.isfinite(t))[0])
        raise DataFormatError(
            f"{fmt}: time of sample {i + 1} is {float(t[i])!r}", path=path, field="t_s"
        )
    for c in df.columns:
        if c in ("t_s", "lap", "event"):
            continue
        v = pd.to_numeric(df[c], errors="coerce").to_numpy(float)
        if np.isinf(v).any():
            i = int(np.flatnonzero(np.isinf(v))[0])
            raise DataFormatError(
                f"{fmt}: {c} of sample {i + 1} is {float(v[i])!r}: not a finite number",
                path=path,
                field=c,
            )
        if c.startswith("smo2_pct"):
            bad = np.isfinite(v) & ((v < 0) | (v > 100))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise DataFormatError(
                    f"{fmt}: SmO2 {v[i]:g} % at sample {i + 1} is outside 0-100 % "
                    f"({int(bad.sum())} such value(s))",
                    path=path,
                    field=c,
                )


def _num(text: str, *, decimal_comma: bool = False) -> float:
    text = text.strip()
    if text in ("", "NA", "NaN", "nan", "-", "--"):
        return float("nan")
    if decimal_comma and "," in text:
        # "1.234,5" (German-style): the dot groups thousands, the comma is the decimal point.
        # A field without a comma is already a plain decimal number ("57.53").
        text = text.replace(".", "").replace(",", ".")
    return float(text)


def _hms_to_s(text: str) -> float:
    """``h:mm:ss(.ff)`` or ``mm:ss`` (unpadded allowed) to seconds."""
    parts = text.strip().split(":")
    if not 2 <= len(parts) <= 3:
        raise ValueError(f"not a time of day: {text!r}")
    secs = 0.0
    for p in parts:
        secs = secs * 60 + float(p)
    return secs


# --------------------------------------------------------------------------- Moxy onboard CSV
def _moxy_day(text: str) -> int:
    """Day number (within a leap year, no year in the file) of ``06-Feb`` / ``02-06`` / ``Feb-06``."""
    a, _, b = text.strip().partition("-")
    if a.isdigit() and b.isdigit():  # mm-dd
        month, day = int(a), int(b)
    elif a.isdigit():  # dd-Mon
        month, day = _MONTHS[b[:3].lower()], int(a)
    else:  # Mon-dd
        month, day = _MONTHS[a[:3].lower()], int(b)
    return dt.date(2000, month, day).timetuple().tm_yday


def _read_moxy_csv(path: Path) -> pd.DataFrame:
    lines = _read_text(path).splitlines()
    header_i = next(
        (i for i, ln in enumerate(lines) if "hh:mm:ss" in ln.lower() and "smo2" in ln.lower()),
        None,
    )
    if header_i is None:
        raise DataFormatError("Moxy CSV: no header line with 'hh:mm:ss' and 'SmO2'", path=path)
    cols = [c.strip() for c in lines[header_i].split(",")]
    low = [c.lower() for c in cols]

    def find(pred: Callable[[str], bool]) -> int | None:
        return next((i for i, c in enumerate(low) if pred(c)), None)

    i_date = find(lambda c: c in ("mm-dd", "dd-mm", "date"))
    i_time = find(lambda c: c == "hh:mm:ss" or c == "time")
    i_smo2 = find(lambda c: c in ("smo2 live", "smo2"))
    if i_smo2 is None:
        i_smo2 = find(lambda c: c.startswith("smo2"))
    i_avg = find(lambda c: c == "smo2 averaged")
    if i_avg == i_smo2:
        i_avg = None
    i_thb = find(lambda c: c.startswith("thb"))
    i_lap = find(lambda c: c == "lap")
    if i_time is None or i_smo2 is None:
        raise DataFormatError(
            f"Moxy CSV: header {cols} lacks a time or SmO2 column", path=path, line=header_i + 1
        )
    rows: list[tuple[float, float, float, float, float]] = []
    dropped: list[int] = []
    day0: int | None = None
    prev_day = year_days = 0
    for ln_no, line in enumerate(lines[header_i + 1 :], start=header_i + 2):
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < len(cols) or not parts[i_time]:
            dropped.append(ln_no)
            continue
        try:
            t = _hms_to_s(parts[i_time])
            day = _moxy_day(parts[i_date]) if i_date is not None else 0
            smo2 = _num(parts[i_smo2])
            avg = _num(parts[i_avg]) if i_avg is not None else float("nan")
            thb = _num(parts[i_thb]) if i_thb is not None else float("nan")
            lap = _num(parts[i_lap]) if i_lap is not None else float("nan")
            if np.isinf(lap) or (np.isfinite(lap) and lap != int(lap)):
                raise ValueError(f"lap {lap!r} is not a lap number")
        except (ValueError, KeyError, OverflowError, IndexError):
            dropped.append(ln_no)  # noise row (repeated header, garbage, truncated line)
            continue
        if day0 is None:
            day0 = prev_day = day
        if day < prev_day:  # no year in the file: 31-Dec -> 01-Jan is the next day
            year_days += 366
        prev_day = day
        rows.append(((day + year_days - day0) * 86400.0 + t, smo2, thb, lap, avg))
    if not rows:
        raise DataFormatError("Moxy CSV: no parsable data rows", path=path, line=header_i + 2)
    arr = np.asarray(rows, dtype=float)
    df = pd.DataFrame({"t_s": arr[:, 0] - arr[0, 0], "smo2_pct": arr[:, 1]})
    live_dead = dead_reason(arr[:, 1], rails=(0.0, 100.0), min_samples=10)
    if live_dead and i_avg is not None and not dead_reason(arr[:, 4], rails=(0.0, 100.0)):
        # the export's alternative column carries the signal: use it, and say so
        df["smo2_pct"] = arr[:, 4]
        df.attrs["substitutions"] = {
            "smo2_pct": f"{cols[i_avg]} (as {cols[i_smo2]} is {live_dead})"
        }
        df.attrs["dead_channels"] = {cols[i_smo2]: live_dead}
    if i_thb is not None:
        df["thb_g_dl"] = arr[:, 2]
    if i_lap is not None:
        df["lap"] = pd.array(np.where(np.isnan(arr[:, 3]), -1, arr[:, 3]).astype(int))
    return _finish(df, path, "moxy_csv", ["moxy"], dropped)


# --------------------------------------------------------------------------- VO2 Master CSV
_VO2M_COL = re.compile(r"^(?P<name>[A-Za-z0-9]+)\s*(?:-\s*(?P<n>\d+))?\s*\[(?P<unit>[^\]]*)\]$")


def _read_vo2master_csv(path: Path) -> pd.DataFrame:
    text = _read_text(path)
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise DataFormatError("VO2 Master CSV: empty file", path=path) from None
    mapping: dict[int, str] = {}
    i_time = None
    sensors: set[int] = set()
    for i, col in enumerate(header):
        m = _VO2M_COL.match(col.strip())
        if not m:
            continue
        name, n, unit = m["name"].lower(), int(m["n"] or 1), m["unit"]
        if name == "time" and unit == "s":
            i_time = i
        elif name == "smo2":
            mapping[i] = f"smo2_pct{_suffix(n - 1)}"
            sensors.add(n)
        elif name == "thb":
            mapping[i] = f"thb_g_dl{_suffix(n - 1)}"
        elif name == "hr":
            mapping[i] = "hr_bpm"
    if i_time is None or not sensors:
        raise DataFormatError(
            "VO2 Master CSV: expected 'Time[s]' and 'SmO2[%]' columns", path=path, line=1
        )
    data: dict[str, list[float]] = {"t_s": [], **{v: [] for v in mapping.values()}}
    dropped: list[int] = []
    for ln_no, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            dropped.append(ln_no)
            continue
        if len(row) != len(header):
            raise DataFormatError(
                f"VO2 Master CSV: {len(row)} fields, header has {len(header)}",
                path=path,
                line=ln_no,
            )
        try:
            data["t_s"].append(_num(row[i_time], decimal_comma=True))
            for i, name in mapping.items():
                data[name].append(_num(row[i], decimal_comma=True))
        except ValueError as exc:
            raise DataFormatError(
                f"VO2 Master CSV: not a number ({exc})", path=path, line=ln_no
            ) from None
    df = pd.DataFrame(data)
    df["t_s"] -= df["t_s"].iloc[0] if len(df) else 0.0
    return _finish(df, path, "vo2master_csv", [f"sensor {n}" for n in sorted(sensors)], dropped)


# --------------------------------------------------------------------------- Train.Red CSV
def _read_trainred_csv(path: Path) -> pd.DataFrame:
    lines = _read_text(path).splitlines()
    header_i = next((i for i, ln in enumerate(lines) if ln.startswith("Timestamp")), None)
    if header_i is None:
        raise DataFormatError("Train.Red CSV: no 'Timestamp (seconds passed)' header", path=path)
    cols = next(csv.reader([lines[header_i]]))
    names = next(csv.reader([lines[header_i - 1]])) if header_i else [""] * len(cols)
    # sensors are separated by empty columns; the line above names each block's sensor
    block = -1
    mapping: dict[int, str] = {}
    sensors: list[str] = []
    i_lap = None
    seen: dict[tuple[int, str], int] = {}
    for i, col in enumerate(cols):
        c = col.strip().lower()
        if i > 0 and i < len(names) and names[i].strip():
            block += 1
            sensors.append(names[i].strip())
        if c == "lap/event":
            i_lap = i
            continue
        key = {
            "smo2 unfiltered": "smo2_pct",
            "o2hb unfiltered": "o2hb_um",
            "hhb unfiltered": "hhb_um",
            "thb unfiltered": "thb_um",
        }.get(c)
        if c == "smo2":
            seen[(block, "smo2_filtered")] = i
        if key is not None and block >= 0:
            mapping[i] = f"{key}{_suffix(block)}"
    for (b, _), i in seen.items():  # a block with only filtered SmO2
        if f"smo2_pct{_suffix(b)}" not in mapping.values():
            mapping[i] = f"smo2_pct{_suffix(b)}"
    if not any(v.startswith("smo2_pct") for v in mapping.values()):
        raise DataFormatError("Train.Red CSV: no SmO2 column", path=path, line=header_i + 1)
    body = "\n".join(lines[header_i + 1 :])
    try:
        raw = pd.read_csv(io.StringIO(body), header=None, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        msg = str(exc).strip().splitlines()[-1]
        m = re.search(r"line (\d+)", msg)
        raise DataFormatError(
            f"Train.Red CSV: malformed row ({msg})",
            path=path,
            line=header_i + 1 + int(m[1]) if m else None,
        ) from None
    if raw.shape[1] > len(cols):
        raise DataFormatError(
            f"Train.Red CSV: rows have {raw.shape[1]} fields, the header {len(cols)}",
            path=path,
            line=header_i + 2,
        )
    try:
        t = pd.to_numeric(raw[0], errors="raise")
    except ValueError as exc:
        raise DataFormatError(
            f"Train.Red CSV: bad timestamp ({exc})", path=path, field=cols[0]
        ) from None
    df = pd.DataFrame({"t_s": t.to_numpy(float) - float(t.iloc[0])})
    for i, name in mapping.items():
        df[name] = pd.to_numeric(raw[i].replace("", np.nan), errors="coerce").to_numpy(float)
    if i_lap is not None:
        lap = pd.to_numeric(raw[i_lap], errors="coerce").to_numpy(float)
        bad = np.isinf(lap) | (np.isfinite(lap) & (lap != np.round(lap)))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataFormatError(
                f"Train.Red CSV: lap {raw[i_lap].iat[i]!r} is not a lap number",
                path=path,
                line=header_i + 2 + i,
                field=cols[i_lap],
            )
        df["lap"] = np.where(np.isnan(lap), -1, lap).astype(int)
    # an unfiltered SmO2 trace that is dead: the block's filtered "SmO2" column instead
    for (b, _), i in seen.items():
        col = f"smo2_pct{_suffix(b)}"
        if col not in df or mapping.get(i) == col:
            continue
        reason = dead_reason(df[col].to_numpy(float), rails=(0.0, 100.0), min_samples=10)
        alt = pd.to_numeric(raw[i].replace("", np.nan), errors="coerce").to_numpy(float)
        if reason and not dead_reason(alt, rails=(0.0, 100.0)):
            df[col] = alt
            df.attrs.setdefault("substitutions", {})[col] = (
                f"filtered SmO2 (as SmO2 unfiltered is {reason})"
            )
            df.attrs.setdefault("dead_channels", {})[f"SmO2 unfiltered{_suffix(b)}"] = reason
    df.attrs["t0_s"] = float(t.iloc[0])
    out = _finish(df, path, "trainred_csv", sensors, [])
    out.attrs["t0_s"] = float(t.iloc[0])
    return out


# --------------------------------------------------------------------------- xlsx (PerfPro, Oxysoft)
def _read_xlsx(path: Path) -> pd.DataFrame:
    try:
        sheets = pd.read_excel(path, sheet_name=None, header=None)
    except Exception as exc:  # openpyxl raises many types on corrupt files
        raise DataFormatError(f"cannot read xlsx: {exc}", path=path) from None
    for sheet in sheets.values():
        if sheet.empty:
            continue
        first = str(sheet.iat[0, 0]).lower()
        if "oxysoft" in first:
            return _read_oxysoft(path, sheet)
        col0 = sheet.iloc[:, 0].astype(str).str.strip().str.lower()
        hits = np.flatnonzero(col0.isin(["mm-dd", "hh:mm:ss"]))
        if hits.size:
            return _read_perfpro(path, sheet, int(hits[0]))
    raise DataFormatError(
        "xlsx: neither an Oxysoft export nor a PerfPro/PeriPedal Moxy export", path=path
    )


def _read_perfpro(path: Path, sheet: pd.DataFrame, header_i: int) -> pd.DataFrame:
    cols = [str(c).strip() for c in sheet.iloc[header_i]]
    body = sheet.iloc[header_i + 1 :].reset_index(drop=True)
    low = [c.lower() for c in cols]
    if "hh:mm:ss" not in low:
        raise DataFormatError("PerfPro xlsx: no 'hh:mm:ss' column", path=path, line=header_i + 1)
    i_time = low.index("hh:mm:ss")
    t = np.full(len(body), np.nan)
    for k, v in enumerate(body.iloc[:, i_time]):
        try:
            if isinstance(v, dt.time):
                t[k] = v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6
            elif isinstance(v, (int, float)) and not pd.isna(v):
                t[k] = float(v) * 86400.0  # Excel day fraction
            else:
                t[k] = _hms_to_s(str(v))
        except ValueError:
            pass
    ok = ~np.isnan(t)
    dropped = [int(header_i + 2 + k) for k in np.flatnonzero(~ok)]
    df = pd.DataFrame({"t_s": t[ok] - t[ok][0] if ok.any() else t[ok]})
    sensors = []
    for i, c in enumerate(low):
        m = re.fullmatch(r"smo2 live(?:\((\d+)\))?", c) or re.fullmatch(r"smo2(?:\((\d+)\))?", c)
        m_thb = re.fullmatch(r"thb(?:\((\d+)\))?", c)
        if m:
            n = int(m.group(1) or 1)
            df[f"smo2_pct{_suffix(n - 1)}"] = pd.to_numeric(
                body.iloc[:, i], errors="coerce"
            ).to_numpy(float)[ok]
            sensors.append(cols[i])
        elif m_thb:
            n = int(m_thb.group(1) or 1)
            df[f"thb_g_dl{_suffix(n - 1)}"] = pd.to_numeric(
                body.iloc[:, i], errors="coerce"
            ).to_numpy(float)[ok]
        elif c == "lap":
            df["lap"] = (
                pd.to_numeric(body.iloc[:, i], errors="coerce")
                .fillna(-1)
                .astype(int)
                .to_numpy()[ok]
            )
    if not sensors:
        raise DataFormatError("PerfPro xlsx: no SmO2 column", path=path, line=header_i + 1)
    return _finish(df, path, "perfpro_xlsx", sensors, dropped)


def _read_oxysoft(path: Path, sheet: pd.DataFrame) -> pd.DataFrame:
    col0 = sheet.iloc[:, 0]
    fs = None
    legend_i = None
    for i, v in enumerate(col0):
        s = str(v).strip().lower()
        if s == "export sample rate" or (s == "data file sample rate" and fs is None):
            try:
                fs = float(sheet.iat[i, 1])
            except (TypeError, ValueError):
                pass
        if s == "legend":
            legend_i = i
    if fs is None or not fs > 0:
        raise DataFormatError("Oxysoft xlsx: no sample rate in the header", path=path)
    if legend_i is None:
        raise DataFormatError("Oxysoft xlsx: no 'Legend' block", path=path)
    traces: dict[int, str] = {}
    i = legend_i + 2
    while i < len(sheet) and not pd.isna(sheet.iat[i, 0]):
        try:
            traces[int(sheet.iat[i, 0])] = str(sheet.iat[i, 1]).strip()
        except (TypeError, ValueError):
            break
        i += 1
    while i < len(sheet) and pd.isna(sheet.iat[i, 0]):
        i += 1
    header_i = i  # the row "1 2 3 4 …"
    body = sheet.iloc[header_i + 1 :].reset_index(drop=True)
    counters: dict[str, int] = {}
    df = pd.DataFrame()
    sample = None
    event_col = None
    for num, name in traces.items():
        col = body.iloc[:, num - 1] if num - 1 < body.shape[1] else None
        if col is None:
            raise DataFormatError(
                f"Oxysoft xlsx: legend names column {num} ({name}) but the sheet has "
                f"{body.shape[1]}",
                path=path,
                line=header_i + 1,
            )
        low = name.lower()
        if "sample number" in low:
            sample = pd.to_numeric(col, errors="coerce").to_numpy(float)
            continue
        if "event" in low:
            event_col = num - 1
            continue
        for key, out in (
            ("o2hb", "o2hb_um"),
            ("hhb", "hhb_um"),
            ("thb", "thb_um"),
            ("tsi", "smo2_pct"),
        ):
            if low.endswith(key) or f" {key}" in low and "fit" not in low:
                k = counters.get(out, 0)
                counters[out] = k + 1
                df[f"{out}{_suffix(k)}"] = pd.to_numeric(col, errors="coerce").to_numpy(float)
                break
    if sample is None:
        raise DataFormatError("Oxysoft xlsx: no '(Sample number)' column", path=path)
    ok = ~np.isnan(sample)
    df = df.loc[ok].reset_index(drop=True)
    df.insert(0, "t_s", (sample[ok] - sample[ok][0]) / fs)
    if event_col is not None:
        ev = body.iloc[:, event_col].loc[ok].reset_index(drop=True)
        label = (
            body.iloc[:, event_col + 1].loc[ok].reset_index(drop=True)
            if event_col + 1 < body.shape[1]
            else pd.Series([np.nan] * len(ev))
        )
        df["event"] = [
            ""
            if pd.isna(e)
            else (f"{str(e).strip()} {str(lab).strip()}" if not pd.isna(lab) else str(e)).strip()
            for e, lab in zip(ev, label, strict=False)
        ]
    n_rx = max(counters.values(), default=1)
    return _finish(df, path, "oxysoft_xlsx", [f"Rx{k + 1}" for k in range(n_rx)], [], fs)


# --------------------------------------------------------------------------- FIT
_FIT_SMO2 = re.compile(
    r"(smo2|saturated.?h(a)?emoglobin.?percent|muscle.?ox|curr.?hemo.?perc)", re.I
)  # currHemoPerc: Train.Red / Moxy Connect IQ developer field (record, "%")
_FIT_THB = re.compile(r"(thb|total.?h(a)?emoglobin|curr.?hemo.?conc)", re.I)


def _read_fit(path: Path) -> pd.DataFrame:
    import fitdecode  # optional at import time of the package

    rows: list[dict[str, float]] = []
    try:
        with fitdecode.FitReader(str(path), check_crc=fitdecode.CrcCheck.RAISE) as reader:
            for frame in reader:
                if not isinstance(frame, fitdecode.FitDataMessage) or frame.name != "record":
                    continue
                ts = frame.get_value("timestamp", fallback=None)
                if not isinstance(ts, dt.datetime):
                    continue  # a record without a (decodable) timestamp cannot be placed
                row: dict[str, float] = {"_ts": ts.timestamp()}
                smo2 = thb = 0
                for fd in frame.fields:
                    name = str(fd.name or "")
                    if fd.value is None or name.startswith(("min_", "max_")):
                        continue
                    if not isinstance(fd.value, (int, float)):
                        continue
                    if _FIT_SMO2.search(name) and not re.search(r"(min|max|prev)", name, re.I):
                        row[f"smo2_pct{_suffix(smo2)}"] = float(fd.value)
                        smo2 += 1
                    elif _FIT_THB.search(name) and not re.search(r"(min|max|prev)", name, re.I):
                        row[f"thb_g_dl{_suffix(thb)}"] = float(fd.value)
                        thb += 1
                    elif name == "heart_rate":
                        row["hr_bpm"] = float(fd.value)
                rows.append(row)
    except fitdecode.FitError as exc:
        raise DataFormatError(f"FIT: {exc}", path=path) from None
    except (ValueError, TypeError, OverflowError, OSError, KeyError, IndexError) as exc:
        raise DataFormatError(f"FIT: unreadable ({type(exc).__name__}: {exc})", path=path) from None
    if not rows:
        raise DataFormatError("FIT: no 'record' messages with a timestamp", path=path)
    df = pd.DataFrame(rows)
    if "smo2_pct" not in df:
        raise DataFormatError(
            "FIT: no SmO2 field in 'record' messages (looked for saturated_hemoglobin_percent "
            "and developer fields named SmO2 / muscle oxygen)",
            path=path,
            field="record",
        )
    ts = df.pop("_ts").to_numpy(float)
    df.insert(0, "t_s", ts - ts[0])
    return _finish(df, path, "fit", [c for c in df.columns if c.startswith("smo2_pct")], [])


# --------------------------------------------------------------------------- dispatch
def sniff_nirs(path: str | Path, head: bytes | None = None) -> str | None:
    """The NIRS format name of ``path`` (``moxy_csv``, ``vo2master_csv``, ``trainred_csv``,
    ``perfpro_xlsx``, ``oxysoft_xlsx``, ``fit``) or ``None`` when it is not one."""
    path = Path(path)
    if head is None:
        with path.open("rb") as fh:
            head = fh.read(65536)
    suffix = path.suffix.lower()
    if suffix == ".fit" or head[8:12] == b".FIT":
        return "fit"
    if head[:2] == b"PK" or suffix == ".xlsx":
        try:
            sheets = pd.read_excel(path, sheet_name=None, header=None, nrows=12)
        except Exception:
            return None
        for sheet in sheets.values():
            if sheet.empty:
                continue
            text = " ".join(str(v).lower() for v in sheet.iloc[:, 0])
            if "oxysoft" in text:
                return "oxysoft_xlsx"
            if "mm-dd" in text or "hh:mm:ss" in text:
                return "perfpro_xlsx"
        return None
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    low = text.lower()
    if low.startswith("train.red export"):
        return "trainred_csv"
    first = low.splitlines()[0] if low else ""
    if "time[s]" in first and "smo2" in first:
        return "vo2master_csv"
    if "hh:mm:ss" in low and "smo2" in low and "," in low:
        return "moxy_csv"
    return None


NIRS_FORMATS: dict[str, Callable[[Path], pd.DataFrame]] = {
    "moxy_csv": _read_moxy_csv,
    "vo2master_csv": _read_vo2master_csv,
    "trainred_csv": _read_trainred_csv,
    "perfpro_xlsx": _read_xlsx,
    "oxysoft_xlsx": _read_xlsx,
    "fit": _read_fit,
}


def read_nirs(path: str | Path) -> pd.DataFrame:
    """Read a NIRS / SmO₂ file of any supported format.

    Parameters
    ----------
    path:
        Moxy onboard CSV, PerfPro/PeriPedal xlsx, Train.Red CSV, VO2 Master CSV, Artinis
        Oxysoft xlsx or FIT (``record`` fields and SmO₂ developer fields).

    Returns
    -------
    pandas.DataFrame
        ``t_s`` (s from the first sample) and ``smo2_pct`` [``_2`` …] (%) per sensor, plus
        ``thb_g_dl`` / ``o2hb_um`` / ``hhb_um`` / ``thb_um``, ``lap``, ``event`` and
        ``hr_bpm`` where the file has them; see the module docstring for ``attrs``.
        An Oxysoft export without a TSI trace has no ``smo2_pct`` column.

    Raises
    ------
    DataFormatError
        Unknown format, or a malformed file (names the file, line/field and reason).
    """
    path = Path(path)
    if not path.is_file():
        raise DataFormatError("no such file", path=path)
    fmt = sniff_nirs(path)
    if fmt is None:
        raise DataFormatError(
            "not a recognised NIRS file (Moxy CSV, PerfPro xlsx, Train.Red CSV, VO2 Master CSV, "
            "Oxysoft xlsx, FIT)",
            path=path,
        )
    return NIRS_FORMATS[fmt](path)
