"""Limits and prescription validation (BFR-SAFETY req 1, 2; AOP = 0/NaN/1000/kPa)."""

from __future__ import annotations

import math

import pytest

from workbench.bfr import CuffLimits, PrescriptionError, SiteLimits, validate_prescription
from workbench.errors import SafetyError, SafetyReason


def test_for_session_exposes_max_setpoint():
    assert CuffLimits.for_session(200, "leg").max_setpoint_mmhg == pytest.approx(160.0)
    # arm ceiling 200 mmHg wins over 0.8 x 280 = 224
    assert CuffLimits.for_session(280, "arm").max_setpoint_mmhg == pytest.approx(200.0)
    assert CuffLimits.for_session(300, "leg").max_setpoint_mmhg == pytest.approx(240.0)


def test_limits_are_frozen():
    lim = CuffLimits.for_session(200, "leg")
    with pytest.raises(AttributeError):
        lim.aop_mmhg = 300  # type: ignore[misc]


def test_validate_prescription_returns_setpoint():
    assert validate_prescription(200, 80, "leg") == pytest.approx(160.0)
    assert validate_prescription(150, 40, "arm") == pytest.approx(60.0)


@pytest.mark.parametrize(
    ("aop", "pct", "limb", "match"),
    [
        (200, 0.8, "leg", "fraction"),
        (200, 85, "leg", "outside"),
        (200, 39, "leg", "outside"),
        (200, math.nan, "leg", "nan"),
        (200, -50, "leg", "outside"),
        (0, 60, "leg", "not a pressure"),
        (math.nan, 60, "leg", "nan"),
        (1000, 60, "leg", "ceiling"),
        (26.7, 60, "leg", "kPa"),
        (-150, 60, "leg", "not a pressure"),
        (280, 80, "arm", "exceeds"),
        (200, 60, "foot", "limb"),
        ("200", 60, "leg", "number"),
        (True, 60, "leg", "number"),
    ],
)
def test_validate_prescription_rejects(aop, pct, limb, match):
    with pytest.raises(ValueError, match=f"(?i){match}") as info:
        validate_prescription(aop, pct, limb)
    assert isinstance(info.value, SafetyError)
    assert isinstance(info.value, PrescriptionError)


def test_aop_error_reason_is_machine_readable():
    with pytest.raises(PrescriptionError) as info:
        CuffLimits.for_session(math.inf, "leg")
    assert info.value.reason is SafetyReason.AOP_INVALID


def test_site_limits_only_tighten():
    strict = CuffLimits.for_session(
        200, "leg", SiteLimits(max_fraction_aop=0.7, continuous_max_s=300)
    )
    assert strict.max_setpoint_mmhg == pytest.approx(140.0)
    assert strict.continuous_max_s == 300
    with pytest.raises(ValueError, match="loosen"):
        SiteLimits(max_fraction_aop=0.9)
    with pytest.raises(ValueError, match="loosen"):
        SiteLimits(leg_ceiling_mmhg=260)
    with pytest.raises(ValueError):
        SiteLimits(continuous_max_s=math.nan)


def test_setpoint_validation_rejects_outside_session_range():
    lim = CuffLimits.for_session(200, "leg")
    assert lim.validate_setpoint(120) == 120
    for bad in (161, 79, -1, math.nan, None):
        with pytest.raises(ValueError):
            lim.validate_setpoint(bad)


def test_derived_trip_levels():
    lim = CuffLimits.for_session(200, "leg")
    assert lim.sustained_trip_mmhg == pytest.approx(175.0)
    assert lim.instant_trip_mmhg == pytest.approx(200.0)  # min(AOP, 160 + 40)
    arm = CuffLimits.for_session(150, "arm")
    assert arm.instant_trip_mmhg == pytest.approx(150.0)
    assert arm.continuous_hard_max_s == 900
