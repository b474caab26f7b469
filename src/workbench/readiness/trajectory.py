"""Recovery trajectory: a per-athlete impulse-response fit of lnRMSSD to training load.

Model (a one-component Banister-type fatigue response)::

    lnRMSSD_t = a − b · F_t,    F_t = e^(−1/τ) · F_{t−1} + L_{t−1}

where ``L`` is the daily load (AU, missing days 0) and τ (days) is chosen by grid search,
``a`` and ``b`` by least squares. The fit's RMSE (ln units) is reported with every
prediction.

Honest error (issue 14.6): besides the in-sample fit, the model is scored out of sample by
rolling origin: at every origin (each ``ORIGIN_STEP_DAYS`` once ``MIN_FIT_DAYS`` valid
mornings are behind it) it is refitted on the days before the origin and predicts the next
``ORIGIN_STEP_DAYS`` mornings from the loads actually done. ``r2_oos`` compares those
predictions with predicting the training mean (``1 - SSE/SST``; 0 = no better than the
athlete's mean, negative = worse). When the in-sample or the out-of-sample R² is below
``MIN_R2`` the trajectory says "not enough data" and gives no days-to-normal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from workbench.errors import DataFormatError

TAU_GRID_DAYS = np.round(np.arange(0.5, 10.01, 0.25), 2)
MIN_FIT_DAYS = 21
#: Below this R² (in or out of sample) the trajectory is "not enough data", not a forecast.
MIN_R2 = 0.3
#: Rolling-origin step and forecast length (days).
ORIGIN_STEP_DAYS = 7


@dataclass(frozen=True)
class RecoveryTrajectory:
    """Predicted lnRMSSD after a planned session.

    Attributes
    ----------
    athlete_id, date:
        Whose trajectory, and the day the planned session is done.
    planned_load_au:
        Load of the planned session (AU).
    tau_days, a_ln, b_ln_per_au:
        Fitted decay time (days), intercept (ln ms) and gain (ln ms per AU of fatigue).
    rmse_ln, r2, n_days:
        Fit error (ln units), coefficient of determination and days used.
    days_to_normal:
        Mornings after the session until the predicted lnRMSSD is back at or above
        ``normal_low`` (1 = the next morning); NaN if not within the horizon.
    normal_low, normal_high:
        The athlete's normal range on ``date`` (ln ms).
    curve:
        ``day`` (mornings after the session, 0 = today), ``date``, ``predicted_lnrmssd``,
        ``lower``/``upper`` (± RMSE), ``in_normal_range`` (bool).
    message:
        One sentence for the report, e.g. "back in the normal range in 2 days (fit RMSE 0.09)",
        or "not enough data ..." when the fit is not usable.
    r2_oos, rmse_oos_ln, n_oos:
        Rolling-origin out-of-sample R² (vs the training mean), RMSE (ln units) and the
        number of predicted mornings (NaN / 0 when there is no origin yet).
    usable:
        False when ``r2`` or ``r2_oos`` is below ``MIN_R2`` (or no out-of-sample check was
        possible): then ``days_to_normal`` is NaN and the curve is only illustrative.
    """

    athlete_id: str
    date: pd.Timestamp
    planned_load_au: float
    tau_days: float
    a_ln: float
    b_ln_per_au: float
    rmse_ln: float
    r2: float
    n_days: int
    days_to_normal: float
    normal_low: float
    normal_high: float
    curve: pd.DataFrame
    message: str
    r2_oos: float = float("nan")
    rmse_oos_ln: float = float("nan")
    n_oos: int = 0
    usable: bool = True


def _fatigue(load: np.ndarray, tau_days: float) -> np.ndarray:
    """``F_t = k·F_{t−1} + L_{t−1}`` (load through yesterday drives this morning)."""
    k = np.exp(-1.0 / tau_days)
    prev = np.concatenate([[0.0], load[:-1]])
    return lfilter([1.0], [1.0, -k], prev)


def fit_impulse_response(
    load_au: np.ndarray, lnrmssd: np.ndarray, exclude: np.ndarray | None = None
) -> dict[str, float]:
    """Fit ``lnRMSSD = a − b·F(τ)`` to one athlete's consecutive days.

    Parameters
    ----------
    load_au:
        Daily load (AU), consecutive days, 0 on rest days.
    lnrmssd:
        Morning lnRMSSD of the same days (NaN where missing).
    exclude:
        Days left out of the fit (bool), e.g. flagged illness: not a load response.

    Returns
    -------
    dict
        ``tau_days, a_ln, b_ln_per_au, rmse_ln, r2, n_days``.
    """
    load = np.nan_to_num(np.asarray(load_au, dtype=float))
    y = np.asarray(lnrmssd, dtype=float)
    ok = np.isfinite(y)
    ok[:7] = False  # the fatigue state needs a week of load history
    if exclude is not None:
        ok &= ~np.asarray(exclude, dtype=bool)
    n = int(ok.sum())
    if n < MIN_FIT_DAYS:
        raise DataFormatError(
            f"only {n} valid HRV mornings with a week of load history; the recovery fit "
            f"needs >= {MIN_FIT_DAYS}",
            field="lnrmssd",
        )
    best = None
    for tau in TAU_GRID_DAYS:
        f = _fatigue(load, tau)[ok]
        x = np.column_stack([np.ones(n), -f])
        coef, *_ = np.linalg.lstsq(x, y[ok], rcond=None)
        if coef[1] < 0:  # load that raises HRV is not a fatigue response: constrain b >= 0
            coef = np.array([y[ok].mean(), 0.0])
        sse = float(np.sum((y[ok] - x @ coef) ** 2))
        if best is None or sse < best[0]:
            best = (sse, tau, coef)
    sse, tau, coef = best
    sst = float(np.sum((y[ok] - y[ok].mean()) ** 2))
    return {
        "tau_days": float(tau),
        "a_ln": float(coef[0]),
        "b_ln_per_au": float(coef[1]),
        "rmse_ln": float(np.sqrt(sse / n)),
        "r2": float(1.0 - sse / sst) if sst > 0 else float("nan"),
        "n_days": n,
    }


def rolling_origin_error(
    load_au: np.ndarray,
    lnrmssd: np.ndarray,
    exclude: np.ndarray | None = None,
    *,
    step_days: int = ORIGIN_STEP_DAYS,
) -> dict[str, float]:
    """Out-of-sample error of :func:`fit_impulse_response` by rolling origin.

    At each origin ``t`` (every ``step_days`` days, once the days before ``t`` hold
    ``MIN_FIT_DAYS`` usable mornings) the model is fitted on days ``< t`` only and predicts
    the usable mornings ``t .. t + step_days - 1`` from the loads actually done.

    Returns
    -------
    dict
        ``r2_oos`` (1 - SSE/SST, SST around each fold's training mean), ``rmse_oos_ln``,
        ``n_oos`` (predicted mornings), ``n_origins``. NaN figures when no origin fits.
    """
    load = np.nan_to_num(np.asarray(load_au, dtype=float))
    y = np.asarray(lnrmssd, dtype=float)
    usable = np.isfinite(y)
    usable[:7] = False
    if exclude is not None:
        usable &= ~np.asarray(exclude, dtype=bool)
    cum = np.cumsum(usable)
    starts = np.flatnonzero(cum >= MIN_FIT_DAYS)
    sse = sst = 0.0
    n = origins = 0
    if starts.size:
        for t in range(int(starts[0]) + 1, len(y), step_days):
            test = np.zeros(len(y), bool)
            test[t : t + step_days] = True
            test &= usable
            if not test.any():
                continue
            train_ex = ~usable.copy()
            train_ex[t:] = True
            fit = fit_impulse_response(load[:t], y[:t], exclude=train_ex[:t])
            f = _fatigue(load, fit["tau_days"])
            pred = fit["a_ln"] - fit["b_ln_per_au"] * f
            mean_train = float(np.mean(y[:t][~train_ex[:t]]))
            sse += float(np.sum((y[test] - pred[test]) ** 2))
            sst += float(np.sum((y[test] - mean_train) ** 2))
            n += int(test.sum())
            origins += 1
    if n == 0:
        return {"r2_oos": float("nan"), "rmse_oos_ln": float("nan"), "n_oos": 0, "n_origins": 0}
    return {
        "r2_oos": 1.0 - sse / sst if sst > 0 else float("nan"),
        "rmse_oos_ln": float(np.sqrt(sse / n)),
        "n_oos": n,
        "n_origins": origins,
    }


def recovery_trajectory(
    readiness: pd.DataFrame,
    athlete_id: str,
    planned_load_au: float | None = None,
    date: str | pd.Timestamp | None = None,
    *,
    horizon_days: int = 14,
) -> RecoveryTrajectory:
    """Predict how many mornings an athlete needs to be back in the normal range.

    Parameters
    ----------
    readiness:
        Output of :func:`workbench.readiness.compute_readiness` (uses ``load_au``,
        ``lnrmssd``, ``normal_low``, ``normal_high``).
    athlete_id:
        The athlete.
    planned_load_au:
        Load (AU, e.g. sRPE × minutes) of the session planned on ``date``; ``None`` = the
        athlete's typical hard day (90th percentile of their training days' load).
    date:
        Day of the planned session; default the athlete's last day.
    horizon_days:
        How many mornings to predict.

    Returns
    -------
    RecoveryTrajectory
        Fit parameters with RMSE, ``days_to_normal`` and the predicted ``curve``. Today's
        deviation that load does not explain is carried over and fades with the same τ.
        Days with an illness flag or overtraining warning are left out of the fit.
    """
    r = readiness[readiness["athlete_id"] == athlete_id].sort_values("date")
    if r.empty:
        raise DataFormatError(f"no readiness rows for athlete {athlete_id!r}", field="athlete_id")
    if planned_load_au is None:
        days_load = r["load_au"][r["load_au"] > 0]
        planned_load_au = float(days_load.quantile(0.9)) if len(days_load) else 0.0
    if not np.isfinite(planned_load_au) or planned_load_au < 0:
        raise DataFormatError(f"planned_load_au must be >= 0, got {planned_load_au}")
    day = r["date"].iloc[-1] if date is None else pd.Timestamp(date)
    r = r[r["date"] <= day]
    if r.empty or r["date"].iloc[-1] != day:
        raise DataFormatError(f"{athlete_id}: no readiness row on {day.date()}", field="date")
    load = r["load_au"].fillna(0.0).to_numpy()
    ln = r["lnrmssd"].to_numpy()
    flagged = (r["illness_flag"].astype(bool) | r["overtraining_warning"].astype(bool)).to_numpy()
    fit = fit_impulse_response(load, ln, exclude=flagged)
    oos = rolling_origin_error(load, ln, exclude=flagged)
    usable = bool(
        np.isfinite(fit["r2"])
        and fit["r2"] >= MIN_R2
        and np.isfinite(oos["r2_oos"])
        and oos["r2_oos"] >= MIN_R2
    )
    tau, a, b = fit["tau_days"], fit["a_ln"], fit["b_ln_per_au"]
    k = np.exp(-1.0 / tau)
    hist = np.append(load[:-1], planned_load_au)
    fat = _fatigue(hist, tau)
    f_today = fat[-1]
    recent = np.isfinite(ln[-3:])
    resid = ln[-3:][recent] - (a - b * fat[-3:][recent])
    offset = float(resid.mean()) if resid.size else 0.0
    steps = np.arange(horizon_days + 1)
    # F_{d+j} = k^j F_d + k^(j-1) P for j >= 1 (P = planned load on day d)
    f = k**steps * f_today + np.where(steps >= 1, k ** np.maximum(steps - 1, 0), 0.0) * (
        planned_load_au
    )
    pred = a - b * f + offset * k**steps
    low, high = float(r["normal_low"].iloc[-1]), float(r["normal_high"].iloc[-1])
    inside = pred >= low if np.isfinite(low) else np.zeros(pred.shape, bool)
    after = np.flatnonzero(inside[1:])
    days = float(after[0] + 1) if after.size else float("nan")
    curve = pd.DataFrame(
        {
            "day": steps,
            "date": day + pd.to_timedelta(steps, unit="D"),
            "predicted_lnrmssd": pred,
            "lower": pred - fit["rmse_ln"],
            "upper": pred + fit["rmse_ln"],
            "in_normal_range": inside,
        }
    )
    oos_txt = (
        f"out-of-sample R² {oos['r2_oos']:.2f}, RMSE {oos['rmse_oos_ln']:.2f} ln units"
        if oos["n_oos"]
        else "no out-of-sample check yet"
    )
    if not usable:
        days = float("nan")
        msg = (
            f"not enough data to predict recovery: the load model explains too little "
            f"(in-sample R² {fit['r2']:.2f}, {oos_txt}; needs >= {MIN_R2})"
        )
    elif not np.isfinite(low):
        msg = "no normal range yet (insufficient HRV data)"
    elif np.isnan(days):
        msg = f"not back in the normal range within {horizon_days} days"
    else:
        msg = f"back in the normal range in {days:.0f} day{'s' if days != 1 else ''}"
    if usable:
        msg += (
            f" after a {planned_load_au:.0f} AU session (fit RMSE {fit['rmse_ln']:.2f} ln units; "
            f"{oos_txt})"
        )
    return RecoveryTrajectory(
        athlete_id=athlete_id,
        date=day,
        planned_load_au=float(planned_load_au),
        tau_days=tau,
        a_ln=a,
        b_ln_per_au=b,
        rmse_ln=fit["rmse_ln"],
        r2=fit["r2"],
        n_days=fit["n_days"],
        days_to_normal=days,
        normal_low=low,
        normal_high=high,
        curve=curve,
        message=msg,
        r2_oos=float(oos["r2_oos"]),
        rmse_oos_ln=float(oos["rmse_oos_ln"]),
        n_oos=int(oos["n_oos"]),
        usable=usable,
    )
