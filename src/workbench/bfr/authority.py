"""Who may arm a cuff: only limits issued from a confirmed AOP or a logged override (req 2).

:meth:`CuffLimits.for_session <workbench.bfr.limits.CuffLimits.for_session>` builds limits
from any valid number, fine for validation and display but never enough to arm a cuff.
Arming needs an authorization issued here: :func:`authorize_confirmed` (by
:meth:`ConfirmedAOP.limits <workbench.bfr.calibration.ConfirmedAOP.limits>` after it
verified its seal) or :func:`authorize_override` (a named supervisor and a reason, logged).
It belongs to one :class:`CuffLimits` object and its values: a copy, ``replace``, pickle
or in-place edit is not authorized. Why: ``docs/decisions/0006-bfr-true-pressure-and-arming.md``.
"""

from __future__ import annotations

import dataclasses
import threading
import weakref
from dataclasses import dataclass

from workbench.bfr.limits import CuffLimits
from workbench.errors import SafetyError, SafetyReason
from workbench.log import get_logger

log = get_logger(__name__)

#: Shortest accepted override reason (characters): a reason is a sentence, not "ok".
MIN_REASON_CHARS = 10

SOURCES = ("confirmed_aop", "override")


@dataclass(frozen=True)
class Authorization:
    """Why a :class:`CuffLimits` object may arm a cuff.

    ``source`` is ``"confirmed_aop"`` (``who`` is the context, ``reason`` the readings) or
    ``"override"`` (``who`` is the supervisor, ``reason`` theirs).
    """

    source: str
    who: str
    reason: str
    fields: tuple

    @property
    def summary(self) -> str:
        """One line for the audit log."""
        return f"{self.source} by {self.who}: {self.reason}"


_lock = threading.Lock()
_grants: dict[int, tuple[weakref.ref, Authorization]] = {}


def _fields(limits: CuffLimits) -> tuple:
    return tuple(getattr(limits, f.name) for f in dataclasses.fields(limits))


def _grant(limits: CuffLimits, source: str, who: str, reason: str) -> CuffLimits:
    if type(limits) is not CuffLimits:
        raise TypeError(f"only CuffLimits can be authorized, got {type(limits).__name__}")
    if source not in SOURCES:
        raise ValueError(f"unknown authorization source {source!r}")
    # a fresh object: the caller's (possibly shared) instance never becomes authorized
    fresh = dataclasses.replace(limits)
    key = id(fresh)

    def _drop(_ref: weakref.ref, key: int = key) -> None:
        with _lock:
            entry = _grants.get(key)
            if entry is not None and entry[0] is _ref:
                del _grants[key]

    auth = Authorization(source, who, reason, _fields(fresh))
    with _lock:
        _grants[key] = (weakref.ref(fresh, _drop), auth)
    return fresh


def authorization(limits: object) -> Authorization | None:
    """The authorization of this exact ``limits`` object, or None (copies never have one)."""
    with _lock:
        entry = _grants.get(id(limits))
    if entry is None or entry[0]() is not limits:
        return None
    auth = entry[1]
    if not isinstance(limits, CuffLimits) or _fields(limits) != auth.fields:
        return None  # edited in place after issue
    return auth


def require_authorization(limits: object) -> Authorization:
    """Return the authorization of ``limits`` or raise :class:`SafetyError` (nothing arms)."""
    auth = authorization(limits)
    if auth is None:
        raise SafetyError(
            "these limits were not issued from a confirmed AOP: arming refused. Use "
            "BfrSession (screening, two agreeing AOP readings, prescription) or "
            "ConfirmedAOP.limits(); a supervised override needs authorize_override(limits, "
            "supervisor=..., reason=...)",
            reason=SafetyReason.AOP_INVALID,
        )
    return auth


def authorize_confirmed(limits: CuffLimits, *, context: str, readings: str) -> CuffLimits:
    """Authorize limits derived from a verified :class:`ConfirmedAOP` (calibration only)."""
    return _grant(limits, "confirmed_aop", context, readings)


def authorize_override(limits: CuffLimits, *, supervisor: str, reason: str) -> CuffLimits:
    """A supervised override: ``limits`` may arm a cuff without a confirmed AOP.

    Returns a new, authorized copy (the object passed in stays unauthorized). The override
    is logged now and written to the audit log (``override`` event) when a supervisor arms.

    Raises
    ------
    ValueError
        No supervisor's name, or a reason shorter than :data:`MIN_REASON_CHARS`.
    TypeError
        ``limits`` is not a :class:`CuffLimits`.
    """
    if not isinstance(supervisor, str) or not supervisor.strip():
        raise ValueError("an override needs the supervisor's name")
    if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON_CHARS:
        raise ValueError(
            f"an override needs a written reason (>= {MIN_REASON_CHARS} characters), got {reason!r}"
        )
    out = _grant(limits, "override", supervisor.strip(), reason.strip())
    log.info(
        "BFR limits override by %s (AOP %.0f mmHg, %s): %s",
        supervisor.strip(),
        limits.aop_mmhg,
        limits.limb,
        reason.strip(),
    )
    return out


__all__ = [
    "Authorization",
    "authorization",
    "authorize_confirmed",
    "authorize_override",
    "require_authorization",
]
