"""Issue 12.2: limits only tighten. No field of CuffLimits accepts a looser (or void) value,
whether through the constructor or dataclasses.replace."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.bfr.limits import (
    CEILING_MMHG,
    CONTINUOUS_HARD_MAX_S,
    FIELD_BOUNDS,
    CuffLimits,
    PrescriptionError,
)

BASE = {limb: CuffLimits.for_session(200.0, limb) for limb in ("arm", "leg")}
NUMERIC = [f.name for f in dataclasses.fields(CuffLimits) if f.name not in ("aop_mmhg", "limb")]


def _bounds(limb: str) -> dict[str, tuple[float, float]]:
    return {
        **FIELD_BOUNDS,
        "ceiling_mmhg": (1.0, CEILING_MMHG[limb]),
        "continuous_hard_max_s": (1.0, CONTINUOUS_HARD_MAX_S[limb]),
    }


def test_every_field_has_a_spec_bound_and_the_defaults_are_inside():
    assert set(NUMERIC) == set(_bounds("leg")), set(NUMERIC) ^ set(_bounds("leg"))
    for limb, lim in BASE.items():
        for name, (lo, hi) in _bounds(limb).items():
            assert lo <= getattr(lim, name) <= hi, (limb, name)


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(["arm", "leg"]),
    st.sampled_from(NUMERIC),
    st.floats(min_value=1e-6, max_value=1e6),
    st.booleans(),
)
def test_no_loosening_through_replace_is_accepted(limb, name, delta, above):
    """Any value outside the field's spec range (beyond the looser or the void end) raises."""
    lo, hi = _bounds(limb)[name]
    value = hi + delta if above else lo - delta
    if name == "absolute_count":
        value = int(math.ceil(value)) if above else int(math.floor(value))
        if lo <= value <= hi:
            return
    with pytest.raises(PrescriptionError):
        dataclasses.replace(BASE[limb], **{name: value})


@pytest.mark.parametrize("name", NUMERIC)
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, True, "10", None])
def test_non_numbers_are_refused(name, bad):
    with pytest.raises(PrescriptionError):
        dataclasses.replace(BASE["leg"], **{name: bad})


@pytest.mark.parametrize(
    ("name", "looser"),
    [
        ("stale_s", 5.0),
        ("overrun_s", 1.0),
        ("instant_margin_mmhg", 100.0),
        ("absolute_max_mmhg", 400.0),
        ("cumulative_max_s", 3600.0),
        ("reperfusion_s", 10.0),
        ("firmware_watchdog_s", 2.0),
        ("operator_heartbeat_s", 30.0),
        ("min_plausible_mmhg", -100.0),
        ("emg_collapse_fraction", 0.01),
        ("hr_stale_s", 5.0),
        ("mean_bleed_above_max_mmhg", 15.0),
        ("mean_trip_above_max_mmhg", 3.0),
    ],
)
def test_the_loosenings_named_in_the_issue_are_refused(name, looser):
    with pytest.raises(PrescriptionError):
        dataclasses.replace(BASE["leg"], **{name: looser})
    with pytest.raises(PrescriptionError):
        CuffLimits(200.0, "leg", **{name: looser})


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(NUMERIC), st.floats(min_value=0.0, max_value=1.0))
def test_tightening_inside_the_range_is_accepted(name, frac):
    lo, hi = _bounds("leg")[name]
    base = BASE["leg"]
    default = getattr(base, name)
    # move from the default toward the strict end of the range
    strict = lo if default == hi else hi
    value = min(max(default + frac * (strict - default), lo), hi)  # no rounding past the end
    if name == "absolute_count":
        value = int(round(value))
    if name == "continuous_max_s":
        value = min(value, base.continuous_hard_max_s)
    if name == "continuous_hard_max_s":
        value = max(value, base.continuous_max_s)
    tightened = dataclasses.replace(base, **{name: value})  # raises if refused
    assert getattr(tightened, name) == value
