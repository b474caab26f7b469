"""BFR protocol presets: valid defaults, edits only within the limits."""

from __future__ import annotations

import pytest

from workbench.bfr.limits import PrescriptionError
from workbench.bfr.presets import get_preset, presets


def test_presets_are_valid_and_complete():
    ps = presets()
    assert set(ps) == {"post_injury_rehab", "older_adults", "in_season_athletes", "home_smart_cuff"}
    for p in ps.values():
        assert 40 <= p.percent_aop_range[0] <= p.percent_aop <= p.percent_aop_range[1] <= 80
        assert 20 <= p.load_pct_1rm <= 40 and 30 <= p.rest_s <= 60
        assert p.planned_restriction_s <= p.restriction_max_s <= 600
    assert ps["older_adults"].load_pct_1rm_range == (20.0, 30.0)
    assert ps["in_season_athletes"].scheme_label == "30-15-15-15"
    assert ps["in_season_athletes"].sessions_per_week == (2, 3)


@pytest.mark.parametrize(
    "change",
    [
        {"percent_aop": 85},
        {"percent_aop": 0.6},
        {"percent_aop": float("nan")},
        {"percent_aop": 45},  # outside the in-season preset's 50-80 %
        {"percent_aop_range": (30.0, 80.0)},
        {"load_pct_1rm": 50},
        {"load_pct_1rm": 0.3},
        {"rest_s": 90},
        {"rest_s": 10},
        {"scheme": (30, 15, 15, 15, 15, 15, 15)},
        {"scheme": (50, 15)},
        {"restriction_max_s": 900},
        {"scheme": (40, 40, 40, 40), "rest_s": 60},  # does not fit 300 s
        {"key": "other"},
        {"colour": "red"},
    ],
)
def test_edits_outside_limits_raise(change):
    with pytest.raises(PrescriptionError):
        get_preset("in_season_athletes").edit(**change)


def test_edit_inside_limits():
    p = get_preset("in_season_athletes").edit(percent_aop=70, load_pct_1rm=35, scheme=[20, 10, 10])
    assert p.percent_aop == 70 and p.scheme == (20, 10, 10)
    assert get_preset("in_season_athletes").percent_aop == 60  # original unchanged
    with pytest.raises(KeyError):
        get_preset("nope")
