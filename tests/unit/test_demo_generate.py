"""The demo squad: deterministic, complete, and physiologically shaped (not just noise)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from workbench.demo import generate_demo, simulate_squad
from workbench.demo.live import BFR_SCHEDULE
from workbench.demo.physiology import DEMO_EFFECT_SCALE, EFFECTS, simulate_athlete
from workbench.demo.rr import BLE_MS, synthesize_rr
from workbench.demo.squad import squad_profiles
from workbench.errors import StoreError
from workbench.store import open_store

END = dt.date(2026, 6, 30)
ATHLETES, DAYS, SEED = 6, 120, 7

DAILY_TABLES = [
    "athletes",
    "wellness_daily",
    "hrv_readings",
    "training_sessions",
    "biomarkers",
    "performance_tests",
    "mobility_assessments",
    "episodes",
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    store = open_store(f"sqlite:///{path}")
    messages: list[str] = []
    summary = generate_demo(
        store, athletes=ATHLETES, days=DAYS, seed=SEED, end_date=END, progress=messages.append
    )
    # one line per athlete, per BFR session and for the recordings
    assert len(messages) == ATHLETES + len(BFR_SCHEDULE) + 1
    assert messages[0].startswith("athlete 1/")
    assert sum(m.startswith("BFR session ") for m in messages) == len(BFR_SCHEDULE)
    yield store, summary
    store.close()


@pytest.fixture(scope="module")
def squad():
    return simulate_squad(athletes=ATHLETES, days=DAYS, seed=SEED, end_date=END)


def test_every_table_populated(demo):
    store, summary = demo
    counts = store.counts()
    for table in DAILY_TABLES:
        assert counts[table] > 0, table
        assert summary.counts[table] == counts[table], table
    assert counts["athletes"] == ATHLETES
    assert counts["wellness_daily"] == ATHLETES * DAYS
    assert summary.start_date == END - dt.timedelta(days=DAYS - 1)
    assert store.integrity_check() == "ok"


def test_same_seed_same_rows(demo, tmp_path):
    store, _ = demo
    other = open_store(f"sqlite:///{tmp_path / 'again.db'}")
    generate_demo(other, athletes=ATHLETES, days=DAYS, seed=SEED, end_date=END, recordings=False)
    for table in DAILY_TABLES:
        a, b = store.read(table), other.read(table)
        if table == "hrv_readings":
            assert all(
                np.array_equal(x, y) for x, y in zip(a.pop("rr_ms"), b.pop("rr_ms"), strict=True)
            )
        pd.testing.assert_frame_equal(a, b, check_like=False, obj=table)
    other.close()


def test_other_seed_other_rows():
    a = simulate_squad(athletes=2, days=30, seed=1, end_date=END)
    b = simulate_squad(athletes=2, days=30, seed=2, end_date=END)
    assert not a[0].wellness["resting_hr_bpm"].equals(b[0].wellness["resting_hr_bpm"])


def test_refuses_a_store_that_already_has_the_squad(demo):
    store, _ = demo
    with pytest.raises(StoreError, match="already holds"):
        generate_demo(store, athletes=2, days=30, seed=SEED, end_date=END, recordings=False)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError):
        simulate_squad(athletes=0, days=100)
    with pytest.raises(ValueError):
        simulate_squad(athletes=3, days=5)


def test_rr_quantised_to_ble_resolution_and_artefacts_in_range(demo):
    store, _ = demo
    hrv = store.hrv_readings()
    assert set(hrv["context"]) == {"overnight", "morning"}
    night = hrv[hrv["context"] == "overnight"]
    assert night["n_beats"].min() > 1500  # ~40 min at 40-70 bpm
    for rr, n in zip(hrv["rr_ms"], hrv["n_beats"], strict=True):
        assert len(rr) == n
        counts = rr / BLE_MS
        assert np.array_equal(np.rint(counts) * BLE_MS, rr)
        assert rr.min() > 250 and rr.max() < 4000  # a missed beat doubles an RR
    assert hrv["artifact_pct"].between(1.0, 3.0).all()
    assert set(hrv["quality"]) <= {"good", "fair"}


def test_rr_synthesis_hits_target_rmssd_and_contains_each_artefact_kind():
    rng = np.random.default_rng(0)
    batch = synthesize_rr(rng, np.array([1000.0, 1200.0]), np.array([40.0, 90.0]), 1800.0, 0.0)
    for rr, target in zip(batch.series(), [40.0, 90.0], strict=True):
        assert abs(np.sqrt(np.mean(np.diff(rr) ** 2)) - target) < 1.0  # only quantisation error
    clean = synthesize_rr(
        np.random.default_rng(1), np.array([1000.0]), np.array([50.0]), 1800.0, 0.0
    )
    dirty = synthesize_rr(
        np.random.default_rng(1), np.array([1000.0]), np.array([50.0]), 1800.0, 0.03
    )
    c, d = clean.rr_ms, dirty.rr_ms
    assert np.isclose(c.sum(), d.sum(), rtol=1e-3)  # artefacts move beats, not time
    rel = d / np.median(d)
    assert (rel > 1.6).sum() >= 5  # missed beats: merged intervals
    assert (rel < 0.7).sum() >= 15  # extra beats and premature ectopics
    assert 2.5 <= dirty.artifact_pct[0] <= 3.0
    # respiratory sinus arrhythmia: spectral peak of the clean series in 0.2-0.3 Hz
    t = np.cumsum(c) / 1000.0
    grid = np.arange(t[0], t[-1], 0.25)
    x = np.interp(grid, t, c)
    freq = np.fft.rfftfreq(grid.size, 0.25)
    power = np.abs(np.fft.rfft(x - x.mean())) ** 2
    hf = power[(freq > 0.15) & (freq < 0.4)]
    assert freq[(freq > 0.15) & (freq < 0.4)][hf.argmax()] == pytest.approx(0.25, abs=0.06)


def test_next_morning_lnrmssd_falls_with_load(squad):
    for ad in squad:
        lat = ad.latent
        load = lat["load_au"].to_numpy()[:-1]
        nxt = lat["ln_rmssd"].to_numpy()[1:]
        quiet = lat["episode"].to_numpy()[1:] == ""
        r = np.corrcoef(load[quiet], nxt[quiet])[0, 1]
        assert r < -0.2, (ad.profile.athlete_id, r)


def test_hrv_recovers_within_three_days_after_a_hard_day(squad):
    drops = []
    for ad in squad:
        f = ad.latent["fatigue_hrv"].to_numpy()
        hard = np.flatnonzero(
            ad.latent["load_au"].to_numpy()
            > 1.4 * np.median(ad.latent["load_au"][ad.latent["load_au"] > 0])
        )
        hard = hard[hard < len(f) - 4]
        drops.append(np.mean(f[hard + 1]) - np.mean(f[hard + 4]))
    assert np.mean(drops) > 0.03


def test_rmssd_from_rr_tracks_latent_state(demo, squad):
    store, _ = demo
    ad = squad[0]
    hrv = store.hrv_readings(athlete_id=ad.profile.athlete_id, context="overnight")
    rmssd = []
    for rr in hrv["rr_ms"]:
        med = pd.Series(rr).rolling(9, center=True, min_periods=1).median().to_numpy()
        ok = np.abs(rr - med) < 0.2 * med
        good = ok[1:] & ok[:-1]
        rmssd.append(np.sqrt(np.mean(np.diff(rr)[good] ** 2)))
    lat = ad.latent.set_index("date")["ln_rmssd"].reindex(hrv["date"]).to_numpy()
    assert np.corrcoef(np.log(rmssd), lat)[0, 1] > 0.9


def test_spike_week_reaches_acwr_1_5(demo):
    store, summary = demo
    s = store.training_sessions(status="done")
    first, last = summary.spike_week
    for _aid, g in s.groupby("athlete_id"):
        daily = g.groupby("date")["load_au"].sum().asfreq("D", fill_value=0.0)
        acwr = daily.rolling(7).mean() / daily.rolling(28).mean()
        assert acwr[pd.Timestamp(last)] >= 1.5


def test_training_rows_planned_done_skipped(demo):
    store, _ = demo
    s = store.training_sessions()
    assert set(s["status"]) == {"planned", "done", "skipped"}
    done = s[s["status"] == "done"]
    assert np.allclose(done["load_au"], done["srpe"] * done["duration_min"])
    assert done["srpe"].between(1, 10).all()
    assert (s.loc[s["status"] == "planned", "date"] > pd.Timestamp(END)).all()


def test_episodes_after_day_60_and_a_third_without(demo):
    store, summary = demo
    ep = store.episodes()
    assert (ep["start_date"] >= pd.Timestamp(summary.start_date + dt.timedelta(days=60))).all()
    assert (ep["end_date"] <= pd.Timestamp(END)).all()
    assert {"illness", "overreaching", "sleep_debt", "travel"} <= set(ep["kind"])
    without = ATHLETES - ep["athlete_id"].nunique()
    assert without >= 1 and abs(without / ATHLETES - 1 / 3) < 0.1


def _scale(note: str) -> float:
    return float(note.split("effect scale ")[1].split(";")[0])


def test_illness_and_overreaching_move_markers_by_their_drawn_effect_size(demo):
    """Each episode's effect scale is drawn from the literature range (not placed past a
    detector threshold); the observed resting-HR rise follows the drawn size."""
    store, _ = demo
    ep = store.episodes()
    well = store.wellness()
    major = ep[ep["kind"].isin(["illness", "overreaching"])]
    scales = major["notes"].map(_scale)
    lo, hi = DEMO_EFFECT_SCALE
    assert scales.between(lo, hi).all()
    assert scales.nunique() == len(scales), "a range of effect sizes, not one point"
    for (_, e), s in zip(major.iterrows(), scales, strict=True):
        w = well[well["athlete_id"] == e["athlete_id"]].set_index("date")
        # before any overload block (<= 14 d before an overreaching episode)
        base = w.loc[
            e["start_date"] - pd.Timedelta(days=45) : e["start_date"] - pd.Timedelta(days=15)
        ]
        early = w.loc[
            e["start_date"] + pd.Timedelta(days=1) : e["start_date"] + pd.Timedelta(days=3)
        ]
        rise = early["resting_hr_bpm"].mean() - base["resting_hr_bpm"].mean()
        expected = s * EFFECTS[e["kind"]]["rhr"]
        # 3-day mean noise ~0.8 bpm plus load-driven drift of the baseline: 3 bpm tolerance
        assert abs(rise - expected) < 3.0, (e["kind"], s, rise, expected)
        ln_drop = np.log(base["rmssd_ms"]).mean() - np.log(early["rmssd_ms"]).mean()
        assert ln_drop > s * EFFECTS[e["kind"]]["hrv"] - 0.15


def test_effect_scale_changes_only_the_episodes():
    """A fixed effect scale leaves every day outside the episodes' reach unchanged."""
    prof = squad_profiles(2, SEED, END)[0]
    start = END - dt.timedelta(days=149)
    a, b = (
        simulate_athlete(prof, days=150, start_date=start, seed=SEED, index=0, effect_scale=s)
        for s in (0.0, 1.0)
    )
    reach = np.zeros(150, bool)
    for ep in a.episodes:
        reach[ep.start : ep.end + 4] = True
    la, lb = a.latent["ln_rmssd"].to_numpy(), b.latent["ln_rmssd"].to_numpy()
    assert np.allclose(la[~reach], lb[~reach])
    ill = a.episodes[0]
    assert ill.kind == "illness"
    assert la[ill.start : ill.start + 3].mean() - lb[ill.start : ill.start + 3].mean() > 0.3


def test_biomarkers_move_with_illness(demo):
    store, _ = demo
    ep = store.episodes(kind="illness")
    bio = store.biomarkers(marker="crp")
    for _, e in ep.iterrows():
        b = bio[bio["athlete_id"] == e["athlete_id"]]
        during = b[(b["date"] >= e["start_date"]) & (b["date"] <= e["end_date"])]["value"]
        before = b[b["date"] < e["start_date"]]["value"]
        assert during.max() > 3 * before.median()
    assert set(store.biomarkers()["unit"]) == {"nmol/L", "U/L", "mg/L", "mmol/L"}


def test_jump_follows_true_state_more_than_self_rating(squad):
    r_true, r_self = [], []
    for ad in squad:
        lat = ad.latent.set_index("date")
        perf = ad.performance.set_index(pd.to_datetime(ad.performance["date"]))["value"]
        well = ad.wellness.set_index(pd.to_datetime(ad.wellness["date"]))["readiness_self_1_10"]
        df = pd.concat(
            [perf.rename("cmj"), lat["recovery_true"], well.rename("self")], axis=1, sort=True
        ).dropna()
        r_true.append(np.corrcoef(df["cmj"], df["recovery_true"])[0, 1])
        r_self.append(np.corrcoef(df["cmj"], df["self"])[0, 1])
    assert np.mean(r_true) > 0.6
    assert np.mean(r_true) > np.mean(r_self) + 0.2


def test_designed_hip_asymmetry_of_the_deadlifter(demo):
    store, _ = demo
    athletes = store.athletes()
    lifter = athletes.loc[athletes["sport"] == "powerlifting", "athlete_id"].iloc[0]
    m = store.mobility_assessments(athlete_id=lifter, movement="hip_flexion", speed="slow")
    first = m[m["date"] == m["date"].min()].set_index("side")["angle_deg"]
    assert first["left"] - first["right"] > 8
    assert abs(m[m["side"] == "right"]["angle_deg"].mean() - 105) < 5
    assert set(store.mobility_assessments()["movement"]) == {
        "hip_flexion",
        "hip_internal_rotation",
        "shoulder_flexion",
        "ankle_dorsiflexion",
        "knee_extension_90_90",
        "hip_extension_thomas",
        "thoracic_rotation",
    }


def _multi_marker_flags(wellness: pd.DataFrame) -> pd.DataFrame:
    """A plain multi-marker detector: 7-day lnRMSSD below the normal range of the 60 days
    before, 3-day resting HR z >= 1 vs the 28 days before, sleep and mood 3-day means below
    their 28-day mean - 0.5 SD."""
    w = wellness.set_index(pd.to_datetime(wellness["date"])).asfreq("D")
    ln = np.log(w["rmssd_ms"])
    base = ln.shift(7).rolling(60, min_periods=30)
    out = {"hrv": ln.rolling(7, min_periods=3).mean() < base.mean() - 0.5 * base.std()}
    for col, sign, thr in [
        ("resting_hr_bpm", 1, 1.0),
        ("sleep_total_min", -1, 0.5),
        ("mood_1_10", -1, 0.5),
    ]:
        x = w[col]
        b = x.shift(1).rolling(28, min_periods=14)
        z = (x.rolling(3, min_periods=1).mean() - b.mean()) / b.std()
        out[col] = sign * z >= thr
    return pd.DataFrame(out)


@pytest.mark.parametrize("athletes,days,seed", [(ATHLETES, DAYS, SEED), (12, 180, 42)])
def test_multi_marker_pattern_follows_the_effect_size_and_nothing_else(athletes, days, seed):
    """A plain detector (not the product's) finds every episode at the upper literature
    anchor (effect scale 1), and at effect scale 0 finds episodes only by chance; athletes
    without episodes never get a 3-day flagged run (spike week included)."""
    found = {}
    for scale in (1.0, 0.0):
        hits, false_runs = [], []
        squad = simulate_squad(
            athletes=athletes, days=days, seed=seed, end_date=END, effect_scale=scale
        )
        for ad in squad:
            flags = _multi_marker_flags(ad.wellness).all(axis=1)
            start = pd.Timestamp(ad.latent["date"].iloc[0])
            for ep in ad.episodes:
                if ep.kind in ("illness", "overreaching"):
                    s0 = start + pd.Timedelta(days=ep.start)
                    hits.append(bool(flags.loc[s0 : s0 + pd.Timedelta(days=2)].any()))
            if not ad.episodes:
                runs = flags.astype(int).rolling(3).sum()
                false_runs.append(int((runs >= 3).sum()))
        assert false_runs and max(false_runs) == 0
        found[scale] = hits
    assert len(found[1.0]) >= 2 and all(found[1.0])
    assert np.mean(found[0.0]) <= 0.25
