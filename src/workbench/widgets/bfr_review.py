"""Bokeh figures of a stored BFR session (pressure with setpoint and limit bands, time under
pressure by phase); the numbers come from :mod:`workbench.bfr.review`.

Why: ``docs/decisions/0004-bfr-control.md``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from bokeh.models import BoxAnnotation, ColumnDataSource
from bokeh.plotting import figure

from workbench.bfr.review import StoredSession
from workbench.plotting import minmax_decimate

__all__ = ["pressure_figure", "time_under_pressure_figure"]

#: limit bands: max setpoint → sustained trip → instant trip → above
_BAND_COLORS = ("#f9a825", "#ef6c00", "#c62828")


def pressure_figure(s: StoredSession, *, columns: int = 1200):
    """Pressure and setpoint (min/max-decimated to ``columns``) with the limit bands from
    arming on, the AOP measurement shaded before it and the sets shaded."""
    t_s, values, lim = s.t_s, s.values, s.limits
    td, vd = minmax_decimate(
        t_s, values[:, [0, 2]], t_start=float(t_s[0]), t_end=float(t_s[-1]), columns=columns
    )
    gaps = np.flatnonzero(np.diff(td) > 1.0) + 1  # no samples while the cuff rested
    td = np.insert(td, gaps, np.nan)
    vd = np.insert(vd, gaps, np.nan, axis=0)
    src = ColumnDataSource({"t": td, "p": vd[:, 0], "sp": vd[:, 1]})
    fig = figure(height=340, sizing_mode="stretch_width", x_axis_label="session time (s)",
                 y_axis_label="mmHg", title="Cuff pressure, setpoint and limits",
                 tools="xpan,xwheel_zoom,box_zoom,reset,save")  # fmt: skip
    t_arm = s.armed_t_s
    lines = (lim.max_setpoint_mmhg, lim.sustained_trip_mmhg, lim.instant_trip_mmhg)
    top = max(lim.instant_trip_mmhg + 40, float(np.nanmax(vd[:, 0])) + 10)
    for lo, hi, color in zip(lines, (*lines[1:], top), _BAND_COLORS, strict=True):
        fig.add_layout(BoxAnnotation(left=t_arm, bottom=lo, top=hi, fill_color=color,
                                     fill_alpha=0.12))  # fmt: skip
    fig.add_layout(BoxAnnotation(right=t_arm, fill_color="#90a4ae", fill_alpha=0.08))
    ev = s.events
    marks = ev[ev["code"].isin(["set", "rest", "reperfusion"])].sort_values("t_s")
    for start in marks["t_s"][marks["code"] == "set"]:
        end = marks["t_s"][marks["t_s"] > start].min()
        fig.add_layout(BoxAnnotation(left=start, right=None if pd.isna(end) else end,
                                     fill_color="#1565c0", fill_alpha=0.06))  # fmt: skip
    fig.line("t", "sp", source=src, color="#1565c0", line_width=2, legend_label="setpoint")
    fig.line("t", "p", source=src, color="#1b2a3a", line_width=1, legend_label="pressure")
    for v, c in zip(lines, _BAND_COLORS, strict=True):
        fig.segment(x0=t_arm, x1=float(t_s[-1]), y0=v, y1=v, color=c, line_dash="dashed")
    fig.y_range.start = 0
    fig.legend.location = "top_left"
    return fig


def time_under_pressure_figure(s: StoredSession, tup: pd.Series):
    """Bars of :func:`~workbench.bfr.review.time_under_pressure_by_phase` (``tup``)."""
    bars = figure(height=260, sizing_mode="stretch_width", x_range=list(tup.index),
                  y_axis_label="s", toolbar_location=None,
                  title=f"Time under pressure: {tup.sum():.0f} s (session row: "
                  f"{s.row['time_under_pressure_s']:.0f} s of training)")  # fmt: skip
    bars.vbar(x=list(tup.index), top=tup.to_numpy(), width=0.6, color="#1565c0")
    bars.y_range.start = 0
    return bars
