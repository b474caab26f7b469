"""Camera view check: which way the athlete stands relative to the camera, from landmarks.

2D video goniometry is only valid when the camera looks perpendicular to the plane of the
movement: side on (``lateral``) for sagittal angles, face on (``frontal``) for frontal-plane
angles. This module classifies the current view from one pose and says how to fix it.

How the view is estimated
    *Lateral deviation* comes from the image: seen exactly side on, the shoulder and hip
    widths shrink to zero. ``width_ratio = (shoulder width + hip width) / torso length``
    (pixels) is ≈ :data:`FRONTAL_WIDTH_RATIO` face on (measured on the frontal real fixtures
    of ``tests/data/pose``: 1.15–1.2; the synthetic body: 1.12) and ≈ 0 side on, so
    ``lateral_error_deg = asin(width_ratio / FRONTAL_WIDTH_RATIO)``. This is sensitive where
    it matters (sin is steep near 0°) and needs no depth. A narrow image alone is not
    enough: the world heading must also be at least :data:`LATERAL_MIN_WORLD_DEG` from face
    on (a twisted or side-bent trunk also looks narrow).
    *Frontal deviation* cannot come from widths alone (cos is flat near 0°, and body widths
    differ ±10 % between people), so it is the larger of the heading of MediaPipe's world
    landmarks (the hip line's direction in depth) and the hip-width-based estimate with a
    generous reference (80 % of :data:`FRONTAL_HIP_RATIO`). Only the pelvis is used: the
    shoulders turn in the thoracic rotation screen.
    *Facing direction* (which image side the athlete faces in a lateral view) comes from the
    nose in front of the ears and the toes in front of the heels. Facing image-right means
    the athlete's right side is nearest the camera.
    *Front or back*: face on, the athlete's left shoulder appears on the image right.

Framing: every landmark a screen needs must lie inside the image with a margin, else the
prompt says which body part is out of frame ("step back: ankles out of frame").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .pose import LANDMARK, PoseResult

View = Literal["lateral", "frontal"]
Side = Literal["left", "right"]

#: (shoulder + hip width) / torso length seen face on (real frontal fixtures ≈ 1.15–1.2).
FRONTAL_WIDTH_RATIO = 1.15
#: hip width / torso length seen face on (real frontal fixtures 0.35–0.44; synthetic 0.4).
FRONTAL_HIP_RATIO = 0.4
#: Camera within this many degrees of the ideal view: planar angles are measured.
VIEW_TOLERANCE_DEG = 20.0
#: A lateral view also needs the world heading at least this far from face on, degrees.
LATERAL_MIN_WORLD_DEG = 45.0
#: Landmarks closer than this to the image border (fraction of width/height) are "out of frame".
FRAME_MARGIN = 0.01

_PARTS = {
    "ankle": "ankles",
    "heel": "feet",
    "foot_index": "feet",
    "knee": "knees",
    "hip": "hips",
    "shoulder": "shoulders",
    "elbow": "elbows",
    "wrist": "hands",
    "nose": "head",
}


@dataclass(frozen=True)
class ViewEstimate:
    """Where the camera is relative to the athlete (one frame).

    Attributes
    ----------
    kind: ``"frontal"``, ``"back"``, ``"lateral"`` or ``"oblique"``.
    near_side: side nearest the camera in a lateral/oblique view (``None`` face on).
    facing: ``+1`` right side nearest the camera (standing: faces image right), ``-1`` left
        side nearest (faces image left), ``0`` unknown.
    lateral_error_deg: degrees away from exactly side on (0 = perfect lateral view).
    frontal_error_deg: degrees away from exactly face on (0 = perfect frontal view).
    width_ratio: (shoulder + hip width) / torso length in the image.
    world_heading_deg: heading from world landmarks (0 facing the camera, ±90 side on).
    """

    kind: str
    near_side: Side | None
    facing: int
    lateral_error_deg: float
    frontal_error_deg: float
    width_ratio: float
    world_heading_deg: float


@dataclass(frozen=True)
class ViewCheck:
    """Verdict for one screen: ``ok`` and, when not, the prompt that fixes it."""

    ok: bool
    message: str
    reason: str | None
    error_deg: float
    estimate: ViewEstimate | None


def pixels(result: PoseResult) -> np.ndarray:
    """(33, 2) image landmarks in pixels (x right, y down)."""
    w, h = result.image_size
    scale = np.array([max(w, 1), max(h, 1)], dtype=np.float64)
    return np.asarray(result.landmarks[:, :2], dtype=np.float64) * scale


def _world_heading(world: np.ndarray) -> float:
    lateral = world[LANDMARK["left_hip"]] - world[LANDMARK["right_hip"]]  # pelvis: not the
    lateral[1] = 0.0  # shoulders, which turn in the thoracic rotation screen
    if np.linalg.norm(lateral) < 1e-9:
        return float("nan")
    up = np.array([0.0, -1.0, 0.0])
    forward = np.cross(lateral / np.linalg.norm(lateral), up)
    return float(np.degrees(np.arctan2(-forward[0], -forward[2])))


def _facing(p: np.ndarray, vis: np.ndarray) -> int:
    """+1 when the athlete's anterior side points clockwise of the trunk axis in the image.

    That is "faces image right" standing, and in any lying or bent posture it means the
    right side is nearest the camera (−1: the left side). Votes: nose in front of the ears,
    toes in front of the heels, each as the sign of ``cross(trunk_up, anterior)``.
    """
    mid_sh = (p[LANDMARK["left_shoulder"]] + p[LANDMARK["right_shoulder"]]) / 2
    mid_hip = (p[LANDMARK["left_hip"]] + p[LANDMARK["right_hip"]]) / 2
    trunk = mid_sh - mid_hip
    if np.linalg.norm(trunk) < 1e-9:
        trunk = np.array([0.0, -1.0])

    def vote(v: np.ndarray) -> float:
        n = float(np.linalg.norm(v))
        if n < 1e-9:
            return 0.0
        return float(np.sign(trunk[0] * v[1] - trunk[1] * v[0]))

    votes = 0.0
    ears = [LANDMARK["left_ear"], LANDMARK["right_ear"]]
    if vis[LANDMARK["nose"]] > 0.3:
        votes += 2.0 * vote(p[LANDMARK["nose"]] - p[ears].mean(axis=0))
    for side in ("left", "right"):
        toe, heel = LANDMARK[f"{side}_foot_index"], LANDMARK[f"{side}_heel"]
        if min(vis[toe], vis[heel]) > 0.3:
            votes += vote(p[toe] - p[heel])
    return int(np.sign(votes))


def estimate_view(result: PoseResult) -> ViewEstimate:
    """Classify the camera view of one pose (see the module docstring)."""
    p = pixels(result)
    vis = np.asarray(result.landmarks[:, 3], dtype=np.float64)
    ls, rs = p[LANDMARK["left_shoulder"]], p[LANDMARK["right_shoulder"]]
    lh, rh = p[LANDMARK["left_hip"]], p[LANDMARK["right_hip"]]
    torso = float(np.linalg.norm((ls + rs) / 2 - (lh + rh) / 2))
    widths = float(np.linalg.norm(ls - rs) + np.linalg.norm(lh - rh))
    ratio = widths / torso if torso > 1e-6 else float("inf")
    lateral_err = float(np.degrees(np.arcsin(min(1.0, ratio / FRONTAL_WIDTH_RATIO))))
    heading = _world_heading(np.asarray(result.world_landmarks, dtype=np.float64))
    folded = abs(heading) if np.isfinite(heading) else 90.0
    folded = min(folded, 180.0 - folded)  # 0 face on or back, 90 side on
    hip_ratio = float(np.linalg.norm(lh - rh)) / torso if torso > 1e-6 else float("inf")
    width_frontal = float(np.degrees(np.arccos(min(1.0, hip_ratio / (0.8 * FRONTAL_HIP_RATIO)))))
    frontal_err = max(folded, width_frontal)
    facing = _facing(p, vis)
    front = (ls[0] - rs[0]) > 0  # face on: the left shoulder is on the image right
    if lateral_err <= VIEW_TOLERANCE_DEG and folded < LATERAL_MIN_WORLD_DEG:
        # narrow in the image but the world heading says face on: a twisted or side-bent
        # trunk, or merged landmarks; not a side view
        lateral_err = max(lateral_err, LATERAL_MIN_WORLD_DEG - folded + VIEW_TOLERANCE_DEG)
    if lateral_err <= VIEW_TOLERANCE_DEG:
        kind = "lateral"
    elif frontal_err <= VIEW_TOLERANCE_DEG + 5.0:
        kind = "frontal" if front else "back"
    else:
        kind = "oblique"
    near: Side | None = None
    if kind in ("lateral", "oblique"):
        if facing != 0:
            near = "right" if facing > 0 else "left"
        elif np.isfinite(heading):
            near = "left" if heading > 0 else "right"
    return ViewEstimate(kind, near, facing, lateral_err, frontal_err, ratio, heading)


def framing_problem(result: PoseResult, landmark_names: list[str] | tuple[str, ...]) -> str | None:
    """Prompt naming the body parts outside the image (``None`` when all are inside)."""
    xy = np.asarray(result.landmarks[:, :2], dtype=np.float64)
    out: list[str] = []
    for name in landmark_names:
        x, y = xy[LANDMARK[name]]
        if not (FRAME_MARGIN <= x <= 1 - FRAME_MARGIN and FRAME_MARGIN <= y <= 1 - FRAME_MARGIN):
            part = _PARTS.get(name.split("_", 1)[-1], name.replace("_", " "))
            if part not in out:
                out.append(part)
    if not out:
        return None
    return f"Step back or move the camera: {', '.join(out)} out of frame."


def check_view(
    result: PoseResult | None,
    view: View,
    *,
    side: Side | None = None,
    landmarks: list[str] | tuple[str, ...] = (),
    tolerance_deg: float = VIEW_TOLERANCE_DEG,
) -> ViewCheck:
    """Is the camera placed right for a screen? Returns the prompt that fixes it.

    Parameters
    ----------
    result:
        The current pose (``None``: nobody seen).
    view:
        ``"lateral"`` (side on) or ``"frontal"`` (face on, athlete facing the camera).
    side:
        Lateral screens: the tested side, which must be nearest the camera.
    landmarks:
        Landmark names that must be inside the image.
    tolerance_deg:
        Largest accepted deviation from the ideal view, degrees.
    """
    if result is None:
        return ViewCheck(False, "Step into the camera's view.", "not_detected", float("nan"), None)
    est = estimate_view(result)
    framing = framing_problem(result, landmarks)
    if view == "lateral":
        err = est.lateral_error_deg
        if err > tolerance_deg:
            who = f"your {side} side" if side else "one side"
            return ViewCheck(
                False,
                f"Turn so the camera sees {who} (you are {err:.0f}° from side on).",
                "view",
                err,
                est,
            )
        if side is not None and est.near_side is not None and est.near_side != side:
            return ViewCheck(
                False,
                f"Turn around: the camera must see your {side} side, it sees your "
                f"{est.near_side} side.",
                "view",
                err,
                est,
            )
    else:
        err = est.frontal_error_deg
        if err > tolerance_deg or est.kind == "back":
            if est.kind == "back":
                msg = "Turn around to face the camera."
            else:
                msg = f"Face the camera squarely (you are {err:.0f}° turned away)."
            return ViewCheck(False, msg, "view", err, est)
    if framing is not None:
        return ViewCheck(False, framing, "out_of_frame", err, est)
    return ViewCheck(True, "View OK.", None, err, est)
