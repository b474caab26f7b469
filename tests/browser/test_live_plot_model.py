"""LivePlot without a browser: decimation keeps the envelope, threads can push, back-pressure."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from workbench.drivers.base import SampleBlock, StreamInfo
from workbench.widgets.live_plot import LivePlot, minmax_decimate

EMG = StreamInfo("emg", "emg", "test", tuple(f"ch{i}" for i in range(8)), ("uV",) * 8, 2000.0)
SMO2 = StreamInfo("smo2", "smo2", "test", ("smo2_pct",), ("%",), 2.0)


def test_minmax_decimate_keeps_extremes_and_bounds_points():
    rng = np.random.default_rng(0)
    t = np.arange(20000) / 2000.0
    v = rng.standard_normal((20000, 8))
    v[12345, 3] = 50.0  # a single-sample spike must survive decimation
    td, vd = minmax_decimate(t, v, t_start=0.0, t_end=10.0, columns=400)
    assert td.size <= 800 and vd.shape == (td.size, 8)
    assert vd[:, 3].max() == 50.0
    np.testing.assert_allclose(vd.min(axis=0), v.min(axis=0))
    assert np.all(np.diff(td) >= 0)


def test_minmax_decimate_passes_sparse_streams_through():
    t = np.arange(20) / 2.0
    v = np.arange(20.0)[:, None]
    td, vd = minmax_decimate(t, v, t_start=2.0, t_end=9.5, columns=400)
    np.testing.assert_array_equal(td, t[4:])
    np.testing.assert_array_equal(vd[:, 0], v[4:, 0])


def _block(name, t0, n, fs, ch):
    t = t0 + np.arange(n) / fs
    return SampleBlock(name, t, np.full(n, np.nan), np.sin(t)[:, None] * np.ones((1, ch)))


def test_threads_push_and_one_refresh_draws_everything():
    plot = LivePlot([EMG, SMO2], window_s=5.0, refresh_hz=20.0, columns=200)

    def producer(k):
        for j in range(50):
            plot.push(_block("emg", 100 + (k * 50 + j) * 0.02, 40, 2000.0, 8))

    threads = [threading.Thread(target=producer, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    plot.push(_block("smo2", 100.0, 8, 2.0, 1))
    for th in threads:
        th.join()
    assert plot.refresh()
    assert plot.n_samples_in == 4 * 50 * 40 + 8
    data = plot._sources["emg"].data
    assert 0 < len(data["x"]) <= 400 and set(data) == {"x", *(f"y{i}" for i in range(8))}
    assert data["x"].max() == 0.0 and data["x"].min() >= -5.0
    assert not plot.refresh()  # nothing new: nothing sent


def test_pause_markers_and_backpressure():
    plot = LivePlot([SMO2], window_s=10.0, refresh_hz=10.0)
    plot.push(_block("smo2", 0.0, 10, 2.0, 1))
    plot.add_marker("lap 1", t_s=3.0)
    assert plot.refresh()
    assert plot._marker_sources["smo2"].data["label"] == ["lap 1"]
    assert plot._marker_sources["smo2"].data["x"][0] == pytest.approx(3.0 - 4.5)
    plot.pause()
    plot.push(_block("smo2", 5.0, 2, 2.0, 1))
    assert not plot.refresh()
    plot.resume()
    # no browser acknowledges: after max_in_flight unacknowledged updates, sending pauses
    sent = 1
    for k in range(6):
        plot.push(_block("smo2", 6.0 + k, 2, 2.0, 1))
        sent += plot.refresh()
    assert sent == plot.max_in_flight + 1 and plot.n_skipped > 0
    plot._ack.data = {"seq": [plot._seq]}  # what the browser's CustomJS does
    plot.push(_block("smo2", 20.0, 2, 2.0, 1))
    assert plot.refresh()


def test_refresh_rate_is_bounded():
    with pytest.raises(ValueError):
        LivePlot([SMO2], refresh_hz=60.0)
