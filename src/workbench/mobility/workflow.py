"""The screening workflow of ``notebooks/mobility_screen.ipynb``, as plain functions.

Athlete context (age, sex, goal key from the store's free-text fields), screening a video
file, turning the sessions into a table and ``mobility_assessments`` rows, the results
table with cited norms, the slow-vs-fast limitation calls and the progression status. The
notebook only calls these and displays what they return.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .interpret import (
    LimitationCall,
    assessment_rows,
    classify_limitation,
    mobility_age,
    progress,
    progression_status,
    results_table,
)
from .screening import SCREENS, ScreeningSession, screen_video


@dataclass(frozen=True)
class AthleteContext:
    """What the interpretation needs to know about the athlete."""

    athlete_id: str
    name: str
    sex: str  # "female" / "male"
    age_years: float
    sport: str | None
    goal: str  # key of interpret.GOAL_ASYMMETRY_FACTOR
    goal_text: str | None

    def describe(self) -> str:
        """One line: name, sex, age, sport and goal."""
        return (
            f"{self.name} ({self.athlete_id}), {self.sex}, {self.age_years:.0f} y, "
            f"{self.sport}: {self.goal_text}"
        )


def goal_key(goal_text: str | None) -> str:
    """Map a free-text goal to a goal key (``return_to_play``, ``injury_prevention``,
    ``performance``)."""
    g = (goal_text or "").lower()
    if "return" in g or "rehab" in g:
        return "return_to_play"
    if "injur" in g or "prevent" in g:
        return "injury_prevention"
    return "performance"


def athlete_context(
    store: Any, athlete_id: str | None = None, *, today: dt.date | None = None
) -> AthleteContext:
    """Athlete context from the store (first athlete when ``athlete_id`` is ``None``)."""
    if athlete_id is None:
        athlete_id = str(store.athletes()["athlete_id"].iloc[0])
    a = store.athlete(athlete_id)
    today = today or dt.date.today()
    age = (today - pd.Timestamp(a["birth_date"]).date()).days / 365.25
    sex = "female" if str(a.get("sex", "")).upper().startswith("F") else "male"
    goal_text = a.get("goal")
    return AthleteContext(
        athlete_id,
        str(a.get("name", athlete_id)),
        sex,
        age,
        a.get("sport"),
        goal_key(goal_text),
        goal_text,
    )


def sessions_table(sessions: dict[str, ScreeningSession]) -> pd.DataFrame:
    """One row per side: captures, best and median, the best capture's uncertainty, its hold
    stability and whether the two halves of the hold agree, quality."""
    rows = []
    for side, s in sessions.items():
        best = max(s.captures, key=lambda c: c.angle_deg) if s.captures else None
        hold = best.hold if best is not None else None
        rows.append(
            {
                "side": side,
                "captures_deg": [round(c.angle_deg, 1) for c in s.captures],
                "best_deg": None if best is None else round(best.angle_deg, 1),
                "uncertainty_deg": None
                if best is None or best.uncertainty_deg is None
                else round(best.uncertainty_deg, 1),
                "hold_s": None if hold is None else round(hold.duration_s, 2),
                "stability_deg": None if hold is None else round(hold.stability_deg, 1),
                "halves_agree": None if hold is None else hold.halves_agree,
                "median_deg": s.median_deg,
                "quality": s.quality,
                "phase": s.phase.value,
                "last_prompt": None
                if s.last_view is None or s.last_view.ok
                else s.last_view.message,
            }
        )
    return pd.DataFrame(rows)


def screen_file(
    path: str | os.PathLike[str], screen: str, *, max_frames: int | None = None, **timing: float
) -> tuple[dict[str, ScreeningSession], pd.DataFrame]:
    """Run ``screen`` on a video for both sides; returns the sessions and their table."""
    sessions = screen_video(path, screen, max_frames=max_frames, **timing)
    return sessions, sessions_table(sessions)


def session_rows(
    athlete_id: str, date: object, screen: str, sessions: dict[str, ScreeningSession]
) -> list[dict[str, object]]:
    """``mobility_assessments`` rows of the sides that captured a value (hold-based only)."""
    values = {
        side: (s.best_deg, s.quality)
        for side, s in sessions.items()
        if s.best_deg is not None and any(c.hold is not None for c in s.captures)
    }
    return assessment_rows(
        athlete_id, date, screen, SCREENS[screen].movement, values, source="video"
    )


def results(history: pd.DataFrame, ctx: AthleteContext) -> tuple[pd.DataFrame, float | None]:
    """Results table (with cited norms where they exist) and the mobility age (or ``None``)."""
    table = results_table(
        history,
        sport=ctx.sport,
        goal=ctx.goal,
        age_years=ctx.age_years,
        sex=ctx.sex,  # type: ignore[arg-type]
    )
    latest = table.set_index("movement")[["left_deg", "right_deg"]].max(axis=1).to_dict()
    return table, mobility_age(latest, sex=ctx.sex)  # type: ignore[arg-type]


def limitation_calls(history: pd.DataFrame) -> dict[str, LimitationCall]:
    """Neural vs structural call per movement from the latest day with slow and fast attempts
    (worse side of each speed)."""
    calls: dict[str, LimitationCall] = {}
    if history.empty or "speed" not in history:
        return calls
    both = history.groupby(["movement", "date"])["speed"].transform("nunique") == 2
    paired = history[both]
    if paired.empty:
        return calls
    last = paired[paired["date"] == paired.groupby("movement")["date"].transform("max")]
    for mv, g in last.groupby("movement"):
        by_speed = g.groupby("speed")["angle_deg"].min()
        calls[str(mv)] = classify_limitation(by_speed["slow"], by_speed["fast"], movement=str(mv))
    return calls


def weekly_progress(history: pd.DataFrame) -> pd.DataFrame:
    """Weekly best of the slow attempts with MDC bands (see :func:`.interpret.progress`)."""
    if "speed" in history:
        history = history[history["speed"].fillna("slow") == "slow"]
    return progress(history)


def progression(history: pd.DataFrame) -> pd.DataFrame:
    """Progression status per movement and side."""
    status = {
        (mv, side): progression_status(g["date"], g["angle_deg"])
        for (mv, side), g in history.groupby(["movement", "side"])
    }
    out = pd.Series(status, name="progression", dtype=object).to_frame()
    return out if len(out) else pd.DataFrame(columns=["progression"])


def fmt_age(age: float | None, ctx: AthleteContext) -> str:
    """Mobility age line; says so when the cited norms cannot place the athlete."""
    if age is None or not np.isfinite(age):
        return f"mobility age: not estimable from cited norms (chronological {ctx.age_years:.0f} y)"
    return f"mobility age: {age:.0f} y (chronological {ctx.age_years:.0f} y)"


def limitation_from_sessions(slow: ScreeningSession, fast: ScreeningSession) -> LimitationCall:
    """Neural vs structural call from a slow and a fast session of the same screen and side.

    Uses each session's best hold-based capture and the peak speed of the rep that reached
    it (the fast rep must have been ≥ 1.5× faster, see
    :func:`~workbench.mobility.interpret.classify_limitation`).
    """

    def best(s: ScreeningSession):
        held = [c for c in s.captures if c.hold is not None]
        return max(held, key=lambda c: c.angle_deg) if held else None

    bs, bf = best(slow), best(fast)
    if bs is None or bf is None:
        return LimitationCall("unclear", 0.0, "a held end range is needed at both speeds")
    assert bs.hold is not None and bf.hold is not None
    return classify_limitation(
        bs.angle_deg,
        bf.angle_deg,
        movement=slow.screen.movement,
        slow_peak_velocity_deg_s=bs.hold.peak_velocity_deg_s,
        fast_peak_velocity_deg_s=bf.hold.peak_velocity_deg_s,
    )
