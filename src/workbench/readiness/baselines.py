"""Personal baselines on wide (dates x athletes) frames.

HRV (HRV4Training method): the 7-day rolling mean of lnRMSSD is compared with the normal
range of the previous 60 days (mean ± 0.5 SD, the smallest worthwhile change). A 7-day mean
needs >= 3 valid mornings in the week; the normal range needs >= 7 valid mornings, before
which the state is ``"insufficient data"``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HRV_WEEK_MIN_VALID = 3
HRV_NORMAL_MIN_VALID = 7
HRV_NORMAL_WINDOW_DAYS = 60
SWC_SD = 0.5
HRV_DEFICIT_LEVELS_PCT = (10, 20, 30)
RHR_WINDOW_DAYS = 28
RHR_MIN_VALID = 7
INSUFFICIENT = "insufficient data"
#: Typical shares of a night's need spent in deep and REM sleep (adults).
DEEP_SHARE_OF_NEED = 0.18
REM_SHARE_OF_NEED = 0.22


def hrv_baseline_wide(lnrmssd: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """HRV baseline state of every athlete-day.

    Parameters
    ----------
    lnrmssd:
        Morning ln(RMSSD in ms), dates x athletes, NaN for missing or unreliable mornings.

    Returns
    -------
    dict of wide frames
        ``lnrmssd_7d`` (7-day mean, >= 3 valid), ``baseline_mean`` / ``baseline_sd`` (previous
        60 days, >= 7 valid), ``normal_low`` / ``normal_high`` (mean ∓ 0.5 SD), ``cv_7d_pct``
        (SD/mean of lnRMSSD over 7 days, %), ``hrv_pct_below_baseline`` (how far the 7-day mean
        is below the 60-day mean in RMSSD terms, ``100·(1 − e^(7d − mean))``; negative when
        above), ``hrv_pct_below_normal`` (same, against ``normal_low``; 0 when inside),
        ``hrv_z`` (today's lnRMSSD vs the 60-day mean, in SD), ``hrv_valid_7d`` (count).
    """
    week = lnrmssd.rolling(7, min_periods=1)
    valid7 = lnrmssd.notna().rolling(7, min_periods=1).sum()
    ln7 = week.mean().where(valid7 >= HRV_WEEK_MIN_VALID)
    sd7 = week.std().where(valid7 >= HRV_WEEK_MIN_VALID)
    hist = lnrmssd.shift(1).rolling(HRV_NORMAL_WINDOW_DAYS, min_periods=HRV_NORMAL_MIN_VALID)
    mu, sd = hist.mean(), hist.std()
    low, high = mu - SWC_SD * sd, mu + SWC_SD * sd
    return {
        "lnrmssd_7d": ln7,
        "baseline_mean": mu,
        "baseline_sd": sd,
        "normal_low": low,
        "normal_high": high,
        "cv_7d_pct": 100.0 * sd7 / ln7,
        "hrv_pct_below_baseline": 100.0 * (1.0 - np.exp(ln7 - mu)),
        "hrv_pct_below_normal": (100.0 * (1.0 - np.exp(ln7 - low))).clip(lower=0.0),
        "hrv_z": (lnrmssd - mu) / sd,
        "hrv_valid_7d": valid7,
    }


def hrv_flags(base: dict[str, pd.DataFrame]) -> tuple[np.ndarray, np.ndarray]:
    """SWC flag and fixed-percentage deficit level of every athlete-day.

    Returns
    -------
    (hrv_flag, hrv_deficit_pct)
        ``hrv_flag``: ``"below normal range"``, ``"within normal range"``, ``"above normal
        range"`` or ``"insufficient data"`` (object array, dates x athletes);
        ``hrv_deficit_pct``: 0, 10, 20 or 30 (the deepest fixed flag reached by
        ``hrv_pct_below_baseline``), NaN when insufficient.
    """
    ln7 = base["lnrmssd_7d"].to_numpy()
    low, high = base["normal_low"].to_numpy(), base["normal_high"].to_numpy()
    ok = np.isfinite(ln7) & np.isfinite(low)
    flag = np.full(ln7.shape, INSUFFICIENT, dtype=object)
    flag[ok] = "within normal range"
    flag[ok & (ln7 < low)] = "below normal range"
    flag[ok & (ln7 > high)] = "above normal range"
    pct = base["hrv_pct_below_baseline"].to_numpy()
    level = np.zeros(ln7.shape)
    for lv in HRV_DEFICIT_LEVELS_PCT:
        level[pct >= lv] = lv
    level[~ok] = np.nan
    return flag, level


def rhr_z_wide(rhr_bpm: pd.DataFrame) -> pd.DataFrame:
    """Resting-HR z-score vs the previous 28 days (>= 7 valid), dates x athletes."""
    hist = rhr_bpm.shift(1).rolling(RHR_WINDOW_DAYS, min_periods=RHR_MIN_VALID)
    sd = hist.std()
    return (rhr_bpm - hist.mean()) / sd.where(sd > 0)


def rhr_flag(z: np.ndarray) -> np.ndarray:
    """``green`` (|z| < 1), ``yellow`` (|z| >= 1), ``red`` (|z| >= 2) or ``insufficient data``."""
    flag = np.full(z.shape, INSUFFICIENT, dtype=object)
    ok = np.isfinite(z)
    flag[ok] = "green"
    flag[ok & (np.abs(z) >= 1)] = "yellow"
    flag[ok & (np.abs(z) >= 2)] = "red"
    return flag


def sleep_score_wide(
    total_min: pd.DataFrame,
    deep_min: pd.DataFrame,
    rem_min: pd.DataFrame,
    need_min: pd.Series,
) -> dict[str, pd.DataFrame]:
    """Sleep vs need: duration, deep and REM sleep as fractions of their targets.

    Deep target = 18 % and REM target = 22 % of the nightly need. The score (0-100) weighs
    duration 0.6, deep 0.2, REM 0.2 (renormalised when stages are missing), each capped at 1.

    Returns
    -------
    dict of wide frames
        ``sleep_ratio`` (total / need), ``deep_ratio``, ``rem_ratio``, ``sleep_score``,
        ``sleep_debt_7d_min`` (net shortfall vs need over the last 7 nights, >= 0, minutes).
    """
    need = need_min.reindex(total_min.columns).to_numpy()[None, :]
    dur = total_min / need
    deep = deep_min / (DEEP_SHARE_OF_NEED * need)
    rem = rem_min / (REM_SHARE_OF_NEED * need)
    parts = [(dur, 0.6), (deep, 0.2), (rem, 0.2)]
    num = sum(p.clip(upper=1.0).fillna(0.0) * w for p, w in parts)
    den = sum(p.notna() * w for p, w in parts)
    score = (100.0 * num / den).where(dur.notna())
    debt = (need - total_min).rolling(7, min_periods=1).sum().clip(lower=0.0)
    debt = debt.where(total_min.notna())
    return {
        "sleep_ratio": dur,
        "deep_ratio": deep,
        "rem_ratio": rem,
        "sleep_score": score,
        "sleep_debt_7d_min": debt,
    }


def wellness_score_wide(items: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Subjective wellness 0-100 from 1-10 items (fatigue, soreness, stress reversed).

    ``readiness_self_1_10`` is deliberately *not* used: it is the comparator of
    :func:`workbench.readiness.validate_readiness`.
    """
    reverse = {"fatigue_1_10", "soreness_1_10", "stress_1_10"}
    forward = {"mood_1_10", "sleep_quality_1_10"}
    parts = [
        (11.0 - items[k]) if k in reverse else items[k]
        for k in sorted(reverse | forward)
        if k in items
    ]
    if not parts:
        raise ValueError("no wellness items given")
    stacked = np.stack([p.to_numpy() for p in parts])
    count = np.isfinite(stacked).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, np.nansum(stacked, axis=0) / count, np.nan)
    first = parts[0]
    return pd.DataFrame(100.0 * (mean - 1.0) / 9.0, index=first.index, columns=first.columns)


def personal_z_wide(x: pd.DataFrame, window_days: int = 28, min_valid: int = 7) -> pd.DataFrame:
    """z-score of each value vs the athlete's previous ``window_days`` (>= ``min_valid``)."""
    hist = x.shift(1).rolling(window_days, min_periods=min_valid)
    sd = hist.std()
    return (x - hist.mean()) / sd.where(sd > 0)
