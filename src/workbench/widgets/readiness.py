"""Readiness views: card, sortable squad table and Bokeh trend plots.

The plot builders are plain functions over readiness rows of one athlete (the output of
:func:`workbench.readiness.compute_readiness`) returning Bokeh figures, so reports can embed
the same plots. The widgets are thin: they receive their model (DataFrames) in ``__init__``.
"""

from __future__ import annotations

import html
import math
from typing import Any

import ipywidgets as w
import numpy as np
import pandas as pd

from workbench.errors import DataFormatError

BAND_COLOURS = {
    "go hard": "#2e7d32",
    "moderate": "#f9a825",
    "recovery": "#c62828",
    "insufficient data": "#9e9e9e",
}
_TOOLS = "pan,xwheel_zoom,box_zoom,reset,save"
_BOKEHJS_LOADED = False


def load_bokehjs() -> None:
    """Load BokehJS inline (offline) once per kernel, as Voilà and JupyterLab need."""
    global _BOKEHJS_LOADED
    if not _BOKEHJS_LOADED:
        from bokeh.io import output_notebook
        from bokeh.resources import INLINE

        output_notebook(resources=INLINE, hide_banner=True)
        _BOKEHJS_LOADED = True


def _one_athlete(readiness: pd.DataFrame) -> pd.DataFrame:
    ids = readiness["athlete_id"].unique()
    if len(ids) != 1:
        raise DataFormatError(
            f"trend plots take the rows of one athlete, got {len(ids)}: {list(ids)[:5]}",
            field="athlete_id",
        )
    return readiness.sort_values("date")


def _fig(title: str, x_range=None, height: int = 200, **kw):
    from bokeh.plotting import figure

    f = figure(
        title=title,
        height=height,
        sizing_mode="stretch_width",
        x_axis_type="datetime",
        tools=_TOOLS,
        toolbar_location="right",
        **({"x_range": x_range} if x_range is not None else {}),
        **kw,
    )
    f.title.text_font_size = "11pt"
    return f


def _source(r: pd.DataFrame, cols: list[str]):
    from bokeh.models import ColumnDataSource

    data = {"date": r["date"].to_numpy()}
    for c in cols:
        data[c] = r[c].to_numpy(dtype=float)
    return ColumnDataSource(data)


def hrv_figure(readiness: pd.DataFrame, x_range=None):
    """lnRMSSD (dots), its 7-day mean (line) and the 60-day normal range (band)."""
    r = _one_athlete(readiness)
    src = _source(r, ["lnrmssd", "lnrmssd_7d", "normal_low", "normal_high"])
    f = _fig("HRV: lnRMSSD (ln ms) and normal range", x_range, name="readiness-hrv")
    f.varea(
        "date", "normal_low", "normal_high", source=src, fill_color="#90caf9",
        fill_alpha=0.35, legend_label="normal range (60 d, ±0.5 SD)",
    )  # fmt: skip
    f.scatter("date", "lnrmssd", source=src, size=4, color="#546e7a", legend_label="morning")
    f.line("date", "lnrmssd_7d", source=src, line_width=2.5, color="#1565c0", legend_label="7-d")
    f.legend.location = "bottom_left"
    f.legend.orientation = "horizontal"
    f.legend.background_fill_alpha = 0.6
    f.legend.label_text_font_size = "8pt"
    f.yaxis.axis_label = "ln ms"
    return f


def rhr_figure(readiness: pd.DataFrame, x_range=None):
    """Resting HR (bpm); days with |z| >= 1 vs the 4-week baseline in amber, >= 2 in red."""
    r = _one_athlete(readiness)
    src = _source(r, ["resting_hr_bpm", "rhr_z"])
    colours = np.where(
        r["rhr_flag"] == "red", "#c62828", np.where(r["rhr_flag"] == "yellow", "#f9a825", "#455a64")
    )
    src.data["colour"] = colours
    f = _fig("Resting HR (bpm); amber |z| ≥ 1, red ≥ 2", x_range, name="readiness-rhr")
    f.line("date", "resting_hr_bpm", source=src, color="#90a4ae")
    f.scatter("date", "resting_hr_bpm", source=src, color="colour", size=5)
    f.yaxis.axis_label = "bpm"
    return f


def sleep_figure(readiness: pd.DataFrame, x_range=None):
    """Sleep stages stacked (deep, REM, light/other, hours) with the nightly need (line)."""
    r = _one_athlete(readiness)
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
    f = _fig("Sleep stages (h) vs need", x_range, name="readiness-sleep")
    f.vbar_stack(
        ["deep", "rem", "light/other"], x="date", width=0.8 * 86_400_000, source=src,
        color=["#283593", "#7986cb", "#c5cae9"], legend_label=["deep", "REM", "light/other"],
    )  # fmt: skip
    f.line("date", "need", source=src, color="#000000", line_dash="dashed", legend_label="need")
    f.legend.location = "bottom_left"
    f.legend.orientation = "horizontal"
    f.legend.label_text_font_size = "8pt"
    f.yaxis.axis_label = "h"
    return f


def acwr_figure(readiness: pd.DataFrame, x_range=None):
    """ACWR (the form named in ``acwr_method``) with the 0.8-1.3 zone and load-spike flags."""
    from bokeh.models import BoxAnnotation, Span

    r = _one_athlete(readiness)
    src = _source(r, ["acwr"])
    method = str(r["acwr_method"].iloc[-1]) if len(r) else ""
    f = _fig(f"ACWR ({method}); spike flag ≥ 1.5", x_range, name="readiness-acwr")
    f.add_layout(BoxAnnotation(bottom=0.8, top=1.3, fill_color="#a5d6a7", fill_alpha=0.35))
    f.add_layout(Span(location=1.5, dimension="width", line_color="#c62828", line_dash="dashed"))
    f.line("date", "acwr", source=src, line_width=2, color="#37474f")
    spikes = r[r["load_spike_flag"].astype(bool)]
    if len(spikes):
        f.scatter(
            spikes["date"].to_numpy(), spikes["acwr"].to_numpy(dtype=float), marker="triangle",
            size=9, color="#c62828", legend_label="load-spike flag (not an injury prediction)",
        )  # fmt: skip
        f.legend.location = "top_left"
        f.legend.label_text_font_size = "8pt"
    return f


def pmc_figure(readiness: pd.DataFrame, x_range=None):
    """Performance Manager: CTL (42 d), ATL (7 d) and TSB = CTL − ATL (AU/day)."""
    from bokeh.models import Span

    r = _one_athlete(readiness)
    src = _source(r, ["ctl", "atl", "tsb"])
    f = _fig("PMC: fitness (CTL), fatigue (ATL), form (TSB)", x_range, name="readiness-pmc")
    f.vbar("date", width=0.8 * 86_400_000, top="tsb", source=src, color="#ffcc80",
           legend_label="TSB")  # fmt: skip
    f.line("date", "ctl", source=src, line_width=2, color="#1565c0", legend_label="CTL")
    f.line("date", "atl", source=src, line_width=2, color="#c62828", legend_label="ATL")
    f.add_layout(Span(location=0, dimension="width", line_color="#9e9e9e"))
    f.legend.location = "top_left"
    f.legend.orientation = "horizontal"
    f.legend.label_text_font_size = "8pt"
    f.yaxis.axis_label = "AU/day"
    return f


def trend_plots(readiness: pd.DataFrame, days: int | None = 90):
    """All five trend plots of one athlete in a column with a shared date axis.

    ``days`` limits the view to the last days (None: everything).
    """
    from bokeh.layouts import column

    r = _one_athlete(readiness)
    if days is not None and len(r):
        r = r[r["date"] > r["date"].max() - pd.Timedelta(days=days)]
    first = hrv_figure(r)
    figs = [first] + [fn(r, first.x_range) for fn in (rhr_figure, sleep_figure, acwr_figure)]
    figs.append(pmc_figure(r, first.x_range))
    return column(*figs, sizing_mode="stretch_width", name="readiness-trends")


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
    score_txt = _fmt(score, ".0f")
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
        width = {"top_reason": 300, "name": 120, "hrv_flag": 140, "band": 80}.get(col, 70)
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
