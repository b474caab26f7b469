"""hrv_time on batches: equal to one series at a time and to NeuroKit2, edge cases included."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hrv_reference import assert_equals_neurokit_where_shared
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import DataFormatError
from workbench.signals import HRV_TIME_COLUMNS, hrv_time

nk = pytest.importorskip("neurokit2")

BIN = 1000.0 / 128.0  # HTI bin width (ms): values on multiples of it sit on bin edges


def _assert_equals_neurokit(row: pd.Series, x: np.ndarray) -> None:
    """Equal to NeuroKit2 where the definition is shared (SDANN/SDNNI: see hrv_reference)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = nk.hrv_time({"RRI": x})
    assert_equals_neurokit_where_shared(row, x, ref)


@st.composite
def _series(draw: st.DrawFn, max_len: int) -> np.ndarray:
    n = draw(
        st.one_of(st.integers(0, 3), st.integers(4, 40), st.integers(41, max_len)),
    )
    kind = draw(st.sampled_from(["float", "decimal", "bin_edges", "constant"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "constant":
        return np.full(n, draw(st.sampled_from([750.0, 800.0, 62 * BIN, 812.3])))
    if kind == "bin_edges":  # ties and values exactly on histogram edges
        return rng.integers(90, 116, n) * BIN
    x = rng.uniform(700.0, 900.0, n)
    return np.round(x, 1) if kind == "decimal" else x


@settings(max_examples=60, deadline=None)
@given(st.lists(_series(max_len=400), min_size=1, max_size=12), st.booleans())
def test_batch_equals_one_series_at_a_time(series: list[np.ndarray], long_first: bool) -> None:
    if long_first:  # a long series (SDANN/SDNNI defined) next to very short ones
        long = np.round(np.random.default_rng(len(series)).uniform(600, 1000, 1500), 1)
        series = [long, *series]
    batch = hrv_time(series)
    assert list(batch.columns) == list(HRV_TIME_COLUMNS)
    assert len(batch) == len(series)
    for i, s in enumerate(series):
        single = hrv_time(s)
        pd.testing.assert_frame_equal(
            batch.iloc[[i]].reset_index(drop=True), single, rtol=1e-12, check_exact=False
        )
        if s.size < 2:
            assert batch.iloc[i].isna().all()


@settings(max_examples=25, deadline=None)
@given(_series(max_len=120))
def test_short_random_series_equal_neurokit(x: np.ndarray) -> None:
    if x.size < 2:
        assert hrv_time(x).iloc[0].isna().all()
        return
    _assert_equals_neurokit(hrv_time(x).iloc[0], x)


def _edge_hitting(n_min: int, seed: int) -> np.ndarray:
    """Integer intervals whose cumulative time hits every minute boundary exactly."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_min):
        dev = rng.integers(-100, 100, 37)
        block = 800.0 + np.concatenate([dev, -dev, [0]])  # 75 beats lasting exactly 60 s
        out.append(rng.permutation(block))
    return np.concatenate(out)  # NeuroKit2's c starts at x[0]: c[75 m - 1] = 60 s * m


@pytest.mark.parametrize("n_min", [3, 7, 11, 16])
def test_windows_on_exact_minute_boundaries_equal_neurokit(n_min: int) -> None:
    x = _edge_hitting(n_min, seed=n_min)
    assert np.all((x > 400) & (x < 1500))
    batch = hrv_time([x[:5], x, x[: x.size // 2], np.array([800.0])])
    row = batch.iloc[1]
    assert np.isfinite(row["HRV_SDANN1"]) and np.isfinite(row["HRV_SDNNI1"])
    _assert_equals_neurokit(row, x)
    _assert_equals_neurokit(batch.iloc[2], x[: x.size // 2])


def test_long_recordings_in_one_batch_equal_neurokit() -> None:
    rng = np.random.default_rng(7)
    series = [
        np.round(820 + 40 * np.sin(np.arange(n) / 9.0) + rng.normal(0, 12, n), 1)
        for n in (2400, 5, 900, 2)
    ]
    batch = hrv_time(series)
    assert np.isfinite(batch["HRV_SDANN5"].iloc[0])  # 32 min: 5-min windows defined
    for i, s in enumerate(series):
        _assert_equals_neurokit(batch.iloc[i], s)


def test_batch_reports_the_first_bad_interval() -> None:
    good = np.full(10, 800.0)
    with pytest.raises(DataFormatError, match="series 2: RR interval 3"):
        hrv_time([good, np.array([800.0]), np.array([800.0, 810.0, 805.0, np.inf]), good])
    with pytest.raises(DataFormatError, match="series 1: RR interval 0"):
        hrv_time([good, np.array([0.0])])
    with pytest.raises(DataFormatError, match="series 0: RR interval 1"):
        hrv_time([np.array([800.0, np.nan, 810.0])])
    assert hrv_time([np.array([]), good]).iloc[0].isna().all()


@pytest.mark.parametrize("noise_ms", [0.5, 0.005, 0.0])
def test_window_sd_without_cancellation(noise_ms: float) -> None:
    # window SDs far below the distance of the window means from the series mean
    rng = np.random.default_rng(3)
    x = np.where(np.arange(3000) < 1500, 600.0, 1200.0) + rng.normal(0, noise_ms, 3000)
    row = hrv_time([np.array([800.0, 810.0]), x]).iloc[1]
    _assert_equals_neurokit(row, x)
