"""Live multi-stream plot (Bokeh via jupyter_bokeh) fed by :class:`SampleBlock` s.

Producers (driver callbacks, a DeviceHub thread, an asyncio task reading a
:class:`~workbench.drivers.base.Source`) call :meth:`LivePlot.push` from any thread; a
refresh loop on the kernel's event loop drains the buffers at ``refresh_hz`` (10–30 Hz),
min/max-decimates each channel to ``2 × columns`` points over the rolling window in numpy,
and replaces each stream's ``ColumnDataSource.data`` whole — one message per stream per
refresh, never one per sample, and nothing is lost if the browser view attaches late.

In a notebook::

    plot = LivePlot([emg_info, smo2_info], window_s=10)
    display(plot)                  # loads BokehJS inline (offline) first
    task = plot.start()            # refresh loop on the kernel loop
    await plot.consume(source, duration_s=20)   # or source callbacks -> plot.push(block)
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from workbench.drivers.base import SampleBlock, Source, StreamInfo

__all__ = ["LivePlot", "minmax_decimate"]

_PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
)  # fmt: skip
_BOKEHJS_LOADED = False


def minmax_decimate(
    t: np.ndarray, v: np.ndarray, *, t_start: float, t_end: float, columns: int
) -> tuple[np.ndarray, np.ndarray]:
    """Reduce samples to a min and a max per pixel column, keeping the trace's envelope.

    Parameters
    ----------
    t:
        Sorted sample times (s), shape (n,).
    v:
        Values, shape (n, channels).
    t_start, t_end:
        The visible window (s); samples outside it are dropped.
    columns:
        Pixel columns; the output has at most ``2 × columns`` points.

    Returns
    -------
    t_out, v_out
        When the window holds ≤ ``2 × columns`` samples they are returned unchanged;
        otherwise, per non-empty column, two points (its min and max per channel, at the
        column's first and last sample time).
    """
    v = v if v.ndim == 2 else v[:, None]
    i0, i1 = np.searchsorted(t, [t_start, t_end], side="left")
    i1 = max(i1, np.searchsorted(t, t_end, side="right"))
    t, v = t[i0:i1], v[i0:i1]
    if t.size <= 2 * columns:
        return t, v
    edges = np.linspace(t_start, t_end, columns + 1)
    starts = np.searchsorted(t, edges[:-1], side="left")
    ends = np.searchsorted(t, edges[1:], side="left")
    ends[-1] = t.size
    keep = ends > starts
    starts, ends = starts[keep], ends[keep]
    vmin = np.minimum.reduceat(v, starts, axis=0)
    vmax = np.maximum.reduceat(v, starts, axis=0)
    t_out = np.empty(2 * starts.size)
    t_out[0::2] = t[starts]
    t_out[1::2] = t[ends - 1]
    v_out = np.empty((2 * starts.size, v.shape[1]))
    v_out[0::2] = vmin
    v_out[1::2] = vmax
    return t_out, v_out


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


class LivePlot:
    """Rolling live plot of several streams (one panel per stream, one line per channel).

    Parameters
    ----------
    streams:
        The streams to show (:class:`StreamInfo`); blocks of other streams are ignored.
    window_s:
        Visible time window (s); x is time relative to the newest sample (−window … 0).
    columns:
        Pixel columns per panel for min/max decimation (≈ plot width in px).
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
        # monotonic -> wall clock (ms) offset, for the browser-side latency probe
        self._wall_offset_s = time.time() - clock()
        self._lock = threading.Lock()
        self._pending: dict[str, list[SampleBlock]] = {n: [] for n in self.streams}
        self._rings: dict[str, _Ring] = {}
        for s in streams:
            rate = s.sampling_rate_hz or 10.0
            self._rings[s.name] = _Ring(int(rate * window_s * 1.5) + 64, s.n_channels)
        self._markers: list[tuple[float, str]] = []
        self._latest_t_s = -np.inf
        self.paused = False
        self._autoscale = True
        self.n_refreshes = 0
        self.n_skipped = 0
        self.n_samples_in = 0
        #: updates sent but not yet acknowledged by a browser view before sending pauses
        self.max_in_flight = 2
        #: with no acknowledgement (no view attached yet), still send this often (s)
        self.unacked_resend_s = 1.0
        self._seq = 0
        self._last_send_s = -np.inf
        self._task: asyncio.Task | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
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
        for fig in self._figs.values():
            if on:
                fig.y_range = DataRange1d(only_visible=True)
            else:
                yr = fig.y_range
                lo, hi = self._last_extent.get(fig.name, (0.0, 1.0))
                if isinstance(yr, DataRange1d) or yr is None:
                    fig.y_range = Range1d(lo, hi)

    # ------------------------------------------------------------------ view
    def _build(self, panel_height_px: int, width_px: int) -> None:
        from bokeh.layouts import column
        from bokeh.models import ColumnDataSource, CustomJS, DataRange1d, Label, Range1d
        from bokeh.plotting import figure

        self._sources: dict[str, ColumnDataSource] = {}
        self._marker_sources: dict[str, ColumnDataSource] = {}
        self._figs: dict[str, Any] = {}
        self._last_extent: dict[str, tuple[float, float]] = {}
        x_range = Range1d(-self.window_s, 0.0)
        figs = []
        for name, info in self.streams.items():
            data: dict[str, Any] = {"x": np.zeros(0)}
            data.update({f"y{i}": np.zeros(0) for i in range(info.n_channels)})
            src = ColumnDataSource(data=data, name=f"live:{name}")
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
            msrc = ColumnDataSource(
                data={"x": [], "y0": [], "y1": [], "label": []}, name=f"markers:{name}"
            )
            fig.segment(
                x0="x", x1="x", y0="y0", y1="y1", source=msrc, color="black", line_dash="dashed"
            )
            fig.text(x="x", y="y1", text="label", source=msrc, text_font_size="9pt")
            fig.legend.location = "top_left"
            fig.legend.label_text_font_size = "8pt"
            fig.legend.click_policy = "hide"
            fig.xaxis.axis_label = "s (0 = newest sample)"
            self._sources[name] = src
            self._marker_sources[name] = msrc
            self._figs[name] = fig
            figs.append(fig)
        self._status = Label(
            x=width_px - 200, y=2, x_units="screen", y_units="screen",
            text="waiting for data", text_font_size="8pt", text_color="#666666",
        )  # fmt: skip
        figs[0].add_layout(self._status)
        # one tiny source for the browser-side latency probe: wall time (ms) at which the
        # newest displayed sample was received from the device
        self._probe = ColumnDataSource(data={"t_created_ms": [0.0], "seq": [0]}, name="probe")
        probe_renderer = figs[0].add_glyph(self._probe, _invisible_glyph())
        probe_renderer.visible = False
        # back-pressure: the browser echoes the probe's seq once it has applied an update;
        # the kernel keeps at most ``max_in_flight`` updates unacknowledged, so a slow or
        # busy browser gets fewer, fresher frames instead of a growing backlog
        self._ack = ColumnDataSource(data={"seq": [0]}, name="ack")
        ack_renderer = figs[0].add_glyph(self._ack, _invisible_glyph())
        ack_renderer.visible = False
        self._probe.js_on_change(
            "data",
            CustomJS(
                args={"probe": self._probe, "ack": self._ack},
                code="ack.data = {seq: [probe.data.seq[0]]};",
            ),
        )
        self.layout = column(*figs, name="workbench-live-plot")
        self._range = x_range

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
            self._model = BokehModel(self.layout)
            self._widget = w.VBox([w.HBox([self._pause_btn, self._auto_btn, mark]), self._model])
        return self._widget

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget())

    # ------------------------------------------------------------------ refresh
    def refresh(self) -> bool:
        """Drain queued blocks and redraw once (called by the refresh loop).

        Returns True when the display changed.
        """
        with self._lock:
            pending = {k: v for k, v in self._pending.items() if v}
            for k in pending:
                self._pending[k] = []
            markers = list(self._markers)
        newest_wall = None
        for name, blocks in pending.items():
            ring = self._rings[name]
            for b in blocks:
                ring.append(b.host_t_s, b.values)
                self.n_samples_in += len(b)
                last = float(b.host_t_s[-1])
                if last > self._latest_t_s:
                    self._latest_t_s = last
                    newest_wall = last + self._wall_offset_s
        if self.paused or not np.isfinite(self._latest_t_s):
            return False
        if not pending and self.n_refreshes:
            return False
        now = time.monotonic()
        in_flight = self._seq - int(self._ack.data["seq"][0])
        if in_flight > self.max_in_flight and now - self._last_send_s < self.unacked_resend_s:
            self.n_skipped += 1
            return False
        self._last_send_s = now
        t_now = self._latest_t_s
        t0 = t_now - self.window_s
        doc = self.layout.document
        if doc is not None:
            doc.hold("combine")
        try:
            for name, src in self._sources.items():
                t, v = self._rings[name].ordered()
                if t.size == 0:
                    continue
                order_ok = t.size < 2 or bool(np.all(t[1:] >= t[:-1]))
                if not order_ok:  # blocks of one stream arrived out of order: sort once
                    k = np.argsort(t, kind="stable")
                    t, v = t[k], v[k]
                td, vd = minmax_decimate(t, v, t_start=t0, t_end=t_now, columns=self.columns)
                data = {"x": (td - t_now).astype(np.float32)}
                for i in range(vd.shape[1]):
                    data[f"y{i}"] = vd[:, i].astype(np.float32)
                src.data = data
                if vd.size:
                    lo, hi = float(np.nanmin(vd)), float(np.nanmax(vd))
                    pad = 0.05 * (hi - lo or 1.0)
                    self._last_extent[name] = (lo - pad, hi + pad)
                ms = [(m_t - t_now, lab) for m_t, lab in markers if t0 <= m_t <= t_now]
                msrc = self._marker_sources[name]
                if ms or len(msrc.data["x"]):
                    lo, hi = self._last_extent.get(name, (0.0, 1.0))
                    msrc.data = {
                        "x": [m[0] for m in ms], "y0": [lo] * len(ms), "y1": [hi] * len(ms),
                        "label": [m[1] for m in ms],
                    }  # fmt: skip
            self._status.text = f"{self.n_samples_in} samples"
            self._seq += 1
            t_ms = (newest_wall if newest_wall is not None else t_now + self._wall_offset_s) * 1e3
            self._probe.data = {"t_created_ms": [t_ms], "seq": [self._seq]}
        finally:
            if doc is not None:
                doc.unhold()
        self.n_refreshes += 1
        return True

    async def _loop(self) -> None:
        period = 1.0 / self.refresh_hz
        while not self._stop.is_set():
            t = time.monotonic()
            self.refresh()
            await asyncio.sleep(max(0.0, period - (time.monotonic() - t)))

    def start(self) -> asyncio.Task:
        """Run the refresh loop as a task on the current (kernel) event loop."""
        if self._task is not None and not self._task.done():
            return self._task
        self._stop.clear()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = asyncio.get_event_loop()
        self._task = loop.create_task(self._loop())
        return self._task

    def stop(self) -> None:
        """Stop the refresh loop (the last frame stays on screen)."""
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            self._task = None


def _invisible_glyph() -> Any:
    from bokeh.models import Scatter

    return Scatter(x=0, y=0, size=0, fill_alpha=0, line_alpha=0)
