"""Issue 15.4: the BFR panel shows the true state: no stale pressure shown as live, and a VENT
mid-set ends the set on the panel (phase and timers)."""

from __future__ import annotations

import datetime as dt
import math
import time

import numpy as np
import pytest

from bfr_helpers import captured_panel, simulated_limb_limits, wait_until
from workbench.bfr.calibration import AopReading, CuffContext
from workbench.bfr.live import LiveSession, RealtimeSimCuff
from workbench.bfr.screening import ScreeningForm, all_clear
from workbench.bfr.session import BfrSession
from workbench.widgets.bfr_panel import TRACE_COLUMNS

SPEED = 2.0


@pytest.fixture
def live():
    cuff = RealtimeSimCuff(speed=SPEED)
    lim = simulated_limb_limits()
    s = LiveSession(cuff, lim, require_operator=False, clock=cuff.sim_clock)
    yield s
    s.stop()
    cuff.close()


def _panel(session, **kw):
    return captured_panel(session, **kw)


def _rows(sent) -> np.ndarray:
    bufs = [np.frombuffer(b[0], dtype=np.float32) for c, b in sent if c["type"] == "trace"]
    return np.concatenate(bufs).reshape(-1, len(TRACE_COLUMNS))


def test_after_the_set_the_panel_shows_the_vented_pressure_not_the_loops_last(live):
    """After stop the panel showed VENTING at 128 mmHg for >= 35 s (a stale last_reading)."""
    live.start()
    live.request_setpoint(128)
    assert wait_until(lambda: live.cuff.true_pressure_mmhg > 115, 6.0)
    live.stop("complete")  # end of the session: the loop stops, the cuff vents
    assert wait_until(lambda: live.snapshot().pressure_mmhg < 20.0, 1.0 / SPEED + 0.5)
    snap = live.snapshot()
    assert not snap.pressure_stale and snap.vented and not snap.loop_running
    p, _, _ = _panel(live)
    p.poll_state()
    assert p.state["pressure_stale"] is False and p.state["vented"] is True


def test_a_pressure_that_stops_updating_is_flagged_stale_and_not_drawn(live):
    live.start()
    live.request_setpoint(120)
    assert wait_until(lambda: live.cuff.true_pressure_mmhg > 100, 6.0)
    live.stop("complete")
    last = live.cuff.read_pressure()
    live.cuff.read_pressure = lambda: last  # the link goes silent: the driver repeats its cache
    p, sent, wall = _panel(live, sample_hz=25, send_hz=10)
    time.sleep(0.5)  # > 0.3 s of session time without a new sample
    snap = live.snapshot()
    assert snap.pressure_stale and snap.pressure_age_s > 0.3
    for k in range(5):
        wall.t = 0.2 * k
        p.poll()
    st = p.state
    assert st["pressure_stale"] is True and st["pressure_age_s"] > 0.3
    assert st["last_pressure_mmhg"] is not None
    assert np.isnan(_rows(sent)[:, 1]).all()  # a gap in the trace, not a flat stale line


def test_vent_mid_set_ends_the_set_on_the_panel(live):
    """With set_progress, the phase stayed "set" and the timers kept counting after VENT."""
    p, _, _ = _panel(live)
    live.start()
    live.request_setpoint(120)
    assert wait_until(lambda: live.cuff.true_pressure_mmhg > 60, 6.0)
    p.set_progress("set", set_index=1, n_sets=4, reps_done=3, reps_target=15)
    p.poll_state()
    assert p.state["phase"] == "set" and p.state["phase_start_s"] is not None
    p._on_custom_msg(p, {"type": "vent", "who": "Tech A"}, [])
    # the protocol loop of a notebook may keep reporting reps: the vent still wins
    p.set_progress("set", set_index=1, n_sets=4, reps_done=4, reps_target=15)
    p.poll_state()
    st = p.state
    assert st["phase"] == "vented" and st["vented"] is True
    assert st["phase_start_s"] is None and st["rep_start_s"] is None
    assert "vented" in st["prompt"]


def test_vent_mid_set_moves_the_session_state_machine_to_reperfusion():
    day = dt.date.today()
    cuff = RealtimeSimCuff(speed=SPEED)
    s = BfrSession(CuffContext("ath01", "c1", "leg"), clock=cuff.sim_clock)
    s.complete_screening(ScreeningForm("ath01", day, all_clear(), 120, 75, "J. Tech"), "J. Tech")
    s.cuff_applied(cuff.read_pressure().pressure_mmhg, "J. Tech")
    s.set_prediction(200.0)
    s.add_aop_reading(AopReading(200, "doppler", s.context, day))
    s.add_aop_reading(AopReading(200, "ppg", s.context, day))
    s.prescribe(60, exercise="leg press", load_pct_1rm=30, who="J. Tech")
    live = s.live(cuff, clock=cuff.sim_clock, require_operator=False)
    try:
        p, _, _ = _panel(live, flow=s)
        live.start()
        live.request_setpoint(s.prescription.setpoint_mmhg)
        s.start_set("J. Tech")
        time.sleep(0.5)
        p.poll_state()
        assert p.state["phase"] == "set" and p.state["phase_start_s"] is not None
        p.press_vent("Tech A")
        p.poll_state()
        st = p.state
        assert st["phase"] == "reperfusion" and st["phase_start_s"] is None
        assert st["reps_done"] is None
        assert math.isfinite(live.snapshot().pressure_mmhg)
    finally:
        live.stop()
        cuff.close()
