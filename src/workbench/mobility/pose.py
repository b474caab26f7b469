"""Pose inference with the MediaPipe Tasks API (IMAGE, VIDEO and LIVE_STREAM modes).

Landmarks follow BlazePose's 33-point topology (:data:`LANDMARK_NAMES`). Image landmarks are
``x, y`` normalised to the image width/height (0..1, origin top-left), ``z`` a relative depth
on the scale of ``x`` (smaller = nearer the camera) and ``visibility`` (0..1). World landmarks
are metres, origin between the hips, ``x`` to the image right, ``y`` down, ``z`` away from the
camera.

No model is loaded at import: :class:`PoseEngine` creates its landmarker when constructed and
must be closed (``with PoseEngine(...) as engine:``). :func:`detect_pose` keeps one lazily
created IMAGE-mode engine, closed at interpreter exit.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from workbench.errors import DataFormatError
from workbench.log import get_logger

from .model import pose_model_path

log = get_logger(__name__)

LANDMARK_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)
LANDMARK = {name: i for i, name in enumerate(LANDMARK_NAMES)}
N_LANDMARKS = 33

#: Skeleton edges (pairs of landmark indices) for drawing.
SKELETON: tuple[tuple[int, int], ...] = (
    (11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (11, 23), (12, 24), (23, 24),
    (23, 25), (25, 27), (27, 29), (29, 31), (27, 31), (24, 26), (26, 28), (28, 30),
    (30, 32), (28, 32), (0, 11), (0, 12),
)  # fmt: skip

Mode = Literal["image", "video", "live_stream"]


@dataclass(frozen=True)
class PoseResult:
    """One detected person.

    Attributes
    ----------
    landmarks:
        (33, 4) float: ``x``, ``y`` normalised to the image, ``z`` relative depth, visibility.
    world_landmarks:
        (33, 3) float, metres, hip-centred.
    image_size:
        ``(width_px, height_px)`` of the analysed image.
    t_s:
        Timestamp of the frame in seconds (``None`` for a still image).
    """

    landmarks: np.ndarray
    world_landmarks: np.ndarray
    image_size: tuple[int, int]
    t_s: float | None = None

    @property
    def visibility(self) -> np.ndarray:
        """(33,) visibility of each landmark, 0..1."""
        return self.landmarks[:, 3]

    def with_landmarks(self, landmarks: np.ndarray, world_landmarks: np.ndarray) -> PoseResult:
        """A copy with replaced landmark arrays (e.g. smoothed ones)."""
        return PoseResult(landmarks, world_landmarks, self.image_size, self.t_s)


def check_image(image_rgb: np.ndarray) -> np.ndarray:
    """Validate an RGB frame (uint8, H×W×3) and return it C-contiguous.

    Raises
    ------
    DataFormatError
        Wrong dtype, shape or an empty image.
    """
    if not isinstance(image_rgb, np.ndarray):
        raise DataFormatError(f"image must be a numpy array, got {type(image_rgb).__name__}")
    if image_rgb.dtype != np.uint8 or image_rgb.ndim != 3 or image_rgb.shape[2] != 3:
        raise DataFormatError(
            f"image must be uint8 H×W×3 RGB, got {image_rgb.dtype} {image_rgb.shape}; "
            "convert BGR from OpenCV with cv2.cvtColor(img, cv2.COLOR_BGR2RGB)"
        )
    if image_rgb.shape[0] < 16 or image_rgb.shape[1] < 16:
        raise DataFormatError(f"image too small for pose detection: {image_rgb.shape}")
    return np.ascontiguousarray(image_rgb)


def _to_result(raw, image_size: tuple[int, int], t_s: float | None) -> PoseResult | None:
    if not raw.pose_landmarks:
        return None
    lm = np.array(
        [(p.x, p.y, p.z, p.visibility or 0.0) for p in raw.pose_landmarks[0]], dtype=np.float64
    )
    wl = np.array([(p.x, p.y, p.z) for p in raw.pose_world_landmarks[0]], dtype=np.float64)
    return PoseResult(lm, wl, image_size, t_s)


class PoseEngine:
    """A MediaPipe ``PoseLandmarker`` in one running mode; close it (context manager).

    Parameters
    ----------
    mode:
        ``"image"`` (independent stills), ``"video"`` (frames with increasing timestamps,
        uses tracking: fastest) or ``"live_stream"`` (asynchronous; results to ``callback``).
    model_path:
        A pose ``.task`` file; default: ``WORKBENCH_POSE_MODEL`` or the shipped full model.
    min_detection_confidence, min_presence_confidence, min_tracking_confidence:
        MediaPipe thresholds (0..1).
    callback:
        LIVE_STREAM only: called as ``callback(result_or_None, t_s)`` from MediaPipe's thread.
    """

    def __init__(
        self,
        mode: Mode = "video",
        *,
        model_path: str | os.PathLike[str] | None = None,
        min_detection_confidence: float = 0.5,
        min_presence_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        callback: Callable[[PoseResult | None, float], None] | None = None,
    ) -> None:
        from mediapipe.tasks.python import BaseOptions, vision

        if mode not in ("image", "video", "live_stream"):
            raise ValueError(f"mode must be 'image', 'video' or 'live_stream', not {mode!r}")
        if mode == "live_stream" and callback is None:
            raise ValueError("live_stream mode needs a callback(result, t_s)")
        self.mode: Mode = mode
        self.model_path = pose_model_path(model_path)
        self._callback = callback
        self._last_ms = -1
        self._sizes: dict[int, tuple[int, int]] = {}
        running = {
            "image": vision.RunningMode.IMAGE,
            "video": vision.RunningMode.VIDEO,
            "live_stream": vision.RunningMode.LIVE_STREAM,
        }[mode]
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self.model_path)),
            running_mode=running,
            num_poses=1,
            min_pose_detection_confidence=min_detection_confidence,
            min_pose_presence_confidence=min_presence_confidence,
            min_tracking_confidence=min_tracking_confidence,
            result_callback=self._on_live if mode == "live_stream" else None,
        )
        self._landmarker = vision.PoseLandmarker.create_from_options(options)
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        """Release the landmarker (idempotent)."""
        if not self._closed:
            self._closed = True
            self._landmarker.close()

    def __enter__(self) -> PoseEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _image(self, image_rgb: np.ndarray):
        import mediapipe as mp

        if self._closed:
            raise RuntimeError("PoseEngine is closed")
        image_rgb = check_image(image_rgb)
        return mp.Image(image_format=mp.ImageFormat.SRGB, data=image_rgb), (
            image_rgb.shape[1],
            image_rgb.shape[0],
        )

    def _timestamp_ms(self, t_s: float) -> int:
        if not np.isfinite(t_s):
            raise DataFormatError(f"frame timestamp must be finite, got {t_s}")
        t_ms = int(round(t_s * 1000.0))
        if t_ms <= self._last_ms:
            raise DataFormatError(
                f"frame timestamps must increase (got {t_s:.3f} s after {self._last_ms / 1000:.3f} s)"
            )
        self._last_ms = t_ms
        return t_ms

    # -- modes -------------------------------------------------------------------------------
    def detect(self, image_rgb: np.ndarray) -> PoseResult | None:
        """IMAGE mode: pose of one still image, ``None`` when no person is found."""
        if self.mode != "image":
            raise RuntimeError(f"detect() needs mode='image' (engine is {self.mode!r})")
        image, size = self._image(image_rgb)
        return _to_result(self._landmarker.detect(image), size, None)

    def detect_video(self, image_rgb: np.ndarray, t_s: float) -> PoseResult | None:
        """VIDEO mode: pose of a frame at ``t_s`` seconds (strictly increasing)."""
        if self.mode != "video":
            raise RuntimeError(f"detect_video() needs mode='video' (engine is {self.mode!r})")
        image, size = self._image(image_rgb)
        raw = self._landmarker.detect_for_video(image, self._timestamp_ms(t_s))
        return _to_result(raw, size, t_s)

    def detect_async(self, image_rgb: np.ndarray, t_s: float) -> None:
        """LIVE_STREAM mode: submit a frame; the result arrives at the callback."""
        if self.mode != "live_stream":
            raise RuntimeError(f"detect_async() needs mode='live_stream' (engine is {self.mode!r})")
        image, size = self._image(image_rgb)
        t_ms = self._timestamp_ms(t_s)
        self._sizes[t_ms] = size
        self._landmarker.detect_async(image, t_ms)

    def _on_live(self, raw, _image, t_ms: int) -> None:
        size = self._sizes.pop(t_ms, (0, 0))
        for stale in [k for k in self._sizes if k < t_ms]:  # frames MediaPipe dropped
            del self._sizes[stale]
        result = _to_result(raw, size, t_ms / 1000.0)
        try:
            assert self._callback is not None
            self._callback(result, t_ms / 1000.0)
        except Exception:  # a failing callback must not kill MediaPipe's thread
            log.exception("pose live-stream callback failed")


_shared: PoseEngine | None = None
_shared_lock = threading.Lock()


def _close_shared() -> None:
    global _shared
    if _shared is not None:
        _shared.close()
        _shared = None


def _register_exit(fn: Callable[[], None]) -> None:
    """Run ``fn`` at exit *before* thread pools shut down (MediaPipe's close needs its pool)."""
    register = getattr(threading, "_register_atexit", None)
    if register is not None:
        register(fn)
    else:  # pragma: no cover - other interpreters
        atexit.register(fn)


def detect_pose(image_rgb: np.ndarray) -> PoseResult | None:
    """Pose of one RGB image (uint8 H×W×3) with a cached IMAGE-mode engine.

    Returns
    -------
    PoseResult or None
        ``None`` when no person is found; else ``landmarks`` (33×4) and ``world_landmarks``
        (33×3, metres).
    """
    global _shared
    image_rgb = check_image(image_rgb)
    with _shared_lock:
        if _shared is None:
            _shared = PoseEngine("image")
            _register_exit(_close_shared)
        return _shared.detect(image_rgb)
