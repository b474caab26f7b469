"""workbench.io RR and daily readers on real files and header-exact fixtures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from workbench.errors import DataFormatError
from workbench.io import read_biomarkers, read_daily, read_performance_tests, read_rr
from workbench.io.rr import read_rr_recording

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.mark.parametrize(
    ("name", "count", "first"),
    [
        ("fitparse__garmin-edge-820-bike.fit", 126, [594.0, 588.0]),
        ("fitparse__garmin-fenix-5-run.fit", 113, [1093.0, 1165.0]),
        ("fitparse__garmin-fenix-5-walk.fit", 62, [824.0, 834.0]),
    ],
)
def test_read_rr_fit_hrv_messages(name: str, count: int, first: list[float]) -> None:
    rr = read_rr(DATA / "fit" / name)
    assert rr.dtype == np.float64 and rr.shape == (count,)
    np.testing.assert_allclose(rr[:2], first)


def test_read_rr_fr935_beat_times() -> None:
    rec = read_rr_recording(DATA / "fit" / "fitdecode__garmin-fr935-cr.fit")
    assert rec.source_format == "fit_hr_beats"
    assert rec.rr_ms.size > 11000 and np.all(rec.rr_ms > 0)
    # beats agree with the watch's own filtered heart rate (median ~93 bpm)
    assert np.median(rec.rr_ms) == pytest.approx(645.16, rel=0.01)
    assert np.all(np.mod(rec.rr_ms * 1.024, 1.0) < 1e-9)  # 1/1024-s ticks


def test_read_rr_text_shapes(tmp_path: Path) -> None:
    one = tmp_path / "one.txt"
    one.write_text("812\n790\n805\n")
    np.testing.assert_array_equal(read_rr(one), [812.0, 790.0, 805.0])
    secs = tmp_path / "secs.txt"
    secs.write_text("0.812\n0.790\n0.805\n")
    np.testing.assert_allclose(read_rr(secs), [812.0, 790.0, 805.0])
    polar = tmp_path / "polar.txt"
    polar.write_text(
        "Phone timestamp;RR-interval [ms]\n2024-03-01T06:50:01.100;812\n"
        "2024-03-01T06:50:01.912;790\n2024-03-01T06:50:02.702;805\n"
    )
    rec = read_rr_recording(polar)
    np.testing.assert_array_equal(rec.rr_ms, [812.0, 790.0, 805.0])
    assert rec.source_format == "polar_rr" and rec.start_time.hour == 6
    kubios = tmp_path / "kubios.txt"
    kubios.write_text("0.812 0.812\n1.602 0.790\n2.407 0.805\n")
    np.testing.assert_allclose(read_rr(kubios), [812.0, 790.0, 805.0])
    elite = tmp_path / "2024-03-02 07-01-30.txt"
    elite.write_text("900\n910\n")
    assert read_rr_recording(elite).start_time.isoformat() == "2024-03-02T07:01:30"


def test_read_rr_unit_override_and_errors(tmp_path: Path) -> None:
    f = tmp_path / "rr.txt"
    f.write_text("812\n790\n")
    with pytest.raises(DataFormatError, match="wrong unit"):
        read_rr(f, unit="s")
    bad = tmp_path / "bad.txt"
    bad.write_text("812\nabc\n790\n")
    with pytest.raises(DataFormatError) as err:
        read_rr(bad)
    assert err.value.line == 2 and "bad.txt" in str(err.value)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(DataFormatError, match="empty"):
        read_rr(empty)
    corrupt = tmp_path / "corrupt.fit"
    corrupt.write_bytes((DATA / "fit" / "fitparse__garmin-fenix-5-walk.fit").read_bytes()[:900])
    with pytest.raises(DataFormatError, match="corrupt FIT"):
        read_rr(corrupt)


def test_read_daily_formats() -> None:
    whoop = read_daily(DATA / "daily" / "whoop_physiological_cycles.csv")
    assert whoop.attrs["format"] == "whoop_cycles"
    assert [str(d) for d in whoop["date"]] == ["2026-09-05", "2026-09-06"]
    assert whoop["rmssd_ms"].tolist() == [58.0, 44.0]
    assert whoop["resting_hr_bpm"].tolist() == [52.0, 55.0]
    assert whoop["sleep_total_min"].tolist() == [444.0, 372.0]
    assert whoop["bedtime"].tolist() == ["23:10", "22:55"]
    oura = read_daily(DATA / "daily" / "oura_daily.csv")
    assert oura["sleep_total_min"].iloc[0] == pytest.approx(24690 / 60)
    assert oura["rmssd_ms"].iloc[0] == 69 and oura["resting_hr_bpm"].iloc[0] == 46
    ios = read_daily(DATA / "daily" / "hrv4training_ios.csv")
    assert ios.attrs["format"] == "hrv4training_ios" and len(ios) == 2  # '-' row dropped
    android = read_daily(DATA / "daily" / "hrv4training_android.csv")
    assert android["sleep_total_min"].tolist() == [450.0, 405.0]
    assert android["rmssd_ms"].tolist() == [95.2, 88.0]


def test_read_daily_errors(tmp_path: Path) -> None:
    f = tmp_path / "oura.csv"
    f.write_text("date,Readiness Score,Total Sleep Time\n2024-01-01,80,7.5\n")
    f.write_text("date,Readiness Score,Average HRV\n2024-01-01,80,0.069\n")
    with pytest.raises(DataFormatError) as err:
        read_daily(f)
    assert err.value.line == 2 and err.value.field == "Average HRV" and "unit" in str(err.value)
    g = tmp_path / "x.csv"
    g.write_text("day,foo\n1,2\n")
    with pytest.raises(DataFormatError, match="required columns missing"):
        read_daily(g)
    h = tmp_path / "w.csv"
    h.write_text(
        "Cycle start time,Recovery score %,Heart rate variability (ms)\n2024-01-01,80,abc\n"
    )
    with pytest.raises(DataFormatError, match="not a number"):
        read_daily(h)


def test_read_biomarkers_and_tests(tmp_path: Path) -> None:
    b = read_biomarkers(DATA / "daily" / "biomarkers.csv")
    assert list(b.columns) == ["date", "marker", "value", "unit"] and len(b) == 3
    p = read_performance_tests(DATA / "daily" / "performance_tests.csv")
    assert p["value"].tolist() == [41.5, 39.8]
    bad = tmp_path / "b.csv"
    bad.write_text("date,marker,value\n2024-01-01,crp,1\n")
    with pytest.raises(DataFormatError, match="missing: unit"):
        read_biomarkers(bad)
