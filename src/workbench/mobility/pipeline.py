"""The frame pipeline: decode → pose (VIDEO mode) → one-euro smoothing → angles.

Inputs are video files, still images, raw RGB frames or JPEG bytes (from the browser
camera). :class:`PosePipeline` owns a :class:`~workbench.mobility.pose.PoseEngine`: close it
(``with PosePipeline() as pipe:``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import DataFormatError

from .angles import AngleReading, measure_angles, with_jitter
from .pose import PoseEngine, PoseResult
from .smoothing import LandmarkSmoother
from .views import ViewEstimate, estimate_view

#: Seconds of history used for the per-angle jitter estimate.
JITTER_WINDOW_S = 0.5


@dataclass(frozen=True)
class FrameAnalysis:
    """One analysed frame: raw and smoothed pose, the view, and the angles of the smoothed pose."""

    t_s: float
    raw: PoseResult
    smoothed: PoseResult
    angles: dict[str, AngleReading]
    view: ViewEstimate | None = None

    def values(self) -> dict[str, float | None]:
        """``name -> degrees`` (``None`` where not measurable)."""
        return {k: r.angle_deg for k, r in self.angles.items()}


def load_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a still image file as RGB uint8 (H×W×3)."""
    import cv2

    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise DataFormatError("cannot read image (missing file or unknown format)", path=path)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def decode_jpeg(data: bytes) -> np.ndarray:
    """Decode JPEG (or PNG) bytes to RGB uint8."""
    import cv2

    bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise DataFormatError(f"cannot decode a {len(data)}-byte image (expected JPEG/PNG)")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def iter_video(
    path: str | os.PathLike[str], *, max_frames: int | None = None
) -> Iterator[tuple[float, np.ndarray]]:
    """Yield ``(t_s, rgb)`` for each frame of a video file (time from the frame index and fps)."""
    import cv2

    if not Path(path).is_file():
        raise DataFormatError("video file not found", path=path)
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise DataFormatError("cannot open video (unknown codec or format)", path=path)
        fps = cap.get(cv2.CAP_PROP_FPS)
        if not fps or not np.isfinite(fps) or fps <= 0:
            raise DataFormatError(f"video reports no frame rate ({fps})", path=path)
        i = 0
        while max_frames is None or i < max_frames:
            ok, bgr = cap.read()
            if not ok:
                break
            yield i / fps, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            i += 1
        if i == 0:
            raise DataFormatError("video has no decodable frame", path=path)
    finally:
        cap.release()


class PosePipeline:
    """Pose + smoothing + angles over a stream of frames with increasing timestamps.

    Parameters
    ----------
    model_path:
        Pose ``.task`` file (default: the shipped model or ``WORKBENCH_POSE_MODEL``).
    min_cutoff_hz, beta:
        One-euro parameters (see :mod:`workbench.mobility.smoothing`).
    """

    def __init__(
        self,
        *,
        model_path: str | os.PathLike[str] | None = None,
        min_cutoff_hz: float = 1.0,
        beta: float = 10.0,
    ) -> None:
        self.engine = PoseEngine("video", model_path=model_path)
        self.smoother = LandmarkSmoother(min_cutoff_hz=min_cutoff_hz, beta=beta)
        self._history: list[tuple[float, np.ndarray]] = []

    def close(self) -> None:
        """Release the pose engine."""
        self.engine.close()

    def __enter__(self) -> PosePipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def process(self, image_rgb: np.ndarray, t_s: float) -> FrameAnalysis | None:
        """Analyse one frame; ``None`` (and the smoother reset) when no person is found."""
        raw = self.engine.detect_video(image_rgb, t_s)
        if raw is None:
            self.smoother.reset()
            self._history.clear()
            return None
        smoothed = self.smoother(raw, t_s)
        return self.analyse(raw, smoothed, t_s)

    def analyse(self, raw: PoseResult, smoothed: PoseResult, t_s: float) -> FrameAnalysis:
        """Angles of a smoothed pose, with jitter estimated from the recent frames."""
        view = estimate_view(smoothed)
        first = measure_angles(smoothed, view=view)
        names = list(first)
        now = np.array([first[k].raw_deg for k in names], dtype=np.float64)
        self._history = [(t, a) for t, a in self._history if t >= t_s - JITTER_WINDOW_S]
        self._history.append((t_s, now))
        jitter: dict[str, float] = {}
        if len(self._history) >= 3:
            h = np.stack([a for _, a in self._history])
            d2 = np.diff(h, n=2, axis=0) ** 2
            ok = np.isfinite(d2)
            n = ok.sum(axis=0)
            ms = np.where(n > 0, np.where(ok, d2, 0.0).sum(axis=0) / np.maximum(n, 1), 0.0)
            jitter = dict(zip(names, np.sqrt(ms / 6.0).tolist(), strict=True))
        angles = with_jitter(first, jitter)
        return FrameAnalysis(t_s, raw, smoothed, angles, view)

    def process_jpeg(self, data: bytes, t_s: float) -> FrameAnalysis | None:
        """Analyse one JPEG-encoded frame (e.g. from the browser camera)."""
        return self.process(decode_jpeg(data), t_s)


def analyse_video(
    path: str | os.PathLike[str],
    *,
    max_frames: int | None = None,
    model_path: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Angles of every frame of a video.

    Returns
    -------
    DataFrame
        One row per frame: ``t_s``, ``detected`` (bool), and for every angle name ``<name>``
        (degrees, NaN when not measurable), ``<name>_quality`` (good/fair/poor/none),
        ``<name>_uncertainty_deg`` and ``<name>_reason`` (empty when measured), plus
        ``view`` (kind) and ``lateral_error_deg`` / ``frontal_error_deg``.
    """
    rows: list[dict[str, object]] = []
    with PosePipeline(model_path=model_path) as pipe:
        for t_s, rgb in iter_video(path, max_frames=max_frames):
            fa = pipe.process(rgb, t_s)
            row: dict[str, object] = {"t_s": t_s, "detected": fa is not None}
            if fa is not None:
                for name, r in fa.angles.items():
                    row[name] = np.nan if r.angle_deg is None else r.angle_deg
                    row[f"{name}_quality"] = r.quality
                    row[f"{name}_uncertainty_deg"] = r.uncertainty_deg
                    row[f"{name}_reason"] = r.reason or ""
                if fa.view is not None:
                    row["view"] = fa.view.kind
                    row["lateral_error_deg"] = fa.view.lateral_error_deg
                    row["frontal_error_deg"] = fa.view.frontal_error_deg
            rows.append(row)
    df = pd.DataFrame(rows)
    for col in df.columns:
        if col.endswith("_quality"):
            df[col] = df[col].fillna("none")
    return df
