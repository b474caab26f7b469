"""HTML helpers shared by the weekly report and the coach dashboards.

:func:`embed` and :func:`bokeh_js` put a Bokeh figure into static HTML (report; a live widget
uses ``jupyter_bokeh.BokehModel``); :func:`html_table`, :func:`plan_table` and
:data:`TABLE_CSS` are plain HTML tables. The plan itself is domain logic in
:mod:`workbench.planning`.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable

import pandas as pd

FOCUS_COLOURS = {
    "rest": "#eceff1",
    "easy": "#c8e6c9",
    "moderate": "#fff59d",
    "hard": "#ffab91",
    "bfr": "#b39ddb",
}


def embed(obj) -> str:
    """HTML (``<div>`` + ``<script>``) for a Bokeh figure/layout; BokehJS must be on the page."""
    from bokeh.embed import components

    script, div = components(obj)
    return div + script


def bokeh_js() -> str:
    """BokehJS core inline as ``<script>`` tags (no network needed).

    Only the ``bokeh`` component: the static figures need no widgets, tables, MathJax or
    WebGL bundles (that keeps a report ~1 MB instead of ~4 MB).
    """
    from bokeh.resources import Resources

    return Resources(mode="inline", components=["bokeh"]).render_js()


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
    """Next week's plan (rows of :attr:`workbench.planning.WeeklyPlan.days`) as HTML."""
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
.wb-table th {background: #37474f; color: white; text-align: left !important; padding: 4px 8px}
.wb-table td {border-bottom: 1px solid #ddd; padding: 4px 8px; vertical-align: top;
               text-align: left !important}
.wb-note {color: #555; font-style: italic; margin: 4px 0 10px 0}
.wb-kpi {display: inline-block; margin: 4px 10px 4px 0; padding: 8px 12px; border-radius: 6px;
         background: #eceff1; min-width: 110px}
.wb-kpi b {display: block; font-size: 20px}
.wb-flag {color: #b71c1c}
</style>
"""
