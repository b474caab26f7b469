"""The integrated plan for next week: heavy days guided by readiness, BFR when recovery is low or
joints need protection, mobility aimed at the priorities, and a recovery-assessment day.

The implementation lives in :mod:`workbench.widgets.weekly` (the coach dashboards show the plan
too, and reports and dashboards may not import each other); this is its public home.
"""

from workbench.widgets.weekly import (
    ASSESSMENT,
    BFR_SESSION,
    MAX_HARD_DAYS,
    SORENESS_PROTECT_1_10,
    PlanContext,
    WeeklyPlan,
    plan_context,
    recovery_status,
    weekly_plan,
)

__all__ = [
    "ASSESSMENT",
    "BFR_SESSION",
    "MAX_HARD_DAYS",
    "SORENESS_PROTECT_1_10",
    "PlanContext",
    "WeeklyPlan",
    "plan_context",
    "recovery_status",
    "weekly_plan",
]
