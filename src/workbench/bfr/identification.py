"""Cuff identification at connect: measure the pump and bleed constants the regulator uses.

With the cuff on the resting limb and before a session, :func:`identify_cuff` runs ~5 s of
low setpoints (35 -> 20 -> 8 mmHg, below the lowest plausible AOP) through the supervised
path (:class:`~workbench.bfr.control.ControlCore`: it never commands the cuff itself) and
fits how fast the pressure moved to the pump and bleed duties that were sent. A pressure
sensor alone cannot tell mL from mmHg, so the cuff's air per mmHg keeps the nominal scale and
the identified constants are flows on that scale (what sets the loop gain in mmHg/s).
Why: ``docs/decisions/0004-bfr-control.md`` ("Randomised plants, identification ...").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from workbench.bfr.control import ControlCore
from workbench.bfr.regulator import RegulatorParams
from workbench.errors import DeviceError
from workbench.log import get_logger

log = get_logger(__name__)

_P_ATM_MMHG = 760.0
#: Identified/nominal ratios outside this range mean a fault (hose off, pump dead), not a cuff.
SCALE_RANGE = (0.2, 5.0)
#: (time from start s, setpoint mmHg) of the test; steps down stay <= 15 mmHg (no deviation
#: alarm, req 15) and every setpoint stays below the 50 mmHg AOP floor.
DEFAULT_PLAN: tuple[tuple[float, float], ...] = ((0.0, 35.0), (2.0, 20.0), (3.5, 8.0))
DEFAULT_DURATION_S = 5.0


@dataclass(frozen=True)
class CuffIdentification:
    """Result of :func:`identify_cuff`.

    ``pump_scale`` and ``bleed_scale`` multiply the nominal pump flow and bleed conductance
    of ``nominal`` (in pressure-rate terms); ``leak_coeff_ml_s_per_mmhg`` is a steady leak's
    orifice coefficient on the same scale (flow = coeff x sqrt(P (P + P_atm))); ``rms_mmhg``
    is the fit's residual over ``n_windows`` windows of 0.1 s.
    """

    pump_scale: float
    bleed_scale: float
    leak_coeff_ml_s_per_mmhg: float
    rms_mmhg: float
    n_windows: int
    duration_s: float
    nominal: RegulatorParams

    def regulator_params(self, base: RegulatorParams | None = None) -> RegulatorParams:
        """``base`` (default: the nominal parameters) with the identified pump and bleed."""
        return replace(
            base or self.nominal,
            pump_max_flow_ml_s=self.nominal.pump_max_flow_ml_s * self.pump_scale,
            bleed_coeff_ml_s_per_mmhg=self.nominal.bleed_coeff_ml_s_per_mmhg * self.bleed_scale,
        )

    def pump_rate_mmhg_per_s(self, p_mmhg: float) -> float:
        """Pressure rise (mmHg/s) of the full-duty pump at ``p_mmhg`` (valves shut, no leak)."""
        n = self.nominal
        return self.pump_scale * n.pump_flow_ml_s(p_mmhg) / n.air_per_mmhg_ml(p_mmhg)

    def bleed_rate_mmhg_per_s(self, p_mmhg: float) -> float:
        """Pressure fall (mmHg/s, positive) through the fully open bleed valve at ``p_mmhg``."""
        n = self.nominal
        return self.bleed_scale * n.bleed_flow_ml_s(p_mmhg) / n.air_per_mmhg_ml(p_mmhg)


def _orifice_rate(nominal: RegulatorParams, p_mmhg: float) -> float:
    """Pressure fall (mmHg/s) through a unit orifice (coeff 1) at ``p_mmhg``, nominal cuff."""
    p = max(p_mmhg, 0.0)
    return math.sqrt(p * (p + _P_ATM_MMHG)) / nominal.air_per_mmhg_ml(p)


def fit_rates(
    samples: Sequence[tuple[float, float, float, float]],
    nominal: RegulatorParams,
    *,
    window_s: float = 0.1,
) -> tuple[float, float, float, float, int]:
    """Least-squares fit of ``(pump_scale, bleed_scale, leak_coeff, rms, n)`` to samples
    ``(t_s, pressure_mmhg, pump_duty, bleed_duty)`` (the duties sent at ``t_s``, acting until
    the next sample): over each window, the pressure change = s_p sum(pump r_pump dt) -
    s_b sum(bleed r_bleed dt) - leak sum(r_orifice dt), rates from the nominal model."""
    rows, rhs = [], []
    start = 0
    for i in range(1, len(samples)):
        if samples[i][0] - samples[start][0] < window_s - 1e-9 and i < len(samples) - 1:
            continue
        xp = xb = xl = 0.0
        for k in range(start, i):
            t, p, pump, bleed = samples[k]
            dt = samples[k + 1][0] - t
            pp = max(p, 0.0)
            xp += pump * nominal.pump_flow_ml_s(pp) / nominal.air_per_mmhg_ml(pp) * dt
            xb += bleed * nominal.bleed_flow_ml_s(pp) / nominal.air_per_mmhg_ml(pp) * dt
            xl += _orifice_rate(nominal, pp) * dt
        rows.append((xp, -xb, -xl))
        rhs.append(samples[i][1] - samples[start][1])
        start = i
    a, y = np.asarray(rows), np.asarray(rhs)
    if len(y) < 5:
        raise DeviceError("too few samples to identify the cuff", reason="identification")
    coef, *_ = np.linalg.lstsq(a, y, rcond=None)
    if coef[2] < 0:  # no measurable leak: fit pump and bleed alone
        coef2, *_ = np.linalg.lstsq(a[:, :2], y, rcond=None)
        coef = np.array([coef2[0], coef2[1], 0.0])
    rms = float(np.sqrt(np.mean((a @ coef - y) ** 2)))
    return float(coef[0]), float(coef[1]), float(coef[2]), rms, len(y)


def identify_cuff(
    core: ControlCore,
    *,
    wait: Callable[[float], None],
    clock: Callable[[], float],
    plan: Sequence[tuple[float, float]] = DEFAULT_PLAN,
    duration_s: float = DEFAULT_DURATION_S,
    period_s: float = 0.01,
) -> CuffIdentification:
    """Identify the cuff behind ``core`` (see module doc); ends with the cuff vented.

    ``core`` is a fresh :class:`ControlCore` (nominal regulator) whose supervisor has limits
    (any AOP >= 50 mmHg allows the plan's setpoints); it is armed here and disarmed at the
    end. ``wait(s)`` lets ``s`` seconds pass (``time.sleep``, or advancing a simulator) and
    ``clock()`` is the core's clock. Raises :class:`~workbench.errors.SafetyError` if arming
    is refused (cuff not vented, req 21) and :class:`DeviceError` (reason
    ``"identification"``) if a trip vents the test or the cuff does not respond like one.
    """
    nominal = core.state.params
    core.arm(clock())
    t0 = clock()
    samples: list[tuple[float, float, float, float]] = []
    try:
        while (now := clock()) - t0 <= duration_s:
            sp = [s for t, s in plan if now - t0 >= t][-1]
            core.request_setpoint(sp)
            cmd = core.safe_tick(now)
            if cmd.vent:
                trips = [t.reason.value for t in core.supervisor.trips]
                raise DeviceError(f"identification vented: {trips}", reason="identification")
            r = core.last_reading
            if r is not None and math.isfinite(r.pressure_mmhg):
                samples.append((now, r.pressure_mmhg, cmd.pump_duty, cmd.bleed_duty))
            wait(period_s)
    finally:
        core.supervisor.disarm(clock())
        core.cuff.vent()
    peak = max((p for _, p, _, _ in samples), default=0.0)
    if peak < 0.6 * max(s for _, s in plan):
        raise DeviceError(
            f"cuff reached only {peak:.1f} mmHg during identification (hose off, pump fault?)",
            reason="identification",
        )
    pump_s, bleed_s, leak, rms, n = fit_rates(samples, nominal)
    for name, v in (("pump", pump_s), ("bleed", bleed_s)):
        if not SCALE_RANGE[0] <= v <= SCALE_RANGE[1]:
            raise DeviceError(
                f"identified {name} is {v:.2f} x nominal, outside {SCALE_RANGE}: not a cuff "
                "the regulator can drive (hose, pump or valve fault?)",
                reason="identification",
            )
    ident = CuffIdentification(pump_s, bleed_s, leak, rms, n, clock() - t0, nominal)
    log.info(
        "cuff identified: pump %.2f x, bleed %.2f x nominal, leak coeff %.4f, rms %.2f mmHg",
        pump_s,
        bleed_s,
        leak,
        rms,
    )
    return ident


__all__ = ["DEFAULT_PLAN", "SCALE_RANGE", "CuffIdentification", "fit_rates", "identify_cuff"]
