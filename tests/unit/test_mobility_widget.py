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


def test_camera_widget_prompts_for_the_view_then_measures_with_uncertainty():
    # the clip: facing the camera (jumping jacks), turning, then walking side on (left side
    # towards the camera): the shoulder-flexion screen must prompt first, then measure
    ui = MobilityScreenWidget(instruct_s=0.0, countdown_s=0.0, repeats=1, max_attempt_s=2.0)
    ui.screen_pick.value = "shoulder_flexion"
    ui.side_pick.value = "left"
    session = ui.start()
    frames = list(iter_video(CLIP))
    statuses, phases, live, raw_prompts = [], [], [], []
    try:
        for t_s, rgb in frames:
            ui.camera._on_custom_msg(ui.camera, {"type": "frame", "t_ms": t_s * 1000}, [_jpeg(rgb)])
            statuses.append(ui.camera.status)
            phases.append(session.phase)
            if session.last_view is not None and not session.last_view.ok:
                raw_prompts.append(session.last_view.message)
            r = ui.camera.last.angles.get(session.angle_name) if ui.camera.last else None
            if session.phase is Phase.MEASURE and r is not None and r.angle_deg is not None:
                live.append(ui.camera.angle_text(r))
        assert ui.camera.frames_processed == len(frames)
        assert ui.camera.poses_found > len(frames) // 2
        first_measure = phases.index(Phase.MEASURE)
        # before measuring, only view prompts were shown (debounced: the detector loses the
        # far, backlit jumping person in many frames, so "Step into the camera's view" wins)
        shown = set(statuses[:first_measure])
        assert shown <= {"Step into the camera's view.", "View OK: hold still…"} | {
            s for s in shown if s.startswith(("Turn", "Face", "Step back"))
        }
        assert any(m.startswith("Turn so the camera sees your left side") for m in raw_prompts)
        # walking is no held end range: the attempt is not captured
        assert session.phase is Phase.DONE and not session.captures
        assert session.failed_attempts == 1 and "no stable hold" in ui.camera.status
        # while measuring, the live angle came with its uncertainty
        assert any("±" in m for m in live), live[:5]
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
