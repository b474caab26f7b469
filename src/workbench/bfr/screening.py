"""Pre-session BFR screening (BFR-SAFETY req 20): checklist, resting BP, overrides.

No inflation until a screening is complete *for the day*: absolute contraindications block,
relative ones need a named supervisor's override with a reason, BP >= 180/110 mmHg blocks,
and every item must be answered explicitly (a missing answer is not a "no").

>>> form = ScreeningForm("ath01", dt.date(2026, 11, 24), answers=all_clear(),
...                      systolic_mmhg=122, diastolic_mmhg=78, screened_by="J. Tech")
>>> evaluate_screening(form).cleared
True
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from workbench.errors import SafetyError, SafetyReason

#: Absolute contraindications: any "yes" blocks BFR (no override possible).
ABSOLUTE: dict[str, str] = {
    "dvt_vte_history": "history of deep-vein thrombosis / venous thromboembolism",
    "clotting_disorder": "clotting disorder",
    "peripheral_arterial_disease": "peripheral arterial disease",
    "sickle_cell": "sickle cell disease or trait",
    "open_fracture_or_wound_under_cuff": "open fracture or wound under the cuff",
    "pregnancy": "pregnancy",
    "active_cancer": "active cancer",
    "recent_surgery_under_cuff": "recent surgery under the cuff",
}
#: Relative contraindications: a "yes" needs a named supervisor's override with a reason.
RELATIVE: dict[str, str] = {
    "hypertension": "hypertension",
    "diabetes": "diabetes",
    "varicose_veins": "varicose veins",
    "age_60_or_over": "age 60 or over",
    "smoking": "smoking",
    "medication": "medication raising clotting risk (e.g. hormonal contraception)",
}
#: Resting BP at or above either value blocks (mmHg).
BP_BLOCK_SYSTOLIC_MMHG = 180.0
BP_BLOCK_DIASTOLIC_MMHG = 110.0


class ScreeningError(SafetyError, ValueError):
    """Screening incomplete, invalid or blocking; inflation is refused."""

    def __init__(self, message: str):
        SafetyError.__init__(self, message, reason=SafetyReason.SCREENING)


def all_clear() -> dict[str, bool]:
    """Answers with every checklist item explicitly "no" (a convenience for tests/demos)."""
    return {k: False for k in (*ABSOLUTE, *RELATIVE)}


@dataclass(frozen=True)
class Override:
    """A supervisor's decision to allow a relative contraindication.

    Attributes
    ----------
    item:
        Key of :data:`RELATIVE` (absolute items cannot be overridden).
    supervisor:
        Name of the responsible supervisor (not empty).
    reason:
        Why BFR is acceptable despite it (not empty, >= 10 characters).
    """

    item: str
    supervisor: str
    reason: str

    def __post_init__(self) -> None:
        if self.item in ABSOLUTE:
            raise ScreeningError(
                f"{ABSOLUTE[self.item]} is an absolute contraindication; it cannot be overridden"
            )
        if self.item not in RELATIVE:
            raise ScreeningError(f"unknown relative contraindication {self.item!r}")
        if not isinstance(self.supervisor, str) or not self.supervisor.strip():
            raise ScreeningError(f"override of {self.item!r} needs the supervisor's name")
        if not isinstance(self.reason, str) or len(self.reason.strip()) < 10:
            raise ScreeningError(
                f"override of {self.item!r} needs a reason (at least 10 characters)"
            )


def _bp(value: object, name: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ScreeningError(f"resting {name} BP must be a number in mmHg, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ScreeningError(f"resting {name} BP is {v}; measure it again")
    if 5.0 <= v <= 30.0:
        raise ScreeningError(f"resting {name} BP {v:g} looks like kPa; enter mmHg")
    if not lo <= v <= hi:
        raise ScreeningError(f"resting {name} BP {v:g} mmHg is implausible ({lo:g}-{hi:g})")
    return v


@dataclass(frozen=True)
class ScreeningForm:
    """One completed checklist for one athlete on one day.

    Attributes
    ----------
    athlete_id, day:
        Who and which calendar day the screening is valid for.
    answers:
        ``item -> bool`` for every key of :data:`ABSOLUTE` and :data:`RELATIVE`.
    systolic_mmhg, diastolic_mmhg:
        Resting blood pressure, mmHg.
    screened_by:
        Name of the person who took the screening.
    overrides:
        Supervisor overrides of relative contraindications answered "yes".
    medications:
        Free text (listed medication), kept for the record.
    """

    athlete_id: str
    day: dt.date
    answers: Mapping[str, bool]
    systolic_mmhg: float
    diastolic_mmhg: float
    screened_by: str
    overrides: tuple[Override, ...] = ()
    medications: str = ""


@dataclass(frozen=True)
class ScreeningResult:
    """Outcome of :func:`evaluate_screening`.

    ``cleared`` is True only when nothing blocks and every relative "yes" is overridden.
    ``reasons`` lists every finding in words (for the audit log and the panel).
    """

    athlete_id: str
    day: dt.date
    cleared: bool
    blocking: tuple[str, ...]
    needs_override: tuple[str, ...]
    overridden: tuple[Override, ...]
    systolic_mmhg: float
    diastolic_mmhg: float
    screened_by: str
    reasons: tuple[str, ...] = field(default=())

    def require_cleared(self, today: dt.date) -> None:
        """Raise :class:`ScreeningError` unless cleared for ``today`` (req 20)."""
        if self.day != today:
            raise ScreeningError(
                f"screening is from {self.day.isoformat()}, not today ({today.isoformat()}); "
                "screen the athlete again"
            )
        if not self.cleared:
            raise ScreeningError("screening does not clear BFR: " + "; ".join(self.reasons))


def evaluate_screening(form: ScreeningForm) -> ScreeningResult:
    """Evaluate a checklist: blocks, overrides needed, BP (req 20).

    Raises
    ------
    ScreeningError
        When the form is incomplete (an unanswered or unknown item, non-bool answer, no
        screener's name) or the BP is not a plausible mmHg value. A complete form that
        blocks returns ``cleared=False`` with reasons instead.
    """
    if not isinstance(form.athlete_id, str) or not form.athlete_id.strip():
        raise ScreeningError("screening needs the athlete id")
    if not isinstance(form.day, dt.date):
        raise ScreeningError(f"screening day must be a date, got {form.day!r}")
    if not isinstance(form.screened_by, str) or not form.screened_by.strip():
        raise ScreeningError("screening needs the name of the person who took it")
    items = (*ABSOLUTE, *RELATIVE)
    unknown = sorted(set(form.answers) - set(items))
    if unknown:
        raise ScreeningError(f"unknown checklist items {unknown}")
    missing = [k for k in items if k not in form.answers]
    if missing:
        raise ScreeningError(f"checklist incomplete: no answer for {missing}")
    bad = [k for k, v in form.answers.items() if not isinstance(v, bool)]
    if bad:
        raise ScreeningError(f"answers must be True/False, not {[form.answers[k] for k in bad]}")
    sbp = _bp(form.systolic_mmhg, "systolic", 60.0, 260.0)
    dbp = _bp(form.diastolic_mmhg, "diastolic", 30.0, 160.0)
    if dbp >= sbp:
        raise ScreeningError(f"diastolic {dbp:g} >= systolic {sbp:g} mmHg; swapped? measure again")
    reasons: list[str] = []
    blocking = [k for k in ABSOLUTE if form.answers[k]]
    reasons += [f"absolute contraindication: {ABSOLUTE[k]}" for k in blocking]
    if sbp >= BP_BLOCK_SYSTOLIC_MMHG or dbp >= BP_BLOCK_DIASTOLIC_MMHG:
        blocking.append("resting_bp")
        reasons.append(
            f"resting BP {sbp:.0f}/{dbp:.0f} mmHg >= "
            f"{BP_BLOCK_SYSTOLIC_MMHG:.0f}/{BP_BLOCK_DIASTOLIC_MMHG:.0f}"
        )
    overrides = {o.item: o for o in form.overrides}
    needs: list[str] = []
    used: list[Override] = []
    for k in RELATIVE:
        if not form.answers[k]:
            continue
        if k in overrides:
            o = overrides[k]
            used.append(o)
            reasons.append(f"{RELATIVE[k]}: overridden by {o.supervisor} ({o.reason})")
        else:
            needs.append(k)
            reasons.append(f"relative contraindication needs a supervisor override: {RELATIVE[k]}")
    return ScreeningResult(
        athlete_id=form.athlete_id,
        day=form.day,
        cleared=not blocking and not needs,
        blocking=tuple(blocking),
        needs_override=tuple(needs),
        overridden=tuple(used),
        systolic_mmhg=sbp,
        diastolic_mmhg=dbp,
        screened_by=form.screened_by,
        reasons=tuple(reasons),
    )


__all__ = [
    "ABSOLUTE",
    "BP_BLOCK_DIASTOLIC_MMHG",
    "BP_BLOCK_SYSTOLIC_MMHG",
    "RELATIVE",
    "Override",
    "ScreeningError",
    "ScreeningForm",
    "ScreeningResult",
    "all_clear",
    "evaluate_screening",
]
