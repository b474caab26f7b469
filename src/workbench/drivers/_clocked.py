"""Shared machinery of sources that generate blocks from a clock (simulators, replay)."""

from __future__ import annotations

import abc
import asyncio
import time
from collections.abc import Awaitable, Callable

from workbench.drivers.base import SampleBlock, StreamInfo
from workbench.errors import DeviceError

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class ClockedSource(abc.ABC):
    """Base of sources whose blocks become due at known clock times.

    Subclasses implement :meth:`_poll` (return a due block or None) and :meth:`_next_due_s`
    (clock time at which the next block becomes due; ``inf`` when exhausted). ``clock`` and
    ``sleep`` are injectable so tests run on simulated time.
    """

    def __init__(self, *, clock: Clock | None = None, sleep: Sleep | None = None) -> None:
        self._clock: Clock = clock or time.monotonic
        self._sleep: Sleep = sleep or asyncio.sleep
        self._running = False
        self._started_once = False
        self._t0_s = float("nan")

    @property
    @abc.abstractmethod
    def streams(self) -> tuple[StreamInfo, ...]:
        """Implemented by each concrete class."""

    @property
    def running(self) -> bool:
        return self._running

    def _on_start(self, t0_s: float) -> None:  # noqa: B027 - optional hook
        """Prepare generation; called once per start with the clock time of sample 0."""

    @abc.abstractmethod
    def _poll(self, now_s: float) -> SampleBlock | None:
        """Implemented by each concrete class."""

    @abc.abstractmethod
    def _next_due_s(self) -> float:
        """Implemented by each concrete class."""

    async def start(self) -> None:
        """Start generating (idempotent: a second start while running does nothing)."""
        if self._running:
            return
        self._t0_s = self._clock()
        self._on_start(self._t0_s)
        self._running = True
        self._started_once = True

    async def stop(self) -> None:
        """Stop generating (idempotent)."""
        self._running = False

    async def read(self, timeout_s: float = 1.0) -> SampleBlock | None:
        """The next due block, waiting at most ``timeout_s`` seconds; None on timeout."""
        if not self._running:
            raise DeviceError(
                f"{type(self).__name__}: read() before start() or after stop(); call start() first",
                reason="not_started",
            )
        deadline = self._clock() + max(0.0, float(timeout_s))
        while True:
            now = self._clock()
            block = self._poll(now)
            if block is not None:
                return block
            if now >= deadline:
                return None
            wait = min(self._next_due_s(), deadline) - now
            await self._sleep(max(wait, 0.0005))
            if not self._running:
                return None
