"""Replay of a stored recording as a live Source (real time, faster, or as fast as possible)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from workbench.drivers._clocked import Clock, ClockedSource, Sleep
from workbench.drivers.base import SampleBlock, StreamInfo
from workbench.errors import DataFormatError
from workbench.store import Store

__all__ = ["ReplaySource"]


class ReplaySource(ClockedSource):
    """Replay the streams of a stored recording (``store.read_stream``).

    Parameters
    ----------
    store, recording_id:
        Where the recording lives.
    streams:
        Names of the streams to replay (default all).
    speed:
        1.0 replays in real time, 2.0 twice as fast; ``None`` as fast as possible.
    block_s:
        Target block length in seconds of recording time (regular streams).

    Host times of the emitted samples are ``start clock + stored t_s / speed`` (with
    ``speed=None``: ``start clock + stored t_s``, i.e. possibly ahead of the clock); device
    times and values are exactly those stored. Data are loaded at ``start()``.
    """

    def __init__(
        self,
        store: Store,
        recording_id: int,
        *,
        streams: Iterable[str] | None = None,
        speed: float | None = 1.0,
        block_s: float = 0.05,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        super().__init__(clock=clock, sleep=sleep)
        if speed is not None and not speed > 0:
            raise ValueError(f"speed must be positive or None, got {speed}")
        meta = store.streams(recording_id)
        if meta.empty:
            raise DataFormatError(f"recording {recording_id} has no streams to replay")
        wanted = None if streams is None else set(streams)
        if wanted is not None and not wanted <= set(meta["name"]):
            raise DataFormatError(
                f"recording {recording_id} has no stream(s) {sorted(wanted - set(meta['name']))};"
                f" it has {sorted(meta['name'])}"
            )
        self._meta = [r for r in meta.itertuples() if wanted is None or r.name in wanted]
        self._infos = tuple(
            StreamInfo(
                r.name,
                r.kind,
                f"replay:{r.device}",
                tuple(r.channel_names),
                tuple(r.units),
                None if r.sampling_rate_hz != r.sampling_rate_hz else float(r.sampling_rate_hz),
            )
            for r in self._meta
        )
        self._store, self.recording_id = store, recording_id
        self.speed, self.block_s = speed, block_s
        self._data: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None
        self._cursor: list[int] = []

    @property
    def streams(self) -> tuple[StreamInfo, ...]:
        return self._infos

    @property
    def finished(self) -> bool:
        return self._data is not None and all(
            c >= d[0].size for c, d in zip(self._cursor, self._data, strict=True)
        )

    def _on_start(self, t0_s: float) -> None:
        if self._data is None:
            self._data = [self._store.read_stream(int(r.stream_id)) for r in self._meta]
            self._cursor = [0] * len(self._data)
            firsts = [d[0][0] for d in self._data if d[0].size]
            self._origin_rec_s = min(firsts) if firsts else 0.0
        pending = [d[0][c] for c, d in zip(self._cursor, self._data, strict=True) if c < d[0].size]
        # resume where replay stopped: the next pending sample is due now
        done = (min(pending) - self._origin_rec_s) if (self._started_once and pending) else 0.0
        self._start_s, self._rec_offset_s = t0_s, done

    def _elapsed_rec_s(self, now_s: float) -> float:
        if self.speed is None:
            return np.inf
        return self._rec_offset_s + (now_s - self._start_s) * self.speed

    def _host(self, rec_t: np.ndarray) -> np.ndarray:
        speed = self.speed or 1.0
        return self._start_s + (rec_t - self._origin_rec_s - self._rec_offset_s) / speed

    def _next_due_s(self) -> float:
        assert self._data is not None
        speed = self.speed or 1.0
        due = [
            self._start_s
            + (d[0][c] - self._origin_rec_s - self._rec_offset_s + self.block_s) / speed
            for c, d in zip(self._cursor, self._data, strict=True)
            if c < d[0].size
        ]
        return min(due) if due else np.inf

    def _poll(self, now_s: float) -> SampleBlock | None:
        assert self._data is not None
        limit = self._origin_rec_s + self._elapsed_rec_s(now_s)
        best, best_t = -1, np.inf
        for i, (c, d) in enumerate(zip(self._cursor, self._data, strict=True)):
            if c < d[0].size and d[0][c] <= limit and d[0][c] < best_t:
                best, best_t = i, d[0][c]
        if best < 0:
            return None
        host, dev, vals = self._data[best]
        info, c = self._infos[best], self._cursor[best]
        fs = info.sampling_rate_hz
        cap = max(1, int(round(self.block_s * fs))) if fs else 64
        end = min(int(np.searchsorted(host, limit, side="right")), c + cap)
        if self.speed is not None and end - c < cap and end < host.size:
            if limit - host[c] < self.block_s:  # wait for a full block unless it is overdue
                return None
        self._cursor[best] = end
        return SampleBlock(
            info.name, host_t_s=self._host(host[c:end]), device_t_s=dev[c:end], values=vals[c:end]
        )
