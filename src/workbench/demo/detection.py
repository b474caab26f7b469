"""Detection curve of the illness / overreaching flags on simulated squads (issue 14.4).

The demo generator's episode effects come from the literature as a *range* (effect scale
``s``: 0 = no physiological change, 1 = upper literature anchor; see
:mod:`workbench.demo.physiology`). Here squads are simulated at fixed ``s`` and the flags of
:func:`workbench.readiness.compute_readiness` are scored against the injected episodes:

* **sensitivity**: share of illness / overreaching episodes with a flag
  (``illness_flag`` or ``overtraining_warning``) between the episode's first and last day;
* **delay**: days from the episode's first day to the first flag (detected episodes);
* **false alarms per athlete-month**: flag onsets (a flagged day after an unflagged one)
  outside every illness / overreaching window (block start or start - 3 d to end + 7 d),
  per 30 evaluated athlete-days. Days before ``EVAL_FROM_DAY`` (baseline building) are not
  evaluated. Onsets during travel, sleep debt or the squad's load-spike week count as false
  alarms: the flags claim illness or incomplete recovery, not "something happened".

The same scoring is applied to two published anchors computed independently from the daily
lnRMSSD: HRV4Training's SWC rule (7-day rolling mean of ln rMSSD below the mean - 0.5 SD of
the previous 60 days) and that rule combined with Plews' 7-day rolling CV of ln rMSSD
(CV above the athlete's median CV of the previous 60 days: "low and unstable"). The CV
threshold is our operationalisation; Plews et al. give no fixed cut-off.

The bench uses the device-reported nightly RMSSD of the simulation (no RR synthesis), so it
tests the detector, not the artefact correction.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from workbench.demo.physiology import SCALED_KINDS, simulate_athlete
from workbench.demo.squad import squad_profiles
from workbench.readiness.daily import compute_readiness
from workbench.readiness.inputs import (
    DEFAULT_SLEEP_NEED_MIN,
    ReadinessInputs,
    daily_hrv,
    daily_wellness,
)

#: First evaluated day index (60-day baselines need the first two months).
EVAL_FROM_DAY = 60
#: Days around an episode that are not false-alarm days: [start - PRE, end + POST].
WINDOW_PRE_DAYS = 3
WINDOW_POST_DAYS = 7
FLAGS = ("illness_flag", "overtraining_warning")
#: Methods scored: ours and the two anchors.
METHODS = ("workbench", "hrv4training_swc", "swc_plus_plews_cv")


def simulate_inputs(
    athletes: int,
    days: int,
    seed: int,
    *,
    effect_scale: float | None = None,
    end_date: dt.date = dt.date(2026, 6, 30),
) -> tuple[ReadinessInputs, pd.DataFrame]:
    """A simulated squad as :class:`ReadinessInputs` (no store) and its episodes.

    Returns
    -------
    (ReadinessInputs, pandas.DataFrame)
        Inputs with empty RR readings (device nightly RMSSD in ``wellness``) and the episodes:
        ``athlete_id, kind, start, end, window_start`` (Timestamps) and ``scale``.
    """
    start = end_date - dt.timedelta(days=days - 1)
    profiles = squad_profiles(athletes, seed, end_date)
    sessions, wellness, bio, perf, eps = [], [], [], [], []
    for i, p in enumerate(profiles):
        ad = simulate_athlete(
            p, days=days, start_date=start, seed=seed, index=i, effect_scale=effect_scale
        )
        sessions.append(ad.sessions)
        wellness.append(ad.wellness)
        bio.append(ad.biomarkers)
        perf.append(ad.performance)
        for ep in ad.episodes:
            first = ep.block_start if ep.block_start is not None else ep.start
            eps.append(
                {
                    "athlete_id": p.athlete_id,
                    "kind": ep.kind,
                    "start": pd.Timestamp(start + dt.timedelta(days=ep.start)),
                    "end": pd.Timestamp(start + dt.timedelta(days=ep.end)),
                    "window_start": pd.Timestamp(start)
                    + pd.Timedelta(days=min(first, ep.start - WINDOW_PRE_DAYS)),
                    "scale": ep.scale,
                }
            )

    def frame(parts: list[pd.DataFrame]) -> pd.DataFrame:
        df = pd.concat(parts, ignore_index=True)
        df["date"] = pd.to_datetime(df["date"])
        return df

    athletes_df = pd.DataFrame([p.store_row() for p in profiles])
    athletes_df["sleep_need_min"] = athletes_df["sleep_need_min"].fillna(DEFAULT_SLEEP_NEED_MIN)
    inputs = ReadinessInputs(
        athletes=athletes_df,
        hrv_daily=daily_hrv(pd.DataFrame()),
        wellness=daily_wellness(frame(wellness)),
        sessions=frame(sessions),
        biomarkers=frame(bio),
        performance_tests=frame(perf),
    )
    return inputs, pd.DataFrame(eps)


def anchor_flags(readiness: pd.DataFrame) -> pd.DataFrame:
    """The two published-anchor flags per athlete-day, from the daily ``lnrmssd`` alone.

    Returns ``athlete_id, date, hrv4training_swc, swc_plus_plews_cv`` (bool). The 7-day mean
    needs >= 3 valid mornings and the 60-day range >= 14 (HRV4Training's minimums).
    """
    df = readiness[["athlete_id", "date", "lnrmssd"]].sort_values(["athlete_id", "date"])
    g = df.groupby("athlete_id")["lnrmssd"]
    ln7 = g.transform(lambda v: v.rolling(7, min_periods=3).mean())
    sd7 = g.transform(lambda v: v.rolling(7, min_periods=3).std())
    mean60 = g.transform(lambda v: v.shift(1).rolling(60, min_periods=14).mean())
    sd60 = g.transform(lambda v: v.shift(1).rolling(60, min_periods=14).std())
    cv7 = 100 * sd7 / ln7
    cv_med = cv7.groupby(df["athlete_id"]).transform(
        lambda v: v.shift(1).rolling(60, min_periods=14).median()
    )
    swc = (ln7 < mean60 - 0.5 * sd60).fillna(False).astype(bool)
    return df.assign(
        hrv4training_swc=swc,
        swc_plus_plews_cv=(swc & (cv7 > cv_med)).fillna(False).astype(bool),
    )[["athlete_id", "date", "hrv4training_swc", "swc_plus_plews_cv"]]


def method_flags(readiness: pd.DataFrame) -> pd.DataFrame:
    """``athlete_id, date`` and one boolean column per method in ``METHODS``."""
    ours = readiness[list(FLAGS)].fillna(False).astype(bool).any(axis=1)
    out = readiness[["athlete_id", "date"]].assign(workbench=ours.to_numpy())
    return out.merge(anchor_flags(readiness), on=["athlete_id", "date"], how="left")


def score_detection(
    flags: pd.DataFrame, episodes: pd.DataFrame, method: str, *, first_day: pd.Timestamp
) -> dict:
    """Sensitivity, delay and false alarms of one method's daily flags (see module doc)."""
    f = flags[flags["date"] >= first_day].sort_values(["athlete_id", "date"])
    on = f[method].to_numpy(bool)
    prev = f.groupby("athlete_id")[method].shift(1, fill_value=False).to_numpy(bool)
    onset = on & ~prev
    major = episodes[episodes["kind"].isin(SCALED_KINDS)] if len(episodes) else episodes
    excluded = np.zeros(len(f), bool)
    hits, delays = [], []
    for ep in major.itertuples():
        same = (f["athlete_id"] == ep.athlete_id).to_numpy()
        d = f["date"]
        excluded |= (
            same
            & (d >= ep.window_start).to_numpy()
            & (d <= ep.end + pd.Timedelta(days=WINDOW_POST_DAYS)).to_numpy()
        )
        during = same & (d >= ep.start).to_numpy() & (d <= ep.end).to_numpy() & on
        hits.append(bool(during.any()))
        if during.any():
            delays.append(float((f.loc[during, "date"].min() - ep.start).days))
    clean_days = int((~excluded).sum())
    n_alarms = int((onset & ~excluded).sum())
    return {
        "method": method,
        "episodes": len(major),
        "detected": int(sum(hits)),
        "sensitivity": float(np.mean(hits)) if hits else float("nan"),
        "delay_days_median": float(np.median(delays)) if delays else float("nan"),
        "false_alarms": n_alarms,
        "clean_athlete_days": clean_days,
        "false_alarms_per_athlete_month": 30.0 * n_alarms / clean_days if clean_days else np.nan,
    }


def detection_run(
    seed: int, effect_scale: float, *, athletes: int = 6, days: int = 150
) -> pd.DataFrame:
    """Score every method on one simulated squad; one row per (method, episode kind)."""
    inputs, episodes = simulate_inputs(athletes, days, seed, effect_scale=effect_scale)
    readiness = compute_readiness(inputs, with_text=False)
    flags = method_flags(readiness)
    first = readiness["date"].min() + pd.Timedelta(days=EVAL_FROM_DAY)
    rows = []
    for method in METHODS:
        for kind in (*SCALED_KINDS, "any"):
            eps = episodes if kind == "any" else episodes[episodes["kind"] == kind]
            r = score_detection(flags, eps if kind != "any" else episodes, method, first_day=first)
            if kind != "any":  # false alarms are a property of the squad, not of a kind
                r["false_alarms"] = r["false_alarms_per_athlete_month"] = np.nan
            rows.append({"seed": seed, "effect_scale": effect_scale, "kind": kind, **r})
    return pd.DataFrame(rows)


def detection_curve(
    scales: list[float], seeds: list[int], *, athletes: int = 6, days: int = 150
) -> pd.DataFrame:
    """Pooled detection figures per method, episode kind and effect scale.

    Returns ``method, kind, effect_scale, episodes, sensitivity, delay_days_median,
    false_alarms_per_athlete_month`` (pooled over seeds: detected / episodes, alarms / days).
    """
    runs = pd.concat(
        [detection_run(s, e, athletes=athletes, days=days) for e in scales for s in seeds],
        ignore_index=True,
    )
    return pool_runs(runs)


def pool_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Pool :func:`detection_run` rows over seeds (see :func:`detection_curve`)."""
    g = runs.groupby(["method", "kind", "effect_scale"], sort=True)
    out = g.agg(
        episodes=("episodes", "sum"),
        detected=("detected", "sum"),
        delay_days_median=("delay_days_median", "median"),
        false_alarms=("false_alarms", "sum"),
        clean_athlete_days=("clean_athlete_days", "sum"),
    ).reset_index()
    out["sensitivity"] = out["detected"] / out["episodes"]
    out["false_alarms_per_athlete_month"] = np.where(
        out["kind"] == "any", 30.0 * out["false_alarms"] / out["clean_athlete_days"], np.nan
    )
    return out


def agreement(readiness: pd.DataFrame, *, first_day: pd.Timestamp | None = None) -> pd.DataFrame:
    """Day-level agreement of our flags with each anchor: % agreement and Cohen's kappa."""
    f = method_flags(readiness)
    if first_day is not None:
        f = f[f["date"] >= first_day]
    a = f["workbench"].to_numpy(bool)
    rows = []
    for m in METHODS[1:]:
        b = f[m].to_numpy(bool)
        po = float(np.mean(a == b))
        pe = float(a.mean() * b.mean() + (1 - a.mean()) * (1 - b.mean()))
        rows.append(
            {
                "anchor": m,
                "days": len(a),
                "ours_flagged_pct": 100 * a.mean(),
                "anchor_flagged_pct": 100 * b.mean(),
                "agreement_pct": 100 * po,
                "cohen_kappa": (po - pe) / (1 - pe) if pe < 1 else np.nan,
            }
        )
    return pd.DataFrame(rows)
