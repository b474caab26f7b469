"""Squad summary: one row per athlete for the day of the review."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from workbench.errors import DataFormatError
from workbench.readiness.daily import compute_readiness
from workbench.readiness.inputs import load_inputs
from workbench.store import Store

#: Days of history loaded before the review day (60-day normal range + a month of warm-up).
HISTORY_DAYS = 90

SUMMARY_COLUMNS = [
    "athlete_id",
    "name",
    "group_name",
    "sport",
    "date",
    "score",
    "band",
    "advice_action",
    "hrv_flag",
    "hrv_pct_below_baseline",
    "hrv_deficit_pct",
    "rhr_z",
    "rhr_flag",
    "sleep_total_min",
    "sleep_need_min",
    "acwr",
    "acwr_method",
    "load_spike_flag",
    "tsb",
    "overtraining_warning",
    "illness_flag",
    "top_reason",
    "reasons",
    "contributors",
    "advice",
    "warning_evidence",
    "data_quality",
]


def summarize_day(
    readiness: pd.DataFrame, athletes: pd.DataFrame, date: str | pd.Timestamp | None = None
) -> pd.DataFrame:
    """One row per athlete: their readiness row on ``date`` (or their latest before it).

    Returns
    -------
    pandas.DataFrame
        :data:`SUMMARY_COLUMNS`, sorted by score (lowest first, insufficient data last):
        identity (``athlete_id, name, group_name, sport``), ``date`` of the row used, score,
        band, advice action, HRV/RHR/sleep/load flags, warnings, ``top_reason`` (first reason)
        and the full ``reasons``, ``contributors``, ``advice``, ``warning_evidence``.
    """
    r = readiness if date is None else readiness[readiness["date"] <= pd.Timestamp(date)]
    if r.empty:
        raise DataFormatError(f"no readiness rows on or before {date}", field="date")
    last = r.sort_values("date").groupby("athlete_id", sort=False).tail(1)
    meta = [c for c in ("athlete_id", "name", "group_name", "sport") if c in athletes]
    out = last.merge(athletes[meta], on="athlete_id", how="left")
    out["top_reason"] = [rs[0] if isinstance(rs, list) and rs else "" for rs in out["reasons"]]
    out = out.reindex(columns=SUMMARY_COLUMNS)
    return out.sort_values("score", na_position="last", ignore_index=True)


def latest_day(store: Store) -> pd.Timestamp:
    """The latest day with wellness or HRV data in the store (``DataFormatError`` if none)."""
    dates = [
        store.read("wellness_daily", columns=["date"])["date"].max(),
        store.read("hrv_readings", columns=["date"])["date"].max(),
    ]
    dates = [d for d in dates if pd.notna(d)]
    if not dates:
        raise DataFormatError(f"no wellness or HRV data in {store.url}")
    return pd.Timestamp(max(dates))


def squad_summary(
    store: Store,
    date: dt.date | str | None = None,
    *,
    athlete_ids: list[str] | None = None,
    acwr_method: str = "ewma",
) -> pd.DataFrame:
    """Load the last 90 days before ``date`` and summarise every athlete on that day.

    Parameters
    ----------
    store:
        An open store.
    date:
        Review day; ``None`` = the latest day with wellness or HRV data in the store.
    athlete_ids:
        Restrict to these athletes (default all).
    acwr_method:
        ACWR form (see :func:`workbench.readiness.compute_readiness`).

    Returns
    -------
    pandas.DataFrame
        See :func:`summarize_day`.
    """
    day = latest_day(store) if date is None else pd.Timestamp(date)
    start = day - pd.Timedelta(days=HISTORY_DAYS)
    inputs = load_inputs(store, athlete_ids, start=start.date(), end=day.date())
    readiness = compute_readiness(inputs, acwr_method=acwr_method)
    return summarize_day(readiness, inputs.athletes, day)
