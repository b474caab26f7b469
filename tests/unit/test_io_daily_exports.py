"""Daily exports as the apps write them (layouts from real exports / their parsers; see
tests/data/daily/README.md for each fixture's source) and unit detection from the values."""

from __future__ import annotations

import datetime as dt
import struct
from pathlib import Path

import numpy as np
import pytest

from fit_builder import fit_file
from workbench.errors import DataFormatError
from workbench.io import read_biomarkers, read_daily
from workbench.io.daily import iter_long

DAILY = Path(__file__).resolve().parents[1] / "data" / "daily"


def _dates(df) -> list[str]:  # noqa: ANN001
    return [str(d) for d in df["date"]]


def test_elite_hrv_dashboard_readings():
    df = read_daily(DAILY / "elitehrv_readings_layout.csv")
    assert df.attrs["format"] == "elitehrv_readings"
    assert _dates(df) == ["2024-04-01", "2024-04-02", "2024-04-03"]  # the 'open' reading left out
    assert df["rmssd_ms"].tolist() == [72.4, 52.9, 64.1]
    assert df["resting_hr_bpm"].tolist() == [52.0, 56.0, 54.0]
    assert df["readiness_score"].tolist() == [70.0, 50.0, 60.0]  # Morning Readiness 0-10
    assert any("Type is not readiness" in n for n in df.attrs["notes"])


def test_hrv4training_dropbox_layout_cr_only_and_spaced_headers():
    raw = (DAILY / "hrv4training_dropbox_layout.csv").read_bytes()
    assert b"\n" not in raw and b"\r" in raw  # bare CR line endings, as the real export
    df = read_daily(DAILY / "hrv4training_dropbox_layout.csv")
    assert _dates(df) == ["2024-05-02", "2024-05-03", "2024-05-04"]  # '-' day dropped
    assert df["rmssd_ms"].tolist() == [41.2, 35.8, 22.4]
    assert df["readiness_score"].tolist() == pytest.approx([76.2, 74.1, 68.5])


def test_hrv4training_android_year_day_month_and_sleep_time_hours():
    df = read_daily(DAILY / "hrv4training_android_ydm_layout.csv")
    assert _dates(df) == ["2024-02-28", "2024-02-29", "2024-03-01", "2024-03-02"]
    assert df["sleep_total_min"].tolist() == [435.0, 390.0, 480.0, 345.0]
    notes = " ".join(df.attrs["notes"])
    assert "year-day-month" in notes and "in h: detected from the values" in notes


def test_hrv4training_ambiguous_date_order_uses_consecutive_days(tmp_path):
    f = tmp_path / "h4t.csv"
    rows = [f"2024-0{d}-03,{60 + d},52,7.{d}" for d in range(1, 8)]  # 1..7 March as y-d-m
    f.write_text("date,rMSSD,HR,HRV4T_Recovery_Points\n" + "\n".join(rows) + "\n")
    df = read_daily(f)
    assert _dates(df)[:2] == ["2024-03-01", "2024-03-02"]
    assert "consecutive rows" in " ".join(df.attrs["notes"])


def test_whoop_sleeps_main_sleep_only():
    df = read_daily(DAILY / "whoop_sleeps.csv")
    assert df.attrs["format"] == "whoop_sleeps"
    assert _dates(df) == ["2026-09-05", "2026-09-06"]
    assert df["sleep_total_min"].tolist() == [444.0, 372.0]  # the 31-min nap is not the night
    assert df["bedtime"].tolist() == ["23:10", "22:55"]


def test_oura_app_data_sleepmodel_and_readiness():
    sleep = read_daily(DAILY / "oura_sleepmodel.csv")
    assert sleep.attrs["format"] == "oura_sleep"
    assert _dates(sleep) == ["2024-03-02", "2024-03-03"]
    assert sleep["sleep_total_min"].tolist() == [429.0, 452.0]  # long_sleep, not the nap
    assert sleep["rmssd_ms"].tolist() == [61.0, 67.0]
    assert sleep["resting_hr_bpm"].tolist() == [47.0, 46.0]
    ready = read_daily(DAILY / "oura_dailyreadiness.csv")
    assert ready.attrs["format"] == "oura_readiness"
    assert ready["readiness_score"].tolist() == [82.0, 88.0]


def test_oura_json_v1_and_v2(tmp_path):
    v1 = read_daily(DAILY / "oura_v1.json")
    assert v1.attrs["format"] == "oura_json_v1"
    assert v1["sleep_total_min"].iloc[0] == pytest.approx(24690 / 60)
    assert v1["rmssd_ms"].tolist() == [69.0, 74.0] and v1["readiness_score"].tolist() == [67, 79]
    v2 = tmp_path / "sleep.json"
    v2.write_text(
        '{"data": [{"day": "2024-03-02", "type": "long_sleep", "total_sleep_duration": 25740,'
        ' "average_hrv": 61, "lowest_heart_rate": 47, "readiness": {"score": 80}}],'
        ' "next_token": null}'
    )
    df = read_daily(v2)
    assert df.attrs["format"] == "oura_sleep" and df["sleep_total_min"].tolist() == [429.0]


def test_oura_in_hours_and_ln_rmssd_is_detected_and_said(tmp_path):
    """Fuzzing: an Oura export in hours and ln(RMSSD) passed the range checks as minutes/ms."""
    src = (DAILY / "oura_daily.csv").read_text().splitlines()
    head = src[0].split(",")
    rows = []
    for ln in src[1:]:
        p = ln.split(",")
        for name in ("Total Sleep Time", "Deep Sleep Time", "REM Sleep Time", "Light Sleep Time",
                     "Awake Time"):  # fmt: skip
            p[head.index(name)] = f"{float(p[head.index(name)]) / 3600:.4f}"
        p[head.index("Average HRV")] = f"{np.log(float(p[head.index('Average HRV')])):.4f}"
        rows.append(",".join(p))
    f = tmp_path / "oura_hours.csv"
    f.write_text("\n".join([src[0], *rows]) + "\n")
    ref = read_daily(DAILY / "oura_daily.csv")
    df = read_daily(f)
    np.testing.assert_allclose(df["sleep_total_min"], ref["sleep_total_min"], rtol=1e-3)
    np.testing.assert_allclose(df["rmssd_ms"], ref["rmssd_ms"], rtol=1e-3)
    notes = " ".join(df.attrs["notes"])
    assert "look like h" in notes and "ln(RMSSD)" in notes


def test_rmssd_in_seconds_is_still_refused(tmp_path):
    f = tmp_path / "oura.csv"
    f.write_text("date,Readiness Score,Average HRV\n2024-01-01,80,0.069\n")
    with pytest.raises(DataFormatError, match="wrong unit"):
        read_daily(f)


@pytest.mark.parametrize("bad", ["-2024-01-01", "99999-01-01", "0001-01-01"])
def test_absurd_dates_are_one_line_errors(tmp_path, bad):
    f = tmp_path / "bio.csv"
    f.write_text(f"date,marker,value,unit\n2024-03-01,ck,300,U/L\n{bad},ck,310,U/L\n")
    with pytest.raises(DataFormatError) as err:
        read_biomarkers(f)
    assert err.value.line == 3 and "\n" not in str(err.value)


def test_biomarkers_chunks_name_the_right_line(tmp_path):
    f = tmp_path / "bio.csv"
    rows = [f"2024-01-{1 + i % 28:02d},ck,{200 + i},U/L" for i in range(1000)]
    rows[777] = "2024-01-05,ck,abc,U/L"
    f.write_text("date,marker,value,unit\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataFormatError, match="'abc'") as err:
        list(iter_long(f, "biomarker", "marker", chunk_rows=100))
    assert err.value.line == 779
    rows[777] = "2024-01-05,ck,1,U/L"
    f.write_text("date,marker,value,unit\n" + "\n".join(rows) + "\n\n")
    chunks = list(iter_long(f, "biomarker", "marker", chunk_rows=100))
    assert len(chunks) == 10 and sum(map(len, chunks)) == 1000
    df = read_biomarkers(f)
    assert df["date"].iloc[0] == dt.date(2024, 1, 1) and df["value"].iloc[1] == 201.0


# ------------------------------------------------- Garmin FIT hrv_status_summary (built here)
def _fit_hrv_status(nights: list[tuple[int, float, float, int]]) -> bytes:
    """A wellness FIT with ``hrv_status_summary`` messages (global 370; fields as FIT SDK
    21.171 defines them: 0 weekly_average, 1 last_night_average, both uint16 ms x 128,
    6 status enum, 253 timestamp). No real Garmin file was found: built from the profile."""
    body = bytes([0x40, 0, 0]) + struct.pack("<HB", 0, 1) + bytes([0, 1, 0x00])
    body += bytes([0x00, 4])
    body += bytes([0x41, 0, 0]) + struct.pack("<HB", 370, 4)
    body += bytes([253, 4, 0x86, 0, 2, 0x84, 1, 2, 0x84, 6, 1, 0x00])
    for ts, weekly, last, status in nights:
        body += bytes([0x01]) + struct.pack("<IHHB", ts, round(weekly * 128), round(last * 128),
                                            status)  # fmt: skip
    return fit_file(body)


def test_garmin_hrv_status_summary_fit(tmp_path):
    fit_epoch = dt.datetime(1989, 12, 31, tzinfo=dt.timezone.utc)
    day = dt.datetime(2024, 5, 2, 6, 30, tzinfo=dt.timezone.utc)
    ts = [int((day + dt.timedelta(days=k) - fit_epoch).total_seconds()) for k in range(3)]
    f = tmp_path / "2024-05-04_HRV_STATUS.fit"
    f.write_bytes(
        _fit_hrv_status([(ts[0], 55, 54.0, 3), (ts[1], 55, 52.0, 3), (ts[2], 54, 41.5, 2)])
    )
    df = read_daily(f)
    assert df.attrs["format"] == "garmin_hrv_status"
    assert _dates(df) == ["2024-05-02", "2024-05-03", "2024-05-04"]
    assert df["rmssd_ms"].tolist() == [54.0, 52.0, 41.5]
    from workbench.ingest import detect

    assert detect(f).name == "wearable_daily"
