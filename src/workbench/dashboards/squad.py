"""Coach squad overview for Voilà: readiness table with flags, group filter, athlete drill-down.

:class:`SquadDashboard` reads everything once (readiness of the squad for the last
``HISTORY_DAYS`` days) and builds ipywidgets; clicking an athlete's button shows that
athlete's trends and next week's plan in the same page.
"""

from __future__ import annotations

import datetime as dt
import html
import math

import pandas as pd

from workbench.dashboards.errors import guarded
from workbench.errors import DataFormatError
from workbench.log import get_logger
from workbench.planning import WeeklyPlan, mobility_priorities, plan_context, weekly_plan
from workbench.readiness import compute_readiness, latest_day, load_inputs
from workbench.readiness.advice import format_score
from workbench.readiness.load import LOAD_SPIKE_ACWR
from workbench.store import open_store
from workbench.widgets import readiness as charts
from workbench.widgets import weekly as wk

log = get_logger(__name__)

#: Days of data read before the dashboard date (60-day HRV baseline + 42-day CTL need history).
HISTORY_DAYS = 90
#: Days of trend shown in the athlete view.
TREND_DAYS = 42
ALL_GROUPS = "all groups"
#: Column widths of a squad-table row after the athlete button.
ROW_COLUMNS = "90px 60px 110px 110px 170px 60px 1fr 1fr"


def squad_table(readiness: pd.DataFrame, athletes: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """One row per athlete on ``day`` (or their latest earlier day) with the flags.

    The flags are those the band and advice were decided on (the morning view: the load
    spike is yesterday's ACWR >= 1.5, as in the score), so a flag never contradicts the band.

    Returns
    -------
    pandas.DataFrame
        ``athlete_id, name, group_name, sport, date, score, score_text`` (as every view shows
        it), ``band, hrv_flag, rhr_flag, acwr`` (up to yesterday), ``tsb, flags`` (list of
        short flag texts), ``advice_action``, ``data_quality`` (inputs missing or untrusted).
    """
    r = readiness[readiness["date"] <= pd.Timestamp(day)].sort_values("date")
    last = r.groupby("athlete_id").tail(1).set_index("athlete_id")
    rows = []
    for a in athletes.itertuples():
        row = last.loc[a.athlete_id] if a.athlete_id in last.index else None
        flags: list[str] = []
        if row is not None:
            if bool(row.get("illness_flag")):
                flags.append("possible illness")
            if bool(row.get("overtraining_warning")):
                flags.append("overtraining warning")
            if row.get("hrv_flag") == "below normal range":
                flags.append("HRV below normal")
            if row.get("rhr_flag") == "red":
                flags.append("resting HR red")
            acwr_morning = row.get("acwr_yesterday", row.get("acwr"))
            if acwr_morning is not None and acwr_morning >= LOAD_SPIKE_ACWR:
                flags.append("load spike")
        rows.append(
            {
                "athlete_id": a.athlete_id,
                "name": a.name,
                "group_name": a.group_name,
                "sport": a.sport,
                "date": None if row is None else row["date"],
                "score": math.nan if row is None else row["score"],
                "score_text": "–" if row is None else format_score(row["score"]),
                "band": "no data" if row is None else row["band"],
                "hrv_flag": "" if row is None else row.get("hrv_flag"),
                "rhr_flag": "" if row is None else row.get("rhr_flag"),
                "acwr": math.nan if row is None else row.get("acwr_yesterday", row.get("acwr")),
                "tsb": math.nan if row is None else row.get("tsb"),
                "flags": flags,
                "advice_action": "" if row is None else row.get("advice_action"),
                "data_quality": [] if row is None else list(row.get("data_quality") or []),
            }
        )
    return pd.DataFrame(rows)


class SquadDashboard:
    """The coach's squad overview (ipywidgets; show :attr:`widget`).

    Parameters
    ----------
    db_url:
        Database URL (``None``: ``WORKBENCH_DB_URL`` or the default database).
    day:
        The morning to show (default: the last day with data).
    """

    def __init__(self, db_url: str | None = None, day: dt.date | str | None = None) -> None:
        with open_store(db_url) as store:
            self.athletes = store.athletes()
            if self.athletes.empty:
                raise DataFormatError(f"{store.url} holds no athletes", field="athlete_id")
            self.day = pd.Timestamp(day).date() if day is not None else latest_day(store).date()
            start = self.day - dt.timedelta(days=HISTORY_DAYS)
            inputs = load_inputs(store, start=start, end=self.day + dt.timedelta(days=7))
            self.mobility = store.mobility_assessments(end=self.day)
            self.sessions = store.training_sessions(
                start=self.day - dt.timedelta(days=TREND_DAYS + 28),
                end=self.day + dt.timedelta(days=14),
            )
        self.readiness = compute_readiness(inputs)
        self.readiness = self.readiness[self.readiness["date"] <= pd.Timestamp(self.day)]
        self.wellness = inputs.wellness
        self.table = squad_table(self.readiness, self.athletes, self.day)
        self.selected: str | None = None
        self._build()

    # ----------------------------------------------------------------- widgets
    def _build(self) -> None:
        import ipywidgets as w

        groups = [ALL_GROUPS, *sorted(self.athletes["group_name"].dropna().unique())]
        self.group = w.Dropdown(options=groups, value=ALL_GROUPS, description="Group")
        self.group.observe(lambda _change: self._fill_table(), names="value")
        self.header = w.HTML(
            wk.TABLE_CSS
            + f"<h2>Squad readiness — {self.day:%a %d %b %Y}</h2>"
            + "<p>Click an athlete for trends and next week's plan.</p>"
        )
        self.rows = w.VBox()
        self.detail = w.VBox()
        self.detail.add_class("wb-athlete-view")
        self.widget = w.VBox([self.header, self.group, self.rows, self.detail])
        self._fill_table()

    def _fill_table(self) -> None:
        import ipywidgets as w

        t = self.table
        if self.group.value != ALL_GROUPS:
            t = t[t["group_name"] == self.group.value]
        # one button and one HTML row per athlete (few widgets: the page is live sooner)
        layout = w.Layout(grid_template_columns="170px 1fr", width="100%")

        def row_html(values: list[str]) -> str:
            tds = "".join(f"<div>{v}</div>" for v in values)
            return f"<div style='display:grid;grid-template-columns:{ROW_COLUMNS}'>{tds}</div>"

        head = ["group", "score", "band", "advice", "HRV", "ACWR", "flags", "data"]
        cells: list = [w.HTML("<b>athlete</b>"), w.HTML(row_html([f"<b>{h}</b>" for h in head]))]
        for r in t.itertuples():
            btn = w.Button(description=str(r.name), tooltip=f"open {r.athlete_id}")
            btn.add_class("wb-athlete-button")
            btn.add_class(f"wb-athlete-{r.athlete_id}")
            btn.on_click(
                guarded(
                    f"the page of {r.name} ({r.athlete_id})",
                    self._show_error,
                    lambda _b, a=r.athlete_id: self.show_athlete(a),
                )
            )
            colour = charts.BAND_COLOURS.get(r.band, "#9e9e9e")
            acwr = "–" if r.acwr is None or not math.isfinite(r.acwr) else f"{r.acwr:.2f}"
            flags = ", ".join(r.flags)
            values = [
                html.escape(str(r.group_name)),
                f"<b>{r.score_text}</b>",
                f'<span style="background:{colour};color:white;padding:2px 6px;'
                f'border-radius:4px">{html.escape(str(r.band))}</span>',
                html.escape(str(r.advice_action or "")),
                html.escape(str(r.hrv_flag or "")),
                acwr,
                f'<span style="color:#b71c1c">{html.escape(flags)}</span>',
                f'<span style="color:#6d4c41">{html.escape("; ".join(r.data_quality))}</span>',
            ]
            cells += [btn, w.HTML(row_html(values))]
        grid = w.GridBox(cells, layout=layout)
        grid.add_class("wb-squad-table")
        self.rows.children = [grid]

    def athlete_plan(self, athlete_id: str) -> WeeklyPlan:
        """Plan of the week after :attr:`day` for one athlete."""
        monday = self.day + dt.timedelta(days=7 - self.day.weekday())
        w = self.wellness
        recent = w[
            (w["athlete_id"] == athlete_id)
            & (w["date"] > pd.Timestamp(self.day) - pd.Timedelta(days=7))
            & (w["date"] <= pd.Timestamp(self.day))
        ]
        sore = (
            float(recent["soreness_1_10"].mean())
            if "soreness_1_10" in recent and recent["soreness_1_10"].notna().any()
            else math.nan
        )
        s = self.sessions[self.sessions["athlete_id"] == athlete_id]
        sport = str(self.athletes.set_index("athlete_id").loc[athlete_id, "sport"])
        mob = self.mobility[self.mobility["athlete_id"] == athlete_id]
        ctx = plan_context(
            athlete_id,
            monday,
            self.readiness,
            s,
            soreness_1_10=sore,
            mobility_priorities=mobility_priorities(mob, sport, self.day) or None,
        )
        return weekly_plan(ctx)

    def show_athlete(self, athlete_id: str) -> None:
        """Show one athlete's page (trends, latest reasons and advice, next week's plan)."""
        import ipywidgets as w
        from jupyter_bokeh import BokehModel

        if athlete_id not in set(self.athletes["athlete_id"]):
            raise DataFormatError(f"unknown athlete {athlete_id!r}", field="athlete_id")
        self.selected = athlete_id
        a = self.athletes.set_index("athlete_id").loc[athlete_id]
        r = self.readiness[self.readiness["athlete_id"] == athlete_id]
        r = r[r["date"] > pd.Timestamp(self.day) - pd.Timedelta(days=TREND_DAYS)]
        parts = [
            f"<h2 class='wb-athlete-title'>{html.escape(str(a['name']))} ({html.escape(athlete_id)})</h2>",
            f"<p>{html.escape(str(a['sport']))} · {html.escape(str(a['group_name']))} · goal: "
            f"{html.escape(str(a['goal']))}</p>",
        ]
        kids: list = []
        if r.empty:
            parts.append("<p class='wb-note'>No readiness data for this athlete.</p>")
        else:
            last = r.iloc[-1]
            parts.append(
                f"<h3>Today: readiness {format_score(last['score'])} · "
                f"{html.escape(str(last['band']))} · advice {html.escape(str(last['advice_action']))}"
                "</h3><ul>"
            )
            parts += [f"<li>{html.escape(str(x))}</li>" for x in (last.get("reasons") or [])]
            parts += [f"<li><b>{html.escape(str(x))}</b></li>" for x in (last.get("advice") or [])]
            parts.append("</ul>")
            wk_start = pd.Timestamp(self.day) - pd.Timedelta(days=self.day.weekday())
            s = self.sessions[self.sessions["athlete_id"] == athlete_id]
            week = (wk_start, pd.Timestamp(self.day))
            for f in (
                charts.score_figure(r, highlight=week, width=900),
                charts.hrv_figure(r, highlight=week, height=220, width=900),
                charts.acwr_figure(r, sessions=s, highlight=week, width=900),
            ):
                kids.append(BokehModel(f))
        plan = self.athlete_plan(athlete_id)
        plan_html = (
            "<h3>Plan for next week</h3><ul>"
            + "".join(f"<li>{html.escape(s)}</li>" for s in plan.summary)
            + "</ul>"
            + wk.plan_table(plan.days)
        )
        close = w.Button(description="back to squad", icon="arrow-up")
        close.add_class("wb-close-athlete")
        close.on_click(lambda _b: self.close_athlete())
        self.detail.children = [
            close,
            w.HTML(wk.TABLE_CSS + "".join(parts)),
            *kids,
            w.HTML(plan_html),
        ]

    def _show_error(self, message_html: str) -> None:
        import ipywidgets as w

        close = w.Button(description="back to squad", icon="arrow-up")
        close.add_class("wb-close-athlete")
        close.on_click(lambda _b: self.close_athlete())
        self.detail.children = [close, w.HTML(message_html)]

    def close_athlete(self) -> None:
        """Hide the athlete page."""
        self.selected = None
        self.detail.children = []
