"""hrv_frequency: fixed 256-s Welch segments, cubic resampling, smoothness priors (issue 16.3).

References: Parseval (a sinusoid of amplitude A ms carries A²/2 ms² of power at its
frequency), the smoothness-priors operator (it leaves straight lines as trend), and real
RR (MIT-BIH record 100, tests/data/hrv, ODC-By) for the stability of the estimate.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.signals import hrv_frequency
from workbench.signals.hrv import WELCH_SEGMENT_S, smoothness_priors_detrend

DATA = Path(__file__).resolve().parents[1] / "data" / "hrv"


def _mitbih_windows(length_s: float = 300.0, step_s: float = 30.0) -> list[np.ndarray]:
    samples = pd.read_csv(DATA / "mitdb__100_beats.csv")["sample"].to_numpy()
    nn = np.diff(samples) / 360.0 * 1000.0
    t = np.cumsum(nn) / 1000.0
    starts = np.arange(0.0, t[-1] - length_s, step_s)
    return [nn[(t > a) & (t <= a + length_s)] for a in starts]


def _modulated(freq_hz: float, amp_ms: float, duration_s: float = 600.0) -> np.ndarray:
    """Beat intervals whose value follows 850 + amp·sin(2π f t) at the beat time."""
    out, t = [], 0.0
    while t < duration_s:
        rr = 850.0 + amp_ms * np.sin(2 * np.pi * freq_hz * t)
        out.append(rr)
        t += rr / 1000.0
    return np.asarray(out)


def test_defaults_are_kubios() -> None:
    assert WELCH_SEGMENT_S == 256.0


@pytest.mark.parametrize(
    ("freq", "band", "other"), [(0.25, "HRV_HF", "HRV_LF"), (0.1, "HRV_LF", "HRV_HF")]
)
def test_band_power_equals_sinusoid_variance(freq: float, band: str, other: str) -> None:
    amp = 40.0
    out = hrv_frequency(_modulated(freq, amp)).iloc[0]
    assert out[band] == pytest.approx(amp**2 / 2.0, rel=0.05)  # Parseval: 800 ms²
    assert out[other] < 0.02 * out[band]


def test_stable_when_one_beat_is_removed_real_rr() -> None:
    wins = _mitbih_windows()
    assert len(wins) > 40
    full = hrv_frequency(wins)
    short = hrv_frequency([w[:-1] for w in wins])
    for col in ("HRV_LF", "HRV_HF"):
        change = np.abs(short[col] / full[col] - 1.0)
        assert change.max() < 0.01, col  # a 256-s segment does not move
    # named difference: NeuroKit2's Welch uses segments of half the series, so one beat
    # less changes the segment length and the grid
    nk_full = hrv_frequency(wins, welch_segment_s=None, interpolation="quadratic")
    nk_short = hrv_frequency(
        [w[:-1] for w in wins], welch_segment_s=None, interpolation="quadratic"
    )
    worst = max(np.abs(nk_short[c] / nk_full[c] - 1.0).max() for c in ("HRV_LF", "HRV_HF"))
    assert worst > 0.10


def test_vlf_is_nan_for_five_minutes_and_the_output_says_so() -> None:
    out = hrv_frequency(_mitbih_windows()[:3])
    assert out["HRV_VLF"].isna().all()
    assert out["HRV_LF"].notna().all() and out["HRV_HF"].notna().all()
    assert out["HRV_FrequencyNote"].str.contains("VLF: NaN").all()
    assert out["HRV_FrequencyNote"].str.contains("606 s").all()


def test_smoothness_priors_removes_a_trend_and_keeps_hf() -> None:
    line = 800.0 + 0.5 * np.arange(400.0)
    assert np.allclose(smoothness_priors_detrend(line, 500.0), 0.0, atol=1e-6)  # D2 kills lines
    hf = _modulated(0.25, 30.0, duration_s=900.0)  # 15 min: VLF defined
    t = np.cumsum(hf) / 1000.0
    drift = hf + 60.0 * np.sin(2 * np.pi * 0.01 * t)  # a 100-s wave, inside VLF
    plain = hrv_frequency(drift).iloc[0]
    detrended = hrv_frequency(drift, detrend="smoothness_priors").iloc[0]
    clean = hrv_frequency(hf).iloc[0]
    assert detrended["HRV_HF"] == pytest.approx(clean["HRV_HF"], rel=0.05)
    assert detrended["HRV_VLF"] < 0.2 * plain["HRV_VLF"]


def test_options_are_checked() -> None:
    from workbench.errors import DataFormatError

    rr = _modulated(0.25, 30.0, 120.0)
    with pytest.raises(DataFormatError):
        hrv_frequency(rr, interpolation="nearest")  # type: ignore[arg-type]
    with pytest.raises(DataFormatError):
        hrv_frequency(rr, detrend="linear")  # type: ignore[arg-type]
    with pytest.raises(DataFormatError):
        hrv_frequency(rr, welch_segment_s=0.0)
