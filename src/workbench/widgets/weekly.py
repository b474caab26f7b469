"""Figure and table builders shared by the weekly report and the coach dashboards.

Every function takes plain DataFrames (readiness rows of
:func:`workbench.readiness.compute_readiness`, training sessions, plan days) and returns a
Bokeh figure or an HTML string; nothing here touches the store. Use :func:`embed` to put a
figure into static HTML (report) or ``jupyter_bokeh.BokehModel`` for a live widget (Voilà).
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable

import pandas as pd

BAND_COLOURS = {
    "go hard": "#2e7d32",
    "moderate": "#f9a825",
    "recovery": "#c62828",
    "insufficient data": "#9e9e9e",
}
FOCUS_COLOURS = {
    "rest": "#eceff1",
    "easy": "#c8e6c9",
    "moderate": "#fff59d",
    "hard": "#ffab91",
    "bfr": "#b39ddb",
}
_TOOLS = "pan,xwheel_zoom,reset,save"


def _fig(title: str, height: int = 220, **kw):
    from bokeh.plotting import figure

    f = figure(
        title=title,
        height=height,
        sizing_mode="stretch_width",
        x_axis_type="datetime",
        tools=_TOOLS,
        toolbar_location="right",
        **kw,
    )
    f.title.text_font_size = "12pt"
    return f


def _week_box(f, week_start: pd.Timestamp | None, week_end: pd.Timestamp | None) -> None:
    from bokeh.models import BoxAnnotation

    if week_start is not None and week_end is not None:
        f.add_layout(
            BoxAnnotation(
                left=pd.Timestamp(week_start) - pd.Timedelta(hours=12),
                right=pd.Timestamp(week_end) + pd.Timedelta(hours=12),
                fill_alpha=0.08,
                fill_color="#1565c0",
            )
        )


def readiness_figure(ready: pd.DataFrame, week_start=None, week_end=None):
    """Readiness score (0-100) per day, dots coloured by band, band thresholds 60/80."""
    from bokeh.models import ColumnDataSource, HoverTool, Span

    f = _fig("Readiness score", y_range=(0, 100))
    _week_box(f, week_start, week_end)
    d = ready[["date", "score", "band"]].copy()
    d["colour"] = d["band"].map(BAND_COLOURS).fillna("#9e9e9e")
    src = ColumnDataSource(d)
    f.line("date", "score", source=src, color="#546e7a", line_width=1.5)
    f.scatter("date", "score", source=src, color="colour", size=7)
    for y in (60, 80):
        f.add_layout(Span(location=y, dimension="width", line_dash="dashed", line_color="#90a4ae"))
    f.add_tools(
        HoverTool(
            tooltips=[("date", "@date{%F}"), ("score", "@score{0}"), ("band", "@band")],
            formatters={"@date": "datetime"},
        )
    )
    f.yaxis.axis_label = "score"
    return f


def hrv_figure(ready: pd.DataFrame, week_start=None, week_end=None):
    """Morning lnRMSSD, its 7-day mean and the personal normal range (mean ± 0.5 SD)."""
    from bokeh.models import Band, ColumnDataSource

    f = _fig("HRV: lnRMSSD, 7-day mean and normal range")
    _week_box(f, week_start, week_end)
    d = ready[["date", "lnrmssd", "lnrmssd_7d", "normal_low", "normal_high"]].copy()
    src = ColumnDataSource(d)
    f.add_layout(
        Band(
            base="date",
            lower="normal_low",
            upper="normal_high",
            source=src,
            fill_alpha=0.25,
            fill_color="#66bb6a",
        )
    )
    f.scatter("date", "lnrmssd", source=src, size=5, color="#78909c", legend_label="morning")
    f.line(
        "date", "lnrmssd_7d", source=src, line_width=2.5, color="#1565c0", legend_label="7-day mean"
    )
    f.yaxis.axis_label = "ln(RMSSD / ms)"
    f.legend.location = "bottom_left"
    f.legend.label_text_font_size = "8pt"
    return f


def rhr_sleep_figures(ready: pd.DataFrame, week_start=None, week_end=None):
    """Two figures: resting HR (bpm) and sleep duration (h) against need."""
    from bokeh.models import ColumnDataSource

    d = ready[["date", "resting_hr_bpm", "sleep_total_min", "sleep_need_min"]].copy()
    d["sleep_h"] = d["sleep_total_min"] / 60.0
    d["need_h"] = d["sleep_need_min"] / 60.0
    src = ColumnDataSource(d)
    rhr = _fig("Resting heart rate", height=180)
    _week_box(rhr, week_start, week_end)
    rhr.line("date", "resting_hr_bpm", source=src, color="#c62828", line_width=2)
    rhr.scatter("date", "resting_hr_bpm", source=src, color="#c62828", size=4)
    rhr.yaxis.axis_label = "bpm"
    sl = _fig("Sleep", height=180, x_range=rhr.x_range)
    _week_box(sl, week_start, week_end)
    sl.vbar(
        x="date",
        top="sleep_h",
        source=src,
        width=pd.Timedelta(hours=18),
        color="#5c6bc0",
        alpha=0.7,
        legend_label="slept",
    )
    sl.line("date", "need_h", source=src, color="#212121", line_dash="dashed", legend_label="need")
    sl.yaxis.axis_label = "h"
    sl.legend.location = "bottom_left"
    sl.legend.label_text_font_size = "8pt"
    return rhr, sl


def load_figures(ready: pd.DataFrame, sessions: pd.DataFrame, week_start=None, week_end=None):
    """Two figures: daily load done vs planned with ACWR, and the PMC (CTL, ATL, TSB)."""
    from bokeh.models import ColumnDataSource, LinearAxis, Range1d, Span

    lo = ready["date"].min()
    hi = ready["date"].max()
    days = (
        pd.DataFrame({"date": pd.date_range(lo, hi, freq="D")})
        if pd.notna(lo)
        else pd.DataFrame({"date": []})
    )
    s = sessions.copy()
    if not s.empty:
        s["date"] = pd.to_datetime(s["date"])
        done = s[s["status"] == "done"].groupby("date")["load_au"].sum()
        plan = s.groupby("date")["planned_load_au"].sum()
        days["done_au"] = days["date"].map(done).fillna(0.0)
        days["planned_au"] = days["date"].map(plan).fillna(0.0)
    else:
        days["done_au"] = 0.0
        days["planned_au"] = 0.0
    days = days.merge(ready[["date", "acwr", "ctl", "atl", "tsb"]], on="date", how="left")
    src = ColumnDataSource(days)
    f = _fig("Load vs plan and ACWR", height=220)
    _week_box(f, week_start, week_end)
    f.vbar(
        x="date",
        top="planned_au",
        source=src,
        width=pd.Timedelta(hours=20),
        fill_alpha=0,
        line_color="#37474f",
        legend_label="planned",
    )
    f.vbar(
        x="date",
        top="done_au",
        source=src,
        width=pd.Timedelta(hours=12),
        color="#ef6c00",
        alpha=0.8,
        legend_label="done",
    )
    f.yaxis.axis_label = "load (AU)"
    acwr = days["acwr"].astype(float)
    top = max(2.0, float(acwr.max()) * 1.1) if acwr.notna().any() else 2.0
    f.extra_y_ranges = {"acwr": Range1d(0, top)}
    f.add_layout(LinearAxis(y_range_name="acwr", axis_label="ACWR"), "right")
    f.line(
        "date",
        "acwr",
        source=src,
        y_range_name="acwr",
        color="#6a1b9a",
        line_width=2,
        legend_label="ACWR",
    )
    for y in (0.8, 1.3, 1.5):
        f.add_layout(
            Span(
                location=y,
                dimension="width",
                y_range_name="acwr",
                line_dash="dotted",
                line_color="#6a1b9a",
                line_alpha=0.5,
            )
        )
    f.legend.location = "top_left"
    f.legend.label_text_font_size = "8pt"
    pmc = _fig(
        "Performance manager: CTL (fitness), ATL (fatigue), TSB (form)",
        height=200,
        x_range=f.x_range,
    )
    _week_box(pmc, week_start, week_end)
    pmc.line("date", "ctl", source=src, color="#1565c0", line_width=2, legend_label="CTL 42 d")
    pmc.line("date", "atl", source=src, color="#c62828", line_width=2, legend_label="ATL 7 d")
    pmc.line(
        "date",
        "tsb",
        source=src,
        color="#2e7d32",
        line_width=2,
        line_dash="dashed",
        legend_label="TSB",
    )
    pmc.add_layout(Span(location=0, dimension="width", line_color="#9e9e9e"))
    pmc.legend.location = "top_left"
    pmc.legend.label_text_font_size = "8pt"
    return f, pmc


def embed(obj) -> str:
    """HTML (``<div>`` + ``<script>``) for a Bokeh figure/layout; BokehJS must be on the page."""
    from bokeh.embed import components

    script, div = components(obj)
    return div + script


def bokeh_js() -> str:
    """BokehJS inline as ``<script>`` tags (no network needed)."""
    from bokeh.resources import INLINE

    return INLINE.render_js()


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if isinstance(v, pd.Timestamp):
        return (
            v.strftime("%Y-%m-%d")
            if v.hour == 0 and v.minute == 0
            else v.strftime("%Y-%m-%d %H:%M")
        )
    if isinstance(v, float):
        return f"{v:.1f}"
    if isinstance(v, bool):
        return "yes" if v else ""
    if isinstance(v, (list, tuple)):
        return "; ".join(map(str, v))
    return str(v)


def html_table(
    df: pd.DataFrame,
    columns: dict[str, str] | None = None,
    row_style: Iterable[str] | None = None,
    cls: str = "wb-table",
) -> str:
    """A plain HTML table (escaped) with ``columns`` mapping column -> header."""
    cols = columns or {c: c for c in df.columns}
    styles = list(row_style) if row_style is not None else [""] * len(df)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in cols.values())
    body = []
    if len(styles) != len(df):
        raise ValueError(f"row_style has {len(styles)} entries for {len(df)} rows")
    for (_, row), st in zip(df.iterrows(), styles, strict=True):
        tds = "".join(f"<td>{html.escape(_cell(row[c]))}</td>" for c in cols)
        body.append(f'<tr style="{st}">{tds}</tr>')
    return (
        f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


def plan_table(days: pd.DataFrame) -> str:
    """Next week's plan (rows of :class:`workbench.reports.plan.WeeklyPlan.days`) as HTML."""
    d = days.copy()
    d["assessment"] = d["assessment"].map(lambda x: "recovery assessment" if x else "")
    styles = [f"background:{FOCUS_COLOURS.get(f, '#fff')}" for f in d["focus"]]
    return html_table(
        d,
        {
            "weekday": "day",
            "date": "date",
            "focus": "focus",
            "session": "session",
            "planned_load_au": "load (AU)",
            "mobility": "mobility",
            "assessment": "assessment",
            "why": "why",
        },
        styles,
    )


TABLE_CSS = """
<style>
.wb-table {border-collapse: collapse; font-size: 13px; margin: 6px 0 12px 0; width: 100%}
.wb-table th {background: #37474f; color: white; text-align: left; padding: 4px 8px}
.wb-table td {border-bottom: 1px solid #ddd; padding: 4px 8px; vertical-align: top}
.wb-note {color: #555; font-style: italic; margin: 4px 0 10px 0}
.wb-kpi {display: inline-block; margin: 4px 10px 4px 0; padding: 8px 12px; border-radius: 6px;
         background: #eceff1; min-width: 110px}
.wb-kpi b {display: block; font-size: 20px}
.wb-flag {color: #b71c1c}
</style>
"""
