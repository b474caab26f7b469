"""BFR session state machine: gates, transitions, audit, whole simulated session."""

from __future__ import annotations

import datetime as dt
import json
import os
import time

import numpy as np
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


# ---------------------------------------------------------------------- manual / adaptive
# (issue 12 item 8): the panel's modes go through the session's gates.

#: BFR-SAFETY limits, stated independently of the code: ceiling per limb (mmHg) and the
#: adaptive band [40 %, 80 %] of the confirmed AOP.
CEILING = {"arm": 200.0, "leg": 240.0}


def _ready_at(s: BfrSession, aop: float) -> None:
    s.complete_screening(_form(), "J. Tech")
    s.cuff_applied(0.0, "J. Tech")
    s.set_prediction(aop)
    s.add_aop_reading(AopReading(aop, "doppler", s.context, DAY))
    assert s.add_aop_reading(AopReading(aop, "ppg", s.context, DAY)) is not None
    s.prescribe(60, exercise="leg press", load_pct_1rm=30, who="J. Tech")


def _requests(live) -> list[float]:
    return [e.value for e in live.events if e.kind == "operator" and e.code == "request_setpoint"]


@pytest.fixture
def sim_cuff():
    from workbench.bfr.live import RealtimeSimCuff

    cuff = RealtimeSimCuff()
    yield cuff
    cuff.close()


def test_manual_and_adaptive_are_refused_without_screening(sim_cuff):
    s = _session()
    for action in (
        lambda: s.set_mode("manual", "J. Tech"),
        lambda: s.set_adaptive(True, "J. Tech"),
        lambda: s.request_manual_setpoint(120, "J. Tech"),
        lambda: s.arm("J. Tech"),
        lambda: s.live(sim_cuff),
    ):
        with pytest.raises(SafetyError):
            action()
    assert s.mode == "scheme" and s.manual is None and s.adaptive is None
    assert s.live_session is None


def test_manual_and_adaptive_are_refused_without_a_confirmed_aop(sim_cuff):
    s = _session()
    s.complete_screening(_form(), "J. Tech")
    s.cuff_applied(0.0, "J. Tech")
    s.set_prediction(200.0)
    assert s.add_aop_reading(AopReading(200, "doppler", s.context, DAY)) is None  # one reading
    for action in (
        lambda: s.set_mode("manual", "J. Tech"),
        lambda: s.set_adaptive(True, "J. Tech"),
        lambda: s.live(sim_cuff),
    ):
        with pytest.raises(SafetyError):
            action()
    assert s.manual is None and s.adaptive is None
    # a ready session whose AOP is no longer valid (the next day) is refused too
    day = [DAY]
    s2 = BfrSession(CuffContext("ath01", "c1", "leg", "right", "seated"), clock=Clock(),
                    today=lambda: day[0])  # fmt: skip
    _ready_at(s2, 200.0)
    live = s2.live(sim_cuff, clock=s2.clock, require_operator=False)
    day[0] = DAY + dt.timedelta(days=1)
    for action in (
        lambda: s2.set_mode("manual", "J. Tech"),
        lambda: s2.set_adaptive(True, "J. Tech"),
        lambda: s2.arm("J. Tech"),
    ):
        with pytest.raises(SafetyError):
            action()
    assert _requests(live) == [] and not live.snapshot().loop_running


@pytest.mark.parametrize(("limb", "aop"), [("leg", 200.0), ("arm", 280.0), ("leg", 300.0)])
def test_manual_setpoints_outside_the_limits_are_rejected(sim_cuff, limb, aop):
    s = BfrSession(CuffContext("ath01", "c1", limb, "right", "seated"), clock=Clock(),
                   today=lambda: DAY)  # fmt: skip
    _ready_at(s, aop)
    live = s.live(sim_cuff, clock=s.clock, require_operator=False)
    with pytest.raises(SessionError):
        s.request_manual_setpoint(0.5 * aop, "J. Tech")  # scheme mode: no manual requests
    s.set_mode("manual", "J. Tech")
    hi, lo = min(0.8 * aop, CEILING[limb]), 0.4 * aop
    for bad in (hi + 1.0, lo - 1.0, float("nan"), -5.0):
        with pytest.raises(PrescriptionError):
            s.request_manual_setpoint(bad, "J. Tech")
    with pytest.raises(SessionError):
        s.set_adaptive(True, "J. Tech")  # adaptive runs in scheme mode only
    assert _requests(live) == []
    mid = (lo + hi) / 2
    assert s.request_manual_setpoint(mid, "J. Tech") == pytest.approx(mid)
    assert s.target_setpoint_mmhg == pytest.approx(mid)
    assert _requests(live) == [pytest.approx(mid)]
    assert any(e.code == "manual_setpoint" and e.value == pytest.approx(mid) for e in s.events)


@pytest.mark.parametrize(("limb", "aop"), [("leg", 200.0), ("arm", 280.0), ("leg", 300.0)])
def test_adaptive_cannot_exceed_80_percent_aop_or_the_ceiling(sim_cuff, limb, aop):
    from workbench.bfr.adaptive import AdaptiveInputs

    clock = Clock()
    s = BfrSession(CuffContext("ath01", "c1", limb, "right", "seated"), clock=clock,
                   today=lambda: DAY)  # fmt: skip
    _ready_at(s, aop)
    live = s.live(sim_cuff, clock=clock, require_operator=False)
    s.set_adaptive(True, "J. Tech", interval_s=1.0)
    s.start_set("J. Tech")
    hi, lo = min(0.8 * aop, CEILING[limb]), 0.4 * aop
    more = AdaptiveInputs(smo2_pct=90.0, emg_ratio=1.0, velocity_loss=0.0)  # "raise" rule
    for _ in range(60):
        clock.t += 1.0
        s.adaptive_update(more)
        s.step_setpoint()  # the panel's refresh
    ups = _requests(live)
    assert ups, "the modulator never raised the setpoint"
    assert max(ups) <= hi + 1e-9 and min(ups) >= lo - 1e-9
    assert max(ups) > hi - 5.0  # it did climb to the top of the band, and stopped there
    steps = np.diff([s.prescription.setpoint_mmhg, *ups])
    assert np.all((steps >= 5 - 1e-9) & (steps <= 10 + 1e-9)), steps
    assert live.supervisor.supervised_target(max(ups) + 50) <= hi + 1e-9
    less = AdaptiveInputs(smo2_pct=5.0)  # deep desaturation: "lower" rule, down to 40 %
    n_up = len(ups)
    for _ in range(60):
        clock.t += 1.0
        s.adaptive_update(less)
        s.step_setpoint()
    downs = _requests(live)[n_up:]
    assert min(downs) >= lo - 1e-9 and min(downs) < lo + 10.0
    # lowered in steps of at most SP_STEP_DOWN_MMHG (the 1-s mean follows within the band)
    steps = np.diff([ups[-1], *downs])
    assert np.all((steps < 0) & (steps >= -5 - 1e-9)), steps


def test_a_vent_in_manual_mode_ends_the_set(sim_cuff):
    from bfr_helpers import wait_until

    s = BfrSession(CuffContext("ath01", "c1", "leg", "right", "seated"), clock=sim_cuff.sim_clock)
    day = dt.date.today()
    s.complete_screening(_form(day=day), "J. Tech")
    s.cuff_applied(sim_cuff.read_pressure().pressure_mmhg, "J. Tech")
    s.set_prediction(200.0)
    s.add_aop_reading(AopReading(200, "doppler", s.context, day))
    s.add_aop_reading(AopReading(200, "ppg", s.context, day))
    s.prescribe(50, exercise="leg press", load_pct_1rm=30, who="J. Tech")
    live = s.live(sim_cuff, clock=sim_cuff.sim_clock, require_operator=False)
    try:
        s.arm("J. Tech")
        s.set_mode("manual", "J. Tech")
        s.start_set("J. Tech")
        s.request_manual_setpoint(140.0, "J. Tech")
        assert wait_until(lambda: sim_cuff.true_pressure_mmhg > 130, 8.0)  # it follows
        s.vent("J. Tech")
        assert s.state is SessionState.REPERFUSION
        assert s.manual.inflated_since is None
        assert wait_until(lambda: sim_cuff.true_pressure_mmhg < 20, 2.0)
        with pytest.raises(SessionError):
            s.request_manual_setpoint(140.0, "J. Tech")  # the set is over
        assert s.timers().set_elapsed_s == 0.0
        assert any(e.kind == "trip" and e.code == "operator_vent" for e in live.events)
    finally:
        live.stop()


def test_after_the_session_the_next_scheme_is_recommended_and_stored(tmp_path, sim_cuff):
    from workbench.bfr.scheme_learning import SchemeLearner

    store = open_store(f"sqlite:///{tmp_path}/t.db")
    store.write("athletes", [{"athlete_id": "ath01", "name": "A", "sex": "F",
                              "birth_date": dt.date(2000, 1, 1), "sport": "x"}])  # fmt: skip
    s = _session()
    _ready(s)
    s.live(sim_cuff, store=store, clock=s.clock, require_operator=False)
    learner = SchemeLearner(seed=3)
    with pytest.raises(SessionError):
        s.recommend_next(learner, store=store)  # not before the session is over
    s.end_live("J. Tech")
    assert s.state is SessionState.DONE
    rec = s.recommend_next(learner, store=store)
    assert rec.option in learner.options
    sid = int(store.bfr_sessions(athlete_id="ath01")["session_id"].iloc[0])
    ev = store.bfr_events(sid)
    row = ev[ev["kind"] == "recommendation"]
    assert len(row) == 1 and json.loads(row["message"].iloc[0])["option"]["label"] == (
        rec.option.label
    )
    store.close()


def test_a_lower_manual_setpoint_is_reached_in_steps(sim_cuff):
    s = _session()
    _ready(s)
    live = s.live(sim_cuff, clock=s.clock, require_operator=False)
    s.set_mode("manual", "J. Tech")
    hi = 0.8 * 200
    s.request_manual_setpoint(hi, "J. Tech")
    assert _requests(live) == [pytest.approx(hi)]  # up: at once (the supervisor slews)
    assert s.request_manual_setpoint(93.0, "J. Tech") == 93.0
    while s.step_setpoint() is not None:
        pass
    seq = _requests(live)
    assert seq[-1] == pytest.approx(93.0) and s.target_setpoint_mmhg == pytest.approx(93.0)
    assert np.all(np.diff(seq) >= -5 - 1e-9) and len(seq) == 1 + int(np.ceil((hi - 93) / 5))


# ---------------------------------------------------------------------- loop process (default)
# ADR 0008 / issue 12.5-6: the gates stay here; the loop runs in its own process on the
# emulator. The emulator's true pressure (its truth file) is the reference.


@pytest.mark.slow
def test_gated_session_on_the_loop_process_regulates_and_a_vent_ends_the_set(tmp_path):
    from bfr_helpers import wait_until
    from workbench.bfr.protocol import FirmwareState

    rng = np.random.default_rng()
    aop = float(rng.uniform(170.0, 230.0))  # the limb's true AOP, confirmed by two readings
    pct = float(rng.choice([50.0, 60.0]))
    day = dt.date.today()
    ledger = TimeLedger(tmp_path / "ledger.json")
    s = BfrSession(CuffContext("ath01", "c1", "leg", "right", "seated"), ledger=ledger)
    with pytest.raises(SafetyError):
        s.live()  # no screening: nothing is spawned
    s.complete_screening(_form(day=day), "J. Tech")
    s.cuff_applied(0.0, "J. Tech")
    s.set_prediction(aop)
    s.add_aop_reading(AopReading(aop, "doppler", s.context, day))
    assert s.add_aop_reading(AopReading(aop, "ppg", s.context, day)) is not None
    s.prescribe(pct, exercise="leg press", load_pct_1rm=30, who="J. Tech")
    target = s.prescription.setpoint_mmhg
    assert target == pytest.approx(round(aop * pct / 100.0), abs=1.0)  # stated: % of AOP
    live = s.live(aop_mmhg=aop, seed=int(rng.integers(1000)), require_operator=False)
    emu = live.emulator
    try:
        assert not hasattr(live, "supervisor")  # a client: the supervisor is elsewhere
        assert live.loop_pid != os.getpid() and emu.alive
        s.arm("J. Tech")
        s.start_set("J. Tech")
        emu.set_activity("reps")
        # regulation: the true pressure settles within 10 mmHg of the prescribed setpoint
        assert wait_until(lambda: abs(emu.read()["pressure_mmhg"] - target) < 10.0, 15.0), (
            emu.read()["pressure_mmhg"], target)  # fmt: skip
        s.end_set("J. Tech")  # phase "rest" goes to the loop process's supervisor
        assert s.state is SessionState.REST
        time.sleep(1.0)
        # the loop process's ledger comes back: ~the inflated time is charged to this limb
        s.timers()
        assert s.ledger.cumulative_s(s.ledger_key) > 1.0
        s.start_set("J. Tech")
        live.vent("Tech B")  # straight to the loop process, as the panel's VENT does
        assert wait_until(lambda: emu.read()["state"] == FirmwareState.VENTED_HOST, 0.5)
        assert wait_until(lambda: s.timers().state == "reperfusion", 2.0), s.state
        assert any("operator_vent" in a for a in s.alarms)
        assert wait_until(lambda: emu.read()["pressure_mmhg"] < 20.0, 1.0)
        with pytest.raises(SessionError):
            s.count_rep()  # the set is over
    finally:
        s.end_live("J. Tech")
    assert not emu.alive
    assert s.state is SessionState.DONE
