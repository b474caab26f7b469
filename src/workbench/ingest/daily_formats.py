"""``workbench import`` for daily wearable exports, biomarker and performance-test CSVs."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from workbench.ingest import ImportContext, Importer, register
from workbench.ingest.hrv_formats import require_athlete
from workbench.io.daily import daily_format, iter_long, read_daily

# wellness_daily columns a daily export can fill
_WELLNESS_COLUMNS = (
    "sleep_total_min",
    "sleep_deep_min",
    "sleep_rem_min",
    "sleep_light_min",
    "sleep_awake_min",
    "bedtime",
    "resting_hr_bpm",
    "rmssd_ms",
    "daytime_stress",
    "readiness_device_0_100",
)


def _header(path: Path, head: bytes) -> list[str] | None:
    if path.suffix.lower() not in {".csv", ".txt"}:
        return None
    try:
        first = head.decode("utf-8-sig").splitlines()[0]
    except (UnicodeDecodeError, IndexError):
        return None
    sep = ";" if first.count(";") > first.count(",") else ","
    return [c.strip().strip('"') for c in first.split(sep)]


_FIT_DEF_370 = re.compile(rb"[\x40-\x4f\x60-\x6f]\x00\x00\x72\x01")  # FIT definition of msg 370


def _sniff_daily(path: Path, head: bytes) -> bool:
    if head[8:12] == b".FIT":  # Garmin wellness FIT with hrv_status_summary messages
        return _FIT_DEF_370.search(head) is not None
    if path.suffix.lower() == ".json":  # Oura JSON (v1 export or API v2 "data" lists)
        return b'"summary_date"' in head or (
            b'"day"' in head and (b'"total_sleep_duration"' in head or b'"score"' in head)
        )
    cols = _header(path, head)
    return bool(cols) and daily_format(cols) is not None


def _sniff_long(key: str):  # noqa: ANN202
    def sniff(path: Path, head: bytes) -> bool:
        cols = _header(path, head)
        low = {c.lower() for c in cols or []}
        return {"date", key, "value", "unit"} <= low

    return sniff


def _parse_daily(path: Path, ctx: ImportContext) -> dict[str, pd.DataFrame]:
    athlete = require_athlete(ctx, path)
    df = read_daily(path)
    out = pd.DataFrame({"athlete_id": athlete, "date": df["date"]})
    out["source"] = ctx.source_label or df.attrs["format"]
    if "readiness_score" in df.columns:
        df = df.rename(columns={"readiness_score": "readiness_device_0_100"})
    for c in _WELLNESS_COLUMNS:
        if c in df.columns:
            out[c] = df[c].astype(object).where(df[c].notna(), None)
    units = {
        "rmssd_ms": "ms",
        "resting_hr_bpm": "bpm",
        "sleep_total_min": "min",
        "readiness_device_0_100": "0-100",
    }
    got = ", ".join(f"{c} [{u}]" for c, u in units.items() if c in out.columns)
    span = f"{out['date'].min()} to {out['date'].max()}" if len(out) else "no dates"
    notes = [f"{len(out)} day(s) {span} as {df.attrs['format']}: {got}", *df.attrs["notes"]]
    return {"wellness_daily": out, "notes": notes}


def _parse_long(kind: str, key: str, table: str):  # noqa: ANN202
    """Chunked: rows are parsed and written chunk by chunk inside the import transaction."""

    def parse(path: Path, ctx: ImportContext) -> dict[str, object]:
        athlete = require_athlete(ctx, path)
        source = (ctx.source_label or re.sub(r"\s+", "_", path.name))[:200]

        def chunks():  # noqa: ANN202
            for df in iter_long(path, kind, key):
                df.insert(0, "athlete_id", athlete)
                df["source"] = source
                yield df

        return {table: chunks(), "notes": [f"{kind} rows: date, {key}, value in its unit"]}

    return parse


register(
    Importer(
        name="wearable_daily",
        description="daily wearable export: WHOOP cycles/sleeps, Oura CSV/JSON, HRV4Training, "
        "Elite HRV readings, Garmin FIT hrv_status_summary",
        sniff=_sniff_daily,
        parse=_parse_daily,
        priority=5,  # above the generic FIT RR importer (a wellness FIT has no RR)
    )
)
register(
    Importer(
        name="biomarkers_csv",
        description="biomarker CSV (date, marker, value, unit)",
        sniff=_sniff_long("marker"),
        parse=_parse_long("biomarker", "marker", "biomarkers"),
    )
)
register(
    Importer(
        name="performance_tests_csv",
        description="performance-test CSV (date, test, value, unit)",
        sniff=_sniff_long("test"),
        parse=_parse_long("performance-test", "test", "performance_tests"),
    )
)
