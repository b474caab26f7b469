"""Training load: ACWR in three labelled forms and the Performance Manager (CTL/ATL/TSB).

Missing days count as zero load. The ratio is hidden (NaN) for the first 28 days of an
athlete's data and while chronic load is 0. A ratio >= 1.5 raises a *load-spike flag*: the
link between ACWR and injury is disputed (Lolli 2019, Impellizzeri 2020), so it is never
presented as an injury prediction.

TSB follows GoldenCheetah's default ("SB on the following day", ``PMCData.cpp``): the form
shown on day *d* is yesterday's fitness minus yesterday's fatigue, ``TSB_d = CTL_{d-1} -
ATL_{d-1}`` (0 on the first day), i.e. the balance you start the day with, before its
training. The same-day difference ``CTL_d - ATL_d`` (which already contains day *d*'s
session) is kept as ``tsb_same_day``; the two have opposite signs on days whose session
tips the balance.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from workbench.errors import DataFormatError
from workbench.readiness._grid import days_since_first, to_long, to_wide

AcwrMethod = Literal["ewma", "rolling_coupled", "rolling_uncoupled"]
ACWR_METHODS: dict[str, str] = {
    "ewma": "EWMA 7/28 d (Williams 2017)",
    "rolling_coupled": "rolling 7/28 d, coupled (Gabbett 2016)",
    "rolling_uncoupled": "rolling 7 d / days 8-28, uncoupled",
}
ACWR_ZONE = (0.8, 1.3)
LOAD_SPIKE_ACWR = 1.5
ACWR_HIDDEN_DAYS = 28
CTL_DAYS = 42
ATL_DAYS = 7


def ewma(x: np.ndarray, n_days: int) -> np.ndarray:
    """EWMA along axis 0 with λ = 2/(N+1), started at 0: ``y_t = λ·x_t + (1-λ)·y_{t-1}``."""
    lam = 2.0 / (n_days + 1.0)
    return lfilter([lam], [1.0, -(1.0 - lam)], x, axis=0)


def banister(x: np.ndarray, n_days: int) -> np.ndarray:
    """GoldenCheetah decay along axis 0: ``y_t = y_{t-1}·k + x_t·(1-k)``, ``k = e^(-1/N)``."""
    k = np.exp(-1.0 / n_days)
    return lfilter([1.0 - k], [1.0, -k], x, axis=0)


def daily_load_wide(
    sessions: pd.DataFrame, dates: pd.DatetimeIndex, first_day: pd.Series
) -> pd.DataFrame:
    """Daily done load (AU) as dates x athletes; 0 on days without sessions, NaN before start."""
    ids = list(first_day.index)
    done = sessions
    if not sessions.empty:
        done = sessions[sessions["status"] == "done"]
        bad = done["load_au"].isna() | (done["load_au"] < 0)
        if bad.any():
            row = done[bad].iloc[0]
            raise DataFormatError(
                f"{int(bad.sum())} done session(s) without a valid load_au, e.g. "
                f"{row['athlete_id']} on {pd.Timestamp(row['date']).date()}: "
                "enter sRPE x minutes or the device load",
                field="load_au",
            )
        done = done.groupby(["athlete_id", "date"], as_index=False)["load_au"].sum()
    wide = to_wide(done, "load_au", dates, ids).fillna(0.0)
    before = days_since_first(first_day, dates) < 0
    return wide.mask(before)


def load_metrics_wide(load: pd.DataFrame, first_day: pd.Series) -> dict[str, pd.DataFrame]:
    """ACWR (three forms), spike flag inputs and PMC from a dates x athletes load frame.

    Returns a dict of wide frames: ``load_au, acute_ewma, chronic_ewma, acwr_ewma,
    acwr_rolling_coupled, acwr_rolling_uncoupled, ctl, atl, tsb, tsb_same_day``;
    ``tsb`` is yesterday's ``ctl - atl`` (GoldenCheetah), ``tsb_same_day`` today's.
    """
    x = load.fillna(0.0).to_numpy()
    idx, cols = load.index, load.columns

    def frame(a: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(a, index=idx, columns=cols)

    acute_e, chronic_e = ewma(x, 7), ewma(x, 28)
    c = np.cumsum(np.vstack([np.zeros((1, x.shape[1])), x]), axis=0)
    n = x.shape[0]
    t = np.arange(n)
    sum7 = c[t + 1] - c[np.maximum(t + 1 - 7, 0)]
    sum28 = c[t + 1] - c[np.maximum(t + 1 - 28, 0)]
    hidden = days_since_first(first_day, idx).to_numpy() < ACWR_HIDDEN_DAYS
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = {
            "acwr_ewma": (acute_e, chronic_e),
            "acwr_rolling_coupled": (sum7 / 7.0, sum28 / 28.0),
            "acwr_rolling_uncoupled": (sum7 / 7.0, (sum28 - sum7) / 21.0),
        }
        out = {}
        for name, (acute, chronic) in ratios.items():
            r = acute / chronic
            r[hidden | ~(chronic > 0)] = np.nan
            out[name] = frame(r)
    ctl, atl = banister(x, CTL_DAYS), banister(x, ATL_DAYS)
    same_day = ctl - atl
    # GoldenCheetah: sb[day + 1] = lts[day] - sts[day]; 0 before any load (x is 0 there)
    following_day = np.vstack([np.zeros((1, x.shape[1])), same_day[:-1]])
    before = load.isna().to_numpy()
    for a in (acute_e, chronic_e, ctl, atl, same_day, following_day):
        a[before] = np.nan
    out.update(
        load_au=load,
        acute_ewma=frame(acute_e),
        chronic_ewma=frame(chronic_e),
        ctl=frame(ctl),
        atl=frame(atl),
        tsb=frame(following_day),
        tsb_same_day=frame(same_day),
    )
    return out


def training_load(
    sessions: pd.DataFrame,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Daily load, ACWR (three forms) and PMC per athlete.

    Parameters
    ----------
    sessions:
        ``training_sessions`` rows (``athlete_id, date, status, load_au``); only ``done`` count.
    start, end:
        Date range of the output; defaults to each athlete's first session and the last
        session of the squad.

    Returns
    -------
    pandas.DataFrame
        One row per athlete-day: ``athlete_id, date, load_au`` (AU, 0 on rest days),
        ``acwr_ewma, acwr_rolling_coupled, acwr_rolling_uncoupled`` (NaN for the first 28
        days and while chronic load is 0), ``load_spike_flag`` (EWMA ACWR >= 1.5),
        ``ctl, atl`` (AU/day; CTL 42 d, ATL 7 d, decay e^(-1/N)), ``tsb`` (GoldenCheetah's
        "SB on the following day": yesterday's CTL - ATL, 0 on the first day) and
        ``tsb_same_day`` (today's CTL - ATL, including today's session).
    """
    done = sessions[sessions["status"] == "done"]
    if done.empty:
        raise DataFormatError("no done training sessions to compute load from", field="status")
    first = done.groupby("athlete_id")["date"].min()
    lo = pd.Timestamp(start) if start is not None else first.min()
    hi = pd.Timestamp(end) if end is not None else done["date"].max()
    dates = pd.date_range(min(lo, first.min()), hi, freq="D")
    load = daily_load_wide(sessions, dates, first)
    m = load_metrics_wide(load, first)
    spike = (m["acwr_ewma"] >= LOAD_SPIKE_ACWR).astype(float)
    m["load_spike_flag"] = spike
    active = load.notna() & pd.DataFrame(
        np.repeat((dates >= lo)[:, None], len(first), axis=1), index=dates, columns=load.columns
    )
    keys = ["load_au", "acwr_ewma", "acwr_rolling_coupled", "acwr_rolling_uncoupled"]
    keys += ["load_spike_flag", "ctl", "atl", "tsb", "tsb_same_day"]
    out = to_long({k: m[k] for k in keys}, active)
    out["load_spike_flag"] = out["load_spike_flag"].astype(bool)
    return out
