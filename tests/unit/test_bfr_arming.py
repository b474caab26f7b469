"""Issue 15.2: only a confirmed calibration (or a logged, supervised override) arms a cuff,
and a confirmation cannot be copied-and-edited."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import pickle
from pathlib import Path

import pytest

from workbench.bfr import authorization, authorize_override
from workbench.bfr.calibration import AopReading, CalibrationError, CuffContext, confirm_aop
from workbench.bfr.control import ControlCore
from workbench.bfr.limits import CuffLimits
from workbench.bfr.live import LiveSession
from workbench.bfr.protocol import PressureReading
from workbench.bfr.screening import ScreeningForm, all_clear
from workbench.bfr.session import BfrSession, make_prescription
from workbench.bfr.simulation.cuff import CuffSimulator
from workbench.bfr.supervisor import Supervisor
from workbench.errors import SafetyError, SafetyReason

DAY = dt.date(2026, 11, 24)
CTX = CuffContext("ath01", "c1", "leg", "right", "seated")
ZERO = PressureReading(0.0, 1, 0.0, 0.0)


def _confirmed(aop: float = 150.0):
    return confirm_aop([AopReading(aop, "doppler", CTX, DAY), AopReading(aop, "ppg", CTX, DAY)])


def test_replace_of_a_confirmed_aop_does_not_keep_the_confirmation():
    aop = _confirmed()
    with pytest.raises(CalibrationError):
        dataclasses.replace(aop, aop_mmhg=300.0)
    with pytest.raises(CalibrationError):
        dataclasses.replace(aop, context=CuffContext("ath02", "c1", "leg"))


def test_an_in_place_edit_is_detected_before_use():
    aop = _confirmed()
    object.__setattr__(aop, "aop_mmhg", 300.0)
    with pytest.raises(CalibrationError):
        aop.limits()
    with pytest.raises(CalibrationError):
        aop.setpoint_for(60)
    with pytest.raises(CalibrationError):
        make_prescription(aop, 60, exercise="leg press", load_pct_1rm=30)


def test_identical_copy_stays_valid_but_carries_no_arming():
    aop = _confirmed()
    copy.copy(aop).verify()  # same fields: the same confirmation
    lim = aop.limits()
    assert authorization(lim) is not None and authorization(lim).source == "confirmed_aop"
    for clone in (
        copy.copy(lim),
        dataclasses.replace(lim),
        dataclasses.replace(lim, aop_mmhg=300.0),
        pickle.loads(pickle.dumps(lim)),
    ):
        assert authorization(clone) is None
        with pytest.raises(SafetyError):
            Supervisor(clone).arm(0.0, ZERO)


def test_in_place_edit_of_authorized_limits_is_refused():
    lim = _confirmed().limits()
    object.__setattr__(lim, "aop_mmhg", 300.0)
    with pytest.raises(SafetyError):
        Supervisor(lim).arm(0.0, ZERO)


def test_supervisor_control_core_and_live_session_refuse_bare_limits():
    bare = CuffLimits.for_session(300.0, "leg")  # AOP 300 on a limb whose true AOP is 150
    with pytest.raises(SafetyError) as ei:
        Supervisor(bare).arm(0.0, ZERO)
    assert ei.value.reason is SafetyReason.AOP_INVALID
    sim = CuffSimulator(aop_mmhg=150.0)
    sim.advance_to(0.01)
    core = ControlCore(sim, Supervisor(bare), clock=lambda: sim.t_s)
    with pytest.raises(SafetyError):
        core.arm(sim.t_s)
    assert not core.supervisor.armed
    core.request_setpoint(240.0)
    for k in range(100):
        sim.advance_to(0.02 + 0.01 * k)
        core.safe_tick(sim.t_s)
    assert sim.pressure_mmhg < 20.0  # nothing inflated
    with pytest.raises(SafetyError):
        LiveSession(sim, bare, require_operator=False)


def test_confirmed_limits_arm_and_an_override_is_logged():
    Supervisor(_confirmed().limits()).arm(0.0, ZERO)
    with pytest.raises(ValueError):
        authorize_override(CuffLimits.for_session(150, "leg"), supervisor="", reason="a reason")
    with pytest.raises(ValueError):
        authorize_override(CuffLimits.for_session(150, "leg"), supervisor="Dr A", reason="ok")
    bare = CuffLimits.for_session(150, "leg")
    lim = authorize_override(bare, supervisor="Dr A", reason="Doppler unit broken, AOP from chart")
    assert authorization(bare) is None  # the object passed in stays unauthorized
    events = []
    Supervisor(lim, on_event=events.append).arm(0.0, ZERO)
    ov = [e for e in events if e.code == "override"]
    assert ov and "Dr A" in ov[0].message and "Doppler unit broken" in ov[0].message


def test_bfr_session_gates_hand_out_armable_limits_only_when_ready():
    s = BfrSession(CTX, clock=lambda: 0.0, today=lambda: DAY)
    s.complete_screening(ScreeningForm("ath01", DAY, all_clear(), 120, 75, "J. Tech"), "J. Tech")
    s.cuff_applied(0.0, "J. Tech")
    s.set_prediction(150.0)
    s.add_aop_reading(AopReading(150, "doppler", s.context, DAY))
    s.add_aop_reading(AopReading(150, "ppg", s.context, DAY))
    with pytest.raises(SafetyError):
        s.build_control(CuffSimulator(aop_mmhg=150.0))  # no prescription yet
    s.prescribe(60, exercise="leg press", load_pct_1rm=30, who="J. Tech")
    core = s.build_control(CuffSimulator(aop_mmhg=150.0))
    assert authorization(core.supervisor.limits).source == "confirmed_aop"


def test_notebook_arms_through_the_session_gates():
    nb = json.loads((Path(__file__).parents[2] / "notebooks" / "bfr_session.ipynb").read_text())
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert "LiveSession(" not in code  # a bare LiveSession bypasses screening and the AOP
    assert "authorize_override" not in code
    assert "simulated_live_panel(" in code  # BfrSession.live / .arm inside the package
