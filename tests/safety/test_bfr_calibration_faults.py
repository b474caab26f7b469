"""Fault injection into AOP calibration, which runs through the supervisor (issue 12.1).

Each run measures a randomised limb (true AOP, fault time) on the simulator in simulated
time. The referee is the simulator itself: its true (1 kHz) cuff pressure, its firmware
vent log and its firmware state, never the supervisor's own view. The req 17 time box is
checked by driving the :class:`ControlCore` directly with a :class:`CalibrationLimits`
profile, so the supervisor (not the runner's own loop) is what stops it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import random

import pytest

from bfr_helpers import SENSOR_AND_PNEUMATIC_FAULT_REASONS, calibrate_on_simulator
from workbench.bfr.authority import authorize_confirmed
from workbench.bfr.calibration import (
    CuffContext,
    NirsDetector,
    PpgDetector,
    plan_calibration,
    run_calibration,
)
from workbench.bfr.control import ControlCore
from workbench.bfr.limits import CalibrationLimits, PrescriptionError
from workbench.bfr.protocol import FirmwareState
from workbench.bfr.simulation.control_run import FAULTS
from workbench.bfr.simulation.cuff import CuffSimulator
from workbench.bfr.supervisor import Supervisor
from workbench.errors import SafetyError, SafetyReason

DAY = dt.date(2026, 11, 24)
CTX = CuffContext("ath01", "c1", "leg", "right", "seated")
#: Req 17 ceiling and req 7/8 reaction times, from BFR-SAFETY.md.
SPEC_CEILING_MMHG = 300.0
SPEC_TRIP_TO_VENT_S = 0.05
SPEC_VENT_TO_SAFE_S = 0.5
SAFE_MMHG = 20.0

#: Fault -> supervisor reasons that may end the calibration (what physically shows it).
EXPECTED = SENSOR_AND_PNEUMATIC_FAULT_REASONS


def _limb(seed: int) -> tuple[CuffSimulator, float, random.Random]:
    rng = random.Random(seed)
    aop = rng.uniform(140.0, 230.0)
    sim = CuffSimulator(aop_mmhg=aop, seed=seed)
    sim.advance_to(0.02)
    return sim, aop, rng


def _trips(result) -> list:
    return [e for e in result.events if e.kind == "trip"]


def _assert_vented_in_time(sim: CuffSimulator, t_trip_s: float, vent_to_safe_s: float) -> None:
    """The firmware got a vent within 50 ms of the trip and the true pressure is safe."""
    vents = [t for t, why in sim.vent_times_s if t >= t_trip_s - 1e-9]
    assert vents and vents[0] - t_trip_s <= SPEC_TRIP_TO_VENT_S, (t_trip_s, sim.vent_times_s)
    assert sim.state is not FirmwareState.ARMED
    sim.advance_to(max(sim.t_s, vents[0] + vent_to_safe_s))
    assert sim.pressure_mmhg < SAFE_MMHG


@pytest.mark.parametrize("seed", [11, 12])
@pytest.mark.parametrize("fault", sorted(EXPECTED))
def test_sensor_and_pneumatic_faults_vent_the_calibration(fault, seed):
    assert fault in FAULTS
    sim, _aop, rng = _limb(seed)
    at_s = rng.uniform(15.0, 45.0)  # the cuff is inflated to 50-120 mmHg by then
    sim.inject(fault, at_s)
    r = calibrate_on_simulator(sim, plan_calibration(190.0), PpgDetector(), CTX, DAY)
    assert r.status == "aborted", r.reason
    assert r.reading is None
    trips = _trips(r)
    assert trips and trips[0].t_s >= at_s
    assert SafetyReason(trips[0].code) in EXPECTED[fault], trips[0]
    _assert_vented_in_time(sim, trips[0].t_s, SPEC_VENT_TO_SAFE_S)
    assert sim.peak_mmhg <= SPEC_CEILING_MMHG


def test_a_stuck_dump_valve_still_ends_vented_through_the_bleed():
    """Only matters at the vent: the calibration completes, the bleed valve empties the cuff
    (6 s, as in training: ``control_run._VENT_TIME_S``)."""
    sim, aop, rng = _limb(21)
    sim.inject("dump_valve_stuck", rng.uniform(10.0, 30.0))
    r = calibrate_on_simulator(sim, plan_calibration(190.0), PpgDetector(), CTX, DAY)
    assert r.status == "occluded", r.reason
    assert abs(r.reading.aop_mmhg - aop) <= 10.0
    _assert_vented_in_time(sim, sim.vent_times_s[-1][0], 6.0)
    assert sim.peak_mmhg <= SPEC_CEILING_MMHG


def test_the_deflation_between_long_steps_is_checked_at_re_arming():
    """With the dump valve stuck a 10 s bleed-only pause may leave the cuff above 20 mmHg:
    re-arming (the supervisor's req 21 check) refuses, the run aborts vented."""
    sim = CuffSimulator(aop_mmhg=200.0, seed=22)
    sim.advance_to(0.02)
    sim.inject("dump_valve_stuck", 0.0)
    plan = plan_calibration(180.0, step_mmhg=20.0, hold_s=16.0)
    assert plan.deflate_s >= 10.0
    r = calibrate_on_simulator(sim, plan, NirsDetector(), CTX, DAY)
    # either every pause deflated below 20 mmHg (then it measured) or re-arming refused
    armed = [e for e in r.events if e.code == "calibration_armed"]
    deflations = [e for e in r.events if e.code == "calibration_deflate"]
    if r.status == "aborted":
        assert "pressure_at_start" in r.reason
    else:
        assert r.status == "occluded", r.reason
        assert len(armed) == len(deflations) + 1
    sim.advance_to(sim.t_s + 6.0)
    assert sim.pressure_mmhg < SAFE_MMHG
    assert sim.peak_mmhg <= SPEC_CEILING_MMHG


@pytest.mark.parametrize("stall_s", [0.15, 0.3])
def test_a_loop_overrun_vents(stall_s):
    """The runner's loop stalls once (a GC pause): the supervisor trips on > 100 ms; a stall
    beyond 250 ms is caught first by the firmware watchdog."""
    sim, _aop, rng = _limb(31)
    at_s = rng.uniform(15.0, 40.0)
    stalled = []

    def wait(d: float) -> None:
        if not stalled and sim.t_s >= at_s:
            stalled.append(sim.t_s)
            d += stall_s
        sim.advance_to(sim.t_s + d)

    r = run_calibration(
        sim,
        plan_calibration(190.0),
        PpgDetector(),
        CTX,
        clock=lambda: sim.t_s,
        wait=wait,
        nirs=lambda: sim.nirs,
        today=lambda: DAY,
    )
    assert stalled and r.status == "aborted"
    trips = _trips(r)
    assert SafetyReason(trips[0].code) is SafetyReason.LOOP_OVERRUN
    if stall_s > 0.25:
        # the firmware vented during the stall, 250 ms after the last heartbeat
        t_wd, why = sim.vent_times_s[0]
        assert why is FirmwareState.VENTED_WATCHDOG
        assert stalled[0] < t_wd <= stalled[0] + 0.25 + 0.011
    else:
        _assert_vented_in_time(sim, trips[0].t_s, SPEC_VENT_TO_SAFE_S)
    sim.advance_to(sim.t_s + SPEC_VENT_TO_SAFE_S)
    assert sim.pressure_mmhg < SAFE_MMHG


class _FailingDetector(PpgDetector):
    def __init__(self, at_s: float, exc: BaseException) -> None:
        super().__init__()
        self.at_s = at_s
        self.exc = exc

    def update(self, t_s, pressure_mmhg, nirs, *, at_rest):
        if t_s >= self.at_s:
            raise self.exc
        return super().update(t_s, pressure_mmhg, nirs, at_rest=at_rest)


def test_an_exception_in_the_detector_vents_and_is_logged(caplog):
    sim, _aop, rng = _limb(41)
    at_s = rng.uniform(15.0, 40.0)
    det = _FailingDetector(at_s, ZeroDivisionError("detector bug"))
    with caplog.at_level(logging.ERROR, logger="workbench.bfr.calibration"):
        r = calibrate_on_simulator(sim, plan_calibration(190.0), det, CTX, DAY)
    assert r.status == "aborted" and "ZeroDivisionError" in r.reason
    trips = _trips(r)
    assert SafetyReason(trips[0].code) is SafetyReason.LOOP_EXCEPTION
    assert any("detector bug" in rec.getMessage() for rec in caplog.records)
    _assert_vented_in_time(sim, trips[0].t_s, SPEC_VENT_TO_SAFE_S)


def test_a_keyboard_interrupt_in_the_detector_vents_and_propagates():
    sim, _aop, rng = _limb(42)
    det = _FailingDetector(rng.uniform(15.0, 40.0), KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        calibrate_on_simulator(sim, plan_calibration(190.0), det, CTX, DAY)
    assert sim.state is FirmwareState.VENTED_HOST
    sim.advance_to(sim.t_s + SPEC_VENT_TO_SAFE_S)
    assert sim.pressure_mmhg < SAFE_MMHG


@pytest.mark.parametrize(("seed", "expected_range"), [(51, (100.0, 140.0)), (52, (240.0, 300.0))])
def test_no_occlusion_ends_vented_and_never_above_300(seed, expected_range):
    """A limb that never occludes (PPG lost). A low expected AOP: the 120 s budget above
    half of it ends the run; a high one: the top step ends it. Either way the true pressure
    never exceeds 300 mmHg and the cuff ends vented."""
    sim, _aop, rng = _limb(seed)
    sim.inject("monitor_loss", 0.0)  # no PPG: the detector never fires
    expected = rng.uniform(*expected_range)
    r = calibrate_on_simulator(sim, plan_calibration(expected), PpgDetector(), CTX, DAY)
    assert r.status == "no_occlusion", r.reason
    assert r.reading is None
    assert r.time_above_half_s <= 120.0 + 0.1
    # referee: every step that ran (its true hold) counted against half the expected AOP
    above = sum(
        min(s.end_s, r.steps[-1].end_s) - s.start_s
        for s in r.steps
        if s.level_mmhg > 0.5 * expected
    )
    if above < 110.0:
        assert "ceiling" in r.reason  # the budget was not what stopped it
    assert sim.peak_mmhg <= SPEC_CEILING_MMHG
    sim.advance_to(sim.t_s + SPEC_VENT_TO_SAFE_S)
    assert sim.pressure_mmhg < SAFE_MMHG


# ----------------------------------------------------------------- the supervisor's time box
def _core(limits: CalibrationLimits, seed: int):
    sim = CuffSimulator(aop_mmhg=400.0, seed=seed)  # a limb that never occludes
    sim.advance_to(0.02)
    sup = Supervisor(limits)
    commands = []
    core = ControlCore(
        sim, sup, clock=lambda: sim.t_s, on_tick=lambda t, r, c: commands.append((t, c))
    )
    core.arm(sim.t_s)
    return sim, sup, core, commands


def _drive(sim, core, request, until_s: float, trace: list | None = None) -> None:
    """Tick at 100 Hz, requesting ``request(t)``, until ``until_s`` or a latched trip."""
    while sim.t_s < until_s and not core.supervisor.latched:
        core.request_setpoint(request(sim.t_s))
        core.safe_tick(sim.t_s)
        sim.advance_to(sim.t_s + 0.01)
        if trace is not None:
            trace.append((sim.t_s, sim.pressure_mmhg))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_step_held_too_long_trips(seed):
    rng = random.Random(seed)
    hold_max = rng.uniform(5.0, 30.0)
    lim = dataclasses.replace(
        CalibrationLimits.for_calibration("leg", 250.0), step_hold_max_s=hold_max
    )
    sim, sup, core, _ = _core(lim, seed)
    level = rng.uniform(60.0, 110.0)  # below half the expected AOP
    t0 = sim.t_s
    _drive(sim, core, lambda t: level, t0 + hold_max + 5.0)
    assert [t.reason for t in sup.trips] == [SafetyReason.TIME_LIMIT]
    assert hold_max < sup.trips[0].detected_t_s - t0 <= hold_max + 0.05
    _assert_vented_in_time(sim, sup.trips[0].detected_t_s, SPEC_VENT_TO_SAFE_S)


@pytest.mark.parametrize("seed", [4, 5])
def test_time_above_half_the_expected_aop_is_budgeted_by_the_supervisor(seed):
    rng = random.Random(seed)
    expected = rng.uniform(100.0, 200.0)
    budget = rng.uniform(20.0, 120.0)
    lim = CalibrationLimits.for_calibration("leg", expected, above_half_max_s=budget)
    sim, sup, core, _ = _core(lim, seed)
    t0 = sim.t_s
    start = 0.5 * expected + 10.0
    trace: list = []
    # 5 mmHg every 5 s (short steps, never reaching the ceiling within the budget)
    _drive(sim, core, lambda t: start + 5.0 * int((t - t0) / 5.0), t0 + budget + 30.0, trace)
    assert [t.reason for t in sup.trips] == [SafetyReason.TIME_LIMIT]
    above = sum(0.01 for _t, p in trace if p > 0.5 * expected)  # referee: true pressure
    assert abs(above - budget) <= 0.5, (above, budget)
    _assert_vented_in_time(sim, sup.trips[0].detected_t_s, SPEC_VENT_TO_SAFE_S)


def test_the_overall_time_box_trips():
    rng = random.Random(6)
    box = rng.uniform(40.0, 90.0)
    lim = dataclasses.replace(CalibrationLimits.for_calibration("arm", 200.0), duration_max_s=box)
    sim, sup, core, _ = _core(lim, 6)
    t0 = sim.t_s
    _drive(sim, core, lambda t: 40.0 + 10.0 * (int((t - t0) / 5.0) % 3), t0 + box + 5.0)
    assert [t.reason for t in sup.trips] == [SafetyReason.TIME_LIMIT]
    assert box < sup.trips[0].detected_t_s - t0 <= box + 0.05
    # a time box used up cannot be re-armed
    sim.advance_to(sim.t_s + 1.0)
    assert sup.acknowledge(sim.t_s, sim.read_pressure(), "tester")
    with pytest.raises(SafetyError) as exc:
        core.arm(sim.t_s)
    # a time-limit trip starts the reperfusion lock-out (req 5); behind it, the time box
    assert exc.value.reason in (SafetyReason.REPERFUSION_LOCKOUT, SafetyReason.TIME_LIMIT)
    assert sim.state is not FirmwareState.ARMED


def test_a_long_step_needs_the_deflated_pause():
    lim = CalibrationLimits.for_calibration("leg", 200.0)
    sim, sup, core, _ = _core(lim, 7)
    t0 = sim.t_s
    _drive(sim, core, lambda t: 80.0, t0 + lim.long_step_s + 1.0)
    assert not sup.trips
    # the next step without deflating
    _drive(sim, core, lambda t: 100.0, sim.t_s + 1.0)
    assert [t.reason for t in sup.trips] == [SafetyReason.REPERFUSION_LOCKOUT]
    _assert_vented_in_time(sim, sup.trips[0].detected_t_s, SPEC_VENT_TO_SAFE_S)
    # deflated (disarmed) after another long step: re-arming before 10 s is refused
    sim2, sup2, core2, _ = _core(lim, 8)
    _drive(sim2, core2, lambda t: 80.0, sim2.t_s + lim.long_step_s + 1.0)
    t_vent = sim2.t_s
    sup2.disarm(t_vent)
    core2.safe_tick(t_vent)  # vents
    _drive_idle = lim.deflate_min_s * 0.5
    sim2.advance_to(t_vent + _drive_idle)
    with pytest.raises(SafetyError) as exc:
        core2.arm(sim2.t_s)
    assert exc.value.reason is SafetyReason.REPERFUSION_LOCKOUT
    sim2.advance_to(t_vent + lim.deflate_min_s + 0.01)
    core2.arm(sim2.t_s)
    assert sup2.armed


@pytest.mark.parametrize("seed", [9, 10])
def test_the_profile_clamps_every_step_to_its_ceiling_and_slew(seed):
    """A request far above the ceiling: the supervised setpoint never exceeds it, rises at
    most 50 mmHg/s (req 6), and the true pressure stays below the ceiling + 25 mmHg."""
    rng = random.Random(seed)
    ceiling = rng.uniform(150.0, 300.0)
    lim = CalibrationLimits.for_calibration("arm", 250.0, ceiling_mmhg=ceiling)
    sim, sup, core, commands = _core(lim, seed)
    _drive(sim, core, lambda t: 1000.0, sim.t_s + 12.0)
    sps = [(t, c.setpoint_mmhg) for t, c in commands if not c.vent]
    assert max(sp for _, sp in sps) <= ceiling + 1e-9
    for (t0, a), (t1, b) in zip(sps, sps[1:], strict=False):
        assert b - a <= 50.0 * (t1 - t0) + 1e-6
    assert sim.peak_mmhg <= min(ceiling + 25.0, SPEC_CEILING_MMHG)


def test_calibration_limits_only_tighten_and_never_arm_training():
    lim = CalibrationLimits.for_calibration("leg", 180.0)
    assert lim.max_setpoint_mmhg <= SPEC_CEILING_MMHG
    looser = {
        "ceiling_mmhg": SPEC_CEILING_MMHG + 1.0,
        "step_hold_max_s": 30.5,
        "deflate_min_s": 9.5,
        "above_half_max_s": 121.0,
        "slew_up_mmhg_per_s": 51.0,
        "stale_s": 0.11,
        "overrun_s": 0.11,
        "instant_margin_mmhg": 41.0,
        "absolute_max_mmhg": 301.0,
    }
    for name, value in looser.items():
        with pytest.raises(PrescriptionError):
            dataclasses.replace(lim, **{name: value})
    with pytest.raises(PrescriptionError):
        CalibrationLimits.for_calibration("leg", 180.0, ceiling_mmhg=math.nan)
    with pytest.raises(PrescriptionError):
        CalibrationLimits.for_calibration("leg", 180.0, above_half_max_s=150.0)
    # a calibration profile is never authorized as training limits (req 2)
    with pytest.raises(TypeError):
        authorize_confirmed(lim, context="x", readings="y")
