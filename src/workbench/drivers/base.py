"""What every live source has in common: stream metadata, sample blocks, the Source protocol.

Every sample keeps two clocks: the device timestamp (``device_t_s``, NaN when the device
sends none) and the host receive time (``host_t_s``, ``time.monotonic()`` seconds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class StreamInfo:
    """Static description of one stream.

    ``kind`` is one of ``hr``, ``rr``, ``ecg``, ``acc``, ``smo2``, ``emg``, ``pressure``,
    ``nirs`` (free text for others). ``sampling_rate_hz`` is None for irregular streams (RR).
    """

    name: str
    kind: str
    device: str
    channel_names: tuple[str, ...]
    units: tuple[str, ...]
    sampling_rate_hz: float | None

    def __post_init__(self) -> None:
        if len(self.channel_names) != len(self.units):
            raise ValueError(
                f"stream {self.name!r}: {len(self.channel_names)} channels, {len(self.units)} units"
            )

    @property
    def n_channels(self) -> int:
        return len(self.channel_names)


@dataclass
class SampleBlock:
    """A block of samples of one stream: ``values`` is (n, n_channels) float64."""

    stream: str
    host_t_s: np.ndarray
    device_t_s: np.ndarray
    values: np.ndarray
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, dtype=np.float64)
        if self.values.ndim == 1:
            self.values = self.values[:, None]
        self.host_t_s = np.asarray(self.host_t_s, dtype=np.float64)
        self.device_t_s = np.asarray(self.device_t_s, dtype=np.float64)
        n = self.values.shape[0]
        if self.host_t_s.shape != (n,) or self.device_t_s.shape != (n,):
            raise ValueError(
                f"block of {self.stream!r}: {n} samples, times {self.host_t_s.shape}/{self.device_t_s.shape}"
            )

    def __len__(self) -> int:
        return self.values.shape[0]


@runtime_checkable
class Source(Protocol):
    """A live source of one or more streams (real device, simulator, LSL inlet or replay).

    Lifecycle: ``await start()`` → repeated ``await read(timeout_s)`` → ``await stop()``.
    ``read`` returns the next block, or ``None`` when nothing arrived within the timeout.
    """

    @property
    def streams(self) -> tuple[StreamInfo, ...]: ...

    async def start(self) -> None: ...

    async def read(self, timeout_s: float = 1.0) -> SampleBlock | None: ...

    async def stop(self) -> None: ...
