"""Everything one athlete's weekly report shows, assembled from the store (no rendering here).

:func:`load_weekly` returns a :class:`WeeklyReport`; :func:`key_figures` turns it into the
JSON sidecar. A section without data that week carries a note saying so (``notes``).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import DataFormatError
from workbench.log import get_logger
from workbench.mobility.interpret import mdc_deg
from workbench.planning import WeeklyPlan, mobility_priorities, plan_context, weekly_plan
from workbench.readiness import compute_readiness, load_inputs
from workbench.readiness.advice import format_score
from workbench.reports.weeks import IsoWeek, resolve_week
from workbench.store import Store

log = get_logger(__name__)

#: Days of history read before the week so that baselines (60 d) and CTL (42 d) are formed.
HISTORY_DAYS = 90
#: Weeks of trend shown before and including the report week.
TREND_WEEKS = 6
ALARM_KINDS = ("alarm", "trip")


@dataclass
class WeeklyReport:
    """One athlete's week.

    Attributes
    ----------
    athlete:
        The ``athletes`` row as a dict.
    week:
        The report week.
    readiness:
        :func:`workbench.readiness.compute_readiness` rows of the last ``TREND_WEEKS`` weeks
        (up to Sunday of the report week).
    sessions:
        The week's training sessions, planned and done.
    recordings:
        One row per live recording in the week: ``recording_id, title, started_at,
        duration_min, kind, highlight``.
    mobility:
        Per movement and side: ``movement, side, date, angle_deg, previous_date,
        previous_deg, change_deg`` (latest assessment up to the week's end vs the one before),
        ``mdc_deg`` (minimal detectable change, 95 %) and ``verdict`` (improved / declined /
        within MDC / first screen).
    mobility_priorities:
        Movements to work on, most important first (empty when none or no screens).
    bfr:
        BFR sessions of the week with ``n_alarms`` and ``alarms`` (codes of alarm/trip
        events and of high-priority operator events such as an abort).
    plan:
        Next week's :class:`~workbench.planning.WeeklyPlan`.
    sessions_history:
        Sessions of the trend window up to the week's end (for the load chart).
    notes:
        Section name -> sentence explaining why the section is empty or partial.
    """

    athlete: dict[str, Any]
    week: IsoWeek
    readiness: pd.DataFrame
    sessions: pd.DataFrame
    recordings: pd.DataFrame
    mobility: pd.DataFrame
    bfr: pd.DataFrame
    plan: WeeklyPlan
    sessions_history: pd.DataFrame = field(default_factory=pd.DataFrame)
    mobility_priorities: tuple[str, ...] = ()
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def week_readiness(self) -> pd.DataFrame:
        """Readiness rows of the report week only."""
        d = self.readiness["date"]
        return self.readiness[
            (d >= pd.Timestamp(self.week.start)) & (d <= pd.Timestamp(self.week.end))
        ]


def _mobility_changes(mob: pd.DataFrame, end: dt.date) -> pd.DataFrame:
    cols = ["movement", "side", "date", "angle_deg", "previous_date", "previous_deg", "change_deg"]
    if mob.empty:
        return pd.DataFrame(columns=cols)
    m = mob[mob["date"] <= pd.Timestamp(end)]
    if "speed" in m:
        m = m[m["speed"].fillna("slow") == "slow"]
    g = m.groupby(["movement", "side", "date"], as_index=False)["angle_deg"].median()
    rows = []
    for (mv, side), sub in g.groupby(["movement", "side"], sort=True):
        sub = sub.sort_values("date")
        last = sub.iloc[-1]
        prev = sub.iloc[-2] if len(sub) > 1 else None
        rows.append(
            {
                "movement": mv,
                "side": side,
                "date": last["date"],
                "angle_deg": float(last["angle_deg"]),
                "previous_date": prev["date"] if prev is not None else pd.NaT,
                "previous_deg": float(prev["angle_deg"]) if prev is not None else math.nan,
                "change_deg": float(last["angle_deg"] - prev["angle_deg"])
                if prev is not None
                else math.nan,
            }
        )
    return pd.DataFrame(rows, columns=cols)


def _recording_highlights(store: Store, recs: pd.DataFrame) -> pd.DataFrame:
    """Per recording: SmO₂ minimum/mean and EMG median-frequency change where streams exist."""
    from workbench.signals.emg import emg_fatigue

    rows = []
    for rec in recs.itertuples():
        streams = store.streams(int(rec.recording_id))
        ended = rec.ended_at if pd.notna(rec.ended_at) else None
        dur = (ended - rec.started_at).total_seconds() / 60.0 if ended is not None else math.nan
        kinds = sorted(set(streams["kind"])) if not streams.empty else []
        bits: list[str] = []
        for st in streams.itertuples():
            if st.kind not in ("smo2", "emg", "hr"):
                continue
            _, _, values = store.read_stream(int(st.stream_id))
            if values.size == 0:
                continue
            names = list(st.channel_names)
            if st.kind == "smo2":
                col = names.index("smo2_pct") if "smo2_pct" in names else 0
                x = values[:, col]
                x = x[np.isfinite(x) & (x > 0) & (x < 100)]
                if x.size:
                    bits.append(
                        f"SmO₂ mean {x.mean():.0f} %, min {x.min():.0f} %, range {np.ptp(x):.0f} %"
                    )
            elif st.kind == "hr":
                x = values[:, 0]
                x = x[np.isfinite(x) & (x > 20)]
                if x.size:
                    bits.append(f"HR mean {x.mean():.0f} bpm, max {x.max():.0f} bpm")
            elif st.kind == "emg" and st.sampling_rate_hz and st.sampling_rate_hz >= 500:
                try:
                    _, trend = emg_fatigue(
                        values, sampling_rate_hz=float(st.sampling_rate_hz), window_s=1.0
                    )
                except ValueError as exc:
                    bits.append(f"EMG: not analysable ({exc})")
                    continue
                for tr in trend.itertuples():
                    ch = (
                        names[int(tr.channel)]
                        if str(tr.channel).isdigit() and int(tr.channel) < len(names)
                        else tr.channel
                    )
                    bits.append(
                        f"EMG {ch}: median frequency {tr.mdf_change_pct:+.0f} %"
                        + (" (fatigue)" if tr.fatigue else "")
                    )
        rows.append(
            {
                "recording_id": int(rec.recording_id),
                "title": rec.title,
                "started_at": rec.started_at,
                "duration_min": dur,
                "kind": ", ".join(kinds),
                "highlight": "; ".join(bits) if bits else "no SmO₂/EMG/HR streams",
            }
        )
    return pd.DataFrame(
        rows, columns=["recording_id", "title", "started_at", "duration_min", "kind", "highlight"]
    )


def _bfr_week(store: Store, athlete_id: str, week: IsoWeek) -> pd.DataFrame:
    bfr = store.bfr_sessions(athlete_id=athlete_id, start=week.start, end=week.end)
    if bfr.empty:
        return bfr.assign(n_alarms=pd.Series(dtype=int), alarms=pd.Series(dtype=object))
    n, codes = [], []
    for sid in bfr["session_id"]:
        ev = store.bfr_events(int(sid))
        al = ev[ev["kind"].isin(ALARM_KINDS) | (ev["priority"] == "high")] if not ev.empty else ev
        n.append(len(al))
        codes.append(", ".join(sorted(set(al["code"]))) if len(al) else "")
    return bfr.assign(n_alarms=n, alarms=codes)


def load_weekly(store: Store, athlete_id: str | None, iso_week: str | None) -> WeeklyReport:
    """Assemble one athlete's weekly report.

    Parameters
    ----------
    store:
        An open store.
    athlete_id:
        The athlete; ``None`` for the first athlete of the store.
    iso_week:
        ``"YYYY-Www"``; ``None`` for the last complete week of data.

    Raises
    ------
    DataFormatError
        Unknown athlete, malformed week, or corrupt data (propagated from the readers).
    """
    athletes = store.athletes()
    if athletes.empty:
        raise DataFormatError(f"{store.url} holds no athletes", field="athlete_id")
    if athlete_id is None:
        athlete_id = str(athletes["athlete_id"].iloc[0])
    row = athletes[athletes["athlete_id"] == athlete_id]
    if row.empty:
        raise DataFormatError(
            f"no athlete {athlete_id!r} in {store.url}; known: {list(athletes['athlete_id'])[:20]}",
            field="athlete_id",
        )
    week = resolve_week(store, iso_week)
    notes: dict[str, str] = {}
    first = week.start - dt.timedelta(days=HISTORY_DAYS)
    inputs = load_inputs(store, athlete_id, start=first, end=week.end)
    try:
        ready = compute_readiness(inputs)
    except DataFormatError as exc:
        ready = pd.DataFrame(columns=["athlete_id", "date", "score", "band"])
        notes["readiness"] = f"No readiness for this period: {exc}"
    trend_start = pd.Timestamp(week.start - dt.timedelta(weeks=TREND_WEEKS - 1))
    ready_trend = ready[ready["date"] >= trend_start].reset_index(drop=True)
    wk = ready_trend[ready_trend["date"] >= pd.Timestamp(week.start)]
    if wk.empty or wk["score"].isna().all():
        notes.setdefault(
            "readiness", "No readiness score this week (no HRV, wellness or load data)."
        )

    sessions_all = store.training_sessions(
        athlete_id=athlete_id, start=trend_start.date(), end=week.end + dt.timedelta(days=7)
    )
    d = sessions_all["date"]
    sessions = sessions_all[
        (d >= pd.Timestamp(week.start)) & (d <= pd.Timestamp(week.end))
    ].reset_index(drop=True)
    if sessions.empty:
        notes["load"] = "No training sessions recorded or planned this week."

    recs = store.recordings(athlete_id=athlete_id)
    bfr_recs = store.bfr_sessions(athlete_id=athlete_id)["recording_id"].dropna().astype(int)
    recs = recs[~recs["recording_id"].isin(set(bfr_recs))]  # pressure traces: BFR section
    if not recs.empty:
        recs = recs[
            (recs["started_at"] >= pd.Timestamp(week.start))
            & (recs["started_at"] < pd.Timestamp(week.end) + pd.Timedelta(days=1))
        ]
    recordings = (
        _recording_highlights(store, recs)
        if not recs.empty
        else _recording_highlights(store, recs.iloc[0:0])
    )
    if recordings.empty:
        notes["signals"] = "No SmO₂/EMG/HR session recordings this week."

    mob_all = store.mobility_assessments(athlete_id=athlete_id, end=week.end)
    mobility = _mobility_changes(mob_all, week.end)
    if mobility.empty:
        notes["mobility"] = "No mobility assessments up to this week."
    else:
        wk_mob = mob_all[mob_all["date"] >= pd.Timestamp(week.start)]
        if wk_mob.empty:
            last = pd.Timestamp(mobility["date"].max()).date()
            notes["mobility"] = f"No mobility assessment this week; latest screen {last}."
    if not mobility.empty:
        mdc = mobility["movement"].map(mdc_deg)
        mobility["mdc_deg"] = mdc
        ch = mobility["change_deg"]
        mobility["verdict"] = np.where(
            ch.isna(),
            "first screen",
            np.where(ch >= mdc, "improved", np.where(ch <= -mdc, "declined", "within MDC")),
        )
    priorities = mobility_priorities(mob_all, str(row.iloc[0]["sport"]), week.end)

    bfr = _bfr_week(store, athlete_id, week)
    if bfr.empty:
        notes["bfr"] = "No BFR sessions this week."

    well = inputs.wellness
    recent = well[
        (well["date"] > pd.Timestamp(week.end) - pd.Timedelta(days=7))
        & (well["date"] <= pd.Timestamp(week.end))
    ]
    soreness = (
        float(recent["soreness_1_10"].mean())
        if "soreness_1_10" in recent and recent["soreness_1_10"].notna().any()
        else math.nan
    )
    next_monday = week.end + dt.timedelta(days=1)
    ctx = plan_context(
        athlete_id,
        next_monday,
        ready,
        sessions_all,
        soreness_1_10=soreness,
        mobility_priorities=priorities or None,
    )
    plan = weekly_plan(ctx)
    return WeeklyReport(
        athlete=row.iloc[0].to_dict(),
        week=week,
        readiness=ready_trend,
        sessions=sessions,
        sessions_history=sessions_all[d <= pd.Timestamp(week.end)].reset_index(drop=True),
        recordings=recordings,
        mobility=mobility,
        bfr=bfr,
        plan=plan,
        mobility_priorities=tuple(priorities or ()),
        notes=notes,
    )


def _f(x: Any, nd: int = 1) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return round(v, nd) if math.isfinite(v) else None


def week_flags(rep: WeeklyReport) -> list[dict[str, str]]:
    """Flags raised during the week: ``date, flag, reason``, newest first."""
    out = []
    for r in rep.week_readiness.sort_values("date", ascending=False).itertuples():
        day = pd.Timestamp(r.date).date().isoformat()
        if bool(getattr(r, "illness_flag", False)):
            out.append(
                {
                    "date": day,
                    "flag": "possible illness",
                    "reason": "; ".join(r.warning_evidence or []) or "acute multi-marker drop",
                }
            )
        if bool(getattr(r, "overtraining_warning", False)):
            out.append(
                {
                    "date": day,
                    "flag": "overtraining warning",
                    "reason": "; ".join(r.warning_evidence or []) or "sustained pattern",
                }
            )
        if getattr(r, "hrv_flag", "") == "below normal range":
            out.append(
                {
                    "date": day,
                    "flag": "HRV below normal range",
                    "reason": f"7-day lnRMSSD {r.lnrmssd_7d:.2f} < {r.normal_low:.2f}",
                }
            )
        if getattr(r, "rhr_flag", "") == "red":
            out.append(
                {
                    "date": day,
                    "flag": "resting HR red",
                    "reason": f"z = {r.rhr_z:+.1f} vs 4-week baseline",
                }
            )
        if bool(getattr(r, "load_spike_flag", False)):
            out.append(
                {
                    "date": day,
                    "flag": "load spike",
                    "reason": f"ACWR {r.acwr:.2f} >= 1.5 (a load-spike flag, not an injury prediction)",
                }
            )
    return out


def key_figures(rep: WeeklyReport) -> dict[str, Any]:
    """The JSON sidecar: key numbers of the week (JSON-safe; ``None`` where unknown)."""
    wk = rep.week_readiness
    prev = rep.readiness[
        (rep.readiness["date"] < pd.Timestamp(rep.week.start))
        & (rep.readiness["date"] >= pd.Timestamp(rep.week.start) - pd.Timedelta(days=7))
    ]
    last = wk.sort_values("date").iloc[-1] if not wk.empty else pd.Series(dtype=object)
    s = rep.sessions
    done = s[s["status"] == "done"] if not s.empty else s
    return {
        "athlete_id": rep.athlete["athlete_id"],
        "name": rep.athlete.get("name"),
        "group": rep.athlete.get("group_name"),
        "week": rep.week.label,
        "week_start": rep.week.start.isoformat(),
        "week_end": rep.week.end.isoformat(),
        "readiness_mean": _f(wk["score"].mean()) if not wk.empty else None,
        # the mean as the report and the squad index show it (rounded once, from the exact mean)
        "readiness_mean_shown": format_score(wk["score"].mean()) if not wk.empty else "–",
        "readiness_prev_week_mean": _f(prev["score"].mean()) if not prev.empty else None,
        "readiness_last": _f(last.get("score")),
        "band_last": None if last.empty else str(last.get("band")),
        "days_recovery_band": int((wk["band"] == "recovery").sum()) if not wk.empty else 0,
        "lnrmssd_7d_last": _f(last.get("lnrmssd_7d"), 3),
        "normal_low": _f(last.get("normal_low"), 3),
        "normal_high": _f(last.get("normal_high"), 3),
        "hrv_pct_below_baseline": _f(last.get("hrv_pct_below_baseline")),
        "resting_hr_mean_bpm": _f(wk["resting_hr_bpm"].mean()) if "resting_hr_bpm" in wk else None,
        "sleep_mean_min": _f(wk["sleep_total_min"].mean(), 0) if "sleep_total_min" in wk else None,
        "load_done_au": _f(done["load_au"].sum(), 0) if not done.empty else 0.0,
        "load_planned_au": _f(s["planned_load_au"].sum(), 0) if not s.empty else 0.0,
        "acwr_last": _f(last.get("acwr"), 2),
        "acwr_method": None if last.empty else last.get("acwr_method"),
        "ctl": _f(last.get("ctl")),
        "atl": _f(last.get("atl")),
        "tsb": _f(last.get("tsb")),
        "illness_flag": bool(wk["illness_flag"].fillna(False).astype(bool).any())
        if "illness_flag" in wk
        else False,
        "overtraining_warning": bool(wk["overtraining_warning"].fillna(False).astype(bool).any())
        if "overtraining_warning" in wk
        else False,
        "flags": week_flags(rep),
        "n_recordings": len(rep.recordings),
        "n_bfr_sessions": len(rep.bfr),
        "bfr_time_under_pressure_s": _f(rep.bfr["time_under_pressure_s"].sum(), 0)
        if not rep.bfr.empty
        else 0.0,
        "bfr_alarms": int(rep.bfr["n_alarms"].sum()) if not rep.bfr.empty else 0,
        "mobility_changes": [
            {
                "movement": r.movement,
                "side": r.side,
                "change_deg": _f(r.change_deg),
                "mdc_deg": _f(r.mdc_deg),
                "verdict": r.verdict,
            }
            for r in rep.mobility.itertuples()
        ],
        "mobility_priorities": list(rep.mobility_priorities),
        "plan_status": rep.plan.status,
        "plan": [
            {
                "date": str(r["date"]),
                "focus": r["focus"],
                "mobility": bool(r["mobility"]),
                "assessment": bool(r["assessment"]),
            }
            for r in rep.plan.to_records()
        ],
        "notes": rep.notes,
    }


def write_key_figures(figures: dict[str, Any], path: str) -> None:
    """Write the key figures as JSON atomically (temp file in the same folder, then replace)."""
    import json
    import os
    import tempfile
    from pathlib import Path

    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(figures, fh, indent=1, default=str)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
