"""Camera and screening widgets, kernel side (frames fed as JPEG bytes)."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest
import traitlets

from workbench.mobility import iter_video
from workbench.mobility.screening import Phase
from workbench.widgets.camera import CameraWidget
from workbench.widgets.mobility import MobilityScreenWidget

CLIP = Path(__file__).resolve().parents[1] / "data" / "pose" / "sports2d__demo_640x480.mp4"


def _jpeg(rgb) -> bytes:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return buf.tobytes()


def test_camera_widget_processes_jpeg_frames_and_drives_a_session():
    ui = MobilityScreenWidget(instruct_s=0.0, countdown_s=0.0, repeats=1, max_attempt_s=1.0)
    ui.screen_pick.value = "shoulder_flexion"
    session = ui.start()
    frames = list(iter_video(CLIP, max_frames=100))[60:]
    try:
        for t_s, rgb in frames:
            ui.camera._on_custom_msg(ui.camera, {"type": "frame", "t_ms": t_s * 1000}, [_jpeg(rgb)])
        assert ui.camera.frames_processed == len(frames)
        assert ui.camera.poses_found > len(frames) // 2
        assert session.phase is Phase.DONE and len(session.captures) == 1
        assert "Done" in ui.camera.status
    finally:
        ui.camera.close()


def test_camera_widget_validates_traits_and_reports_bad_frames():
    cam = CameraWidget()
    try:
        with pytest.raises(traitlets.TraitError):
            cam.fps = 60
        cam._on_custom_msg(cam, {"type": "frame", "t_ms": 1.0}, [b"not a jpeg"])
        assert cam.status.startswith("frame failed")
    finally:
        cam.close()
