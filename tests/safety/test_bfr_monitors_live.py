"""Issue 12.3: sensor monitors are on by default in a live (threaded) session and vent within
0.5 s of NIRS complete desaturation or a sudden EMG collapse."""

from __future__ import annotations

import time

import pytest

from bfr_helpers import simulated_limb_limits, wait_until
from workbench.bfr.live import LiveSession, RealtimeSimCuff
from workbench.errors import SafetyReason


@pytest.fixture
def live():
    cuff = RealtimeSimCuff()
    s = LiveSession(cuff, simulated_limb_limits(), require_operator=False, clock=cuff.sim_clock)
    yield s
    s.stop()
    cuff.close()


def test_monitors_are_armed_by_default_and_reported(live):
    assert live.supervisor.monitors == {"nirs", "emg", "hr"}
    assert live.monitor_status == {"nirs": "armed", "emg": "armed", "hr": "armed"}
    (ev,) = [e for e in live.events if e.code == "monitors"]
    assert "emg, hr, nirs" in ev.message and "armed" in ev.message


def test_turning_a_monitor_off_is_explicit_and_shown():
    cuff = RealtimeSimCuff()
    try:
        s = LiveSession(cuff, simulated_limb_limits(), require_operator=False, monitors=("nirs",))
        assert s.supervisor.monitors == {"nirs"}
        assert s.monitor_status["nirs"] == "armed"
        assert "turned off by the caller: emg" in s.monitor_status["emg"]
    finally:
        cuff.close()


def _inflate(live) -> None:
    live.start()
    live.request_setpoint(120)
    assert wait_until(lambda: live.cuff.true_pressure_mmhg > 100, 6.0), live.supervisor.latched


def test_nirs_complete_desaturation_vents_within_half_a_second(live):
    _inflate(live)
    sim = live.cuff.sim
    live.cuff._call(sim.inject, "nirs_desaturation")
    t_desat = None
    end = time.monotonic() + 5.0
    while time.monotonic() < end and t_desat is None:  # the physiological event (sim time)
        n = sim.nirs
        if n is not None and n.smo2_pct < live.limits.smo2_floor_pct:
            t_desat = n.t_s
        time.sleep(0.002)
    assert t_desat is not None
    assert wait_until(lambda: sim.vent_times_s, 1.0)
    t_vent = sim.vent_times_s[0][0]
    assert t_vent - t_desat <= 0.5, t_vent - t_desat
    assert live.supervisor.latched[0].reason is SafetyReason.MONITOR
    assert wait_until(lambda: live.cuff.true_pressure_mmhg < 20, 1.0)


def test_sudden_emg_collapse_in_a_set_vents_within_half_a_second(live):
    _inflate(live)
    sim = live.cuff.sim
    live.cuff.set_activity("reps")
    live.supervisor.set_phase("set", live.clock())
    time.sleep(3.5)  # the set's EMG level is established
    assert not live.supervisor.latched, live.supervisor.latched
    with live.cuff._lock:
        t_fault = sim.t_s
        sim.inject("emg_collapse", t_fault)
    assert wait_until(lambda: sim.vent_times_s, 2.0)
    t_vent = sim.vent_times_s[0][0]
    assert t_vent - t_fault <= 0.5, t_vent - t_fault
    assert live.supervisor.latched[0].reason is SafetyReason.MONITOR
    assert "EMG" in live.supervisor.latched[0].message
