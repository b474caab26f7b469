"""Real physiological monitors for the BFR supervisor: device-hub streams as a MonitorSource.

:class:`HubMonitorSource` subscribes to the SmO₂/NIRS, EMG and HR streams of the sources
on a :class:`~workbench.drivers.hub.DeviceHub` and returns their latest samples in the shape
of :data:`~workbench.bfr.control.MonitorSource` (req 12, issue 12.3):

- ``nirs``: the latest SmO₂ sample as the device measures it. A Moxy reports SmO₂ (%) and a
  relative THb (g/dL), no haemoglobin in µM: ``thb_um``/``o2hb_um`` are NaN (the supervisor
  then judges desaturation only); a stream with ``thb_um``/``o2hb_um`` channels passes them.
- ``emg``: an RMS envelope of :data:`EMG_WINDOW_S` windows every :data:`EMG_HOP_S`:
  each channel's mean (DC) is removed and its RMS taken; the value is the median over
  channels (one channel with mains hum or one lifted electrode neither masks nor fakes a
  collapse). In the stream's unit: ``rms_uv`` (µV; mV/V scaled), ``rms_counts`` (a Myo's
  int8 counts; the supervisor's floor per unit: ``EMG_SET_FLOOR``).
- ``hr``: the last bpm at its notification time; ``connected=0`` (stamped when seen) as
  soon as the strap's driver reports a disconnect or the hub's source stops.

Sample times are host ``time.monotonic()`` seconds. The hub delivers on its own thread,
the control loop (or the loop process's feeder) polls from another; state is locked.
Why: ``docs/decisions/0008-bfr-transport-and-loop-process.md``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable

import numpy as np

from workbench.bfr.control import MonitorSamples
from workbench.drivers.base import SampleBlock, StreamInfo
from workbench.drivers.hub import DeviceHub, SourceHandle

#: Hub stream kinds that feed each supervisor monitor.
MONITOR_KINDS = {"smo2": "nirs", "nirs": "nirs", "emg": "emg", "hr": "hr"}
#: EMG envelope: RMS over this window, s ...
EMG_WINDOW_S = 0.1
#: ... every this, s. The supervisor judges a collapse on the values of its last 0.3 s
#: (``emg_recent_s``), stamped when its loop polls them (20 Hz). Back-to-back 100 ms windows
#: (10 Hz) vented a Myo collapse on the loop process 0.43-0.47 s after it in 4 of 6 runs (a
#: model of the polling: 10 % of cases over 0.5 s); windows every 50 ms with the kernel's
#: feed at 100 Hz: 0.32-0.38 s in 7 runs.
EMG_HOP_S = 0.05
#: EMG stream unit -> (supervisor value name, factor to its unit).
EMG_UNITS = {
    "uV": ("rms_uv", 1.0),
    "µV": ("rms_uv", 1.0),
    "mV": ("rms_uv", 1e3),
    "V": ("rms_uv", 1e6),
    "counts": ("rms_counts", 1.0),
}


def emg_envelope(window: np.ndarray) -> float:
    """Median over channels of each channel's RMS after removing its mean, (n, ch) -> one value."""
    dc_free = window - window.mean(axis=0)
    return float(np.median(np.sqrt(np.mean(dc_free**2, axis=0))))


class HubMonitorSource:
    """The hub's monitor streams as a :data:`~workbench.bfr.control.MonitorSource`.

    Parameters
    ----------
    hub:
        The device hub whose sources are read.
    sources:
        Hub source keys to use (default: every source on the hub now). Streams are chosen
        when this object is made: a source added to the hub later is not watched. Two
        streams for one monitor (two Moxys, say) are refused: name the one to rely on.
    clock:
        Time stamps of HR disconnects (same clock as the hub's host times).

    Raises
    ------
    ValueError
        Two streams for one monitor; a SmO₂/NIRS stream without ``smo2_pct``, an HR stream
        without ``hr_bpm``, an EMG stream in a unit of unknown collapse floor.
    """

    def __init__(
        self,
        hub: DeviceHub,
        *,
        sources: Iterable[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        keys = list(hub.handles) if sources is None else list(sources)
        chosen: dict[str, tuple[SourceHandle, StreamInfo]] = {}
        for key in keys:
            handle = hub.handle(key)
            for info in handle.streams:
                monitor = MONITOR_KINDS.get(info.kind)
                if monitor is None:
                    continue
                if monitor in chosen:
                    other = chosen[monitor][0].key
                    raise ValueError(
                        f"two {monitor} streams: {other}/{chosen[monitor][1].name} and "
                        f"{key}/{info.name}; pass sources= to choose the one to rely on"
                    )
                chosen[monitor] = (handle, info)
        self._lock = threading.Lock()
        self._latest: MonitorSamples = {}
        self._route: dict[tuple[str, str], Callable[[SampleBlock], None]] = {}
        self._hr_handle: SourceHandle | None = None
        self._hr: tuple[float, float] | None = None  # last notification: time, bpm
        self._hr_down_t_s: float | None = None
        setup = {"nirs": self._setup_nirs, "emg": self._setup_emg, "hr": self._setup_hr}
        for monitor, (handle, info) in chosen.items():
            self._route[(handle.key, info.name)] = setup[monitor](handle, info)
        #: monitor name -> ``"<source key>/<stream>"`` it reads
        self.streams = {m: f"{h.key}/{i.name}" for m, (h, i) in chosen.items()}
        self._sub = hub.subscribe(
            self._on_block,
            sources={k for k, _ in self._route},
            streams={s for _, s in self._route},
        )

    # ---------------------------------------------------------------- set-up
    def _setup_nirs(self, handle: SourceHandle, info: StreamInfo) -> Callable[[SampleBlock], None]:
        ch = info.channel_names
        if "smo2_pct" not in ch:
            raise ValueError(f"{handle.key}/{info.name}: no smo2_pct channel (has {ch})")
        measured = [n for n in ("smo2_pct", "thb_g_dl", "thb_um", "o2hb_um") if n in ch]
        cols = {name: ch.index(name) for name in measured}

        def on_block(block: SampleBlock) -> None:
            row = block.values[-1]
            values = {"thb_um": math.nan, "o2hb_um": math.nan}
            values.update({name: float(row[i]) for name, i in cols.items()})
            with self._lock:
                self._latest["nirs"] = (float(block.host_t_s[-1]), values)

        return on_block

    def _setup_emg(self, handle: SourceHandle, info: StreamInfo) -> Callable[[SampleBlock], None]:
        units = set(info.units)
        if len(units) != 1 or next(iter(units)) not in EMG_UNITS:
            raise ValueError(
                f"{handle.key}/{info.name}: EMG in {sorted(units)}; the collapse floor is "
                f"known for {', '.join(EMG_UNITS)}"
            )
        name, factor = EMG_UNITS[units.pop()]
        if not info.sampling_rate_hz:
            raise ValueError(f"{handle.key}/{info.name}: EMG without a sampling rate")
        hop_n = max(1, round(EMG_HOP_S * info.sampling_rate_hz))
        window_n = max(hop_n, round(EMG_WINDOW_S * info.sampling_rate_hz))
        rows = np.empty((0, info.n_channels))  # the samples future windows need
        rows_t = np.empty(0)
        n_seen = 0  # samples received; windows end at multiples of hop_n

        def on_block(block: SampleBlock) -> None:
            nonlocal rows, rows_t, n_seen
            rows = np.concatenate([rows, block.values])
            rows_t = np.concatenate([rows_t, block.host_t_s])
            n_seen += len(block)
            first = n_seen - len(rows)  # sample number of rows[0]
            # only the latest window that ended in this block: a MonitorSource reports
            # the latest sample
            end = n_seen // hop_n * hop_n
            if end >= window_n and end > n_seen - len(block):
                i = end - first
                value = factor * emg_envelope(rows[i - window_n : i])
                with self._lock:
                    self._latest["emg"] = (float(rows_t[i - 1]), {name: value})
            drop = max(0, end + hop_n - window_n - first)  # before the next window's start
            rows, rows_t = rows[drop:], rows_t[drop:]

        return on_block

    def _setup_hr(self, handle: SourceHandle, info: StreamInfo) -> Callable[[SampleBlock], None]:
        if "hr_bpm" not in info.channel_names:
            raise ValueError(f"{handle.key}/{info.name}: no hr_bpm channel")
        col = info.channel_names.index("hr_bpm")
        self._hr_handle = handle

        def on_block(block: SampleBlock) -> None:
            with self._lock:
                self._hr = (float(block.host_t_s[-1]), float(block.values[-1, col]))

        return on_block

    # ---------------------------------------------------------------- delivery
    def _on_block(self, key: str, block: SampleBlock) -> None:
        """On the hub thread: update the latest sample of the block's monitor."""
        route = self._route.get((key, block.stream))
        if route is not None and len(block):
            route(block)

    def _hr_up(self) -> bool:
        """The strap's source runs on the hub and (a BLE driver) is connected."""
        h = self._hr_handle
        assert h is not None
        return h.running and getattr(h.source, "connected", True)

    def __call__(self) -> MonitorSamples:
        """``{monitor: (sample time s, values)}`` of the streams that have sent a sample."""
        up = self._hr_handle is None or self._hr_up()
        with self._lock:
            out = dict(self._latest)
            if self._hr_handle is None:
                return out
            if not up and self._hr_down_t_s is None:
                self._hr_down_t_s = self.clock()
            elif up and self._hr_down_t_s is not None and self._hr is not None:
                if self._hr[0] > self._hr_down_t_s:  # notifying again after a reconnect
                    self._hr_down_t_s = None
            bpm = math.nan if self._hr is None else self._hr[1]
            if self._hr_down_t_s is not None:
                out["hr"] = (self._hr_down_t_s, {"bpm": bpm, "connected": 0.0})
            elif self._hr is not None:
                out["hr"] = (self._hr[0], {"bpm": bpm, "connected": 1.0})
            return out

    def close(self) -> None:
        """Stop receiving from the hub (idempotent); the sources keep running."""
        self._sub.close()
