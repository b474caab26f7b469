"""signals.hrv against NeuroKit2 on real recordings, artefact correction, invariants."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hrv_reference import assert_equals_neurokit_where_shared
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import DataFormatError
from workbench.io import read_rr
from workbench.signals import HRV_TIME_COLUMNS, hrv_frequency, hrv_nonlinear, hrv_time, rr_clean

nk = pytest.importorskip("neurokit2")

DATA = Path(__file__).resolve().parents[1] / "data"
FIT = [
    "fitparse__garmin-edge-820-bike.fit",
    "fitparse__garmin-fenix-5-run.fit",
    "fitparse__garmin-fenix-5-walk.fit",
]


def _real_series() -> dict[str, np.ndarray]:
    out = {"pyhrv_337": np.load(DATA / "hrv" / "pyhrv__SampleNNISeriesShort.npy").astype(float)}
    for name in FIT:
        out[name] = rr_clean(read_rr(DATA / "fit" / name)).nn_ms
    fr935 = rr_clean(read_rr(DATA / "fit" / "fitdecode__garmin-fr935-cr.fit")).nn_ms
    out["fr935_first_2000"] = fr935[:2000]
    out["fr935_first_3000"] = fr935[:3000]  # 32 min: SDANN5 defined
    return out


REAL = _real_series()


@pytest.mark.parametrize("name", list(REAL))
def test_hrv_time_equals_neurokit(name: str) -> None:
    nn = REAL[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = nk.hrv_time({"RRI": nn})
    mine = hrv_time(nn)
    # SDANN/SDNNI: compared where NeuroKit2 0.3.0 uses our segments, else the difference
    # (it rounds the window count, so a trailing part >= W/2 is a window) is checked by name
    compared = assert_equals_neurokit_where_shared(mine.iloc[0], nn, ref)
    assert compared >= 16  # SDANN/SDNNI are NaN (both) below 3 windows
    assert mine["HRV_lnRMSSD"].iloc[0] == pytest.approx(np.log(ref["HRV_RMSSD"].iloc[0]))


def test_hrv_time_batch_equals_single_rows() -> None:
    series = list(REAL.values()) + [np.array([800.0]), np.array([800.0, 810.0])]
    batch = hrv_time(series)
    assert list(batch.columns) == list(HRV_TIME_COLUMNS)
    assert len(batch) == len(series)
    for i, s in enumerate(series):
        single = hrv_time(s)
        pd.testing.assert_frame_equal(
            batch.iloc[[i]].reset_index(drop=True), single, rtol=1e-12, check_exact=False
        )
    assert batch.iloc[len(series) - 2].isna().all()  # one interval: no statistics


@pytest.mark.parametrize("method", ["welch", "lomb"])
@pytest.mark.parametrize(
    "name", ["pyhrv_337", "fitparse__garmin-edge-820-bike.fit", "fr935_first_2000"]
)
def test_hrv_frequency_equals_neurokit(method: str, name: str) -> None:
    pytest.importorskip("astropy") if method == "lomb" else None
    nn = REAL[name]
    t = np.cumsum(nn) / 1000.0
    kw = {"interpolation_rate": 4} if method == "welch" else {"interpolation_rate": None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = nk.hrv_frequency({"RRI": nn, "RRI_Time": t}, psd_method=method, normalize=False, **kw)
    # NeuroKit2's Welch definition: half-length segments, quadratic resampling (ours by
    # default: 256-s segments, cubic spline, Kubios; see test_hrv_frequency_reference.py)
    mine = hrv_frequency(nn, method=method, welch_segment_s=None, interpolation="quadratic")
    checked = 0
    for col in ["HRV_VLF", "HRV_LF", "HRV_HF", "HRV_LFHF", "HRV_LnHF"]:
        a = float(mine[col].iloc[0])
        if np.isnan(a):
            assert mine["HRV_FrequencyNote"].iloc[0], col  # NaN always comes with a reason
            continue
        assert a == pytest.approx(float(ref[col].iloc[0]), rel=0.01), col
        checked += 1
    assert checked >= 3


def test_hrv_frequency_short_window_is_nan_with_reason() -> None:
    rr = np.full(55, 800.0) + np.sin(np.arange(55)) * 20  # 44 s
    out = hrv_frequency(rr)
    assert np.isnan(out["HRV_VLF"].iloc[0]) and np.isnan(out["HRV_LF"].iloc[0])
    assert np.isfinite(out["HRV_HF"].iloc[0])
    note = out["HRV_FrequencyNote"].iloc[0]
    assert "VLF" in note and "LF" in note and "2 cycles" in note


def _linear_windows(x: np.ndarray, scales: np.ndarray) -> int:
    """DFA windows whose integrated profile is a straight line (equal intervals)."""
    y = np.cumsum(x - x.mean())
    count = 0
    for n in scales:
        t = np.arange(n)
        for a in range(0, y.size - n, n // 2):
            fit = np.polyval(np.polyfit(t, y[a : a + n], 1), t)
            count += int(np.var(y[a : a + n] - fit) <= 1e-8)
    return count


def test_hrv_nonlinear_matches_neurokit_and_needs_beats() -> None:
    # fenix 5 run as recorded (113 RR): no window of equal intervals, where NeuroKit2's DFA
    # is ours
    nn = np.asarray(read_rr(DATA / "fit" / "fitparse__garmin-fenix-5-run.fit"), dtype=float)
    assert _linear_windows(nn, np.arange(4, 17)) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # the same DFA (order 1, half-overlapping windows) over the same scales
        kubios, _ = nk.fractal_dfa(nn, scale=np.arange(4, 17), multifractal=False)
        nk_range, _ = nk.fractal_dfa(nn, scale=np.arange(4, 12), multifractal=False)
    mine = hrv_nonlinear(nn)
    sdsd = hrv_time(nn)["HRV_SDSD"].iloc[0]
    assert mine["HRV_SD1"].iloc[0] == pytest.approx(sdsd / np.sqrt(2), rel=1e-9)
    assert mine["HRV_SD2"].iloc[0] > mine["HRV_SD1"].iloc[0]
    # default: Kubios' 4-16 beats; NeuroKit2's hrv_nonlinear range (4-11) on request
    assert mine["HRV_DFA_alpha1_Scales"].iloc[0] == "4-16 beats"
    assert mine["HRV_DFA_alpha1"].iloc[0] == pytest.approx(kubios, rel=1e-6)
    nk_like = hrv_nonlinear(nn, dfa_scales_beats=(4, 11))
    assert nk_like["HRV_DFA_alpha1"].iloc[0] == pytest.approx(nk_range, rel=1e-6)
    assert nk_like["HRV_DFA_alpha1_Scales"].iloc[0] == "4-11 beats"
    with pytest.raises(DataFormatError):
        hrv_nonlinear(nn, dfa_scales_beats=(3, 16))
    # named difference: NeuroKit2 drops windows of equal intervals (variance <= 1e-8), we
    # count them with zero fluctuation (Peng 1995); the FR935 swim has such windows
    swim = REAL["fr935_first_2000"]
    assert _linear_windows(swim, np.arange(4, 17)) > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nk_swim, _ = nk.fractal_dfa(swim, scale=np.arange(4, 17), multifractal=False)
    ours_swim = hrv_nonlinear(swim)["HRV_DFA_alpha1"].iloc[0]
    assert ours_swim != pytest.approx(nk_swim, rel=1e-6)
    assert ours_swim == pytest.approx(nk_swim, abs=0.05)  # a few windows of ~1900
    short = hrv_nonlinear(REAL["fitparse__garmin-fenix-5-walk.fit"])
    assert np.isnan(short["HRV_DFA_alpha1"].iloc[0])
    assert "DFA" in short["HRV_NonlinearNote"].iloc[0]


def _clean_series(n: int = 300, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.round(900 + 40 * np.sin(np.arange(n) / 4.0) + rng.normal(0, 8, n))


def test_rr_clean_finds_injected_artefacts() -> None:
    rr = _clean_series()
    bad = rr.copy()
    bad[50] = rr[50] * 2  # missed beat: two intervals merged
    bad = np.insert(bad, 120, [300.0])  # extra beat: interval split ...
    bad[121] = rr[119] - 300.0  # ... into two parts
    bad[200] = rr[200] - 250.0  # ectopic: early beat ...
    bad[201] = rr[200] + rr[201] - bad[200] - 0.0  # ... followed by a compensatory pause
    res = rr_clean(bad)
    assert 50 in res.positions["missed"]
    assert 120 in res.positions["extra"]
    assert 200 in res.positions["ectopic"] or 200 in res.positions["longshort"]
    assert res.n_missed >= 1 and res.n_extra >= 1
    assert res.artifact_pct == pytest.approx(100 * res.n_corrected / bad.size)
    # the corrected series is close to the clean one again
    assert abs(res.nn_ms.size - rr.size) <= 1
    assert np.abs(np.diff(res.nn_ms)).max() < 200


def test_rr_clean_detection_matches_neurokit() -> None:
    rr = _clean_series(400, seed=9)
    rr[[60, 61]] = [rr[60] - 280, rr[61] + 280]
    rr[150] *= 2
    peaks = np.concatenate([[0], np.cumsum(rr)]).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        info, _ = nk.signal_fixpeaks(peaks, sampling_rate=1000, method="kubios", iterative=False)
    res = rr_clean(rr, iterative=False)
    ours = {k: set((res.positions[k] + 1).tolist()) for k in res.positions}  # peak indices
    for kind in ("missed", "extra"):
        assert ours[kind] == set(info[kind]), kind
    # named difference: where the ectopic criterion holds at dRR index j, the displaced
    # beat is peak j - 1 (its interval is short/long, the next one compensates); NeuroKit2
    # flags peak j as ectopic and moves it, and flags j - 1 again as long/short
    assert 61 in ours["ectopic"] and 62 in set(info["ectopic"])
    assert ours["ectopic"] == {j - 1 for j in info["ectopic"]}
    assert ours["longshort"] == set(info["longshort"]) - ours["ectopic"]


def test_rr_clean_short_and_invalid_input() -> None:
    res = rr_clean([800.0, 810.0])
    assert res.n_corrected == 0 and "at least 4" in res.note
    with pytest.raises(DataFormatError, match="interval 1"):
        rr_clean([800.0, np.nan, 810.0, 790.0])
    with pytest.raises(DataFormatError, match="> 0"):
        hrv_time([800.0, -5.0])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(min_value=400, max_value=1500, allow_nan=False), min_size=2, max_size=200),
    st.floats(min_value=0.5, max_value=2.0),
)
def test_hrv_time_invariants(rr: list[float], scale: float) -> None:
    x = np.asarray(rr)
    a = hrv_time(x).iloc[0]
    b = hrv_time(x * scale).iloc[0]
    for col in ["HRV_MeanNN", "HRV_SDNN", "HRV_RMSSD", "HRV_MedianNN", "HRV_IQRNN"]:
        assert b[col] == pytest.approx(a[col] * scale, rel=1e-9, abs=1e-9)
    assert a["HRV_CVNN"] == pytest.approx(b["HRV_CVNN"], rel=1e-9, abs=1e-12)
    assert a["HRV_MinNN"] <= a["HRV_MedianNN"] <= a["HRV_MaxNN"]
    assert 0 <= a["HRV_pNN50"] <= a["HRV_pNN20"] <= 100
    rev = hrv_time(x[::-1]).iloc[0]  # order-free statistics do not change on reversal
    assert rev["HRV_RMSSD"] == pytest.approx(a["HRV_RMSSD"], rel=1e-9)
    assert rev["HRV_MedianNN"] == pytest.approx(a["HRV_MedianNN"], rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(min_value=500, max_value=1200, allow_nan=False), min_size=4, max_size=300)
)
def test_rr_clean_invariants(rr: list[float]) -> None:
    x = np.asarray(rr)
    res = rr_clean(x)
    assert np.all(res.nn_ms > 0)
    assert res.nn_ms.sum() == pytest.approx(x.sum(), rel=1e-9)  # beats move, time does not
    assert 0 <= res.artifact_pct
    assert res.quality in {"good", "fair", "unreliable"}
