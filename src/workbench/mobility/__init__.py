"""Mobility screening: pose inference (MediaPipe Tasks), smoothing, joint angles, guided
screens, interpretation (ranges, norms, symmetry, priorities, protocols, progress).

Nothing heavy happens at import: the pose model loads on first use.
"""

from .angles import AngleReading, held_end_range, joint_angles, measure_angles
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

__all__ = [
    "LANDMARK_NAMES",
    "OPTIMAL_RANGES",
    "SCREENS",
    "SKELETON",
    "AngleReading",
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
