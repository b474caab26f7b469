"""The pressure regulator: a pure ``step(state, reading, now) -> (state, command)``.

PI control with anti-windup on *filtered* pressure (req 14): a moving average over one
contraction period (2 s) removes the ±15-25 mmHg swings of dynamic exercise, so the
regulator neither vents on every peak nor pumps on every valley. The reference goes
through the same moving average, so a ramp is tracked without bias. The internal
setpoint ramps up at most ``slew_up_mmhg_per_s`` and drops at once (req 6).

The regulator is not trusted: :class:`workbench.bfr.supervisor.Supervisor` clamps its
setpoint and may override its command; limits are enforced after it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from workbench.bfr.protocol import CuffCommand, PressureReading


@dataclass(frozen=True)
class RegulatorParams:
    """Gains and filter; duty per mmHg (``kp``), duty per mmHg·s (``ki``)."""

    kp: float = 0.008
    ki: float = 0.002
    window_s: float = 2.0
    sample_period_s: float = 0.01
    slew_up_mmhg_per_s: float = 50.0
    bleed_gain: float = 1.6
    ff_duty_per_mmhg_s: float = 0.007

    @property
    def window_n(self) -> int:
        return max(1, round(self.window_s / self.sample_period_s))


@dataclass(frozen=True)
class RegulatorState:
    """Regulator state (immutable). ``target_mmhg`` is the requested (supervised) setpoint."""

    target_mmhg: float = 0.0
    ramp_mmhg: float = 0.0
    t_s: float = math.nan
    integral: float = 0.0
    window: tuple[tuple[float, float], ...] = ()  # (pressure, ramp) samples
    sum_p: float = 0.0
    sum_r: float = 0.0
    params: RegulatorParams = RegulatorParams()

    @property
    def filtered_mmhg(self) -> float:
        """Moving-average pressure the regulator acts on (NaN before the first sample)."""
        return self.sum_p / len(self.window) if self.window else math.nan


def with_target(state: RegulatorState, target_mmhg: float) -> RegulatorState:
    """Request a new setpoint; non-finite or negative values request 0 (vent-like)."""
    t = float(target_mmhg)
    if not math.isfinite(t) or t < 0:
        t = 0.0
    return replace(state, target_mmhg=t)


def reset(state: RegulatorState) -> RegulatorState:
    """Forget the integral, ramp and filter (after a vent)."""
    return RegulatorState(params=state.params)


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
    p = reading.pressure_mmhg
    window = state.window + ((p, ramp),)
    sum_p, sum_r = state.sum_p + p, state.sum_r + ramp
    if len(window) > prm.window_n:
        old_p, old_r = window[0]
        window = window[1:]
        sum_p -= old_p
        sum_r -= old_r
    n = len(window)
    err = sum_r / n - sum_p / n
    ff = prm.ff_duty_per_mmhg_s * prm.slew_up_mmhg_per_s if ramping else 0.0
    u_p = prm.kp * err + ff
    integral = state.integral + prm.ki * err * dt
    u = u_p + integral
    # anti-windup: clamp the integral so that the total stays inside [-1, 1]
    if u > 1.0:
        integral = max(min(integral, 1.0 - u_p), -1.0) if err > 0 else integral
    elif u < -1.0:
        integral = min(max(integral, -1.0 - u_p), 1.0) if err < 0 else integral
    integral = max(-1.0, min(1.0, integral))
    u = max(-1.0, min(1.0, u_p + integral))
    pump = max(0.0, u)
    bleed = max(0.0, min(1.0, -u * prm.bleed_gain))
    new = RegulatorState(
        target_mmhg=state.target_mmhg,
        ramp_mmhg=ramp,
        t_s=now,
        integral=integral,
        window=window,
        sum_p=sum_p,
        sum_r=sum_r,
        params=prm,
    )
    return new, CuffCommand(ramp, pump, bleed)
