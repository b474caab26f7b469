"""Mobility priorities for planning: the movements to work on, most important first."""

from __future__ import annotations

import datetime as dt

import pandas as pd


def mobility_priorities(
    assessments: pd.DataFrame, sport: str | None, end: dt.date | None = None
) -> tuple[str, ...] | None:
    """Movements to work on, most important first (:func:`workbench.mobility.interpret.priorities`
    on the latest screen up to ``end``); ``None`` when there is no assessment."""
    from workbench.mobility.interpret import results_table

    a = assessments
    if end is not None and not a.empty:
        a = a[pd.to_datetime(a["date"]) <= pd.Timestamp(end)]
    if a.empty:
        return None
    ranked = results_table(a, sport=sport)
    if ranked.empty:
        return None
    return tuple(ranked.loc[ranked["priority"] > 0, "movement"].astype(str))
