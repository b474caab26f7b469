"""AOP calibration: plan rules, detectors on the simulator, confirmation, invalidation."""

from __future__ import annotations

import datetime as dt

import pytest

from bfr_helpers import calibrate_on_simulator
from workbench.bfr.calibration import (
    AopReading,
    CalibrationError,
    CalibrationPlan,
    ConfirmedAOP,
    CuffContext,
    DopplerDetector,
    NirsDetector,
    PpgDetector,
    RemeasureRequired,
    confirm_aop,
    plan_calibration,
    predict_aop,
)
from workbench.bfr.limits import PrescriptionError
from workbench.bfr.simulation.cuff import CuffSimulator

DAY = dt.date(2026, 11, 24)
CTX = CuffContext("ath01", "c1", "leg", "right", "seated")


def _run(sim, plan, det, **kw):
    return calibrate_on_simulator(sim, plan, det, CTX, DAY, **kw)


@pytest.mark.parametrize("true_aop", [150.0, 205.0])
def test_ppg_calibration_finds_aop_and_respects_req17(true_aop):
    sim = CuffSimulator(aop_mmhg=true_aop, seed=1)
    sim.advance_to(0.02)
    plan = plan_calibration(180)
    r = _run(sim, plan, PpgDetector())
    assert r.status == "occluded", r.reason
    assert abs(r.reading.aop_mmhg - true_aop) <= 10
    assert r.time_above_half_s <= 120
    assert r.max_pressure_mmhg <= true_aop + 15
    assert all(s.end_s - s.start_s <= 30 for s in r.steps)
    sim.advance_to(sim.t_s + 0.5)
    assert sim.pressure_mmhg < 20  # vented at the end


def test_nirs_detects_arterial_not_venous_occlusion():
    sim = CuffSimulator(aop_mmhg=200, seed=2)
    sim.advance_to(0.02)
    plan = plan_calibration(180, step_mmhg=20, hold_s=16)
    assert plan.deflate_s >= 10
    r = _run(sim, plan, NirsDetector())
    assert r.status == "occluded", r.reason
    # the venous HHb rise far below AOP (60-170 mmHg) never triggered it
    assert all(not s.occluded for s in r.steps[:-1])
    assert r.steps[-1].level_mmhg >= 190
    assert abs(r.reading.aop_mmhg - 200) <= 15
    assert r.reading.is_estimate
    assert r.time_above_half_s <= 120


def test_doppler_operator_entry():
    sim = CuffSimulator(aop_mmhg=170, seed=3)
    sim.advance_to(0.02)
    det = DopplerDetector(lambda t, p: sim.pressure_mmhg >= sim.aop_mmhg)
    r = _run(sim, plan_calibration(160), det)
    assert r.status == "occluded" and abs(r.reading.aop_mmhg - 170) <= 5


def test_no_occlusion_within_budget_aborts_and_vents():
    sim = CuffSimulator(aop_mmhg=290, seed=4)
    sim.advance_to(0.02)
    r = _run(sim, plan_calibration(120), PpgDetector())
    assert r.status == "no_occlusion" and r.reading is None
    assert r.time_above_half_s <= 120 + 0.02
    sim.advance_to(sim.t_s + 0.5)
    assert sim.pressure_mmhg < 20


def test_cuff_inflated_at_start_is_vented_and_alarmed():
    sim = CuffSimulator(aop_mmhg=200, seed=5)
    sim.arm(100)
    sim.set_target(100, pump_duty=1.0, bleed_duty=0.0)
    for k in range(1, 6):
        sim.advance_to(0.1 * k)
        sim.heartbeat()
    assert sim.read_pressure().pressure_mmhg > 20
    r = _run(sim, plan_calibration(180), PpgDetector())
    assert r.status == "aborted"
    assert any(e.kind == "alarm" and e.code == "pressure_at_start" for e in r.events)
    sim.advance_to(sim.t_s + 0.5)
    assert sim.pressure_mmhg < 20


@pytest.mark.parametrize("fault", ["sensor_dropout", "nan_reading", "sensor_offset_minus_20"])
def test_sensor_faults_abort(fault):
    sim = CuffSimulator(aop_mmhg=200, seed=6)
    sim.advance_to(0.02)
    sim.inject(fault, 8.0)
    r = _run(sim, plan_calibration(180), PpgDetector())
    assert r.status == "aborted", r.reason
    sim.advance_to(sim.t_s + 0.5)
    assert sim.pressure_mmhg < 20


def test_plan_rules():
    with pytest.raises(CalibrationError):
        CalibrationPlan((40, 70), 5, 0, 200)  # 30 mmHg step
    with pytest.raises(CalibrationError):
        CalibrationPlan((40, 50), 31, 10, 200)  # hold > 30 s
    with pytest.raises(CalibrationError):
        CalibrationPlan((40, 50), 20, 5, 200)  # long steps need >= 10 s deflated
    with pytest.raises(CalibrationError):
        CalibrationPlan((290, 310), 5, 0, 200)  # above the ceiling
    with pytest.raises(CalibrationError):
        CalibrationPlan((40, 50), 5, 0, 200, above_half_budget_s=150)
    CalibrationPlan((40, 50), 5, 0, 200)  # valid
    p = plan_calibration(200)
    # 40 mmHg start (below the lowest plausible AOP, 50); the top step one 10 mmHg step
    # below the 300 mmHg ceiling, so that noise at the top does not cross the vent line
    assert p.levels_mmhg[0] == 40 and p.levels_mmhg[-1] == 290
    assert all(b - a == 10 for a, b in zip(p.levels_mmhg, p.levels_mmhg[1:], strict=False))


def _r(v, method="ppg", ctx=CTX, day=DAY):
    return AopReading(v, method, ctx, day)


def test_confirmation_rules():
    a = confirm_aop([_r(200), _r(208)])
    assert a.aop_mmhg == 200 and a.limits().max_setpoint_mmhg == 160
    with pytest.raises(CalibrationError):
        confirm_aop([_r(200)])
    with pytest.raises(CalibrationError):
        confirm_aop([_r(200), _r(211)])
    with pytest.raises(CalibrationError):
        confirm_aop([_r(200), _r(200, ctx=CTX.reapplied())])
    with pytest.raises(CalibrationError):
        confirm_aop([_r(200), _r(200, day=DAY + dt.timedelta(days=1))])
    with pytest.raises(CalibrationError):
        confirm_aop([_r(200, "nirs"), _r(200, "nirs")])
    assert confirm_aop([_r(196, "nirs"), _r(200, "ppg")]).aop_mmhg == 196
    for bad in (float("nan"), 0, -5, 26.0, 1000, 0.8):
        with pytest.raises(PrescriptionError):
            _r(bad)
    with pytest.raises(PrescriptionError):
        ConfirmedAOP(200.0, (), CTX, DAY)


def test_prediction_cross_check():
    pred_arm = predict_aop("arm", 30, 120, 70)
    assert 120 < pred_arm < 170
    pred = 200.0
    with pytest.raises(RemeasureRequired):
        confirm_aop([_r(240), _r(245)], predicted_mmhg=pred)
    ok = confirm_aop([_r(240), _r(245), _r(242), _r(244)], predicted_mmhg=pred)
    assert ok.notes and "re-measurement" in ok.notes[0]
    assert confirm_aop([_r(210), _r(215)], predicted_mmhg=pred).notes == ()
    with pytest.raises(CalibrationError):
        predict_aop("leg", float("nan"), 120, 70)


def test_invalidation_rules():
    a = confirm_aop([_r(200), _r(200)])
    assert a.invalid_reason(CTX, DAY) is None
    assert "re-applied" in a.invalid_reason(CTX.reapplied(), DAY)
    assert "posture" in a.invalid_reason(CTX.with_posture("supine"), DAY)
    assert "day" in a.invalid_reason(CTX, DAY + dt.timedelta(days=1))
    with pytest.raises(CalibrationError):
        a.require_valid(CTX.reapplied(), DAY)


def test_prediction_refused_for_wide_cuffs():
    """Loenneke 2015 fitted its equations with a narrow 5 cm cuff: no cross-check for wider ones."""
    narrow = predict_aop("arm", 30, 120, 70, cuff_width_cm=5.0)
    assert narrow == pytest.approx(predict_aop("arm", 30, 120, 70))
    assert predict_aop("arm", 30, 120, 70, cuff_width_cm=7.0) == pytest.approx(narrow)
    # a typical thigh with a 5 cm cuff predicts a narrow-cuff AOP (~265 mmHg), far above
    # what an 11.5 cm cuff needs: refused rather than triggering a false re-measurement
    assert predict_aop("leg", 55, 120, 70, cuff_width_cm=5.0) > 250
    for limb, width in (("arm", 7.5), ("leg", 11.5), ("leg", 18.0)):
        assert predict_aop(limb, 50, 120, 70, cuff_width_cm=width) is None
    # a None prediction skips the cross-check of confirm_aop
    assert confirm_aop([_r(150), _r(155)], predicted_mmhg=None).notes == ()
    for bad in (float("nan"), 0.5, 100.0, True):
        with pytest.raises(CalibrationError):
            predict_aop("arm", 30, 120, 70, cuff_width_cm=bad)


def test_a_stricter_calibration_profile_is_enforced():
    """``limits=``: a site's stricter profile (60 s above half the expected AOP) ends the
    run earlier; a plan above the profile's ceiling or training limits are refused."""
    from workbench.bfr.calibration import run_calibration
    from workbench.bfr.limits import CalibrationLimits, CuffLimits

    sim = CuffSimulator(aop_mmhg=290, seed=8)
    sim.advance_to(0.02)
    sim.inject("monitor_loss", 0.0)  # no PPG: never occludes
    lim = CalibrationLimits.for_calibration("leg", 120.0, above_half_max_s=60.0)
    r = _run(sim, plan_calibration(120), PpgDetector(), limits=lim)
    assert r.status == "no_occlusion" and r.reading is None
    assert 59.0 <= r.time_above_half_s <= 60.0 + 0.1
    assert any(e.code == "calibration_armed" for e in r.events)
    low = CalibrationLimits.for_calibration("leg", 120.0, ceiling_mmhg=200.0)
    with pytest.raises(CalibrationError, match="ceiling"):
        _run(sim, plan_calibration(120), PpgDetector(), limits=low)
    with pytest.raises(TypeError):
        run_calibration(sim, plan_calibration(120), PpgDetector(), CTX,
                        limits=CuffLimits.for_session(200.0, "leg"))  # fmt: skip
