"""BFR session state machine: gates, transitions, audit, whole simulated session."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from workbench.bfr.calibration import AopReading, ConfirmedAOP, CuffContext
from workbench.bfr.ledger import TimeLedger
from workbench.bfr.limits import PrescriptionError
from workbench.bfr.screening import ScreeningError, ScreeningForm, all_clear
from workbench.bfr.session import BfrSession, SessionError, SessionState
from workbench.bfr.simulation.session_run import run_simulated_session
from workbench.bfr.supervisor import Trip
from workbench.errors import SafetyError, SafetyReason
from workbench.store import open_store

DAY = dt.date(2026, 11, 24)


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _form(**kw):
    base = dict(
        athlete_id="ath01",
        day=DAY,
        answers=all_clear(),
        systolic_mmhg=120,
        diastolic_mmhg=75,
        screened_by="J. Tech",
    )
    base.update(kw)
    return ScreeningForm(**base)


def _session(tmp_path=None, clock=None, today=DAY):
    ctx = CuffContext("ath01", "c1", "leg", "right", "seated")
    ledger = TimeLedger(None if tmp_path is None else tmp_path / "ledger.json")
    return BfrSession(ctx, clock=clock or Clock(), today=lambda: today, ledger=ledger)


def _ready(s: BfrSession) -> None:
    s.complete_screening(_form(), "J. Tech")
    s.cuff_applied(0.5, "J. Tech")
    s.set_prediction(200.0)
    assert s.add_aop_reading(AopReading(200, "doppler", s.context, DAY)) is None
    assert s.add_aop_reading(AopReading(205, "ppg", s.context, DAY)) is not None
    s.prescribe(60, exercise="leg press", load_pct_1rm=30, who="J. Tech")


def test_flow_and_events():
    clock = Clock()
    s = _session(clock=clock)
    _ready(s)
    assert s.state is SessionState.READY
    assert s.aop is not None and s.aop.aop_mmhg == 200
    assert s.prescription.setpoint_mmhg == pytest.approx(120.0)
    for n, reps in enumerate(s.prescription.scheme):
        assert s.start_set("J. Tech") == n + 1
        for _ in range(reps):
            clock.t += 2.0
            s.count_rep()
        assert s.timers().reps == reps
        s.end_set("J. Tech")
        if n < 3:
            assert s.state is SessionState.REST
            clock.t += 10
            assert s.timers().rest_remaining_s == pytest.approx(20.0)
            clock.t += 20
    assert s.state is SessionState.REPERFUSION
    with pytest.raises(SessionError):
        s.start_set("J. Tech")
    s.finish("J. Tech")
    assert s.state is SessionState.DONE
    codes = [(e.kind, e.code) for e in s.events]
    assert ("operator", "screening") in codes and ("operator", "prescription") in codes
    assert [c for k, c in codes if k == "state"][:4] == ["screening", "bp", "cuff", "aop"]


def test_no_inflation_without_screening_for_today():
    s = _session()
    with pytest.raises(ScreeningError):
        s.cuff_applied(0.0, "J. Tech")
    with pytest.raises(SafetyError):
        s.check_can_inflate()
    with pytest.raises(SafetyError):
        s.start_set("J. Tech")
    # yesterday's screening does not count
    with pytest.raises(ScreeningError):
        s.complete_screening(_form(day=DAY - dt.timedelta(days=1)), "J. Tech")
    # a blocking screening does not clear
    with pytest.raises(ScreeningError):
        s.complete_screening(_form(systolic_mmhg=185, diastolic_mmhg=90), "J. Tech")
    assert s.state is SessionState.SCREENING
    assert any(e.code == "screening_blocked" for e in s.events)


def test_screening_expires_at_day_end():
    day = [DAY]
    ctx = CuffContext("ath01", "c1", "leg")
    s = BfrSession(ctx, clock=Clock(), today=lambda: day[0])
    _ready(s)
    s.check_can_inflate()
    day[0] = DAY + dt.timedelta(days=1)
    with pytest.raises(SafetyError):
        s.check_can_inflate()
    with pytest.raises(SafetyError):
        s.start_set("J. Tech")


def test_cuff_inflated_before_arming_alarms():
    s = _session()
    s.complete_screening(_form(), "J. Tech")
    with pytest.raises(SafetyError) as ei:
        s.cuff_applied(35.0, "J. Tech")
    assert ei.value.reason is SafetyReason.PRESSURE_AT_START
    assert any(e.kind == "alarm" and e.priority == "high" for e in s.events)
    assert s.state is SessionState.CUFF
    s.cuff_applied(2.0, "J. Tech")
    assert s.state is SessionState.AOP


def test_reapply_and_posture_invalidate_aop():
    s = _session()
    _ready(s)
    s.reapply_cuff("J. Tech")
    assert s.aop is None and s.prescription is None and s.state is SessionState.CUFF
    with pytest.raises(SafetyError):
        s.check_can_inflate()
    s.cuff_applied(0.0, "J. Tech")
    s.set_prediction(200.0)
    s.add_aop_reading(AopReading(200, "doppler", s.context, DAY))
    s.add_aop_reading(AopReading(200, "doppler", s.context, DAY))
    s.prescribe(60, exercise="leg press", load_pct_1rm=30, who="J. Tech")
    s.change_posture("supine", "J. Tech")
    assert s.aop is None and s.state is SessionState.CUFF
    assert any(e.code == "aop_invalidated" for e in s.events)


def test_old_reading_cannot_confirm_new_application():
    s = _session()
    _ready(s)
    old = s.context
    s.reapply_cuff("J. Tech")
    s.cuff_applied(0.0, "J. Tech")
    with pytest.raises(PrescriptionError):
        s.add_aop_reading(AopReading(200, "doppler", old, DAY))


def test_confirmed_aop_cannot_be_forged():
    ctx = CuffContext("ath01", "c1", "leg")
    with pytest.raises(PrescriptionError):
        ConfirmedAOP(200.0, (), ctx, DAY)
    s = _session()
    s.complete_screening(_form(), "J. Tech")
    s.cuff_applied(0.0, "J. Tech")
    with pytest.raises(SessionError):
        s.prescribe(60, exercise="x", load_pct_1rm=30, who="J. Tech")


def test_time_limit_trip_starts_persisted_lockout(tmp_path):
    clock = Clock()
    s = _session(tmp_path, clock)
    _ready(s)
    s.start_set("J. Tech")
    s.on_trip(Trip(SafetyReason.TIME_LIMIT, "continuous 601 s", "high", 1.0, 1.0))
    assert s.state is SessionState.REPERFUSION
    assert s.timers().lockout_remaining_s > 170
    with pytest.raises(SafetyError) as ei:
        s.start_set("J. Tech")
    assert ei.value.reason is SafetyReason.REPERFUSION_LOCKOUT
    s.ledger.save()
    # a "restarted kernel" reads the same ledger
    s2 = _session(tmp_path, clock)
    _ready(s2)
    with pytest.raises(SafetyError):
        s2.check_can_inflate()


def test_operator_actions_need_a_name():
    s = _session()
    with pytest.raises(SessionError):
        s.complete_screening(_form(), "  ")


def test_confirm_rejects_disagreeing_readings_then_accepts():
    s = _session()
    s.complete_screening(_form(), "J. Tech")
    s.cuff_applied(0.0, "J. Tech")
    s.set_prediction(200.0)
    assert s.add_aop_reading(AopReading(180, "ppg", s.context, DAY)) is None
    assert s.add_aop_reading(AopReading(200, "ppg", s.context, DAY)) is None
    assert s.add_aop_reading(AopReading(205, "ppg", s.context, DAY)) is not None
    assert s.aop.aop_mmhg == 200


def test_run_simulated_session_stores_everything(tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/t.db")
    store.write(
        "athletes",
        [
            {
                "athlete_id": "ath01",
                "name": "A",
                "sex": "F",
                "birth_date": dt.date(2000, 1, 1),
                "sport": "football",
            }
        ],
    )
    r = run_simulated_session(store, scheme=(15, 10), rest_s=30, seed=3)
    assert r.status == "complete", [e for e in r.events if e.kind in ("trip", "alarm")]
    assert r.trips == []
    assert abs(r.aop.aop_mmhg - 200) <= 10
    assert r.max_pressure_mmhg < r.aop.aop_mmhg
    row = store.bfr_sessions(athlete_id="ath01").iloc[0]
    assert row["status"] == "complete"
    assert len(json.loads(row["aop_readings_mmhg"])) == 2
    assert row["aop_mmhg"] == pytest.approx(r.aop.aop_mmhg)
    assert row["percent_aop"] == 60 and row["scheme"] == "15-10"
    assert row["setpoint_mmhg"] == pytest.approx(0.6 * r.aop.aop_mmhg)
    assert row["time_under_pressure_s"] > 50
    assert row["recording_id"] == r.recording_id
    ev = store.bfr_events(int(row["session_id"]))
    assert {"state", "operator", "setpoint"} <= set(ev["kind"])
    assert "done" in set(ev["code"])
    streams = store.read("recording_streams", recording_id=int(r.recording_id))
    _, _, values = store.read_stream(int(streams["stream_id"].iloc[0]))
    assert len(values) > 100 * 60  # 100 Hz pressure over calibration and sets
    store.close()


def test_run_simulated_session_blocked_by_screening():
    form = ScreeningForm(
        "ath01", dt.date.today(), {**all_clear(), "pregnancy": True}, 120, 75, "J. Tech"
    )
    r = run_simulated_session(screening=form)
    assert r.status == "aborted"
    assert r.session.state is SessionState.ABORTED
    assert r.calibrations == [] and r.time_under_pressure_s == 0


def test_run_simulated_session_fault_vents_and_aborts():
    r = run_simulated_session(scheme=(15, 10), fault_at_s=5.0, faults=["sensor_offset_minus_20"])
    assert r.status == "aborted"
    assert r.trips
    assert r.session.state is SessionState.ABORTED


def test_live_session_is_gated_and_records_the_prescription(tmp_path):
    from workbench.bfr.live import RealtimeSimCuff

    store = open_store(f"sqlite:///{tmp_path}/t.db")
    store.write(
        "athletes",
        [
            {
                "athlete_id": "ath01",
                "name": "A",
                "sex": "F",
                "birth_date": dt.date(2000, 1, 1),
                "sport": "x",
            }
        ],
    )
    s = _session()
    cuff = RealtimeSimCuff()
    try:
        with pytest.raises(SafetyError):
            s.live(cuff, store=store)  # no screening yet
        _ready(s)
        live = s.live(cuff, store=store, require_operator=False)
        assert live.limits.aop_mmhg == 200
        assert live.supervisor.ledger_key == s.ledger_key
        live.stop()
    finally:
        cuff.close()
    row = store.bfr_sessions(athlete_id="ath01").iloc[0]
    assert row["exercise"] == "leg press" and row["scheme"] == "30-15-15-15"
    assert row["setpoint_mmhg"] == pytest.approx(120.0)
    store.close()
