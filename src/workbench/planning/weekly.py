"""Next week's integrated plan: heavy days guided by readiness, BFR when recovery is low or
joints need protection, mobility aimed at the priorities, a recovery-assessment morning.

Pure domain logic below widgets, reports and dashboards (which all show the plan): no store,
no HTML. :func:`plan_context` gathers what :func:`weekly_plan` needs from readiness rows and
training sessions.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.errors import DataFormatError
from workbench.readiness.advice import cap_band, format_score, readiness_call

#: Recovery status from readiness -> most hard days allowed next week.
MAX_HARD_DAYS = {"good": 3, "moderate": 2, "low": 1, "ill": 0, "unknown": 3}
#: Mean soreness (1-10, last 7 days) at or above which joints need protection.
SORENESS_PROTECT_1_10 = 6.0
#: Volume factor of a hard day when recovery is only moderate (or a load spike is flagged).
MODERATE_VOLUME = 0.8
#: Mobility sessions per week.
MOBILITY_SESSIONS = 3
BFR_SESSION = (
    "BFR strength, low load: 20-30 % 1RM, 30-15-15-15 reps, 30-60 s rest, 40-80 % AOP "
    "(wide cuff: low end), 5-10 min under pressure per exercise"
)
ASSESSMENT = (
    "Recovery assessment (morning): 5-min supine HRV, resting HR, wellness questionnaire, "
    "countermovement jump, re-screen of the priority movements"
)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
FOCI = ("rest", "easy", "moderate", "hard", "bfr")


@dataclass(frozen=True)
class PlanContext:
    """Everything :func:`weekly_plan` needs, for one athlete.

    Attributes
    ----------
    athlete_id:
        The athlete.
    week_start:
        Monday of the week being planned.
    day_load_au:
        Seven planned (or typical) loads in AU, Monday first; 0 is a rest day.
    day_session:
        Seven session names (``""`` on rest days), Monday first.
    band:
        Latest readiness band: ``"go hard"``, ``"moderate"``, ``"recovery"`` or
        ``"insufficient data"``.
    score:
        Latest readiness score 0-100 (NaN when unknown).
    hrv_below_normal:
        7-day lnRMSSD below the personal normal range on the latest day.
    illness_flag, overtraining_warning, load_spike:
        Flags of the latest days (any in the last 3 days for illness, the week for the others).
    soreness_1_10:
        Mean soreness over the last 7 days (NaN when not reported).
    mobility_priorities:
        Movements to work on, most important first; ``None`` when no interpretation is
        available (the plan then schedules general mobility and says why).
    unplanned_days:
        Days (0 = Monday) after the last planned session, whose loads are typical ones.
    """

    athlete_id: str
    week_start: dt.date
    day_load_au: tuple[float, ...]
    day_session: tuple[str, ...]
    band: str
    score: float = math.nan
    hrv_below_normal: bool = False
    illness_flag: bool = False
    overtraining_warning: bool = False
    load_spike: bool = False
    soreness_1_10: float = math.nan
    mobility_priorities: tuple[str, ...] | None = None
    unplanned_days: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if len(self.day_load_au) != 7 or len(self.day_session) != 7:
            raise DataFormatError(
                f"day_load_au and day_session need 7 values (Mon-Sun), got "
                f"{len(self.day_load_au)} and {len(self.day_session)}",
                field="day_load_au",
            )
        loads = np.asarray(self.day_load_au, dtype=float)
        if not np.all(np.isfinite(loads)) or np.any(loads < 0):
            raise DataFormatError(
                f"day_load_au must be finite and >= 0, got {self.day_load_au}", field="day_load_au"
            )
        if pd.Timestamp(self.week_start).day_of_week != 0:
            raise DataFormatError(
                f"week_start {self.week_start} is not a Monday", field="week_start"
            )


@dataclass
class WeeklyPlan:
    """Next week's plan.

    Attributes
    ----------
    days:
        Seven rows: ``date, weekday, focus`` (rest/easy/moderate/hard/bfr), ``session``,
        ``planned_load_au``, ``mobility`` (session text or ``""``), ``assessment`` (bool),
        ``why`` (the reason for that day).
    status:
        Recovery status used: ``good``, ``moderate``, ``low``, ``ill`` or ``unknown``.
    summary:
        Sentences explaining the week's shape.
    """

    days: pd.DataFrame
    status: str
    summary: list[str] = field(default_factory=list)

    def to_records(self) -> list[dict]:
        """JSON-ready rows."""
        out = self.days.assign(date=self.days["date"].astype(str))
        return out.to_dict("records")


#: Recovery status of the plan for each day's action of :func:`readiness_call`.
STATUS_OF_ACTION = {
    "train hard": "good",
    "moderate": "moderate",
    "recovery": "low",
    "insufficient data": "unknown",
}


def _week_call(ctx: PlanContext) -> str:
    """The action of :func:`readiness_call` for the latest band lowered by the week's flags."""
    band = str(
        cap_band(
            ctx.band,
            hrv_below_normal=ctx.hrv_below_normal,
            illness_flag=ctx.illness_flag,
            overtraining_warning=ctx.overtraining_warning,
            load_spike=ctx.load_spike,
        )[()]
    )
    return readiness_call(
        band,
        illness_flag=ctx.illness_flag,
        overtraining_warning=ctx.overtraining_warning,
        load_spike=ctx.load_spike,
    )


def recovery_status(ctx: PlanContext) -> str:
    """``ill``, ``low``, ``moderate``, ``good`` or ``unknown``.

    The rule of the daily advice (:func:`workbench.readiness.advice.readiness_call`) applied
    to the latest band and the week's flags, so the plan is never more permissive than the
    latest day's advice: ``ill`` with a possible illness in the last 3 days, else the status
    of that action (:data:`STATUS_OF_ACTION`).
    """
    if ctx.illness_flag:
        return "ill"
    return STATUS_OF_ACTION[_week_call(ctx)]


def _status_reason(ctx: PlanContext, status: str) -> str:
    """Why ``status`` is below what the latest band alone gives (``""`` when it is not)."""
    latest = readiness_call(
        ctx.band, illness_flag=False, overtraining_warning=False, load_spike=False
    )
    order = ("ill", "low", "moderate", "good")
    own = STATUS_OF_ACTION[latest]
    if own not in order or order.index(status) >= order.index(own):
        return ""
    why = [
        text
        for flag, text in (
            (ctx.illness_flag, "possible illness in the last 3 days"),
            (ctx.overtraining_warning, "overtraining warning this week"),
            (ctx.hrv_below_normal, "HRV 7-day mean below normal range"),
            (ctx.load_spike, "load-spike flag this week"),
        )
        if flag
    ]
    return "; lowered by " + ", ".join(why)


def _classify(loads: np.ndarray) -> list[str]:
    top = loads.max() if loads.size else 0.0
    out = []
    for x in loads:
        if x <= 0 or top <= 0:
            out.append("rest")
        elif x >= 0.8 * top:
            out.append("hard")
        elif x < 0.45 * top:
            out.append("easy")
        else:
            out.append("moderate")
    return out


def weekly_plan(ctx: PlanContext) -> WeeklyPlan:
    """Build next week's integrated plan.

    Rules, in order:

    1. The week's rhythm comes from ``day_load_au``: 0 = rest, >= 80 % of the week's biggest
       load = hard, < 45 % = easy, else moderate.
    2. Recovery status caps the hard days (good 3, moderate 2, low 1, ill 0). With low
       recovery the first two days are easy and the hard days kept are the latest ones.
    3. Hard days that are dropped become BFR days (low load, high stimulus) when recovery is
       low or joints need protection (mean soreness >= 6/10); otherwise moderate. Illness:
       easy or rest only, no BFR. With joint protection one kept hard day also becomes BFR.
       With moderate recovery or a load-spike flag the kept hard days lose 20 % volume.
    4. Three mobility sessions on the lightest non-hard days, aimed at the priorities.
    5. A recovery-assessment morning the day after the rest day (or on the lightest day).

    Returns
    -------
    WeeklyPlan
    """
    loads = np.asarray(ctx.day_load_au, dtype=float)
    focus = _classify(loads)
    status = recovery_status(ctx)
    protect = math.isfinite(ctx.soreness_1_10) and ctx.soreness_1_10 >= SORENESS_PROTECT_1_10
    factor = np.ones(7)
    why = [""] * 7
    summary: list[str] = []
    summary.append(
        f"Recovery status {status} (latest readiness {format_score(ctx.score)}, band "
        f"{ctx.band}{_status_reason(ctx, status)}): at most {MAX_HARD_DAYS[status]} hard day(s)."
    )
    if ctx.unplanned_days:
        names = ", ".join(WEEKDAYS[d] for d in ctx.unplanned_days)
        summary.append(
            f"No sessions planned yet for {names}: their loads are the typical ones of the "
            "4 weeks before."
        )

    if status in ("low", "ill"):
        for d in (0, 1):
            if focus[d] in ("hard", "moderate"):
                focus[d] = "easy"
                factor[d] = 0.5
                why[d] = "easy start: recovery is low, rebuild before loading"
    hard = [d for d in range(7) if focus[d] == "hard"]
    keep = MAX_HARD_DAYS[status]
    kept = hard[-keep:] if keep and status in ("low", "ill") else hard[:keep]
    for d in hard:
        if d in kept:
            continue
        if status == "ill":
            focus[d], factor[d] = "easy", 0.3
            why[d] = "possible illness: no intensity until symptoms and markers settle"
        elif status == "low" or protect:
            focus[d], factor[d] = "bfr", 0.0
            why[d] = "BFR instead of heavy loading: " + (
                "recovery is low" if status == "low" else "joints need protection"
            )
        else:
            focus[d], factor[d] = "moderate", MODERATE_VOLUME
            why[d] = f"hard day capped: {status} recovery allows {keep} hard days"
    if protect and "bfr" not in focus and kept:
        d = kept[0]
        focus[d], factor[d] = "bfr", 0.0
        why[d] = f"BFR to protect joints: mean soreness {ctx.soreness_1_10:.1f}/10 this week"
        kept = kept[1:]
    for d in kept:
        if status == "moderate":
            factor[d] = MODERATE_VOLUME
            why[d] = "hard day kept, volume -20 % (moderate readiness or load-spike flag)"
        else:
            why[d] = (
                "key session: readiness supports heavy work"
                if status == "good"
                else (
                    "key session kept late in the week, after recovery days"
                    if status == "low"
                    else "key session as planned (readiness baseline still forming)"
                )
            )
    if status == "ill":
        summary.append("Possible illness: easy or rest days only; no BFR, no intensity.")
    if "bfr" in focus:
        reason = "recovery is low" if status == "low" else "joints need protection"
        summary.append(f"BFR day(s) replace heavy loading because {reason}.")
    if protect:
        summary.append(
            f"Mean soreness {ctx.soreness_1_10:.1f}/10 (>= {SORENESS_PROTECT_1_10:.0f}): "
            "joint-sparing work preferred."
        )

    # mobility: the lightest non-hard days, spread out
    order = sorted(
        (d for d in range(7) if focus[d] != "hard"), key=lambda d: (loads[d] * factor[d], d)
    )
    mob_days: list[int] = []
    for d in order:
        if len(mob_days) == MOBILITY_SESSIONS:
            break
        if all(abs(d - m) > 1 for m in mob_days):
            mob_days.append(d)
    for d in order:  # fill when spacing left too few
        if len(mob_days) < MOBILITY_SESSIONS and d not in mob_days:
            mob_days.append(d)
    if ctx.mobility_priorities:
        pr = list(ctx.mobility_priorities)
        targets = [pr[i % len(pr)] for i in range(len(mob_days))]
        mob_text = [
            f"mobility 25 min: {t.replace('_', ' ')} (priority {pr.index(t) + 1})" for t in targets
        ]
        summary.append(
            "Mobility aimed at the priorities: "
            + ", ".join(p.replace("_", " ") for p in pr[:3])
            + "."
        )
    else:
        mob_text = [
            "mobility 25 min: general routine (hips, ankles, thoracic spine, shoulders)"
        ] * len(mob_days)
        summary.append(
            "Mobility priorities are not available (no interpretation of the screens): "
            "general mobility scheduled."
        )

    rest_days = [d for d in range(7) if loads[d] <= 0]
    lightest = rest_days[0] if rest_days else int(np.argmin(loads))
    assess = lightest + 1 if lightest < 6 else lightest
    summary.append(
        f"Recovery assessment on {WEEKDAYS[assess]} morning"
        + (f", after the {WEEKDAYS[lightest]} rest day" if assess != lightest else "")
        + ": compare HRV, resting HR and jump height with the baseline before loading again."
    )

    rows = []
    for d in range(7):
        session = ctx.day_session[d] or ""
        f = focus[d]
        if f == "rest":
            session = "rest"
        elif f == "bfr":
            session = BFR_SESSION
        elif f == "easy" and factor[d] < 1:
            session = f"{session or 'session'} (easy, {factor[d] * 100:.0f} % volume)"
        elif factor[d] != 1:
            session = f"{session or 'session'} ({factor[d] * 100:.0f} % volume)"
        rows.append(
            {
                "date": ctx.week_start + dt.timedelta(days=d),
                "weekday": WEEKDAYS[d],
                "focus": f,
                "session": session,
                "planned_load_au": float(round(loads[d] * factor[d], 1)),
                "mobility": mob_text[mob_days.index(d)] if d in mob_days else "",
                "assessment": d == assess,
                "why": why[d] or ("rest day" if f == "rest" else "as planned"),
            }
        )
    return WeeklyPlan(days=pd.DataFrame(rows), status=status, summary=summary)


def _typical_week(
    s: pd.DataFrame, start: pd.Timestamp
) -> tuple[tuple[float, ...], tuple[str, ...]] | None:
    """Mean done load per weekday of the 4 weeks before ``start`` (``None`` without any)."""
    past = s[
        (s["status"] == "done")
        & s["date"].between(start - pd.Timedelta(days=28), start - pd.Timedelta(days=1))
    ]
    if past.empty:
        return None
    daily = past.groupby("date")["load_au"].sum()
    daily = daily.reindex(
        pd.date_range(start - pd.Timedelta(days=28), start - pd.Timedelta(days=1)), fill_value=0.0
    )
    load = daily.groupby(daily.index.day_of_week).mean().reindex(range(7), fill_value=0.0)
    names = (
        past.groupby(past["date"].dt.day_of_week)["session_type"]
        .agg(lambda x: x.value_counts().index[0])
        .reindex(range(7), fill_value="")
    )
    return tuple(float(round(x, 1)) for x in load), tuple(str(x) for x in names)


def _rhythm(
    sessions: pd.DataFrame, week_start: dt.date
) -> tuple[tuple[float, ...], tuple[str, ...], tuple[int, ...]]:
    """Loads and session names of the week, and the days that are not planned yet.

    Planned loads (``planned_load_au`` of planned and already done sessions) up to the last
    planned session; days after it (the plan does not reach them yet, they are not rest days)
    and weeks without any plan take the mean done load per weekday of the 4 weeks before.
    """
    start = pd.Timestamp(week_start)
    end = start + pd.Timedelta(days=6)
    s = sessions.copy()
    if s.empty:
        return (0.0,) * 7, ("",) * 7, ()
    s["date"] = pd.to_datetime(s["date"])
    typical = _typical_week(s, start)
    planned = s[s["date"].between(start, end) & s["planned_load_au"].notna()]
    if planned.empty:
        if typical is None:
            return (0.0,) * 7, ("",) * 7, ()
        return typical[0], typical[1], tuple(range(7))
    by_day = planned.groupby(planned["date"].dt.day_of_week)
    load = by_day["planned_load_au"].sum().reindex(range(7), fill_value=0.0).fillna(0.0)
    names = by_day["session_type"].agg(" + ".join).reindex(range(7), fill_value="")
    loads, labels = [float(x) for x in load], [str(x) for x in names]
    horizon = s.loc[s["planned_load_au"].notna(), "date"].max()
    unplanned = tuple(d for d in range(7) if start + pd.Timedelta(days=d) > horizon)
    if typical is None:
        unplanned = ()
    for d in unplanned:
        loads[d], labels[d] = typical[0][d], typical[1][d]
    return tuple(loads), tuple(labels), unplanned


def plan_context(
    athlete_id: str,
    week_start: dt.date,
    readiness: pd.DataFrame,
    sessions: pd.DataFrame,
    soreness_1_10: float = math.nan,
    mobility_priorities: tuple[str, ...] | None = None,
) -> PlanContext:
    """Context for planning the week starting ``week_start`` (a Monday).

    Parameters
    ----------
    readiness:
        Rows of :func:`workbench.readiness.compute_readiness` for this athlete up to the day
        before ``week_start``.
    sessions:
        The athlete's training sessions (planned and done) around the week.
    soreness_1_10:
        Mean soreness of the last 7 days.
    mobility_priorities:
        Movements in priority order, or ``None`` when unavailable.
    """
    loads, names, unplanned = _rhythm(sessions, week_start)
    r = readiness[readiness["athlete_id"] == athlete_id].sort_values("date")
    r = r[r["date"] < pd.Timestamp(week_start)]
    if r.empty:
        return PlanContext(
            athlete_id,
            week_start,
            loads,
            names,
            band="insufficient data",
            soreness_1_10=soreness_1_10,
            mobility_priorities=mobility_priorities,
            unplanned_days=unplanned,
        )
    last = r.iloc[-1]
    week = r.tail(7)
    return PlanContext(
        athlete_id=athlete_id,
        week_start=week_start,
        day_load_au=loads,
        day_session=names,
        band=str(last["band"]),
        score=float(last["score"]) if pd.notna(last["score"]) else math.nan,
        hrv_below_normal=str(last.get("hrv_flag", "")).startswith("below"),
        illness_flag=bool(r.tail(3)["illness_flag"].fillna(False).astype(bool).any()),
        overtraining_warning=bool(week["overtraining_warning"].fillna(False).astype(bool).any()),
        load_spike=bool(week["load_spike_flag"].fillna(False).astype(bool).any()),
        soreness_1_10=soreness_1_10,
        mobility_priorities=mobility_priorities,
        unplanned_days=unplanned,
    )
