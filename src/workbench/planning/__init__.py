"""Training planning: next week's integrated plan and the mobility priorities it aims at.

Public API: :func:`weekly_plan`, :class:`PlanContext`, :func:`plan_context`,
:class:`WeeklyPlan`, :func:`recovery_status`, :func:`mobility_priorities` and the rule
constants. Pure: widgets, reports and dashboards call it; it never imports them.
"""

from workbench.planning.mobility import mobility_priorities
from workbench.planning.weekly import (
    ASSESSMENT,
    BFR_SESSION,
    MAX_HARD_DAYS,
    MOBILITY_SESSIONS,
    MODERATE_VOLUME,
    SORENESS_PROTECT_1_10,
    WEEKDAYS,
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
    "MOBILITY_SESSIONS",
    "MODERATE_VOLUME",
    "SORENESS_PROTECT_1_10",
    "WEEKDAYS",
    "PlanContext",
    "WeeklyPlan",
    "mobility_priorities",
    "plan_context",
    "recovery_status",
    "weekly_plan",
]
