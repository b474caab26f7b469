"""Readiness card, squad table and trend plots built from computed readiness rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.errors import DataFormatError
from workbench.readiness import ReadinessInputs, compute_readiness, summarize_day
from workbench.widgets.readiness import (
    BAND_COLOURS,
    ReadinessCard,
    ReadinessView,
    SquadTable,
    card_html,
    squad_table,
    trend_plots,
)


@pytest.fixture(scope="module")
def readiness():
    rng = np.random.default_rng(4)
    days, ids = 70, ["a1", "a2"]
    dates = pd.date_range("2026-01-01", periods=days)
    rows = lambda extra: pd.DataFrame(  # noqa: E731
        {"athlete_id": np.repeat(ids, days), "date": np.tile(dates, 2), **extra}
    )
    ln = 4.2 + rng.normal(0, 0.08, 2 * days)
    ln[days - 8 : days] -= 0.6  # a1: a week well below its normal range
    inputs = ReadinessInputs(
        athletes=pd.DataFrame({"athlete_id": ids, "name": ["Ann", "Bo"], "sleep_need_min": 480.0}),
        hrv_daily=rows({"lnrmssd": ln, "rmssd_ms": np.exp(ln)}),
        wellness=rows(
            {
                "sleep_total_min": rng.normal(470, 20, 2 * days),
                "sleep_deep_min": 90.0,
                "sleep_rem_min": 100.0,
                "resting_hr_bpm": rng.normal(50, 1.5, 2 * days),
            }
        ),
        sessions=rows({"status": "done", "load_au": rng.choice([0.0, 400.0, 800.0], 2 * days)}),
    )
    return inputs, compute_readiness(inputs)


def test_card_shows_score_band_contributors_reasons_advice(readiness):
    _, df = readiness
    row = df[df["athlete_id"] == "a1"].iloc[-1]
    text = card_html(row)
    assert f">{row['score']:.0f}<" in text
    assert row["band"] in ("moderate", "recovery")
    assert row["band"] in text and BAND_COLOURS[row["band"]] in text
    for c in row["contributors"]:
        assert c["label"] in text and f"{100 * c['weight']:.0f} %" in text
    assert "below normal range" in text and "Bedtime" in text
    assert ReadinessCard(row).value == text


def test_trend_plots_five_named_figures_sharing_the_date_axis(readiness):
    _, df = readiness
    layout = trend_plots(df[df["athlete_id"] == "a1"], days=30)
    names = [f.name for f in layout.children]
    assert names == [
        "readiness-hrv", "readiness-rhr", "readiness-sleep", "readiness-acwr", "readiness-pmc",
    ]  # fmt: skip
    assert len({id(f.x_range) for f in layout.children}) == 1
    with pytest.raises(DataFormatError, match="one athlete"):
        trend_plots(df)


def test_squad_table_sortable_with_flags(readiness):
    inputs, df = readiness
    summary = summarize_day(df, inputs.athletes)
    table = squad_table(summary)
    assert table.sortable
    data = table.source.data
    assert list(data["athlete_id"]) == list(summary["athlete_id"])
    assert data["score"][0] <= data["score"][1]
    widget = SquadTable(summary)
    assert list(widget.table.source.data["athlete_id"]) == list(summary["athlete_id"])
    assert "Squad readiness" in widget.children[0].value
    view = ReadinessView(df, "a2")
    assert view.card.row["athlete_id"] == "a2"
    with pytest.raises(DataFormatError):
        ReadinessView(df, "nobody")


def test_trend_figures_take_the_report_options(readiness):
    """Window, highlighted week, fixed width and title: what the weekly report and dashboards use."""
    from bokeh.models import BoxAnnotation

    from workbench.widgets.readiness import (
        acwr_figure,
        hrv_figure,
        pmc_figure,
        rhr_figure,
        score_figure,
        sleep_figure,
    )

    _, df = readiness
    a1 = df[df["athlete_id"] == "a1"]
    week = (pd.Timestamp("2026-03-02"), pd.Timestamp("2026-03-08"))
    window = (pd.Timestamp("2026-02-01"), pd.Timestamp("2026-03-08"))
    for fn in (score_figure, hrv_figure, rhr_figure, sleep_figure, acwr_figure, pmc_figure):
        f = fn(a1, window=window, highlight=week, width=640, height=150, title="T")
        assert f.width == 640 and f.height == 150 and f.title.text == "T"
        boxes = [b for b in f.center if isinstance(b, BoxAnnotation) and b.fill_color == "#1565c0"]
        assert [(b.left, b.right) for b in boxes] == [
            (week[0] - pd.Timedelta(hours=12), week[1] + pd.Timedelta(hours=12))
        ]
        dates = pd.to_datetime(f.renderers[-1].data_source.data["date"])
        assert dates.min() >= window[0] and dates.max() <= window[1]
    assert hrv_figure(a1).sizing_mode == "stretch_width"


def test_acwr_figure_with_planned_and_done_load_bars(readiness):
    inputs, df = readiness
    a1 = df[df["athlete_id"] == "a1"]
    sessions = inputs.sessions[inputs.sessions["athlete_id"] == "a1"].assign(planned_load_au=500.0)
    from workbench.widgets.readiness import acwr_figure, daily_load

    f = acwr_figure(a1, sessions=sessions)
    assert "Load vs plan" in f.title.text and "acwr" in f.extra_y_ranges
    bars = f.renderers[0].data_source.data
    load = daily_load(a1["date"], sessions)
    assert list(bars["done_au"]) == list(load["done_au"])
    assert load["done_au"].sum() == pytest.approx(sessions["load_au"].sum())
    assert (load["planned_au"] == 500.0).all()
    legend = {item.label.value for item in f.legend[0].items}
    assert {"planned", "done", "ACWR"} <= legend
    acwr = [r for r in f.renderers if r.y_range_name == "acwr"]
    assert acwr, "the ACWR line goes on the right-hand axis"
    plain = acwr_figure(a1)
    assert "Load vs plan" not in plain.title.text and not plain.extra_y_ranges
