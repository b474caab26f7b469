"""Pose engine on real footage (tests/data/pose): landmarks, plausible angles, smoothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from workbench.errors import ConfigError, DataFormatError
from workbench.mobility import (
    PoseEngine,
    PosePipeline,
    angle_reasons,
    detect_pose,
    iter_video,
    joint_angles,
    load_image,
    measure_angles,
)
from workbench.mobility.angles import base_name
from workbench.mobility.model import pose_model_path
from workbench.mobility.reference import ANATOMICAL_RANGES
from workbench.mobility.smoothing import LandmarkSmoother, jitter

DATA = Path(__file__).resolve().parents[1] / "data" / "pose"
PHOTO = DATA / "mediapipe-samples__pose_test_image.jpg"
BALANCE = DATA / "pose2sim__Demo_SinglePerson_cam01_270x480.mp4"
PHOTOS = sorted(DATA.glob("*.jpg"))
CLIPS = sorted(DATA.glob("*.mp4"))


def _assert_in_range(readings, where):
    for name, r in readings.items():
        if r.angle_deg is None:
            assert r.reason, (where, name)
            continue
        rng = ANATOMICAL_RANGES[base_name(name)]
        assert rng.low_deg <= r.angle_deg <= rng.high_deg, (where, name, r.angle_deg)
        assert r.uncertainty_deg is not None and r.uncertainty_deg > 0


def test_frontal_photo_refuses_sagittal_angles_with_reasons():
    result = detect_pose(load_image(PHOTO))
    assert result is not None
    assert result.landmarks.shape == (33, 4) and result.world_landmarks.shape == (33, 3)
    assert np.all((result.landmarks[:, :2] > -0.1) & (result.landmarks[:, :2] < 1.1))
    assert result.visibility[[11, 12, 23, 24, 25, 26]].min() > 0.5
    a, why = joint_angles(result), angle_reasons(result)
    assert set(a) == set(why)
    # a seated person photographed face on: sagittal angles are not measurable (view)
    for side in ("left", "right"):
        for base in ("knee_flexion", "hip_flexion", "shoulder_flexion"):
            assert a[f"{side}_{base}"] is None
            assert why[f"{side}_{base}"].startswith("view")
    assert all((v is None) == (why[k] is not None) for k, v in a.items())


@pytest.mark.parametrize("photo", PHOTOS, ids=[p.name for p in PHOTOS])
def test_every_real_photo_reports_only_anatomical_values(photo):
    result = detect_pose(load_image(photo))
    assert result is not None
    _assert_in_range(measure_angles(result), photo.name)


@pytest.mark.parametrize("clip", CLIPS, ids=[c.name for c in CLIPS])
def test_every_real_clip_frame_reports_only_anatomical_values(clip):
    measured = refused = 0
    with PosePipeline() as pipe:
        for t_s, rgb in iter_video(clip):
            fa = pipe.process(rgb, t_s)
            if fa is None:
                continue
            _assert_in_range(fa.angles, f"{clip.name}@{t_s:.2f}s")
            measured += sum(r.angle_deg is not None for r in fa.angles.values())
            refused += sum(r.angle_deg is None for r in fa.angles.values())
    assert measured + refused > 0  # the oblique pose2sim views are (rightly) all refused


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
