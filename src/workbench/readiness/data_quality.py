"""Data-quality notes of each athlete-day: which inputs of the score are missing or untrusted.

A coach must see when a score stands on less than it usually does: no morning HRV, a reading
flagged at import (dead or implausible channel) or with too many corrected beats, no resting
HR, no sleep data. Each note is a short text; an empty list means every input was there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.readiness.inputs import MAX_CORRECTED_PCT


def data_quality_notes(readiness: pd.DataFrame, hrv_daily: pd.DataFrame) -> list[list[str]]:
    """One list of notes per row of ``readiness`` (``athlete_id, date, resting_hr_bpm,
    sleep_total_min``), from the morning readings in ``hrv_daily`` (``athlete_id, date,
    corrected_pct, hrv_reliable`` and, when the store has it, ``hrv_quality``)."""
    cols = ["athlete_id", "date", "corrected_pct", "hrv_reliable", "hrv_quality"]
    h = hrv_daily.reindex(columns=cols)
    m = readiness[["athlete_id", "date"]].merge(h, on=["athlete_id", "date"], how="left")
    has_reading = m["hrv_reliable"].notna().to_numpy()
    reliable = m["hrv_reliable"].eq(True).to_numpy()
    flagged = (m["hrv_quality"] == "unreliable").to_numpy()
    corrected = m["corrected_pct"].to_numpy(dtype=float)
    no_rhr = ~np.isfinite(readiness["resting_hr_bpm"].to_numpy(dtype=float))
    no_sleep = ~np.isfinite(readiness["sleep_total_min"].to_numpy(dtype=float))
    notes: list[list[str]] = []
    for i in range(len(m)):
        n: list[str] = []
        if not has_reading[i]:
            n.append("no morning HRV reading")
        elif flagged[i]:
            n.append("morning HRV flagged unreliable at import (dead or implausible): not used")
        elif not reliable[i]:
            n.append(
                f"morning HRV not used: {corrected[i]:.0f} % of beats corrected "
                f"(limit {MAX_CORRECTED_PCT:.0f} %)"
            )
        if no_rhr[i]:
            n.append("no resting HR")
        if no_sleep[i]:
            n.append("no sleep data")
        notes.append(n)
    return notes
