"""BFR limits: frozen, validated, stricter-only (BFR-SAFETY reqs 1-15).

Every number of BFR-SAFETY.md lives here, once, with its unit in the name. A site may make
limits stricter through :class:`SiteLimits` (configuration), never looser and never from the
session UI. Rejecting (a user's AOP or prescription) and clamping (the controller's output)
are different decisions: this module rejects; :mod:`workbench.bfr.supervisor` clamps.
Why: ``docs/decisions/0004-bfr-control.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Literal

from workbench.errors import SafetyError, SafetyReason

Limb = Literal["arm", "leg"]

#: Absolute training ceilings per limb (req 1), mmHg.
CEILING_MMHG: dict[str, float] = {"arm": 200.0, "leg": 240.0}
#: Hard maximum of continuous inflation per limb (req 5), s.
CONTINUOUS_HARD_MAX_S: dict[str, float] = {"arm": 15 * 60.0, "leg": 20 * 60.0}
#: Prescription range in percent of AOP (req 1).
PERCENT_AOP_MIN = 40.0
PERCENT_AOP_MAX = 80.0
#: Plausible AOP range; calibration never inflates above 300 mmHg (req 17).
AOP_MIN_MMHG = 50.0
AOP_MAX_MMHG = 300.0
MMHG_PER_KPA = 7.500617


class PrescriptionError(SafetyError, ValueError):
    """An AOP, percentage, limb or setpoint was rejected; the cuff stays vented.

    It is both a :class:`~workbench.errors.SafetyError` (with a machine-readable ``reason``)
    and a :class:`ValueError`, so either can be caught.
    """

    def __init__(self, message: str, *, reason: SafetyReason = SafetyReason.SETPOINT_REJECTED):
        SafetyError.__init__(self, message, reason=reason)


def _finite_number(value: object, name: str, reason: SafetyReason) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        and not hasattr(value, "__float__")
    ):
        raise PrescriptionError(f"{name} must be a number, got {value!r}", reason=reason)
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise PrescriptionError(f"{name} must be a number, got {value!r}", reason=reason) from exc
    if not math.isfinite(out):
        raise PrescriptionError(
            f"{name} is {out}: a missing or invalid measurement; measure again", reason=reason
        )
    return out


def validate_limb(limb: object) -> Limb:
    """Return ``"arm"`` or ``"leg"``; anything else raises :class:`PrescriptionError`."""
    if limb not in ("arm", "leg"):
        raise PrescriptionError(f"limb must be 'arm' or 'leg', got {limb!r}")
    return limb  # type: ignore[return-value]


def validate_aop(aop_mmhg: object) -> float:
    """Check a confirmed arterial occlusion pressure in mmHg and return it as float.

    Raises
    ------
    PrescriptionError
        NaN/inf/non-numbers, negatives and zero, values that look like kPa (5-40) or Pa,
        and anything outside 50-300 mmHg (calibration never inflates above 300 mmHg).
    """
    aop = _finite_number(aop_mmhg, "AOP", SafetyReason.AOP_INVALID)
    if aop <= 0:
        raise PrescriptionError(
            f"AOP {aop:g} mmHg is not a pressure; calibrate the occlusion pressure first",
            reason=SafetyReason.AOP_INVALID,
        )
    if 5.0 <= aop <= 40.0:
        raise PrescriptionError(
            f"AOP {aop:g} looks like kPa ({aop * MMHG_PER_KPA:.0f} mmHg); enter it in mmHg",
            reason=SafetyReason.AOP_INVALID,
        )
    if aop < AOP_MIN_MMHG:
        raise PrescriptionError(
            f"AOP {aop:g} mmHg is implausibly low (< {AOP_MIN_MMHG:g}); re-measure",
            reason=SafetyReason.AOP_INVALID,
        )
    if aop > AOP_MAX_MMHG:
        hint = " (Pa or a typo?)" if aop >= 1000 else ""
        raise PrescriptionError(
            f"AOP {aop:g} mmHg is above the {AOP_MAX_MMHG:g} mmHg calibration ceiling{hint}; "
            "check the unit and re-measure",
            reason=SafetyReason.AOP_INVALID,
        )
    return aop


def validate_percent_aop(percent_aop: object) -> float:
    """Check a prescription in percent of AOP (40-80); fractions like 0.8 are rejected."""
    pct = _finite_number(percent_aop, "percent AOP", SafetyReason.SETPOINT_REJECTED)
    if 0.0 < pct <= 1.0:
        raise PrescriptionError(
            f"percent AOP {pct:g} looks like a fraction; give percent, e.g. {pct * 100:g} not {pct:g}"
        )
    if not PERCENT_AOP_MIN <= pct <= PERCENT_AOP_MAX:
        raise PrescriptionError(
            f"percent AOP {pct:g} is outside the BFR range {PERCENT_AOP_MIN:g}-{PERCENT_AOP_MAX:g} %"
        )
    return pct


@dataclass(frozen=True)
class SiteLimits:
    """Site configuration that can only tighten the defaults (checked in ``__post_init__``).

    Attributes are maxima (``None`` keeps the default); e.g. a site that allows at most 70 %
    AOP and 8 min of continuous inflation sets ``max_fraction_aop=0.70,
    continuous_max_s=480``.
    """

    max_fraction_aop: float | None = None
    arm_ceiling_mmhg: float | None = None
    leg_ceiling_mmhg: float | None = None
    continuous_max_s: float | None = None
    cumulative_max_s: float | None = None
    slew_up_mmhg_per_s: float | None = None

    def __post_init__(self) -> None:
        bounds = {
            "max_fraction_aop": (0.40, PERCENT_AOP_MAX / 100),
            "arm_ceiling_mmhg": (0.0, CEILING_MMHG["arm"]),
            "leg_ceiling_mmhg": (0.0, CEILING_MMHG["leg"]),
            "continuous_max_s": (0.0, 600.0),
            "cumulative_max_s": (0.0, 1800.0),
            "slew_up_mmhg_per_s": (0.0, 50.0),
        }
        for f in fields(self):
            v = getattr(self, f.name)
            if v is None:
                continue
            lo, hi = bounds[f.name]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise PrescriptionError(f"site limit {f.name} must be a finite number, got {v!r}")
            if not lo < v <= hi:
                raise PrescriptionError(
                    f"site limit {f.name}={v:g} would loosen or void the default (allowed {lo:g} < x <= {hi:g})"
                )


#: Allowed range of every numeric :class:`CuffLimits` field (issue 12.2: limits only
#: tighten). The looser end of each range is the BFR-SAFETY default; the other end keeps a
#: limit from becoming void (e.g. a zero stale timeout). Inclusive on both ends. The limb
#: ceilings and hard maxima depend on the limb and are checked separately.
FIELD_BOUNDS: dict[str, tuple[float, float]] = {
    "max_fraction_aop": (0.40, 0.80),  # req 1 (higher is looser)
    "sustained_margin_mmhg": (0.0, 15.0),  # req 3
    "sustained_s": (0.05, 1.0),
    "mean_window_s": (0.2, 1.0),
    "instant_margin_mmhg": (0.0, 40.0),  # req 4
    "instant_s": (0.0, 0.2),
    "absolute_max_mmhg": (100.0, 300.0),
    "absolute_count": (1, 2),
    "swing_max_mmhg": (0.0, 25.0),  # ADR 0006
    "swing_max_s": (0.0, 0.1),
    "near_aop_fraction": (0.5, 0.95),
    "near_aop_s": (0.0, 0.0),
    "inflated_mmhg": (5.0, 20.0),  # req 5 (a higher threshold counts less time)
    "continuous_max_s": (1.0, 600.0),
    "reperfusion_s": (180.0, 3600.0),  # lower is looser
    "cumulative_max_s": (1.0, 1800.0),
    "slew_up_mmhg_per_s": (1.0, 50.0),  # req 6
    "stale_s": (0.005, 0.1),  # req 9
    "frozen_s": (0.01, 0.2),
    "min_plausible_mmhg": (-10.0, 0.0),  # lower is looser
    "max_plausible_mmhg": (250.0, 350.0),
    "max_rate_mmhg_per_s": (200.0, 2000.0),
    "sensor_disagree_mmhg": (1.0, 10.0),
    "sensor_disagree_s": (0.01, 0.1),
    "overrun_s": (0.02, 0.1),  # req 10
    "heartbeat_period_s": (0.005, 0.05),
    "firmware_watchdog_s": (0.05, 0.25),
    "operator_heartbeat_s": (0.5, 3.0),  # req 11
    "monitor_stale_s": (0.1, 1.0),  # req 12
    # HR straps notify about once a second (Bluetooth Heart Rate Profile): 1 s would
    # false-trip, so a strap gets 2.5 s (two missed notifications) at most, > 1.2 s at least
    "hr_stale_s": (1.2, 2.5),
    "smo2_floor_pct": (5.0, 50.0),  # lower is looser
    "emg_collapse_fraction": (0.2, 0.9),  # lower is looser
    "emg_recent_s": (0.1, 0.4),  # a longer window detects later
    "arterial_signature_s": (5.0, 20.0),
    "deviation_mmhg": (1.0, 15.0),  # req 15
    "deviation_s": (0.1, 1.0),
    "leak_s": (1.0, 7.0),
    "reach_setpoint_s": (5.0, 30.0),
    "pump_cutoff_above_sp_mmhg": (0.0, 5.0),
    # issue 15: P-bar at most 80 % AOP + the 3 mmHg transducer tolerance (ADR 0006)
    "mean_bleed_above_max_mmhg": (0.0, 3.0),
    "mean_trip_above_max_mmhg": (0.5, 2.5),  # lower is stricter
}


@dataclass(frozen=True)
class CuffLimits:
    """All limits of one session (one cuff, limb, posture and confirmed AOP); frozen.

    Build it with :meth:`for_session`, which validates the AOP. Times are in seconds,
    pressures in mmHg, rates in mmHg/s.
    """

    aop_mmhg: float
    limb: Limb
    max_fraction_aop: float = 0.80
    ceiling_mmhg: float = 240.0
    # req 3
    sustained_margin_mmhg: float = 15.0
    sustained_s: float = 1.0
    mean_window_s: float = 1.0
    # req 4
    instant_margin_mmhg: float = 40.0
    instant_s: float = 0.2
    absolute_max_mmhg: float = 300.0
    absolute_count: int = 2
    # stricter than req 4 (ADR 0006): the cuff must never reach the AOP. P above the largest
    # legitimate contraction swing over the limit (req 3: 25 mmHg), or near the AOP, vents
    swing_max_mmhg: float = 25.0
    swing_max_s: float = 0.1
    near_aop_fraction: float = 0.95
    near_aop_s: float = 0.0
    # req 5
    inflated_mmhg: float = 20.0
    continuous_max_s: float = 600.0
    continuous_hard_max_s: float = 1200.0
    reperfusion_s: float = 180.0
    cumulative_max_s: float = 1800.0
    # req 6
    slew_up_mmhg_per_s: float = 50.0
    # req 9
    stale_s: float = 0.1
    frozen_s: float = 0.2
    min_plausible_mmhg: float = -10.0
    max_plausible_mmhg: float = 350.0
    max_rate_mmhg_per_s: float = 2000.0
    sensor_disagree_mmhg: float = 10.0
    sensor_disagree_s: float = 0.1
    # req 10, 11
    overrun_s: float = 0.1
    heartbeat_period_s: float = 0.05
    firmware_watchdog_s: float = 0.25
    operator_heartbeat_s: float = 3.0
    # req 12
    monitor_stale_s: float = 1.0
    # a silent HR strap (no notification, no disconnect) vents after this (issue 12.3)
    hr_stale_s: float = 2.5
    smo2_floor_pct: float = 5.0
    emg_collapse_fraction: float = 0.2
    # EMG amplitude over this last window vs the set's earlier level (collapse within 0.5 s:
    # 3 samples of a 10 Hz envelope detect a step 0.22-0.33 s after it, 0.4 s took 0.32-0.43)
    emg_recent_s: float = 0.3
    arterial_signature_s: float = 20.0
    # req 15
    deviation_mmhg: float = 15.0
    deviation_s: float = 1.0
    leak_s: float = 7.0
    reach_setpoint_s: float = 30.0
    # the regulator may not run the pump when the 1 s mean is this far above SP
    pump_cutoff_above_sp_mmhg: float = 5.0
    # while the 1 s mean is this far above the maximum SP the pump stops and the bleed valve
    # opens fully (not a vent: the dump valve stays shut), whatever the regulator proposes
    mean_bleed_above_max_mmhg: float = 1.0
    # ... and this far above it the cuff cannot hold its 80 % AOP line: vent (issue 15,
    # ADR 0006 decision 11). 3 mmHg is the transducer tolerance of the line; 0.5 of it is
    # left for the measured 1-s mean's own error (noise, one sample of timing)
    mean_trip_above_max_mmhg: float = 2.5

    def __post_init__(self) -> None:
        validate_aop(self.aop_mmhg)
        validate_limb(self.limb)
        # limits only tighten (issue 12.2): every field inside its spec bound, whatever
        # built it (constructor, for_session, dataclasses.replace)
        for name, (lo, hi) in self._field_bounds().items():
            v = getattr(self, name)
            ok_type = isinstance(v, (int, float)) and not isinstance(v, bool)
            if name == "absolute_count":
                ok_type = isinstance(v, int) and not isinstance(v, bool)
            if not ok_type or not math.isfinite(v) or not lo <= v <= hi:
                raise PrescriptionError(
                    f"limit {name}={v!r} is outside its safe range {lo:g}-{hi:g} "
                    "(limits can only be made stricter, never looser or void)"
                )
        self._check_relations()

    def _field_bounds(self) -> dict[str, tuple[float, float]]:
        """Spec bounds of every numeric field (inclusive); limb-dependent ones included."""
        return {
            **FIELD_BOUNDS,
            "ceiling_mmhg": (1.0, CEILING_MMHG[self.limb]),
            "continuous_hard_max_s": (1.0, CONTINUOUS_HARD_MAX_S[self.limb]),
        }

    def _check_relations(self) -> None:
        if not 0.40 <= self.max_fraction_aop <= PERCENT_AOP_MAX / 100:
            raise PrescriptionError(f"max_fraction_aop {self.max_fraction_aop} outside 0.40-0.80")
        if not 0 < self.ceiling_mmhg <= CEILING_MMHG[self.limb]:
            raise PrescriptionError(
                f"ceiling {self.ceiling_mmhg} mmHg above the {self.limb} maximum {CEILING_MMHG[self.limb]}"
            )
        if (
            not 0
            < self.continuous_max_s
            <= self.continuous_hard_max_s
            <= CONTINUOUS_HARD_MAX_S[self.limb]
        ):
            raise PrescriptionError("continuous inflation limits exceed the hard maximum")
        if not 0 < self.slew_up_mmhg_per_s <= 50.0:
            raise PrescriptionError("upward slew limit must be in (0, 50] mmHg/s")

    @classmethod
    def for_session(cls, aop_mmhg: float, limb: Limb, site: SiteLimits | None = None) -> CuffLimits:
        """Limits for a confirmed ``aop_mmhg`` on ``limb`` ("arm" or "leg").

        Raises :class:`PrescriptionError` (a ``ValueError``) for an invalid AOP or limb.
        """
        limb = validate_limb(limb)
        aop = validate_aop(aop_mmhg)
        out = cls(
            aop_mmhg=aop,
            limb=limb,
            ceiling_mmhg=CEILING_MMHG[limb],
            continuous_hard_max_s=CONTINUOUS_HARD_MAX_S[limb],
        )
        if site is None:
            return out
        changes: dict[str, float] = {}
        if site.max_fraction_aop is not None:
            changes["max_fraction_aop"] = site.max_fraction_aop
        ceiling = site.arm_ceiling_mmhg if limb == "arm" else site.leg_ceiling_mmhg
        if ceiling is not None:
            changes["ceiling_mmhg"] = ceiling
        if site.continuous_max_s is not None:
            changes["continuous_max_s"] = site.continuous_max_s
        if site.cumulative_max_s is not None:
            changes["cumulative_max_s"] = site.cumulative_max_s
        if site.slew_up_mmhg_per_s is not None:
            changes["slew_up_mmhg_per_s"] = site.slew_up_mmhg_per_s
        return replace(out, **changes)

    @property
    def max_setpoint_mmhg(self) -> float:
        """Highest SP ever allowed: min(0.80 x AOP, limb ceiling), mmHg (req 1)."""
        return min(self.max_fraction_aop * self.aop_mmhg, self.ceiling_mmhg)

    @property
    def min_prescription_mmhg(self) -> float:
        """Lowest prescribed SP: 40 % of AOP, mmHg."""
        return PERCENT_AOP_MIN / 100 * self.aop_mmhg

    @property
    def sustained_trip_mmhg(self) -> float:
        """P-bar above this for > ``sustained_s`` vents (req 3)."""
        return self.max_setpoint_mmhg + self.sustained_margin_mmhg

    @property
    def mean_trip_mmhg(self) -> float:
        """P-bar above this vents at once: the maximum SP + ``mean_trip_above_max_mmhg``
        (issue 15: the 80 % AOP line, held to the transducer tolerance)."""
        return self.max_setpoint_mmhg + self.mean_trip_above_max_mmhg

    @property
    def swing_trip_mmhg(self) -> float:
        """The lower of the two stricter lines (ADR 0006): P above limit + 25 mmHg for
        > ``swing_max_s`` or above 0.95 x AOP for > ``near_aop_s`` vents."""
        return min(
            self.max_setpoint_mmhg + self.swing_max_mmhg, self.near_aop_fraction * self.aop_mmhg
        )

    @property
    def instant_trip_mmhg(self) -> float:
        """P above this for > ``instant_s`` vents: min(AOP, limit + 40) (req 4)."""
        return min(self.aop_mmhg, self.max_setpoint_mmhg + self.instant_margin_mmhg)

    def validate_setpoint(self, setpoint_mmhg: object) -> float:
        """Reject (never clamp) a user setpoint outside [40 %, max] of this session."""
        sp = _finite_number(setpoint_mmhg, "setpoint", SafetyReason.SETPOINT_REJECTED)
        if sp < 0:
            raise PrescriptionError(f"setpoint {sp:g} mmHg is negative")
        if sp > self.max_setpoint_mmhg + 1e-9:
            raise PrescriptionError(
                f"setpoint {sp:g} mmHg is above the limit {self.max_setpoint_mmhg:.1f} mmHg "
                f"(min(80 % of AOP {self.aop_mmhg:g}, {self.limb} ceiling {self.ceiling_mmhg:g}))"
            )
        if sp < self.min_prescription_mmhg - 1e-9:
            raise PrescriptionError(
                f"setpoint {sp:g} mmHg is below 40 % of AOP ({self.min_prescription_mmhg:.1f} mmHg)"
            )
        return sp


#: AOP calibration (req 17): ceiling, longest hold of one step, a "long" step, the deflated
#: pause after a long step, the time budget above half the expected AOP.
CALIBRATION_CEILING_MMHG = AOP_MAX_MMHG
CALIBRATION_HOLD_MAX_S = 30.0
CALIBRATION_LONG_STEP_S = 15.0
CALIBRATION_DEFLATE_MIN_S = 10.0
CALIBRATION_ABOVE_HALF_MAX_S = 120.0
#: Longest armed time of one calibration run, s (time box; the NIRS plan, 14 steps of 16 s
#: with 10 s pauses, needs ~6 min).
CALIBRATION_DURATION_MAX_S = 600.0

#: Spec bounds of the calibration-only fields (looser end = req 17 value).
CALIBRATION_FIELD_BOUNDS: dict[str, tuple[float, float]] = {
    "step_hold_max_s": (1.0, CALIBRATION_HOLD_MAX_S),
    "long_step_s": (1.0, CALIBRATION_LONG_STEP_S),
    "deflate_min_s": (CALIBRATION_DEFLATE_MIN_S, 120.0),  # lower is looser
    "above_half_max_s": (1.0, CALIBRATION_ABOVE_HALF_MAX_S),
    "duration_max_s": (10.0, CALIBRATION_DURATION_MAX_S),
}


@dataclass(frozen=True)
class CalibrationLimits(CuffLimits):
    """Limits of one AOP calibration run (req 17); the supervisor's calibration profile.

    There is no AOP yet: ``aop_mmhg`` holds the *expected* AOP (:attr:`expected_aop_mmhg`),
    used only for the time budget above half of it; no 80 %-AOP or near-AOP rule applies.
    The setpoint ceiling is ``ceiling_mmhg`` (<= 300 mmHg for either limb) and the
    over-pressure lines (reqs 3, 4, ADR 0006) are drawn from the current step instead of a
    session limit. All other checks (reqs 5, 6, 9, 10, 15) are those of training. Calibration
    fields: a step is held <= ``step_hold_max_s``; after a step held > ``long_step_s`` the
    cuff stays deflated >= ``deflate_min_s``; <= ``above_half_max_s`` above half the expected
    AOP; <= ``duration_max_s`` armed in all. Build with :meth:`for_calibration`. Only these
    limits arm a cuff without a confirmed AOP (calibration is how it is measured).
    """

    ceiling_mmhg: float = CALIBRATION_CEILING_MMHG
    # the limb is at rest: an overshoot of the step by 25 mmHg for 200 ms is a fault
    instant_margin_mmhg: float = 25.0
    step_hold_max_s: float = CALIBRATION_HOLD_MAX_S
    long_step_s: float = CALIBRATION_LONG_STEP_S
    deflate_min_s: float = CALIBRATION_DEFLATE_MIN_S
    above_half_max_s: float = CALIBRATION_ABOVE_HALF_MAX_S
    duration_max_s: float = CALIBRATION_DURATION_MAX_S

    def _field_bounds(self) -> dict[str, tuple[float, float]]:
        return {
            **super()._field_bounds(),
            "ceiling_mmhg": (1.0, CALIBRATION_CEILING_MMHG),
            **CALIBRATION_FIELD_BOUNDS,
        }

    def _check_relations(self) -> None:
        if not 0 < self.ceiling_mmhg <= CALIBRATION_CEILING_MMHG:
            raise PrescriptionError(
                f"calibration ceiling {self.ceiling_mmhg} mmHg above {CALIBRATION_CEILING_MMHG:g}"
            )
        if not 0 < self.continuous_max_s <= self.continuous_hard_max_s:
            raise PrescriptionError("continuous inflation limits exceed the hard maximum")
        if not 0 < self.slew_up_mmhg_per_s <= 50.0:
            raise PrescriptionError("upward slew limit must be in (0, 50] mmHg/s")

    @classmethod
    def for_calibration(
        cls,
        limb: Limb,
        expected_aop_mmhg: float,
        *,
        ceiling_mmhg: float = CALIBRATION_CEILING_MMHG,
        above_half_max_s: float = CALIBRATION_ABOVE_HALF_MAX_S,
        site: SiteLimits | None = None,
    ) -> CalibrationLimits:
        """Calibration limits for ``limb`` with ``expected_aop_mmhg`` (prediction or default).

        ``ceiling_mmhg`` (the plan's top step) and ``above_half_max_s`` (the plan's budget)
        may only be stricter than req 17; a site's slew limit applies too.

        Raises :class:`PrescriptionError` for an invalid limb, expected AOP or a looser value.
        """
        limb = validate_limb(limb)
        expected = validate_aop(expected_aop_mmhg)
        changes: dict[str, float] = {}
        if site is not None and site.slew_up_mmhg_per_s is not None:
            changes["slew_up_mmhg_per_s"] = site.slew_up_mmhg_per_s
        return cls(
            aop_mmhg=expected,
            limb=limb,
            ceiling_mmhg=_finite_number(ceiling_mmhg, "ceiling", SafetyReason.SETPOINT_REJECTED),
            above_half_max_s=_finite_number(
                above_half_max_s, "time above half", SafetyReason.SETPOINT_REJECTED
            ),
            continuous_hard_max_s=CONTINUOUS_HARD_MAX_S[limb],
            **changes,
        )

    @property
    def expected_aop_mmhg(self) -> float:
        """The expected AOP (not a measurement), mmHg."""
        return self.aop_mmhg

    @property
    def half_expected_aop_mmhg(self) -> float:
        """Time above this pressure is budgeted to ``above_half_max_s`` (req 17), mmHg."""
        return 0.5 * self.aop_mmhg

    @property
    def max_setpoint_mmhg(self) -> float:
        """Highest calibration setpoint: the ceiling (<= 300 mmHg), mmHg."""
        return self.ceiling_mmhg

    @property
    def min_prescription_mmhg(self) -> float:
        return 0.0

    @property
    def sustained_trip_mmhg(self) -> float:
        """Highest sustained line (at the ceiling); the supervisor uses the current step."""
        return self.ceiling_mmhg + self.sustained_margin_mmhg

    @property
    def swing_trip_mmhg(self) -> float:
        return self.ceiling_mmhg + self.swing_max_mmhg

    @property
    def instant_trip_mmhg(self) -> float:
        """Highest instantaneous line (at the ceiling; the supervisor uses the current step);
        no AOP bounds it, the ``absolute_max_mmhg`` two-sample line does."""
        return self.ceiling_mmhg + self.instant_margin_mmhg

    def validate_setpoint(self, setpoint_mmhg: object) -> float:
        """Reject a calibration step outside [0, ceiling]."""
        sp = _finite_number(setpoint_mmhg, "setpoint", SafetyReason.SETPOINT_REJECTED)
        if not 0 <= sp <= self.ceiling_mmhg + 1e-9:
            raise PrescriptionError(
                f"calibration step {sp:g} mmHg outside 0-{self.ceiling_mmhg:g} mmHg"
            )
        return sp


def validate_prescription(
    aop_mmhg: float, percent_aop: float, limb: Limb, site: SiteLimits | None = None
) -> float:
    """Setpoint in mmHg for ``percent_aop`` (40-80) of a confirmed ``aop_mmhg`` on ``limb``.

    Raises
    ------
    PrescriptionError
        (a ``ValueError``) with a clear message for NaN, negatives, fractions (0.8 instead of
        80), kPa values, percentages outside 40-80 and setpoints above the limb ceiling.
    """
    limits = CuffLimits.for_session(aop_mmhg, limb, site)
    pct = validate_percent_aop(percent_aop)
    sp = limits.aop_mmhg * pct / 100.0
    if sp > limits.max_setpoint_mmhg + 1e-9:
        raise PrescriptionError(
            f"{pct:g} % of AOP {limits.aop_mmhg:g} mmHg = {sp:.1f} mmHg exceeds the "
            f"{limb} limit {limits.max_setpoint_mmhg:.1f} mmHg; lower the percentage"
        )
    return sp
