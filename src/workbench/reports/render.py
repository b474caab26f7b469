"""HTML of each section of the weekly report (the notebook only displays these strings).

Figures are embedded with inline BokehJS, so a rendered report opens offline.
"""

from __future__ import annotations

import html
import math

import pandas as pd

from workbench.readiness.advice import format_score
from workbench.reports.weekly import WeeklyReport, week_flags
from workbench.widgets import readiness as charts
from workbench.widgets import weekly as wk

SECTIONS = ("summary", "recovery", "load", "signals", "mobility", "bfr", "plan")


def _note(text: str) -> str:
    return f'<p class="wb-note">{html.escape(text)}</p>'


def _kpi(label: str, value: str) -> str:
    return f'<span class="wb-kpi">{html.escape(label)}<b>{html.escape(value)}</b></span>'


def _week(rep: WeeklyReport) -> tuple:
    """The report week, shaded on every trend chart."""
    return rep.week.start, rep.week.end


def _num(x, fmt: str = "{:.0f}") -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "–"
    return fmt.format(v) if math.isfinite(v) else "–"


def head(rep: WeeklyReport) -> str:
    """Page styles, inline BokehJS and the title block."""
    a = rep.athlete
    return (
        wk.TABLE_CSS
        + wk.bokeh_js()
        + f"<h1>Weekly report: {html.escape(str(a.get('name')))} ({html.escape(str(a['athlete_id']))})</h1>"
        + f"<p>{html.escape(rep.week.label)}: {rep.week.start:%a %d %b} to {rep.week.end:%a %d %b %Y} · "
        + f"{html.escape(str(a.get('sport')))}, group {html.escape(str(a.get('group_name')))} · "
        + f"goal: {html.escape(str(a.get('goal')))}</p>"
    )


def summary(rep: WeeklyReport) -> str:
    """Executive summary: readiness trend, flags with reasons, next actions."""
    out = ["<h2>Executive summary</h2>"]
    wkr = rep.week_readiness
    if "readiness" in rep.notes:
        out.append(_note(rep.notes["readiness"]))
    if not wkr.empty:
        prev = rep.readiness[
            (rep.readiness["date"] < pd.Timestamp(rep.week.start))
            & (rep.readiness["date"] >= pd.Timestamp(rep.week.start) - pd.Timedelta(days=7))
        ]
        mean, pmean = wkr["score"].mean(), prev["score"].mean() if not prev.empty else math.nan
        last = wkr.sort_values("date").iloc[-1]
        trend = (
            "–"
            if not (math.isfinite(mean) and math.isfinite(pmean))
            else f"{mean - pmean:+.0f} vs last week"
        )
        out.append(
            _kpi("readiness (mean)", format_score(mean))  # as in the squad index
            + _kpi("trend", trend)
            + _kpi("latest band", str(last["band"]))
            + _kpi("recovery days", str(int((wkr["band"] == "recovery").sum())))
            + _kpi("ACWR", _num(last.get("acwr"), "{:.2f}"))
            + _kpi("TSB", _num(last.get("tsb")))
        )
        out.append(wk.embed(charts.score_figure(rep.readiness, highlight=_week(rep))))
        reasons = last.get("reasons") or []
        if reasons:
            out.append(f"<p><b>Latest reasons ({pd.Timestamp(last['date']):%a %d %b}):</b></p><ul>")
            out += [f"<li>{html.escape(str(r))}</li>" for r in reasons]
            out.append("</ul>")
    flags = week_flags(rep)
    out.append("<h3>Flags this week</h3>")
    if flags:
        out.append(
            wk.html_table(pd.DataFrame(flags), {"date": "date", "flag": "flag", "reason": "reason"})
        )
    else:
        out.append(_note("No flags raised this week."))
    out.append("<h3>Next actions</h3><ul>")
    if not wkr.empty:
        last = wkr.sort_values("date").iloc[-1]
        for line in last.get("advice") or []:
            out.append(f"<li>{html.escape(str(line))}</li>")
    for line in rep.plan.summary:
        out.append(f"<li>{html.escape(line)}</li>")
    out.append("</ul>")
    return "".join(out)


def recovery(rep: WeeklyReport) -> str:
    """HRV, resting HR and sleep."""
    out = ["<h2>HRV, resting heart rate and sleep</h2>"]
    r = rep.readiness
    if r.empty or "lnrmssd" not in r:
        return out[0] + _note("No HRV, resting-HR or sleep data in this period.")
    from bokeh.layouts import column

    hrv = charts.hrv_figure(r, highlight=_week(rep), height=220)
    rhr = charts.rhr_figure(r, hrv.x_range, highlight=_week(rep), height=180)
    sl = charts.sleep_figure(r, hrv.x_range, highlight=_week(rep), height=180)
    out.append(wk.embed(column(hrv, rhr, sl, sizing_mode="stretch_width")))
    w = rep.week_readiness
    if not w.empty:  # the score as every view shows it (rounded once, half up)
        w = w.assign(score=[format_score(x) for x in w["score"]])
    if w.empty:
        out.append(_note("No HRV, resting-HR or sleep data this week."))
    else:
        out.append(
            wk.html_table(
                w,
                {
                    "date": "date",
                    "rmssd_ms": "RMSSD (ms)",
                    "hrv_flag": "HRV flag",
                    "resting_hr_bpm": "resting HR (bpm)",
                    "rhr_flag": "RHR flag",
                    "sleep_total_min": "sleep (min)",
                    "sleep_debt_7d_min": "7-day sleep debt (min)",
                    "score": "readiness",
                    "band": "band",
                },
            )
        )
    return "".join(out)


def load(rep: WeeklyReport) -> str:
    """Load vs plan with ACWR and PMC."""
    out = ["<h2>Training load vs plan, ACWR and PMC</h2>"]
    if "load" in rep.notes:
        out.append(_note(rep.notes["load"]))
    if rep.readiness.empty:
        return "".join(out) + _note("No load metrics in this period.")
    from bokeh.layouts import column

    f = charts.acwr_figure(rep.readiness, sessions=rep.sessions_history, highlight=_week(rep))
    pmc = charts.pmc_figure(rep.readiness, f.x_range, highlight=_week(rep))
    out.append(wk.embed(column(f, pmc, sizing_mode="stretch_width")))
    last = rep.week_readiness.sort_values("date").iloc[-1] if not rep.week_readiness.empty else None
    if last is not None:
        out.append(
            f"<p>ACWR form: {html.escape(str(last.get('acwr_method')))}. The ACWR is a "
            "load-spike flag (≥ 1.5), not an injury prediction.</p>"
        )
    if not rep.sessions.empty:
        out.append(
            wk.html_table(
                rep.sessions,
                {
                    "date": "date",
                    "session_type": "session",
                    "status": "status",
                    "planned_duration_min": "planned (min)",
                    "duration_min": "done (min)",
                    "srpe": "sRPE",
                    "planned_load_au": "planned load (AU)",
                    "load_au": "load (AU)",
                },
            )
        )
    return "".join(out)


def signals(rep: WeeklyReport) -> str:
    """SmO₂/EMG session highlights."""
    out = ["<h2>SmO₂ / EMG session highlights</h2>"]
    if rep.recordings.empty:
        return out[0] + _note(rep.notes.get("signals", "No session recordings this week."))
    out.append(
        wk.html_table(
            rep.recordings,
            {
                "started_at": "start",
                "title": "session",
                "duration_min": "minutes",
                "kind": "streams",
                "highlight": "highlights",
            },
        )
    )
    return "".join(out)


def mobility(rep: WeeklyReport) -> str:
    """Mobility changes (against the minimal detectable change when available)."""
    out = ["<h2>Mobility changes</h2>"]
    if rep.mobility.empty:
        return out[0] + _note(rep.notes.get("mobility", "No mobility assessments."))
    if "mobility" in rep.notes:
        out.append(_note(rep.notes["mobility"]))
    if rep.mobility_priorities:
        pr = ", ".join(m.replace("_", " ") for m in rep.mobility_priorities[:4])
        out.append(
            f"<p><b>Priorities</b> (deficit × functional weight for the sport): {html.escape(pr)}</p>"
        )
    changed = rep.mobility[rep.mobility["verdict"].isin(["improved", "declined"])]
    out.append(
        f"<p>{len(changed)} of {len(rep.mobility)} measured changes exceed the minimal detectable "
        "change (MDC95 = 1.96 × √2 × SEM of a single camera); the rest are within measurement noise.</p>"
    )
    out.append(
        wk.html_table(
            rep.mobility,
            {
                "movement": "movement",
                "side": "side",
                "date": "latest",
                "angle_deg": "angle (°)",
                "previous_date": "previous",
                "previous_deg": "previous (°)",
                "change_deg": "change (°)",
                "mdc_deg": "MDC (°)",
                "verdict": "vs MDC",
            },
        )
    )
    return "".join(out)


def bfr(rep: WeeklyReport) -> str:
    """BFR sessions: pressures, time under pressure, alarms."""
    out = ["<h2>BFR sessions</h2>"]
    if rep.bfr.empty:
        return out[0] + _note(rep.notes.get("bfr", "No BFR sessions this week."))
    d = rep.bfr.assign(tup_min=rep.bfr["time_under_pressure_s"] / 60.0)
    out.append(
        wk.html_table(
            d,
            {
                "started_at": "start",
                "limb": "limb",
                "side": "side",
                "exercise": "exercise",
                "aop_mmhg": "AOP (mmHg)",
                "percent_aop": "% AOP",
                "setpoint_mmhg": "setpoint (mmHg)",
                "max_pressure_mmhg": "max (mmHg)",
                "tup_min": "under pressure (min)",
                "status": "status",
                "n_alarms": "alarms",
                "alarms": "alarm codes",
            },
        )
    )
    return "".join(out)


def plan(rep: WeeklyReport) -> str:
    """The integrated plan for next week, explained."""
    p = rep.plan
    start = pd.Timestamp(p.days["date"].iloc[0])
    out = [f"<h2>Plan for next week (from {start:%a %d %b})</h2><ul>"]
    out += [f"<li>{html.escape(s)}</li>" for s in p.summary]
    out.append("</ul>")
    out.append(wk.plan_table(p.days))
    return "".join(out)
