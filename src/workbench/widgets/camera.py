"""Browser camera widget: live pose skeleton and angles over the viewer's webcam.

The front end (``widgets/camera.js``) asks for the viewer's camera (JupyterLab and Voilà) and
sends JPEG frames (long side ≤ ``send_long_px``) as binary buffers at up to ``fps``, one in
flight: a reply triggers the newest frame (latest wins, nothing queues). It draws the returned
skeleton and angles on a canvas over the live video and keeps per-frame camera-to-screen
timings (grab → angle text painted, and its stages) in ``el.wbTimings`` for
``bench/pose_latency_bench.py``. The kernel decodes each frame, runs a
:class:`~workbench.mobility.PosePipeline` and replies first (landmarks as float32 bytes).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import anywidget
import numpy as np
import traitlets

from workbench.log import get_logger
from workbench.mobility.pipeline import FrameAnalysis, PosePipeline
from workbench.mobility.pose import SKELETON
from workbench.widgets._frontend import asset

log = get_logger(__name__)

DEFAULT_ANGLES = (
    "left_hip_flexion",
    "right_hip_flexion",
    "left_knee_flexion",
    "right_knee_flexion",
    "left_shoulder_flexion",
    "right_shoulder_flexion",
)


class CameraWidget(anywidget.AnyWidget):
    """Live webcam with pose overlay.

    Parameters
    ----------
    pipeline:
        The pose pipeline to run on frames; created on the first frame if ``None`` (and
        closed by :meth:`close`).
    on_frame:
        Called as ``on_frame(analysis_or_None, t_s)`` after each frame (e.g. to drive a
        :class:`~workbench.mobility.ScreeningSession`).
    **kwargs:
        Trait values (``fps``, ``width``, ``height``, ``jpeg_quality``, ``show_angles``…).
    """

    _esm = asset("camera.js")
    _css = asset("camera.css")

    fps = traitlets.Int(10, help="frames sent per second (1–30)").tag(sync=True)
    width = traitlets.Int(640, help="requested camera frame width, px").tag(sync=True)
    height = traitlets.Int(480, help="requested camera frame height, px").tag(sync=True)
    send_long_px = traitlets.Int(640, help="long side of the frames sent to the kernel, px").tag(
        sync=True
    )
    jpeg_quality = traitlets.Float(0.7, help="JPEG quality 0..1").tag(sync=True)
    running = traitlets.Bool(True, help="send frames").tag(sync=True)
    status = traitlets.Unicode("", help="text shown over the image").tag(sync=True)
    camera_error = traitlets.Unicode("", help="set by the browser if the camera fails").tag(
        sync=True
    )
    min_visibility = traitlets.Float(0.5).tag(sync=True)
    show_angles = traitlets.List(traitlets.Unicode(), list(DEFAULT_ANGLES)).tag(sync=True)
    skeleton = traitlets.List(list(map(list, SKELETON))).tag(sync=True)
    view_ok = traitlets.Bool(True, help="the guided screen's view check passes").tag(sync=True)
    # kernel-side counters, not synced: a message per frame would delay the next reply
    frames_processed = traitlets.Int(0, help="frames analysed by the kernel")
    poses_found = traitlets.Int(0, help="frames with a person")

    def __init__(
        self,
        pipeline: PosePipeline | None = None,
        *,
        on_frame: Callable[[FrameAnalysis | None, float], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._pipeline = pipeline
        self._owns_pipeline = pipeline is None
        self._on_frame = on_frame
        self.last: FrameAnalysis | None = None
        self._replies = 0
        self.on_msg(self._on_custom_msg)

    @traitlets.validate("fps")
    def _check_fps(self, proposal: dict[str, Any]) -> int:
        fps = int(proposal["value"])
        if not 1 <= fps <= 30:
            raise traitlets.TraitError(f"fps must be 1..30, got {fps}")
        return fps

    @traitlets.validate("jpeg_quality")
    def _check_quality(self, proposal: dict[str, Any]) -> float:
        q = float(proposal["value"])
        if not 0.1 <= q <= 1.0:
            raise traitlets.TraitError(f"jpeg_quality must be 0.1..1, got {q}")
        return q

    @property
    def pipeline(self) -> PosePipeline:
        """The pose pipeline (created on first use)."""
        if self._pipeline is None:
            self._pipeline = PosePipeline()
        return self._pipeline

    def process_frame(
        self, jpeg: bytes, t_s: float, *, echo_t_ms: float | None = None
    ) -> FrameAnalysis | None:
        """Analyse one JPEG frame and send the result to the browser.

        The reply carries ``echo_t_ms`` (the browser's grab time, unchanged: it identifies
        the frame) or else ``t_s`` in ms.
        """
        t_ms = t_s * 1000.0 if echo_t_ms is None else echo_t_ms
        t0 = time.perf_counter()
        analysis = self.pipeline.process_jpeg(jpeg, t_s)
        kernel_ms = (time.perf_counter() - t0) * 1000.0
        # the reply goes out before anything else: other messages (trait syncs from
        # on_frame) would otherwise reach the browser first (camera-to-screen latency)
        if analysis is None:
            self.send({"type": "pose", "found": False, "t_ms": t_ms})
        else:
            lm = analysis.smoothed.landmarks.astype(np.float32)
            angles = {
                k: [
                    None if r.angle_deg is None else round(r.angle_deg, 1),
                    r.quality,
                    None if r.uncertainty_deg is None else round(r.uncertainty_deg, 1),
                    r.reason,
                ]
                for k, r in analysis.angles.items()
            }
            self.send(
                {
                    "type": "pose",
                    "found": True,
                    "angles": angles,
                    "t_ms": t_ms,
                    "kernel_ms": round(kernel_ms, 1),
                    "image_px": list(analysis.raw.image_size),
                },
                [lm.tobytes()],
            )
        self._replies += 1
        self.frames_processed += 1
        if analysis is not None:
            self.poses_found += 1
        self.last = analysis
        if self._on_frame is not None:
            self._on_frame(analysis, t_s)
        return analysis

    @staticmethod
    def angle_text(reading: Any) -> str:
        """Overlay text of one angle: ``"left shoulder flexion: 30° ± 10°"`` or its reason."""
        label = reading.name.replace("_", " ")
        if reading.angle_deg is None:
            return f"{label}: not measurable ({reading.reason})"
        return f"{label}: {reading.angle_deg:.0f}° ± {reading.uncertainty_deg:.0f}°"

    def _on_custom_msg(self, _widget: Any, content: dict[str, Any], buffers: list[Any]) -> None:
        if not isinstance(content, dict) or content.get("type") != "frame" or not buffers:
            return
        replies = self._replies
        try:
            t_ms = float(content["t_ms"])
            self.process_frame(bytes(buffers[0]), t_ms / 1000.0, echo_t_ms=t_ms)
        except Exception as exc:  # keep the widget alive; tell the viewer
            log.exception("camera frame failed")
            self.status = f"frame failed: {exc}"
            if self._replies == replies:  # one reply per frame: the browser's next frame waits
                self.send({"type": "pose", "found": False, "t_ms": content.get("t_ms")})

    def close(self) -> None:
        """Close the widget and the pipeline it created."""
        if self._owns_pipeline and self._pipeline is not None:
            self._pipeline.close()
            self._pipeline = None
        super().close()
