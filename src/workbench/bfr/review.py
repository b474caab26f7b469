"""Review of a stored BFR session: its audit log, pressure stream and time under pressure.

Pure computations on what :class:`~workbench.bfr.audit.AuditLog` stored (``bfr_sessions``,
``bfr_events`` and the pressure stream); the figures and tables are drawn by
:mod:`workbench.widgets.bfr_review`. Why: ``docs/decisions/0004-bfr-control.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.bfr.limits import CuffLimits

#: Order of the phases in the time-under-pressure table (others follow).
PHASE_ORDER = ("AOP measurement", "settle", "set", "rest", "reperfusion")

#: Longest interval credited to one sample: no credit across gaps in the stream, s.
MAX_SAMPLE_DT_S = 0.05


@dataclass(frozen=True)
class StoredSession:
    """One stored session: its row, events, pressure stream (host s; columns pressure,
    pump duty, setpoint) and the limits of its AOP."""

    session_id: int
    row: pd.Series
    events: pd.DataFrame
    t_s: np.ndarray
    values: np.ndarray
    limits: CuffLimits

    @property
    def rate_hz(self) -> float:
        """Median sample rate of the pressure stream while the control loop ran."""
        return 1.0 / float(np.median(np.diff(self.t_s))) if len(self.t_s) > 1 else float("nan")

    @property
    def armed_t_s(self) -> float:
        """When the cuff was armed for training (the first sample if never)."""
        armed = self.events.loc[self.events["code"] == "armed", "t_s"]
        return float(armed.iloc[0]) if len(armed) else float(self.t_s[0])

    def describe(self) -> str:
        return (
            f"session {self.session_id}: {self.row['status']}, {len(self.t_s)} pressure "
            f"samples at {self.rate_hz:.0f} Hz while the control loop ran, "
            f"{len(self.events)} events"
        )


def pick_athlete(store: Any, athlete_id: str | None = None) -> str:
    """``athlete_id`` if it is in ``store`` (None: the first athlete); clear errors if not."""
    athletes = store.athletes()
    if athletes.empty:
        raise LookupError(f"no athletes in {store.url}: run `workbench demo` first")
    athlete_id = athlete_id or str(athletes["athlete_id"].iloc[0])
    if athlete_id not in set(athletes["athlete_id"]):
        raise LookupError(f"athlete {athlete_id!r} not in {store.url}")
    return athlete_id


def load_stored_session(store: Any, session_id: int) -> StoredSession:
    """Read session ``session_id`` (row, events, its first stream) from ``store``."""
    rows = store.bfr_sessions(session_id=int(session_id))
    if rows.empty:
        raise LookupError(f"no BFR session {session_id} in {store.url}")
    row = rows.iloc[0]
    events = store.bfr_events(int(session_id))
    streams = store.streams(int(row["recording_id"]))
    if streams.empty:
        raise LookupError(f"BFR session {session_id} has no pressure stream")
    t_s, _, values = store.read_stream(int(streams["stream_id"].iloc[0]))
    limits = CuffLimits.for_session(float(row["aop_mmhg"]), row["limb"])
    return StoredSession(int(session_id), row, events, t_s, values, limits)


def simulated_session_summary(result: Any) -> pd.Series:
    """Key figures of a :class:`~workbench.bfr.simulation.session_run.SimulatedSession`."""
    rx = result.prescription
    return pd.Series(
        {
            "status": result.status,
            "session_id": result.session_id,
            "confirmed AOP (mmHg)": None if result.aop is None else round(result.aop.aop_mmhg, 1),
            "setpoint (mmHg)": None if rx is None else round(rx.setpoint_mmhg, 1),
            "scheme": None if rx is None else rx.scheme_label,
            "time under pressure (s)": round(result.time_under_pressure_s, 1),
            "max pressure (mmHg)": round(result.max_pressure_mmhg, 1),
            "exercise time within ±10 % of SP (%)": round(result.pct_exercise_in_band, 1),
            "rest time within ±5 % of SP (%)": round(result.pct_rest_in_band, 1),
            "trips": len(result.trips),
        },
        name="simulated session",
    )


def event_table(events: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(alarms, table)``: trips, alarms and acknowledgements; all events but setpoint ramps."""
    table = events[events["kind"] != "setpoint"][
        ["t_s", "kind", "code", "priority", "value", "message"]
    ]
    return table[table["kind"].isin(["trip", "alarm", "ack"])], table


def phase_at(t_s: np.ndarray, events: pd.DataFrame) -> np.ndarray:
    """Phase name at each time: the last ``state`` event at or before it, with calibration
    states named "AOP measurement" and ready/armed named "settle" ("start" before any)."""
    marks = events[events["kind"] == "state"].sort_values("t_s", kind="stable")
    times = marks["t_s"].to_numpy(dtype=float)
    codes = marks["code"].astype(str).to_numpy()
    idx = np.searchsorted(times, np.asarray(t_s, dtype=float), side="right") - 1
    phase = np.where(idx >= 0, codes[np.maximum(idx, 0)] if len(codes) else "", "start")
    phase = phase.astype(object)
    aop = np.char.startswith(phase.astype(str), "calibration") | np.isin(
        phase, ["aop", "aop_reading"]
    )
    phase[aop] = "AOP measurement"
    phase[np.isin(phase, ["ready", "armed"])] = "settle"
    return phase


def time_under_pressure_by_phase(
    t_s: np.ndarray,
    pressure_mmhg: np.ndarray,
    events: pd.DataFrame,
    inflated_mmhg: float = 20.0,
    *,
    min_s: float = 0.5,
) -> pd.Series:
    """Seconds with the cuff above ``inflated_mmhg``, per phase (:func:`phase_at`).

    Each sample is credited with the time to the next one, at most
    :data:`MAX_SAMPLE_DT_S` (no credit across gaps); phases under ``min_s`` are left out.
    Ordered as :data:`PHASE_ORDER`, then the others.
    """
    t = np.asarray(t_s, dtype=float)
    if len(t) == 0:
        return pd.Series(dtype=float, name="seconds inflated")
    dt = np.minimum(np.diff(t, append=t[-1]), MAX_SAMPLE_DT_S)
    inflated = np.asarray(pressure_mmhg, dtype=float) > inflated_mmhg
    phase = phase_at(t, events)
    tup = pd.Series(dt[inflated], index=phase[inflated]).groupby(level=0).sum()
    tup = tup[tup > min_s]
    order = [p for p in PHASE_ORDER if p in tup.index]
    order += sorted(p for p in tup.index if p not in PHASE_ORDER)
    return tup.reindex(order).rename("seconds inflated")


__all__ = [
    "PHASE_ORDER",
    "StoredSession",
    "event_table",
    "load_stored_session",
    "phase_at",
    "pick_athlete",
    "simulated_session_summary",
    "time_under_pressure_by_phase",
]
