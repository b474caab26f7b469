"""Scheme learning: never outside the limits, converges on a simulated athlete, stored."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest

from workbench.bfr.limits import PrescriptionError
from workbench.bfr.presets import get_preset
from workbench.bfr.scheme_learning import (
    SchemeLearner,
    SchemeOption,
    session_reward,
    store_recommendation,
)
from workbench.store import open_store


@pytest.mark.parametrize("key", ["post_injury_rehab", "older_adults", "in_season_athletes"])
def test_every_option_and_recommendation_is_inside_the_limits(key):
    preset = get_preset(key)
    learner = SchemeLearner(preset, seed=1)
    rng = random.Random(0)
    for _ in range(200):
        rec = learner.recommend("ctx")
        preset.edit(scheme=rec.option.scheme, rest_s=rec.option.rest_s)  # raises if outside
        assert 30 <= rec.option.rest_s <= 60
        learner.update("ctx", rec.option, rng.gauss(0, 3))


def test_options_outside_limits_are_refused():
    with pytest.raises(PrescriptionError):
        SchemeLearner(options=(SchemeOption((30, 15, 15, 15), 90.0),))
    with pytest.raises(ValueError):
        SchemeLearner().update("c", SchemeOption((50,), 30.0), 1.0)


def _athlete_reward(opt: SchemeOption, rng: random.Random) -> float:
    """Simulated athlete: 20-10-10-10 with 45 s rest gives the best stimulus/soreness."""
    total = sum(opt.scheme)
    smo2_drop = 25 - abs(total - 50) * 0.2 - abs(opt.rest_s - 45) * 0.4 + rng.gauss(0, 2)
    emg = 1.3 + 0.004 * total + rng.gauss(0, 0.05)
    soreness = min(10.0, max(0.0, 1 + 0.04 * total + rng.gauss(0, 0.5)))
    return session_reward(smo2_drop, emg, soreness)


def test_converges_on_a_simulated_athlete():
    learner = SchemeLearner(seed=3)
    rng = random.Random(7)
    picks = []
    for _ in range(300):
        rec = learner.recommend("in-season/ready")
        learner.update("in-season/ready", rec.option, _athlete_reward(rec.option, rng))
        picks.append(rec.option)
    best = SchemeOption((20, 10, 10, 10), 45.0)
    assert picks[-100:].count(best) >= 70
    means = learner.posterior_means("in-season/ready")
    assert max(means, key=means.get) == best.label


def test_recommendations_are_stored_with_reasons(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path))
    learner = SchemeLearner(seed=0)
    rec = learner.recommend("c")
    learner.update("c", rec.option, 0.7)
    path = learner.save()
    assert path.parent.parent == tmp_path
    again = SchemeLearner.load(path)
    assert again.posterior_means("c") == learner.posterior_means("c")
    data = json.loads(path.read_text())
    assert data["recommendations"][0]["reasons"]
    store = open_store(f"sqlite:///{tmp_path}/t.db")
    store.write(
        "athletes",
        [
            {
                "athlete_id": "a",
                "name": "A",
                "sex": "M",
                "birth_date": dt.date(1999, 1, 1),
                "sport": "x",
            }
        ],
    )
    sid = store.insert_one(
        "bfr_sessions",
        {
            "athlete_id": "a",
            "started_at": dt.datetime(2026, 1, 1),
            "limb": "leg",
            "side": "left",
            "cuff_id": "c",
            "status": "complete",
        },
    )
    store_recommendation(store, sid, rec)
    ev = store.bfr_events(sid)
    assert ev["kind"].tolist() == ["recommendation"]
    assert json.loads(ev["message"].iloc[0])["option"]["rest_s"] == rec.option.rest_s
    store.close()


def test_reward_validation():
    with pytest.raises(ValueError):
        session_reward(float("nan"), 1.2, 3)
    with pytest.raises(ValueError):
        session_reward(10, 1.2, 11)
