"""The squad at a glance (``notebooks/00_start_here.ipynb``): a table and a trend plot."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from bokeh.models import HoverTool
from bokeh.palettes import Category20
from bokeh.plotting import figure

from workbench.readiness import compute_readiness, load_inputs, summarize_day
from workbench.readiness.advice import score_points
from workbench.store import Store

#: Columns of :meth:`SquadOverview.table`, in display order (source column -> header).
TABLE_COLUMNS = {
    "athlete_id": "id",
    "name": "athlete",
    "sport": "sport",
    "group_name": "group",
    "score": "readiness",
    "band": "band",
    "hrv_flag": "HRV",
    "rhr_flag": "resting HR",
    "acwr": "ACWR",
    "top_reason": "main reason",
}
#: History loaded before the plotted window: the 60-day normal range needs it.
BASELINE_DAYS = 60


@dataclass
class SquadOverview:
    """Daily readiness of every athlete over the last ``days`` days (computed once)."""

    readiness: pd.DataFrame
    athletes: pd.DataFrame

    @classmethod
    def load(cls, store: Store, days: int = 90) -> SquadOverview:
        """Compute readiness for the last ``days`` days with data (plus baseline history)."""
        last = store.hrv_readings(with_rr=False)["date"].max()
        if pd.isna(last):
            raise ValueError(f"no HRV readings in {store.url}: run `workbench demo` or import data")
        start = (last - pd.Timedelta(days=days + BASELINE_DAYS)).date()
        inputs = load_inputs(store, start=start, end=last.date())
        readiness = compute_readiness(inputs)
        return cls(readiness[readiness["date"] > last - pd.Timedelta(days=days)], inputs.athletes)

    def table(self, date=None) -> pd.DataFrame:
        """One row per athlete for ``date`` (default: latest day): readiness, flags, main reason."""
        summary = summarize_day(self.readiness, self.athletes, date)
        table = summary[list(TABLE_COLUMNS)].rename(columns=TABLE_COLUMNS)
        table["readiness"] = score_points(table["readiness"].to_numpy(dtype=float))
        table["ACWR"] = table["ACWR"].round(2)
        return table.sort_values("id").set_index("id")

    def hrv_figure(self, *, height: int = 360):
        """Each athlete's 7-day lnRMSSD relative to their own 60-day normal range.

        The y value is ``(lnRMSSD_7d - normal_mid) / half_width`` so every athlete shares one
        axis: inside [-1, 1] is the personal normal range (mean ± 0.5 SD, HRV4Training method).
        """
        daily = self.readiness
        mid = (daily["normal_high"] + daily["normal_low"]) / 2
        half = (daily["normal_high"] - daily["normal_low"]) / 2
        daily = daily.assign(rel=(daily["lnrmssd_7d"] - mid) / half)
        fig = figure(
            height=height,
            sizing_mode="stretch_width",
            x_axis_type="datetime",
            title="HRV 7-day mean vs personal normal range (inside ±1 = normal)",
            y_axis_label="lnRMSSD 7 d (half-widths of the normal range)",
            tools="pan,wheel_zoom,reset,save",
        )
        x = [daily["date"].min(), daily["date"].max()]
        fig.varea(
            x=x,
            y1=[-1, -1],
            y2=[1, 1],
            fill_alpha=0.12,
            fill_color="green",
            legend_label="normal range",
        )
        palette = Category20[20]
        for i, (athlete, rows) in enumerate(daily.groupby("athlete_id", sort=True)):
            fig.line(
                rows["date"],
                rows["rel"],
                color=palette[i % 20],
                line_width=2,
                legend_label=athlete,
                name=athlete,
            )
        fig.add_tools(
            HoverTool(
                tooltips=[("athlete", "$name"), ("date", "$x{%F}"), ("value", "$y{0.00}")],
                formatters={"$x": "datetime"},
            )
        )
        fig.legend.click_policy = "hide"
        fig.legend.label_text_font_size = "8pt"
        fig.add_layout(fig.legend[0], "right")
        return fig

    @staticmethod
    def holdings(store: Store) -> pd.DataFrame:
        """Rows per table of the database, as a one-column table."""
        return pd.DataFrame.from_dict(store.counts(), orient="index", columns=["rows"])
