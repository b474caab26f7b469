"""Readiness views: card, sortable squad table and Bokeh trend plots.

The plot builders are plain functions over readiness rows of one athlete (the output of
:func:`workbench.readiness.compute_readiness`) returning Bokeh figures; they are the one
implementation of the readiness trend charts, used by the readiness review, the weekly report
(:mod:`workbench.reports.render`) and the coach dashboards. Every builder takes the same
keyword options: ``window`` (first, last day shown), ``highlight`` (a period shaded, e.g. the
report's ISO week), ``height``, ``width`` (``None``: stretch to the page) and ``title``. The
widgets are thin: they receive their model (DataFrames) in ``__init__``.
"""

from __future__ import annotations

import html
import math
from typing import Any

import ipywidgets as w
import numpy as np
import pandas as pd

from workbench.errors import DataFormatError
from workbench.readiness.advice import format_score, score_points

BAND_COLOURS = {
    "go hard": "#2e7d32",
    "moderate": "#f9a825",
    "recovery": "#c62828",
    "insufficient data": "#9e9e9e",
}
_TOOLS = "pan,xwheel_zoom,box_zoom,reset,save"
_BOKEHJS_LOADED = False
_DAY_MS = 86_400_000

#: A period as (first day, last day); either end may be a date, string or Timestamp.
Period = tuple[Any, Any]


def load_bokehjs(components: tuple[str, ...] | None = None) -> None:
    """Load BokehJS inline (offline) once per kernel, as Voilà and JupyterLab need.

    ``components``: the BokehJS bundles to send, e.g. ``("bokeh",)`` for plain figures
    (1.3 MB instead of 3.9 MB of JavaScript in the page: the coach dashboards use this);
    ``None`` sends all of them (tables, widgets, WebGL, MathJax).
    """
    global _BOKEHJS_LOADED
    if not _BOKEHJS_LOADED:
        from bokeh.io import output_notebook
        from bokeh.resources import INLINE, Resources

        res = (
            INLINE if components is None else Resources(mode="inline", components=list(components))
        )
        output_notebook(resources=res, hide_banner=True)
        _BOKEHJS_LOADED = True


def _one_athlete(readiness: pd.DataFrame, window: Period | None = None) -> pd.DataFrame:
    """The rows of one athlete sorted by date, cut to ``window`` (first, last day) if given."""
    ids = readiness["athlete_id"].unique()
    if len(ids) != 1:
        raise DataFormatError(
            f"trend plots take the rows of one athlete, got {len(ids)}: {list(ids)[:5]}",
            field="athlete_id",
        )
    r = readiness.sort_values("date")
    if window is not None:
        lo, hi = window
        if lo is not None:
            r = r[r["date"] >= pd.Timestamp(lo)]
        if hi is not None:
            r = r[r["date"] <= pd.Timestamp(hi)]
    return r


def _fig(
    title: str,
    x_range=None,
    height: int = 200,
    width: int | None = None,
    highlight: Period | None = None,
    **kw,
):
    """A datetime figure; ``width=None`` stretches to the page; ``highlight`` shades a period."""
    from bokeh.models import BoxAnnotation
    from bokeh.plotting import figure

    f = figure(
        title=title,
        height=height,
        **({"sizing_mode": "stretch_width"} if width is None else {"width": width}),
        x_axis_type="datetime",
        tools=_TOOLS,
        toolbar_location="right",
        **({"x_range": x_range} if x_range is not None else {}),
        **kw,
    )
    f.title.text_font_size = "11pt"
    if highlight is not None and highlight[0] is not None and highlight[1] is not None:
        f.add_layout(
            BoxAnnotation(
                left=pd.Timestamp(highlight[0]) - pd.Timedelta(hours=12),
                right=pd.Timestamp(highlight[1]) + pd.Timedelta(hours=12),
                fill_alpha=0.08,
                fill_color="#1565c0",
            )
        )
    return f


def _legend(f, location: str, orientation: str = "horizontal", **style) -> None:
    """Small legend at ``location``."""
    f.legend.location = location
    f.legend.orientation = orientation
    f.legend.label_text_font_size = "8pt"
    for k, v in style.items():
        setattr(f.legend, k, v)


def _source(r: pd.DataFrame, cols: list[str]):
    from bokeh.models import ColumnDataSource

    data = {"date": r["date"].to_numpy()}
    for c in cols:
        data[c] = r[c].to_numpy(dtype=float)
    return ColumnDataSource(data)


def score_figure(
    readiness: pd.DataFrame,
    x_range=None,
    *,
    window: Period | None = None,
    highlight: Period | None = None,
    height: int = 220,
    width: int | None = None,
    title: str = "Readiness score",
):
    """Readiness score (0-100) per day, dots coloured by band, band thresholds 60/80."""
    from bokeh.models import ColumnDataSource, HoverTool, Span

    r = _one_athlete(readiness, window)
    f = _fig(title, x_range, height, width, highlight, y_range=(0, 100), name="readiness-score")
    src = ColumnDataSource(
        {
            "date": r["date"].to_numpy(),
            "score": r["score"].to_numpy(dtype=float),
            "shown": [format_score(x) for x in r["score"]],  # as on the card and tables
            "band": r["band"].astype(str).to_numpy(),
            "colour": r["band"].map(BAND_COLOURS).fillna("#9e9e9e").to_numpy(),
        }
    )
    f.line("date", "score", source=src, color="#546e7a", line_width=1.5)
    f.scatter("date", "score", source=src, color="colour", size=7)
    for y in (60, 80):
        f.add_layout(Span(location=y, dimension="width", line_dash="dashed", line_color="#90a4ae"))
    f.add_tools(
        HoverTool(
            tooltips=[("date", "@date{%F}"), ("score", "@shown"), ("band", "@band")],
            formatters={"@date": "datetime"},
        )
    )
    f.yaxis.axis_label = "score"
    return f


def hrv_figure(
    readiness: pd.DataFrame,
    x_range=None,
    *,
    window: Period | None = None,
    highlight: Period | None = None,
    height: int = 200,
    width: int | None = None,
    title: str = "HRV: lnRMSSD (ln ms), 7-day mean and normal range",
):
    """lnRMSSD (dots), its 7-day mean (line) and the 60-day normal range (band)."""
    r = _one_athlete(readiness, window)
    src = _source(r, ["lnrmssd", "lnrmssd_7d", "normal_low", "normal_high"])
    f = _fig(title, x_range, height, width, highlight, name="readiness-hrv")
    f.varea(
        "date", "normal_low", "normal_high", source=src, fill_color="#90caf9",
        fill_alpha=0.35, legend_label="normal range (60 d, ±0.5 SD)",
    )  # fmt: skip
    f.scatter("date", "lnrmssd", source=src, size=4, color="#546e7a", legend_label="morning")
    f.line("date", "lnrmssd_7d", source=src, line_width=2.5, color="#1565c0", legend_label="7-d")
    _legend(f, "bottom_left", background_fill_alpha=0.6)
    f.yaxis.axis_label = "ln ms"
    return f


def rhr_figure(
    readiness: pd.DataFrame,
    x_range=None,
    *,
    window: Period | None = None,
    highlight: Period | None = None,
    height: int = 200,
    width: int | None = None,
    title: str = "Resting HR (bpm); amber |z| ≥ 1, red ≥ 2",
):
    """Resting HR (bpm); days with |z| >= 1 vs the 4-week baseline in amber, >= 2 in red."""
    r = _one_athlete(readiness, window)
    src = _source(r, ["resting_hr_bpm", "rhr_z"])
    colours = np.where(
        r["rhr_flag"] == "red", "#c62828", np.where(r["rhr_flag"] == "yellow", "#f9a825", "#455a64")
    )
    src.data["colour"] = colours
    f = _fig(title, x_range, height, width, highlight, name="readiness-rhr")
    f.line("date", "resting_hr_bpm", source=src, color="#90a4ae")
    f.scatter("date", "resting_hr_bpm", source=src, color="colour", size=5)
    f.yaxis.axis_label = "bpm"
    return f


def sleep_figure(
    readiness: pd.DataFrame,
    x_range=None,
    *,
    window: Period | None = None,
    highlight: Period | None = None,
    height: int = 200,
    width: int | None = None,
    title: str = "Sleep stages (h) vs need",
):
    """Sleep stages stacked (deep, REM, light/other, hours) with the nightly need (line).

    The stack's height is the night's total sleep (all light/other when no stages are known).
    """
    r = _one_athlete(readiness, window)
    deep = r["sleep_deep_min"].fillna(0).to_numpy() / 60
    rem = r["sleep_rem_min"].fillna(0).to_numpy() / 60
    total = r["sleep_total_min"].to_numpy(dtype=float) / 60
    other = np.clip(np.nan_to_num(total) - deep - rem, 0, None)
    from bokeh.models import ColumnDataSource

    src = ColumnDataSource(
        {
            "date": r["date"].to_numpy(),
            "deep": deep,
            "rem": rem,
            "light/other": other,
            "need": r["sleep_need_min"].to_numpy(dtype=float) / 60,
        }
    )
    f = _fig(title, x_range, height, width, highlight, name="readiness-sleep")
    f.vbar_stack(
        ["deep", "rem", "light/other"], x="date", width=0.8 * _DAY_MS, source=src,
        color=["#283593", "#7986cb", "#c5cae9"], legend_label=["deep", "REM", "light/other"],
    )  # fmt: skip
    f.line("date", "need", source=src, color="#000000", line_dash="dashed", legend_label="need")
    _legend(f, "bottom_left")
    f.yaxis.axis_label = "h"
    return f


def daily_load(dates: pd.Series, sessions: pd.DataFrame) -> pd.DataFrame:
    """Load per calendar day from the first to the last of ``dates``.

    ``sessions`` are training sessions (``date, status, load_au, planned_load_au``). Returns
    ``date, done_au`` (sum of ``load_au`` of done sessions) and ``planned_au`` (sum of
    ``planned_load_au`` of all sessions); days without sessions hold 0.
    """
    lo, hi = (dates.min(), dates.max()) if len(dates) else (pd.NaT, pd.NaT)
    days = pd.DataFrame({"date": pd.date_range(lo, hi, freq="D") if pd.notna(lo) else []})
    if sessions.empty:
        return days.assign(done_au=0.0, planned_au=0.0)
    s = sessions.assign(date=pd.to_datetime(sessions["date"]))
    done = s[s["status"] == "done"].groupby("date")["load_au"].sum()
    plan = s.groupby("date")["planned_load_au"].sum()
    days["done_au"] = days["date"].map(done).fillna(0.0).astype(float)
    days["planned_au"] = days["date"].map(plan).fillna(0.0).astype(float)
    return days


def acwr_figure(
    readiness: pd.DataFrame,
    x_range=None,
    *,
    sessions: pd.DataFrame | None = None,
    window: Period | None = None,
    highlight: Period | None = None,
    height: int | None = None,
    width: int | None = None,
    title: str | None = None,
):
    """ACWR (the form named in ``acwr_method``) with the 0.8-1.3 zone and load-spike flags.

    With ``sessions`` (training sessions of the athlete, see :func:`daily_load`) the daily
    planned (outline) and done (filled) loads are drawn as bars on the left axis (AU) and the
    ACWR moves to a right-hand axis.
    """
    from bokeh.models import BoxAnnotation, ColumnDataSource, LinearAxis, Range1d, Span

    r = _one_athlete(readiness, window)
    src = _source(r, ["acwr"])
    method = str(r["acwr_method"].iloc[-1]) if len(r) else ""
    if title is None:
        title = f"ACWR ({method}); spike flag ≥ 1.5"
        if sessions is not None:
            title = "Load vs plan (AU) and " + title
    f = _fig(
        title, x_range, height or (220 if sessions is not None else 200), width, highlight,
        name="readiness-acwr",
    )  # fmt: skip
    on_acwr: dict[str, Any] = {}
    if sessions is not None:
        bars = ColumnDataSource(daily_load(r["date"], sessions))
        f.vbar(
            x="date", top="planned_au", source=bars, width=pd.Timedelta(hours=20), fill_alpha=0,
            line_color="#37474f", legend_label="planned",
        )  # fmt: skip
        f.vbar(
            x="date", top="done_au", source=bars, width=pd.Timedelta(hours=12), color="#ef6c00",
            alpha=0.8, legend_label="done",
        )  # fmt: skip
        f.yaxis.axis_label = "load (AU)"
        acwr = r["acwr"].astype(float)
        top = max(2.0, float(acwr.max()) * 1.1) if acwr.notna().any() else 2.0
        f.extra_y_ranges = {"acwr": Range1d(0, top)}
        f.add_layout(LinearAxis(y_range_name="acwr", axis_label="ACWR"), "right")
        on_acwr = {"y_range_name": "acwr"}
    else:
        f.yaxis.axis_label = "ACWR"
    f.add_layout(
        BoxAnnotation(
            bottom=0.8, top=1.3, fill_color="#a5d6a7", fill_alpha=0.35, level="underlay",
            **on_acwr,
        )
    )  # fmt: skip
    f.add_layout(
        Span(location=1.5, dimension="width", line_color="#c62828", line_dash="dashed", **on_acwr)
    )
    f.line(
        "date", "acwr", source=src, line_width=2, color="#37474f" if not on_acwr else "#6a1b9a",
        **({"legend_label": "ACWR"} if on_acwr else {}), **on_acwr,
    )  # fmt: skip
    spikes = r[r["load_spike_flag"].fillna(False).astype(bool)]
    if len(spikes):
        f.scatter(
            spikes["date"].to_numpy(), spikes["acwr"].to_numpy(dtype=float), marker="triangle",
            size=9, color="#c62828", legend_label="load-spike flag (not an injury prediction)",
            **on_acwr,
        )  # fmt: skip
    if f.legend:
        _legend(f, "top_left", orientation="vertical")
    return f


def pmc_figure(
    readiness: pd.DataFrame,
    x_range=None,
    *,
    window: Period | None = None,
    highlight: Period | None = None,
    height: int = 200,
    width: int | None = None,
    title: str = "PMC: fitness (CTL), fatigue (ATL), form (TSB)",
):
    """Performance Manager: CTL (42 d), ATL (7 d) and TSB = yesterday's CTL − ATL (AU/day).

    TSB follows GoldenCheetah: the form an athlete starts the day with, before that day's
    session (today's value is the ``tsb_same_day`` column).
    """
    from bokeh.models import Span

    r = _one_athlete(readiness, window)
    src = _source(r, ["ctl", "atl", "tsb"])
    f = _fig(title, x_range, height, width, highlight, name="readiness-pmc")
    f.vbar("date", width=0.8 * _DAY_MS, top="tsb", source=src, color="#ffcc80",
           legend_label="TSB")  # fmt: skip
    f.line("date", "ctl", source=src, line_width=2, color="#1565c0", legend_label="CTL 42 d")
    f.line("date", "atl", source=src, line_width=2, color="#c62828", legend_label="ATL 7 d")
    f.add_layout(Span(location=0, dimension="width", line_color="#9e9e9e"))
    _legend(f, "top_left")
    f.yaxis.axis_label = "AU/day"
    return f


def trend_plots(
    readiness: pd.DataFrame,
    days: int | None = 90,
    *,
    sessions: pd.DataFrame | None = None,
    highlight: Period | None = None,
    width: int | None = None,
):
    """All five trend plots of one athlete in a column with a shared date axis.

    ``days`` limits the view to the last days (None: everything); ``sessions`` adds the
    planned and done loads to the ACWR plot; ``highlight`` and ``width`` as the builders.
    """
    from bokeh.layouts import column

    r = _one_athlete(readiness)
    if days is not None and len(r):
        r = r[r["date"] > r["date"].max() - pd.Timedelta(days=days)]
    opts: dict[str, Any] = {"highlight": highlight, "width": width}
    first = hrv_figure(r, **opts)
    figs = [first] + [fn(r, first.x_range, **opts) for fn in (rhr_figure, sleep_figure)]
    figs.append(acwr_figure(r, first.x_range, sessions=sessions, **opts))
    figs.append(pmc_figure(r, first.x_range, **opts))
    return column(*figs, sizing_mode="stretch_width" if width is None else None,
                  name="readiness-trends")  # fmt: skip


# --------------------------------------------------------------------------------- card
def _fmt(x: Any, spec: str, unit: str = "") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    return f"{x:{spec}}{unit}"


def card_html(row: pd.Series | dict) -> str:
    """HTML of the readiness card of one athlete-day (a row of ``compute_readiness``)."""
    r = dict(row)
    band = str(r.get("band", "insufficient data"))
    colour = BAND_COLOURS.get(band, "#9e9e9e")
    score = r.get("score")
    score_txt = format_score(score)
    name = html.escape(str(r.get("name") or r.get("athlete_id", "")))
    day = pd.Timestamp(r["date"]).strftime("%a %d %b %Y")
    contrib = "".join(
        f"<tr><td>{html.escape(c['label'])}</td><td style='text-align:right'>{c['score']:.0f}</td>"
        f"<td style='text-align:right'>{100 * c['weight']:.0f} %</td></tr>"
        for c in (r.get("contributors") or [])
    )
    reasons = "".join(f"<li>{html.escape(x)}</li>" for x in (r.get("reasons") or []))
    advice = "".join(f"<li>{html.escape(x)}</li>" for x in (r.get("advice") or []))
    evidence = r.get("warning_evidence") or []
    warn = ""
    if evidence:
        warn = (
            "<div style='background:#ffebee;border-left:4px solid #c62828;padding:4px 8px;"
            "margin:6px 0'><b>Warning</b><ul style='margin:2px 0'>"
            + "".join(f"<li>{html.escape(x)}</li>" for x in evidence)
            + "</ul></div>"
        )
    pct = r.get("hrv_pct_below_baseline")
    vs_base = (
        f"{_fmt(abs(pct), '.0f', ' %')} {'below' if pct >= 0 else 'above'} baseline"
        if isinstance(pct, float) and math.isfinite(pct)
        else "no baseline yet"
    )
    deficit = r.get("hrv_deficit_pct")
    if isinstance(deficit, float) and math.isfinite(deficit) and deficit >= 10:
        vs_base += f", ≥ {deficit:.0f} % flag"
    flags = (
        f"HRV: {html.escape(str(r.get('hrv_flag')))} ({vs_base}) · "
        f"RHR z {_fmt(r.get('rhr_z'), '+.1f')} · sleep {_fmt(r.get('sleep_total_min'), '.0f')}"
        f" / {_fmt(r.get('sleep_need_min'), '.0f')} min · ACWR {_fmt(r.get('acwr'), '.2f')}"
        f" · TSB {_fmt(r.get('tsb'), '.0f')}"
    )
    return (
        "<div class='wb-readiness-card' style='font-family:sans-serif;border:1px solid #ddd;"
        f"border-radius:8px;padding:10px 14px;max-width:760px;border-top:8px solid {colour}'>"
        f"<div style='display:flex;align-items:center;gap:16px'>"
        f"<div class='wb-score' style='font-size:44px;font-weight:700;color:{colour}'>"
        f"{score_txt}</div><div><div style='font-size:18px;font-weight:600'>{name}</div>"
        f"<div>{day} · <b style='color:{colour}'>{html.escape(band)}</b></div>"
        f"<div style='font-size:12px;color:#555'>{flags}</div></div></div>{warn}"
        "<div style='display:flex;gap:24px;flex-wrap:wrap;margin-top:6px'>"
        "<div><b>Contributors</b><table style='font-size:12px'><tr><th style='text-align:left'>"
        "input</th><th>score</th><th>weight</th></tr>"
        f"{contrib}</table></div>"
        f"<div style='flex:1;min-width:240px'><b>Reasons</b><ul style='margin:2px 0;"
        f"font-size:13px'>{reasons}</ul><b>Advice</b><ul style='margin:2px 0;font-size:13px'>"
        f"{advice}</ul></div></div></div>"
    )


class ReadinessCard(w.HTML):
    """Card of one athlete-day: score, band colour, contributors with weights, reasons, advice.

    Parameters
    ----------
    row:
        One row of :func:`workbench.readiness.compute_readiness` (or ``squad_summary``).
    """

    def __init__(self, row: pd.Series | dict, **kwargs: Any) -> None:
        super().__init__(value=card_html(row), **kwargs)
        self.row = row


# ---------------------------------------------------------------------------- squad table
_TABLE_COLUMNS = [
    ("athlete_id", "athlete"),
    ("name", "name"),
    ("group_name", "group"),
    ("score", "score"),
    ("band", "band"),
    ("hrv_flag", "HRV"),
    ("hrv_pct_below_baseline", "HRV % below"),
    ("hrv_deficit_pct", "HRV flag %"),
    ("rhr_z", "RHR z"),
    ("acwr", "ACWR"),
    ("load_spike_flag", "load spike"),
    ("illness_flag", "illness?"),
    ("overtraining_warning", "OT warning"),
    ("top_reason", "top reason"),
    ("data_quality", "data"),
]


def squad_table(summary: pd.DataFrame):
    """Sortable Bokeh ``DataTable`` of a squad summary (click a header to sort).

    ``summary`` is the output of :func:`workbench.readiness.squad_summary`.
    """
    from bokeh.models import (
        ColumnDataSource,
        DataTable,
        HTMLTemplateFormatter,
        NumberFormatter,
        StringFormatter,
        TableColumn,
    )

    data = {}
    for col, _ in _TABLE_COLUMNS:
        v = summary[col] if col in summary else pd.Series([""] * len(summary))
        if col in ("load_spike_flag", "illness_flag", "overtraining_warning"):
            data[col] = ["⚠ yes" if bool(x) else "" for x in v]
        elif col == "data_quality":
            data[col] = ["; ".join(x) if isinstance(x, list) else "" for x in v]
        elif col == "score":  # the displayed integer, as on the card (rounded once)
            data[col] = score_points(v.to_numpy(dtype=float))
        elif v.dtype.kind == "f":
            data[col] = v.round(2).to_numpy()
        else:
            data[col] = v.astype(str).to_numpy()
    band_fmt = HTMLTemplateFormatter(
        template="<span style='color:<%= value == 'go hard' ? '#2e7d32' : "
        "(value == 'moderate' ? '#b28704' : (value == 'recovery' ? '#c62828' : '#757575')) %>;"
        "font-weight:600'><%= value %></span>"
    )
    cols = []
    for col, title in _TABLE_COLUMNS:
        fmt: Any = StringFormatter()
        if col == "band":
            fmt = band_fmt
        elif col in ("score", "hrv_pct_below_baseline", "hrv_deficit_pct"):
            fmt = NumberFormatter(format="0")
        elif col in ("rhr_z", "acwr"):
            fmt = NumberFormatter(format="0.00")
        width = {"top_reason": 300, "data_quality": 220, "name": 120, "hrv_flag": 140}.get(
            col, 80 if col == "band" else 70
        )
        cols.append(TableColumn(field=col, title=title, formatter=fmt, width=width))
    return DataTable(
        source=ColumnDataSource(data), columns=cols, sortable=True, index_position=None,
        height=40 + 28 * max(len(summary), 1), sizing_mode="stretch_width",
        name="readiness-squad-table",
    )  # fmt: skip


class SquadTable(w.VBox):
    """Sortable squad table with flags (a Bokeh ``DataTable`` in a widget).

    Parameters
    ----------
    summary:
        Output of :func:`workbench.readiness.squad_summary`.
    """

    def __init__(self, summary: pd.DataFrame, **kwargs: Any) -> None:
        from jupyter_bokeh import BokehModel

        load_bokehjs()
        self.summary = summary
        self.table = squad_table(summary)
        day = pd.Timestamp(summary["date"].max()).strftime("%a %d %b %Y") if len(summary) else ""
        title = w.HTML(f"<h3 style='margin:4px 0'>Squad readiness — {day}</h3>")
        super().__init__([title, BokehModel(self.table)], **kwargs)


class ReadinessView(w.VBox):
    """Card plus trend plots of one athlete on one day.

    Parameters
    ----------
    readiness:
        Readiness rows (any athletes) from :func:`workbench.readiness.compute_readiness`.
    athlete_id:
        Whose view.
    date:
        Day of the card (default the athlete's last day); the plots end on that day.
    days:
        Days shown in the trend plots.
    """

    def __init__(
        self,
        readiness: pd.DataFrame,
        athlete_id: str,
        date: str | pd.Timestamp | None = None,
        *,
        days: int = 90,
        **kwargs: Any,
    ) -> None:
        from jupyter_bokeh import BokehModel

        load_bokehjs()
        r = readiness[readiness["athlete_id"] == athlete_id]
        if date is not None:
            r = r[r["date"] <= pd.Timestamp(date)]
        if r.empty:
            raise DataFormatError(
                f"no readiness rows for {athlete_id!r} on or before {date}", field="athlete_id"
            )
        r = r.sort_values("date")
        self.card = ReadinessCard(r.iloc[-1])
        self.plots = trend_plots(r, days=days)
        super().__init__([self.card, BokehModel(self.plots)], **kwargs)
