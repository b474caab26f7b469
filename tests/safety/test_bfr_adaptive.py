"""Adaptive modulation (req 16): no input can make the commanded setpoint break reqs 1-6."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.bfr.adaptive import AdaptiveInputs, AdaptiveModulator, band_mmhg, gate_step
from workbench.bfr.authority import authorize_override
from workbench.bfr.limits import CuffLimits
from workbench.bfr.protocol import CuffCommand, PressureReading
from workbench.bfr.simulation.control_run import simulate_session
from workbench.bfr.supervisor import Supervisor

anyf = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.floats(min_value=-1e3, max_value=1e3)
)
inputs = st.builds(AdaptiveInputs, anyf, anyf, anyf)
limits_st = st.tuples(st.floats(min_value=50, max_value=300), st.sampled_from(["arm", "leg"]))
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(
    limits_st,
    anyf,
    st.floats(min_value=0.1, max_value=30),
    st.lists(st.tuples(st.floats(min_value=-1, max_value=3), inputs), min_size=1, max_size=80),
)
def test_modulator_output_stays_in_band_steps_and_rate(lim_args, start, interval, seq):
    lim = CuffLimits.for_session(*lim_args)
    lo, hi = band_mmhg(lim)
    mod = AdaptiveModulator(lim, start, interval_s=interval)
    t, prev, last_change_t = 0.0, mod.setpoint_mmhg, None
    for dt, x in seq:
        t += dt
        d = mod.update(t, x)
        sp = d.setpoint_mmhg
        assert lo - 1e-9 <= sp <= hi + 1e-9 <= lim.max_setpoint_mmhg + 1e-9
        change = sp - prev
        if change != 0:
            assert 5 - 1e-9 <= abs(change) <= 10 + 1e-9
            if last_change_t is not None:
                assert t - last_change_t >= 0.1 - 1e-12
            last_change_t = t
        prev = sp


@SETTINGS
@given(limits_st, anyf, anyf, anyf)
def test_gate_rejects_anything_outside_the_rules(lim_args, prev, proposed, dt):
    lim = CuffLimits.for_session(*lim_args)
    lo, hi = band_mmhg(lim)
    out = gate_step(lim, prev, proposed, dt)
    assert lo - 1e-9 <= out <= hi + 1e-9
    kept = min(max(prev, lo), hi) if math.isfinite(prev) else lo
    if out == kept:
        return  # no change (also when the proposal equals the kept setpoint)
    assert out == proposed  # the only other outcome: the proposal, accepted by the rules
    assert math.isfinite(dt) and dt >= 0.1
    assert 5 - 1e-9 <= abs(out - kept) <= 10 + 1e-9


@SETTINGS
@given(
    limits_st,
    st.lists(
        st.tuples(st.floats(min_value=0.0, max_value=0.12), anyf, st.floats(-20, 400)),
        min_size=1,
        max_size=100,
    ),
)
def test_hostile_adaptive_requests_are_clamped_by_the_supervisor(lim_args, seq):
    """Even a broken adaptive layer that requests anything cannot break reqs 1 and 6."""
    lim = authorize_override(
        CuffLimits.for_session(*lim_args),
        supervisor="property test",
        reason="hypothesis: hostile adaptive requests, no cuff and no person",
    )
    sup = Supervisor(lim)
    now, n = 0.0, 1
    sup.arm(now, PressureReading(0.0, n, 0.0, 0.0))
    prev_sp, prev_t = 0.0, now
    for dt, req, p in seq:
        now += dt
        n += 1
        sup.check(now, PressureReading(p, n, now, now))
        cmd = sup.supervise(now, CuffCommand(req, 0.5, 0.0), req)
        assert 0.0 <= cmd.setpoint_mmhg <= lim.max_setpoint_mmhg
        elapsed = max(0.0, min(now - prev_t, lim.overrun_s))
        assert cmd.setpoint_mmhg - prev_sp <= lim.slew_up_mmhg_per_s * elapsed + 1e-9
        prev_sp, prev_t = cmd.setpoint_mmhg, now


def test_adaptive_in_a_simulated_session_has_no_violations():
    lim = CuffLimits.for_session(200, "leg")
    mod = AdaptiveModulator(lim, 120.0, interval_s=2.0)

    def schedule(t: float, sp: float) -> float:
        # alternate desaturation / little restriction to make it move both ways
        x = AdaptiveInputs(smo2_pct=15.0 if int(t / 20) % 2 else 70.0, velocity_loss=0.05)
        return mod.update(t, x).setpoint_mmhg

    r = simulate_session(
        aop_mmhg=200, percent_aop=60, scheme=(15, 15), setpoint_schedule=schedule, seed=2
    )
    assert r.limit_violations == 0, r.violations[:3]
    assert r.vented_ok
    assert len(mod.decisions) >= 4
    assert {d.change_mmhg > 0 for d in mod.decisions} == {True, False}
