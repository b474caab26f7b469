"""Readiness acceptance on the demo squad (6 athletes x 120 days in a temporary SQLite store)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from workbench.demo import generate_demo
from workbench.errors import DataFormatError
from workbench.readiness import (
    COLUMNS,
    SUMMARY_COLUMNS,
    compute_readiness,
    load_inputs,
    recovery_trajectory,
    squad_summary,
    validate_readiness,
)
from workbench.store import open_store

END = dt.date(2026, 11, 20)


@pytest.fixture(scope="module", params=[7, 3])
def demo(request, tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('readiness') / 'demo.db'}"
    store = open_store(url)
    generate_demo(store, athletes=6, days=120, seed=request.param, end_date=END, recordings=False)
    inputs = load_inputs(store)
    yield store, inputs, compute_readiness(inputs)
    store.close()


def test_columns_one_row_per_athlete_day(demo):
    _, inputs, df = demo
    assert set(COLUMNS) <= set(df.columns)
    assert not df.duplicated(["athlete_id", "date"]).any()
    assert df.groupby("athlete_id").size().eq(120).all()
    scored = df.dropna(subset=["score"])
    assert scored["score"].between(0, 100).all()
    assert len(scored) > 0.85 * len(df)
    assert scored["reasons"].map(len).gt(0).all()
    assert df["advice"].map(lambda a: a[-1].startswith("Bedtime")).all()


def test_every_illness_and_overreaching_flagged_within_3_days(demo):
    store, _, df = demo
    episodes = store.episodes()
    major = episodes[episodes["kind"].isin(["illness", "overreaching"])]
    assert len(major) >= 3
    for _, ep in major.iterrows():
        window = df[
            (df["athlete_id"] == ep["athlete_id"])
            & (df["date"] >= ep["start_date"])
            & (df["date"] <= ep["start_date"] + pd.Timedelta(days=3))
        ]
        flagged = window["illness_flag"] | window["overtraining_warning"]
        assert flagged.any(), f"{ep['kind']} of {ep['athlete_id']} on {ep['start_date']:%F}"
        first = window[flagged].iloc[0]
        assert first["warning_evidence"], "a flag must carry its evidence"
        assert first["advice_action"] == "recovery"


def test_overreaching_gets_a_sustained_warning_with_evidence(demo):
    store, _, df = demo
    for _, ep in store.episodes(kind="overreaching").iterrows():
        during = df[
            (df["athlete_id"] == ep["athlete_id"])
            & df["date"].between(ep["start_date"], ep["end_date"])
            & df["overtraining_warning"]
        ]
        assert len(during) >= 3
        evidence = during.iloc[0]["warning_evidence"]
        assert "not a diagnosis" in evidence[0] or "not a diagnosis" in evidence[1]
        assert any("below normal range" in e for e in evidence)


def test_no_overtraining_warning_without_an_episode(demo):
    store, inputs, df = demo
    clean = set(inputs.athlete_ids) - set(store.episodes()["athlete_id"])
    assert len(clean) >= 2
    assert not df.loc[df["athlete_id"].isin(clean), "overtraining_warning"].any()


def test_score_predicts_next_day_jump_better_than_self_rating(demo):
    _, inputs, df = demo
    v = validate_readiness(df, inputs.performance_tests).set_index("column")
    assert v.loc["score", "n_pairs"] > 300
    assert v.loc["score", "auc_below_usual"] > 0.6
    assert v.loc["score", "auc_below_usual"] > v.loc["readiness_self_1_10", "auc_below_usual"]
    assert v.loc["score", "pearson_r"] > v.loc["readiness_self_1_10", "pearson_r"]


def test_squad_summary_latest_day(demo):
    store, inputs, _ = demo
    summary = squad_summary(store)
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert sorted(summary["athlete_id"]) == sorted(inputs.athlete_ids)
    assert (summary["date"] == pd.Timestamp(END)).all()
    assert summary["score"].is_monotonic_increasing
    earlier = squad_summary(store, date=END - dt.timedelta(days=30))
    assert (earlier["date"] == pd.Timestamp(END - dt.timedelta(days=30))).all()


def test_recovery_trajectory_on_demo(demo):
    _, _, df = demo
    traj = recovery_trajectory(df, "ath01", planned_load_au=900.0)
    assert 0 < traj.rmse_ln < 0.3
    assert traj.b_ln_per_au >= 0
    assert len(traj.curve) == 15
    assert np.isnan(traj.days_to_normal) or 1 <= traj.days_to_normal <= 14


def test_unknown_athlete_is_named(demo):
    store, _, _ = demo
    with pytest.raises(DataFormatError, match="nobody"):
        load_inputs(store, ["ath01", "nobody"])
