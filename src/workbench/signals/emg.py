"""Surface EMG: cleaning, RMS envelope, onsets and spectral fatigue, all multichannel.

Signals are arrays of shape (n_samples, n_channels) (a 1-D array is one channel). Every
function takes ``sampling_rate_hz=`` keyword-only, with no default.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import signal

from workbench.signals.checks import check_sampling_rate

__all__ = [
    "emg_band_hz",
    "emg_clean",
    "emg_envelope",
    "emg_onsets",
    "emg_fatigue",
    "MDF_SEGMENT_S",
]


def _as2d(x: np.ndarray) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] == 0:
        raise ValueError(f"EMG must be (n_samples, n_channels) with n > 0, got shape {a.shape}")
    return a


def emg_band_hz(*, sampling_rate_hz: float) -> tuple[float, float]:
    """The band-pass used by :func:`emg_clean`: 20–450 Hz when fs ≥ 1000 Hz.

    Below 1000 Hz the upper edge is lowered to 0.45 × fs (e.g. 20–90 Hz for a 200 Hz Myo);
    such a band misses most EMG power and is stated in ``info["band_hz"]``. Below 100 Hz the
    rate is too low for EMG and a ValueError is raised.
    """
    fs = check_sampling_rate(sampling_rate_hz)
    if fs >= 1000:
        return (20.0, 450.0)
    if fs < 100:
        raise ValueError(f"sampling rate {fs} Hz is too low for surface EMG (need ≥ 100 Hz)")
    return (20.0, 0.45 * fs)


def emg_clean(
    x: np.ndarray,
    *,
    sampling_rate_hz: float,
    band_hz: tuple[float, float] | None = None,
    remove_baseline: bool = True,
    order: int = 4,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Remove the DC/ADC baseline and band-pass every channel (zero-phase Butterworth).

    Parameters
    ----------
    x:
        Raw EMG (n_samples, n_channels), any unit (ADC counts stay counts).
    sampling_rate_hz:
        Sampling rate (Hz).
    band_hz:
        Pass band; default :func:`emg_band_hz`.
    remove_baseline:
        Subtract each channel's median first (raw ADC, e.g. BITalino ≈ 2048 counts).

    Returns
    -------
    cleaned : ndarray
        Same shape as ``x`` (always 2-D), float64, baseline-free and band-passed.
    info : dict
        ``band_hz`` (applied band), ``baseline`` (per-channel value removed, zeros if not),
        ``sampling_rate_hz``.
    """
    fs = check_sampling_rate(sampling_rate_hz)
    a = _as2d(x)
    if np.isnan(a).any():
        raise ValueError("EMG contains NaN; split the recording at gaps before cleaning")
    band = band_hz or emg_band_hz(sampling_rate_hz=fs)
    lo, hi = band
    if not 0 < lo < hi < fs / 2:
        raise ValueError(f"band {band} Hz must satisfy 0 < low < high < Nyquist {fs / 2} Hz")
    base = np.median(a, axis=0) if remove_baseline else np.zeros(a.shape[1])
    sos = signal.butter(order, [lo, hi], btype="bandpass", fs=fs, output="sos")
    padlen = min(a.shape[0] - 1, 3 * (2 * sos.shape[0] + 1))
    y = signal.sosfiltfilt(sos, a - base, axis=0, padlen=padlen)
    return y, {"band_hz": (float(lo), float(hi)), "baseline": base, "sampling_rate_hz": fs}


def emg_envelope(x: np.ndarray, *, sampling_rate_hz: float, window_s: float = 0.1) -> np.ndarray:
    """Moving RMS envelope (centred window of ``window_s``, 0.05–0.25 s), same shape as ``x``.

    Feed it cleaned (baseline-free) EMG; units follow the input.
    """
    fs = check_sampling_rate(sampling_rate_hz)
    if not 0.05 <= window_s <= 0.25:
        raise ValueError(f"window_s must be 0.05–0.25 s for an EMG RMS envelope, got {window_s}")
    a = _as2d(x)
    w = max(1, int(round(window_s * fs)))
    sq = pd.DataFrame(a * a).rolling(w, center=True, min_periods=1).mean().to_numpy()
    return np.sqrt(sq)


def _rest_threshold(
    e: np.ndarray, fs: float, *, k_sd: float, rest_fraction: float, window_s: float
) -> tuple[float, float, float]:
    """Threshold ``mean + k_sd · SD`` of the rest baseline, and the baseline mean and SD.

    The envelope is cut into windows of ``window_s``; the ``rest_fraction`` of windows with
    the lowest mean are taken as rest, and their samples pooled (so slow changes of the rest
    level count in the SD, not only the ripple within one window).
    """
    w = max(1, int(round(window_s * fs)))
    n_win = e.size // w
    if n_win < 4:  # short record: four windows at least
        w = max(1, e.size // 4)
        n_win = e.size // w
    blocks = e[: n_win * w].reshape(n_win, w)
    means = blocks.mean(axis=1)
    rest = blocks[means <= np.quantile(means, rest_fraction)].ravel()
    mu, sd = float(rest.mean()), float(rest.std())
    return mu + k_sd * sd, mu, sd


def emg_onsets(
    envelope: np.ndarray,
    *,
    sampling_rate_hz: float,
    method: Literal["baseline", "range"] = "baseline",
    k_sd: float = 5.0,
    rest_fraction: float = 0.25,
    baseline_window_s: float = 0.5,
    threshold_frac: float = 0.2,
    min_duration_s: float = 0.2,
    min_gap_s: float = 0.2,
) -> pd.DataFrame:
    """Contractions (on/off times) per channel from an RMS envelope.

    ``method="baseline"`` (default): the threshold rests on the noise at rest (Hodges & Bui
    1996: mean + k·SD of a baseline): the quietest ``rest_fraction`` (25 %) of
    ``baseline_window_s`` (0.5 s) windows are taken as rest and the threshold is their mean
    + ``k_sd`` (5) × their SD. It finds low-level bursts however strong the strongest burst
    is. ``method="range"``: the former ``p10 + threshold_frac × (p99 − p10)`` of the
    envelope, which misses bursts below 20 % of the strongest. Bursts closer than
    ``min_gap_s`` are merged; shorter than ``min_duration_s`` dropped.

    Returns
    -------
    DataFrame
        ``channel`` (0-based), ``contraction`` (1-based per channel), ``onset_s``,
        ``offset_s``, ``duration_s``, ``peak`` (envelope max, input units), ``threshold``.
    """
    fs = check_sampling_rate(sampling_rate_hz)
    if method not in ("baseline", "range"):
        raise ValueError(f"unknown method {method!r}: use 'baseline' or 'range'")
    if not 0 < rest_fraction < 1:
        raise ValueError(f"rest_fraction must be in (0, 1), got {rest_fraction}")
    env = _as2d(envelope)
    rows = []
    gap = int(round(min_gap_s * fs))
    for ch in range(env.shape[1]):
        e = env[:, ch]
        p10, p99 = np.percentile(e, [10, 99])
        if p99 <= p10:
            continue
        if method == "baseline":
            thr, _, _ = _rest_threshold(
                e, fs, k_sd=k_sd, rest_fraction=rest_fraction, window_s=baseline_window_s
            )
        else:
            thr = p10 + threshold_frac * (p99 - p10)
        m = np.concatenate([[False], e > thr, [False]])
        edges = np.flatnonzero(np.diff(m.astype(np.int8)))
        runs = [list(r) for r in zip(edges[::2], edges[1::2], strict=False)]
        merged: list[list[int]] = []
        for r in runs:
            if merged and r[0] - merged[-1][1] <= gap:
                merged[-1][1] = r[1]
            else:
                merged.append(r)
        k = 0
        for a, b in merged:
            if (b - a) / fs < min_duration_s:
                continue
            k += 1
            rows.append(
                {
                    "channel": ch,
                    "contraction": k,
                    "onset_s": a / fs,
                    "offset_s": b / fs,
                    "duration_s": (b - a) / fs,
                    "peak": float(e[a:b].max()),
                    "threshold": float(thr),
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "channel",
            "contraction",
            "onset_s",
            "offset_s",
            "duration_s",
            "peak",
            "threshold",
        ],
    )


#: Welch segment for MDF/MNF (s): 0.25 s gives 4 Hz resolution at any sampling rate.
MDF_SEGMENT_S = 0.25


def _mdf_mnf(
    seg: np.ndarray, fs: float, band: tuple[float, float], segment_s: float = MDF_SEGMENT_S
) -> tuple[float, float]:
    nper = int(min(seg.size, max(32, round(segment_s * fs))))
    f, p = signal.welch(seg, fs=fs, nperseg=nper)
    m = (f >= band[0]) & (f <= band[1])
    f, p = f[m], p[m]
    total = p.sum()
    if total <= 0:
        return np.nan, np.nan
    c = np.cumsum(p)
    mdf = float(np.interp(total / 2, c, f))
    return mdf, float(np.sum(f * p) / total)


def emg_fatigue(
    x: np.ndarray,
    *,
    sampling_rate_hz: float,
    contractions: pd.DataFrame | None = None,
    window_s: float | None = None,
    envelope_window_s: float = 0.1,
    mdf_segment_s: float = MDF_SEGMENT_S,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Median / mean power frequency per contraction (or window) and their trend per channel.

    Parameters
    ----------
    x:
        Cleaned EMG (n_samples, n_channels) — see :func:`emg_clean`.
    contractions:
        From :func:`emg_onsets`; default: detected on the RMS envelope of ``x``.
    window_s:
        Instead of contractions, consecutive windows of this length (one sustained
        contraction, e.g. 1.0 s).
    mdf_segment_s:
        Welch segment length for the spectrum of each contraction (default 0.25 s: 4 Hz
        frequency resolution, 250 samples at 1000 Hz; half-overlapping Hann segments; a
        contraction shorter than that is one segment). The former fixed 128 samples gave
        7.8 Hz at 1000 Hz.

    Returns
    -------
    per_segment : DataFrame
        ``channel``, ``segment`` (1-based), ``t_s`` (segment centre), ``mdf_hz``, ``mnf_hz``,
        ``rms`` (input units).
    trend : DataFrame
        Per channel: ``n_segments``, ``mdf_slope_hz_per_s``, ``mnf_slope_hz_per_s``
        (least squares over ``t_s``), ``mdf_change_pct`` (last vs first fitted value),
        ``fatigue`` (True when the MDF slope is negative and the fitted change is below
        −5 %).
    """
    fs = check_sampling_rate(sampling_rate_hz)
    a = _as2d(x)
    band = (max(5.0, min(20.0, fs * 0.05)), min(450.0, fs / 2))
    segs: list[tuple[int, int, int]] = []
    if window_s is not None:
        w = int(round(window_s * fs))
        if w < 32:
            raise ValueError(f"window_s={window_s} gives {w} samples; need ≥ 32")
        for ch in range(a.shape[1]):
            segs += [(ch, s, s + w) for s in range(0, a.shape[0] - w + 1, w)]
    else:
        if contractions is None:
            contractions = emg_onsets(
                emg_envelope(a, sampling_rate_hz=fs, window_s=envelope_window_s),
                sampling_rate_hz=fs,
            )
        for r in contractions.itertuples():
            segs.append((int(r.channel), int(round(r.onset_s * fs)), int(round(r.offset_s * fs))))
    rows = []
    count: dict[int, int] = {}
    for ch, s, e in segs:
        seg = a[s:e, ch]
        if seg.size < 32:
            continue
        count[ch] = count.get(ch, 0) + 1
        mdf, mnf = _mdf_mnf(seg - seg.mean(), fs, band, mdf_segment_s)
        rows.append(
            {
                "channel": ch,
                "segment": count[ch],
                "t_s": (s + e) / 2 / fs,
                "mdf_hz": mdf,
                "mnf_hz": mnf,
                "rms": float(np.sqrt(np.mean(seg**2))),
            }
        )
    per = pd.DataFrame(rows, columns=["channel", "segment", "t_s", "mdf_hz", "mnf_hz", "rms"])
    trows = []
    for ch in range(a.shape[1]):
        g = per[per["channel"] == ch]
        n = len(g)
        if n >= 2 and np.ptp(g["t_s"]) > 0:
            sm, im = np.polyfit(g["t_s"], g["mdf_hz"], 1)
            sn, _ = np.polyfit(g["t_s"], g["mnf_hz"], 1)
            first = im + sm * g["t_s"].iloc[0]
            last = im + sm * g["t_s"].iloc[-1]
            change = 100.0 * (last - first) / first if first > 0 else np.nan
        else:
            sm = sn = change = np.nan
        trows.append(
            {
                "channel": ch,
                "n_segments": n,
                "mdf_slope_hz_per_s": sm,
                "mnf_slope_hz_per_s": sn,
                "mdf_change_pct": change,
                "fatigue": bool(np.isfinite(sm) and sm < 0 and change < -5.0),
            }
        )
    return per, pd.DataFrame(trows)
