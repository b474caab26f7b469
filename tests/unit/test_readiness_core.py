"""Readiness analytics on small hand-made frames: formulas, states and edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.errors import DataFormatError
from workbench.readiness import (
    COLUMNS,
    ReadinessInputs,
    compute_readiness,
    daily_hrv,
    recovery_trajectory,
    training_load,
)
from workbench.readiness.advice import bedtime
from workbench.readiness.flags import biomarker_status, biomarkers_elevated_wide
from workbench.readiness.trajectory import _fatigue, fit_impulse_response, rolling_origin_error
from workbench.readiness.validation import auc


def _inputs(days: int = 90, seed: int = 0, ln_sd: float = 0.08, with_load: bool = True):
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2026-01-01", periods=days, freq="D")
    ln = 4.2 + rng.normal(0, ln_sd, days)
    hrv = pd.DataFrame(
        {
            "athlete_id": "a1",
            "date": dates,
            "rmssd_ms": np.exp(ln),
            "lnrmssd": ln,
            "corrected_pct": 1.0,
            "hrv_reliable": True,
            "hrv_source": "test",
        }
    )
    well = pd.DataFrame(
        {
            "athlete_id": "a1",
            "date": dates,
            "sleep_total_min": 480.0,
            "sleep_deep_min": 90.0,
            "sleep_rem_min": 110.0,
            "resting_hr_bpm": 50 + rng.normal(0, 1.5, days),
            "daytime_stress": 30.0,
            "fatigue_1_10": 3.0,
            "mood_1_10": 7.0,
            "readiness_self_1_10": 7.0,
        }
    )
    load = np.where(np.arange(days) % 7 == 6, 0.0, 400.0) if with_load else np.zeros(days)
    sess = pd.DataFrame({"athlete_id": "a1", "date": dates, "status": "done", "load_au": load})
    athletes = pd.DataFrame({"athlete_id": ["a1"], "sleep_need_min": [480.0]})
    return ReadinessInputs(athletes=athletes, hrv_daily=hrv, wellness=well, sessions=sess)


def test_columns_and_insufficient_data_first_week():
    df = compute_readiness(_inputs())
    assert list(df.columns[: len(COLUMNS)]) == COLUMNS
    assert len(df) == 90
    first = df.iloc[:7]
    assert first["score"].isna().all()
    assert (first["band"] == "insufficient data").all()
    assert (first["hrv_flag"] == "insufficient data").all()
    assert "insufficient data" in first["reasons"].iloc[0][0]
    later = df.iloc[20:]
    assert later["score"].notna().all()
    assert later["band"].isin(["go hard", "moderate", "recovery"]).all()


def test_contributor_weights_renormalise_over_available_inputs():
    inp = _inputs()
    inp.wellness.loc[50, ["fatigue_1_10", "mood_1_10"]] = np.nan
    df = compute_readiness(inp)
    for i in (40, 50):
        weights = {c["name"]: c["weight"] for c in df.loc[i, "contributors"]}
        assert sum(weights.values()) == pytest.approx(1.0, abs=2e-3)
        score = sum(c["score"] * c["weight"] for c in df.loc[i, "contributors"])
        assert score == pytest.approx(df.loc[i, "score"], abs=0.2)
    assert "wellness" in {c["name"] for c in df.loc[40, "contributors"]}
    assert "wellness" not in {c["name"] for c in df.loc[50, "contributors"]}


def test_hrv_drop_gives_flags_reason_and_recovery_advice():
    inp = _inputs()
    drop = inp.hrv_daily.index >= 80
    inp.hrv_daily.loc[drop, "lnrmssd"] -= 0.5  # RMSSD about 39 % lower
    df = compute_readiness(inp)
    last = df.iloc[-1]
    assert last["hrv_flag"] == "below normal range"
    assert last["hrv_deficit_pct"] == 30
    assert last["hrv_pct_below_baseline"] == pytest.approx(
        100 * (1 - np.exp(last["lnrmssd_7d"] - inp.hrv_daily["lnrmssd"].iloc[29:89].mean())),
        abs=1e-9,
    )
    assert any("% below normal range" in r for r in last["reasons"])
    assert last["band"] != "go hard"
    assert df.iloc[70]["hrv_flag"] == "within normal range"


def test_unreliable_reading_is_excluded_and_said():
    inp = _inputs()
    inp.hrv_daily.loc[60, ["lnrmssd", "hrv_reliable", "corrected_pct"]] = [np.nan, False, 8.0]
    row = compute_readiness(inp).iloc[60]
    assert np.isnan(row["lnrmssd"])
    assert any("no valid HRV reading" in r for r in row["reasons"])
    assert row["score"] == row["score"]  # still scored from the other inputs


def test_three_valid_mornings_a_week_needed():
    inp = _inputs()
    inp.hrv_daily.loc[60:66, "lnrmssd"] = np.nan
    inp.hrv_daily.loc[[61, 64], "lnrmssd"] = 4.2
    df = compute_readiness(inp)
    assert np.isnan(df.loc[66, "lnrmssd_7d"])
    assert df.loc[66, "hrv_flag"] == "insufficient data"


def test_acwr_three_forms_and_pmc_match_formulas():
    days = 60
    rng = np.random.default_rng(3)
    load = rng.choice([0.0, 300.0, 600.0], days)
    dates = pd.date_range("2026-03-01", periods=days)
    sess = pd.DataFrame({"athlete_id": "x", "date": dates, "status": "done", "load_au": load})
    sess = sess[sess["load_au"] > 0]  # rest days are missing rows: must count as 0
    out = training_load(sess, start=dates[0], end=dates[-1]).set_index("date")
    assert out.loc[dates[:28], "acwr_ewma"].isna().all()
    t = 45
    acute = load[t - 6 : t + 1].mean()
    assert out["acwr_rolling_coupled"].iloc[t] == pytest.approx(acute / load[t - 27 : t + 1].mean())
    assert out["acwr_rolling_uncoupled"].iloc[t] == pytest.approx(
        acute / load[t - 27 : t - 6].mean()
    )
    ea = ec = 0.0
    ctl = atl = 0.0
    for x in load[: t + 1]:
        yesterday = ctl - atl
        ea = 0.25 * x + 0.75 * ea
        ec = (2 / 29) * x + (1 - 2 / 29) * ec
        ctl = ctl * np.exp(-1 / 42) + x * (1 - np.exp(-1 / 42))
        atl = atl * np.exp(-1 / 7) + x * (1 - np.exp(-1 / 7))
    assert out["acwr_ewma"].iloc[t] == pytest.approx(ea / ec)
    assert out["ctl"].iloc[t] == pytest.approx(ctl)
    assert out["tsb_same_day"].iloc[t] == pytest.approx(ctl - atl)
    assert out["tsb"].iloc[t] == pytest.approx(yesterday)  # GoldenCheetah: SB the day after
    assert out["load_au"].iloc[1:].eq(load[1:]).all()


def test_acwr_hidden_while_chronic_zero_and_spike_flag():
    inp = _inputs(with_load=False)
    inp.sessions.loc[70:76, "load_au"] = 900.0
    df = compute_readiness(inp)
    assert df.loc[:69, "acwr"].isna().all()  # chronic load 0
    assert df.loc[72, "load_spike_flag"]
    assert df.loc[72, "acwr_method"].startswith("EWMA")
    assert any("load-spike flag" in r for r in df.loc[74, "reasons"])
    assert not any("injury" in r and "not" not in r for r in df.loc[74, "reasons"])
    coupled = compute_readiness(inp, acwr_method="rolling_coupled", with_text=False)
    assert coupled.loc[75, "acwr"] == pytest.approx(coupled.loc[75, "acwr_rolling_coupled"])
    with pytest.raises(DataFormatError):
        compute_readiness(inp, acwr_method="bogus")


def test_bedtime_from_need_and_debt():
    assert bedtime(480, 0, "07:00") == ("22:45", 480)
    bt, target = bedtime(480, 300, "06:30")  # a third of the debt, capped at 60 min
    assert (bt, target) == ("21:15", 540)


def test_daily_hrv_prefers_reliable_morning_and_flags_artefacts():
    rng = np.random.default_rng(1)
    good = 1000 + rng.normal(0, 30, 300)
    bad = good.copy()
    bad[::10] *= 0.5  # 10 % extra beats
    day = pd.Timestamp("2026-02-02")
    readings = pd.DataFrame(
        {
            "athlete_id": "a",
            "date": [day, day, day + pd.Timedelta(days=1)],
            "start_time": [day, day + pd.Timedelta(hours=6), day + pd.Timedelta(days=1)],
            "context": ["overnight", "morning", "morning"],
            "source": "t",
            "rr_ms": [good, bad, bad],
        }
    )
    out = daily_hrv(readings)
    assert len(out) == 2
    d1, d2 = out.iloc[0], out.iloc[1]
    assert d1["hrv_source"] == "t:overnight" and d1["hrv_reliable"]
    assert d1["lnrmssd"] == pytest.approx(np.log(np.sqrt(np.mean(np.diff(good) ** 2))), rel=0.05)
    assert not d2["hrv_reliable"] and np.isnan(d2["lnrmssd"]) and d2["corrected_pct"] > 5


def test_impulse_response_fit_recovers_tau():
    rng = np.random.default_rng(5)
    load = rng.choice([0.0, 200.0, 500.0, 800.0], 120)
    y = 4.3 - 4e-4 * _fatigue(load, 2.0) + rng.normal(0, 0.02, 120)
    fit = fit_impulse_response(load, y)
    assert fit["tau_days"] == pytest.approx(2.0, abs=0.5)
    assert fit["b_ln_per_au"] == pytest.approx(4e-4, rel=0.25)
    assert fit["rmse_ln"] < 0.03
    with pytest.raises(DataFormatError):
        fit_impulse_response(load[:20], y[:20])


def test_recovery_trajectory_bigger_session_takes_longer():
    inp = _inputs(days=120, ln_sd=0.03)
    rng = np.random.default_rng(2)
    load = rng.choice([0.0, 300.0, 700.0], 120)
    inp.sessions["load_au"] = load
    inp.hrv_daily["lnrmssd"] = 4.3 - 5e-4 * _fatigue(load, 1.5) + rng.normal(0, 0.02, 120)
    df = compute_readiness(inp)
    small = recovery_trajectory(df, "a1", 100.0)
    big = recovery_trajectory(df, "a1", 1500.0)
    assert big.days_to_normal > small.days_to_normal
    assert big.rmse_ln < 0.05 and "RMSE" in big.message
    assert big.curve["predicted_lnrmssd"].iloc[1] < small.curve["predicted_lnrmssd"].iloc[1]


def test_trajectory_out_of_sample_error_and_not_enough_data():
    """A real load response passes the rolling-origin check; HRV that does not follow load
    (pure noise) gives "not enough data" instead of a fitted curve's days-to-normal."""
    inp = _inputs(days=120, ln_sd=0.03)
    rng = np.random.default_rng(3)
    load = rng.choice([0.0, 300.0, 700.0], 120)
    inp.sessions["load_au"] = load
    inp.hrv_daily["lnrmssd"] = 4.3 - 5e-4 * _fatigue(load, 1.5) + rng.normal(0, 0.03, 120)
    good = recovery_trajectory(compute_readiness(inp), "a1", 900.0)
    assert good.usable and good.r2_oos >= 0.3 and good.n_oos > 50
    assert good.rmse_oos_ln >= good.rmse_ln * 0.8  # out of sample is not better than in
    assert "out-of-sample R²" in good.message

    inp.hrv_daily["lnrmssd"] = 4.3 + rng.normal(0, 0.08, 120)
    noise = recovery_trajectory(compute_readiness(inp), "a1", 900.0)
    assert not noise.usable
    assert noise.r2 < 0.3 or noise.r2_oos < 0.3
    assert noise.message.startswith("not enough data")
    assert np.isnan(noise.days_to_normal)
    oos = rolling_origin_error(load, inp.hrv_daily["lnrmssd"].to_numpy())
    assert oos["r2_oos"] < 0.1  # a fit to noise does not predict new days


def test_biomarkers_against_lab_range_and_personal_baseline_each_labelled():
    d = pd.to_datetime(["2026-01-05", "2026-02-05", "2026-03-05", "2026-04-05"])
    rows = []
    for aid in ("f1", "m1"):
        for marker, unit, vals in [
            ("creatine_kinase", "U/L", [150, 160, 155, 300]),  # F: above 207; M: below 395
            ("crp", "mg/L", [0.5, 0.6, 0.5, 1.5]),  # x3 own median, far inside 0-10
            ("cortisol", "ug/dL", [14, 15, 14, 21]),  # 21 ug/dL = 579 nmol/L > 537
            ("lactate_rest", "mmol/L", [1.0, 1.1, 1.0, 1.05]),
        ]:
            rows += [
                {"athlete_id": aid, "date": x, "marker": marker, "value": v, "unit": unit}
                for x, v in zip(d, vals, strict=True)
            ]
    st = biomarker_status(pd.DataFrame(rows), {"f1": "F", "m1": "M"})
    last = st[st["date"] == d[-1]].set_index(["athlete_id", "key"])
    assert last.loc[("f1", "ck"), "labels"] == ["ck above lab range", "ck above personal baseline"]
    assert last.loc[("m1", "ck"), "labels"] == ["ck above personal baseline"]
    assert last.loc[("f1", "ck"), "lab_high"] == 207 and last.loc[("m1", "ck"), "lab_high"] == 395
    assert last.loc[("m1", "crp"), "labels"] == ["crp above personal baseline"]
    assert last.loc[("m1", "cortisol"), "labels"][0] == "cortisol above lab range"
    assert last.loc[("m1", "lactate"), "labels"] == []
    assert st["lab_source"].str.len().gt(20).all()
    first = st[st["date"] == d[0]]
    assert not first["above_personal_baseline"].any()  # needs >= 2 earlier results
    # unknown sex: the wider CK range (no lab flag at 300 U/L)
    unknown = biomarker_status(pd.DataFrame(rows), None)
    assert not unknown[(unknown["key"] == "ck") & (unknown["athlete_id"] == "f1")][
        "above_lab_range"
    ].any()
    wide = biomarkers_elevated_wide(
        pd.DataFrame(rows), pd.date_range("2026-04-01", periods=20), ["f1", "m1"], {"f1": "F"}
    )
    assert "ck above lab range" in wide.loc["2026-04-06", "f1"]
    assert wide.loc["2026-04-04", "f1"] == ""
    assert wide.loc["2026-04-20", "f1"] == ""  # held 10 days only


def test_auc_definition():
    assert auc(np.array([1, 2, 3, 4]), np.array([0, 0, 1, 1], bool)) == 1.0
    assert auc(np.array([1, 1, 1, 1]), np.array([0, 1, 0, 1], bool)) == 0.5


def test_no_data_is_an_explicit_error():
    inp = _inputs()
    empty = ReadinessInputs(
        athletes=inp.athletes,
        hrv_daily=inp.hrv_daily.iloc[:0],
        wellness=inp.wellness.iloc[:0],
        sessions=inp.sessions.iloc[:0],
    )
    with pytest.raises(DataFormatError, match="no HRV, wellness or training data"):
        compute_readiness(empty)
