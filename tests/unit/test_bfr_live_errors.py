"""A failing direct cuff read (panel refresh outside the loop) is logged, not swallowed."""

from __future__ import annotations

import logging
import math

from bfr_helpers import simulated_limb_limits
from workbench.bfr.live import LiveSession, RealtimeSimCuff


def test_failing_direct_read_is_logged_once_and_goes_stale(caplog):
    cuff = RealtimeSimCuff(speed=2.0)
    lim = simulated_limb_limits()
    s = LiveSession(cuff, lim, clock=cuff.sim_clock)
    try:

        def broken():
            raise OSError("port closed")

        cuff.read_pressure = broken  # type: ignore[method-assign]
        with caplog.at_level(logging.WARNING, logger="workbench.bfr.live"):
            snaps = [s.snapshot() for _ in range(5)]
        assert all(sn.pressure_stale for sn in snaps)
        assert all(not math.isfinite(sn.pressure_mmhg) for sn in snaps)
        msgs = [r for r in caplog.records if "port closed" in r.getMessage()]
        assert len(msgs) == 1, [r.getMessage() for r in caplog.records]
    finally:
        s.stop()
        cuff.close()
