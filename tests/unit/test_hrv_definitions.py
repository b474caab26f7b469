"""hrv_time against values worked out by hand from the definitions in docs/hrv-definitions.md.

SDANN/SDNNI follow Task Force (1996): complete W-minute segments, every interval of a segment
included, interval j belongs to the segment in which it ends (c_j = x_0 + ... + x_j, segment
floor(c_j / W)), a trailing partial segment is left out, NaN with fewer than 3 segments.
NeuroKit2 0.3.0 is compared only where its definition is the same (hrv_reference).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hrv_reference import nk_cumulative_ms, nk_shares_definition, segment_sd

from workbench.io import read_rr
from workbench.signals import hrv_time, rr_clean

DATA = Path(__file__).resolve().parents[1] / "data"

# the example of issue 16: one minute = 58 x 1000 ms, then 1500 and 500 (60 intervals, 60 s)
BLK = np.r_[np.full(58, 1000.0), 1500.0, 500.0]
RR = np.r_[BLK, BLK, BLK, 1000.0]  # 181 s


def test_issue_example_by_hand() -> None:
    # The 500 ms interval of a block ends exactly at 60 s, so it opens the next segment:
    # segment 0 = 58 x 1000 + 1500, segments 1 and 2 = 500 + 58 x 1000 + 1500. The 500 and
    # 1000 ending at 180 s and 181 s form a partial segment, left out.
    # segment 0: one value 500 ms off 58 equal ones: SS = 500^2 * 58 / 59, SD = 500 / sqrt(59)
    sd0 = 500.0 / math.sqrt(59.0)
    # segments 1, 2: mean 1000, SS = 2 * 500^2, SD = 500 * sqrt(2 / 59)
    sd1 = 500.0 * math.sqrt(2.0 / 59.0)
    sdnni1 = (sd0 + 2.0 * sd1) / 3.0
    # means: 1000 + 500/59, 1000, 1000 -> SD (ddof 1) of (a, 0, 0) is a / sqrt(3)
    sdann1 = (500.0 / 59.0) / math.sqrt(3.0)
    row = hrv_time(RR).iloc[0]
    assert sdnni1 == pytest.approx(83.0698, abs=5e-5)  # the issue's 83.07
    assert row["HRV_SDNNI1"] == pytest.approx(sdnni1, rel=1e-12)
    assert row["HRV_SDANN1"] == pytest.approx(sdann1, rel=1e-12)
    # 181 s hold one complete 2-min segment and no 5-min one: fewer than 3 -> NaN
    assert np.isnan(row["HRV_SDANN2"]) and np.isnan(row["HRV_SDNNI2"])
    assert np.isnan(row["HRV_SDANN5"]) and np.isnan(row["HRV_SDNNI5"])


def test_every_beat_of_a_segment_counts() -> None:
    # NeuroKit2 0.2.x dropped each window's last interval and gave 43.40 here (issue 16)
    row = hrv_time(RR).iloc[0]
    without_last = []
    for seg in (RR[:59], RR[59:119], RR[119:179]):
        without_last.append(np.std(seg[:-1], ddof=1))
    assert np.mean(without_last) == pytest.approx(43.40, abs=0.01)
    assert row["HRV_SDNNI1"] == pytest.approx(83.07, abs=0.005)


def test_single_interval_segments_by_hand() -> None:
    # ends at 30, 60, 120, 150, 180, 181 s -> segments 0: [30000], 1: [30000],
    # 2: [60000, 30000]; 3 is partial (left out)
    x = np.array([30000.0, 30000.0, 60000.0, 30000.0, 30000.0, 1000.0])
    row = hrv_time(x).iloc[0]
    # means (30000, 30000, 45000): SD = 15000 / sqrt(3)
    assert row["HRV_SDANN1"] == pytest.approx(15000.0 / math.sqrt(3.0), rel=1e-12)
    # a one-interval segment has no SD: SDNNI is the SD of segment 2 alone, 30000 / sqrt(2)
    assert row["HRV_SDNNI1"] == pytest.approx(30000.0 / math.sqrt(2.0), rel=1e-12)


@pytest.mark.parametrize(
    "tail",
    [
        np.array([400.0, 1900.0, 350.0, 1800.0, 2000.0]),  # artefacts, 6.45 s
        np.r_[np.tile([300.0, 1700.0], 28), 900.0],  # artefacts, 56.9 s (> W / 2)
    ],
)
def test_partial_trailing_segment_is_left_out(tail: np.ndarray) -> None:
    x = np.r_[BLK, BLK, BLK, tail]
    assert np.sum(x) < 4 * 60_000.0  # the tail stays inside the fourth, partial minute
    row = hrv_time(x).iloc[0]
    assert row["HRV_SDNNI1"] == pytest.approx(83.0698, abs=5e-5)
    assert row["HRV_SDANN1"] == pytest.approx((500.0 / 59.0) / math.sqrt(3.0), rel=1e-12)


def neurokit_hrv_time(rr_ms: np.ndarray):
    """NeuroKit2's time-domain HRV of ``rr_ms`` (skips the test without NeuroKit2)."""
    nk = pytest.importorskip("neurokit2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nk.hrv_time({"RRI": rr_ms})


def test_partial_segment_difference_from_neurokit_is_named() -> None:
    x = np.r_[BLK, BLK, BLK, np.tile([300.0, 1700.0], 28), 900.0]
    ref = neurokit_hrv_time(x)
    # NeuroKit2 0.3.0 counts round(236.9 s / 60 s) = 4 windows: the 56.9-s artefact tail
    # becomes a window of its own; we count floor(...) = 3 complete segments
    assert not nk_shares_definition(x, 1)
    rounded = segment_sd(x, 1, segments="rounded", c=nk_cumulative_ms(x))
    assert float(ref["HRV_SDNNI1"].iloc[0]) == pytest.approx(rounded[1], rel=1e-12)
    assert float(ref["HRV_SDNNI1"].iloc[0]) > 2 * 83.07  # the tail dominates its value
    assert hrv_time(x)["HRV_SDNNI1"].iloc[0] == pytest.approx(83.0698, abs=5e-5)


def test_fewer_than_three_complete_segments_is_nan() -> None:
    x = np.r_[BLK, BLK, np.full(59, 1000.0), 999.0]  # 179.999 s: two complete minutes
    row = hrv_time(x).iloc[0]
    assert np.isnan(row["HRV_SDANN1"]) and np.isnan(row["HRV_SDNNI1"])
    row = hrv_time(np.r_[x, 1.0]).iloc[0]  # 180 s: three; the 1-ms interval opens a fourth
    assert np.isfinite(row["HRV_SDANN1"]) and np.isfinite(row["HRV_SDNNI1"])


def test_real_swim_file_trailing_part_left_out() -> None:
    # Garmin FR935 swim (fitdecode tests, MIT): first 3000 corrected intervals, 29.3 min =
    # five complete 5-min segments and a 4.3-min trailing part
    nn = rr_clean(read_rr(DATA / "fit" / "fitdecode__garmin-fr935-cr.fit")).nn_ms[:3000]
    c = np.cumsum(nn)
    assert 29.0 < c[-1] / 60_000.0 < 29.5
    # the intervals ending inside the five complete segments, and the one that ends on or
    # after 25 min (it makes the fifth segment complete and opens the partial sixth)
    complete = nn[: np.count_nonzero(c < 25 * 60_000.0) + 1]
    full, cut = hrv_time([nn, complete]).iloc[0], hrv_time([nn, complete]).iloc[1]
    for col in ("HRV_SDANN5", "HRV_SDNNI5"):
        assert np.isfinite(full[col])
        assert full[col] == pytest.approx(cut[col], rel=1e-12), col
    sdann5, sdnni5 = segment_sd(nn, 5)
    assert full["HRV_SDANN5"] == pytest.approx(sdann5, rel=1e-9)
    assert full["HRV_SDNNI5"] == pytest.approx(sdnni5, rel=1e-9)
    ref = neurokit_hrv_time(nn)
    # named difference: NeuroKit2 0.3.0 rounds 29.3 / 5 to 6 windows, the 4.3-min tail
    # being the sixth; on this file that moves SDANN5 by > 300 % and SDNNI5 by > 40 %
    assert not nk_shares_definition(nn, 5)
    rounded = segment_sd(nn, 5, segments="rounded", c=nk_cumulative_ms(nn))
    assert float(ref["HRV_SDANN5"].iloc[0]) == pytest.approx(rounded[0], rel=1e-9)
    assert float(ref["HRV_SDANN5"].iloc[0]) > 4.0 * full["HRV_SDANN5"]
    assert float(ref["HRV_SDNNI5"].iloc[0]) > 1.4 * full["HRV_SDNNI5"]


@pytest.mark.parametrize("seed", range(6))
def test_batch_equals_the_definition_segment_by_segment(seed: int) -> None:
    rng = np.random.default_rng(seed)
    series = []
    for n in rng.integers(150, 4000, 5):
        x = 850 + 80 * np.sin(np.arange(n) / 17.0) + rng.normal(0, 40, n)
        x[rng.integers(0, n, max(1, n // 200))] *= rng.choice([0.5, 1.8])  # a few artefacts
        series.append(np.round(x, int(rng.integers(0, 3))))
    batch = hrv_time(series)
    for i, x in enumerate(series):
        for w in (1, 2, 5):
            sdann, sdnni = segment_sd(x, w)
            assert batch[f"HRV_SDANN{w}"].iloc[i] == pytest.approx(sdann, rel=1e-9, nan_ok=True)
            assert batch[f"HRV_SDNNI{w}"].iloc[i] == pytest.approx(sdnni, rel=1e-9, nan_ok=True)


def test_other_time_domain_definitions_by_hand() -> None:
    x = np.array([800.0, 860.0, 790.0, 900.0, 850.0])
    row = hrv_time(x).iloc[0]
    d = np.array([60.0, -70.0, 110.0, -50.0])
    assert row["HRV_MeanNN"] == pytest.approx(840.0)
    # SDNN: deviations -40, 20, -50, 60, 10 -> SS 8200, / 4
    assert row["HRV_SDNN"] == pytest.approx(math.sqrt(8200.0 / 4.0))
    # RMSSD: (3600 + 4900 + 12100 + 2500) / 4
    assert row["HRV_RMSSD"] == pytest.approx(math.sqrt(23100.0 / 4.0))
    assert row["HRV_SDSD"] == pytest.approx(np.std(d, ddof=1))
    # pNN50: 3 of 4 differences exceed 50 ms; divided by the number of intervals (5)
    assert row["HRV_pNN50"] == pytest.approx(3 / 5 * 100.0)
    assert row["HRV_pNN20"] == pytest.approx(4 / 5 * 100.0)
    assert row["HRV_lnRMSSD"] == pytest.approx(math.log(math.sqrt(23100.0 / 4.0)))
    assert row["HRV_MedianNN"] == 850.0
    # MadNN: |x - 850| = 50, 10, 60, 50, 0 -> median 50, x 1.4826
    assert row["HRV_MadNN"] == pytest.approx(50.0 * 1.4826)


def _fluctuation_by_hand(x: np.ndarray, n: int) -> float:
    """F(n) from the definition: integrate, half-overlapping windows, line fit, RMS."""
    y = np.cumsum(x - x.mean())
    res = []
    for a in range(0, y.size - n, n // 2):
        seg = y[a : a + n]
        t = np.arange(n)
        slope, icpt = np.polyfit(t, seg, 1)
        res.append(np.mean((seg - (icpt + slope * t)) ** 2))
    return float(np.sqrt(np.mean(res)))


def test_dfa_alpha1_definition_and_kubios_range() -> None:
    from workbench.signals import hrv_nonlinear

    # FR935 swim (real): α1 is the slope of log F(n) on log n over n = 4..16
    nn = rr_clean(read_rr(DATA / "fit" / "fitdecode__garmin-fr935-cr.fit")).nn_ms[:1500]
    scales = np.arange(4, 17)
    f = [_fluctuation_by_hand(nn, n) for n in scales]
    slope = np.polyfit(np.log(scales), np.log(f), 1)[0]
    assert hrv_nonlinear(nn)["HRV_DFA_alpha1"].iloc[0] == pytest.approx(slope, rel=1e-9)
    # theory: white noise gives α = 0.5, its running sum (Brownian) α = 1.5; at n = 4-16 DFA-1
    # reads white noise high (~0.58, the small-scale bias of Kantelhardt et al. 2001), which
    # is gone at 16-64 beats
    rng = np.random.default_rng(0)
    white = 800 + rng.normal(0, 30, 20_000)
    brown = 800 + np.cumsum(rng.normal(0, 3, 20_000))
    a_white, a_brown = hrv_nonlinear([white, brown])["HRV_DFA_alpha1"]
    assert 0.52 < a_white < 0.63
    assert a_brown == pytest.approx(1.5, abs=0.05)
    long_white = hrv_nonlinear(white, dfa_scales_beats=(16, 64))["HRV_DFA_alpha1"].iloc[0]
    assert long_white == pytest.approx(0.5, abs=0.03)
