"""Pose engine on real footage (tests/data/pose): landmarks, plausible angles, smoothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from workbench.errors import ConfigError, DataFormatError
from workbench.mobility import PoseEngine, detect_pose, iter_video, joint_angles, load_image
from workbench.mobility.model import pose_model_path
from workbench.mobility.smoothing import LandmarkSmoother, jitter

DATA = Path(__file__).resolve().parents[1] / "data" / "pose"
PHOTO = DATA / "mediapipe-samples__pose_test_image.jpg"
BALANCE = DATA / "pose2sim__Demo_SinglePerson_cam01_270x480.mp4"


def test_photo_has_33_landmarks_and_plausible_angles():
    result = detect_pose(load_image(PHOTO))
    assert result is not None
    assert result.landmarks.shape == (33, 4) and result.world_landmarks.shape == (33, 3)
    assert np.all((result.landmarks[:, :2] > -0.1) & (result.landmarks[:, :2] < 1.1))
    assert result.visibility[[11, 12, 23, 24, 25, 26]].min() > 0.5
    a = joint_angles(result)
    # seated on the ground, knees bent, hips flexed, arms down by the sides
    for side in ("left", "right"):
        assert 60 < a[f"{side}_knee_flexion"] < 160
        assert 70 < a[f"{side}_hip_flexion"] < 160
        assert -30 < a[f"{side}_shoulder_flexion"] < 60
    assert abs(a["trunk_lean"]) < 30


def test_no_person_and_bad_input():
    assert detect_pose(np.zeros((480, 640, 3), np.uint8)) is None
    with pytest.raises(DataFormatError):
        detect_pose(np.zeros((480, 640), np.uint8))
    with pytest.raises(DataFormatError):
        detect_pose(np.zeros((480, 640, 3), np.float32))


def test_model_checksum_and_override(tmp_path, monkeypatch):
    assert pose_model_path().name == "pose_landmarker_full.task"
    monkeypatch.setenv("WORKBENCH_POSE_MODEL", str(tmp_path / "missing.task"))
    with pytest.raises(ConfigError):
        pose_model_path()
    fake = tmp_path / "fake.task"
    fake.write_bytes(b"not a zip")
    with pytest.raises(DataFormatError):
        pose_model_path(fake)


def test_video_held_pose_smoothing_halves_jitter():
    raw, smooth = [], []
    smoother = LandmarkSmoother()
    with PoseEngine("video") as engine:
        for t_s, rgb in iter_video(BALANCE, max_frames=60):  # single-leg balance: held
            r = engine.detect_video(rgb, t_s)
            assert r is not None
            raw.append(r.landmarks[:, :2])
            smooth.append(smoother(r).landmarks[:, :2])
        with pytest.raises(DataFormatError):
            engine.detect_video(rgb, 0.0)  # time going back
    raw_j, smooth_j = jitter(np.array(raw)), jitter(np.array(smooth))
    assert smooth_j <= 0.5 * raw_j, (raw_j, smooth_j)


def test_live_stream_mode_delivers_results():
    got = []
    import threading

    done = threading.Event()

    def on_result(result, t_s):
        got.append((result, t_s))
        done.set()

    frames = list(iter_video(BALANCE, max_frames=5))
    with PoseEngine("live_stream", callback=on_result) as engine:
        for t_s, rgb in frames:
            engine.detect_async(rgb, t_s)
        assert done.wait(10)
    assert any(r is not None and r.landmarks.shape == (33, 4) for r, _ in got)
