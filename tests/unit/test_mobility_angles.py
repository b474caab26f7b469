"""Angle maths on synthetic skeletons seen from several camera headings."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import DataFormatError
from workbench.mobility import held_end_range, joint_angles, measure_angles
from workbench.mobility.smoothing import OneEuroFilter, jitter
from workbench.mobility.synthetic import synthetic_pose

LATERAL = (90.0, -90.0, 85.0)
FRONTAL = (0.0, 180.0, 8.0)


@pytest.mark.parametrize("view", LATERAL)
@given(
    hip=st.floats(-20, 130),
    knee=st.floats(0, 140),
    shoulder=st.floats(0, 185),
    lean=st.floats(-10, 45),
)
@settings(max_examples=40, deadline=None)
def test_sagittal_angles_within_2deg_from_lateral_views(view, hip, knee, shoulder, lean):
    pose = synthetic_pose(
        view_deg=view,
        hip_flexion_deg=(hip, 10.0),
        knee_flexion_deg=(knee, 5.0),
        shoulder_flexion_deg=(shoulder, 30.0),
        trunk_lean_deg=lean,
    )
    r = measure_angles(pose)
    assert abs(r["left_hip_flexion"].angle_deg - hip) <= 2
    assert abs(r["left_knee_flexion"].angle_deg - knee) <= 2
    assert abs(r["left_shoulder_flexion"].angle_deg - shoulder) <= 2
    assert abs(r["trunk_lean"].angle_deg - lean) <= 2
    tibia = knee - hip + lean  # shank angle to vertical in the synthetic body
    assert abs(r["left_ankle_dorsiflexion"].angle_deg - tibia) <= 2
    assert r["left_knee_flexion"].quality == "good"


@pytest.mark.parametrize("view", FRONTAL)
@pytest.mark.parametrize("valgus", [-8.0, 0.0, 6.0, 15.0])
def test_frontal_angles_within_2deg_from_frontal_views(view, valgus):
    pose = synthetic_pose(
        view_deg=view,
        hip_flexion_deg=(40.0, 40.0),
        knee_flexion_deg=(60.0, 60.0),
        knee_valgus_deg=(valgus, 3.0),
    )
    r = measure_angles(pose)
    assert abs(r["left_knee_valgus"].angle_deg - valgus) <= 2
    assert abs(r["right_knee_valgus"].angle_deg - 3.0) <= 2
    assert r["left_knee_valgus"].quality == "good"


@pytest.mark.parametrize("view", FRONTAL)
def test_seated_rotations_from_frontal_views(view):
    pose = synthetic_pose(
        view_deg=view,
        hip_flexion_deg=(90.0, 90.0),
        knee_flexion_deg=(90.0, 90.0),
        hip_internal_rotation_deg=(30.0, 20.0),
        thoracic_rotation_deg=40.0,
    )
    a = joint_angles(pose)
    assert abs(a["left_hip_internal_rotation"] - 30) <= 2
    assert abs(a["right_hip_internal_rotation"] - 20) <= 2
    assert abs(a["left_thoracic_rotation"] - 40) <= 2
    assert abs(a["right_thoracic_rotation"] + 40) <= 2


def test_lying_tests_thomas_and_90_90():
    # Supine (body pitched 90°), camera side on: left leg hangs 10° below the table with the
    # knee bent 80°; right thigh at 90° with the knee extended to 20° short of straight.
    pose = synthetic_pose(
        view_deg=90.0,
        pitch_deg=-90.0,
        hip_flexion_deg=(-10.0, 90.0),
        knee_flexion_deg=(80.0, 20.0),
    )
    a = joint_angles(pose)
    assert abs(a["left_hip_extension"] - 10) <= 2
    assert abs(a["left_knee_flexion"] - 80) <= 2
    assert abs(a["right_knee_extension_90_90"] - 160) <= 2


@pytest.mark.parametrize("view", [40.0, 45.0, -50.0, 135.0])
def test_quality_drops_for_oblique_views(view):
    pose = synthetic_pose(view_deg=view, hip_flexion_deg=(90.0, 90.0), knee_valgus_deg=(0, 0))
    r = measure_angles(pose)
    assert r["left_hip_flexion"].quality == "poor"
    assert r["left_knee_valgus"].quality == "poor"
    assert abs(abs(r["left_hip_flexion"].view_deg) - abs(view)) < 1


def test_quality_follows_visibility_and_wrong_plane():
    r = measure_angles(synthetic_pose(view_deg=90.0, visibility=0.6))
    assert r["left_knee_flexion"].quality == "fair"
    r = measure_angles(synthetic_pose(view_deg=90.0, visibility=0.3))
    assert r["left_knee_flexion"].quality == "poor"
    # sagittal angle seen from the front: right value (3-D) but not trustworthy
    r = measure_angles(synthetic_pose(view_deg=0.0, hip_flexion_deg=(60.0, 0.0)))
    assert r["left_hip_flexion"].quality == "poor"


def test_bad_world_landmarks_raise():
    pose = synthetic_pose()
    bad = pose.with_landmarks(pose.landmarks, np.full((33, 3), np.nan))
    with pytest.raises(DataFormatError):
        measure_angles(bad)


def test_held_end_range_ignores_spikes_and_needs_a_hold():
    t = np.arange(0, 3, 0.1)
    a = np.concatenate([np.linspace(0, 100, 10), np.full(10, 100.0), np.linspace(100, 0, 10)])
    a[5] = 150.0  # one-frame spike
    value, start = held_end_range(t, a, hold_s=0.5)
    assert value == pytest.approx(100.0)
    assert 0.9 <= start <= 1.5
    assert np.isnan(held_end_range(t[:3], a[:3], hold_s=1.0)[0])
    with pytest.raises(DataFormatError):
        held_end_range(t[::-1], a)


def test_one_euro_reduces_noise_and_follows_steps():
    rng = np.random.default_rng(1)
    t = np.arange(300) / 30.0
    x = 0.5 + rng.normal(0, 0.004, size=(300, 2))
    f = OneEuroFilter()
    y = np.array([f(xi, ti) for xi, ti in zip(x, t, strict=True)])
    assert jitter(y) < 0.3 * jitter(x)
    step = OneEuroFilter()
    out = [step(np.array([0.0 if ti < 1 else 1.0]), ti) for ti in t]
    assert out[-1][0] == pytest.approx(1.0, abs=0.01)  # converges after a step
    with pytest.raises(DataFormatError):
        step(np.array([1.0]), 0.0)  # time going back
