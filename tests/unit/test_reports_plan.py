"""The integrated weekly plan (pure) and ISO-week handling."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from workbench.errors import DataFormatError
from workbench.planning import BFR_SESSION, PlanContext, plan_context, weekly_plan
from workbench.reports.weeks import IsoWeek

MONDAY = dt.date(2026, 11, 23)
# Mon moderate, Tue easy, Wed hard, Thu easy, Fri moderate, Sat hard, Sun rest (+ a 3rd hard Thu)
LOADS = (400.0, 180.0, 700.0, 650.0, 400.0, 720.0, 0.0)
NAMES = ("ut1", "ut2", "intervals", "tempo", "ut1", "race_pace", "")


def ctx(**kw) -> PlanContext:
    base = dict(
        athlete_id="a",
        week_start=MONDAY,
        day_load_au=LOADS,
        day_session=NAMES,
        band="go hard",
        score=88.0,
    )
    base.update(kw)
    return PlanContext(**base)


def test_good_recovery_keeps_the_hard_days():
    p = weekly_plan(ctx())
    assert p.status == "good"
    assert list(p.days["focus"]) == ["moderate", "easy", "hard", "hard", "moderate", "hard", "rest"]
    assert not (p.days["focus"] == "bfr").any()
    assert p.days["planned_load_au"].tolist() == list(LOADS)
    assert len(p.days) == 7 and p.days["date"].iloc[0] == MONDAY


def test_moderate_readiness_caps_hard_days_and_volume():
    p = weekly_plan(ctx(band="moderate", score=70.0))
    assert p.status == "moderate"
    assert (p.days["focus"] == "hard").sum() == 2
    hard = p.days[p.days["focus"] == "hard"]
    assert (hard["planned_load_au"] < [LOADS[i] for i in hard.index]).all()  # -20 % volume
    assert not (p.days["focus"] == "bfr").any()


def test_low_recovery_gives_bfr_days_easy_start_and_one_late_hard_day():
    p = weekly_plan(ctx(band="recovery", score=45.0, hrv_below_normal=True))
    f = list(p.days["focus"])
    assert p.status == "low"
    assert f.count("hard") == 1 and f.index("hard") == 5  # the latest one kept
    assert f[:2] == ["easy", "easy"]
    assert "bfr" in f
    bfr = p.days[p.days["focus"] == "bfr"].iloc[0]
    assert bfr["session"] == BFR_SESSION and "recovery is low" in bfr["why"]
    assert any("BFR" in s for s in p.summary)


def test_illness_means_no_intensity_and_no_bfr():
    p = weekly_plan(ctx(illness_flag=True))
    assert p.status == "ill"
    assert set(p.days["focus"]) <= {"easy", "rest", "moderate"}
    assert not (p.days["focus"].isin(["hard", "bfr"])).any()


def test_sore_joints_turn_a_hard_day_into_bfr_even_when_ready():
    p = weekly_plan(ctx(soreness_1_10=7.0))
    assert p.status == "good"
    assert (p.days["focus"] == "bfr").sum() == 1
    assert "joints" in p.days.loc[p.days["focus"] == "bfr", "why"].iloc[0]


def test_mobility_sessions_target_priorities_on_non_hard_days():
    p = weekly_plan(ctx(mobility_priorities=("hip_flexion", "ankle_dorsiflexion")))
    mob = p.days[p.days["mobility"] != ""]
    assert len(mob) == 3
    assert (mob["focus"] != "hard").all()
    assert mob["mobility"].str.contains("hip flexion").any()
    assert mob["mobility"].str.contains("ankle dorsiflexion").any()


def test_without_priorities_the_plan_says_why():
    p = weekly_plan(ctx())
    assert any("not available" in s for s in p.summary)
    assert (p.days["mobility"] != "").sum() == 3


def test_recovery_assessment_is_the_morning_after_the_rest_day():
    loads = (0.0, 300.0, 700.0, 200.0, 650.0, 300.0, 500.0)
    p = weekly_plan(ctx(day_load_au=loads))
    assert p.days["assessment"].sum() == 1
    assert p.days.loc[p.days["assessment"], "weekday"].item() == "Tue"
    # rest day on Sunday: the assessment falls on Sunday itself (last day of the week)
    p = weekly_plan(ctx())
    assert p.days.loc[p.days["assessment"], "weekday"].item() == "Sun"


@pytest.mark.parametrize(
    "kw",
    [
        {"day_load_au": (1.0,) * 6},
        {"day_load_au": (1.0, 2.0, 3.0, -1.0, 0.0, 0.0, 0.0)},
        {"day_load_au": (1.0, 2.0, 3.0, math.nan, 0.0, 0.0, 0.0)},
        {"week_start": dt.date(2026, 11, 24)},
    ],
)
def test_bad_context_is_refused(kw):
    with pytest.raises(DataFormatError):
        ctx(**kw)


def test_plan_context_from_readiness_rows_and_sessions():
    days = pd.date_range("2026-11-16", "2026-11-22")
    ready = pd.DataFrame(
        {
            "athlete_id": "a",
            "date": days,
            "score": [80, 75, 70, 60, 55, 50, 45.0],
            "band": ["moderate"] * 4 + ["recovery"] * 3,
            "hrv_flag": ["within normal range"] * 6 + ["below normal range"],
            "illness_flag": False,
            "overtraining_warning": False,
            "load_spike_flag": [False] * 6 + [True],
        }
    )
    sessions = pd.DataFrame(
        {
            "athlete_id": "a",
            "date": pd.to_datetime(["2026-11-23", "2026-11-25", "2026-11-28"]),
            "session_type": ["ut1", "intervals", "long"],
            "status": ["done", "planned", "planned"],
            "load_au": [300.0, math.nan, math.nan],
            "planned_load_au": [320.0, 700.0, 600.0],
        }
    )
    c = plan_context("a", MONDAY, ready, sessions, soreness_1_10=3.0)
    assert c.band == "recovery" and c.score == 45.0
    assert c.hrv_below_normal and c.load_spike and not c.illness_flag
    assert c.day_load_au == (320.0, 0.0, 700.0, 0.0, 0.0, 600.0, 0.0)
    assert c.day_session[2] == "intervals"
    assert weekly_plan(c).status == "low"


def test_iso_week_parse_and_bounds():
    w = IsoWeek.parse("2026-W47")
    assert (w.start, w.end) == (dt.date(2026, 11, 16), dt.date(2026, 11, 22))
    assert w.label == "2026-W47" and w.shift(1).label == "2026-W48"
    assert IsoWeek.of(dt.date(2027, 1, 1)).label == "2026-W53"
    for bad in ("2026-47", "2026-W54", "W47", ""):
        with pytest.raises(DataFormatError):
            IsoWeek.parse(bad)
