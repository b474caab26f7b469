"""Data-quality notes: a score must say which of its inputs were missing or untrusted."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.readiness import compute_readiness, daily_hrv
from workbench.readiness.inputs import ReadinessInputs


def _rr(seed: int, n: int = 300) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 1000.0 + rng.normal(0, 40, n)


def _reading(day: pd.Timestamp, quality: str, seed: int) -> dict:
    return {
        "athlete_id": "a1",
        "date": day,
        "start_time": day + pd.Timedelta(hours=7),
        "context": "morning",
        "source": "h10",
        "quality": quality,
        "rr_ms": _rr(seed),
    }


def test_reading_flagged_unreliable_at_import_is_not_used():
    day = pd.Timestamp("2026-03-01")
    good = daily_hrv(pd.DataFrame([_reading(day, "good", 1)]))
    flagged = daily_hrv(pd.DataFrame([_reading(day, "unreliable", 1)]))
    assert bool(good["hrv_reliable"].iloc[0]) and np.isfinite(good["lnrmssd"].iloc[0])
    # the same clean beats, but the importer found the channel dead or implausible
    assert not bool(flagged["hrv_reliable"].iloc[0])
    assert np.isnan(flagged["lnrmssd"].iloc[0])
    assert flagged["hrv_quality"].iloc[0] == "unreliable"


def test_each_day_names_its_missing_or_untrusted_inputs():
    dates = pd.date_range("2026-01-01", periods=40, freq="D")
    readings = [_reading(d, "good", i) for i, d in enumerate(dates) if i not in (30, 31)]
    readings[30]["quality"] = "unreliable"  # day 32 (30 and 31 have no reading)
    hrv = daily_hrv(pd.DataFrame(readings))
    well = pd.DataFrame(
        {
            "athlete_id": "a1",
            "date": dates,
            "sleep_total_min": np.where(np.arange(40) == 35, np.nan, 470.0),
            "resting_hr_bpm": np.where(np.arange(40) == 36, np.nan, 50.0),
        }
    )
    sess = pd.DataFrame({"athlete_id": "a1", "date": dates, "status": "done", "load_au": 300.0})
    athletes = pd.DataFrame({"athlete_id": ["a1"], "sleep_need_min": [480.0]})
    out = compute_readiness(
        ReadinessInputs(athletes=athletes, hrv_daily=hrv, wellness=well, sessions=sess)
    ).set_index("date")
    notes = out["data_quality"]
    assert notes.iloc[10] == []
    assert notes.iloc[30] == ["no morning HRV reading"] == notes.iloc[31]
    assert notes.iloc[32] and "flagged unreliable at import" in notes.iloc[32][0]
    assert notes.iloc[35] == ["no sleep data"]
    assert notes.iloc[36] == ["no resting HR"]
