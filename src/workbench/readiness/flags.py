"""Overtraining warning and the acute "possible illness / incomplete recovery" flag.

No single marker diagnoses overtraining (Meeusen 2013, ECSS/ACSM consensus); these are
*warnings* with their evidence: a sustained multi-marker pattern, never a diagnosis.
"""

from __future__ import annotations

import numpy as np
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

#: Adult laboratory reference ranges (issue 14.5): marker key -> unit, {sex: (low, high)}
#: ("*" = both sexes; None = no limit), source. Population ranges, not athlete norms: hard
#: training alone lifts CK above them (strength athletes often are), so a result above the
#: lab range is labelled as such, never as a diagnosis. Always prefer the range printed by
#: the laboratory that measured the sample.
LAB_RANGES: dict[str, tuple[str, dict[str, tuple[float | None, float | None]], str]] = {
    "ck": (
        "U/L",
        {"F": (None, 207.0), "M": (None, 395.0)},
        "Tromsø Study upper reference limits (97.5th percentile): women 207 U/L, men < 50 y "
        "395 U/L (men >= 50 y 340 U/L); Lilleng et al. 2012, Clin Chem Lab Med 50(5), "
        "doi:10.1515/cclm.2011.776",
    ),
    "crp": (
        "mg/L",
        {"*": (0.0, 10.0)},
        "C-reactive protein 0-10 mg/L; Oxford Handbook of Acute Medicine, 2nd ed., "
        "reference intervals (biochemistry)",
    ),
    "cortisol": (
        "nmol/L",
        {"*": (133.0, 537.0)},
        "serum cortisol 06:00-10:00 h 133-537 nmol/L; Royal Liverpool University Hospital "
        "pathology (pathlabs.rlbuht.nhs.uk); morning samples only",
    ),
    "lactate": (
        "mmol/L",
        {"*": (0.5, 2.2)},
        "venous blood lactate at rest 0.5-2.2 mmol/L (arterial 0.5-1.6); Oxford reference "
        "ranges, table 2.1 'Everyday tests' (oxfordindex.oup.com)",
    ),
}
#: Conversions into the range's unit (unit as stored, lower case) -> factor.
_UNIT_FACTORS = {
    ("cortisol", "ug/dl"): 27.59,
    ("cortisol", "µg/dl"): 27.59,
    ("crp", "mg/dl"): 10.0,
    ("ck", "iu/l"): 1.0,
    ("ck", "ukat/l"): 60.0,
}


def lab_range(key: str, sex: str | None) -> tuple[float | None, float | None]:
    """(low, high) of ``LAB_RANGES[key]`` for ``sex`` ("F"/"M"); for a sex-specific marker
    and unknown sex, the wider (more permissive) range of the two."""
    ranges = LAB_RANGES[key][1]
    if "*" in ranges:
        return ranges["*"]
    s = (sex or "").strip().upper()[:1]
    if s in ranges:
        return ranges[s]
    lows = [lo for lo, _ in ranges.values() if lo is not None]
    highs = [hi for _, hi in ranges.values() if hi is not None]
    return (min(lows) if lows else None, max(highs) if highs else None)


def _lab_key(marker: str) -> str | None:
    m = marker.lower()
    if "cortisol" in m:
        return "cortisol"
    if "crp" in m or "c_reactive" in m or "c-reactive" in m:
        return "crp"
    if m == "ck" or "creatine" in m or m.startswith("ck_") or m.endswith("_ck"):
        return "ck"
    if "lactate" in m:
        return "lactate"
    return None


def biomarker_status(biomarkers: pd.DataFrame, sex: dict[str, str] | None = None) -> pd.DataFrame:
    """Every watched result against the lab reference range and the personal baseline.

    Parameters
    ----------
    biomarkers:
        ``athlete_id, date, marker, value, unit`` rows.
    sex:
        athlete_id -> "F"/"M" for sex-specific ranges (CK); unknown sex gets the wider range.

    Returns
    -------
    pandas.DataFrame
        ``athlete_id, date, marker, key, value, unit, lab_low, lab_high, lab_source,
        above_lab_range, below_lab_range, personal_median`` (median of the athlete's >= 2
        earlier results of the marker), ``above_personal_baseline`` (value >= the
        ``BIOMARKER_RISE`` factor x that median) and ``labels`` (list of str, e.g.
        ``["ck above lab range", "ck above personal baseline"]``). Values in a unit other
        than the range's are converted when the factor is known, else not compared.
    """
    cols = ["athlete_id", "date", "marker", "key", "value", "unit", "lab_low", "lab_high"]
    cols += ["lab_source", "above_lab_range", "below_lab_range", "personal_median"]
    cols += ["above_personal_baseline", "labels"]
    if biomarkers is None or biomarkers.empty:
        return pd.DataFrame(columns=cols)
    b = biomarkers.copy()
    b["key"] = b["marker"].astype(str).map(_lab_key)
    b = b[b["key"].notna()].sort_values(["athlete_id", "marker", "date"]).reset_index(drop=True)
    if b.empty:
        return pd.DataFrame(columns=cols)
    if "unit" not in b:
        b["unit"] = None
    sex = sex or {}
    lows, highs, srcs, factors = [], [], [], []
    for aid, key, unit in zip(b["athlete_id"], b["key"], b["unit"], strict=True):
        lo, hi = lab_range(key, sex.get(aid))
        lows.append(lo)
        highs.append(hi)
        srcs.append(LAB_RANGES[key][2])
        u = str(unit or LAB_RANGES[key][0]).strip()
        same = u.lower() == LAB_RANGES[key][0].lower()
        factors.append(1.0 if same else _UNIT_FACTORS.get((key, u.lower()), np.nan))
    b["lab_low"] = pd.array(lows, dtype="Float64").astype(float)
    b["lab_high"] = pd.array(highs, dtype="Float64").astype(float)
    b["lab_source"] = srcs
    v = b["value"].astype(float) * np.asarray(factors, dtype=float)
    b["above_lab_range"] = (v > b["lab_high"]).fillna(False).astype(bool)
    b["below_lab_range"] = (v < b["lab_low"]).fillna(False).astype(bool)
    prior = b.groupby(["athlete_id", "marker"])["value"].transform(
        lambda x: x.shift(1).expanding(min_periods=2).median()
    )
    rise = b["key"].map(BIOMARKER_RISE)
    b["personal_median"] = prior
    b["above_personal_baseline"] = (b["value"] >= rise * prior).fillna(False).astype(bool)
    b["labels"] = [
        [f"{k} above lab range"] * bool(lab) + [f"{k} above personal baseline"] * bool(pers)
        for k, lab, pers in zip(
            b["key"], b["above_lab_range"], b["above_personal_baseline"], strict=True
        )
    ]
    return b[cols]


def biomarkers_elevated_wide(
    biomarkers: pd.DataFrame,
    dates: pd.DatetimeIndex,
    ids: list[str],
    sex: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Which watched biomarkers are elevated, per day, each labelled by what it exceeds.

    A result counts for ``BIOMARKER_HOLD_DAYS`` after its date when it is above the lab
    reference range (``LAB_RANGES``, sex-specific for CK) and/or above the personal baseline
    (``BIOMARKER_RISE`` x the median of >= 2 earlier results). Returns a dates x athletes
    frame of comma-joined labels such as ``"ck above lab range, crp above personal
    baseline"`` ("" if none).
    """
    out = pd.DataFrame("", index=dates, columns=pd.Index(ids, name="athlete_id"), dtype=object)
    if biomarkers is None or biomarkers.empty:
        return out
    st = biomarker_status(biomarkers[biomarkers["athlete_id"].isin(ids)], sex)
    st = st[st["labels"].map(len) > 0].sort_values("date")
    for aid, day, labels in zip(st["athlete_id"], st["date"], st["labels"], strict=True):
        day = pd.Timestamp(day)
        span = (dates >= day) & (dates < day + pd.Timedelta(days=BIOMARKER_HOLD_DAYS))
        col = out[aid].to_numpy(copy=True)
        for i in np.flatnonzero(span):
            have = [c for c in col[i].split(", ") if c]
            col[i] = ", ".join(have + [lab for lab in labels if lab not in have])
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
