"""Wide (date x athlete) helpers: every daily computation runs on whole squads at once."""

from __future__ import annotations

import numpy as np
import pandas as pd


def to_wide(
    long: pd.DataFrame, column: str, dates: pd.DatetimeIndex, ids: list[str]
) -> pd.DataFrame:
    """Pivot one column of a long ``athlete_id, date`` frame to dates x athletes (NaN if absent)."""
    if long is None or long.empty or column not in long:
        return pd.DataFrame(np.nan, index=dates, columns=pd.Index(ids, name="athlete_id"))
    sub = long[["date", "athlete_id", column]].dropna(subset=[column])
    wide = sub.groupby(["date", "athlete_id"])[column].mean().unstack("athlete_id")
    wide.index = pd.DatetimeIndex(wide.index)
    return wide.reindex(index=dates, columns=pd.Index(ids, name="athlete_id")).astype("float64")


def to_long(wides: dict[str, pd.DataFrame], active: pd.DataFrame) -> pd.DataFrame:
    """Stack wide frames back to long rows ``athlete_id, date, <names>`` where ``active``."""
    mask = active.to_numpy().T.ravel()
    ids = np.repeat(np.asarray(active.columns, dtype=object), len(active.index))
    dates = np.tile(active.index.to_numpy(), len(active.columns))
    data = {"athlete_id": ids[mask], "date": dates[mask]}
    for name, w in wides.items():
        data[name] = w.to_numpy().T.ravel()[mask]
    return pd.DataFrame(data)


def days_since_first(active_start: pd.Series, dates: pd.DatetimeIndex) -> pd.DataFrame:
    """Whole days since each athlete's first day (negative before it)."""
    d = dates.to_numpy().astype("datetime64[D]").astype(np.int64)[:, None]
    s = active_start.to_numpy().astype("datetime64[D]").astype(np.int64)[None, :]
    return pd.DataFrame(d - s, index=dates, columns=active_start.index)
