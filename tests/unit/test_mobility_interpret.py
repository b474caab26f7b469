"""Interpretation rules and the screening state machine."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.errors import DataFormatError
from workbench.mobility import (
    ScreeningSession,
    classify_limitation,
    lsi_pct,
    mobility_age,
    priorities,
    progress,
    protocol,
    results_table,
)
from workbench.mobility.interpret import (
    assessment_rows,
    mdc_deg,
    norm_deg,
    progression_status,
)
from workbench.mobility.screening import Phase


def test_lsi():
    assert lsi_pct(90, 100) == pytest.approx(90.0)
    assert lsi_pct(100, 90) == pytest.approx(90.0)
    with pytest.raises(DataFormatError):
        lsi_pct(-5, 0)


def _results():
    return pd.DataFrame(
        [
            {"movement": "hip_flexion", "left_deg": 100.0, "right_deg": 122.0},
            {"movement": "shoulder_flexion", "left_deg": 150.0, "right_deg": 152.0},
            {"movement": "ankle_dorsiflexion", "left_deg": 40.0, "right_deg": 41.0},
        ]
    )


def test_priorities_put_hip_asymmetry_first_for_a_deadlifter():
    ranked = priorities(_results(), sport="deadlift")
    assert ranked.iloc[0]["movement"] == "hip_flexion"
    assert ranked.iloc[0]["priority"] == 1
    assert ranked.set_index("movement").loc["ankle_dorsiflexion", "priority"] == 0  # in range
    # a swimmer's shoulder deficit outranks the hip
    swim = priorities(_results().assign(left_deg=[118.0, 150.0, 40.0]), sport="swimming")
    assert swim.iloc[0]["movement"] == "shoulder_flexion"


def test_limitation_calls():
    mdc = mdc_deg("hip_flexion")
    neural = classify_limitation(120, 120 - 2 * mdc, movement="hip_flexion")
    assert neural.kind == "neural" and neural.confidence >= 0.9
    structural = classify_limitation(110, 109, movement="hip_flexion")
    assert structural.kind == "structural" and structural.confidence > 0.7
    assert classify_limitation(110, 110 - 0.75 * mdc, movement="hip_flexion").kind == "unclear"


def test_protocol_follows_limitation_type():
    ranked = priorities(_results(), sport="powerlifting")
    calls = {
        "hip_flexion": classify_limitation(100, 100, movement="hip_flexion"),
        "shoulder_flexion": classify_limitation(150, 120, movement="shoulder_flexion"),
    }
    plan = protocol(ranked, calls).set_index("movement")
    assert plan.loc["hip_flexion", "limitation"] == "structural"
    assert plan.loc["hip_flexion", "hold_s"] == 120
    assert plan.loc["hip_flexion", "side"] == "left"
    assert plan.loc["shoulder_flexion", "modality"].startswith("end-range isometrics")


def test_norms_and_mobility_age():
    assert norm_deg("hip_flexion", age_years=5, sex="female") == pytest.approx(140.8)
    young = mobility_age({"hip_flexion": 138.0, "shoulder_flexion": 171.0}, sex="female")
    old = mobility_age({"hip_flexion": 120.0, "shoulder_flexion": 158.0}, sex="female")
    assert young is not None and old is not None and young < 20 < old
    assert mobility_age({}, sex="male") is None


def test_progress_bands_and_progression_rule():
    dates = pd.date_range("2026-01-05", periods=8, freq="7D")
    hist = pd.DataFrame(
        {
            "date": dates,
            "movement": "hip_flexion",
            "side": "left",
            "angle_deg": [100, 101, 104, 108, 112, 113, 113, 112],
        }
    )
    p = progress(hist)
    assert p["real_change"].iloc[-1] and not p["real_change"].iloc[1]
    assert p["band_high_deg"].iloc[0] == pytest.approx(100 + mdc_deg("hip_flexion"))
    assert progression_status(hist["date"], hist["angle_deg"]) == "change stimulus"
    assert progression_status(hist["date"][:5], hist["angle_deg"][:5]) == "progressing"
    assert progression_status(hist["date"][:2], hist["angle_deg"][:2]) == "too early"


def test_results_table_and_rows():
    rows = assessment_rows(
        "a1", "2026-02-01", "standing_hip_flexion", "hip_flexion",
        {"left": (110.0, "good"), "right": (125.0, "fair")},
    )  # fmt: skip
    rows += assessment_rows(
        "a1", "2026-02-01", "seated_thoracic_rotation", "thoracic_rotation",
        {"left": (45.0, "fair"), "right": (44.0, "fair")},
    )  # fmt: skip
    table = results_table(pd.DataFrame(rows), sport="powerlifting", age_years=30, sex="male")
    first = table.iloc[0]
    assert first["movement"] == "hip_flexion" and first["optimal_rom"] == "120–135°"
    assert first["norm_deg"] == pytest.approx(122.0)
    with pytest.raises(DataFormatError):
        assessment_rows("a1", "2026-02-01", "x", "hip_flexion", {"up": (1.0, "good")})


def test_screening_state_machine_captures_three_plateaus():
    # The athlete follows the cues: on each "go" rise to the target over 1.5 s, hold; the
    # targets of the three attempts are 110, 118, 114 (with a one-frame spike on the first).
    targets = [110.0, 118.0, 114.0]
    s = ScreeningSession(
        "standing_hip_flexion", "left", instruct_s=1, countdown_s=1, rest_s=1, plateau_s=0.5
    )
    t, go = 0.0, None
    while t < 40 and s.phase is not Phase.DONE:
        if s.phase is Phase.MEASURE:
            go = t if go is None else go
            top = targets[len(s.captures)]
            a = top * min(1.0, (t - go) / 1.5)
            a = 160.0 if abs(t - go - 0.5) < 0.01 else a
        else:
            go, a = None, 0.0
        s.update(t, {s.angle_name: a}, {s.angle_name: "good"})
        t += 1 / 30
    assert s.phase is Phase.DONE and len(s.captures) == 3
    assert all(c.plateau for c in s.captures)
    assert [round(c.angle_deg) for c in s.captures] == [110, 118, 114]
    assert s.best_deg == pytest.approx(118.0)
    assert s.median_deg == pytest.approx(114.0)


def test_screening_phases_and_timeout():
    s = ScreeningSession("shoulder_flexion", "right", repeats=1, max_attempt_s=3.0)
    assert s.update(0.0).phase is Phase.INSTRUCT
    v = s.update(6.0)
    assert v.phase is Phase.COUNTDOWN and "in 3" in v.message
    s.update(9.1)
    assert s.phase is Phase.MEASURE
    # steadily rising, never a plateau: capture on timeout with plateau=False
    _ = [
        s.update(9.1 + k / 30, {"right_shoulder_flexion": 100 + 10 * k / 30}) for k in range(1, 120)
    ]
    assert s.phase is Phase.DONE and not s.captures[0].plateau
    with pytest.raises(ValueError):
        ScreeningSession("shoulder_flexion", "right", repeats=4)
    t = ScreeningSession("shoulder_flexion", "right", instruct_s=0, countdown_s=0)
    t.update(1.0, {"right_shoulder_flexion": 10.0})
    with pytest.raises(DataFormatError):
        t.update(1.0, {"right_shoulder_flexion": 10.0})
