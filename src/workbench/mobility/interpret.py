"""Interpretation of screening results: ranges, norms, symmetry, priorities, protocols, progress.

Movements (``mobility_assessments.movement``) and their targets
-----------------------------------------------------------------
=======================  ==============  =====================================================
movement                 optimal, deg    source / measure
=======================  ==============  =====================================================
hip_flexion              120–135         mission (standing/supine hip flexion)
hip_internal_rotation    35–45           mission (seated, knee 90°)
shoulder_flexion         165–180         mission
ankle_dorsiflexion       35–45           mission (knee-to-wall lunge, tibia to vertical)
thoracic_rotation        40–50           mission (seated)
knee_extension_90_90     160–180         UNCITED target (not in the mission): knee within 20°
                                         of straight (90 = start position, 180 = straight)
hip_extension_thomas     0–15            UNCITED target (not in the mission): thigh at or
                                         below the table
=======================  ==============  =====================================================

The optimal ranges are the **mission's targets** (SCIENCE.md), not normative data; they
are shown as targets. The two marked UNCITED are working targets without a source
(:data:`TARGET_SOURCES`). Normative values come only from :mod:`workbench.mobility.reference`,
where each value is cited (Soucie 2011 / CDC table cells that could be read); groups
without a cited value have no norm (``None``), and the values previously typed from memory
were removed. Goniometric passive ROM is larger than active, camera-measured ROM: norms are
context, targets are the mission's ranges.

Minimal detectable change: ``MDC95 = 1.96 × √2 × SEM`` with the SEM of 2D-video
goniometry for the movement (:data:`workbench.mobility.reference.SEM_DEG`, each cited or
flagged uncited). Asymmetry is counted only when ``|left − right|`` exceeds
``1.96 × √(u_left² + u_right²)`` (each side's uncertainty; the SEM when unknown), and a
week-to-week change only when it exceeds the MDC.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from workbench.errors import DataFormatError

from .reference import MOBILITY_AGE_MOVEMENTS, mdc95_deg, mobility_age_years, norm_for, sem_deg

Sex = Literal["female", "male"]
Limitation = Literal["neural", "structural", "unclear"]

OPTIMAL_RANGES: dict[str, tuple[float, float]] = {
    "hip_flexion": (120.0, 135.0),
    "hip_internal_rotation": (35.0, 45.0),
    "shoulder_flexion": (165.0, 180.0),
    "ankle_dorsiflexion": (35.0, 45.0),
    "thoracic_rotation": (40.0, 50.0),
    "knee_extension_90_90": (160.0, 180.0),
    "hip_extension_thomas": (0.0, 15.0),
}
#: Where each target range comes from ("uncited" = a working target without a source).
TARGET_SOURCES: dict[str, str] = {
    "hip_flexion": "mission (SCIENCE.md)",
    "hip_internal_rotation": "mission (SCIENCE.md)",
    "shoulder_flexion": "mission (SCIENCE.md)",
    "ankle_dorsiflexion": "mission (SCIENCE.md)",
    "thoracic_rotation": "mission (SCIENCE.md)",
    "knee_extension_90_90": "uncited",
    "hip_extension_thomas": "uncited",
}
MOVEMENT_LABELS: dict[str, str] = {
    "hip_flexion": "Hip flexion",
    "hip_internal_rotation": "Hip internal rotation",
    "shoulder_flexion": "Shoulder flexion",
    "ankle_dorsiflexion": "Ankle dorsiflexion (knee-to-wall)",
    "thoracic_rotation": "Thoracic rotation",
    "knee_extension_90_90": "Hamstrings 90/90 (knee extension)",
    "hip_extension_thomas": "Hip extension (Thomas test)",
}


def mdc_deg(movement: str) -> float:
    """Minimal detectable change (95 %) of a movement, degrees (cited SEM, see reference)."""
    return mdc95_deg(movement)


def norm_deg(movement: str, *, age_years: float, sex: Sex) -> float | None:
    """Cited Soucie 2011 mean for this age and sex, ``None`` where no cited value exists."""
    n = norm_for(movement, age_years=age_years, sex=sex)
    return None if n is None else n.mean_deg


def asymmetry_is_real(
    left_deg: float,
    right_deg: float,
    *,
    movement: str,
    left_uncertainty_deg: float | None = None,
    right_uncertainty_deg: float | None = None,
) -> bool:
    """True when ``|left − right| > 1.96 × √(u_l² + u_r²)`` (u = SEM where not given)."""
    if not (np.isfinite(left_deg) and np.isfinite(right_deg)):
        return False
    sem = sem_deg(movement)
    ul = (
        sem
        if left_uncertainty_deg is None or not np.isfinite(left_uncertainty_deg)
        else left_uncertainty_deg
    )
    ur = (
        sem
        if right_uncertainty_deg is None or not np.isfinite(right_uncertainty_deg)
        else right_uncertainty_deg
    )
    return abs(float(left_deg) - float(right_deg)) > 1.96 * math.hypot(ul, ur)


def lsi_pct(left_deg: float, right_deg: float) -> float:
    """Limb symmetry index: worse / better × 100 (%, 100 = symmetric; target ≥ 90 %)."""
    worse, better = sorted((float(left_deg), float(right_deg)))
    if not np.isfinite(worse) or not np.isfinite(better):
        return float("nan")
    if better <= 0:
        raise DataFormatError(
            f"LSI needs positive ranges, got left {left_deg}, right {right_deg}; "
            "use a 0° reference where both sides are > 0"
        )
    return 100.0 * max(worse, 0.0) / better


# -- priorities -------------------------------------------------------------------------------
#: Functional weight of each movement per sport (rule table; unknown sport -> "general").
FUNCTIONAL_WEIGHTS: dict[str, dict[str, float]] = {
    "general": dict.fromkeys(OPTIMAL_RANGES, 1.0),
    "powerlifting": {
        "hip_flexion": 3.0,
        "hip_internal_rotation": 3.0,
        "hip_extension_thomas": 2.5,
        "ankle_dorsiflexion": 2.0,
        "knee_extension_90_90": 2.0,
        "thoracic_rotation": 1.0,
        "shoulder_flexion": 1.5,
    },
    "running": {
        "hip_extension_thomas": 3.0,
        "ankle_dorsiflexion": 3.0,
        "knee_extension_90_90": 2.5,
        "hip_flexion": 2.0,
        "hip_internal_rotation": 1.5,
        "thoracic_rotation": 1.0,
        "shoulder_flexion": 0.5,
    },
    "football": {
        "hip_internal_rotation": 3.0,
        "knee_extension_90_90": 3.0,
        "hip_extension_thomas": 2.5,
        "ankle_dorsiflexion": 2.5,
        "hip_flexion": 2.0,
        "thoracic_rotation": 1.0,
        "shoulder_flexion": 0.5,
    },
    "swimming": {
        "shoulder_flexion": 3.0,
        "thoracic_rotation": 3.0,
        "ankle_dorsiflexion": 1.0,
        "hip_flexion": 1.0,
        "hip_internal_rotation": 1.0,
        "knee_extension_90_90": 1.0,
        "hip_extension_thomas": 1.5,
    },
    "throwing": {
        "shoulder_flexion": 3.0,
        "thoracic_rotation": 3.0,
        "hip_internal_rotation": 2.5,
        "hip_flexion": 1.5,
        "hip_extension_thomas": 1.5,
        "ankle_dorsiflexion": 1.0,
        "knee_extension_90_90": 1.0,
    },
}
SPORT_ALIASES = {
    "deadlift": "powerlifting",
    "deadlifter": "powerlifting",
    "weightlifting": "powerlifting",
    "strength": "powerlifting",
    "soccer": "football",
    "rugby": "football",
    "tennis": "throwing",
    "baseball": "throwing",
    "volleyball": "throwing",
    "handball": "throwing",
    "endurance": "running",
    "sprint": "running",
    "sprinting": "running",
    "basketball": "football",
    "triathlon": "running",
}
#: Multiplier of the asymmetry term by goal (injury prevention weighs asymmetry most).
GOAL_ASYMMETRY_FACTOR = {"performance": 1.0, "injury_prevention": 2.0, "return_to_play": 2.0}
#: Sport-specific emphasis on asymmetry of some movements (e.g. hips for a deadlifter).
ASYMMETRY_EMPHASIS = {
    "powerlifting": {"hip_flexion": 2.0, "hip_internal_rotation": 2.0, "hip_extension_thomas": 2.0},
    "running": {"hip_extension_thomas": 1.5, "ankle_dorsiflexion": 1.5},
    "football": {"hip_internal_rotation": 1.5, "knee_extension_90_90": 1.5},
}


def sport_key(sport: str | None) -> str:
    """Rule-table key for a sport name (``general`` when unknown)."""
    s = (sport or "general").strip().lower().replace(" ", "_")
    s = SPORT_ALIASES.get(s, s)
    return s if s in FUNCTIONAL_WEIGHTS else "general"


def priorities(
    results: pd.DataFrame, *, sport: str | None = None, goal: str = "performance"
) -> pd.DataFrame:
    """Rank movements by deficit × functional weight.

    Rule: ``score = weight(sport, movement) × (deficit_pct + a × asymmetry_pct)`` where
    ``deficit_pct = max(0, optimal_low − worse side) / optimal_low × 100`` (for a 0° target,
    the deficit in degrees), ``asymmetry_pct = max(0, 90 − LSI)`` and
    ``a = GOAL_ASYMMETRY_FACTOR[goal] × ASYMMETRY_EMPHASIS[sport][movement]`` (default 1).

    Parameters
    ----------
    results:
        One row per movement with columns ``movement``, ``left_deg``, ``right_deg``
        (``both_deg`` alone is accepted for unsided movements).

    Returns
    -------
    DataFrame
        Input columns plus ``optimal_low_deg``, ``optimal_high_deg``, ``lsi_pct``,
        ``deficit_pct``, ``asymmetry_pct`` (0 unless the asymmetry exceeds the combined
        uncertainty, see :func:`asymmetry_is_real`), ``weight``, ``score``, ``priority``
        (1 = first; 0 when nothing to fix), sorted by priority. Optional input columns
        ``left_uncertainty_deg`` / ``right_uncertainty_deg`` refine the asymmetry test.
    """
    key = sport_key(sport)
    weights = FUNCTIONAL_WEIGHTS[key]
    a_goal = GOAL_ASYMMETRY_FACTOR.get(goal, 1.0)
    rows = []
    for rec in results.to_dict("records"):
        mv = rec["movement"]
        if mv not in OPTIMAL_RANGES:
            continue
        lo, hi = OPTIMAL_RANGES[mv]
        left, right = float(rec.get("left_deg", np.nan)), float(rec.get("right_deg", np.nan))
        sided = np.isfinite(left) and np.isfinite(right)
        worse = min(left, right) if sided else np.nanmin([left, right, rec.get("both_deg", np.nan)])
        # LSI is a ratio: meaningless when the target range starts at 0° (Thomas test)
        lsi = lsi_pct(left, right) if sided and lo > 0 and min(left, right) > 0 else np.nan
        deficit = max(0.0, lo - worse)
        deficit_pct = deficit / lo * 100.0 if lo > 0 else deficit
        real = sided and asymmetry_is_real(
            left,
            right,
            movement=mv,
            left_uncertainty_deg=rec.get("left_uncertainty_deg"),
            right_uncertainty_deg=rec.get("right_uncertainty_deg"),
        )
        asym = max(0.0, 90.0 - lsi) if np.isfinite(lsi) and real else 0.0
        a = a_goal * ASYMMETRY_EMPHASIS.get(key, {}).get(mv, 1.0)
        w = weights.get(mv, 1.0)
        rows.append(
            rec
            | {
                "optimal_low_deg": lo,
                "optimal_high_deg": hi,
                "lsi_pct": lsi,
                "deficit_pct": deficit_pct,
                "asymmetry_pct": asym,
                "weight": w,
                "score": w * (deficit_pct + a * asym),
            }
        )
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out = out.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
    rank = np.arange(1, len(out) + 1)
    out["priority"] = np.where(out["score"] > 0, rank, 0)
    return out


# -- neural vs structural ---------------------------------------------------------------------
@dataclass(frozen=True)
class LimitationCall:
    """Neural vs structural call with a confidence (0..1) and its reason."""

    kind: Limitation
    confidence: float
    reason: str


def classify_limitation(
    slow_deg: float,
    fast_deg: float,
    *,
    movement: str,
    after_relaxation_deg: float | None = None,
    slow_peak_velocity_deg_s: float | None = None,
    fast_peak_velocity_deg_s: float | None = None,
) -> LimitationCall:
    """Neural (velocity-dependent) vs structural (fixed) end range.

    Rule: ``d = slow − fast``. ``d > MDC`` → neural (the stop comes earlier when moving fast),
    confidence ``0.5 + 0.45 × min(1, (d − MDC) / MDC)``, +0.1 (max 0.95) when range after an
    isometric/relaxation also exceeds the slow range by > MDC. ``|d| ≤ MDC / 2`` → structural
    (same end range at both speeds), confidence ``0.5 + 0.4 × (1 − |d| / (MDC / 2))``.
    Otherwise unclear (confidence 0.3): repeat the test.

    When the reps' velocity profiles are given (peak angular speed of the approach to each
    hold, :class:`~workbench.mobility.holds.EndRange`), the call needs the fast rep to have
    been at least 1.5× faster than the slow one; otherwise it is ``unclear`` ("the fast
    attempt was not faster"). This is a flag from two attempts, not a diagnosis.
    """
    mdc = mdc_deg(movement)
    d = float(slow_deg) - float(fast_deg)
    if not np.isfinite(d):
        return LimitationCall("unclear", 0.0, "slow and fast attempts both needed")
    vs, vf = slow_peak_velocity_deg_s, fast_peak_velocity_deg_s
    if vs is not None and vf is not None:
        if not (np.isfinite(vs) and np.isfinite(vf) and vs > 0):
            return LimitationCall("unclear", 0.0, "no velocity profile for one of the reps")
        if vf < 1.5 * vs:
            return LimitationCall(
                "unclear",
                0.2,
                f"the fast attempt was not faster (peak {vf:.0f} vs {vs:.0f}°/s): repeat it",
            )
    if d > mdc:
        conf = 0.5 + 0.45 * min(1.0, (d - mdc) / mdc)
        reason = f"range {d:.0f}° smaller when fast (MDC {mdc:.0f}°): velocity-dependent stop"
        if after_relaxation_deg is not None and after_relaxation_deg - slow_deg > mdc:
            conf = min(0.95, conf + 0.1)
            reason += "; range improves after relaxation"
        return LimitationCall("neural", round(conf, 2), reason)
    if abs(d) <= mdc / 2:
        conf = 0.5 + 0.4 * (1.0 - abs(d) / (mdc / 2))
        reason = f"same end range slow and fast (Δ {d:.0f}°, MDC {mdc:.0f}°): fixed stop"
        return LimitationCall("structural", round(conf, 2), reason)
    return LimitationCall("unclear", 0.3, f"Δ {d:.0f}° between MDC/2 and MDC ({mdc:.0f}°)")


# -- mobility age -----------------------------------------------------------------------------
def mobility_age(values_deg: Mapping[str, float], *, sex: Sex) -> float | None:
    """Age (years) whose cited Soucie 2011 norm matches the athlete's range.

    Uses only movements with at least two cited age groups
    (:data:`~workbench.mobility.reference.MOBILITY_AGE_MOVEMENTS`: shoulder flexion, groups
    2–8 and 20–44 y), interpolated between group midpoints; ``None`` outside the cited span
    (no extrapolation) or without a usable value.
    """
    ages = []
    for mv in MOBILITY_AGE_MOVEMENTS:
        v = values_deg.get(mv)
        if v is None or not np.isfinite(v):
            continue
        age = mobility_age_years(mv, float(v), sex=sex)
        if age is not None:
            ages.append(age)
    return float(np.mean(ages)) if ages else None


# -- protocol ---------------------------------------------------------------------------------
#: movement -> (neural exercise, structural exercise)
EXERCISES: dict[str, tuple[str, str]] = {
    "hip_flexion": (
        "supine knee-to-chest with end-range hip-flexor isometrics",
        "loaded deep goblet-squat hold / rockback",
    ),
    "hip_internal_rotation": (
        "90/90 hip switch with end-range internal-rotation lift-offs",
        "loaded 90/90 internal-rotation stretch",
    ),
    "shoulder_flexion": (
        "wall slide with end-range lift-offs and breathing",
        "weighted overhead bench stretch / loaded lat stretch",
    ),
    "ankle_dorsiflexion": (
        "knee-to-wall rocks with end-range calf isometrics",
        "loaded half-kneeling ankle stretch + slow eccentric calf raises",
    ),
    "thoracic_rotation": (
        "open-book with breathing and end-range holds",
        "loaded seated rotation stretch (band or dowel)",
    ),
    "knee_extension_90_90": (
        "90/90 hamstring contract-relax (PNF)",
        "Nordic eccentrics + long supine hamstring stretch",
    ),
    "hip_extension_thomas": (
        "half-kneeling hip-flexor stretch with glute isometrics and breathing",
        "couch stretch, long holds, + eccentric split squats",
    ),
}
MODALITY = {
    "neural": (
        "end-range isometrics + breathing",
        "3 rounds: 5 breaths at end range, 3 × 6 s contraction at 30–50 % effort",
        30.0,
    ),
    "structural": (
        "loaded progressive stretching, eccentrics",
        "3 × 2 min holds at end range, load +5 % per week; eccentrics 3 × 8 (4 s lowering)",
        120.0,
    ),
    "unclear": (
        "mixed: isometrics then long holds",
        "2 × 60 s hold + 5 × 5 s end-range contractions; retest slow vs fast",
        60.0,
    ),
}
PROGRESSION_RULE = (
    "Retest weekly. Two weeks without a new best (no gain) → change the stimulus "
    "(neural → add load / structural → switch to end-range isometrics; or change the exercise)."
)


def protocol(
    ranked: pd.DataFrame,
    limitations: Mapping[str, LimitationCall] | None = None,
    *,
    max_items: int = 3,
) -> pd.DataFrame:
    """Daily protocol for the top priorities.

    Parameters
    ----------
    ranked:
        Output of :func:`priorities`.
    limitations:
        ``movement -> LimitationCall`` where known (else ``unclear``).

    Returns
    -------
    DataFrame
        ``priority``, ``movement``, ``side`` (the worse side, or both), ``limitation``,
        ``confidence``, ``exercise``, ``modality``, ``dose``, ``hold_s``, ``frequency``.
    """
    rows = []
    todo = ranked[ranked["priority"] > 0].head(max_items) if not ranked.empty else ranked
    for rec in todo.to_dict("records"):
        mv = rec["movement"]
        call = (limitations or {}).get(mv, LimitationCall("unclear", 0.0, "not tested"))
        modality, dose, hold_s = MODALITY[call.kind]
        neural_ex, structural_ex = EXERCISES[mv]
        exercise = neural_ex if call.kind == "neural" else structural_ex
        left, right = rec.get("left_deg", np.nan), rec.get("right_deg", np.nan)
        if np.isfinite(left) and np.isfinite(right) and rec.get("asymmetry_pct", 0) > 0:
            side = "left" if left < right else "right"
            dose = dose + f"; worse side ({side}) first, 2:1 volume"
        else:
            side = "both"
        rows.append(
            {
                "priority": int(rec["priority"]),
                "movement": mv,
                "side": side,
                "limitation": call.kind,
                "confidence": call.confidence,
                "exercise": exercise,
                "modality": modality,
                "dose": dose,
                "hold_s": hold_s,
                "frequency": "daily",
            }
        )
    return pd.DataFrame(rows)


def progression_status(dates: pd.Series, values_deg: pd.Series, *, window_days: int = 14) -> str:
    """Apply the progression rule to one movement/side history.

    Returns ``"progressing"`` when the last ``window_days`` set a new best, ``"change
    stimulus"`` when they did not, ``"too early"`` with under ``window_days`` of history.
    """
    d = pd.to_datetime(pd.Series(dates)).reset_index(drop=True)
    v = pd.Series(values_deg, dtype=float).reset_index(drop=True)
    if d.empty or (d.max() - d.min()).days < window_days:
        return "too early"
    cut = d.max() - pd.Timedelta(days=window_days)
    before, recent = v[d <= cut], v[d > cut]
    if recent.empty:
        return "change stimulus"
    return "progressing" if recent.max() > before.max() else "change stimulus"


def progress(history: pd.DataFrame) -> pd.DataFrame:
    """Weekly progress with minimal-detectable-change bands.

    Parameters
    ----------
    history:
        ``mobility_assessments`` rows (``date``, ``movement``, ``side``, ``angle_deg``).

    Returns
    -------
    DataFrame
        ``movement``, ``side``, ``week`` (Monday), ``angle_deg`` (best of the week),
        ``baseline_deg`` (first week), ``change_deg``, ``mdc_deg``, ``band_low_deg``,
        ``band_high_deg`` (baseline ± MDC), ``real_change`` (|change| > MDC).
    """
    if history.empty:
        return pd.DataFrame(
            columns=[
                "movement", "side", "week", "angle_deg", "baseline_deg", "change_deg",
                "mdc_deg", "band_low_deg", "band_high_deg", "real_change",
            ]
        )  # fmt: skip
    h = history.copy()
    h["date"] = pd.to_datetime(h["date"])
    h["week"] = h["date"].dt.to_period("W-SUN").dt.start_time
    weekly = h.groupby(["movement", "side", "week"], as_index=False)["angle_deg"].max()
    weekly = weekly.sort_values(["movement", "side", "week"])
    weekly["baseline_deg"] = weekly.groupby(["movement", "side"])["angle_deg"].transform("first")
    weekly["change_deg"] = weekly["angle_deg"] - weekly["baseline_deg"]
    weekly["mdc_deg"] = weekly["movement"].map(mdc_deg)
    weekly["band_low_deg"] = weekly["baseline_deg"] - weekly["mdc_deg"]
    weekly["band_high_deg"] = weekly["baseline_deg"] + weekly["mdc_deg"]
    weekly["real_change"] = weekly["change_deg"].abs() > weekly["mdc_deg"]
    return weekly.reset_index(drop=True)


def results_table(
    assessments: pd.DataFrame,
    *,
    sport: str | None = None,
    goal: str = "performance",
    age_years: float | None = None,
    sex: Sex | None = None,
) -> pd.DataFrame:
    """The screening summary of the latest assessment of each movement.

    Parameters
    ----------
    assessments:
        ``mobility_assessments`` rows of one athlete.

    Returns
    -------
    DataFrame
        ``movement``, ``label``, ``optimal_rom`` (text), ``target_source``, ``left_deg``,
        ``right_deg``, ``lsi_pct``, ``norm_deg`` and ``norm_source`` (cited Soucie 2011 cell,
        ``None`` where none exists; only if age and sex are given), ``priority`` plus the
        scoring columns of :func:`priorities`.
    """
    if assessments.empty:
        raise DataFormatError("no mobility assessments to summarise")
    a = assessments[assessments["movement"].isin(list(OPTIMAL_RANGES))].copy()
    if "speed" in a:  # slow (controlled) attempts define the range; fast ones the limitation
        a = a[a["speed"].fillna("slow") == "slow"]
    a["date"] = pd.to_datetime(a["date"])
    latest = a[a["date"] == a.groupby("movement")["date"].transform("max")]
    wide = latest.pivot_table(index="movement", columns="side", values="angle_deg", aggfunc="max")
    wide = wide.rename(columns={c: f"{c}_deg" for c in wide.columns}).reset_index()
    for col in ("left_deg", "right_deg"):
        if col not in wide:
            wide[col] = np.nan
    if "both_deg" in wide:
        wide["left_deg"] = wide["left_deg"].fillna(wide["both_deg"])
        wide["right_deg"] = wide["right_deg"].fillna(wide["both_deg"])
    ranked = priorities(wide[["movement", "left_deg", "right_deg"]], sport=sport, goal=goal)
    ranked.insert(1, "label", ranked["movement"].map(MOVEMENT_LABELS))
    ranked.insert(
        2,
        "optimal_rom",
        [
            f"{lo:.0f}–{hi:.0f}°"
            for lo, hi in zip(ranked["optimal_low_deg"], ranked["optimal_high_deg"], strict=True)
        ],
    )
    ranked.insert(3, "target_source", ranked["movement"].map(TARGET_SOURCES))
    if age_years is not None and sex is not None:
        norms = [norm_for(m, age_years=age_years, sex=sex) for m in ranked["movement"]]
        ranked["norm_deg"] = [None if n is None else n.mean_deg for n in norms]
        ranked["norm_source"] = [None if n is None else n.source for n in norms]
    return ranked


def assessment_rows(
    athlete_id: str,
    date: object,
    screen: str,
    movement: str,
    values: Mapping[str, tuple[float, str]],
    *,
    speed: str | None = "slow",
    source: str = "video",
) -> list[dict[str, object]]:
    """``mobility_assessments`` rows: ``values`` maps side -> (angle_deg, quality)."""
    rows = []
    for side, (angle, quality) in values.items():
        if side not in ("left", "right", "both"):
            raise DataFormatError(f"side must be left/right/both, got {side!r}", field="side")
        if quality not in ("good", "fair", "poor"):
            raise DataFormatError(f"quality must be good/fair/poor, got {quality!r}")
        if angle is None or not np.isfinite(angle):
            continue
        rows.append(
            {
                "athlete_id": athlete_id,
                "date": pd.Timestamp(date).date(),
                "screen": screen,
                "movement": movement,
                "side": side,
                "angle_deg": float(angle),
                "quality": quality,
                "speed": speed,
                "source": source,
            }
        )
    return rows
