"""Readiness acceptance on the demo squad (6 athletes x 120 days in a temporary SQLite store)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from workbench.demo import generate_demo
from workbench.demo.detection import anchor_flags, detection_curve
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


@pytest.fixture(scope="module")
def curve():
    """Detection curve on small simulated squads: 4 seeds x 6 athletes x 150 days per scale
    (the bench runs 20 seeds; see bench/readiness_detection_bench.py)."""
    return detection_curve([0.0, 0.25, 0.5, 1.0], [11, 12, 13, 14])


def _ours(curve, kind):
    sub = curve[(curve["method"] == "workbench") & (curve["kind"] == kind)]
    return sub.set_index("effect_scale")


def test_detection_rises_with_effect_size(curve):
    """Properties of the curve, not one tuned point: sensitivity does not fall as the
    literature-derived effect grows (one-episode slack per step), is near chance with no
    physiological effect and high at the upper literature anchor."""
    for kind in ("illness", "overreaching", "any"):
        sens = _ours(curve, kind)["sensitivity"]
        n = int(_ours(curve, kind)["episodes"].iloc[0])
        assert n >= 8, kind
        steps = np.diff(sens.to_numpy())
        assert (steps >= -1.0 / n - 1e-9).all(), (kind, sens.to_dict())
        assert sens.loc[1.0] - sens.loc[0.0] >= 0.5, (kind, sens.to_dict())
    anyk = _ours(curve, "any")
    assert anyk.loc[0.0, "sensitivity"] <= 0.25
    assert anyk.loc[1.0, "sensitivity"] >= 0.75


def test_false_alarms_bounded_at_every_effect_size(curve):
    """False alarms do not depend on the episodes and stay under 1 per athlete-month."""
    fa = _ours(curve, "any")["false_alarms_per_athlete_month"]
    assert (fa < 1.0).all(), fa.to_dict()
    assert fa.max() - fa.min() < 0.5


def test_detection_delay_short_at_large_effects(curve):
    delay = _ours(curve, "any")["delay_days_median"]
    assert delay.loc[1.0] <= 3


def test_published_anchors_scored_on_the_same_data(curve):
    methods = set(curve["method"])
    assert {"workbench", "hrv4training_swc", "swc_plus_plews_cv"} <= methods
    for m in methods:
        sub = curve[(curve["method"] == m) & (curve["kind"] == "any")].set_index("effect_scale")
        assert sub["sensitivity"].between(0, 1).all()
        assert sub.loc[1.0, "sensitivity"] >= sub.loc[0.0, "sensitivity"]


def test_normal_range_matches_an_independent_hrv4training_rule(demo):
    """Our 'HRV 7-day mean below normal range' equals HRV4Training's SWC rule written
    separately (demo.detection.anchor_flags) on nearly every day with a range."""
    _, _, df = demo
    a = anchor_flags(df).set_index(["athlete_id", "date"])["hrv4training_swc"]
    r = df.set_index(["athlete_id", "date"])
    has = r["normal_low"].notna() & r["lnrmssd_7d"].notna()
    assert has.mean() > 0.4
    ours = r.loc[has, "lnrmssd_7d"] < r.loc[has, "normal_low"]
    assert (ours == a[has]).mean() >= 0.97
    assert ours.any()


def test_every_flag_carries_its_evidence_and_a_recovery_advice(demo):
    _, _, df = demo
    flagged = df[df["illness_flag"] | df["overtraining_warning"]]
    assert len(flagged) > 0
    assert flagged["warning_evidence"].map(len).gt(0).all()
    assert (flagged["advice_action"] == "recovery").all()
    warned = df[df["overtraining_warning"]]
    for evidence in warned["warning_evidence"]:
        assert any("not a diagnosis" in e for e in evidence[:2])
        assert any("below normal range" in e for e in evidence)


def test_no_overtraining_warning_without_an_episode(demo):
    store, inputs, df = demo
    clean = set(inputs.athlete_ids) - set(store.episodes()["athlete_id"])
    assert len(clean) >= 2
    assert not df.loc[df["athlete_id"].isin(clean), "overtraining_warning"].any()


def test_score_vs_self_rating_reports_confidence_intervals(demo):
    _, inputs, df = demo
    v = validate_readiness(df, inputs.performance_tests).set_index("column")
    assert v.loc["score", "n_pairs"] > 300
    for col in ("score", "readiness_self_1_10", "score_minus_self"):
        for fig in ("auc", "pearson"):
            est = "auc_below_usual" if fig == "auc" else "pearson_r"
            lo, hi = v.loc[col, f"{fig}_ci_low"], v.loc[col, f"{fig}_ci_high"]
            assert lo <= v.loc[col, est] <= hi, (col, fig)
            assert hi - lo > 0.01, "six athletes cannot give a point-sharp interval"
    # the score carries information about the next-day jump (its CI excludes chance)
    assert v.loc["score", "auc_ci_low"] > 0.5
    # the difference row is the paired estimate, consistent with the two rows
    diff = v.loc["score", "auc_below_usual"] - v.loc["readiness_self_1_10", "auc_below_usual"]
    assert abs(v.loc["score_minus_self", "auc_below_usual"] - diff) < 0.05


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
    for aid in ("ath01", "ath02", "ath03"):
        traj = recovery_trajectory(df, aid, planned_load_au=900.0)
        assert 0 < traj.rmse_ln < 0.3
        assert traj.b_ln_per_au >= 0
        assert len(traj.curve) == 15
        assert traj.n_oos > 30 and np.isfinite(traj.rmse_oos_ln)
        assert traj.usable == (traj.r2 >= 0.3 and traj.r2_oos >= 0.3)
        if traj.usable:
            assert np.isnan(traj.days_to_normal) or 1 <= traj.days_to_normal <= 14
        else:
            assert traj.message.startswith("not enough data")
            assert np.isnan(traj.days_to_normal)


def test_unknown_athlete_is_named(demo):
    store, _, _ = demo
    with pytest.raises(DataFormatError, match="nobody"):
        load_inputs(store, ["ath01", "nobody"])
