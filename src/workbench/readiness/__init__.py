"""Readiness analytics: baselines, readiness score, training load, trajectory, warnings.

Public API (stable): :func:`load_inputs`, :class:`ReadinessInputs`, :func:`compute_readiness`,
:func:`squad_summary`, :func:`recovery_trajectory`, :func:`validate_readiness`,
:func:`training_load`. Every score comes with its contributors, weights and reasons.
"""

from workbench.readiness.daily import COLUMNS, WEIGHTS, compute_readiness
from workbench.readiness.inputs import ReadinessInputs, daily_hrv, daily_wellness, load_inputs
from workbench.readiness.load import ACWR_METHODS, training_load
from workbench.readiness.summary import (
    HISTORY_DAYS,
    SUMMARY_COLUMNS,
    latest_day,
    squad_summary,
    summarize_day,
)
from workbench.readiness.trajectory import RecoveryTrajectory, recovery_trajectory
from workbench.readiness.validation import validate_readiness

__all__ = [
    "ACWR_METHODS",
    "COLUMNS",
    "HISTORY_DAYS",
    "SUMMARY_COLUMNS",
    "latest_day",
    "RecoveryTrajectory",
    "recovery_trajectory",
    "squad_summary",
    "summarize_day",
    "validate_readiness",
    "WEIGHTS",
    "ReadinessInputs",
    "compute_readiness",
    "daily_hrv",
    "daily_wellness",
    "load_inputs",
    "training_load",
]
