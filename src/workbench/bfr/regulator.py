"""The pressure regulator: a pure ``step(state, reading, now) -> (state, command)``.

Computed as an air flow (mL/s of atmospheric air) turned into pump or bleed duty: an
air-mass hold (PI on the 1-s mean P̄ that req 14 judges) plus a symmetric swing damper on
the instantaneous error, and feed-forward for the 50 mmHg/s ramp. The internal setpoint
ramps up at most ``slew_up_mmhg_per_s`` and drops at once (req 6); a ceiling guard keeps
P̄ at or below the supervised maximum SP (asymmetric band at 80 % AOP). Actuator constants
come from :mod:`workbench.bfr.identification`. Not trusted: the supervisor clamps it.
Why this shape (and why it is not "venting on every peak"): ``docs/decisions/0004-bfr-control.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from workbench.bfr.protocol import CuffCommand, PressureReading

_P_ATM_MMHG = 760.0


@dataclass(frozen=True)
class RegulatorParams:
    """Gains, filter and the nominal actuator/cuff model.

    Gains are air flows: ``damping_gain_ml_s_per_mmhg`` (swing damping, on the
    instantaneous error beyond ``deadband_mmhg``) and ``integral_gain_ml_s_per_mmhg_s``
    (integral of the 1-s-mean error, mL/s per mmHg·s). The nominal pump
    (``pump_max_flow_ml_s``, ``pump_stall_mmhg``), bleed valve
    (``bleed_coeff_ml_s_per_mmhg``: flow = coeff x sqrt(P (P + P_atm))) and cuff
    (``v0_ml``, ``compliance_ml_per_mmhg``) convert flow to duty; the defaults are the lab
    cuff (:class:`workbench.bfr.simulation.cuff.CuffParams` defaults), a connected cuff's are
    identified (:func:`workbench.bfr.identification.identify_cuff`); residual errors are taken
    up by the integral.

    ``ceiling_mmhg`` (the supervisor's maximum SP, set by ``ControlCore``) is a line P̄ must
    not cross: near it the reference is lowered by a margin (at least
    ``ceiling_margin_min_frac`` of the ceiling at rest and ``ceiling_margin_set_frac`` in a
    set, where the first contraction lifts P̄ before any feedback can act; at most
    ``ceiling_margin_max_frac``; it grows at ``ceiling_margin_rate_per_s`` x P̄'s excess over
    the ceiling and decays with ``ceiling_margin_tau_s``); below the ceiling the band stays
    symmetric.
    """

    damping_gain_ml_s_per_mmhg: float = 48.0
    integral_gain_ml_s_per_mmhg_s: float = 6.0
    deadband_mmhg: float = 1.0
    window_s: float = 1.0
    sample_period_s: float = 0.01
    slew_up_mmhg_per_s: float = 50.0
    pump_max_flow_ml_s: float = 350.0
    pump_stall_mmhg: float = 420.0
    bleed_coeff_ml_s_per_mmhg: float = 0.35
    v0_ml: float = 150.0
    compliance_ml_per_mmhg: float = 1.2
    ff_gain: float = 1.0
    integral_max_ml_s: float = 60.0
    swing_legit_mmhg: float = 18.0
    swing_clear_mmhg: float = 12.0
    swing_tau_s: float = 2.0
    fallback_gain: float = 0.0
    ceiling_mmhg: float = math.inf
    ceiling_margin_min_frac: float = 0.015
    ceiling_margin_set_frac: float = 0.04
    ceiling_margin_max_frac: float = 0.06
    ceiling_margin_tau_s: float = 12.0
    ceiling_margin_rate_per_s: float = 5.0

    @property
    def window_n(self) -> int:
        return max(1, round(self.window_s / self.sample_period_s))

    def pump_flow_ml_s(self, p_mmhg: float) -> float:
        """Nominal full-duty pump flow at gauge pressure ``p_mmhg`` (never below 5 %)."""
        return self.pump_max_flow_ml_s * max(0.05, 1.0 - p_mmhg / self.pump_stall_mmhg)

    def bleed_flow_ml_s(self, p_mmhg: float) -> float:
        """Nominal fully open bleed-valve flow at ``p_mmhg`` (evaluated at >= 5 mmHg)."""
        p = max(p_mmhg, 5.0)
        return self.bleed_coeff_ml_s_per_mmhg * math.sqrt(p * (p + _P_ATM_MMHG))

    def air_per_mmhg_ml(self, p_mmhg: float) -> float:
        """Atmospheric air (mL) that raises the nominal cuff by 1 mmHg at ``p_mmhg``."""
        p = max(p_mmhg, 0.0)
        v = self.v0_ml + self.compliance_ml_per_mmhg * p
        return (v + (p + _P_ATM_MMHG) * self.compliance_ml_per_mmhg) / _P_ATM_MMHG


@dataclass(frozen=True)
class RegulatorState:
    """Regulator state (immutable). ``target_mmhg`` is the requested (supervised) setpoint."""

    target_mmhg: float = 0.0
    ramp_mmhg: float = 0.0
    t_s: float = math.nan
    integral: float = 0.0  # mL/s
    window: tuple[tuple[float, float], ...] = ()  # (pressure, ramp) samples
    sum_p: float = 0.0
    sum_r: float = 0.0
    swing_above_mmhg: float = 0.0  # decaying envelope of P - reference above it
    swing_below_mmhg: float = 0.0  # ... and below it
    fallback: bool = False  # swing beyond the legitimate range: damping reduced
    ceiling_margin_mmhg: float = 0.0  # reference lowered below the ceiling by this much
    exercising: bool = False  # in a set (contractions expected): the larger margin floor
    params: RegulatorParams = RegulatorParams()

    @property
    def filtered_mmhg(self) -> float:
        """Moving-average pressure P̄ the integral acts on (NaN before the first sample)."""
        return self.sum_p / len(self.window) if self.window else math.nan


def with_target(
    state: RegulatorState, target_mmhg: float, *, exercising: bool | None = None
) -> RegulatorState:
    """Request a new setpoint; non-finite or negative values request 0 (vent-like).
    ``exercising`` (None: unchanged) says whether a set is under way."""
    t = float(target_mmhg)
    if not math.isfinite(t) or t < 0:
        t = 0.0
    ex = state.exercising if exercising is None else bool(exercising)
    if t == state.target_mmhg and ex == state.exercising:
        return state
    return replace(state, target_mmhg=t, exercising=ex)


def reset(state: RegulatorState) -> RegulatorState:
    """Forget the integral, ramp and filter (after a vent)."""
    return RegulatorState(params=state.params)


def _deadband(e: float, band: float) -> float:
    if e > band:
        return e - band
    if e < -band:
        return e + band
    return 0.0


def step(
    state: RegulatorState, reading: PressureReading | None, now: float
) -> tuple[RegulatorState, CuffCommand]:
    """One control tick at time ``now`` (s).

    Returns the new state and the actuator command. With no usable reading (None, NaN)
    it commands pump off and bleed closed; the supervisor vents on such data anyway.
    """
    prm = state.params
    dt = now - state.t_s if math.isfinite(state.t_s) else 0.0
    if not math.isfinite(dt) or dt <= 0:
        dt = 0.0
    dt = min(dt, 0.1)
    # slew-limited ramp
    ramp = state.ramp_mmhg
    up = prm.slew_up_mmhg_per_s * dt
    ramping = state.target_mmhg > ramp + 1e-9
    ramp = min(state.target_mmhg, ramp + up) if ramping else state.target_mmhg
    if reading is None or not math.isfinite(reading.pressure_mmhg):
        new = replace(state, ramp_mmhg=ramp, t_s=now)
        return new, CuffCommand(ramp, 0.0, 0.0)
    if ramp <= 0.0:
        new = replace(reset(state), target_mmhg=state.target_mmhg, t_s=now)
        return new, CuffCommand(0.0, 0.0, 1.0)
    # the supervisor trips on implausible values; clamp so the arithmetic stays finite
    p = min(max(reading.pressure_mmhg, -50.0), 500.0)
    window = state.window + ((p, ramp),)
    sum_p, sum_r = state.sum_p + p, state.sum_r + ramp
    if len(window) > prm.window_n:
        old_p, old_r = window[0]
        window = window[1:]
        sum_p -= old_p
        sum_r -= old_r
    n = len(window)
    pbar = sum_p / n
    # ceiling guard (asymmetric band at the top): the margin integrates P̄'s excess over the
    # ceiling and decays otherwise, so the peaks of P̄ (the residual of the contraction
    # swing in the 1-s mean) settle at the ceiling rather than the centre of the swing
    margin = 0.0
    ref = ramp
    if math.isfinite(prm.ceiling_mmhg):
        m_min = prm.ceiling_margin_min_frac * prm.ceiling_mmhg
        m_set = prm.ceiling_margin_set_frac * prm.ceiling_mmhg if state.exercising else m_min
        m_max = max(m_set, prm.ceiling_margin_max_frac * prm.ceiling_mmhg)
        margin = max(state.ceiling_margin_mmhg * math.exp(-dt / prm.ceiling_margin_tau_s), m_min)
        if pbar > prm.ceiling_mmhg:
            excess = pbar - prm.ceiling_mmhg
            margin = min(m_max, margin + prm.ceiling_margin_rate_per_s * excess * dt)
        # no swing (rest, the pulse only): no residual to make room for; the margin falls
        # back with the swing envelope (tau 2 s) so rest stays in its +-5 % band (req 14)
        swing_now = max(state.swing_above_mmhg, state.swing_below_mmhg)
        margin = max(min(margin, m_min + 0.6 * swing_now), m_set)
        ref = min(ramp, prm.ceiling_mmhg - margin)
    err_mean = min(sum_r / n, ref) - pbar
    # two-sided swing envelopes (a step or a ramp is one-sided). A swing beyond the
    # legitimate contraction swing on both sides means something is wrong (req 3: +-15-25
    # mmHg is normal; the damper leaves +-10): the regulator then only holds the air mass
    # (no damping, integral frozen) and leaves the judgement to the supervisor
    e = ref - p
    decay = math.exp(-dt / prm.swing_tau_s)
    above = max(-e, state.swing_above_mmhg * decay)
    below = max(e, state.swing_below_mmhg * decay)
    swing = min(above, below)
    if swing > prm.swing_legit_mmhg:
        fallback = True
    elif swing < prm.swing_clear_mmhg:
        fallback = False
    else:
        fallback = state.fallback
    gain = prm.fallback_gain if fallback else 1.0
    pa = min(max(p, 0.0), prm.pump_stall_mmhg)
    ramping = ramping and ramp < ref + 1e-9
    ff = prm.ff_gain * prm.air_per_mmhg_ml(pa) * prm.slew_up_mmhg_per_s if ramping else 0.0
    q_p = gain * prm.damping_gain_ml_s_per_mmhg * _deadband(e, prm.deadband_mmhg) + ff
    q_pump, q_bleed = prm.pump_flow_ml_s(pa), prm.bleed_flow_ml_s(pa)
    integral = state.integral
    q = q_p + integral
    # anti-windup: integrate only while the actuator that would act is not saturated
    if not ((err_mean > 0 and q >= q_pump) or (err_mean < 0 and q <= -q_bleed)):
        integral += gain * prm.integral_gain_ml_s_per_mmhg_s * err_mean * dt
    lim = prm.integral_max_ml_s
    integral = max(-lim, min(lim, integral))
    # the air-mass hold (integral: leak, swelling) runs on its own actuator all the time and
    # the damper adds pump in valleys and bleed at peaks: a leak keeps the pump running
    # continuously, which the supervisor's leak alarm (req 15) watches for
    pump = min(1.0, (max(integral, 0.0) + max(q_p, 0.0)) / q_pump)
    bleed = min(1.0, (max(-integral, 0.0) + max(-q_p, 0.0)) / q_bleed)
    new = RegulatorState(
        target_mmhg=state.target_mmhg,
        ramp_mmhg=ramp,
        t_s=now,
        integral=integral,
        window=window,
        sum_p=sum_p,
        sum_r=sum_r,
        swing_above_mmhg=above,
        swing_below_mmhg=below,
        fallback=fallback,
        ceiling_margin_mmhg=margin,
        exercising=state.exercising,
        params=prm,
    )
    return new, CuffCommand(ramp, pump, bleed)
