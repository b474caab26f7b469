"""BFR protocol presets for the populations the field trains with BFR.

Each preset fixes a pressure range (% AOP), a load (% 1RM), sets/reps (30-15-15-15), rest
and the restriction time per exercise. Presets are frozen; :meth:`ProtocolPreset.edit`
returns a changed copy and rejects (``PrescriptionError``) anything outside the limits
(40-80 % AOP and the preset's range, 20-40 % 1RM, 30-60 s rest, 1-6 sets of 5-40 reps,
restriction <= 10 min that fits the planned sets). Sources: Patterson SD et al. 2019, Front
Physiol 10:533; Hughes L et al. 2017/2019 (rehabilitation, incl. after ACL
reconstruction); Centner C et al. 2019 (older adults). Why: ``docs/decisions/0004-bfr-control.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

from workbench.bfr.limits import (
    PERCENT_AOP_MAX,
    PERCENT_AOP_MIN,
    PrescriptionError,
    validate_percent_aop,
)

LOAD_PCT_1RM_MIN, LOAD_PCT_1RM_MAX = 20.0, 40.0
REST_MIN_S, REST_MAX_S = 30.0, 60.0
RESTRICTION_MAX_S = 600.0
#: Seconds per repetition used to estimate a set's duration (0.5 Hz cadence).
REP_S = 2.0


@dataclass(frozen=True)
class ProtocolPreset:
    """A BFR protocol for one population (all pressures in % AOP, loads in % 1RM).

    Attributes
    ----------
    key, name, population:
        Identifier, display name, who it is for.
    percent_aop_range:
        Allowed pressure range of this preset (inside 40-80 %).
    percent_aop:
        Default prescription inside ``percent_aop_range``.
    load_pct_1rm_range, load_pct_1rm:
        Allowed and default load (inside 20-40 % 1RM).
    scheme:
        Repetitions per set, e.g. ``(30, 15, 15, 15)``.
    rest_s:
        Rest between sets (cuff stays inflated), 30-60 s.
    restriction_max_s:
        Maximum restriction (inflated) time per exercise, <= 600 s.
    sessions_per_week:
        Suggested frequency (min, max).
    notes:
        Practical remarks shown to the operator.
    """

    key: str
    name: str
    population: str
    percent_aop_range: tuple[float, float]
    percent_aop: float
    load_pct_1rm_range: tuple[float, float]
    load_pct_1rm: float
    scheme: tuple[int, ...] = (30, 15, 15, 15)
    rest_s: float = 30.0
    restriction_max_s: float = 600.0
    sessions_per_week: tuple[int, int] = (2, 3)
    notes: str = ""

    def __post_init__(self) -> None:
        lo, hi = (validate_percent_aop(x) for x in self.percent_aop_range)
        if lo > hi:
            raise PrescriptionError(f"pressure range {lo:g}-{hi:g} % AOP is reversed")
        pct = validate_percent_aop(self.percent_aop)
        if not lo <= pct <= hi:
            raise PrescriptionError(
                f"{pct:g} % AOP is outside this preset's range {lo:g}-{hi:g} % ({self.name})"
            )
        llo, lhi = (_num(x, "load % 1RM") for x in self.load_pct_1rm_range)
        for v in (llo, lhi):
            _check_load(v)
        if llo > lhi:
            raise PrescriptionError(f"load range {llo:g}-{lhi:g} % 1RM is reversed")
        load = _check_load(_num(self.load_pct_1rm, "load % 1RM"))
        if not llo <= load <= lhi:
            raise PrescriptionError(
                f"load {load:g} % 1RM is outside this preset's range {llo:g}-{lhi:g} %"
            )
        if not isinstance(self.scheme, tuple) or not 1 <= len(self.scheme) <= 6:
            raise PrescriptionError(f"scheme must be a tuple of 1-6 sets, got {self.scheme!r}")
        for r in self.scheme:
            if isinstance(r, bool) or not isinstance(r, int) or not 5 <= r <= 40:
                raise PrescriptionError(f"reps per set must be integers 5-40, got {r!r}")
        rest = _num(self.rest_s, "rest")
        if not REST_MIN_S <= rest <= REST_MAX_S:
            raise PrescriptionError(f"rest {rest:g} s outside {REST_MIN_S:g}-{REST_MAX_S:g} s")
        rmax = _num(self.restriction_max_s, "restriction time")
        if not 0 < rmax <= RESTRICTION_MAX_S:
            raise PrescriptionError(
                f"restriction time {rmax:g} s per exercise outside (0, {RESTRICTION_MAX_S:g}] s"
            )
        if self.planned_restriction_s > rmax:
            raise PrescriptionError(
                f"{self.scheme_label} with {rest:g} s rest takes about "
                f"{self.planned_restriction_s:.0f} s, more than the {rmax:g} s allowed"
            )

    @property
    def scheme_label(self) -> str:
        """E.g. ``"30-15-15-15"``."""
        return "-".join(str(r) for r in self.scheme)

    @property
    def planned_restriction_s(self) -> float:
        """Inflated time of the scheme: reps x 2 s plus the rests between sets, s."""
        return sum(self.scheme) * REP_S + (len(self.scheme) - 1) * float(self.rest_s)

    def edit(self, **changes: object) -> ProtocolPreset:
        """A copy with ``changes`` (field names); raises :class:`PrescriptionError` if any
        value leaves the limits. ``key`` cannot change."""
        names = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise PrescriptionError(f"unknown preset fields {unknown}")
        if "key" in changes and changes["key"] != self.key:
            raise PrescriptionError("a preset's key cannot be edited; copy it under a new key")
        if "scheme" in changes and isinstance(changes["scheme"], list):
            changes["scheme"] = tuple(changes["scheme"])  # type: ignore[arg-type]
        return replace(self, **changes)  # type: ignore[arg-type]


def _num(v: object, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise PrescriptionError(f"{name} must be a finite number, got {v!r}")
    return float(v)


def _check_load(v: float) -> float:
    if 0 < v <= 1.0:
        raise PrescriptionError(f"load {v:g} looks like a fraction; give % 1RM (e.g. {v * 100:g})")
    if not LOAD_PCT_1RM_MIN <= v <= LOAD_PCT_1RM_MAX:
        raise PrescriptionError(
            f"load {v:g} % 1RM outside the BFR range {LOAD_PCT_1RM_MIN:g}-{LOAD_PCT_1RM_MAX:g} %"
        )
    return v


def _presets() -> dict[str, ProtocolPreset]:
    return {
        p.key: p
        for p in (
            ProtocolPreset(
                key="post_injury_rehab",
                name="Post-injury rehabilitation (e.g. after ACL reconstruction)",
                population="patients in rehabilitation who cannot load heavily",
                percent_aop_range=(60.0, 80.0),
                percent_aop=70.0,
                load_pct_1rm_range=(20.0, 30.0),
                load_pct_1rm=20.0,
                rest_s=30.0,
                restriction_max_s=480.0,
                sessions_per_week=(2, 3),
                notes="Start at 20 % 1RM and the low end of the range; progress pressure "
                "before load. Cuff on the operated limb only with the surgeon's consent "
                "(screening: recent surgery under the cuff blocks).",
            ),
            ProtocolPreset(
                key="older_adults",
                name="Older adults",
                population="adults >= 60 y (relative contraindication: supervisor override)",
                percent_aop_range=(40.0, 60.0),
                percent_aop=50.0,
                load_pct_1rm_range=(20.0, 30.0),
                load_pct_1rm=25.0,
                rest_s=60.0,
                restriction_max_s=480.0,
                sessions_per_week=(2, 3),
                notes="Lower pressures are as effective with wide cuffs; longer rest.",
            ),
            ProtocolPreset(
                key="in_season_athletes",
                name="In-season athletes",
                population="athletes maintaining strength with little fatigue",
                percent_aop_range=(50.0, 80.0),
                percent_aop=60.0,
                load_pct_1rm_range=(20.0, 40.0),
                load_pct_1rm=30.0,
                rest_s=30.0,
                restriction_max_s=300.0,
                sessions_per_week=(2, 3),
                notes="2-3 short sessions a week; keep away from match day -1.",
            ),
            ProtocolPreset(
                key="home_smart_cuff",
                name="Home training with a smart cuff",
                population="trained users at home with an automatic, self-venting cuff",
                percent_aop_range=(40.0, 60.0),
                percent_aop=50.0,
                load_pct_1rm_range=(20.0, 30.0),
                load_pct_1rm=20.0,
                rest_s=45.0,
                restriction_max_s=420.0,
                sessions_per_week=(2, 3),
                notes="Unsupervised: conservative pressure range; the cuff must measure "
                "AOP itself and vent on its own watchdog.",
            ),
        )
    }


def presets() -> dict[str, ProtocolPreset]:
    """All built-in presets by key (a new dict each call)."""
    return _presets()


def get_preset(key: str) -> ProtocolPreset:
    """The preset ``key``; unknown keys raise ``KeyError`` listing the known ones."""
    ps = _presets()
    if key not in ps:
        raise KeyError(f"unknown BFR preset {key!r}; known: {sorted(ps)}")
    return ps[key]


__all__ = [
    "LOAD_PCT_1RM_MAX",
    "LOAD_PCT_1RM_MIN",
    "PERCENT_AOP_MAX",
    "PERCENT_AOP_MIN",
    "ProtocolPreset",
    "get_preset",
    "presets",
]
