"""Weekly integrated reports: data assembly, next week's plan, papermill batch runner.

Public API: :func:`load_weekly`, :func:`key_figures`, :class:`IsoWeek`, :func:`run_batch`,
:func:`render_report`; :func:`weekly_plan` and :class:`PlanContext` are re-exported from
:mod:`workbench.planning`, where the plan is built.
The ``workbench report`` command lives in :mod:`workbench.reports.cli`.
"""

from workbench.planning import PlanContext, WeeklyPlan, plan_context, weekly_plan
from workbench.reports.runner import ReportJob, ReportResult, render_report, run_batch
from workbench.reports.weekly import WeeklyReport, key_figures, load_weekly
from workbench.reports.weeks import IsoWeek, last_complete_week

__all__ = [
    "IsoWeek",
    "PlanContext",
    "ReportJob",
    "ReportResult",
    "WeeklyPlan",
    "WeeklyReport",
    "key_figures",
    "last_complete_week",
    "load_weekly",
    "plan_context",
    "render_report",
    "run_batch",
    "weekly_plan",
]
