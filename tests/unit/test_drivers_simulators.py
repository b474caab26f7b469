"""Simulators: physiology of the pure generators and real-time emission on a fake clock."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from scipy.signal import welch

from workbench.drivers import simulators as sim


class FakeClock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    async def sleep(self, dt: float) -> None:
        self.t += dt


def _median_freq(x: np.ndarray, fs: float) -> float:
    f, p = welch(x, fs=fs, nperseg=512)
    c = np.cumsum(p)
    return float(f[np.searchsorted(c, c[-1] / 2)])


def test_rr_has_rsa_at_breathing_rate_and_plausible_hrv():
    beat_t, rr = sim.simulate_rr(600, mean_hr_bpm=60, resp_rate_hz=0.25, seed=3)
    np.testing.assert_allclose(beat_t, np.cumsum(rr) / 1000)
    assert 55 < 60000 / rr.mean() < 65
    rmssd = np.sqrt(np.mean(np.diff(rr) ** 2))
    assert 15 < rmssd < 120 and 20 < rr.std() < 150
    t4 = np.arange(beat_t[0], beat_t[-1], 0.25)
    f, p = welch(np.interp(t4, beat_t, rr) - rr.mean(), fs=4, nperseg=512)
    hf = (f > 0.15) & (f < 0.4)
    assert abs(f[hf][np.argmax(p[hf])] - 0.25) < 0.02
    b2, rr2 = sim.simulate_rr(600, mean_hr_bpm=60, resp_rate_hz=0.25, seed=3)
    assert np.array_equal(rr, rr2)
    assert not np.array_equal(rr, sim.simulate_rr(600, seed=4)[1][: rr.size])


def test_rr_follows_hr_profile():
    _, rr = sim.simulate_rr(300, hr_profile_bpm=lambda t: 60 + 100 * (t > 150), seed=1)
    assert 60000 / rr[:100].mean() < 70 and 60000 / rr[-100:].mean() > 150


def test_ecg_has_one_r_peak_per_beat():
    beat_t, _ = sim.simulate_rr(60, seed=2)
    ecg = sim.simulate_ecg(130 * 60, sampling_rate_hz=130, beat_t_s=beat_t, seed=2)
    peaks = np.flatnonzero((ecg[1:-1] > 700) & (ecg[1:-1] >= ecg[:-2]) & (ecg[1:-1] > ecg[2:]))
    assert abs(peaks.size - beat_t.size) <= 1
    assert 900 < ecg.max() < 1500 and ecg.min() < -150


def test_smo2_falls_with_work_and_recovers_with_tau():
    fs = 2.0
    smo2, thb = sim.simulate_smo2(
        int(900 * fs),
        sampling_rate_hz=fs,
        work=[(60, 240, 1.0)],
        occlusions=[(600, 780)],
        tau_recovery_s=40.0,
        noise_pct=0.0,
    )
    t = np.arange(smo2.size) / fs
    assert abs(smo2[t < 60].mean() - 68) < 0.5
    assert smo2[(t > 200) & (t < 240)].mean() < 30
    rec = (t >= 240) & (t < 420)
    y = 68.0 - smo2[rec]
    ok = y > 1.0
    slope = np.polyfit(t[rec][ok] - 240, np.log(y[ok]), 1)[0]
    assert abs(-1 / slope - 40.0) < 3.0
    assert smo2[(t > 760) & (t < 780)].mean() < 30  # occlusion desaturates
    assert thb[(t > 700) & (t < 780)].mean() > thb[t < 60].mean() + 0.5
    assert np.all(np.round(smo2, 1) == smo2)


@pytest.mark.parametrize(
    "gen",
    [
        lambda n, i: sim.simulate_emg(n, sampling_rate_hz=2000, start_index=i, seed=5),
        lambda n, i: np.column_stack(sim.simulate_smo2(n, sampling_rate_hz=2, start_index=i)),
        lambda n, i: sim.simulate_ecg(
            n, sampling_rate_hz=130, start_index=i, beat_t_s=np.arange(1, 100.0)
        ),
    ],
)
def test_generators_are_chunk_invariant(gen):
    whole = gen(1500, 77)
    parts = np.concatenate([gen(n, i) for i, n in [(77, 1), (78, 300), (378, 700), (1078, 499)]])
    assert np.array_equal(whole, parts)


def test_emg_fatigue_lowers_median_frequency_and_faults_show():
    fs = 2000.0
    x = sim.simulate_emg(
        int(70 * fs),
        sampling_rate_hz=fs,
        n_channels=2,
        bursts=None,
        contractions=[(5, 65, 0.6)],
        fatigue_pct_per_min=30,
        electrode_off=[(66, 68, 1)],
        seed=9,
    )
    early = _median_freq(x[int(6 * fs) : int(12 * fs), 0], fs)
    late = _median_freq(x[int(58 * fs) : int(64 * fs), 0], fs)
    assert late < 0.8 * early
    rest = x[: int(4 * fs), 0].std()
    active = x[int(10 * fs) : int(20 * fs), 0].std()
    assert active > 10 * rest
    off = x[int(66.2 * fs) : int(67.8 * fs), 1]
    assert abs(off.mean() - 600) < 50 and abs(_median_freq(off - off.mean(), fs) - 50) < 5
    with pytest.raises(ValueError):
        sim.simulate_emg(10, sampling_rate_hz=fs, n_channels=2, electrode_off=[(0, 1, 2)])


def test_realtime_emg_blocks_match_offline_signal():
    clock = FakeClock()
    src = sim.EmgSimulator(
        n_channels=8, sampling_rate_hz=2000, seed=1, clock=clock, sleep=clock.sleep
    )

    async def run():
        await src.start()
        blocks = []
        while clock.t < 1002.0:
            b = await src.read(timeout_s=0.5)
            if b is not None:
                blocks.append(b)
        await src.stop()
        return blocks

    blocks = asyncio.run(run())
    sizes = {len(b) for b in blocks}
    assert all(40 <= n <= 100 for n in sizes)  # 20-50 ms at 2 kHz
    vals = np.concatenate([b.values for b in blocks])
    host = np.concatenate([b.host_t_s for b in blocks])
    assert np.all(np.diff(host) > 0) and host[-1] <= clock.t
    offline = sim.simulate_emg(vals.shape[0], sampling_rate_hz=2000, seed=1)
    assert np.array_equal(vals, offline)


def test_heart_rate_simulator_notifies_hr_and_every_rr():
    clock = FakeClock()
    src = sim.HeartRateSimulator(seed=2, clock=clock, sleep=clock.sleep)

    async def run():
        await src.start()
        out = {"hr": [], "rr": []}
        while clock.t < 1060:
            b = await src.read(timeout_s=2)
            if b is not None:
                out[b.stream].append(b)
        return out

    out = asyncio.run(run())
    assert 58 <= len(out["hr"]) <= 60
    rr = np.concatenate([b.values[:, 0] for b in out["rr"]])
    _, expected = sim.simulate_rr(6 * 3600.0, seed=2)
    assert np.array_equal(rr, expected[: rr.size])
    assert 45 < rr.size < 80
