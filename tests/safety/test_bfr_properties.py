"""Property tests: no input sequence makes the setpoint or pump command break reqs 1-6.

The supervisor is fed adversarial proposals (as if the regulator or adaptive layer were
wrong or hostile), random readings (NaN, negatives, spikes, repeats) and irregular clocks.
"""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.bfr import regulator as reg
from workbench.bfr.authority import authorize_override
from workbench.bfr.limits import CuffLimits
from workbench.bfr.protocol import CuffCommand, PressureReading
from workbench.bfr.supervisor import Supervisor

floats_any = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.floats(min_value=-50, max_value=400),
)
step = st.tuples(
    st.one_of(st.floats(min_value=0.0, max_value=0.15), st.floats(min_value=-1, max_value=2)),
    st.one_of(st.floats(min_value=-20, max_value=400), floats_any),  # pressure
    st.booleans(),  # new sample?
    floats_any,  # proposed SP
    floats_any,  # proposed pump duty
    floats_any,  # proposed bleed duty
    st.booleans(),  # proposed vent
)
limits_st = st.tuples(st.floats(min_value=50, max_value=300), st.sampled_from(["arm", "leg"]))

TEST_REASON = "hypothesis: adversarial inputs on no cuff and no person"
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(limits_st, st.lists(step, min_size=1, max_size=120))
def test_supervised_command_never_breaks_limits(lim_args, steps):
    lim = authorize_override(
        CuffLimits.for_session(*lim_args), supervisor="property test", reason=TEST_REASON
    )
    sup = Supervisor(lim)
    now, seq = 0.0, 1
    sup.arm(now, PressureReading(0.0, seq, 0.0, 0.0))
    prev_sp, prev_t = 0.0, now
    inflated_since = None
    for dt, p, fresh, sp, pump, bleed, vent in steps:
        now += dt
        if fresh:
            seq += 1
        reading = PressureReading(p, seq, now, now)
        sup.check(now, reading)
        cmd = sup.supervise(now, CuffCommand(sp, pump, bleed, vent), sp)
        # req 1: 0 <= SP <= min(0.8 AOP, ceiling)
        assert 0.0 <= cmd.setpoint_mmhg <= lim.max_setpoint_mmhg
        assert 0.0 <= cmd.pump_duty <= 1.0 and 0.0 <= cmd.bleed_duty <= 1.0
        # req 6: upward slew <= 50 mmHg/s on the supervisor's own (bounded) clock
        elapsed = max(0.0, min(now - prev_t, lim.overrun_s))
        assert cmd.setpoint_mmhg - prev_sp <= lim.slew_up_mmhg_per_s * elapsed + 1e-9
        # latched trips (reqs 3-5, 9, 10) always vent, and venting never pumps
        if sup.latched or cmd.vent:
            assert cmd.vent and cmd.pump_duty == 0.0 and cmd.setpoint_mmhg == 0.0
        # reqs 3/4: never pump while the mean is above SP or P above the instant limit
        pbar = sup.p_mean_mmhg
        if cmd.pump_duty > 0:
            assert math.isfinite(pbar) and pbar < cmd.setpoint_mmhg + lim.pump_cutoff_above_sp_mmhg
            assert sup._last_pressure_mmhg < lim.instant_trip_mmhg
        # issue 15: a mean above the maximum SP (+ margin) only ever bleeds, fully
        if math.isfinite(pbar) and pbar > lim.max_setpoint_mmhg + lim.mean_bleed_above_max_mmhg:
            assert cmd.pump_duty == 0.0 and cmd.bleed_duty == 1.0
        # req 5: continuous inflation never exceeds the limit without a vent
        if math.isfinite(p) and p > lim.inflated_mmhg and fresh:
            inflated_since = now if inflated_since is None else inflated_since
        if inflated_since is not None and now - inflated_since > lim.continuous_max_s + 0.15:
            assert cmd.vent
        if not cmd.vent:
            prev_sp = cmd.setpoint_mmhg
        else:
            prev_sp = 0.0
        prev_t = now


@SETTINGS
@given(
    st.lists(
        st.tuples(st.floats(min_value=0, max_value=0.2), floats_any, floats_any),
        min_size=1,
        max_size=200,
    )
)
def test_regulator_outputs_are_bounded_and_slew_limited(steps):
    state = reg.RegulatorState()
    now = 0.0
    prev_ramp = 0.0
    for dt, target, p in steps:
        now += dt
        state = reg.with_target(state, target)
        state, cmd = reg.step(state, PressureReading(p, 0, now, now), now)
        assert 0.0 <= cmd.pump_duty <= 1.0 and 0.0 <= cmd.bleed_duty <= 1.0
        assert math.isfinite(cmd.setpoint_mmhg) and cmd.setpoint_mmhg >= 0.0
        assert cmd.setpoint_mmhg - prev_ramp <= 50.0 * min(dt, 0.1) + 1e-9
        prev_ramp = cmd.setpoint_mmhg


@SETTINGS
@given(st.one_of(st.floats(min_value=-1e6, max_value=1e6), st.just(math.nan)), floats_any)
def test_prescription_validation_never_yields_an_unsafe_setpoint(aop, pct):
    from workbench.bfr import validate_prescription

    try:
        sp = validate_prescription(aop, pct, "leg")
    except ValueError:
        return
    assert 0.40 * aop - 1e-9 <= sp <= min(0.80 * aop, 240.0) + 1e-9
    assert 40 <= pct <= 80
