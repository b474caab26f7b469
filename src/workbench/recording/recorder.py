"""Durable recording of live sources into the store.

A :class:`Recorder` subscribes to sources on a :class:`~workbench.drivers.hub.DeviceHub`
and, on its own thread, appends every block that arrived to the store at least every
``flush_interval_s`` (default 0.5 s): one transaction per flush, one ``append_chunk`` per
stream. With SQLite (WAL) a killed process therefore loses at most the last flush interval
and leaves the database intact. Stored ``host_t_s`` are seconds since the recording start
(``t0_s`` on the monotonic clock); markers use the same time base.

>>> rec = Recorder(store, title="VL intervals", athlete_id="A01")
>>> rec.start([SmO2Simulator(), EmgSimulator()])
>>> rec.lap("interval 1"); rec.pause(); rec.resume()
>>> rec.stop()                      # status "complete"; an error makes it "interrupted"
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from workbench.drivers.base import SampleBlock, Source, StreamInfo
from workbench.drivers.hub import DeviceHub, SourceHandle, get_hub
from workbench.errors import WorkbenchError
from workbench.log import get_logger
from workbench.store import Store

log = get_logger(__name__)

__all__ = ["Recorder", "mark_stale_recordings_interrupted"]


class Recorder:
    """Record any set of sources into the store durably.

    Parameters
    ----------
    store:
        An open :class:`~workbench.store.Store`.
    title, athlete_id, notes:
        Recording metadata.
    hub:
        The hub that runs the sources (default :func:`~workbench.drivers.hub.get_hub`).
    flush_interval_s:
        Longest time between two durable flushes (0.05–1 s).
    clock:
        Monotonic clock in seconds (the clock of the sources' ``host_t_s``).
    """

    def __init__(
        self,
        store: Store,
        *,
        title: str,
        athlete_id: str | None = None,
        notes: str | None = None,
        hub: DeviceHub | None = None,
        flush_interval_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0.05 <= flush_interval_s <= 1.0:
            raise ValueError(f"flush_interval_s must be 0.05-1 s, got {flush_interval_s}")
        self.store = store
        self.title, self.athlete_id, self.notes = title, athlete_id, notes
        self._hub = hub
        self.flush_interval_s = flush_interval_s
        self._clock = clock
        self.recording_id: int | None = None
        self.t0_s = float("nan")
        self.status = "new"
        self.error: BaseException | None = None
        self.n_samples: dict[str, int] = {}
        self._stream_ids: dict[tuple[str, str], int] = {}
        self._stream_names: dict[tuple[str, str], str] = {}
        self._seq: dict[int, int] = {}
        self._paused: list[list[float]] = []
        self._owned: list[SourceHandle] = []
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._sub: Any = None
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()

    @property
    def hub(self) -> DeviceHub:
        if self._hub is None:
            self._hub = get_hub()
        return self._hub

    @property
    def stream_ids(self) -> dict[str, int]:
        """Stored stream name -> ``stream_id``."""
        return {self._stream_names[k]: v for k, v in self._stream_ids.items()}

    def now_s(self) -> float:
        """Seconds since the recording start."""
        return self._clock() - self.t0_s

    # ------------------------------------------------------------------ start
    def start(self, sources: Iterable[Source | SourceHandle | str] = ()) -> int:
        """Create the recording, declare its streams and start flushing; returns its id.

        ``sources`` may be Sources (added to the hub and removed again at stop), handles
        already on the hub, or their keys.
        """
        if self.status != "new":
            raise WorkbenchError(f"recorder already {self.status}; make a new Recorder")
        items = list(sources)
        if not items:
            raise WorkbenchError("nothing to record: pass at least one source")
        keys = [
            item.key
            if isinstance(item, SourceHandle)
            else item
            if isinstance(item, str)
            else self.hub.source_key(item)
            for item in items
        ]
        # Subscribe before any new source starts, so its first block is recorded too.
        self.t0_s = self._clock()
        self._sub = self.hub.subscribe(sources=keys)
        handles: list[SourceHandle] = []
        try:
            for item in items:
                if isinstance(item, SourceHandle):
                    handles.append(item)
                elif isinstance(item, str):
                    handles.append(self.hub.handle(item))
                else:
                    before = set(self.hub.handles)
                    h = self.hub.add_source(item)
                    if h.key not in before:
                        self._owned.append(h)
                    handles.append(h)
        except BaseException:
            for h in self._owned:
                h.remove()
            self._sub.close()
            raise
        self.recording_id = self.store.create_recording(
            self.title, athlete_id=self.athlete_id, notes=self.notes
        )
        names: set[str] = set()
        for h in handles:
            for info in h.streams:
                self._declare(h.key, info, names)
        self.status = "recording"
        self._thread = threading.Thread(
            target=self._run, name=f"recorder-{self.recording_id}", daemon=True
        )
        self._thread.start()
        return self.recording_id

    def _declare(self, key: str, info: StreamInfo, names: set[str]) -> None:
        name = info.name if info.name not in names else f"{key}/{info.name}"
        names.add(name)
        sid = self.store.add_stream(
            self.recording_id,  # type: ignore[arg-type]
            name,
            kind=info.kind,
            device=info.device,
            channel_names=list(info.channel_names),
            units=list(info.units),
            sampling_rate_hz=info.sampling_rate_hz,
        )
        self._stream_ids[(key, info.name)] = sid
        self._stream_names[(key, info.name)] = name
        self._seq[sid] = 0
        self.n_samples[name] = 0

    # ---------------------------------------------------------------- markers
    def mark(self, label: str, kind: str = "marker", t_s: float | None = None) -> float:
        """Add a marker at ``t_s`` (seconds since start; default now); returns its time."""
        self._require_active()
        t = self.now_s() if t_s is None else float(t_s)
        self.store.add_marker(self.recording_id, t, label, kind)  # type: ignore[arg-type]
        return t

    def lap(self, label: str | None = None) -> float:
        """Mark a lap (``kind="lap"``), labelled ``lap N`` by default."""
        self._laps = getattr(self, "_laps", 0) + 1
        return self.mark(label or f"lap {self._laps}", kind="lap")

    def pause(self) -> None:
        """Stop storing samples (from now) until :meth:`resume`; marked ``pause``."""
        with self._lock:
            if self._paused and self._paused[-1][1] == np.inf:
                return
            t = self.mark("pause", kind="pause")
            self._paused.append([t, np.inf])

    def resume(self) -> None:
        """Store samples again; marked ``resume``."""
        with self._lock:
            if not self._paused or self._paused[-1][1] != np.inf:
                return
            self._paused[-1][1] = self.mark("resume", kind="resume")

    @property
    def paused(self) -> bool:
        return bool(self._paused) and self._paused[-1][1] == np.inf

    def _require_active(self) -> None:
        if self.status != "recording":
            raise WorkbenchError(f"recorder is {self.status}, not recording")

    # ------------------------------------------------------------------ flush
    def _run(self) -> None:
        try:
            while not self._stop_event.wait(self.flush_interval_s):
                self.flush()
            self.flush()
        except BaseException as exc:  # record why, mark the recording interrupted
            self.error = exc
            log.exception("recorder %s failed; recording interrupted", self.recording_id)
            try:
                self.store.finish_recording(self.recording_id, "interrupted")  # type: ignore[arg-type]
            finally:
                self.status = "interrupted"

    def flush(self) -> int:
        """Write every block received so far (one transaction); returns samples written."""
        with self._flush_lock:
            return self._flush()

    def _flush(self) -> int:
        items: list[tuple[str, SampleBlock]] = self._sub.drain()
        if not items:
            return 0
        groups: dict[tuple[str, str], list[SampleBlock]] = {}
        for key, block in items:
            groups.setdefault((key, block.stream), []).append(block)
        with self._lock:
            paused = [tuple(p) for p in self._paused]
        written = 0
        with self.store.transaction() as conn:
            for k, blocks in groups.items():
                sid = self._stream_ids.get(k)
                if sid is None:
                    log.warning("block of undeclared stream %s/%s ignored", *k)
                    continue
                host = np.concatenate([b.host_t_s for b in blocks]) - self.t0_s
                dev = np.concatenate([b.device_t_s for b in blocks])
                vals = np.concatenate([b.values for b in blocks])
                if paused:
                    keep = np.ones(host.size, dtype=bool)
                    for a, b in paused:
                        keep &= ~((host >= a) & (host < b))
                    host, dev, vals = host[keep], dev[keep], vals[keep]
                if host.size == 0:
                    continue
                self.store.append_chunk(sid, self._seq[sid], host, dev, vals, conn=conn)
                self._seq[sid] += 1
                self.n_samples[self._stream_names[k]] += host.size
                written += host.size
        return written

    # ------------------------------------------------------------------- stop
    def stop(self, status: str = "complete") -> None:
        """Final flush, close the recording with ``status`` and release owned sources."""
        if self.status not in ("recording", "interrupted"):
            return
        # Owned sources stop first: the hub hands over what they had already received, and
        # the writer's final flush below stores it.
        for h in self._owned:
            try:
                h.remove()
            except Exception:
                log.exception("removing source %s failed", h.key)
        self._stop_event.set()
        if self._thread is not None:
            self._thread.join()
        if self._sub is not None:
            self._sub.close()
        if self.status == "recording":
            final = status if self.error is None else "interrupted"
            self.store.finish_recording(self.recording_id, final)  # type: ignore[arg-type]
            self.status = final

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, exc_type: Any, *exc: object) -> None:
        self.stop("interrupted" if exc_type is not None else "complete")


def mark_stale_recordings_interrupted(store: Store, *, keep: Iterable[int] = ()) -> list[int]:
    """Set status ``interrupted`` on recordings left ``recording`` by a crashed process.

    Call it at start-up (no other process recording into the same database); recordings in
    ``keep`` are left alone. Returns the ids changed.
    """
    keep = set(keep)
    stale = store.recordings(status="recording")
    changed = [int(r) for r in stale["recording_id"] if int(r) not in keep]
    for rid in changed:
        store.finish_recording(rid, "interrupted")
    return changed
