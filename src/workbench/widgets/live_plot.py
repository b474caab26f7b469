"""Live multi-stream plot (Bokeh via jupyter_bokeh) fed by :class:`SampleBlock` s.

Producers (driver callbacks, a DeviceHub thread, an asyncio task reading a
:class:`~workbench.drivers.base.Source`) call :meth:`LivePlot.push` from any thread; a
refresh loop on the kernel's event loop drains the buffers at ``refresh_hz`` (10–30 Hz)
and updates one ``ColumnDataSource`` per stream (all channels as columns).

Decimation uses fixed time bins of ``window_s / columns`` seconds anchored at the first
sample: a bin with more than two samples becomes two points (each channel's min and max,
at the bin's first and last sample time), sparser bins pass through unchanged. Because
the bins do not move, a refresh only has to send what changed: the points of the newest
(still filling) bin are patched and the new bins' points are streamed with a rollover that
drops exactly the bins that left the window. All of a refresh's changes (every stream,
the x range, the latency probe) go to the browser as *one* Bokeh ``PATCH-DOC`` with the
arrays inline — three small comm messages per refresh instead of one message per event
and two per binary buffer, which is what jupyter_bokeh would do.

A browser view acknowledges every update it applies; the kernel keeps at most
``max_in_flight`` updates unacknowledged. A view that sees an update that does not
continue what it has (it attached late, or missed one) asks for a full replacement of the
window, which the next refresh sends; while no view has acknowledged anything yet, a full
window goes out every ``unacked_resend_s``. So a late-attaching view shows the full window
within one refresh.

In a notebook::

    plot = LivePlot([emg_info, smo2_info], window_s=10)
    display(plot)                  # loads BokehJS inline (offline) first
    task = plot.start()            # refresh loop on the kernel loop
    await plot.consume(source, duration_s=20)   # or source callbacks -> plot.push(block)
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from workbench.drivers.base import SampleBlock, Source, StreamInfo
from workbench.plotting.decimate import bin_decimate, minmax_decimate
from workbench.widgets._periodic import PeriodicTask

__all__ = ["LivePlot", "bin_decimate", "minmax_decimate"]

_PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
)  # fmt: skip
_BOKEHJS_LOADED = False
_log = logging.getLogger(__name__)


class _Ring:
    """Fixed-capacity ring of (t, values) rows; oldest rows are overwritten."""

    def __init__(self, capacity: int, channels: int) -> None:
        self.t = np.empty(capacity)
        self.v = np.empty((capacity, channels))
        self.n = 0
        self.head = 0  # next write position

    @property
    def capacity(self) -> int:
        return self.t.size

    def append(self, t: np.ndarray, v: np.ndarray) -> None:
        k = t.size
        if k >= self.capacity:
            t, v, k = t[-self.capacity :], v[-self.capacity :], self.capacity
        first = min(k, self.capacity - self.head)
        self.t[self.head : self.head + first] = t[:first]
        self.v[self.head : self.head + first] = v[:first]
        rest = k - first
        if rest:
            self.t[:rest] = t[first:]
            self.v[:rest] = v[first:]
        self.head = (self.head + k) % self.capacity
        self.n = min(self.capacity, self.n + k)

    def ordered(self) -> tuple[np.ndarray, np.ndarray]:
        if self.n < self.capacity:
            return self.t[: self.n], self.v[: self.n]
        idx = np.r_[self.head : self.capacity, 0 : self.head]
        return self.t[idx], self.v[idx]


class _Track:
    """What one stream's browser-side source holds, for incremental updates."""

    def __init__(self, channels: int) -> None:
        self.bins = np.zeros(0, np.int64)  # bin index of every point in the source
        self.tail_t = np.zeros(0)  # raw samples of the newest (still filling) bin
        self.tail_v = np.zeros((0, channels))
        self.unsent_t: list[np.ndarray] = []  # samples drained but not yet sent
        self.unsent_v: list[np.ndarray] = []

    @property
    def tail_rows(self) -> int:
        """Points of the newest bin in the source (they get patched, not streamed)."""
        if not self.bins.size or not self.tail_t.size:
            return 0
        return int(self.bins.size - np.searchsorted(self.bins, self.bins[-1], side="left"))

    def take_unsent(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.unsent_t:
            return self.tail_t[:0], self.tail_v[:0]
        t = np.concatenate(self.unsent_t)
        v = np.concatenate(self.unsent_v)
        self.unsent_t, self.unsent_v = [], []
        if t.size > 1 and not bool(np.all(t[1:] >= t[:-1])):
            k = np.argsort(t, kind="stable")
            t, v = t[k], v[k]
        return t, v


class LivePlot:
    """Rolling live plot of several streams (one panel per stream, one line per channel).

    Parameters
    ----------
    streams:
        The streams to show (:class:`StreamInfo`); blocks of other streams are ignored.
    window_s:
        Visible time window (s). x is time (s) since the first sample shown; the x range
        follows the newest sample (pan/zoom while paused).
    columns:
        Decimation bins per window (≈ plot width in px): at most ``2 × columns`` points
        per channel.
    refresh_hz:
        Display refresh rate, 10–30 Hz.
    panel_height_px, width_px:
        Size of each panel.
    clock:
        Monotonic clock (s) shared with the producers' ``host_t_s``.
    """

    def __init__(
        self,
        streams: Sequence[StreamInfo],
        *,
        window_s: float = 10.0,
        columns: int = 400,
        refresh_hz: float = 15.0,
        panel_height_px: int = 180,
        width_px: int = 800,
        clock: Any = time.monotonic,
    ) -> None:
        if not streams:
            raise ValueError("LivePlot needs at least one stream")
        if not 10.0 <= refresh_hz <= 30.0:
            raise ValueError(f"refresh_hz must be 10–30 Hz, got {refresh_hz}")
        if window_s <= 0 or columns < 10:
            raise ValueError("window_s must be > 0 and columns ≥ 10")
        self.streams = {s.name: s for s in streams}
        self.window_s = float(window_s)
        self.columns = int(columns)
        self.refresh_hz = float(refresh_hz)
        self.clock = clock
        self._bin_s = self.window_s / self.columns
        # monotonic -> wall clock (ms) offset, for the browser-side latency probe
        self._wall_offset_s = time.time() - clock()
        self._lock = threading.Lock()
        self._pending: dict[str, list[SampleBlock]] = {n: [] for n in self.streams}
        self._rings: dict[str, _Ring] = {}
        for s in streams:
            rate = s.sampling_rate_hz or 10.0
            self._rings[s.name] = _Ring(int(rate * window_s * 1.5) + 64, s.n_channels)
        self._tracks = {s.name: _Track(s.n_channels) for s in streams}
        #: host time (s) of x = 0 and of the decimation bins' edges; set by the first data
        self.origin_s: float | None = None
        self._markers: list[tuple[float, str]] = []
        self._shown_markers: list[tuple[float, str]] = []
        self._latest_t_s = -np.inf
        self._latest_wall_s: float | None = None
        self.paused = False
        self._autoscale = True
        self.n_refreshes = 0
        self.n_skipped = 0
        self.n_full = 0
        #: increments that replaced a source's rows because its row count went down
        self.n_shrinks = 0
        self.n_errors = 0
        self.last_error = ""
        self.first_error = ""
        self.n_samples_in = 0
        #: size (bytes) of the last update's PATCH-DOC content sent to the browser
        self.last_patch_bytes = 0
        #: recent updates: kernel time to build + send one (ms), PATCH-DOC size (bytes),
        #: and send -> acknowledgement by a browser view (ms)
        self.refresh_ms: deque[float] = deque(maxlen=2000)
        self.patch_bytes: deque[int] = deque(maxlen=2000)
        self.ack_rtt_ms: deque[float] = deque(maxlen=2000)
        self._sent_at: dict[int, float] = {}
        #: updates sent but not yet acknowledged by a browser view before sending pauses
        self.max_in_flight = 2
        #: with no acknowledgement (no view attached yet), still send this often (s)
        self.unacked_resend_s = 1.0
        self._seq = 0
        self._acked_seq = 0
        self._last_full_seq = 0
        self._need_full = True
        self._last_send_s = -np.inf
        self._last_status_s = -np.inf
        self._model: Any = None
        #: where PATCH-DOC messages go (default: the BokehModel's comm); tests may replace it
        self.emit: Callable[[Any], None] | None = None
        self._refresher = PeriodicTask(self.refresh, self.refresh_hz, self._on_refresh_error)
        self._build(panel_height_px, width_px)

    # ------------------------------------------------------------------ producers
    def push(self, block: SampleBlock) -> None:
        """Queue a block for display (thread-safe, cheap: no copy, no drawing)."""
        if block.stream not in self._pending or len(block) == 0:
            return
        with self._lock:
            self._pending[block.stream].append(block)

    def add_marker(self, label: str, t_s: float | None = None) -> None:
        """Mark a moment (host monotonic seconds; default now) with a label."""
        with self._lock:
            self._markers.append((self.clock() if t_s is None else float(t_s), str(label)))

    def subscribe_to(self, hub: Any, *, sources: Sequence[str] | None = None) -> Any:
        """Feed the plot from a :class:`~workbench.drivers.hub.DeviceHub` (its thread pushes).

        Returns the hub subscription; ``close()`` it to stop feeding.
        """
        return hub.subscribe(lambda _key, block: self.push(block), sources=sources)

    async def consume(self, source: Source, *, duration_s: float | None = None) -> int:
        """Start ``source``, push its blocks for ``duration_s`` (forever if None), stop it.

        Returns the number of samples pushed.
        """
        n = 0
        await source.start()
        t_end = None if duration_s is None else self.clock() + duration_s
        try:
            while t_end is None or self.clock() < t_end:
                block = await source.read(0.2)
                if block is not None:
                    self.push(block)
                    n += len(block)
        finally:
            await source.stop()
        return n

    # ------------------------------------------------------------------ controls
    def pause(self) -> None:
        """Freeze the display (data keeps being buffered)."""
        self.paused = True
        if hasattr(self, "_pause_btn"):
            self._pause_btn.value = True

    def resume(self) -> None:
        """Resume the display."""
        self.paused = False
        if hasattr(self, "_pause_btn"):
            self._pause_btn.value = False

    @property
    def autoscale(self) -> bool:
        """True: y ranges follow the data; False: they stay where they are now."""
        return self._autoscale

    @autoscale.setter
    def autoscale(self, on: bool) -> None:
        from bokeh.models import DataRange1d, Range1d

        self._autoscale = bool(on)
        for name, fig in self._figs.items():
            if on:
                fig.y_range = DataRange1d(only_visible=True)
            else:
                yr = fig.y_range
                lo, hi = self._extent(name)
                self._last_extent[name] = (lo, hi)
                if isinstance(yr, DataRange1d) or yr is None:
                    fig.y_range = Range1d(lo, hi)

    def _extent(self, name: str) -> tuple[float, float]:
        """y extent (with 5 % padding) of a stream's points inside the x range."""
        data = self._sources[name].data
        x = np.asarray(data["x"], dtype=float)
        sel = x >= (self._range.start if self._range.start is not None else -np.inf)
        ys = [np.asarray(data[k], dtype=float)[sel] for k in data if k != "x"]
        vals = np.concatenate(ys) if ys else np.zeros(0)
        vals = vals[np.isfinite(vals)]
        if not vals.size:
            return self._last_extent.get(name, (0.0, 1.0))
        lo, hi = float(vals.min()), float(vals.max())
        pad = 0.05 * (hi - lo or 1.0)
        return lo - pad, hi + pad

    # ------------------------------------------------------------------ view
    def _build(self, panel_height_px: int, width_px: int) -> None:
        from bokeh.layouts import column
        from bokeh.models import (
            ColumnDataSource,
            CustomJS,
            DataRange1d,
            Label,
            LabelSet,
            Range1d,
            VSpan,
        )
        from bokeh.plotting import figure

        self._sources: dict[str, ColumnDataSource] = {}
        self._figs: dict[str, Any] = {}
        self._last_extent: dict[str, tuple[float, float]] = {}
        x_range = Range1d(-self.window_s, 0.0)
        # one marker source for every panel: a dashed vertical line + label per marker
        self._marker_source = ColumnDataSource(data={"x": np.zeros(0), "label": []}, name="markers")
        figs = []
        for name, info in self.streams.items():
            src = ColumnDataSource(data=self._columns(info.n_channels), name=f"live:{name}")
            unit = info.units[0] if info.units else ""
            fig = figure(
                name=name, height=panel_height_px, width=width_px, x_range=x_range,
                title=f"{name} ({info.kind}, {unit})", tools="xpan,xwheel_zoom,reset,save",
                output_backend="canvas", y_range=DataRange1d(only_visible=True),
            )  # fmt: skip
            for i, ch in enumerate(info.channel_names):
                fig.line(
                    "x", f"y{i}", source=src, color=_PALETTE[i % len(_PALETTE)],
                    line_width=1, legend_label=ch,
                )  # fmt: skip
            fig.add_glyph(self._marker_source, VSpan(x="x", line_color="black", line_dash="dashed"))
            fig.add_layout(
                LabelSet(
                    x="x", y=4, y_units="screen", x_offset=3, text="label",
                    source=self._marker_source, text_font_size="9pt",
                )
            )  # fmt: skip
            fig.legend.location = "top_left"
            fig.legend.label_text_font_size = "8pt"
            fig.legend.click_policy = "hide"
            fig.xaxis.axis_label = "time (s)"
            self._sources[name] = src
            self._figs[name] = fig
            figs.append(fig)
        self._status = Label(
            x=width_px - 200, y=2, x_units="screen", y_units="screen",
            text="waiting for data", text_font_size="8pt", text_color="#666666",
        )  # fmt: skip
        figs[0].add_layout(self._status)
        # latency probe: wall time (ms) at which the newest displayed sample was created,
        # the update's sequence number and the one it continues (-1: full window)
        self._probe = ColumnDataSource(
            data={"t_created_ms": [0.0], "seq": [0], "prev": [-1]}, name="probe"
        )
        probe_renderer = figs[0].add_glyph(self._probe, _invisible_glyph())
        probe_renderer.visible = False
        # back-pressure and resync: every view echoes the seq of each update it applied
        # and asks for a full window when an update does not continue what it holds
        self._ack = ColumnDataSource(data={"seq": [0], "need_full": [0]}, name="ack")
        ack_renderer = figs[0].add_glyph(self._ack, _invisible_glyph())
        ack_renderer.visible = False
        self._probe.js_on_change(
            "data",
            CustomJS(
                args={"probe": self._probe, "ack": self._ack},
                code=_ACK_JS,
            ),
        )
        self._ack.on_change("data", self._on_ack)
        self.layout = column(*figs, name="workbench-live-plot")
        self._range = x_range

    def _columns(
        self, channels: int, t: np.ndarray | None = None, v: np.ndarray | None = None
    ) -> dict[str, np.ndarray]:
        """Source columns: x (float64 s since origin), y0… (float32), as numpy arrays."""
        if t is None or v is None:
            cols = {"x": np.zeros(0)}
            cols.update({f"y{i}": np.zeros(0, np.float32) for i in range(channels)})
            return cols
        cols = {"x": np.asarray(t, dtype=np.float64) - (self.origin_s or 0.0)}
        cols.update({f"y{i}": v[:, i].astype(np.float32) for i in range(v.shape[1])})
        return cols

    def _on_ack(self, _attr: str, _old: Any, new: Any) -> None:
        try:
            seq = int(new["seq"][0])
            need_full = bool(new.get("need_full", [0])[0])
        except (KeyError, IndexError, TypeError, ValueError):
            return
        self._acked_seq = min(self._seq, max(self._acked_seq, seq))
        sent = self._sent_at.pop(seq, None)
        if sent is not None:
            self.ack_rtt_ms.append((time.monotonic() - sent) * 1e3)
        if need_full and seq > self._last_full_seq:
            self._need_full = True

    def widget(self) -> Any:
        """The ipywidgets view: pause/autoscale toggles above the Bokeh panels.

        Loads BokehJS inline (offline) on first use, as Voilà and JupyterLab need.
        """
        global _BOKEHJS_LOADED
        import ipywidgets as w
        from jupyter_bokeh import BokehModel

        if not _BOKEHJS_LOADED:
            from bokeh.io import output_notebook
            from bokeh.resources import INLINE

            output_notebook(resources=INLINE, hide_banner=True)
            _BOKEHJS_LOADED = True
        if getattr(self, "_widget", None) is None:
            self._pause_btn = w.ToggleButton(value=self.paused, description="Pause", icon="pause")
            self._auto_btn = w.ToggleButton(value=self._autoscale, description="Autoscale")
            mark = w.Button(description="Marker")
            self._pause_btn.observe(
                lambda ch: setattr(self, "paused", bool(ch["new"])), names="value"
            )
            self._auto_btn.observe(
                lambda ch: setattr(self, "autoscale", bool(ch["new"])), names="value"
            )
            mark.on_click(lambda _b: self.add_marker(f"M{len(self._markers) + 1}"))
            self._model = _live_bokeh_model(BokehModel)(self.layout)
            # what only the kernel writes: a view must never send it back (see below)
            self._model.kernel_owned = {
                m.id for m in (*self._sources.values(), self._marker_source, self._probe)
            }
            self._widget = w.VBox([w.HBox([self._pause_btn, self._auto_btn, mark]), self._model])
        return self._widget

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget())

    # ------------------------------------------------------------------ refresh
    def refresh(self) -> bool:
        """Drain queued blocks and send one update to the browser (called by the loop).

        Returns True when an update was sent.
        """
        with self._lock:
            pending = {k: v for k, v in self._pending.items() if v}
            for k in pending:
                self._pending[k] = []
            markers = list(self._markers)
        for name, blocks in pending.items():
            ring, track = self._rings[name], self._tracks[name]
            for b in blocks:
                t = np.asarray(b.host_t_s, dtype=float)
                v = np.asarray(b.values, dtype=float)
                v = v if v.ndim == 2 else v[:, None]
                ring.append(t, v)
                track.unsent_t.append(t)
                track.unsent_v.append(v)
                self.n_samples_in += len(b)
                last = float(t[-1])
                if last > self._latest_t_s:
                    self._latest_t_s = last
                    self._latest_wall_s = last + self._wall_offset_s
        if self.paused:
            if pending:  # the display resumes with a full window
                self._need_full = True
                for track in self._tracks.values():
                    track.unsent_t, track.unsent_v = [], []
            return False
        if not np.isfinite(self._latest_t_s):
            return False
        t_now = self._latest_t_s
        shown = sorted((m_t, lab) for m_t, lab in markers if m_t >= t_now - self.window_s)
        markers_changed = shown != self._shown_markers
        if not pending and self.n_refreshes and not self._need_full and not markers_changed:
            return False
        now = time.monotonic()
        stalled = self._seq - self._acked_seq > self.max_in_flight
        if stalled and now - self._last_send_s < self.unacked_resend_s:
            self.n_skipped += 1
            return False
        if self.origin_s is None:
            self.origin_s = min(
                float(tr.unsent_t[0][0]) for tr in self._tracks.values() if tr.unsent_t
            )
        # no view has ever acknowledged: whoever attaches gets a whole window; a slow view
        # that still acknowledges keeps getting increments (it asks when it needs more)
        full = self._need_full or (stalled and self._acked_seq == 0) or self._late_data()
        b_first = math.floor((t_now - self.window_s - self.origin_s) / self._bin_s)
        doc = self.layout.document
        capture = self._model is not None and doc is not None and doc.callbacks.hold_value is None
        if capture:
            doc.callbacks.hold("collect")
        events: list[Any] = []
        try:
            for name in self.streams:
                if full:
                    self._update_full(name, b_first)
                else:
                    self._update_increment(name, b_first)
            x_now = t_now - self.origin_s
            self._range.update(start=x_now - self.window_s, end=x_now)
            if markers_changed or full:  # a view that gets a full window gets them too
                self._marker_source.data = {
                    "x": np.array([m_t - self.origin_s for m_t, _ in shown], dtype=float),
                    "label": [lab for _, lab in shown],
                }
                self._shown_markers = shown
            if now - self._last_status_s >= 1.0:
                self._status.text = f"{self.n_samples_in} samples"
                self._last_status_s = now
            self._seq += 1
            t_ms = (self._latest_wall_s or t_now + self._wall_offset_s) * 1e3
            prev = -1 if full else self._seq - 1
            self._probe.data = {"t_created_ms": [t_ms], "seq": [self._seq], "prev": [prev]}
        finally:
            if capture:
                # every change of this refresh, taken out of the hold and sent as one patch
                events = list(doc.callbacks._held_events)
                doc.callbacks._held_events.clear()
                doc.callbacks.unhold()
        if capture:
            self._send_events(doc, events)
        if full:
            self._need_full = False
            self._last_full_seq = self._seq
            self.n_full += 1
        self._last_send_s = now
        self.n_refreshes += 1
        done = time.monotonic()
        self.refresh_ms.append((done - now) * 1e3)
        self.patch_bytes.append(self.last_patch_bytes)
        self._sent_at[self._seq] = done
        if len(self._sent_at) > 100:
            self._sent_at.pop(min(self._sent_at))
        return True

    def _late_data(self) -> bool:
        """True when a stream got samples for a bin older than its newest shown bin."""
        for track in self._tracks.values():
            if track.unsent_t and track.bins.size:
                first = min(float(t[0]) for t in track.unsent_t if t.size)
                if math.floor((first - self.origin_s) / self._bin_s) < track.bins[-1]:
                    return True
        return False

    def _update_full(self, name: str, b_first: int) -> None:
        """Replace a stream's source with the decimated window (from the ring)."""
        track = self._tracks[name]
        track.unsent_t, track.unsent_v = [], []
        t, v = self._rings[name].ordered()
        if t.size > 1 and not bool(np.all(t[1:] >= t[:-1])):
            k = np.argsort(t, kind="stable")
            t, v = t[k], v[k]
        t0 = self.origin_s + b_first * self._bin_s
        i0 = int(np.searchsorted(t, t0 - self._bin_s, side="left"))
        t, v = t[i0:], v[i0:]
        tb = np.floor((t - self.origin_s) / self._bin_s).astype(np.int64)
        i1 = int(np.searchsorted(tb, b_first, side="left"))
        t, v, tb = t[i1:], v[i1:], tb[i1:]
        bins, td, vd = bin_decimate(t, v, origin=self.origin_s, width=self._bin_s)
        self._sources[name].data = self._columns(v.shape[1], td, vd)
        track.bins = bins
        j = int(np.searchsorted(tb, bins[-1], side="left")) if bins.size else t.size
        track.tail_t, track.tail_v = t[j:].copy(), v[j:].copy()

    def _update_increment(self, name: str, b_first: int) -> None:
        """Patch the newest bin's points, stream the new bins', roll old bins out."""
        track, src = self._tracks[name], self._sources[name]
        t_new, v_new = track.take_unsent()
        n_old = track.bins.size
        new_rows: dict[str, np.ndarray] | None = None
        bins_new = np.zeros(0, np.int64)
        if t_new.size:
            p = track.tail_rows
            t = np.concatenate([track.tail_t, t_new])
            v = np.concatenate([track.tail_v, v_new])
            bins, td, vd = bin_decimate(t, v, origin=self.origin_s, width=self._bin_s)
            cols = self._columns(v.shape[1], td, vd)
            first_new_bin = math.floor((float(t_new[0]) - self.origin_s) / self._bin_s)
            if p and first_new_bin == track.bins[-1]:  # the filling bin got samples
                sl = slice(n_old - p, n_old)
                src.patch({k: [(sl, c[:p])] for k, c in cols.items()})
            new_rows = {k: c[p:] for k, c in cols.items()}
            bins_new = bins[p:]
            tb = np.floor((t - self.origin_s) / self._bin_s).astype(np.int64)
            j = int(np.searchsorted(tb, bins[-1], side="left"))
            track.tail_t, track.tail_v = t[j:].copy(), v[j:].copy()
        all_bins = np.concatenate([track.bins, bins_new]) if bins_new.size else track.bins
        keep = int(all_bins.size - np.searchsorted(all_bins, b_first, side="left"))
        if keep == 0:  # everything left the window (the stream went quiet)
            if n_old:
                src.data = self._columns(len(self.streams[name].channel_names))
            track.bins = np.zeros(0, np.int64)
            track.tail_t, track.tail_v = track.tail_t[:0], track.tail_v[:0]
            return
        if keep < n_old:
            # fewer rows than the browser holds: BokehJS (3.x) streams into a typed array in
            # place and never shrinks it, so a rollover below its length would leave stale
            # rows at the end (x …, 11, 11, 12, 12 in JupyterLab). Send the kept rows whole.
            old = {k: np.asarray(c) for k, c in src.data.items()}
            if new_rows is not None:
                old = {k: np.concatenate([c, new_rows[k]]) for k, c in old.items()}
            src.data = {k: c[len(c) - keep :] for k, c in old.items()}
            self.n_shrinks += 1
        elif bins_new.size or keep < all_bins.size:
            if new_rows is None:
                new_rows = {k: np.asarray(c)[:0] for k, c in src.data.items()}
            src.stream(new_rows, rollover=keep)
        track.bins = all_bins[-keep:]

    def _send_events(self, doc: Any, events: list[Any]) -> None:
        """Send a refresh's changes as one PATCH-DOC, arrays inline (no binary buffers)."""
        from bokeh.core.serialization import Serializer
        from bokeh.protocol.messages.patch_doc import patch_doc

        for event in events:  # Python-side callbacks the hold deferred
            if event.callback_invoker is not None:
                event.callback_invoker()
        if not events:
            return
        serializer = Serializer(references=doc.models.synced_references, deferred=False)
        content = {"events": serializer.encode(events)}
        doc.models.flush_synced(lambda model: not serializer.has_ref(model))
        msg = patch_doc(patch_doc.create_header(), {}, content)
        self.last_patch_bytes = len(msg.content_json)
        if self.emit is not None:
            self.emit(msg)
            return
        for part in (msg.header_json, msg.metadata_json, msg.content_json):
            self._model.send({"msg": "patch", "payload": part})

    def _on_refresh_error(self, exc: Exception) -> None:
        """Keep the display alive; count errors, log the first few, resend a full window."""
        self.n_errors += 1
        self.last_error = repr(exc)
        if self.n_errors == 1:
            import traceback

            self.first_error = "".join(traceback.format_exception(exc))
        if self.n_errors <= 3:
            _log.error("LivePlot refresh failed", exc_info=exc)
        self._need_full = True

    def start(self) -> asyncio.Task:
        """Run the refresh loop as a task on the current (kernel) event loop."""
        return self._refresher.start()

    def stop(self) -> None:
        """Stop the refresh loop (the last frame stays on screen)."""
        self._refresher.stop()


def _live_bokeh_model(base: type) -> type:
    """jupyter_bokeh's BokehModel that ignores echoes of the kernel's own data changes.

    jupyter_bokeh 4.1's view sends every change of its BokehJS document back to the
    kernel, including the ones it has just applied from the kernel (BokehJS marks them
    ``sync = false``; Bokeh's own server client drops them, jupyter_bokeh does not). For
    a live plot that doubles the traffic and, for streamed/patched columns, would apply
    every increment twice. The browser side of :class:`LivePlot` filters these events
    out (``_ACK_JS``); this is the kernel-side backstop for the first update and for
    BokehJS versions where that filter cannot be installed.
    """
    global _LIVE_BOKEH_MODEL
    if _LIVE_BOKEH_MODEL is None:

        class LiveBokehModel(base):  # type: ignore[misc, valid-type]
            kernel_owned: set[str] = set()  # noqa: RUF012  (replaced per instance)
            n_echoes_dropped = 0

            def _sync_model(self, model: Any, content: dict[str, Any], buffers: Any) -> None:
                target = content.get("model")
                if (
                    content.get("event") == "jsevent"
                    and content.get("kind") in ("ModelChanged", "ColumnsStreamed", "ColumnsPatched")
                    and isinstance(target, dict)
                    and target.get("id") in self.kernel_owned
                ):
                    self.n_echoes_dropped += 1
                    return
                super()._sync_model(model, content, buffers)

        _LIVE_BOKEH_MODEL = LiveBokehModel
    return _LIVE_BOKEH_MODEL


_LIVE_BOKEH_MODEL: type | None = None

# browser side, per view: ack every update; ask for a full window when an incremental
# update does not continue the last one this view applied (late attach, lost message).
# Once per document, stop jupyter_bokeh from sending back what the kernel sent (events
# BokehJS marks sync = false) and the y ranges BokehJS computes on every render.
_ACK_JS = """
const doc = probe.document;
if (doc != null && !doc.__wb_no_echo && doc._callbacks instanceof Map) {
  doc.__wb_no_echo = true;
  for (const [cb, batches] of [...doc._callbacks]) {
    doc._callbacks.delete(cb);
    doc._callbacks.set((e) => {
      if (e.sync === false) return;
      if (e.kind === "ModelChanged" && e.model != null
          && e.model.constructor.__name__ === "DataRange1d") return;
      cb(e);
    }, batches);
  }
}
const d = probe.data;
const seq = d.seq[0], prev = d.prev[0];
const ok = prev < 0 || probe.__wb_seq === prev;
if (ok) probe.__wb_seq = seq;
ack.data = {seq: [seq], need_full: [ok ? 0 : 1]};
"""


def _invisible_glyph() -> Any:
    from bokeh.models import Scatter

    return Scatter(x=0, y=0, size=0, fill_alpha=0, line_alpha=0)
