"""Manual mode: gates, pressure log, prompts and time limits for an uncontrolled cuff."""

from __future__ import annotations

import datetime as dt

import pytest

from workbench.bfr.calibration import AopReading, CuffContext
from workbench.bfr.ledger import TimeLedger
from workbench.bfr.manual import ManualSession
from workbench.bfr.screening import ScreeningForm, all_clear
from workbench.bfr.session import BfrSession
from workbench.errors import SafetyError, SafetyReason

DAY = dt.date(2026, 11, 24)


class Clock:
    t = 0.0

    def __call__(self) -> float:
        return self.t


def _ready(clock, ledger):
    s = BfrSession(
        CuffContext("ath01", "delfi-1", "leg"), clock=clock, today=lambda: DAY, ledger=ledger
    )
    s.complete_screening(ScreeningForm("ath01", DAY, all_clear(), 118, 72, "J. Tech"), "J. Tech")
    s.cuff_applied(0.0, "J. Tech")
    s.set_prediction(200.0)
    s.add_aop_reading(AopReading(200, "doppler", s.context, DAY))
    s.add_aop_reading(AopReading(200, "doppler", s.context, DAY))
    s.prescribe(60, exercise="leg press", load_pct_1rm=30, who="J. Tech")
    return s


def test_manual_needs_a_ready_session():
    s = BfrSession(CuffContext("ath01", "delfi-1", "leg"), clock=Clock(), today=lambda: DAY)
    with pytest.raises(SafetyError):
        ManualSession(s)


def test_pressure_log_and_prompts():
    clock = Clock()
    m = ManualSession(_ready(clock, TimeLedger(None)))
    p = m.inflated("J. Tech")
    assert "120 mmHg" in p.text
    assert m.log_pressure(121.0, "J. Tech") is None
    assert m.log_pressure(100.0, "J. Tech").priority == "medium"
    assert m.log_pressure(180.0, "J. Tech").priority == "high"
    assert m.log_pressure(float("nan"), "J. Tech").priority == "high"
    ev = [e for e in m.session.events if e.code == "manual_pressure"]
    assert [e.value for e in ev][:3] == [121.0, 100.0, 180.0]


def test_time_limits_prompt_and_lock_out(tmp_path):
    clock = Clock()
    ledger = TimeLedger(tmp_path / "l.json", wall_clock=lambda: 1e9 + clock.t)
    m = ManualSession(_ready(clock, ledger))
    m.inflated("J. Tech")
    prompts = []
    for _ in range(620):
        clock.t += 1.0
        prompts += m.tick()
    codes = {p.code for p in prompts}
    assert "time_limit_restriction" in codes and "time_limit_continuous" in codes
    assert all(p.priority == "high" for p in prompts)
    m.deflated("J. Tech")
    assert ledger.cumulative_s(m.session.ledger_key) == pytest.approx(620, abs=1)
    with pytest.raises(SafetyError) as ei:
        m.inflated("J. Tech")
    assert ei.value.reason is SafetyReason.REPERFUSION_LOCKOUT
    ledger.save()
    assert TimeLedger(tmp_path / "l.json").cumulative_s(m.session.ledger_key) > 600
