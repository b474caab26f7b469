"""Overtraining warning and the acute "possible illness / incomplete recovery" flag.

No single marker diagnoses overtraining (Meeusen 2013, ECSS/ACSM consensus); these are
*warnings* with their evidence: a sustained multi-marker pattern, never a diagnosis.
"""

from __future__ import annotations

import pandas as pd

from workbench.readiness._grid import to_wide
from workbench.readiness.load import LOAD_SPIKE_ACWR

#: Consecutive-ish days the pattern must hold: >= 5 of the last 6 days, today included.
OVERTRAINING_MIN_DAYS = 5
OVERTRAINING_WINDOW_DAYS = 6
#: Biomarkers watched (substring of the marker name, lower case) and the rise vs the
#: athlete's own median of earlier results that counts as elevated.
BIOMARKER_RISE = {"cortisol": 1.3, "ck": 1.5, "creatine": 1.5, "crp": 2.0, "lactate": 1.3}
BIOMARKER_HOLD_DAYS = 10
PERFORMANCE_HOLD_DAYS = 7


def biomarkers_elevated_wide(
    biomarkers: pd.DataFrame, dates: pd.DatetimeIndex, ids: list[str]
) -> pd.DataFrame:
    """Which watched biomarkers are elevated (vs the athlete's earlier median), per day.

    A result counts for ``BIOMARKER_HOLD_DAYS`` after its date. Needs >= 2 earlier results
    of the same marker. Returns a dates x athletes frame of comma-joined marker names ("" if
    none).
    """
    out = pd.DataFrame("", index=dates, columns=pd.Index(ids, name="athlete_id"), dtype=object)
    if biomarkers is None or biomarkers.empty:
        return out
    b = biomarkers[biomarkers["athlete_id"].isin(ids)].sort_values(["athlete_id", "date"])
    name = b["marker"].str.lower()
    for key, rise in BIOMARKER_RISE.items():
        sub = b[name.str.contains(key, regex=False)]
        if sub.empty:
            continue
        grp = sub.groupby(["athlete_id", "marker"])["value"]
        prior = grp.transform(lambda v: v.shift(1).expanding(min_periods=2).median())
        hit = sub[(sub["value"] >= rise * prior) & prior.notna()]
        for aid, day in zip(hit["athlete_id"], hit["date"], strict=True):
            span = (dates >= day) & (dates < day + pd.Timedelta(days=BIOMARKER_HOLD_DAYS))
            col = out[aid].to_numpy(copy=True)
            col[span] = [f"{c}, {key}" if c and key not in c else (c or key) for c in col[span]]
            out[aid] = col
    return out


def performance_down_wide(
    tests: pd.DataFrame, dates: pd.DatetimeIndex, ids: list[str], test: str = "cmj_height"
) -> pd.DataFrame:
    """True while the mean of the last 3 ``test`` results is >= 1 SD below earlier results.

    Each result is scored against the athlete's earlier results (>= 4 needed); the state is
    held for ``PERFORMANCE_HOLD_DAYS`` after a result, so weekly testing still counts.
    """
    out = pd.DataFrame(False, index=dates, columns=pd.Index(ids, name="athlete_id"))
    if tests is None or tests.empty:
        return out
    t = tests[(tests["test"] == test) & tests["athlete_id"].isin(ids)]
    t = t.groupby(["athlete_id", "date"], as_index=False)["value"].mean().sort_values("date")
    if t.empty:
        return out
    grp = t.groupby("athlete_id")["value"]
    mean = grp.transform(lambda v: v.shift(1).expanding(min_periods=4).mean())
    sd = grp.transform(lambda v: v.shift(1).expanding(min_periods=4).std())
    t = t.assign(z=(t["value"] - mean) / sd)
    t["z3"] = t.groupby("athlete_id")["z"].transform(lambda z: z.rolling(3, min_periods=2).mean())
    state = to_wide(t, "z3", dates, ids).ffill(limit=PERFORMANCE_HOLD_DAYS - 1)
    return state <= -1.0


def warning_markers_wide(
    lnrmssd: pd.DataFrame,
    base: dict[str, pd.DataFrame],
    rhr_z: pd.DataFrame,
    sleep: dict[str, pd.DataFrame],
    wellness_z: pd.DataFrame,
    bio: pd.DataFrame,
    perf_down: pd.DataFrame,
    acwr: pd.DataFrame,
) -> dict[str, pd.DataFrame]:
    """Daily boolean markers and the two flags.

    Returns
    -------
    dict of wide frames
        Markers ``m_hrv_low, m_hrv_trend, m_rhr_up, m_sleep, m_wellness, m_biomarker,
        m_performance`` (bool), ``pattern_day`` (HRV below range with rising CV or falling
        trend, plus >= 2 other markers), ``overtraining_warning`` (pattern on >= 5 of the
        last 6 days, today included), ``illness_flag`` (acute: HRV well below baseline
        *and* resting HR up, or either far off together with low wellness or short sleep,
        on two consecutive days, or one day when both are far off).
    """
    ln7 = base["lnrmssd_7d"]
    m_low = ln7 < base["normal_low"]
    m_trend = (base["cv_7d_pct"] > base["cv_7d_pct"].shift(7)) | (ln7 < ln7.shift(5))
    rhr3 = rhr_z.rolling(3, min_periods=2).mean()
    m_rhr = rhr3 >= 1.0
    m_sleep = (sleep["sleep_ratio"].rolling(3, min_periods=2).mean() < 0.9) | (
        sleep["sleep_score"].rolling(3, min_periods=2).mean() < 75
    )
    m_well = wellness_z.rolling(3, min_periods=2).mean() <= -1.0
    m_bio = bio != ""
    others = (
        m_rhr.astype(int)
        + m_sleep.astype(int)
        + m_well.astype(int)
        + m_bio.astype(int)
        + perf_down.astype(int)
    )
    # the lagging 7-day mean alone is not enough: this morning must be low too (or missing)
    today_low = (lnrmssd < base["normal_low"]) | lnrmssd.isna()
    # within 3 days of a load spike the pattern is the expected acute response to that spike
    # (reported by the load-spike and incomplete-recovery flags), not a sustained one
    spike = (acwr >= LOAD_SPIKE_ACWR).astype(float).rolling(4, min_periods=1).max() > 0
    pattern = m_low & today_low & m_trend & (others >= 2) & ~spike
    sustained = pattern.astype(int).rolling(OVERTRAINING_WINDOW_DAYS, min_periods=1).sum()
    warning = pattern & (sustained >= OVERTRAINING_MIN_DAYS)

    z = base["hrv_z"]
    a_hrv = (z <= -1.0) | (ln7 < base["normal_low"]) & (z <= -0.5)
    a_rhr = rhr_z >= 1.0
    a_well = wellness_z <= -1.0
    a_sleep = sleep["sleep_ratio"] < 0.85
    acute = (a_hrv & a_rhr) | ((a_hrv | a_rhr) & (a_well | a_sleep) & (a_hrv | (rhr_z >= 1.5)))
    severe = (z <= -2.0) & (rhr_z >= 2.0)
    illness = (acute & acute.shift(1, fill_value=False)) | severe
    return {
        "m_hrv_low": m_low,
        "m_hrv_trend": m_trend,
        "m_rhr_up": m_rhr,
        "m_sleep": m_sleep,
        "m_wellness": m_well,
        "m_biomarker": m_bio,
        "m_performance": perf_down,
        "pattern_day": pattern,
        "overtraining_warning": warning,
        "illness_flag": illness,
    }
