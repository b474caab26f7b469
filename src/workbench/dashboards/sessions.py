"""Viewing page for recorded live sessions (SmO₂, EMG, HR) and BFR sessions from the store.

:class:`SessionBrowser` lists recordings and BFR sessions; selecting one plots its streams
(Bokeh) and, for BFR, shows pressures, time under pressure and the alarm/audit events.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from workbench.bfr.review import event_table
from workbench.plotting import minmax_decimate
from workbench.store import open_store
from workbench.widgets import weekly as wk

#: Points per stream sent to the browser (min/max decimated beyond this).
MAX_POINTS = 4000


class SessionBrowser:
    """Recorded live and BFR sessions of the store (ipywidgets; show :attr:`widget`).

    Parameters
    ----------
    db_url:
        Database URL (``None``: ``WORKBENCH_DB_URL`` or the default database).
    """

    def __init__(self, db_url: str | None = None) -> None:
        import ipywidgets as w

        self.db_url = db_url
        with open_store(db_url) as store:
            self.recordings = store.recordings()
            self.bfr = store.bfr_sessions()
            names = store.athletes().set_index("athlete_id")["name"].to_dict()
        bfr_recs = (
            set(self.bfr["recording_id"].dropna().astype(int)) if not self.bfr.empty else set()
        )
        options: list[tuple[str, tuple[str, int]]] = []
        for r in self.recordings.sort_values("started_at", ascending=False).itertuples():
            if int(r.recording_id) in bfr_recs:
                continue
            who = names.get(r.athlete_id, r.athlete_id or "no athlete")
            options.append(
                (f"{r.started_at:%Y-%m-%d %H:%M} · {who} · {r.title}", ("rec", int(r.recording_id)))
            )
        for b in (
            self.bfr.sort_values("started_at", ascending=False).itertuples()
            if not self.bfr.empty
            else []
        ):
            who = names.get(b.athlete_id, b.athlete_id)
            options.append(
                (
                    f"{b.started_at:%Y-%m-%d %H:%M} · {who} · BFR {b.limb} {b.side} ({b.status})",
                    ("bfr", int(b.session_id)),
                )
            )
        self.header = w.HTML(wk.TABLE_CSS + "<h2>Recorded sessions</h2>")
        self.view = w.VBox()
        if not options:
            self.picker = None
            self.header.value += (
                "<p class='wb-note'>No recorded live or BFR sessions in this database yet: "
                "record one in notebooks/live_signals.ipynb or notebooks/bfr_session.ipynb.</p>"
            )
            self.widget = w.VBox([self.header])
            return
        self.picker = w.Dropdown(
            options=options, description="Session", layout=w.Layout(width="90%")
        )
        self.picker.observe(lambda ch: self.show(*ch["new"]), names="value")
        self.widget = w.VBox([self.header, self.picker, self.view])
        self.show(*options[0][1])

    def show(self, kind: str, ident: int) -> None:
        """Show a recording (``kind="rec"``) or a BFR session (``kind="bfr"``)."""
        import ipywidgets as w

        parts: list = []
        with open_store(self.db_url) as store:
            if kind == "bfr":
                b = self.bfr.set_index("session_id").loc[ident]
                ev = store.bfr_events(ident)
                tup = b["time_under_pressure_s"]
                parts.append(
                    w.HTML(
                        f"<p>AOP {b['aop_mmhg']:.0f} mmHg · {b['percent_aop']:.0f} % AOP · setpoint "
                        f"{b['setpoint_mmhg']:.0f} mmHg · peak {b['max_pressure_mmhg']:.0f} mmHg "
                        "(AOP measurement included) · "
                        f"under pressure {0 if pd.isna(tup) else tup / 60:.1f} min · "
                        f"{html.escape(str(b['exercise']))} · status {html.escape(str(b['status']))}</p>"
                    )
                )
                rec_id = b["recording_id"]
                if pd.notna(rec_id):
                    parts += self._plots(store, int(rec_id))
                if not ev.empty:
                    parts.append(self._events(ev))
            else:
                parts += self._plots(store, ident)
        self.view.children = parts

    @staticmethod
    def _events(ev: pd.DataFrame):  # noqa: ANN205
        """Trips, alarms and acknowledgements first, then the other events; setpoint
        commands are counted, not listed (a calibration alone sends hundreds)."""
        import ipywidgets as w

        alarms, table = event_table(ev)
        cols = {c: c for c in ("kind", "code", "priority", "value", "message")}
        cols = {"t_s": "t (s)", **cols}
        n_setpoints = len(ev) - len(table)
        return w.HTML(
            "<h3>Trips and alarms</h3>"
            + (wk.html_table(alarms, cols) if len(alarms) else "<p class='wb-note'>None.</p>")
            + "<h3>Events</h3>"
            + f"<p class='wb-note'>{n_setpoints} setpoint commands not listed.</p>"
            + wk.html_table(table, cols)
        )

    def _plots(self, store, recording_id: int) -> list:  # noqa: ANN001
        import ipywidgets as w
        from bokeh.layouts import column
        from bokeh.models import Span
        from bokeh.plotting import figure
        from jupyter_bokeh import BokehModel

        streams = store.streams(recording_id)
        markers = store.markers(recording_id)
        out: list = []
        if streams.empty:
            return [w.HTML("<p class='wb-note'>This recording has no streams.</p>")]
        figs = []
        for st in streams.itertuples():
            host, _, values = store.read_stream(int(st.stream_id))
            if values.size == 0:
                continue
            kw = {"x_range": figs[0].x_range} if figs else {}
            f = figure(
                title=f"{st.name} ({st.kind}, {st.device})",
                height=200,
                width=900,
                tools="pan,xwheel_zoom,reset",
                **kw,
            )
            order = np.argsort(host, kind="stable")  # host stamps of chunks may jitter back
            t_s, v = host[order], values[order, :4]
            t, v = minmax_decimate(
                t_s, v, t_start=float(t_s[0]), t_end=float(t_s[-1]), columns=MAX_POINTS // 2
            )
            for c, name in enumerate(st.channel_names[:4]):
                colour = ("#1565c0", "#c62828", "#2e7d32", "#6a1b9a")[c]
                f.line(t, v[:, c], legend_label=f"{name} ({st.units[c]})", color=colour)
            for m in markers.itertuples():
                f.add_layout(
                    Span(
                        location=float(m.t_s),
                        dimension="height",
                        line_dash="dotted",
                        line_color="#757575",
                    )
                )
            f.xaxis.axis_label = "t (s)"
            f.legend.label_text_font_size = "8pt"
            f.legend.click_policy = "hide"
            f.add_layout(f.legend[0], "right")  # beside the trace, never over it
            figs.append(f)
        if figs:  # one document: the figures share their x range
            out.append(BokehModel(column(*figs)))
        return out or [w.HTML("<p class='wb-note'>This recording has no samples.</p>")]
