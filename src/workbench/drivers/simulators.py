"""Physiological simulators: pure vectorised generators and real-time Sources built on them.

Pure generators (call them offline, e.g. for demo data; all seeded and deterministic):

- :func:`simulate_rr` – beat times and RR intervals with HRV: respiratory sinus arrhythmia
  (RSA) at the breathing rate, a 0.1 Hz (Mayer/LF) wave, slow 1/f-like drift and beat jitter,
  following an optional heart-rate profile.
- :func:`simulate_ecg` – single-lead ECG in µV (P-QRS-T Gaussian waves at each beat).
- :func:`simulate_smo2` – muscle SmO₂ in % and THb in g/dL that fall with work and arterial
  occlusion and recover mono-exponentially (τ 20–60 s), Moxy-like 2 Hz by default.
- :func:`simulate_emg` – multichannel surface EMG in µV with bursts, sustained contractions
  whose median frequency falls (fatigue), and electrode-off faults.
- :func:`interval_schedule` – a list of ``(start_s, end_s, intensity)`` work intervals.

Regular-rate generators take ``(n_samples, *, sampling_rate_hz, start_index=0, seed=…)``;
sample ``i`` is at ``(start_index + i) / sampling_rate_hz`` seconds. Random parts are drawn
per fixed segment of absolute sample index, so generating ``[0, n)`` at once or in any chunks
gives bit-identical samples: the real-time sources below are exactly the offline signals.

Real-time sources (:class:`HeartRateSimulator`, :class:`EcgSimulator`,
:class:`SmO2Simulator`, :class:`EmgSimulator`) follow the :class:`~workbench.drivers.base.Source`
protocol and emit blocks of ``block_s`` (20–50 ms) as the injectable ``clock`` advances.
"""

from __future__ import annotations

import abc
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

from workbench.drivers._clocked import Clock, ClockedSource, Sleep
from workbench.drivers.base import SampleBlock, StreamInfo
from workbench.signals.checks import check_sampling_rate

__all__ = [
    "EcgSimulator",
    "EmgSimulator",
    "HeartRateSimulator",
    "SmO2Simulator",
    "interval_schedule",
    "simulate_ecg",
    "simulate_emg",
    "simulate_rr",
    "simulate_smo2",
]

_SEG = 256  # samples per random segment


def _indexed_normal(seed: int, tag: int, start: int, n: int, n_ch: int) -> np.ndarray:
    """Standard normal (n, n_ch) values for absolute sample indices [start, start + n)."""
    if n <= 0:
        return np.empty((0, n_ch))
    k0, k1 = start // _SEG, (start + n - 1) // _SEG
    segs = [
        np.random.default_rng([seed, tag, k]).standard_normal((_SEG, n_ch))
        for k in range(k0, k1 + 1)
    ]
    flat = np.concatenate(segs) if len(segs) > 1 else segs[0]
    off = start - k0 * _SEG
    return flat[off : off + n]


# ------------------------------------------------------------------------- HR / RR
def simulate_rr(
    duration_s: float,
    *,
    mean_hr_bpm: float = 60.0,
    hr_profile_bpm: Callable[[np.ndarray], np.ndarray] | None = None,
    rsa_ms: float = 40.0,
    resp_rate_hz: float = 0.25,
    lf_ms: float = 20.0,
    lf_hz: float = 0.1,
    drift_ms: float = 25.0,
    jitter_ms: float = 6.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Beat times and RR intervals with physiological heart-rate variability.

    The instantaneous RR (ms) is ``60000 / HR(t)`` plus RSA (``rsa_ms`` amplitude at
    ``resp_rate_hz``, scaled by RR/1000 s so it shrinks at high heart rates), a ``lf_hz`` wave
    of ``lf_ms``, a slow AR(1) drift (τ 20 s, SD ``drift_ms``); beats are where the integrated
    rate crosses integers, then each RR gets white jitter (SD ``jitter_ms``).

    Parameters
    ----------
    duration_s:
        Length in seconds; beats in ``(0, duration_s]`` are returned.
    mean_hr_bpm:
        Mean heart rate in bpm, unless ``hr_profile_bpm`` (a vectorised function of time in s
        returning bpm) is given.

    Returns
    -------
    beat_t_s, rr_ms:
        Time of each beat (s, from 0) and the RR interval ending at it (ms);
        ``beat_t_s == cumsum(rr_ms) / 1000``.
    """
    if duration_s <= 0:
        raise ValueError(f"duration_s must be positive, got {duration_s}")
    dt = 0.05
    t = np.arange(0.0, duration_s + 5.0, dt)
    rng = np.random.default_rng([seed, 1])
    hr = hr_profile_bpm(t) if hr_profile_bpm is not None else np.full_like(t, mean_hr_bpm)
    hr = np.asarray(hr, dtype=np.float64)
    if hr.shape != t.shape or not np.all((hr > 20) & (hr < 250)):
        raise ValueError("heart rate must be 20-250 bpm everywhere (check hr_profile_bpm)")
    base = 60000.0 / hr
    a = np.exp(-dt / 20.0)
    drift = lfilter([np.sqrt(1 - a * a)], [1, -a], rng.standard_normal(t.size)) * drift_ms
    ph_r, ph_l = rng.uniform(0, 2 * np.pi, 2)
    rr_t = (
        base
        + rsa_ms * (base / 1000.0) * np.sin(2 * np.pi * resp_rate_hz * t + ph_r)
        + lf_ms * np.sin(2 * np.pi * lf_hz * t + ph_l)
        + drift
    )
    rr_t = np.clip(rr_t, 240.0, 3000.0)
    phase = np.concatenate([[0.0], np.cumsum(dt * 1000.0 / rr_t[:-1])])
    beats = np.interp(np.arange(1, int(phase[-1])), phase, t)
    rr = np.diff(np.concatenate([[0.0], beats])) * 1000.0
    rr = np.clip(rr + rng.standard_normal(rr.size) * jitter_ms, 240.0, 3000.0)
    beat_t = np.cumsum(rr) / 1000.0
    keep = beat_t <= duration_s
    return beat_t[keep], rr[keep]


# ---------------------------------------------------------------------------- ECG
#: (offset from R in s at RR = 1 s, amplitude relative to R, width s) of P, Q, R, S, T.
_ECG_WAVES = (
    (-0.20, 0.12, 0.025),
    (-0.035, -0.12, 0.010),
    (0.0, 1.0, 0.011),
    (0.035, -0.25, 0.010),
    (0.26, 0.30, 0.045),
)


def simulate_ecg(
    n_samples: int,
    *,
    sampling_rate_hz: float,
    beat_t_s: np.ndarray,
    start_index: int = 0,
    r_amplitude_uv: float = 1200.0,
    noise_uv: float = 15.0,
    wander_uv: float = 80.0,
    seed: int = 0,
) -> np.ndarray:
    """Single-lead ECG in µV (chest-strap-like, 130 Hz on a Polar H10).

    Each beat at ``beat_t_s`` is a sum of Gaussian P, Q, R, S, T waves (T delayed by
    √RR); plus 0.3 Hz baseline wander of ``wander_uv`` and white noise of ``noise_uv``.

    Returns
    -------
    ndarray, shape (n_samples,)
        ECG in µV at ``(start_index + i) / sampling_rate_hz`` seconds.
    """
    fs = check_sampling_rate(sampling_rate_hz)
    beats = np.asarray(beat_t_s, dtype=np.float64)
    if beats.ndim != 1 or beats.size < 2 or np.any(np.diff(beats) <= 0):
        raise ValueError("beat_t_s must be ≥ 2 strictly increasing beat times in s")
    t = (start_index + np.arange(n_samples)) / fs
    rr_s = np.diff(np.concatenate([[beats[0] - (beats[1] - beats[0])], beats]))
    i_next = np.clip(np.searchsorted(beats, t), 0, beats.size - 1)
    i_prev = np.maximum(i_next - 1, 0)
    out = np.zeros(n_samples)
    for idx, use in ((i_prev, i_prev != i_next), (i_next, np.ones(n_samples, dtype=bool))):
        dtb = np.where(use, t - beats[idx], 1e3)
        scale = np.sqrt(rr_s[idx])
        for off, amp, width in _ECG_WAVES:
            shift = off * scale if off > 0.05 else off
            out += amp * np.exp(-0.5 * ((dtb - shift) / width) ** 2)
    out *= r_amplitude_uv
    out += wander_uv * np.sin(2 * np.pi * 0.3 * t)
    out += noise_uv * _indexed_normal(seed, 2, start_index, n_samples, 1)[:, 0]
    return out


# ---------------------------------------------------------------------------- SmO2
def interval_schedule(
    n_intervals: int,
    *,
    work_s: float,
    rest_s: float,
    start_s: float = 60.0,
    intensity: float = 0.8,
) -> list[tuple[float, float, float]]:
    """Work intervals ``[(start_s, end_s, intensity 0–1), …]`` of a work/rest protocol."""
    if n_intervals < 0 or work_s <= 0 or rest_s < 0 or not 0 <= intensity <= 1:
        raise ValueError("need n_intervals ≥ 0, work_s > 0, rest_s ≥ 0, 0 ≤ intensity ≤ 1")
    period = work_s + rest_s
    return [
        (start_s + k * period, start_s + k * period + work_s, float(intensity))
        for k in range(n_intervals)
    ]


@dataclass(frozen=True)
class _Piecewise:
    """First-order response to a piecewise-constant target: segments start, target, tau, y0."""

    start_s: np.ndarray
    target: np.ndarray
    tau_s: np.ndarray
    y0: np.ndarray

    def __call__(self, t: np.ndarray) -> np.ndarray:
        i = np.clip(np.searchsorted(self.start_s, t, side="right") - 1, 0, None)
        dt = np.maximum(t - self.start_s[i], 0.0)
        return self.target[i] + (self.y0[i] - self.target[i]) * np.exp(-dt / self.tau_s[i])


def _piecewise(
    edges: np.ndarray, targets: np.ndarray, taus: np.ndarray, y_init: float
) -> _Piecewise:
    y0 = np.empty_like(targets)
    y = y_init
    for k in range(targets.size):  # one step per segment, not per sample
        y0[k] = y
        if k + 1 < targets.size:
            d = edges[k + 1] - edges[k]
            y = targets[k] + (y - targets[k]) * np.exp(-d / taus[k])
    return _Piecewise(edges, targets, taus, y0)


def _smo2_model(
    work: Sequence[tuple[float, float, float]],
    occlusions: Sequence[tuple[float, float]],
    *,
    baseline_pct: float,
    work_drop_pct: float,
    occlusion_floor_pct: float,
    tau_work_s: float,
    tau_recovery_s: float,
    tau_occlusion_s: float,
    thb_g_dl: float,
) -> tuple[_Piecewise, _Piecewise]:
    for s, e, i in work:
        if not (e > s and 0 <= i <= 1):
            raise ValueError(f"work interval {(s, e, i)}: need end > start and 0 ≤ intensity ≤ 1")
    for s, e in occlusions:
        if not e > s:
            raise ValueError(f"occlusion {(s, e)}: need end > start")
    if min(tau_work_s, tau_recovery_s, tau_occlusion_s) <= 0:
        raise ValueError("time constants must be positive")
    edges = np.unique(
        np.concatenate([[0.0], np.ravel([w[:2] for w in work]), np.ravel(list(occlusions))]).astype(
            np.float64
        )
    )
    mid = np.append((edges[:-1] + edges[1:]) / 2, edges[-1] + 1.0)
    level = np.zeros_like(mid)
    for s, e, i in work:
        level = np.where((mid >= s) & (mid < e), np.maximum(level, i), level)
    occ = np.zeros(mid.size, dtype=bool)
    for s, e in occlusions:
        occ |= (mid >= s) & (mid < e)
    target = np.where(occ, occlusion_floor_pct, baseline_pct - work_drop_pct * level)
    tau = np.where(occ, tau_occlusion_s, np.where(level > 0, tau_work_s, tau_recovery_s))
    thb_target = thb_g_dl + np.where(occ, 0.8, 0.3 * level)
    smo2 = _piecewise(edges, target, tau, baseline_pct)
    thb = _piecewise(edges, thb_target, np.full_like(tau, 10.0), thb_g_dl)
    return smo2, thb


def simulate_smo2(
    n_samples: int,
    *,
    sampling_rate_hz: float,
    start_index: int = 0,
    work: Sequence[tuple[float, float, float]] = (),
    occlusions: Sequence[tuple[float, float]] = (),
    baseline_pct: float = 68.0,
    work_drop_pct: float = 45.0,
    occlusion_floor_pct: float = 12.0,
    tau_work_s: float = 15.0,
    tau_recovery_s: float = 35.0,
    tau_occlusion_s: float = 60.0,
    thb_g_dl: float = 12.2,
    noise_pct: float = 0.5,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Muscle oxygen saturation (SmO₂, %) and total haemoglobin (THb, g/dL).

    SmO₂ follows a first-order response to a piecewise-constant target: at rest
    ``baseline_pct``; during work of intensity I (0–1) ``baseline_pct − work_drop_pct·I``
    reached with ``tau_work_s``; during arterial occlusion ``occlusion_floor_pct`` with
    ``tau_occlusion_s``; after either it recovers mono-exponentially with ``tau_recovery_s``
    (half-recovery time = τ·ln 2). THb rises slightly with work (+0.3·I) and occlusion
    (+0.8, venous pooling), τ 10 s. Values are rounded like a Moxy (0.1 %, 0.01 g/dL).

    Parameters
    ----------
    work:
        ``[(start_s, end_s, intensity), …]`` e.g. from :func:`interval_schedule`.
    occlusions:
        ``[(start_s, end_s), …]`` arterial occlusions (take precedence over work).

    Returns
    -------
    smo2_pct, thb_g_dl:
        Arrays of shape (n_samples,), clipped to 0–100 % and ≥ 0.
    """
    fs = check_sampling_rate(sampling_rate_hz)
    smo2, thb = _smo2_model(
        work,
        occlusions,
        baseline_pct=baseline_pct,
        work_drop_pct=work_drop_pct,
        occlusion_floor_pct=occlusion_floor_pct,
        tau_work_s=tau_work_s,
        tau_recovery_s=tau_recovery_s,
        tau_occlusion_s=tau_occlusion_s,
        thb_g_dl=thb_g_dl,
    )
    return _smo2_eval(smo2, thb, start_index, n_samples, fs, noise_pct, seed)


def _smo2_eval(
    smo2: _Piecewise,
    thb: _Piecewise,
    start_index: int,
    n: int,
    fs: float,
    noise_pct: float,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    t = (start_index + np.arange(n)) / fs
    noise = _indexed_normal(seed, 3, start_index, n, 2)
    s = np.clip(np.round(smo2(t) + noise_pct * noise[:, 0], 1), 0.0, 100.0)
    h = np.maximum(np.round(thb(t) + 0.02 * noise[:, 1], 2), 0.0)
    return s, h


# ---------------------------------------------------------------------------- EMG
def _trapezoid(x: np.ndarray, length: float, ramp: float) -> np.ndarray:
    return np.clip(x / ramp, 0, 1) * np.clip((length - x) / ramp, 0, 1) * (x >= 0) * (x < length)


def _emg_activation(
    t: np.ndarray,
    rest_level: float,
    bursts: tuple[float, float, float] | None,
    contractions: Sequence[tuple[float, float, float]],
) -> tuple[np.ndarray, np.ndarray]:
    """Activation (fraction of MVC) and seconds since the current contraction began (-1: none)."""
    act = np.full(t.shape, float(rest_level))
    since = np.full(t.shape, -1.0)
    if bursts is not None:
        period, on, level = bursts
        if not (period > 0 and 0 < on <= period):
            raise ValueError(f"bursts {bursts}: need period > 0 and 0 < on_s ≤ period")
        ph = np.mod(t, period)
        act += level * _trapezoid(ph, on, 0.1)
        since = np.where(ph < on, ph, since)
    for s, e, level in contractions:
        if not e > s:
            raise ValueError(f"contraction {(s, e, level)}: need end > start")
        act += level * _trapezoid(t - s, e - s, 0.1)
        since = np.where((t >= s) & (t < e), np.maximum(since, t - s), since)
    return act, since


def _emg_gain(f: np.ndarray, median_hz: float) -> np.ndarray:
    """Amplitude response shaping white noise into an EMG-like spectrum (Shwedyk model)."""
    fl, fh = 0.6 * median_hz, 1.1 * median_hz
    psd = fh**4 * f**2 / ((f**2 + fl**2) * (f**2 + fh**2) ** 2)
    return np.sqrt(psd)


def simulate_emg(
    n_samples: int,
    *,
    sampling_rate_hz: float,
    start_index: int = 0,
    n_channels: int = 8,
    bursts: tuple[float, float, float] | None = (2.0, 1.0, 0.5),
    contractions: Sequence[tuple[float, float, float]] = (),
    fatigue_pct_per_min: float = 25.0,
    median_freq_hz: float = 110.0,
    mvc_rms_uv: float = 400.0,
    rest_level: float = 0.02,
    electrode_off: Sequence[tuple[float, float, int]] = (),
    mains_hz: float = 50.0,
    seed: int = 0,
) -> np.ndarray:
    """Surface EMG in µV, (n_samples, n_channels).

    Activation (fraction of MVC) is ``rest_level`` plus periodic ``bursts``
    ``(period_s, on_s, level)`` and ``contractions`` ``[(start_s, end_s, level), …]`` with
    100 ms ramps. Noise is shaped per 256-sample segment to an EMG spectrum whose median
    frequency is ``median_freq_hz`` at the start of a contraction and falls by
    ``fatigue_pct_per_min`` % per minute of continuous contraction (floor 50 %); amplitude is
    ``activation × mvc_rms_uv × channel gain`` (gains 0.5–1.2, seeded). During
    ``electrode_off`` ``[(start_s, end_s, channel), …]`` a channel carries 1.5 mV mains hum on
    a 600 µV offset instead of EMG.
    """
    fs = check_sampling_rate(sampling_rate_hz)
    if not 1 <= n_channels <= 64:
        raise ValueError(f"n_channels must be 1-64, got {n_channels}")
    if n_samples <= 0:
        return np.empty((0, n_channels))
    t = (start_index + np.arange(n_samples)) / fs
    act, _ = _emg_activation(t, rest_level, bursts, contractions)
    # spectral shaping per absolute segment
    k0, k1 = start_index // _SEG, (start_index + n_samples - 1) // _SEG
    seg_idx = np.arange(k0, k1 + 1)
    seg_t = (seg_idx * _SEG + _SEG / 2) / fs
    _, seg_in = _emg_activation(seg_t, rest_level, bursts, contractions)
    factor = np.where(
        seg_in >= 0, np.maximum(0.5, 1 - fatigue_pct_per_min / 100 * seg_in / 60), 1.0
    )
    noise = np.stack(
        [
            np.random.default_rng([seed, 4, int(k)]).standard_normal((_SEG, n_channels))
            for k in seg_idx
        ]
    )  # (n_seg, SEG, ch)
    f = np.fft.rfftfreq(_SEG, 1 / fs)
    gain = np.stack([_emg_gain(f, median_freq_hz * c) for c in factor])  # (n_seg, n_f)
    power = (gain[:, :1] ** 2 + 2 * np.sum(gain[:, 1:-1] ** 2, axis=1, keepdims=True)) + gain[
        :, -1:
    ] ** 2
    gain /= np.sqrt(power / _SEG)
    shaped = np.fft.irfft(np.fft.rfft(noise, axis=1) * gain[:, :, None], n=_SEG, axis=1)
    off = start_index - k0 * _SEG
    shaped = shaped.reshape(-1, n_channels)[off : off + n_samples]
    ch_gain = np.random.default_rng([seed, 5]).uniform(0.5, 1.2, n_channels)
    out = shaped * (act[:, None] * mvc_rms_uv * ch_gain[None, :])
    for s, e, ch in electrode_off:
        if not 0 <= ch < n_channels:
            raise ValueError(f"electrode_off channel {ch} outside 0..{n_channels - 1}")
        bad = (t >= s) & (t < e)
        out[bad, ch] = 600.0 + 1500.0 * np.sin(2 * np.pi * mains_hz * t[bad])
    return out


# ------------------------------------------------------------------ real-time sources
class _RegularSimulator(ClockedSource, abc.ABC):
    """A single regular-rate stream generated by ``self._generate(start_index, n)``."""

    def __init__(
        self,
        info: StreamInfo,
        *,
        block_s: float,
        drift_ppm: float,
        clock: Clock | None,
        sleep: Sleep | None,
    ) -> None:
        super().__init__(clock=clock, sleep=sleep)
        if not 0.001 <= block_s <= 1.0:
            raise ValueError(f"block_s must be 0.001-1 s, got {block_s}")
        self._info = info
        self._fs = float(info.sampling_rate_hz)  # type: ignore[arg-type]
        self._block_n = max(1, int(round(block_s * self._fs)))
        self._max_n = max(self._block_n, int(self._fs))  # at most 1 s per block
        self._drift = 1.0 + drift_ppm * 1e-6
        self._n = 0

    @property
    def streams(self) -> tuple[StreamInfo, ...]:
        return (self._info,)

    def _on_start(self, t0_s: float) -> None:
        if not self._started_once:
            self._n = 0
            self._origin_s = t0_s
        else:  # resume: continue the signal, shift the time base so nothing is back-filled
            self._origin_s = t0_s - self._n / self._fs

    @abc.abstractmethod
    def _generate(self, start: int, n: int) -> np.ndarray:
        """Implemented by each concrete class."""

    def _next_due_s(self) -> float:
        return self._origin_s + (self._n + self._block_n - 1) / self._fs

    def _poll(self, now_s: float) -> SampleBlock | None:
        available = int(np.floor((now_s - self._origin_s) * self._fs)) + 1
        n = min(available - self._n, self._max_n)
        if n < self._block_n:
            return None
        idx = self._n + np.arange(n)
        values = self._generate(self._n, n)
        self._n += n
        return SampleBlock(
            self._info.name,
            host_t_s=self._origin_s + idx / self._fs,
            device_t_s=idx / self._fs * self._drift,
            values=values,
        )


class EcgSimulator(_RegularSimulator):
    """Simulated chest-strap ECG: stream ``ecg`` (µV, default 130 Hz like a Polar H10).

    Beats come from :func:`simulate_rr` over ``horizon_s`` (default 6 h) with ``rr_kwargs``.
    """

    def __init__(
        self,
        *,
        sampling_rate_hz: float = 130.0,
        block_s: float = 0.05,
        seed: int = 0,
        horizon_s: float = 6 * 3600.0,
        rr_kwargs: dict | None = None,
        ecg_kwargs: dict | None = None,
        name: str = "ecg",
        drift_ppm: float = 0.0,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        fs = check_sampling_rate(sampling_rate_hz)
        info = StreamInfo(name, "ecg", "simulator:ecg", ("ecg",), ("uV",), fs)
        super().__init__(info, block_s=block_s, drift_ppm=drift_ppm, clock=clock, sleep=sleep)
        self._seed = seed
        self._horizon_s = horizon_s
        self._rr_kwargs = dict(rr_kwargs or {})
        self._ecg_kwargs = dict(ecg_kwargs or {})
        self._beats: np.ndarray | None = None

    def _generate(self, start: int, n: int) -> np.ndarray:
        if self._beats is None:
            self._beats, _ = simulate_rr(self._horizon_s, seed=self._seed, **self._rr_kwargs)
        return simulate_ecg(
            n,
            sampling_rate_hz=self._fs,
            beat_t_s=self._beats,
            start_index=start,
            seed=self._seed,
            **self._ecg_kwargs,
        )


class SmO2Simulator(_RegularSimulator):
    """Simulated Moxy: stream ``smo2`` with channels ``smo2_pct`` (%) and ``thb_g_dl`` (g/dL).

    Default protocol: 60 s rest, then 3 min work (intensity 0.8) / 2 min rest intervals.
    ``smo2_kwargs`` go to :func:`simulate_smo2` (``work``, ``occlusions``, taus, …).
    """

    def __init__(
        self,
        *,
        sampling_rate_hz: float = 2.0,
        block_s: float = 0.05,
        seed: int = 0,
        smo2_kwargs: dict | None = None,
        name: str = "smo2",
        drift_ppm: float = 0.0,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        fs = check_sampling_rate(sampling_rate_hz)
        info = StreamInfo(
            name, "smo2", "simulator:moxy", ("smo2_pct", "thb_g_dl"), ("%", "g/dL"), fs
        )
        super().__init__(info, block_s=block_s, drift_ppm=drift_ppm, clock=clock, sleep=sleep)
        kw = dict(smo2_kwargs or {})
        self._noise_pct = kw.pop("noise_pct", 0.5)
        work = kw.pop("work", interval_schedule(100, work_s=180, rest_s=120, start_s=60))
        occlusions = kw.pop("occlusions", ())
        defaults = dict(
            baseline_pct=68.0,
            work_drop_pct=45.0,
            occlusion_floor_pct=12.0,
            tau_work_s=15.0,
            tau_recovery_s=35.0,
            tau_occlusion_s=60.0,
            thb_g_dl=12.2,
        )
        defaults.update(kw)
        self._model = _smo2_model(work, occlusions, **defaults)
        self._seed = seed

    def _generate(self, start: int, n: int) -> np.ndarray:
        s, h = _smo2_eval(*self._model, start, n, self._fs, self._noise_pct, self._seed)
        return np.column_stack([s, h])


class EmgSimulator(_RegularSimulator):
    """Simulated multichannel surface EMG: stream ``emg`` in µV (default 8 ch × 2 kHz).

    ``emg_kwargs`` go to :func:`simulate_emg` (bursts, contractions, fatigue, electrode_off…).
    """

    def __init__(
        self,
        *,
        n_channels: int = 8,
        sampling_rate_hz: float = 2000.0,
        block_s: float = 0.04,
        seed: int = 0,
        emg_kwargs: dict | None = None,
        name: str = "emg",
        drift_ppm: float = 0.0,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        fs = check_sampling_rate(sampling_rate_hz)
        chans = tuple(f"emg{i + 1}" for i in range(n_channels))
        info = StreamInfo(name, "emg", "simulator:emg", chans, ("uV",) * n_channels, fs)
        super().__init__(info, block_s=block_s, drift_ppm=drift_ppm, clock=clock, sleep=sleep)
        self._kw = dict(emg_kwargs or {})
        self._seed = seed
        self._n_ch = n_channels
        simulate_emg(1, sampling_rate_hz=fs, n_channels=n_channels, seed=seed, **self._kw)

    def _generate(self, start: int, n: int) -> np.ndarray:
        return simulate_emg(
            n,
            sampling_rate_hz=self._fs,
            start_index=start,
            n_channels=self._n_ch,
            seed=self._seed,
            **self._kw,
        )


class HeartRateSimulator(ClockedSource):
    """Simulated heart-rate strap: streams ``hr`` (bpm) and ``rr`` (ms), both irregular.

    Like a real strap it notifies every ``notify_s`` (1 s): one ``hr`` sample (mean HR of the
    RR intervals of the last 5 s, rounded to an integer) and an ``rr`` block with every
    beat since the previous notification. RR host times are the beat times; RR device times
    are the cumulative RR sum (the strap's beat clock), HR device times are NaN.
    ``rr_kwargs`` go to :func:`simulate_rr`.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        notify_s: float = 1.0,
        horizon_s: float = 6 * 3600.0,
        rr_kwargs: dict | None = None,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        super().__init__(clock=clock, sleep=sleep)
        if not 0.05 <= notify_s <= 10:
            raise ValueError(f"notify_s must be 0.05-10 s, got {notify_s}")
        self._seed, self._notify_s, self._horizon_s = seed, notify_s, horizon_s
        self._rr_kwargs = dict(rr_kwargs or {})
        self._infos = (
            StreamInfo("hr", "hr", "simulator:hr", ("hr_bpm",), ("bpm",), None),
            StreamInfo("rr", "rr", "simulator:hr", ("rr_ms",), ("ms",), None),
        )
        self._beats: np.ndarray | None = None
        self._pending: deque[SampleBlock] = deque()
        self._k = 0  # notifications sent
        self._offset_s = 0.0  # simulated time consumed by previous runs

    @property
    def streams(self) -> tuple[StreamInfo, ...]:
        return self._infos

    def _on_start(self, t0_s: float) -> None:
        if self._beats is None:
            self._beats, self._rr = simulate_rr(self._horizon_s, seed=self._seed, **self._rr_kwargs)
        self._origin_s = t0_s - self._k * self._notify_s

    def _next_due_s(self) -> float:
        return self._origin_s + (self._k + 1) * self._notify_s

    def _poll(self, now_s: float) -> SampleBlock | None:
        if self._pending:
            return self._pending.popleft()
        assert self._beats is not None
        while self._next_due_s() <= now_s:
            lo, hi = self._k * self._notify_s, (self._k + 1) * self._notify_s
            self._k += 1
            i0, i1 = np.searchsorted(self._beats, [lo, hi], side="right")
            if hi > self._beats[-1]:
                return None
            recent = self._rr[max(0, np.searchsorted(self._beats, hi - 5.0)) : i1]
            if recent.size == 0:
                recent = self._rr[max(0, i1 - 1) : i1 + 1]
            t_hr = self._origin_s + hi
            self._pending.append(
                SampleBlock("hr", [t_hr], [np.nan], [round(60000.0 / float(np.mean(recent)))])
            )
            if i1 > i0:
                self._pending.append(
                    SampleBlock(
                        "rr",
                        host_t_s=self._origin_s + self._beats[i0:i1],
                        device_t_s=self._beats[i0:i1],
                        values=self._rr[i0:i1],
                    )
                )
        return self._pending.popleft() if self._pending else None
