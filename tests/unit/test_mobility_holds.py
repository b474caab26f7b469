"""End range over a hold, its halves and velocity profile; the guided session's view gate."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.mobility import SCREENS, ScreeningSession, end_range, measure_angles
from workbench.mobility.angles import angle_jitter_deg
from workbench.mobility.interpret import classify_limitation
from workbench.mobility.screening import Phase
from workbench.mobility.synthetic import synthetic_pose

FPS = 30.0


def _rep(top_deg: float, rise_s: float, hold_s: float, t0: float = 0.0):
    """Times and true hip flexion of one rep: rest, smooth rise, hold, (no lowering)."""
    t = np.arange(0.0, 0.5 + rise_s + hold_s, 1 / FPS)
    x = np.clip((t - 0.5) / rise_s, 0.0, 1.0)
    return t + t0, top_deg * (0.5 - 0.5 * np.cos(np.pi * x))


def _frames(t, truth, view_deg, seed=0):
    """Per frame: angles, qualities, uncertainties of a noisy synthetic skeleton + its pose."""
    history: list[dict] = []
    for k, (ti, a) in enumerate(zip(t, truth, strict=True)):
        pose = synthetic_pose(
            view_deg=view_deg,
            hip_flexion_deg=(a, 0.0),
            knee_flexion_deg=(min(a, 90.0), 0.0),
            noise_px=0.8,
            seed=seed * 10_000 + k,
        )
        raw = {n: r.raw_deg for n, r in measure_angles(pose).items()}
        history = [*history[-15:], raw]
        jit = {n: angle_jitter_deg([h[n] for h in history]) for n in raw}
        yield ti, pose, measure_angles(pose, jitter_deg=jit)


def test_end_range_is_p90_of_the_hold_with_agreeing_halves():
    t, truth = _rep(110.0, 1.0, 1.6)
    rng = np.random.default_rng(0)
    noisy = truth + rng.normal(0, 1.0, truth.size)
    er = end_range(t, noisy, uncertainty_deg=np.full(t.size, 6.0))
    assert er is not None and er.duration_s >= 1.0
    assert abs(er.angle_deg - 110.0) <= 3.0
    assert er.halves_agree and er.stability_deg < 2.0
    assert er.peak_velocity_deg_s == pytest.approx(110 * np.pi / 2 / 1.0, rel=0.25)
    # no hold of 1 s: no end range
    t2, truth2 = _rep(110.0, 1.0, 0.5)
    assert end_range(t2, truth2) is None


def test_guided_session_measures_a_synthetic_hold_within_3deg():
    s = ScreeningSession("standing_hip_flexion", "left", repeats=1, instruct_s=0, countdown_s=0)
    t, truth = _rep(105.0, 1.2, 2.0, t0=1.0)
    for ti, pose, angles in _frames(t, truth, view_deg=88.0):
        s.update(
            ti,
            {k: r.angle_deg for k, r in angles.items()},
            {k: r.quality for k, r in angles.items()},
            uncertainties={k: r.uncertainty_deg for k, r in angles.items()},
            view=s.check_view(pose),
        )
    assert s.phase is Phase.DONE and s.captures and s.captures[0].plateau
    cap = s.captures[0]
    assert abs(cap.angle_deg - 105.0) <= 3.0
    assert cap.hold is not None and cap.hold.halves_agree
    assert cap.uncertainty_deg is not None and cap.uncertainty_deg >= 6.0  # SEM of hip, cited


def test_guided_session_waits_for_the_view_and_prompts():
    s = ScreeningSession("standing_hip_flexion", "left", repeats=1, instruct_s=0, countdown_s=0)
    t, truth = _rep(105.0, 1.2, 2.0)
    for ti, pose, angles in _frames(t, truth, view_deg=0.0):  # facing the camera: wrong view
        v = s.update(ti, {k: r.angle_deg for k, r in angles.items()}, view=s.check_view(pose))
    assert s.phase is Phase.VIEW and not s.captures
    assert v.message.startswith("Turn so the camera sees your left side") and not v.view_ok
    assert SCREENS["standing_hip_flexion"].view == "lateral"


def test_slow_and_fast_reps_give_velocity_profiles_for_the_limitation_call():
    t, slow = _rep(110.0, 2.0, 1.5)
    tf, fast = _rep(95.0, 0.4, 1.5)
    es, ef = end_range(t, slow), end_range(tf, fast)
    assert es is not None and ef is not None
    assert ef.peak_velocity_deg_s > 2 * es.peak_velocity_deg_s
    call = classify_limitation(
        es.angle_deg,
        ef.angle_deg,
        movement="hip_flexion",
        slow_peak_velocity_deg_s=es.peak_velocity_deg_s,
        fast_peak_velocity_deg_s=ef.peak_velocity_deg_s,
    )
    assert call.kind == "unclear" or call.kind == "neural"
    same = classify_limitation(
        es.angle_deg,
        es.angle_deg - 1,
        movement="hip_flexion",
        slow_peak_velocity_deg_s=es.peak_velocity_deg_s,
        fast_peak_velocity_deg_s=es.peak_velocity_deg_s * 1.1,
    )
    assert same.kind == "unclear" and "not faster" in same.reason


def test_limitation_from_a_slow_and_a_fast_session():
    from workbench.mobility.workflow import limitation_from_sessions

    def run(top, rise_s, speed):
        s = ScreeningSession(
            "standing_hip_flexion", "left", repeats=1, speed=speed, instruct_s=0, countdown_s=0
        )
        t, truth = _rep(top, rise_s, 1.5, t0=1.0)
        for ti, a in zip(t, truth, strict=True):
            s.update(ti, {"left_hip_flexion": float(a)}, {"left_hip_flexion": "good"})
        return s

    slow, fast = run(120.0, 2.0, "slow"), run(90.0, 0.4, "fast")
    call = limitation_from_sessions(slow, fast)
    assert call.kind == "neural", call  # 30° less when fast, and the fast rep was faster
    same = limitation_from_sessions(run(120.0, 2.0, "slow"), run(119.0, 0.4, "fast"))
    assert same.kind == "structural", same
