"""Joint angles for the mobility screens, each with a quality flag.

Angles are computed from the **world landmarks** (metres) projected onto the athlete's
anatomical planes, so they do not depend on where the camera stands as long as the depth
estimate is good. The camera is assumed level (gravity along the world ``+y`` axis).

Body frame
    ``up``      = −y (against gravity);
    ``lateral`` = left hip − right hip, made horizontal (points to the athlete's left);
    ``forward`` = lateral × up (anterior; horizontal).
    Sagittal plane ⊥ lateral, frontal plane ⊥ forward, transverse plane ⊥ up.
    The frame uses the pelvis and gravity only, so it also holds lying down (Thomas test,
    hamstring 90/90: the sagittal plane stays vertical).

Definitions (per side ``left_``/``right_``; ``trunk_lean`` has no side)

=========================  =========================  ==========  ==================================  ===========
angle                      landmarks                  plane       0° reference (positive direction)   best view
=========================  =========================  ==========  ==================================  ===========
hip_flexion                shoulder, hip, knee        sagittal    thigh in line with trunk (thigh     lateral
                                                                  forward of trunk)
hip_extension              shoulder, hip, knee        sagittal    = −hip_flexion (thigh behind trunk  lateral
                                                                  line; Thomas test: below table)
knee_flexion               hip, knee, ankle           sagittal    straight knee (shank behind thigh)  lateral
knee_extension_90_90       hip, knee, ankle           sagittal    knee angle: 180 straight (90 start) lateral
ankle_dorsiflexion         knee, ankle                sagittal    vertical tibia (knee forward of     lateral
                                                                  ankle; knee-to-wall lunge, squat)
shoulder_flexion           hip, shoulder, elbow       sagittal    arm along trunk (arm forward/up;    lateral
                                                                  180 = overhead)
trunk_lean                 mid-hip, mid-shoulder      sagittal    vertical trunk (leaning forward)    lateral
knee_valgus                hip, knee, ankle           frontal     hip-knee-ankle in line (knee        frontal
                                                                  medial of the line)
hip_internal_rotation      knee, ankle (seated)       frontal     vertical shank, knee at 90° (foot   frontal
                                                                  moving outward = internal rot.)
thoracic_rotation          shoulders vs hips          transverse  shoulder line ∥ hip line (trunk     frontal
                                                                  turned towards that side)
=========================  =========================  ==========  ==================================  ===========

Quality (``good`` / ``fair`` / ``poor``) is the worst of
    visibility: the lowest visibility of the landmarks used (≥ 0.8 good, ≥ 0.5 fair);
    in-plane: each segment's length projected on the plane over its length (≥ 0.7 good,
    ≥ 0.5 fair; a thigh pointing at the camera has no frontal-plane angle);
    view: how far the camera is from the best view for the plane, from the athlete's
    heading in world landmarks (``view_deg``: 0 = facing the camera, ±90 = side on,
    180 = back to the camera): ≤ 20° off good, ≤ 35° fair, else poor. Transverse-plane
    angles are at best ``fair`` (rotation happens in depth for any single camera).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from workbench.errors import DataFormatError

from .pose import LANDMARK, PoseResult

Quality = Literal["good", "fair", "poor"]
Plane = Literal["sagittal", "frontal", "transverse"]
QUALITY_RANK: dict[str, int] = {"good": 2, "fair": 1, "poor": 0}

VISIBILITY_GOOD = 0.8
VISIBILITY_FAIR = 0.5
VIEW_GOOD_DEG = 20.0
VIEW_FAIR_DEG = 35.0
IN_PLANE_GOOD = 0.7
IN_PLANE_FAIR = 0.5

_UP = np.array([0.0, -1.0, 0.0])

#: angle name (without side) -> (plane, landmark names with ``{s}`` for the side)
ANGLE_DEFINITIONS: dict[str, tuple[Plane, tuple[str, ...]]] = {
    "hip_flexion": ("sagittal", ("{s}_shoulder", "{s}_hip", "{s}_knee")),
    "hip_extension": ("sagittal", ("{s}_shoulder", "{s}_hip", "{s}_knee")),
    "knee_flexion": ("sagittal", ("{s}_hip", "{s}_knee", "{s}_ankle")),
    "knee_extension_90_90": ("sagittal", ("{s}_hip", "{s}_knee", "{s}_ankle")),
    "ankle_dorsiflexion": ("sagittal", ("{s}_knee", "{s}_ankle")),
    "shoulder_flexion": ("sagittal", ("{s}_hip", "{s}_shoulder", "{s}_elbow")),
    "knee_valgus": ("frontal", ("{s}_hip", "{s}_knee", "{s}_ankle")),
    "hip_internal_rotation": ("frontal", ("{s}_knee", "{s}_ankle")),
    "thoracic_rotation": (
        "transverse",
        ("left_shoulder", "right_shoulder", "left_hip", "right_hip"),
    ),
}
TRUNK_LEAN: tuple[Plane, tuple[str, ...]] = (
    "sagittal",
    ("left_shoulder", "right_shoulder", "left_hip", "right_hip"),
)
SIDES = ("left", "right")


@dataclass(frozen=True)
class AngleReading:
    """One angle with its quality.

    Attributes
    ----------
    name: e.g. ``"left_hip_flexion"``.
    angle_deg: the angle, degrees (definitions in the module docstring).
    plane: anatomical plane of the motion.
    quality: ``"good"``, ``"fair"`` or ``"poor"``.
    visibility: lowest visibility (0..1) of the landmarks used.
    view_deg: athlete's heading relative to the camera (0 facing it, ±90 side on).
    view_error_deg: distance of the camera from the best view for the plane, degrees.
    """

    name: str
    angle_deg: float
    plane: Plane
    quality: Quality
    visibility: float
    view_deg: float
    view_error_deg: float


@dataclass(frozen=True)
class BodyFrame:
    """Orthonormal anatomical axes in world coordinates (see module docstring)."""

    up: np.ndarray
    lateral: np.ndarray
    forward: np.ndarray

    @property
    def view_deg(self) -> float:
        """Heading of the athlete relative to the camera: 0 facing, ±90 side on, 180 back."""
        # The camera looks along +z: "towards the camera" is -z.
        return float(np.degrees(np.arctan2(-self.forward[0], -self.forward[2])))


def body_frame(world: np.ndarray) -> BodyFrame:
    """Anatomical frame from world landmarks (33×3, metres).

    Raises
    ------
    DataFormatError
        Hips and shoulders coincide in the horizontal plane (degenerate skeleton).
    """
    lateral = world[LANDMARK["left_hip"]] - world[LANDMARK["right_hip"]]
    lateral = lateral - (lateral @ _UP) * _UP
    if np.linalg.norm(lateral) < 1e-6:
        lateral = world[LANDMARK["left_shoulder"]] - world[LANDMARK["right_shoulder"]]
        lateral = lateral - (lateral @ _UP) * _UP
    norm = float(np.linalg.norm(lateral))
    if norm < 1e-6:
        raise DataFormatError("degenerate skeleton: hips and shoulders have no lateral extent")
    lateral = lateral / norm
    forward = np.cross(lateral, _UP)
    return BodyFrame(_UP.copy(), lateral, forward)


def _wrap(angle_deg: float, low: float = -90.0) -> float:
    """Wrap into ``[low, low + 360)``."""
    return float((angle_deg - low) % 360.0 + low)


def _sagittal_from_down(v: np.ndarray, frame: BodyFrame) -> float:
    """Angle of ``v`` in the sagittal plane from straight down, positive forward, degrees."""
    return float(np.degrees(np.arctan2(v @ frame.forward, -(v @ frame.up))))


def _frontal_from_down(v: np.ndarray, frame: BodyFrame, towards: np.ndarray) -> float:
    """Angle of ``v`` in the frontal plane from straight down, positive towards ``towards``."""
    return float(np.degrees(np.arctan2(v @ towards, -(v @ frame.up))))


def _raw_angles(world: np.ndarray, frame: BodyFrame) -> dict[str, float]:
    p = {name: world[i] for name, i in LANDMARK.items()}
    out: dict[str, float] = {}
    mid_hip = (p["left_hip"] + p["right_hip"]) / 2
    mid_sh = (p["left_shoulder"] + p["right_shoulder"]) / 2
    trunk_up = mid_sh - mid_hip
    out["trunk_lean"] = float(np.degrees(np.arctan2(trunk_up @ frame.forward, trunk_up @ frame.up)))
    sh_line = p["left_shoulder"] - p["right_shoulder"]
    rot_left = float(np.degrees(np.arctan2(-(sh_line @ frame.forward), sh_line @ frame.lateral)))
    for side, sign in (("left", 1.0), ("right", -1.0)):
        sh, hip, knee = p[f"{side}_shoulder"], p[f"{side}_hip"], p[f"{side}_knee"]
        ankle, elbow = p[f"{side}_ankle"], p[f"{side}_elbow"]
        thigh, shank = knee - hip, ankle - knee
        th_thigh = _sagittal_from_down(thigh, frame)
        th_shank = _sagittal_from_down(shank, frame)
        th_trunk_down = _sagittal_from_down(hip - sh, frame)
        hip_flex = _wrap(th_thigh - th_trunk_down)
        knee_flex = _wrap(th_thigh - th_shank)
        out[f"{side}_hip_flexion"] = hip_flex
        out[f"{side}_hip_extension"] = -_wrap(th_thigh - th_trunk_down, -180.0)
        out[f"{side}_knee_flexion"] = knee_flex
        out[f"{side}_knee_extension_90_90"] = 180.0 - knee_flex
        tibia = knee - ankle
        out[f"{side}_ankle_dorsiflexion"] = float(
            np.degrees(np.arctan2(tibia @ frame.forward, tibia @ frame.up))
        )
        arm = elbow - sh
        out[f"{side}_shoulder_flexion"] = _wrap(
            _sagittal_from_down(arm, frame) - _sagittal_from_down(hip - sh, frame)
        )
        medial = -sign * frame.lateral
        out[f"{side}_knee_valgus"] = _frontal_from_down(thigh, frame, medial) - _frontal_from_down(
            shank, frame, medial
        )
        out[f"{side}_hip_internal_rotation"] = _frontal_from_down(shank, frame, -medial)
        out[f"{side}_thoracic_rotation"] = rot_left if side == "left" else -rot_left
    return out


def _view_error(plane: Plane, view_deg: float) -> float:
    folded = abs(view_deg)
    folded = min(folded, 180.0 - folded)  # 0 = frontal (or back), 90 = side on
    return 90.0 - folded if plane == "sagittal" else folded


def _quality(visibility: float, view_error_deg: float, plane: Plane, in_plane: float) -> Quality:
    vis = 2 if visibility >= VISIBILITY_GOOD else 1 if visibility >= VISIBILITY_FAIR else 0
    view = 2 if view_error_deg <= VIEW_GOOD_DEG else 1 if view_error_deg <= VIEW_FAIR_DEG else 0
    if plane == "transverse":
        view = min(view, 1)
    planar = 2 if in_plane >= IN_PLANE_GOOD else 1 if in_plane >= IN_PLANE_FAIR else 0
    return ("poor", "fair", "good")[min(vis, view, planar)]  # type: ignore[return-value]


def _in_plane(world: np.ndarray, names: list[str], plane: Plane, frame: BodyFrame) -> float:
    """Smallest ratio projected/true length of the consecutive segments of ``names``."""
    normal = {"sagittal": frame.lateral, "frontal": frame.forward, "transverse": frame.up}[plane]
    pts = [world[LANDMARK[n]] for n in names]
    if plane == "transverse":  # shoulder line and hip line
        segs = [pts[0] - pts[1], pts[2] - pts[3]] if len(pts) == 4 else [pts[1] - pts[0]]
    else:
        segs = [b - a for a, b in zip(pts[:-1], pts[1:], strict=True)]
    ratios = []
    for seg in segs:
        length = float(np.linalg.norm(seg))
        if length < 1e-9:
            return 0.0
        ratios.append(float(np.linalg.norm(seg - (seg @ normal) * normal)) / length)
    return min(ratios)


def measure_angles(result: PoseResult) -> dict[str, AngleReading]:
    """All defined angles of one pose, with quality.

    Parameters
    ----------
    result:
        A :class:`~workbench.mobility.pose.PoseResult` (possibly smoothed).

    Returns
    -------
    dict
        ``name -> AngleReading``; names ``{left,right}_{hip_flexion, hip_extension,
        knee_flexion, knee_extension_90_90, ankle_dorsiflexion, shoulder_flexion,
        knee_valgus, hip_internal_rotation, thoracic_rotation}`` and ``trunk_lean``.
    """
    world = np.asarray(result.world_landmarks, dtype=np.float64)
    if world.shape != (33, 3) or not np.all(np.isfinite(world)):
        raise DataFormatError(f"world landmarks must be finite 33×3, got {world.shape}")
    frame = body_frame(world)
    view = frame.view_deg
    vis = np.asarray(result.landmarks, dtype=np.float64)[:, 3]
    raw = _raw_angles(world, frame)
    readings: dict[str, AngleReading] = {}
    for name, value in raw.items():
        if name == "trunk_lean":
            plane, lms = TRUNK_LEAN
            side = ""
        else:
            side, base = name.split("_", 1)
            plane, lms = ANGLE_DEFINITIONS[base]
        names = [lm.format(s=side) for lm in lms]
        v = float(min(vis[LANDMARK[n]] for n in names))
        err = _view_error(plane, view)
        planar = _in_plane(world, names, plane, frame)
        quality = _quality(v, err, plane, planar)
        readings[name] = AngleReading(name, value, plane, quality, v, view, err)
    return readings


def joint_angles(result: PoseResult) -> dict[str, float]:
    """Angle name → degrees for one pose (definitions in the module docstring)."""
    return {name: r.angle_deg for name, r in measure_angles(result).items()}


def worst_quality(qualities: Sequence[str]) -> Quality:
    """The worst of several quality flags (``poor`` for an empty sequence)."""
    if not qualities:
        return "poor"
    return min(qualities, key=lambda q: QUALITY_RANK[q])  # type: ignore[return-value]


def held_end_range(
    t_s: np.ndarray, angle_deg: np.ndarray, *, hold_s: float = 0.5
) -> tuple[float, float]:
    """Largest angle held for at least ``hold_s`` seconds (end range of a held position).

    For every start time, the minimum over the following ``hold_s`` seconds is the angle
    that was held throughout; the end range is the maximum of those minima. This ignores
    single-frame spikes. NaN samples (no person) break a hold.

    Parameters
    ----------
    t_s:
        Sample times, seconds, increasing.
    angle_deg:
        Angle at those times, degrees.
    hold_s:
        Minimum hold duration, seconds.

    Returns
    -------
    (angle_deg, start_t_s)
        ``(nan, nan)`` when no window of ``hold_s`` seconds exists.
    """
    t = np.asarray(t_s, dtype=np.float64)
    a = np.asarray(angle_deg, dtype=np.float64)
    if t.shape != a.shape or t.ndim != 1:
        raise DataFormatError(
            f"t_s and angle_deg must be 1-D of equal length: {t.shape}, {a.shape}"
        )
    if t.size and np.any(np.diff(t) <= 0):
        raise DataFormatError("t_s must be strictly increasing")
    best, best_t = float("nan"), float("nan")
    ends = np.searchsorted(t, t + hold_s - 1e-9, side="left")
    for i, j in enumerate(ends):
        if j >= t.size:
            break
        window = a[i : j + 1]
        if np.isnan(window).any():
            continue
        m = float(window.min())
        if not (m <= best):  # also true while best is nan
            best, best_t = m, float(t[i])
    return best, best_t
