"""Arterial occlusion pressure (AOP) calibration (BFR-SAFETY reqs 2, 17-19, 21).

An AOP belongs to a :class:`CuffContext` (cuff application, limb, side, posture, day).
:func:`confirm_aop` turns two agreeing :class:`AopReading` s (within 10 mmHg, cross-checked
against :func:`predict_aop`) into the only :class:`ConfirmedAOP` a prescription accepts.
:func:`plan_calibration` + :func:`run_calibration` inflate stepwise through the supervisor;
:class:`DopplerDetector`, :class:`PpgDetector` and :class:`NirsDetector` (arterial
signature, an estimate only) decide when the pulse is gone.
Why (and the prediction model): ``docs/decisions/0004-bfr-control.md``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import secrets
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

from workbench.bfr import regulator as reg
from workbench.bfr.authority import authorize_confirmed
from workbench.bfr.control import ControlCore
from workbench.bfr.limits import (
    AOP_MIN_MMHG,
    CALIBRATION_ABOVE_HALF_MAX_S,
    CALIBRATION_CEILING_MMHG,
    CALIBRATION_DEFLATE_MIN_S,
    CALIBRATION_HOLD_MAX_S,
    CALIBRATION_LONG_STEP_S,
    CalibrationLimits,
    CuffLimits,
    Limb,
    PrescriptionError,
    SiteLimits,
    validate_aop,
    validate_limb,
    validate_prescription,
)
from workbench.bfr.protocol import CuffCommand, CuffController, PressureReading
from workbench.bfr.simulation.cuff import NirsSample
from workbench.bfr.supervisor import HIGH, LOW, Event, Supervisor
from workbench.errors import SafetyError, SafetyReason
from workbench.log import get_logger

Method = Literal["doppler", "ppg", "nirs"]
log = get_logger(__name__)

METHODS: tuple[str, ...] = ("doppler", "ppg", "nirs")
#: Two readings must agree within this (req 19), mmHg.
AGREEMENT_MMHG = 10.0
#: A measured AOP this far from the prediction asks for re-measurement (req 19), mmHg.
PREDICTION_TOLERANCE_MMHG = 25.0
#: Calibration limits (req 17; the numbers live in :mod:`workbench.bfr.limits`).
STEP_MIN_MMHG, STEP_MAX_MMHG = 10.0, 20.0
#: Every plan starts here: one step below the lowest plausible AOP (50 mmHg), so that the
#: first level never already occludes (a plan starting at 100 mmHg measured a true AOP of
#: 70 as 99.4, and 60 % of that was 85 % of the true AOP; issue 15.3).
PLAN_START_MAX_MMHG = AOP_MIN_MMHG - STEP_MIN_MMHG
#: The default plan's top step keeps one minimal step below the 300 mmHg ceiling: held at
#: 300 mmHg, regulation noise crosses the "> 300 mmHg on 2 samples" vent line (req 4) and
#: the true pressure reached 300.4 mmHg in simulation. PPG sees the pulse below 10 % of rest
#: at 290 mmHg for an AOP up to ~298 mmHg.
PLAN_TOP_MAX_MMHG = CALIBRATION_CEILING_MMHG - STEP_MIN_MMHG
HOLD_MAX_S = CALIBRATION_HOLD_MAX_S
LONG_STEP_S = CALIBRATION_LONG_STEP_S
DEFLATE_MIN_S = CALIBRATION_DEFLATE_MIN_S
ABOVE_HALF_BUDGET_S = CALIBRATION_ABOVE_HALF_MAX_S


class CalibrationError(PrescriptionError):
    """An AOP reading or confirmation was refused (reason ``AOP_INVALID``)."""

    def __init__(self, message: str):
        super().__init__(message, reason=SafetyReason.AOP_INVALID)


class RemeasureRequired(CalibrationError):
    """The measured AOP is > 25 mmHg from the prediction: measure it again (req 19)."""


# --------------------------------------------------------------------- context and readings
@dataclass(frozen=True)
class CuffContext:
    """The conditions an AOP is valid for (req 2).

    ``application`` counts cuff applications on this limb: re-applying the cuff makes a new
    context (:meth:`reapplied`), as does a posture change (:meth:`with_posture`).
    """

    athlete_id: str
    cuff_id: str
    limb: Limb
    side: str = "right"
    posture: str = "seated"
    application: int = 1
    cuff_width_cm: float | None = None

    def __post_init__(self) -> None:
        validate_limb(self.limb)
        if self.side not in ("left", "right"):
            raise CalibrationError(f"side must be 'left' or 'right', got {self.side!r}")
        for name in ("athlete_id", "cuff_id", "posture"):
            v = getattr(self, name)
            if not isinstance(v, str) or not v.strip():
                raise CalibrationError(f"{name} must be a non-empty string, got {v!r}")

    def reapplied(self) -> CuffContext:
        """The same cuff taken off and put on again (invalidates the AOP)."""
        return CuffContext(
            self.athlete_id,
            self.cuff_id,
            self.limb,
            self.side,
            self.posture,
            self.application + 1,
            self.cuff_width_cm,
        )

    def with_posture(self, posture: str) -> CuffContext:
        """The same application in another posture (invalidates the AOP if different)."""
        return CuffContext(
            self.athlete_id,
            self.cuff_id,
            self.limb,
            self.side,
            posture,
            self.application,
            self.cuff_width_cm,
        )


@dataclass(frozen=True)
class AopReading:
    """One measured arterial occlusion pressure.

    Attributes
    ----------
    aop_mmhg:
        Lowest cuff pressure at which arterial flow was absent, mmHg (validated).
    method:
        ``"doppler"`` (operator entry), ``"ppg"`` or ``"nirs"`` (an estimate).
    context, day:
        Cuff/limb/posture/application and calendar day of the measurement.
    """

    aop_mmhg: float
    method: str
    context: CuffContext
    day: dt.date

    def __post_init__(self) -> None:
        object.__setattr__(self, "aop_mmhg", validate_aop(self.aop_mmhg))
        if self.method not in METHODS:
            raise CalibrationError(f"method must be one of {METHODS}, got {self.method!r}")
        if not isinstance(self.context, CuffContext):
            raise CalibrationError("an AOP reading needs its CuffContext")
        if not isinstance(self.day, dt.date):
            raise CalibrationError(f"day must be a date, got {self.day!r}")

    @property
    def is_estimate(self) -> bool:
        """NIRS-derived AOP is an estimate that needs confirmation by another method."""
        return self.method == "nirs"


# --------------------------------------------------------------------- prediction (req 19)
#: Widest cuff (cm) for which the Loenneke 2015 equations are applied. They were fitted with
#: a narrow (5 cm) cuff; a wider cuff occludes at a lower pressure, so the prediction
#: overestimates its AOP (Loenneke et al. 2012, Eur J Appl Physiol 112:2903-12: thigh AOP
#: 235 mmHg with a 5 cm cuff vs 144 mmHg with a 13.5 cm cuff).
PREDICTION_MAX_CUFF_WIDTH_CM = 7.0


def predict_aop(
    limb: Limb,
    circumference_cm: float,
    systolic_mmhg: float,
    diastolic_mmhg: float,
    *,
    cuff_width_cm: float | None = None,
) -> float | None:
    """Predicted AOP in mmHg from limb circumference and resting brachial BP, or None.

    Field-model regressions of Loenneke JP, Allen KM, Mouser JG, et al. "Blood flow
    restriction in the upper and lower limbs is predicted by limb circumference and
    systolic blood pressure", Eur J Appl Physiol 2015;115(2):397-405 (supine, Doppler,
    narrow 5 cm cuff):

    - arm: ``0.514 SBP + 0.339 DBP + 1.461 arm circumference + 17.236``
    - leg: ``5.893 thigh circumference + 0.734 DBP + 0.912 SBP - 220.046``

    The models explain ~50-60 % of the variance and were fitted for that cuff and that
    posture: use the prediction only as a plausibility check, never as the AOP.

    ``cuff_width_cm``: pass the width of the cuff in use. For a cuff wider than
    :data:`PREDICTION_MAX_CUFF_WIDTH_CM` the narrow-cuff equation would overestimate the
    AOP, so the prediction is refused: the function returns None (and logs why), and the
    cross-check of :func:`confirm_aop` is skipped. An unknown width (None) is treated as the
    study's cuff.

    Raises
    ------
    CalibrationError
        Non-finite or implausible circumference, BP or cuff width.
    """
    limb = validate_limb(limb)
    vals = []
    for name, v, lo, hi in (
        ("circumference", circumference_cm, 15.0, 100.0),
        ("systolic BP", systolic_mmhg, 60.0, 260.0),
        ("diastolic BP", diastolic_mmhg, 30.0, 160.0),
        ("cuff width", 5.0 if cuff_width_cm is None else cuff_width_cm, 2.0, 40.0),
    ):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise CalibrationError(f"{name} must be a finite number, got {v!r}")
        if not lo <= v <= hi:
            raise CalibrationError(f"{name} {v:g} outside the plausible range {lo:g}-{hi:g}")
        vals.append(float(v))
    circ, sbp, dbp, width = vals
    if width > PREDICTION_MAX_CUFF_WIDTH_CM:
        log.warning(
            "AOP prediction skipped: the Loenneke 2015 equations were fitted with a 5 cm "
            "cuff and overestimate the AOP of a %.1f cm cuff (> %.0f cm); no cross-check",
            width,
            PREDICTION_MAX_CUFF_WIDTH_CM,
        )
        return None
    if limb == "arm":
        return 0.514 * sbp + 0.339 * dbp + 1.461 * circ + 17.236
    return 5.893 * circ + 0.734 * dbp + 0.912 * sbp - 220.046


# --------------------------------------------------------------------- confirmation (req 2, 19)
#: Per-process key of the confirmation seal (never stored; a pickled ConfirmedAOP does not
#: survive into another process, which is the safe direction).
_SEAL_KEY = secrets.token_bytes(32)


def _seal(
    aop_mmhg: float,
    readings: tuple,
    context: CuffContext,
    day: dt.date,
    predicted_mmhg: float | None,
    notes: tuple,
) -> bytes:
    """HMAC-SHA256 over every field of a confirmation (floats by their exact repr)."""
    msg = repr((float(aop_mmhg), readings, context, day, predicted_mmhg, notes)).encode()
    return hmac.new(_SEAL_KEY, msg, hashlib.sha256).digest()


@dataclass(frozen=True)
class ConfirmedAOP:
    """A confirmed AOP: the only source of setpoints (req 2). Build with :func:`confirm_aop`.

    ``aop_mmhg`` is the lower of the two agreeing readings (conservative). It is valid only
    for ``context`` (same cuff application, limb, side, posture) on ``day``.
    """

    aop_mmhg: float
    readings: tuple[AopReading, ...]
    context: CuffContext
    day: dt.date
    predicted_mmhg: float | None = None
    notes: tuple[str, ...] = ()
    _token: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.verify()

    def verify(self) -> None:
        """Raise :class:`CalibrationError` unless this confirmation is as issued.

        The seal is an HMAC over all fields: ``dataclasses.replace(aop, aop_mmhg=300)`` or an
        in-place edit carries the old seal, which no longer matches (issue 15.2).
        """
        ok = isinstance(self._token, bytes) and hmac.compare_digest(
            self._token,
            _seal(
                self.aop_mmhg,
                self.readings,
                self.context,
                self.day,
                self.predicted_mmhg,
                self.notes,
            ),
        )
        if not ok:
            raise CalibrationError(
                "a ConfirmedAOP can only come from confirm_aop() (two agreeing readings); "
                "this one was built or edited elsewhere"
            )

    def invalid_reason(self, context: CuffContext, today: dt.date) -> str | None:
        """Why this AOP is no longer valid for ``context`` on ``today`` (None if valid)."""
        if today != self.day:
            return f"AOP was measured on {self.day.isoformat()}; the day has ended"
        c = self.context
        if (context.athlete_id, context.cuff_id, context.limb, context.side) != (
            c.athlete_id,
            c.cuff_id,
            c.limb,
            c.side,
        ):
            return "AOP belongs to another athlete, cuff or limb"
        if context.application != c.application:
            return "the cuff was re-applied"
        if context.posture != c.posture:
            return f"posture changed from {c.posture} to {context.posture}"
        return None

    def require_valid(self, context: CuffContext, today: dt.date) -> None:
        """Raise :class:`CalibrationError` if :meth:`invalid_reason` is not None."""
        why = self.invalid_reason(context, today)
        if why is not None:
            raise CalibrationError(f"AOP {self.aop_mmhg:.0f} mmHg is invalid: {why}; re-measure")

    def limits(self, site: SiteLimits | None = None) -> CuffLimits:
        """The session's frozen :class:`CuffLimits` from this AOP, authorized to arm a cuff.

        The confirmation's seal is checked first; each call returns a new authorized object
        (see :mod:`workbench.bfr.authority`).
        """
        self.verify()
        c = self.context
        return authorize_confirmed(
            CuffLimits.for_session(self.aop_mmhg, c.limb, site),
            context=f"{c.athlete_id}/{c.cuff_id}/{c.limb}/{c.side}/{c.posture}/"
            f"application {c.application} on {self.day.isoformat()}",
            readings=", ".join(f"{r.method} {r.aop_mmhg:g}" for r in self.readings),
        )

    def setpoint_for(self, percent_aop: float, site: SiteLimits | None = None) -> float:
        """Validated setpoint (mmHg) for ``percent_aop`` (40-80) of this AOP."""
        self.verify()
        return validate_prescription(self.aop_mmhg, percent_aop, self.context.limb, site)


def confirm_aop(
    readings: Sequence[AopReading],
    *,
    predicted_mmhg: float | None = None,
    tolerance_mmhg: float = AGREEMENT_MMHG,
) -> ConfirmedAOP:
    """Confirm an AOP from the readings of one context and day (reqs 2, 18, 19).

    The last two readings must agree within 10 mmHg, share context and day, and at least
    one of them must be Doppler or PPG (a NIRS estimate needs confirmation). With
    ``predicted_mmhg`` (see :func:`predict_aop`), a result > 25 mmHg away raises
    :class:`RemeasureRequired` the first time; after a re-measurement (>= 4 readings whose
    last two still agree) it is accepted with a note.

    Raises
    ------
    CalibrationError
        Fewer than two readings, mixed contexts/days, disagreement, NIRS-only.
    """
    tol = min(float(tolerance_mmhg), AGREEMENT_MMHG)
    rs = list(readings)
    if len(rs) < 2:
        raise CalibrationError(f"AOP needs two readings; have {len(rs)}")
    a, b = rs[-2], rs[-1]
    if a.context != b.context:
        raise CalibrationError(
            "the two readings come from different cuff applications, limbs or postures"
        )
    if a.day != b.day:
        raise CalibrationError("the two readings were taken on different days")
    if abs(a.aop_mmhg - b.aop_mmhg) > tol:
        raise CalibrationError(
            f"readings {a.aop_mmhg:.0f} and {b.aop_mmhg:.0f} mmHg differ by more than "
            f"{tol:g} mmHg; measure again"
        )
    if a.is_estimate and b.is_estimate:
        raise CalibrationError(
            "both readings are NIRS estimates; confirm with Doppler or PPG (req 18)"
        )
    aop = min(a.aop_mmhg, b.aop_mmhg)
    notes: list[str] = []
    if predicted_mmhg is not None:
        pred = float(predicted_mmhg)
        if not math.isfinite(pred):
            raise CalibrationError(f"predicted AOP {pred} is not a number")
        if abs(aop - pred) > PREDICTION_TOLERANCE_MMHG:
            msg = (
                f"measured AOP {aop:.0f} mmHg is {aop - pred:+.0f} mmHg from the predicted "
                f"{pred:.0f} mmHg (> {PREDICTION_TOLERANCE_MMHG:g})"
            )
            same = [r for r in rs if r.context == b.context and r.day == b.day]
            if len(same) < 4:
                raise RemeasureRequired(msg + "; check cuff placement and measure again")
            notes.append(msg + "; confirmed by re-measurement")
    pred_v = None if predicted_mmhg is None else float(predicted_mmhg)
    seal = _seal(aop, (a, b), b.context, b.day, pred_v, tuple(notes))
    return ConfirmedAOP(aop, (a, b), b.context, b.day, pred_v, tuple(notes), seal)


# --------------------------------------------------------------------- detectors (req 18)
class Detector(Protocol):
    """Decides, during one held step, whether arterial flow has stopped."""

    method: str

    def reset(self) -> None:
        """A new step begins (forget the step's samples, keep the resting baseline)."""
        ...

    def update(
        self, t_s: float, pressure_mmhg: float, nirs: NirsSample | None, *, at_rest: bool
    ) -> bool:
        """Feed one tick; True once occlusion is seen at the current step."""
        ...


class DopplerDetector:
    """Operator Doppler: the operator enters the pressure at which the pulse vanished.

    Call :meth:`enter` from the UI; in simulation pass ``operator(t_s, pressure_mmhg) ->
    bool`` that returns True when the (simulated) pulse is inaudible.
    """

    method = "doppler"

    def __init__(self, operator: Callable[[float, float], bool] | None = None) -> None:
        self.operator = operator
        self.entered_mmhg: float | None = None

    def enter(self, pressure_mmhg: float) -> None:
        """The operator reports the pulse gone at ``pressure_mmhg``."""
        self.entered_mmhg = validate_aop(pressure_mmhg)

    def reset(self) -> None:
        pass

    def update(self, t_s, pressure_mmhg, nirs, *, at_rest) -> bool:
        if at_rest:
            return False
        if self.entered_mmhg is None and self.operator is not None:
            if self.operator(t_s, pressure_mmhg):
                self.entered_mmhg = pressure_mmhg
        return self.entered_mmhg is not None


class PpgDetector:
    """PPG pulse disappearance: the pulse amplitude in the last ``window_s`` of a step
    falls below ``fraction`` of the resting amplitude."""

    method = "ppg"

    def __init__(self, *, fraction: float = 0.10, window_s: float = 2.0) -> None:
        self.fraction = fraction
        self.window_s = window_s
        self._rest: deque[float] = deque(maxlen=200)
        self._step: deque[tuple[float, float]] = deque()
        self._last_t = -math.inf

    def reset(self) -> None:
        self._step.clear()

    def update(self, t_s, pressure_mmhg, nirs, *, at_rest) -> bool:
        if nirs is None or nirs.t_s <= self._last_t or not math.isfinite(nirs.ppg_amplitude):
            return False
        self._last_t = nirs.t_s
        if at_rest:
            self._rest.append(nirs.ppg_amplitude)
            return False
        self._step.append((t_s, nirs.ppg_amplitude))
        while self._step and t_s - self._step[0][0] > self.window_s:
            self._step.popleft()
        if len(self._rest) < 10 or len(self._step) < 0.8 * self.window_s * 10:
            return False
        base = sum(self._rest) / len(self._rest)
        cur = sum(v for _, v in self._step) / len(self._step)
        return base > 0.05 and cur < self.fraction * base


def _slope(ts: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """Least-squares slope and residual SD."""
    n = len(ts)
    mt, my = sum(ts) / n, sum(ys) / n
    stt = sum((t - mt) ** 2 for t in ts)
    b = sum((t - mt) * (y - my) for t, y in zip(ts, ys, strict=True)) / stt if stt > 0 else 0.0
    res = [y - my - b * (t - mt) for t, y in zip(ts, ys, strict=True)]
    return b, math.sqrt(sum(r * r for r in res) / max(1, n - 2))


class NirsDetector:
    """NIRS arterial-occlusion signature over the last ``window_s`` of a step (req 18).

    All must hold: total haemoglobin levelled off (|slope| < ``thb_flat_um_s``), O2Hb
    falling (slope < ``-o2hb_fall_um_s``) with HHb mirroring it (slopes of O2Hb and HHb
    cancel within ``mirror_fraction``) and the cardiac pulsation in tHb gone (residual SD
    < ``pulse_sd_um``). A venous occlusion (HHb rising *with* tHb rising) never matches.
    The result is an estimate: :func:`confirm_aop` requires a Doppler or PPG reading too.
    """

    method = "nirs"

    def __init__(
        self,
        *,
        window_s: float = 6.0,
        thb_flat_um_s: float = 0.12,
        o2hb_fall_um_s: float = 0.05,
        mirror_fraction: float = 0.5,
        pulse_sd_um: float = 0.09,
    ) -> None:
        self.window_s = window_s
        self.thb_flat_um_s = thb_flat_um_s
        self.o2hb_fall_um_s = o2hb_fall_um_s
        self.mirror_fraction = mirror_fraction
        self.pulse_sd_um = pulse_sd_um
        self._buf: deque[NirsSample] = deque()
        self._last_t = -math.inf
        self.last_features: dict[str, float] = {}

    def reset(self) -> None:
        self._buf.clear()

    def update(self, t_s, pressure_mmhg, nirs, *, at_rest) -> bool:
        if nirs is None or nirs.t_s <= self._last_t or at_rest:
            return False
        self._last_t = nirs.t_s
        vals = (nirs.o2hb_um, nirs.hhb_um, nirs.thb_um)
        if not all(math.isfinite(v) for v in vals):
            return False
        self._buf.append(nirs)
        while self._buf and nirs.t_s - self._buf[0].t_s > self.window_s:
            self._buf.popleft()
        if len(self._buf) < 0.8 * self.window_s * 10:
            return False
        ts = [s.t_s for s in self._buf]
        s_thb, sd_thb = _slope(ts, [s.thb_um for s in self._buf])
        s_o2, _ = _slope(ts, [s.o2hb_um for s in self._buf])
        s_hhb, _ = _slope(ts, [s.hhb_um for s in self._buf])
        self.last_features = {
            "thb_slope_um_s": s_thb,
            "o2hb_slope_um_s": s_o2,
            "hhb_slope_um_s": s_hhb,
            "thb_pulse_sd_um": sd_thb,
        }
        return (
            abs(s_thb) < self.thb_flat_um_s
            and s_o2 < -self.o2hb_fall_um_s
            and s_hhb > 0
            and abs(s_o2 + s_hhb) < self.mirror_fraction * abs(s_o2)
            and sd_thb < self.pulse_sd_um
        )


# --------------------------------------------------------------------- plan (req 17)
@dataclass(frozen=True)
class CalibrationPlan:
    """Stepwise inflation plan; checked against req 17 on construction.

    Attributes
    ----------
    levels_mmhg:
        Increasing step pressures, 10-20 mmHg apart, the last <= 300 mmHg.
    hold_s:
        Hold of each step (<= 30 s).
    deflate_s:
        Deflated pause after each step (>= 10 s when ``hold_s`` > 15 s, i.e. long steps).
    expected_aop_mmhg:
        Expected AOP (prediction or a population default); time above half of it is
        budgeted to ``above_half_budget_s`` (<= 120 s).
    """

    levels_mmhg: tuple[float, ...]
    hold_s: float
    deflate_s: float
    expected_aop_mmhg: float
    above_half_budget_s: float = ABOVE_HALF_BUDGET_S
    settle_s: float = 2.5

    def __post_init__(self) -> None:
        lv = self.levels_mmhg
        if not lv:
            raise CalibrationError("a calibration plan needs at least one level")
        if any(not math.isfinite(x) or x <= 0 for x in lv):
            raise CalibrationError(f"levels must be positive mmHg, got {lv}")
        if max(lv) > CALIBRATION_CEILING_MMHG:
            raise CalibrationError(f"levels above the {CALIBRATION_CEILING_MMHG:g} mmHg ceiling")
        for lo, hi in zip(lv[:-1], lv[1:], strict=True):
            if not STEP_MIN_MMHG - 1e-9 <= hi - lo <= STEP_MAX_MMHG + 1e-9:
                raise CalibrationError(f"step {lo:g} -> {hi:g} mmHg outside 10-20 mmHg")
        if not 0 < self.hold_s <= HOLD_MAX_S:
            raise CalibrationError(f"hold {self.hold_s:g} s outside (0, {HOLD_MAX_S:g}] s")
        if self.hold_s > LONG_STEP_S and self.deflate_s < DEFLATE_MIN_S:
            raise CalibrationError(
                f"steps held {self.hold_s:g} s need >= {DEFLATE_MIN_S:g} s deflated between them"
            )
        if self.deflate_s < 0:
            raise CalibrationError("deflate_s must be >= 0")
        if not 0 < self.above_half_budget_s <= ABOVE_HALF_BUDGET_S:
            raise CalibrationError("time budget above half the expected AOP is <= 120 s")
        if not 0 <= self.settle_s < self.hold_s:
            raise CalibrationError("settle_s must be shorter than the hold")
        validate_aop(self.expected_aop_mmhg)
        if lv[0] > PLAN_START_MAX_MMHG + 1e-9:
            raise CalibrationError(
                f"a plan must start at or below {PLAN_START_MAX_MMHG:g} mmHg (below the lowest "
                f"plausible AOP {AOP_MIN_MMHG:g}), not {lv[0]:g}: a higher start overestimates "
                "a low AOP"
            )


def plan_calibration(
    expected_aop_mmhg: float,
    *,
    step_mmhg: float = 10.0,
    hold_s: float = 6.0,
    deflate_s: float | None = None,
) -> CalibrationPlan:
    """A plan from :data:`PLAN_START_MAX_MMHG` (40 mmHg) to :data:`PLAN_TOP_MAX_MMHG`
    (290 mmHg) in ``step_mmhg`` steps.

    The start does not depend on ``expected_aop_mmhg``: the expected value only sets the
    time budget above half of it (req 17). Long steps (> 15 s, e.g. for NIRS) get a 10 s
    deflation after each one by default.
    """
    exp = validate_aop(expected_aop_mmhg)
    start = PLAN_START_MAX_MMHG
    levels = []
    x = start
    while x <= PLAN_TOP_MAX_MMHG + 1e-9:
        levels.append(round(x, 3))
        x += step_mmhg
    if deflate_s is None:
        deflate_s = DEFLATE_MIN_S if hold_s > LONG_STEP_S else 0.0
    return CalibrationPlan(tuple(levels), float(hold_s), float(deflate_s), exp)


# --------------------------------------------------------------------- runner (req 17, 21)
@dataclass
class StepRecord:
    """One held step: level, start/end (s), mean measured pressure over the hold, result."""

    level_mmhg: float
    start_s: float
    end_s: float
    mean_pressure_mmhg: float
    occluded: bool


@dataclass
class CalibrationResult:
    """Outcome of :func:`run_calibration`.

    ``status`` is ``"occluded"`` (``reading`` set), ``"no_occlusion"`` (ceiling or time
    budget reached; cuff vented) or ``"aborted"`` (guard trip; cuff vented).
    """

    status: str
    reading: AopReading | None
    reason: str
    time_above_half_s: float
    max_pressure_mmhg: float
    duration_s: float
    steps: list[StepRecord] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


def run_calibration(
    cuff: CuffController,
    plan: CalibrationPlan,
    detector: Detector,
    context: CuffContext,
    *,
    clock: Callable[[], float] = time.monotonic,
    wait: Callable[[float], None] = time.sleep,
    nirs: Callable[[], NirsSample | None] = lambda: None,
    today: Callable[[], dt.date] = dt.date.today,
    on_event: Callable[[Event], None] | None = None,
    on_tick: Callable[[float, PressureReading | None, CuffCommand], None] | None = None,
    period_s: float = 0.01,
    baseline_s: float = 3.0,
    limits: CalibrationLimits | None = None,
) -> CalibrationResult:
    """Run a stepwise AOP measurement on ``cuff`` (req 17); the cuff always ends vented.

    Every command goes through the supervisor (issue 12.1): the steps are setpoint requests
    to a :class:`~workbench.bfr.control.ControlCore` whose :class:`Supervisor` holds the
    calibration profile :class:`~workbench.bfr.limits.CalibrationLimits` (default: from
    the plan's top step, expected AOP and time budget). It heartbeats, clamps and slew-limits
    every step, and vents and latches on the training checks (pressure above 20 mmHg at
    arming, stale, frozen, implausible or disagreeing data, loop overrun, over-pressure
    drawn from the current step, > 300 mmHg on two samples, deviation, leak) and on req 17
    (step held > 30 s, < 10 s deflated after a long step, > 120 s above half the expected
    AOP, time box). A deflation between long steps is a disarm (the cuff vents) and a
    re-arm. An exception in the detector or NIRS source latches a loop-exception trip.

    Parameters
    ----------
    clock, wait:
        Time source (s) and how to let ``dt`` seconds pass (``time.sleep`` on a real cuff;
        ``lambda d: sim.advance_to(sim.t_s + d)`` on the simulator).
    nirs:
        Latest NIRS/PPG sample (for :class:`PpgDetector` / :class:`NirsDetector`).
    on_event, on_tick:
        Audit hooks (events; ``(now, reading, command)`` at every tick).
    limits:
        A stricter calibration profile; its ceiling must cover the plan's top step.
    """
    events: list[Event] = []

    def record(e: Event) -> None:
        events.append(e)
        if on_event is not None:
            on_event(e)

    def emit(kind: str, code: str, priority=None, value=None, message=None) -> None:
        record(Event(clock(), kind, code, priority, value, message))

    def from_supervisor(e: Event) -> None:
        # the calibration's own setpoints and arming are not the training session's
        if e.kind in ("setpoint", "state"):
            e = replace(e, code="calibration_" + e.code)
        record(e)

    top_mmhg = max(plan.levels_mmhg)
    if limits is None:
        limits = CalibrationLimits.for_calibration(
            context.limb,
            plan.expected_aop_mmhg,
            ceiling_mmhg=top_mmhg,
            above_half_max_s=plan.above_half_budget_s,
        )
    if not isinstance(limits, CalibrationLimits):
        raise TypeError(
            "run_calibration needs CalibrationLimits (CalibrationLimits.for_calibration)"
        )
    if top_mmhg > limits.ceiling_mmhg:
        raise CalibrationError(
            f"plan goes to {top_mmhg:g} mmHg, above the calibration ceiling {limits.ceiling_mmhg:g}"
        )
    sup = Supervisor(
        limits,
        ledger_key=f"calibration/{context.athlete_id}/{context.cuff_id}/{context.limb}",
        on_event=from_supervisor,
    )
    t_start = clock()
    max_p = 0.0
    steps: list[StepRecord] = []

    def core_tick(now: float, r: PressureReading | None, cmd: CuffCommand) -> None:
        nonlocal max_p
        if not cmd.vent and r is not None and math.isfinite(r.pressure_mmhg):
            max_p = max(max_p, r.pressure_mmhg)
        if on_tick is not None:
            on_tick(now, r, cmd)

    core = ControlCore(
        cuff,
        sup,
        clock=clock,
        regulator_params=reg.RegulatorParams(sample_period_s=period_s),
        on_tick=core_tick,
    )

    def result(status: str, reading: AopReading | None, reason: str) -> CalibrationResult:
        return CalibrationResult(
            status, reading, reason, sup.time_above_half_s, max_p, clock() - t_start, steps, events
        )

    try:
        core.arm(clock())  # refuses (and vents) a cuff above 20 mmHg (req 21)
    except SafetyError as exc:
        emit("alarm", exc.reason.value, HIGH, None, f"calibration not started: {exc}; vented")
        return result("aborted", None, f"cuff not vented at start: {exc}")
    emit("state", "calibration_start", value=plan.expected_aop_mmhg, message=detector.method)
    fresh_seq: list[int | None] = [None]

    def tick(target: float) -> float:
        """One supervised control tick toward ``target``; the fresh pressure (NaN if none).

        Raises :class:`_Abort` when the supervisor latched a trip (the cuff is vented).
        """
        core.request_setpoint(target)
        core.safe_tick(clock())
        if sup.latched:
            tr = sup.latched[0]
            raise _Abort(f"{tr.reason.value}: {tr.message}", tr.reason)
        r = core.last_reading
        if r is None or r.seq == fresh_seq[0]:
            return math.nan
        fresh_seq[0] = r.seq
        return r.pressure_mmhg

    reason = "ceiling reached without occlusion"
    status = "no_occlusion"
    reading: AopReading | None = None
    half = limits.half_expected_aop_mmhg
    budget_s = min(plan.above_half_budget_s, limits.above_half_max_s)
    try:
        # resting baseline for the detectors
        t0 = clock()
        while clock() - t0 < baseline_s:
            p = tick(0.0)
            detector.update(clock(), p, nirs(), at_rest=True)
            wait(period_s)
        for i, level in enumerate(plan.levels_mmhg):
            detector.reset()
            emit("setpoint", "calibration_step", value=level)
            ts = clock()
            ps: list[float] = []
            hit = False
            while clock() - ts < plan.hold_s:
                if sup.time_above_half_s >= budget_s:
                    raise _Budget(
                        f"{sup.time_above_half_s:.0f} s above half the expected AOP "
                        f"({half:.0f} mmHg) without occlusion"
                    )
                p = tick(level)
                now = clock()
                if now - ts >= plan.settle_s:
                    if math.isfinite(p):
                        ps.append(p)
                    if detector.update(now, p, nirs(), at_rest=False):
                        hit = True
                        break
                wait(period_s)
            mean_p = sum(ps) / len(ps) if ps else math.nan
            steps.append(StepRecord(level, ts, clock(), mean_p, hit))
            if hit and i == 0:
                raise _Abort(
                    f"{detector.method} occlusion already at the first step ({level:g} mmHg): "
                    "the AOP is at or below it and cannot be measured with this plan"
                )
            if hit:
                entered = getattr(detector, "entered_mmhg", None)
                value = entered if entered is not None else mean_p
                if not math.isfinite(value):
                    value = level
                reading = AopReading(round(value, 1), detector.method, context, today())
                status, reason = "occluded", f"{detector.method} occlusion at {value:.0f} mmHg"
                break
            if plan.deflate_s > 0 and i < len(plan.levels_mmhg) - 1:
                # >= 10 s deflated between long steps (req 17): disarmed, the core vents
                td = clock()
                sup.disarm(td)
                emit("state", "calibration_deflate", value=plan.deflate_s)
                while clock() - td < plan.deflate_s:
                    tick(0.0)
                    wait(period_s)
                core.arm(clock())  # refuses a cuff still above 20 mmHg
    except _Budget as exc:
        status, reason = "no_occlusion", str(exc)
    except _Abort as exc:
        above_budget = sup.time_above_half_s > budget_s
        if exc.reason is SafetyReason.TIME_LIMIT and above_budget:
            status = "no_occlusion"  # the supervisor's budget trip: no occlusion in time
        else:
            status = "aborted"
        reason = str(exc)
    except SafetyError as exc:  # re-arming after a deflation was refused
        status, reason = "aborted", f"{exc.reason.value}: {exc}"
    except Exception as exc:
        # the detector or the NIRS source failed: a loop exception, the cuff vents
        log.error("calibration on %s aborted; cuff vented: %r", context.cuff_id, exc)
        sup.trip(
            SafetyReason.LOOP_EXCEPTION, f"{type(exc).__name__} in calibration: {exc}", clock()
        )
        status, reason = "aborted", f"{SafetyReason.LOOP_EXCEPTION.value}: {exc!r}"
    finally:
        # end of calibration: disarmed, the core's next tick vents the cuff
        sup.disarm(clock())
        core.safe_tick(clock())
    if status == "occluded":
        emit("state", "calibration_occluded", value=reading.aop_mmhg if reading else None)
    else:
        emit("alarm", "calibration_" + status, HIGH if status == "aborted" else LOW, None, reason)
    return result(status, reading, reason)


class _Abort(Exception):
    def __init__(self, message: str, reason: SafetyReason | None = None) -> None:
        super().__init__(message)
        self.reason = reason


class _Budget(Exception):
    pass


__all__ = [
    "AGREEMENT_MMHG",
    "PREDICTION_TOLERANCE_MMHG",
    "AopReading",
    "CalibrationError",
    "CalibrationPlan",
    "CalibrationResult",
    "ConfirmedAOP",
    "CuffContext",
    "Detector",
    "DopplerDetector",
    "NirsDetector",
    "PpgDetector",
    "RemeasureRequired",
    "StepRecord",
    "confirm_aop",
    "plan_calibration",
    "predict_aop",
    "run_calibration",
]
