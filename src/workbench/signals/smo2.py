"""Muscle-oxygen (SmO₂ / NIRS) cleaning, interval detection and recovery kinetics.

Pure functions over DataFrames with a ``t_s`` column (seconds) and one or more signal
columns (``smo2_pct``, ``smo2_pct_2``, ``o2hb_um`` …), as returned by
:func:`workbench.io.read_nirs`. Nothing is changed silently: :func:`smo2_clean` returns a
report of every change, :func:`smo2_kinetics` a ``flags`` column per interval.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, signal

from workbench.signals.checks import check_sampling_rate

__all__ = ["smo2_clean", "smo2_intervals", "smo2_kinetics", "smo2_recovery_model"]

_DEFAULT_INVALID = (0.0, 100.0, 102.3, 127.0, 255.0, -1.0)


def _signal_columns(df: pd.DataFrame, columns: Sequence[str] | None) -> list[str]:
    if columns is not None:
        missing = [c for c in columns if c not in df]
        if missing:
            raise ValueError(f"columns {missing} not in frame (has {list(df.columns)})")
        return list(columns)
    cols = [c for c in df.columns if c.startswith("smo2_pct")]
    if not cols:
        raise ValueError(f"no smo2_pct* column in frame (has {list(df.columns)}); pass columns=")
    return cols


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Start/stop (exclusive) index pairs of the True runs of ``mask``."""
    m = np.concatenate([[False], mask.astype(bool), [False]])
    edges = np.flatnonzero(np.diff(m.astype(np.int8)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=False))


def smo2_clean(
    df: pd.DataFrame,
    *,
    sampling_rate_hz: float,
    columns: Sequence[str] | None = None,
    invalid_values: Iterable[float] = _DEFAULT_INVALID,
    valid_range: tuple[float, float] | None = (0.0, 100.0),
    outlier_window_s: float = 15.0,
    outlier_k: float = 4.0,
    max_gap_s: float = 10.0,
    lowpass_hz: float | None = 0.1,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean SmO₂ (or any NIRS) columns; report every change.

    Steps per column: (1) values equal to ``invalid_values`` (Moxy 0/100 and vendor codes) or
    outside ``valid_range`` become NaN; (2) rolling-median outlier rejection: a value further
    than ``outlier_k`` robust SDs (1.4826 × rolling MAD, at least 1 unit) from the centred
    rolling median over ``outlier_window_s`` becomes NaN; (3) NaN gaps up to ``max_gap_s``
    are linearly interpolated over ``t_s``; longer gaps stay NaN; (4) a zero-phase 2nd-order
    Butterworth low-pass at ``lowpass_hz`` on each NaN-free run (skipped, and reported, when
    the cutoff is not below the Nyquist frequency or a run is too short).

    Parameters
    ----------
    df:
        Frame with ``t_s`` (s) and signal columns.
    sampling_rate_hz:
        Nominal sampling rate of the rows (Hz); sets window lengths in samples.
    columns:
        Columns to clean (default: every ``smo2_pct*``). Use ``valid_range=None`` for
        haemoglobin columns in µM.

    Returns
    -------
    cleaned : DataFrame
        Copy of ``df`` with the cleaned columns.
    report : DataFrame
        One row per column: ``column``, ``n_samples``, ``n_invalid``, ``n_outliers``,
        ``n_interpolated``, ``n_missing_after`` (NaN left in long gaps),
        ``lowpass_hz`` (applied cutoff or NaN) and ``note``.
    """
    fs = check_sampling_rate(sampling_rate_hz)
    cols = _signal_columns(df, columns)
    if "t_s" not in df:
        raise ValueError("frame needs a t_s column (seconds)")
    t = df["t_s"].to_numpy(float)
    out = df.copy()
    invalid = np.asarray(list(invalid_values), dtype=float)
    win = max(3, int(round(outlier_window_s * fs)) | 1)
    rows = []
    for col in cols:
        x = out[col].to_numpy(float).copy()
        n = x.size
        notes: list[str] = []
        bad = np.isin(x, invalid) if invalid.size else np.zeros(n, bool)
        if valid_range is not None:
            with np.errstate(invalid="ignore"):
                bad |= (x < valid_range[0]) | (x > valid_range[1])
        n_invalid = int(np.count_nonzero(bad & ~np.isnan(x)))
        x[bad] = np.nan
        s = pd.Series(x)
        med = s.rolling(win, center=True, min_periods=max(3, win // 3)).median()
        mad = (s - med).abs().rolling(win, center=True, min_periods=max(3, win // 3)).median()
        scale = np.maximum(1.4826 * mad.to_numpy(), 1.0)
        dev = np.abs(x - med.to_numpy())
        with np.errstate(invalid="ignore"):
            outl = dev > outlier_k * scale
        n_out = int(np.count_nonzero(outl))
        x[outl] = np.nan
        # interpolate short gaps over time
        nan = np.isnan(x)
        n_interp = 0
        good = np.flatnonzero(~nan)
        if good.size >= 2:
            for a, b in _runs(nan):
                if a == 0 or b == n:
                    continue  # leading/trailing gaps are not interpolated
                if t[b] - t[a - 1] <= max_gap_s:
                    x[a:b] = np.interp(t[a:b], [t[a - 1], t[b]], [x[a - 1], x[b]])
                    n_interp += b - a
        applied = float("nan")
        if lowpass_hz is not None:
            nyq = fs / 2
            if not 0 < lowpass_hz < nyq:
                notes.append(f"low-pass skipped: {lowpass_hz} Hz not below Nyquist {nyq:g} Hz")
            else:
                b_, a_ = signal.butter(2, lowpass_hz / nyq)
                padlen = 3 * max(len(a_), len(b_))
                short = 0
                for a, b in _runs(~np.isnan(x)):
                    if b - a > padlen:
                        x[a:b] = signal.filtfilt(b_, a_, x[a:b])
                    else:
                        short += 1
                if short:
                    notes.append(f"{short} run(s) too short to low-pass, left unfiltered")
                applied = float(lowpass_hz)
        out[col] = x
        rows.append(
            {
                "column": col,
                "n_samples": n,
                "n_invalid": n_invalid,
                "n_outliers": n_out,
                "n_interpolated": n_interp,
                "n_missing_after": int(np.count_nonzero(np.isnan(x))),
                "lowpass_hz": applied,
                "note": "; ".join(notes),
            }
        )
    return out, pd.DataFrame(rows)


def smo2_intervals(
    df: pd.DataFrame,
    *,
    sampling_rate_hz: float,
    column: str = "smo2_pct",
    min_work_s: float = 60.0,
    smooth_s: float = 10.0,
    use_laps: bool = True,
) -> pd.DataFrame:
    """Work intervals of a session: from ``lap`` changes when laps exist, else from the signal.

    Signal detection: the column is smoothed (rolling median over ``smooth_s``); work is where
    it stays below the midpoint between its 10th and 90th percentiles for at least
    ``min_work_s``. The start is moved back to where the fall began and the end to the
    lowest point before the rise. With laps, each lap whose median lies below that midpoint
    is a work interval.

    Returns
    -------
    DataFrame
        ``interval`` (1-based), ``work_start_s``, ``work_end_s``, ``source``
        (``"laps"`` or ``"signal"``).
    """
    fs = check_sampling_rate(sampling_rate_hz)
    if column not in df:
        raise ValueError(f"column {column!r} not in frame")
    t = df["t_s"].to_numpy(float)
    x = pd.Series(df[column].to_numpy(float)).interpolate(limit_direction="both")
    if x.isna().all():
        raise ValueError(f"column {column!r} has no values")
    k = max(1, int(round(smooth_s * fs)))
    sm = x.rolling(k, center=True, min_periods=1).median().to_numpy()
    lo, hi = np.nanpercentile(sm, [10, 90])
    thr = (lo + hi) / 2
    rows: list[tuple[float, float, str]] = []
    if use_laps and "lap" in df and df["lap"].nunique() > 1:
        lap = df["lap"].to_numpy()
        change = np.flatnonzero(np.diff(lap) != 0) + 1
        bounds = np.concatenate([[0], change, [len(lap)]])
        for a, b in zip(bounds[:-1], bounds[1:], strict=False):
            if t[b - 1] - t[a] >= min_work_s and np.median(sm[a:b]) < thr:
                rows.append((t[a], t[b - 1], "laps"))
    else:
        for a, b in _runs(sm < thr):
            if t[b - 1] - t[a] < min_work_s:
                continue
            s = a
            while s > 0 and sm[s - 1] > sm[s]:  # back to where the fall began
                s -= 1
            e = b - 1
            while e > a and sm[e - 1] < sm[e]:  # back from the rise to the lowest point
                e -= 1
            # the lowest point of the last part of the work bout
            tail = slice(max(a, e - k), min(b, e + k + 1))
            e = tail.start + int(np.argmin(sm[tail]))
            rows.append((t[s], t[e], "signal"))
    out = pd.DataFrame(rows, columns=["work_start_s", "work_end_s", "source"])
    out.insert(0, "interval", np.arange(1, len(out) + 1))
    return out


def smo2_recovery_model(
    t_s: np.ndarray, a: float, b: float, td_s: float, tau_s: float
) -> np.ndarray:
    """Mono-exponential recovery: ``A`` before ``TD``, ``A + B·(1 − e^(−(t−TD)/τ))`` after.

    ``t_s`` is time since the end of work (s); returns SmO₂ (%).
    """
    dt_ = np.clip(np.asarray(t_s, float) - td_s, 0.0, None)
    return a + b * (1.0 - np.exp(-dt_ / tau_s))


def _grid_start(tr: np.ndarray, y: np.ndarray, span: float) -> tuple[list[float], float]:
    """Best (A, B, TD, τ) on a TD × τ grid, then on a finer grid around it.

    For fixed TD and τ the model is linear in A and B, which are solved by least squares
    (B ≥ 0). Coarse grid: TD 41 steps over [0, span/2], τ 60 log-spaced steps over
    [0.1 s, 10·span]; fine grid: ± one coarse step around the best, 41 × 41. Returns the
    best parameters and their sum of squares.
    """
    tds = np.linspace(0.0, span / 2.0, 41)
    taus = np.geomspace(0.1, 10.0 * span, 60)
    best, best_sse = _grid_search(tr, y, tds, taus)
    step_td, ratio = tds[1] - tds[0], taus[1] / taus[0]
    fine_td = np.linspace(max(0.0, best[2] - step_td), min(span / 2, best[2] + step_td), 41)
    fine_tau = np.geomspace(max(0.1, best[3] / ratio), min(10.0 * span, best[3] * ratio), 41)
    fine, fine_sse = _grid_search(tr, y, fine_td, fine_tau)
    return (fine, fine_sse) if fine_sse < best_sse else (best, best_sse)


def _grid_search(
    tr: np.ndarray, y: np.ndarray, tds: np.ndarray, taus: np.ndarray
) -> tuple[list[float], float]:
    best, best_sse = (
        [float(y.mean()), 0.0, 0.0, float(taus[-1])],
        float(np.sum((y - y.mean()) ** 2)),
    )
    ym = y.mean()
    for td in tds:
        dt_ = np.clip(tr - td, 0.0, None)
        g = 1.0 - np.exp(-dt_[None, :] / taus[:, None])  # (n_tau, n)
        gm = g.mean(axis=1, keepdims=True)
        gc = g - gm
        var = np.einsum("ij,ij->i", gc, gc)
        with np.errstate(invalid="ignore", divide="ignore"):
            bb = np.where(var > 0, gc @ (y - ym) / var, 0.0)
        bb = np.maximum(bb, 0.0)
        aa = ym - bb * gm[:, 0]
        resid = y[None, :] - (aa[:, None] + bb[:, None] * g)
        sse = np.einsum("ij,ij->i", resid, resid)
        j = int(np.argmin(sse))
        if sse[j] < best_sse:
            best_sse = float(sse[j])
            best = [float(aa[j]), float(bb[j]), float(td), float(taus[j])]
    return best, best_sse


def _fit_recovery(tr: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Least-squares mono-exponential fit, started from several points (global, not local).

    Starts: the best point of a TD × τ grid (:func:`_grid_start`, A and B solved exactly)
    and the half-time guess used before; each is refined by bounded ``curve_fit`` and the
    fit with the lowest sum of squares is kept. One local start used to stop in a local
    minimum (τ 14 % off on the mnirs Moxy interval file).
    """
    nan = {
        "fit_a_pct": np.nan,
        "fit_b_pct": np.nan,
        "td_s": np.nan,
        "tau_s": np.nan,
        "r2": np.nan,
        "rmse_pct": np.nan,
    }
    ok = ~np.isnan(y)
    tr, y = tr[ok], y[ok]
    if tr.size < 6 or np.ptp(y) <= 0:
        return nan
    a0, b0 = float(y[: max(1, tr.size // 20)].mean()), float(np.max(y) - y[0])
    span = float(tr[-1] - tr[0]) or 1.0
    half = a0 + b0 / 2
    idx = np.flatnonzero(y >= half)
    tau0 = float(max(tr[idx[0]], 1.0) / np.log(2)) if idx.size else span / 3
    grid_p, grid_sse = _grid_start(tr, y, span)
    lower, upper = [-np.inf, 0.0, 0.0, 0.1], [np.inf, np.inf, span / 2, 10 * span]
    starts = [grid_p, [a0, max(b0, 1e-3), 0.0, min(tau0, span)]]
    best_p, best_sse = (grid_p, grid_sse) if grid_p[1] > 0 else (None, np.inf)
    for p0 in starts:
        p0 = [float(np.clip(v, lo + 1e-9 if np.isfinite(lo) else v, hi)) for v, lo, hi in
              zip(p0, lower, upper, strict=True)]  # fmt: skip
        try:
            p, _ = optimize.curve_fit(
                smo2_recovery_model, tr, y, p0=p0, bounds=(lower, upper), maxfev=5000
            )
        except (RuntimeError, ValueError):
            continue
        sse = float(np.sum((y - smo2_recovery_model(tr, *p)) ** 2))
        if sse < best_sse:
            best_p, best_sse = list(p), sse
    if best_p is None:
        return nan
    p = best_p
    ss_res = best_sse
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    return {
        "fit_a_pct": p[0],
        "fit_b_pct": p[1],
        "td_s": p[2],
        "tau_s": p[3],
        "r2": 1 - ss_res / ss_tot if ss_tot > 0 else np.nan,
        "rmse_pct": float(np.sqrt(ss_res / y.size)),
    }


def smo2_kinetics(
    df: pd.DataFrame,
    *,
    sampling_rate_hz: float,
    column: str = "smo2_pct",
    intervals: pd.DataFrame | Sequence[tuple[float, float]] | None = None,
    baseline_s: float = 30.0,
    slope_window_s: float = 10.0,
    max_recovery_s: float = 300.0,
    peak_smooth_s: float = 5.0,
) -> pd.DataFrame:
    """Desaturation and recovery kinetics, one row per work interval.

    Parameters
    ----------
    df:
        Frame with ``t_s`` (s) and ``column`` — clean it first with :func:`smo2_clean`.
    sampling_rate_hz:
        Nominal sampling rate of the rows (Hz).
    intervals:
        Work intervals as a frame with ``work_start_s``/``work_end_s`` (e.g. from laps or
        recording markers) or ``(start_s, end_s)`` pairs; default :func:`smo2_intervals`.
    baseline_s:
        Window before each work start whose mean is the baseline.
    slope_window_s:
        Window after the work end for the reoxygenation slope.
    max_recovery_s:
        Longest recovery analysed (cut earlier by the next work interval or the data end).
    peak_smooth_s:
        Centred moving-mean window (s, at least 3 samples) whose maximum is the recovery
        peak: the raw maximum (``0``) is the noisiest sample and made the half time read long.

    Returns
    -------
    DataFrame
        ``interval``, ``work_start_s``, ``work_end_s``, ``baseline_pct`` (mean before work),
        ``end_work_pct`` (mean of the last 5 s of work), ``min_pct``,
        ``desat_depth_pct`` (baseline − min), ``desat_rate_pct_s`` (depth / time from work
        start to the minimum, ≥ 0), ``recovery_end_s``, ``peak_pct`` (maximum of the
        recovery smoothed over ``peak_smooth_s``),
        ``half_recovery_s`` (from work end until the signal first reaches halfway from
        ``end_work_pct`` to ``peak_pct``), mono-exponential fit of the recovery
        (``fit_a_pct``, ``fit_b_pct``, ``td_s``, ``tau_s``, ``r2``, ``rmse_pct``; see
        :func:`smo2_recovery_model`; least squares started from a TD × τ grid and the
        half-time guess, the lowest of the refined fits kept), ``tau_quality`` (``model``;
        ``descriptive (r² < 0.8)`` when the curve does not describe the recovery and τ is
        only a descriptive number; empty when the fit failed), ``reoxy_slope_pct_s`` (linear slope over the first
        ``slope_window_s``), ``overshoot_pct`` (peak − baseline; > 0 is an overshoot) and
        ``flags`` (``;``-separated: ``short_baseline``, ``short_recovery``,
        ``fit_failed``, ``poor_fit`` when r² < 0.8, ``no_half_recovery``).
    """
    fs = check_sampling_rate(sampling_rate_hz)
    if column not in df or "t_s" not in df:
        raise ValueError(f"frame needs t_s and {column!r} columns")
    t = df["t_s"].to_numpy(float)
    x = df[column].to_numpy(float)
    if intervals is None:
        iv = smo2_intervals(df, sampling_rate_hz=fs, column=column)
    elif isinstance(intervals, pd.DataFrame):
        iv = intervals
    else:
        iv = pd.DataFrame(list(intervals), columns=["work_start_s", "work_end_s"])
    starts = iv["work_start_s"].to_numpy(float)
    ends = iv["work_end_s"].to_numpy(float)
    if np.any(ends <= starts):
        raise ValueError("every interval needs work_end_s > work_start_s")
    rows = []
    for i, (ws, we) in enumerate(zip(starts, ends, strict=False)):
        flags: list[str] = []
        base_m = (t >= ws - baseline_s) & (t < ws)
        if np.count_nonzero(~np.isnan(x[base_m])) < 2:
            flags.append("short_baseline")
        baseline = float(np.nanmean(x[base_m])) if np.any(~np.isnan(x[base_m])) else np.nan
        work_m = (t >= ws) & (t <= we)
        xw = x[work_m]
        if np.all(np.isnan(xw)):
            raise ValueError(f"interval {i + 1}: no {column} values between {ws} and {we} s")
        i_min = int(np.nanargmin(xw))
        mn = float(xw[i_min])
        t_min = float(t[work_m][i_min])
        end_m = (t >= we - 5.0) & (t <= we)
        end_val = float(np.nanmean(x[end_m])) if np.any(~np.isnan(x[end_m])) else mn
        nxt = starts[i + 1] if i + 1 < len(starts) else np.inf
        rec_end = float(min(we + max_recovery_s, nxt, t[-1]))
        rec_m = (t >= we) & (t <= rec_end)
        tr, yr = t[rec_m] - we, x[rec_m]
        if rec_end - we < 3 * slope_window_s or np.count_nonzero(~np.isnan(yr)) < 6:
            flags.append("short_recovery")
        # peak of the smoothed recovery, not the noisy maximum (which lengthens the half time)
        w_pk = 1 if peak_smooth_s <= 0 else max(3, int(round(peak_smooth_s * fs)))
        yr_s = pd.Series(yr).rolling(w_pk, center=True, min_periods=max(1, w_pk // 2)).mean()
        peak = float(np.nanmax(yr_s)) if np.any(yr_s.notna()) else np.nan
        half = np.nan
        if np.isfinite(peak) and peak > end_val:
            target = end_val + 0.5 * (peak - end_val)
            hit = np.flatnonzero(yr >= target)
            if hit.size:
                j = int(hit[0])
                if j > 0 and yr[j - 1] < target:  # linear interpolation between samples
                    half = float(
                        tr[j - 1] + (target - yr[j - 1]) * (tr[j] - tr[j - 1]) / (yr[j] - yr[j - 1])
                    )
                else:
                    half = float(tr[j])
        if not np.isfinite(half):
            flags.append("no_half_recovery")
        fit = _fit_recovery(tr, yr)
        if not np.isfinite(fit["tau_s"]):
            flags.append("fit_failed")
            tau_quality = ""
        elif fit["r2"] < 0.8:
            flags.append("poor_fit")
            tau_quality = "descriptive (r² < 0.8)"
        else:
            tau_quality = "model"
        sl_m = (tr <= slope_window_s) & ~np.isnan(yr)
        slope = (
            float(np.polyfit(tr[sl_m], yr[sl_m], 1)[0]) if np.count_nonzero(sl_m) >= 2 else np.nan
        )
        depth = baseline - mn
        rows.append(
            {
                "interval": i + 1,
                "work_start_s": ws,
                "work_end_s": we,
                "baseline_pct": baseline,
                "end_work_pct": end_val,
                "min_pct": mn,
                "desat_depth_pct": depth,
                "desat_rate_pct_s": max(depth, 0.0) / (t_min - ws) if t_min > ws else np.nan,
                "recovery_end_s": rec_end,
                "peak_pct": peak,
                "half_recovery_s": half,
                **fit,
                "tau_quality": tau_quality,
                "reoxy_slope_pct_s": slope,
                "overshoot_pct": peak - baseline,
                "flags": ";".join(flags),
            }
        )
    return pd.DataFrame(rows)
