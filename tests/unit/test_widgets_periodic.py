"""The shared refresh loop of the live widgets: throttled, survives errors, stops."""

from __future__ import annotations

import asyncio

import pytest

from workbench.widgets._periodic import PeriodicTask


def test_ticks_at_the_rate_survive_errors_and_stop():
    ticks: list[int] = []
    errors: list[Exception] = []

    def tick():
        ticks.append(len(ticks))
        if len(ticks) == 2:
            raise RuntimeError("refresh failed once")

    async def run():
        task = PeriodicTask(tick, 50.0, errors.append)
        first = task.start()
        assert task.start() is first  # idempotent
        await asyncio.sleep(0.3)
        task.stop()
        n = len(ticks)
        await asyncio.sleep(0.1)
        return n

    n_at_stop = asyncio.run(run())
    assert 5 <= n_at_stop <= 20  # ~15 at 50 Hz over 0.3 s, throttled (not a busy loop)
    assert len(ticks) == n_at_stop  # nothing after stop
    assert [str(e) for e in errors] == ["refresh failed once"]


def test_rate_must_be_positive():
    with pytest.raises(ValueError, match="rate_hz"):
        PeriodicTask(lambda: None, 0.0, lambda e: None)
