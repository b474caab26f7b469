"""BfrPanel, kernel side: messages from the browser reach the session; traces are throttled."""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
import pytest
import traitlets

from bfr_helpers import ManualClock, captured_panel, simulated_limb_limits, wait_until
from workbench.bfr.live import LiveSession, RealtimeSimCuff
from workbench.errors import SafetyReason
from workbench.widgets.bfr_panel import TRACE_COLUMNS, BfrPanel

SPEED = 2.0  # the simulated cuff and the session clock run twice as fast as real time


@pytest.fixture
def live():
    cuff = RealtimeSimCuff(speed=SPEED)
    lim = simulated_limb_limits()
    s = LiveSession(cuff, lim, require_operator=True, clock=cuff.sim_clock)
    yield s
    s.stop()
    cuff.close()


def _panel(session, **kw) -> tuple[BfrPanel, list]:
    panel, sent, _wall = captured_panel(session, **kw)
    return panel, sent


def test_panel_shows_limits_and_sends_throttled_float32_rows(live):
    clock = ManualClock()
    p, sent = _panel(live, wall_clock=clock, sample_hz=25, send_hz=10)
    assert p.limits["max_setpoint_mmhg"] == pytest.approx(160.0)
    assert p.limits["aop_mmhg"] == 200.0
    assert p.limits["instant_trip_mmhg"] > p.limits["sustained_trip_mmhg"] > 160.0
    # the line the 1-s mean vents at (issue 15), drawn instead of the sustained line
    assert p.limits["mean_trip_mmhg"] == pytest.approx(162.5)
    for k in range(10):  # 25 Hz samples, sent at most every 0.1 s: at 0, 0.12, 0.24, 0.36 s
        clock.t = k * 0.04
        p.poll()
    traces = [(c, b) for c, b in sent if c["type"] == "trace"]
    assert len(traces) == 4
    rows = np.concatenate([np.frombuffer(b[0], dtype=np.float32) for _, b in traces])
    rows = rows.reshape(-1, len(TRACE_COLUMNS))
    assert len(rows) == 10  # every sample sent exactly once
    assert np.all(np.isfinite(rows[:, 3])) and np.all(np.isfinite(rows[:, 4]))  # SmO2, EMG (sim)
    # a new browser view gets the whole history at once
    p._on_custom_msg(p, {"type": "ready"}, [])
    content, bufs = sent[-1]
    assert content["reset"] and len(np.frombuffer(bufs[0], dtype=np.float32)) == 10 * 5
    assert p.state["vented"] is True and p.state["alarms"] == []
    p.close()


def test_heartbeats_keep_the_session_armed_and_vent_button_vents(live):
    p, _ = _panel(live)
    p._on_custom_msg(p, {"type": "ready"}, [])
    live.start()
    live.request_setpoint(100)
    end = live.clock() + 4.0  # longer than the 3 s operator timeout (session time)
    while live.clock() < end:
        p._on_custom_msg(p, {"type": "heartbeat", "seen": 1}, [])
        time.sleep(0.4 / SPEED)
    assert not live.supervisor.latched, live.supervisor.latched
    assert live.cuff.true_pressure_mmhg > 80
    p._on_custom_msg(p, {"type": "vent", "who": "Tech A"}, [])
    assert live.cuff.sim.state.name.startswith("VENTED")  # at once, from the kernel thread
    assert [t.reason for t in live.supervisor.latched] == [SafetyReason.OPERATOR_VENT]
    assert p.message == "VENT sent by Tech A"
    assert p.state["vented"] and p.state["alarms"][0]["reason"] == "operator_vent"
    assert wait_until(lambda: live.cuff.true_pressure_mmhg < 20, 0.5 / SPEED)
    assert any(e.code == "vent" and e.message == "Tech A" for e in live.events)
    p.close()


def test_no_heartbeat_for_3_s_vents_and_latches(live):
    p, _ = _panel(live)
    p._on_custom_msg(p, {"type": "ready"}, [])
    live.start()
    live.request_setpoint(100)
    t_last = live.clock()
    p._on_custom_msg(p, {"type": "heartbeat", "seen": 0}, [])
    assert wait_until(lambda: live.supervisor.latched, 4.0 / SPEED)
    tripped = live.clock() - t_last
    assert 2.9 <= tripped <= 3.3, tripped
    assert live.supervisor.latched[0].reason is SafetyReason.OPERATOR_HEARTBEAT_LOST
    assert wait_until(lambda: live.cuff.true_pressure_mmhg < 20, 0.5 / SPEED)
    p.poll_state()
    assert p.state["alarms"][0]["priority"] == "high"
    p.close()


def test_acknowledge_goes_through_the_session_and_needs_a_name(live):
    p, _ = _panel(live, operator="")
    live.start()
    live.request_setpoint(120)
    assert wait_until(lambda: live.cuff.true_pressure_mmhg > 60, 3.0)
    p.press_vent("Tech B")
    assert not p.press_acknowledge()  # no name
    assert "name" in p.message
    assert not p.press_acknowledge("Tech B")  # still deflating: the supervisor refuses
    assert "not vented" in p.message
    assert wait_until(lambda: live.cuff.read_pressure().pressure_mmhg < 15, 1.0)
    p._on_custom_msg(p, {"type": "ack", "who": "Tech B"}, [])
    assert not live.supervisor.latched and p.state["alarms"] == []
    assert [e.code for e in live.events if e.kind == "ack"] == [
        "refused_not_vented",
        "acknowledged",
    ]
    p.close()


def test_progress_timers_and_argument_checks():
    snap = SimpleNamespace(
        t_s=12.0, pressure_mmhg=150.0, setpoint_mmhg=150.0, vented=False, latched=[],
        max_setpoint_mmhg=160.0, sustained_trip_mmhg=175.0, instant_trip_mmhg=200.0,
    )  # fmt: skip
    calls: list[str] = []
    session = SimpleNamespace(
        snapshot=lambda: snap,
        vent=lambda who="operator": calls.append(f"vent:{who}"),
        operator_heartbeat=lambda: calls.append("hb"),
        acknowledge=lambda who: calls.append(f"ack:{who}") or True,
    )
    p, _ = _panel(session, monitors=lambda: (55.0, 80.0))
    p.set_progress("set", set_index=2, n_sets=4, reps_done=3, reps_target=15)
    snap.t_s = 14.0
    p.set_progress("set", set_index=2, n_sets=4, reps_done=4, reps_target=15)
    p.poll_state()
    st = p.state
    assert (st["phase_start_s"], st["rep_start_s"], st["reps_done"]) == (12.0, 14.0, 4)
    assert st["alarms"] == [] and st["inflated_s"] is None
    p._on_custom_msg(p, {"type": "heartbeat"}, [])
    p._on_custom_msg(p, {"type": "vent"}, [])
    assert calls == ["hb", "vent:operator"]
    with pytest.raises(traitlets.TraitError):
        p.heartbeat_ms = 1500  # the browser must beat at least every second
    with pytest.raises(TypeError, match="snapshot"):
        BfrPanel(object(), autostart=False)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="send_hz"):
        BfrPanel(session, send_hz=60, autostart=False)
    p.close()


def test_flow_timers_drive_phase_and_timers():
    from workbench.bfr.session import Timers

    snap = SimpleNamespace(
        t_s=50.0, pressure_mmhg=120.0, setpoint_mmhg=120.0, vented=False, latched=[],
        max_setpoint_mmhg=160.0, sustained_trip_mmhg=175.0, instant_trip_mmhg=200.0,
    )  # fmt: skip
    session = SimpleNamespace(
        snapshot=lambda: snap, vent=lambda who="x": None, operator_heartbeat=lambda: None,
        acknowledge=lambda who: True,
    )  # fmt: skip
    tm = Timers(
        state="set",
        set_number=2,
        sets_total=4,
        reps=7,
        reps_target=15,
        set_elapsed_s=14.0,
        rest_remaining_s=0.0,
        restriction_elapsed_s=80.0,
        restriction_max_s=600.0,
        lockout_remaining_s=0.0,
        cumulative_inflated_s=90.0,
        prompt="set 2: rep 7 of 15",
    )
    flow = SimpleNamespace(timers=lambda: tm)
    p, _ = _panel(session, flow=flow)
    p.poll_state()
    st = p.state
    assert (st["phase"], st["set_index"], st["n_sets"], st["reps_done"], st["reps_target"]) == (
        "set", 2, 4, 7, 15,
    )  # fmt: skip
    assert st["phase_start_s"] == 36.0 and st["prompt"] == "set 2: rep 7 of 15"
    with pytest.raises(TypeError, match="timers"):
        BfrPanel(session, flow=object(), autostart=False)
    p.close()
