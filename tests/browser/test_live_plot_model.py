"""LivePlot without a browser: decimation keeps the envelope, threads can push, back-pressure,
incremental updates rebuild exactly the decimated window on a mirror of the browser document."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from workbench.drivers.base import SampleBlock, StreamInfo
from workbench.widgets.live_plot import LivePlot, bin_decimate, minmax_decimate

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
    # x is seconds since the first sample; the x range ends at the newest sample
    assert data["x"].max() == pytest.approx(plot._range.end) and data["x"].min() >= 0.0
    assert plot._range.end - plot._range.start == pytest.approx(5.0)
    assert isinstance(data["x"], np.ndarray) and data["y0"].dtype == np.float32
    assert not plot.refresh()  # nothing new: nothing sent


def test_pause_markers_and_backpressure():
    plot = LivePlot([SMO2], window_s=10.0, refresh_hz=10.0)
    plot.push(_block("smo2", 0.0, 10, 2.0, 1))
    plot.add_marker("lap 1", t_s=3.0)
    assert plot.refresh()
    assert plot._marker_source.data["label"] == ["lap 1"]
    assert plot._marker_source.data["x"][0] == pytest.approx(3.0 - plot.origin_s)
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
    plot._ack.data = {"seq": [plot._seq], "need_full": [0]}  # what the browser's JS does
    plot.push(_block("smo2", 20.0, 2, 2.0, 1))
    assert plot.refresh()


def test_refresh_rate_is_bounded():
    with pytest.raises(ValueError):
        LivePlot([SMO2], refresh_hz=60.0)


def test_bin_decimate_is_stable_under_appending():
    rng = np.random.default_rng(3)
    t = np.sort(rng.uniform(0.0, 4.0, 5000))
    v = rng.standard_normal((t.size, 3))
    v[1234, 1] = np.nan  # NaNs are ignored unless a whole bin is NaN
    b, td, vd = bin_decimate(t, v, origin=0.0, width=0.01)
    assert np.all(np.diff(b) >= 0) and np.all(np.diff(td) >= 0)
    assert np.bincount(b - b.min()).max() <= 2
    np.testing.assert_allclose(np.nanmax(vd, axis=0), np.nanmax(v, axis=0))
    np.testing.assert_allclose(np.nanmin(vd, axis=0), np.nanmin(v, axis=0))
    # the complete bins of a prefix decimate to the same points as in the whole
    k = np.searchsorted(t, 2.0)
    b2, td2, vd2 = bin_decimate(t[:k], v[:k], origin=0.0, width=0.01)
    m = b2 < b2[-1]
    np.testing.assert_array_equal(td2[m], td[: m.sum()])
    np.testing.assert_array_equal(vd2[m], vd[: m.sum()])
    # sparse samples pass through unchanged
    ts = np.arange(10) * 0.5
    _b, tds, vds = bin_decimate(ts, ts[:, None], origin=0.0, width=0.01)
    np.testing.assert_array_equal(tds, ts)


def _mirrored_plot(streams, **kw):
    """A LivePlot whose PATCH-DOC messages are applied to a copy of its document, as a
    browser view that attached at the start would apply them."""
    from bokeh.document import Document

    plot = LivePlot(streams, **kw)
    doc = Document()
    doc.add_root(plot.layout)
    mirror = Document.from_json(doc.to_json())
    sent: list[int] = []
    plot._model = object()  # a view exists: capture the refresh's events

    def emit(msg):
        sent.append(len(msg.content_json))
        assert not msg.buffers  # arrays go inline: three comm messages per update
        patch = json.loads(msg.content_json)
        for event in patch["events"]:
            # BokehJS streams into a typed array in place and never shrinks it: a rollover
            # below the column's length leaves stale rows at its end (unlike Bokeh here)
            if event["kind"] == "ColumnsStreamed" and event.get("rollover") is not None:
                held = len(mirror.get_model_by_id(event["model"]["id"]).data["x"])
                assert held <= event["rollover"], (held, event["rollover"])
        mirror.apply_json_patch(patch)

    plot.emit = emit
    return plot, mirror, sent


def _expected_window(plot, name):
    t, v = plot._rings[name].ordered()
    k = np.argsort(t, kind="stable")
    t, v = t[k], v[k]
    w = plot._bin_s
    b_first = np.floor((plot._latest_t_s - plot.window_s - plot.origin_s) / w)
    sel = np.floor((t - plot.origin_s) / w) >= b_first
    _b, td, vd = bin_decimate(t[sel], v[sel], origin=plot.origin_s, width=w)
    return td - plot.origin_s, vd.astype(np.float32)


def test_incremental_updates_equal_the_decimated_window():
    plot, mirror, sent = _mirrored_plot([EMG, SMO2], window_s=2.0, columns=50, refresh_hz=15)
    rng = np.random.default_rng(1)
    t = 100.0
    for k in range(300):  # ragged blocks, a sparse stream, a gap, pauses, markers
        n = int(rng.integers(1, 250))
        v = rng.standard_normal((n, 8))
        plot.push(SampleBlock("emg", t + np.arange(n) / 2000, np.full(n, np.nan), v))
        if k % 7 == 0:
            plot.push(_block("smo2", t, 1, 2.0, 1))
        t += n / 2000 + (1.5 if k == 150 else 0.0)
        if k == 60:
            plot.add_marker("lap", t_s=t - 0.5)
        if k in (200, 201):
            plot.pause() if k == 200 else plot.resume()
        plot.refresh()
        plot._ack.data = {"seq": [plot._seq], "need_full": [0]}
        if plot.paused:  # the display is frozen
            continue
        for name in ("emg", "smo2"):
            x, y = _expected_window(plot, name)
            for data in (plot._sources[name].data, mirror.get_model_by_name(f"live:{name}").data):
                np.testing.assert_array_equal(np.asarray(data["x"]), x)
                for i in range(y.shape[1]):
                    np.testing.assert_array_equal(np.asarray(data[f"y{i}"]), y[:, i])
    assert plot.n_full <= 3  # first update, after the resume, ...: the rest were increments
    assert len(plot._sources["emg"].data["x"]) <= 2 * (50 + 1)
    assert np.median(sent) < 6000  # bytes of JSON per update, all streams together
    probe = mirror.get_model_by_name("probe").data
    assert probe["seq"] == [plot._seq]


def test_late_view_and_late_samples_get_a_full_window():
    plot, _mirror, _sent = _mirrored_plot([EMG], window_s=2.0, columns=50, refresh_hz=15)
    plot.push(_block("emg", 10.0, 400, 2000.0, 8))
    plot.refresh()
    plot._ack.data = {"seq": [plot._seq], "need_full": [0]}
    plot.push(_block("emg", 10.2, 100, 2000.0, 8))
    plot.refresh()
    assert plot.n_full == 1
    # a view attached late: its first update does not continue what it has
    plot._ack.data = {"seq": [plot._seq], "need_full": [1]}
    plot.push(_block("emg", 10.25, 100, 2000.0, 8))
    plot.refresh()
    assert plot.n_full == 2 and plot._probe.data["prev"] == [-1]
    plot._ack.data = {"seq": [plot._seq], "need_full": [0]}
    # samples older than the newest shown bin (out of order across blocks)
    plot.push(_block("emg", 10.0, 10, 2000.0, 8))
    plot.refresh()
    assert plot.n_full == 3
    x, y = _expected_window(plot, "emg")
    np.testing.assert_array_equal(plot._sources["emg"].data["x"], x)


def test_kernel_ignores_echoes_of_its_own_data():
    """jupyter_bokeh views send applied kernel changes back; they must not be re-applied."""
    plot = LivePlot([SMO2], window_s=10.0, refresh_hz=10.0)
    plot.widget()
    model = plot._model
    plot.push(_block("smo2", 0.0, 10, 2.0, 1))
    assert plot.refresh()
    src = plot._sources["smo2"]
    n = len(src.data["x"])
    echo = {"event": "jsevent", "kind": "ColumnsStreamed", "model": {"id": src.id},
            "attr": "data", "data": {"type": "map", "entries": []}, "rollover": 3}  # fmt: skip
    model._sync_model(model, echo, [])
    assert model.n_echoes_dropped == 1 and len(src.data["x"]) == n
    ack = {"event": "jsevent", "kind": "ModelChanged", "model": {"id": plot._ack.id},
           "attr": "data", "new": {"type": "map", "entries": [["seq", [plot._seq]],
                                                             ["need_full", [0]]]}}  # fmt: skip
    model._sync_model(model, ack, [])
    assert plot._acked_seq == plot._seq
