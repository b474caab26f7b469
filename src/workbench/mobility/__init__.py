"""Mobility screening: pose inference (MediaPipe Tasks), smoothing, joint angles, guided
screens, interpretation (ranges, norms, symmetry, priorities, protocols, progress).

Public API: :func:`detect_pose` (image → :class:`PoseResult`), :func:`joint_angles`
(pose → ``name -> degrees or None``) and its companion :func:`angle_reasons` (why a value is
``None``). Nothing heavy happens at import: the pose model loads on first use.
"""

from .angles import (
    REASONS,
    AngleReading,
    angle_reasons,
    held_end_range,
    joint_angles,
    measure_angles,
)
from .holds import EndRange, end_range
from .interpret import (
    OPTIMAL_RANGES,
    classify_limitation,
    lsi_pct,
    mobility_age,
    priorities,
    progress,
    protocol,
    results_table,
)
from .pipeline import FrameAnalysis, PosePipeline, analyse_video, iter_video, load_image
from .pose import LANDMARK_NAMES, SKELETON, PoseEngine, PoseResult, detect_pose
from .screening import SCREENS, ScreeningSession, screen_video
from .smoothing import LandmarkSmoother, OneEuroFilter
from .views import ViewCheck, ViewEstimate, check_view, estimate_view

__all__ = [
    "LANDMARK_NAMES",
    "OPTIMAL_RANGES",
    "SCREENS",
    "SKELETON",
    "REASONS",
    "AngleReading",
    "EndRange",
    "ViewCheck",
    "ViewEstimate",
    "angle_reasons",
    "check_view",
    "end_range",
    "estimate_view",
    "FrameAnalysis",
    "LandmarkSmoother",
    "OneEuroFilter",
    "PoseEngine",
    "PosePipeline",
    "PoseResult",
    "ScreeningSession",
    "analyse_video",
    "classify_limitation",
    "detect_pose",
    "held_end_range",
    "iter_video",
    "joint_angles",
    "load_image",
    "lsi_pct",
    "measure_angles",
    "mobility_age",
    "priorities",
    "progress",
    "protocol",
    "results_table",
    "screen_video",
]
