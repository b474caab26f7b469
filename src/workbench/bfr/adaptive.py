"""Adaptive setpoint modulation (BFR-SAFETY req 16), behind the supervisor.

:class:`AdaptiveModulator` turns NIRS (SmO2), EMG and rep-velocity features into setpoint
changes of 5-10 mmHg, at most every 0.1 s, inside [40 %, 80 %] of the AOP and under the
session's ``max_setpoint_mmhg``. It is *not trusted*: its output is a request that
:class:`~workbench.bfr.supervisor.Supervisor` clamps again (ceiling, slew, trips), and
:func:`gate_step` re-checks each change on its own. Why: ``docs/decisions/0004-bfr-control.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from workbench.bfr.limits import PERCENT_AOP_MAX, PERCENT_AOP_MIN, CuffLimits

STEP_MIN_MMHG, STEP_MAX_MMHG = 5.0, 10.0
MIN_INTERVAL_S = 0.1


@dataclass(frozen=True)
class AdaptiveInputs:
    """Features of the last window: SmO2 (%), EMG RMS relative to the set's first reps
    (ratio, 1.0 = unchanged) and rep mean-velocity loss (fraction 0-1 of the first rep)."""

    smo2_pct: float = math.nan
    emg_ratio: float = math.nan
    velocity_loss: float = math.nan


@dataclass(frozen=True)
class AdaptiveDecision:
    """A setpoint request and why (``change_mmhg`` is 0 or 5-10 in magnitude)."""

    t_s: float
    setpoint_mmhg: float
    change_mmhg: float
    reason: str


def _ok(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def band_mmhg(limits: CuffLimits) -> tuple[float, float]:
    """Allowed adaptive band [40 % AOP, min(80 % AOP, limit)] in mmHg."""
    lo = PERCENT_AOP_MIN / 100.0 * limits.aop_mmhg
    hi = min(PERCENT_AOP_MAX / 100.0 * limits.aop_mmhg, limits.max_setpoint_mmhg)
    return lo, hi


def gate_step(limits: CuffLimits, previous_mmhg: float, proposed_mmhg: float, dt_s: float) -> float:
    """Independent check of one adaptive change; returns the setpoint to request.

    A change is accepted only if it is 5-10 mmHg, at least 0.1 s after the previous one
    and inside :func:`band_mmhg`; otherwise the previous setpoint is kept (clamped into the
    band). Non-finite values keep the previous setpoint.
    """
    lo, hi = band_mmhg(limits)
    prev = previous_mmhg if _ok(previous_mmhg) else lo
    prev = min(max(prev, lo), hi)
    if not (_ok(proposed_mmhg) and _ok(dt_s)):
        return prev
    d = proposed_mmhg - prev
    if abs(d) < 1e-9:
        return prev
    if dt_s < MIN_INTERVAL_S or not STEP_MIN_MMHG - 1e-9 <= abs(d) <= STEP_MAX_MMHG + 1e-9:
        return prev
    if not lo - 1e-9 <= proposed_mmhg <= hi + 1e-9:
        return prev
    return float(proposed_mmhg)


class AdaptiveModulator:
    """Rule-based modulation of the setpoint within the session's limits.

    Rules (each decision carries its reason):

    - SmO2 below ``smo2_low_pct`` (deep desaturation), EMG above ``emg_high_ratio`` x its
      set baseline or rep velocity loss above ``velocity_loss_max`` -> lower by 10 mmHg;
    - SmO2 above ``smo2_high_pct`` (too little restriction) with velocity loss below half
      the maximum -> raise by 5 mmHg;
    - otherwise hold. Missing/NaN inputs hold (they never raise pressure).

    Parameters
    ----------
    limits:
        The session's limits (AOP, ``max_setpoint_mmhg``).
    start_mmhg:
        Prescribed setpoint (clamped into the band).
    interval_s:
        Minimum time between changes (>= 0.1 s; default 5 s, one or two reps).
    """

    def __init__(
        self,
        limits: CuffLimits,
        start_mmhg: float,
        *,
        interval_s: float = 5.0,
        smo2_low_pct: float = 20.0,
        smo2_high_pct: float = 55.0,
        emg_high_ratio: float = 1.6,
        velocity_loss_max: float = 0.30,
    ) -> None:
        if not _ok(interval_s) or interval_s < MIN_INTERVAL_S:
            raise ValueError(f"interval_s must be >= {MIN_INTERVAL_S} s (<= 10 Hz)")
        self.limits = limits
        lo, hi = band_mmhg(limits)
        self.setpoint_mmhg = min(max(float(start_mmhg), lo), hi) if _ok(start_mmhg) else lo
        self.interval_s = float(interval_s)
        self.smo2_low_pct = smo2_low_pct
        self.smo2_high_pct = smo2_high_pct
        self.emg_high_ratio = emg_high_ratio
        self.velocity_loss_max = velocity_loss_max
        self._last_t: float | None = None
        self.decisions: list[AdaptiveDecision] = []

    def _propose(self, x: AdaptiveInputs) -> tuple[float, str]:
        smo2, emg, vel = x.smo2_pct, x.emg_ratio, x.velocity_loss
        if _ok(smo2) and smo2 < self.smo2_low_pct:
            return -10.0, f"SmO2 {smo2:.0f} % < {self.smo2_low_pct:g} %: deep desaturation"
        if _ok(emg) and emg > self.emg_high_ratio:
            return -10.0, f"EMG x{emg:.2f} of its set baseline: fatigue"
        if _ok(vel) and vel > self.velocity_loss_max:
            return (
                -10.0,
                f"rep velocity loss {100 * vel:.0f} % > {100 * self.velocity_loss_max:.0f} %",
            )
        if (
            _ok(smo2)
            and smo2 > self.smo2_high_pct
            and _ok(vel)
            and vel < self.velocity_loss_max / 2
        ):
            return 5.0, f"SmO2 {smo2:.0f} % > {self.smo2_high_pct:g} %: little restriction"
        return 0.0, "inputs in range or missing: hold"

    def update(self, t_s: float, inputs: AdaptiveInputs) -> AdaptiveDecision:
        """Decide at ``t_s``; returns the (gated) setpoint request and its reason."""
        prev = self.setpoint_mmhg
        if not _ok(t_s):
            return AdaptiveDecision(math.nan, prev, 0.0, "invalid time: hold")
        if self._last_t is not None and t_s - self._last_t < self.interval_s:
            return AdaptiveDecision(t_s, prev, 0.0, "too soon: hold")
        change, why = self._propose(inputs)
        lo, hi = band_mmhg(self.limits)
        proposed = prev + change
        if proposed > hi:
            proposed, why = prev, why + f"; at the upper band {hi:.0f} mmHg: hold"
        if proposed < lo:
            proposed, why = prev, why + f"; at the lower band {lo:.0f} mmHg: hold"
        dt = 1e9 if self._last_t is None else t_s - self._last_t
        sp = gate_step(self.limits, prev, proposed, dt)
        d = AdaptiveDecision(t_s, sp, sp - prev, why)
        if sp != prev:
            self._last_t = t_s
            self.decisions.append(d)
        self.setpoint_mmhg = sp
        return d


__all__ = [
    "AdaptiveDecision",
    "AdaptiveInputs",
    "AdaptiveModulator",
    "band_mmhg",
    "gate_step",
]
