"""A throttled refresh loop on the kernel's event loop, shared by the live widgets."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable


class PeriodicTask:
    """Call ``tick()`` every ``1 / rate_hz`` s on the kernel's asyncio loop until stopped.

    An exception in ``tick`` goes to ``on_error`` and the loop goes on: a view must never die
    silently. :meth:`start` is idempotent; :meth:`stop` may be called from any thread.
    """

    def __init__(
        self, tick: Callable[[], None], rate_hz: float, on_error: Callable[[Exception], None]
    ):
        if not rate_hz > 0:
            raise ValueError(f"rate_hz must be positive, got {rate_hz}")
        self._tick = tick
        self._period_s = 1.0 / float(rate_hz)
        self._on_error = on_error
        self._stop = threading.Event()
        self._task: asyncio.Task | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        while not self._stop.is_set():
            t = time.monotonic()
            try:
                self._tick()
            except Exception as exc:  # noqa: BLE001 - reported through on_error
                self._on_error(exc)
            await asyncio.sleep(max(0.0, self._period_s - (time.monotonic() - t)))

    def start(self) -> asyncio.Task:
        """Run the loop as a task on the current (kernel) event loop; returns the task."""
        if self.running:
            return self._task
        self._stop.clear()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = asyncio.get_event_loop()
        self._task = loop.create_task(self._run())
        return self._task

    def stop(self) -> None:
        """Stop the loop (the last frame stays on screen)."""
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            self._task = None
