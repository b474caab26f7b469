"""Joint angles for the mobility screens: planar 2D goniometry, anatomical ranges, uncertainty.

Method
    Angles are measured **in the image plane** (pixels, aspect-corrected), as clinical 2D
    video goniometry does, and only when the camera is perpendicular to the plane of the
    movement (:mod:`workbench.mobility.views`): sagittal angles need a lateral view, frontal
    angles a frontal view. One angle needs depth and uses MediaPipe's *world* landmarks:
    ``thoracic_rotation`` (rotation about the vertical axis cannot be seen in any single
    image plane). Its readings carry ``method="depth"``.

Not measurable
    A value is never reported when it cannot be trusted: ``angle_deg`` is ``None`` and
    ``reason`` says why (:data:`REASONS`): ``not_detected``, ``out_of_frame``, ``occlusion``,
    ``low_visibility``, ``view``, ``position``, ``out_of_range`` (outside
    :data:`~workbench.mobility.reference.ANATOMICAL_RANGES`) or ``jitter``.
    :func:`joint_angles` keeps the public ``name -> degrees`` mapping with ``None`` for those;
    :func:`angle_reasons` is the documented companion call that tells why.

Definitions (side ``left_``/``right_``; ``trunk_lean`` has no side). "Forward" is the way the
athlete faces in the image; "down" is the image's vertical (the camera must be level).

=========================  =====================  =======  ====================================
angle                      landmarks              view     0° and positive direction
=========================  =====================  =======  ====================================
hip_flexion                trunk midline, hip,    lateral  thigh in line with trunk; thigh
                           knee
                                                           forward of the trunk line
hip_extension              hip, knee              lateral  Thomas test: thigh level with the
                                                           table; + thigh below (lying only)
knee_flexion               hip, knee, ankle       lateral  straight knee; − = hyperextension
knee_extension_90_90       hip, knee, ankle       lateral  180 − knee flexion (90/90 test,
                                                           hip held at 90 ± 20°)
ankle_dorsiflexion         knee, ankle            lateral  vertical tibia; knee forward
shoulder_flexion           trunk midline,         lateral  arm along trunk; arm forward/up
                           shoulder, elbow
trunk_lean                 mid-hip, mid-shoulder  lateral  vertical trunk; leaning forward
knee_valgus                hip, knee, ankle       frontal  frontal plane projection angle; knee
                                                           medial of the hip–ankle line
hip_internal_rotation      knee, ankle (seated)   frontal  vertical shank; foot moving outward
hip_external_rotation      knee, ankle (seated)   frontal  vertical shank; foot moving inward
thoracic_rotation          shoulders vs hips      frontal  shoulder line ∥ hip line; trunk
                           (world, depth)                  turned towards that side
=========================  =====================  =======  ====================================

Extension and flexion are separate measurements: a hip in extension has no hip flexion
value (it is below the range), and hip extension is measured against the table in the
Thomas test, not as negated flexion.

Uncertainty (1 SD, degrees) of each reading::

    u = sqrt(SEM² + u_view² + u_vis² + u_jitter²)

``SEM`` from published 2D-video goniometry (:data:`~workbench.mobility.reference.SEM_DEG`);
``u_view`` the planar error that remains after the lateral deprojection (horizontal image
components divided by cos δ, δ the estimated deviation from side on) if δ is off by
:data:`VIEW_ESTIMATE_ERROR_DEG` (a segment at θ from vertical is seen at
atan(tan θ · cos δ)); ``u_vis = 10 × (1 − lowest visibility)``;
``u_jitter`` the frame-to-frame noise of the angle over the last ~0.5 s (from the pipeline),
combined for frontal angles with :data:`CORRECTION_UNCERTAINTY` of the perspective and turn
correction (joints nearer the camera
are magnified; frontal angles undo it with MediaPipe's relative depth and an assumed
:data:`FOCAL_OVER_WIDTH`). A reading whose capture terms exceed
:data:`MAX_CAPTURE_UNCERTAINTY_DEG` is refused (``view``).
``quality`` is ``good`` when the capture terms (all but SEM) add up to ≤ 2°, ``fair`` ≤ 4°,
else ``poor``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from workbench.errors import DataFormatError

from .pose import LANDMARK, PoseResult
from .reference import ANATOMICAL_RANGES, SEM_DEG
from .views import VIEW_TOLERANCE_DEG, ViewEstimate, estimate_view, pixels

Quality = Literal["good", "fair", "poor"]
Plane = Literal["sagittal", "frontal", "transverse"]
Method = Literal["planar", "depth"]
QUALITY_RANK: dict[str, int] = {"good": 2, "fair": 1, "poor": 0}

VISIBILITY_OCCLUDED = 0.3
VISIBILITY_LOW = 0.6
JITTER_MAX_DEG = 5.0
#: Fraction of the frontal perspective/turn correction counted as its uncertainty (the
#: camera's field of view is assumed, MediaPipe's relative depth is approximate: ±25 %).
CORRECTION_UNCERTAINTY = 0.25
#: Seated hip rotation: the thigh (pointing at the camera) must look this much shorter than
#: the shank in the image.
SEATED_THIGH_RATIO = 0.6
#: Largest capture uncertainty (all terms but the SEM) of a reported angle, degrees.
MAX_CAPTURE_UNCERTAINTY_DEG = 6.0
SIDES = ("left", "right")

REASONS: dict[str, str] = {
    "not_detected": "no person detected",
    "out_of_frame": "a landmark it needs is outside the image",
    "occlusion": f"a landmark it needs is hidden (visibility < {VISIBILITY_OCCLUDED})",
    "low_visibility": f"a landmark it needs is barely visible (visibility < {VISIBILITY_LOW})",
    "view": "the camera is not perpendicular to the plane of the movement",
    "position": "the body is not in the test position",
    "out_of_range": "the value lies outside the anatomical range",
    "jitter": f"the angle shakes more than {JITTER_MAX_DEG:.0f}° between frames",
}


@dataclass(frozen=True)
class AngleDef:
    """How one angle is measured: plane, view, method and landmarks (``{s}`` = side)."""

    plane: Plane
    view: Literal["lateral", "frontal"]
    method: Method
    landmarks: tuple[str, ...]


ANGLE_DEFINITIONS: dict[str, AngleDef] = {
    "hip_flexion": AngleDef(
        "sagittal", "lateral", "planar", ("{s}_shoulder", "{s}_hip", "{s}_knee")
    ),
    "hip_extension": AngleDef("sagittal", "lateral", "planar", ("{s}_hip", "{s}_knee")),
    "knee_flexion": AngleDef("sagittal", "lateral", "planar", ("{s}_hip", "{s}_knee", "{s}_ankle")),
    "knee_extension_90_90": AngleDef(
        "sagittal", "lateral", "planar", ("{s}_shoulder", "{s}_hip", "{s}_knee", "{s}_ankle")
    ),
    "ankle_dorsiflexion": AngleDef("sagittal", "lateral", "planar", ("{s}_knee", "{s}_ankle")),
    "shoulder_flexion": AngleDef(
        "sagittal", "lateral", "planar", ("{s}_hip", "{s}_shoulder", "{s}_elbow")
    ),
    "knee_valgus": AngleDef("frontal", "frontal", "planar", ("{s}_hip", "{s}_knee", "{s}_ankle")),
    "hip_internal_rotation": AngleDef("frontal", "frontal", "planar", ("{s}_knee", "{s}_ankle")),
    "hip_external_rotation": AngleDef("frontal", "frontal", "planar", ("{s}_knee", "{s}_ankle")),
    "thoracic_rotation": AngleDef(
        "transverse",
        "frontal",
        "depth",
        ("left_shoulder", "right_shoulder", "left_hip", "right_hip"),
    ),
}
TRUNK_LEAN = AngleDef(
    "sagittal", "lateral", "planar", ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
)


def angle_names() -> list[str]:
    """Every angle name :func:`measure_angles` returns."""
    names = [f"{s}_{b}" for b in ANGLE_DEFINITIONS for s in SIDES]
    return [*names, "trunk_lean"]


def definition(name: str) -> tuple[str, AngleDef]:
    """``(side, definition)`` of a full angle name (side ``""`` for ``trunk_lean``)."""
    if name == "trunk_lean":
        return "", TRUNK_LEAN
    side, base = name.split("_", 1)
    if side not in SIDES or base not in ANGLE_DEFINITIONS:
        raise KeyError(f"unknown angle {name!r}; known: {', '.join(angle_names())}")
    return side, ANGLE_DEFINITIONS[base]


def base_name(name: str) -> str:
    """``left_hip_flexion`` → ``hip_flexion``."""
    return name if name == "trunk_lean" else name.split("_", 1)[1]


@dataclass(frozen=True)
class AngleReading:
    """One angle of one frame, or why it is not measurable.

    Attributes
    ----------
    name: e.g. ``"left_hip_flexion"``.
    angle_deg: degrees, or ``None`` when not measurable.
    reason: ``None`` when measurable, else a key of :data:`REASONS`.
    detail: human-readable reason with numbers (empty when measurable).
    plane, view, method: see :class:`AngleDef` (``method="depth"`` flags world coordinates).
    uncertainty_deg: 1-SD uncertainty (``None`` when not measurable).
    quality: ``good`` / ``fair`` / ``poor`` (from the capture terms of the uncertainty).
    visibility: lowest visibility (0..1) of the landmarks used.
    view_error_deg: camera's deviation from the ideal view for this angle, degrees.
    raw_deg: the geometric value before the checks (NaN if not computable): diagnostics only,
        never to be shown as a measurement.
    """

    name: str
    angle_deg: float | None
    reason: str | None
    detail: str
    plane: Plane
    view: str
    method: Method
    uncertainty_deg: float | None
    quality: Quality
    visibility: float
    view_error_deg: float
    raw_deg: float

    @property
    def measurable(self) -> bool:
        """True when ``angle_deg`` is a measurement."""
        return self.angle_deg is not None


# -- geometry ---------------------------------------------------------------------------------
def _seg(v: np.ndarray, fwd: float) -> float:
    """Image-plane angle of ``v`` from straight down, positive towards ``fwd`` (±1 in x)."""
    return float(np.degrees(np.arctan2(fwd * v[0], v[1])))


def _wrap(angle_deg: float, low: float = -180.0) -> float:
    """Wrap into ``[low, low + 360)``."""
    return float((angle_deg - low) % 360.0 + low)


def _tilt_error(theta_deg: float, delta_deg: float) -> float:
    """Error of a segment angle seen with the camera ``delta_deg`` off perpendicular."""
    th, d = np.radians(theta_deg), np.radians(min(abs(delta_deg), 80.0))
    return float(np.degrees(np.arctan2(np.sin(th), np.cos(th) * np.cos(d)) - th))


def _planar(p: np.ndarray, side: str, base: str, fwd: float, medial: float) -> tuple[float, list]:
    """Raw planar angle and the segment angles it is made of ``[(θ, sign)]``."""
    L = {n: p[i] for n, i in LANDMARK.items()}

    def g(n: str) -> np.ndarray:
        return L[f"{side}_{n}"]

    if base in ("hip_flexion", "knee_extension_90_90", "knee_flexion", "hip_extension"):
        th_thigh = _seg(g("knee") - g("hip"), fwd)
    mid_sh = (L["left_shoulder"] + L["right_shoulder"]) / 2
    mid_hip = (L["left_hip"] + L["right_hip"]) / 2
    trunk_down = mid_hip - mid_sh  # the midline lies in the sagittal plane; a same-side
    # shoulder-hip line does not (shoulders are wider than hips) and tilts with the view
    if base == "hip_flexion":
        th_trunk = _seg(trunk_down, fwd)
        return _wrap(th_thigh - th_trunk), [(th_thigh, 1), (th_trunk, -1)]
    if base == "hip_extension":  # thigh below the horizontal (table), whichever way lying
        v = g("knee") - g("hip")
        ang = float(np.degrees(np.arctan2(v[1], abs(v[0]))))
        return ang, [(90.0 - ang, 1)]
    if base in ("knee_flexion", "knee_extension_90_90"):
        th_shank = _seg(g("ankle") - g("knee"), fwd)
        knee = _wrap(th_thigh - th_shank)
        value = knee if base == "knee_flexion" else 180.0 - knee
        return value, [(th_thigh, 1), (th_shank, -1)]
    if base == "ankle_dorsiflexion":
        tibia = g("knee") - g("ankle")
        th = float(np.degrees(np.arctan2(fwd * tibia[0], -tibia[1])))
        return th, [(th, 1)]
    if base == "shoulder_flexion":
        th_arm = _seg(g("elbow") - g("shoulder"), fwd)
        th_trunk = _seg(trunk_down, fwd)
        return _wrap(th_arm - th_trunk, -90.0), [(th_arm, 1), (th_trunk, -1)]
    if base == "knee_valgus":
        th_thigh = _seg(g("knee") - g("hip"), medial)
        th_shank = _seg(g("ankle") - g("knee"), medial)
        return th_thigh - th_shank, [(th_thigh, 1), (th_shank, -1)]
    if base in ("hip_internal_rotation", "hip_external_rotation"):
        th = _seg(g("ankle") - g("knee"), -medial)  # + foot moving outward (lateral)
        return (th if base == "hip_internal_rotation" else -th), [(th, 1)]
    raise KeyError(base)


#: Assumed focal length over image width of a webcam/phone camera (≈ 58° horizontal field
#: of view); only used for the perspective correction of frontal angles.
FOCAL_OVER_WIDTH = 0.9


def _orthographic(lm: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """Pixel coordinates with the perspective magnification of depth offsets undone."""
    w, h = image_size
    k = 1.0 + np.clip(lm[:, 2], -0.5, 0.5) / FOCAL_OVER_WIDTH
    x = 0.5 + (lm[:, 0] - 0.5) * k
    y = 0.5 + (lm[:, 1] - 0.5) * k
    return np.column_stack([x * max(w, 1), y * max(h, 1)])


#: Sign of the turn-back rotation (checked against the synthetic camera, which follows
#: MediaPipe's axes: x right, z away from the camera, heading + = left side to the camera).
_TURN_SIGN = 1.0


def _unturn(p: np.ndarray, lm: np.ndarray, image_size: tuple[int, int], heading_deg: float):
    """Rotate image points back about the vertical by the athlete's heading (frontal views),
    using MediaPipe's relative depth ``z`` (image-width units)."""
    if not np.isfinite(heading_deg):
        return p
    h = np.radians(np.clip(heading_deg, -VIEW_TOLERANCE_DEG, VIEW_TOLERANCE_DEG)) * _TURN_SIGN
    w = max(image_size[0], 1)
    cx = 0.5 * w
    x, z = p[:, 0] - cx, lm[:, 2] * w
    out = p.copy()
    out[:, 0] = cx + x * np.cos(h) - z * np.sin(h)
    return out


def _trunk_lean(p: np.ndarray, fwd: float) -> tuple[float, list]:
    ms = (p[LANDMARK["left_shoulder"]] + p[LANDMARK["right_shoulder"]]) / 2
    mh = (p[LANDMARK["left_hip"]] + p[LANDMARK["right_hip"]]) / 2
    v = ms - mh
    th = float(np.degrees(np.arctan2(fwd * v[0], -v[1])))
    return th, [(th, 1)]


def _thoracic_rotation(world: np.ndarray, side: str) -> float:
    """Shoulder line vs hip line about the vertical, world landmarks, + towards ``side``."""
    up = np.array([0.0, -1.0, 0.0])
    hip_line = world[LANDMARK["left_hip"]] - world[LANDMARK["right_hip"]]
    sh_line = world[LANDMARK["left_shoulder"]] - world[LANDMARK["right_shoulder"]]
    hip_line = hip_line - (hip_line @ up) * up
    sh_line = sh_line - (sh_line @ up) * up
    if np.linalg.norm(hip_line) < 1e-9 or np.linalg.norm(sh_line) < 1e-9:
        return float("nan")
    lateral = hip_line / np.linalg.norm(hip_line)
    forward = np.cross(lateral, up)
    rot_left = float(np.degrees(np.arctan2(-(sh_line @ forward), sh_line @ lateral)))
    return rot_left if side == "left" else -rot_left


# -- readings ---------------------------------------------------------------------------------
def _reading(name, value, reason, detail, d, u, vis, err, raw) -> AngleReading:
    if reason is not None:
        return AngleReading(name, None, reason, detail, d.plane, d.view, d.method, None, "poor", vis, err, raw)  # fmt: skip
    return AngleReading(name, float(value), None, "", d.plane, d.view, d.method, u[0], u[1], vis, err, raw)  # fmt: skip


def _sem(base: str) -> float:
    return SEM_DEG[base].sem_deg if base in SEM_DEG else 5.0


def _uncertainty(
    base: str, segs: list, delta: float, vis: float, jit: float
) -> tuple[float, Quality]:
    sem = _sem(base)
    u_view = abs(sum(sign * _tilt_error(th, delta) for th, sign in segs))
    u_vis = 10.0 * max(0.0, 1.0 - vis)
    capture = float(np.sqrt(u_view**2 + u_vis**2 + jit**2))
    quality: Quality = "good" if capture <= 2.0 else "fair" if capture <= 4.0 else "poor"
    return float(np.sqrt(sem**2 + capture**2)), quality


def measure_angles(
    result: PoseResult,
    *,
    jitter_deg: Mapping[str, float] | None = None,
    view: ViewEstimate | None = None,
) -> dict[str, AngleReading]:
    """Every angle of one pose, measured or refused with its reason.

    Parameters
    ----------
    result:
        A (possibly smoothed) :class:`~workbench.mobility.pose.PoseResult`.
    jitter_deg:
        Optional frame-to-frame noise of each angle (1 SD, degrees), e.g. from
        :class:`~workbench.mobility.pipeline.PosePipeline`; above :data:`JITTER_MAX_DEG`
        the angle is refused (``jitter``).
    view:
        A precomputed :func:`~workbench.mobility.views.estimate_view` of ``result``.

    Returns
    -------
    dict
        ``name -> AngleReading`` for every name of :func:`angle_names`.
    """
    lm = np.asarray(result.landmarks, dtype=np.float64)
    world = np.asarray(result.world_landmarks, dtype=np.float64)
    if lm.shape != (33, 4) or world.shape != (33, 3):
        raise DataFormatError(f"landmarks must be 33×4 and 33×3, got {lm.shape}, {world.shape}")
    if not (np.all(np.isfinite(lm)) and np.all(np.isfinite(world))):
        raise DataFormatError("landmarks must be finite")
    est = view or estimate_view(result)
    p_img = pixels(result)
    # Deprojection for lateral views: a camera turned δ about the vertical from side on
    # shrinks the horizontal image components of sagittal segments by cos δ.
    p_lat = p_img.copy()
    p_lat[:, 0] /= np.cos(np.radians(min(est.lateral_error_deg, VIEW_TOLERANCE_DEG)))
    # Frontal views: joints nearer the camera (knees in a squat, seated knees) are magnified;
    # undo the perspective with MediaPipe's relative depth z (hip-centred, in image widths):
    # offset from the image centre × (1 + z / FOCAL_OVER_WIDTH); then rotate the points back
    # about the vertical by the athlete's heading (a thigh pointing at the camera swings
    # sideways in the image when the athlete turns).
    p_front = _orthographic(lm, result.image_size)
    p_front = _unturn(p_front, lm, result.image_size, est.world_heading_deg)
    p_front_raw = p_img  # uncorrected: part of the correction is its uncertainty
    vis_all = lm[:, 3]
    jitter_deg = jitter_deg or {}
    fwd = float(est.facing)
    # face on: the athlete's left is the image right; medial of the left leg is image-left
    front = est.kind != "back"
    out: dict[str, AngleReading] = {}
    for name in angle_names():
        side, d = definition(name)
        base = base_name(name)
        names = [n.format(s=side) for n in d.landmarks]
        idx = [LANDMARK[n] for n in names]
        vis = float(vis_all[idx].min())
        err = est.lateral_error_deg if d.view == "lateral" else est.frontal_error_deg
        medial = (-1.0 if side == "left" else 1.0) * (1.0 if front else -1.0)
        segs: list = []
        p = p_lat if d.view == "lateral" else p_front
        persp = 0.0
        try:
            if d.method == "depth":
                raw = _thoracic_rotation(world, side)
            elif base == "trunk_lean":
                raw, segs = _trunk_lean(p, fwd if fwd else 1.0)
            else:
                raw, segs = _planar(p, side, base, fwd if fwd else 1.0, medial)
                if d.view == "frontal":  # a quarter of the correction is its uncertainty
                    plain, _ = _planar(p_front_raw, side, base, 1.0, medial)
                    persp = CORRECTION_UNCERTAINTY * abs(raw - plain)
        except (ValueError, FloatingPointError):
            raw = float("nan")

        def refuse(reason: str, detail: str, _n=name, _d=d, _v=vis, _e=err, _r=raw):
            return _reading(_n, None, reason, detail, _d, None, _v, _e, _r)

        xy = lm[idx, :2]
        if np.any((xy < 0.0) | (xy > 1.0)):
            out[name] = refuse("out_of_frame", "needs " + ", ".join(names) + " inside the image")
            continue
        if vis < VISIBILITY_OCCLUDED:
            out[name] = refuse("occlusion", f"lowest visibility {vis:.2f}")
            continue
        if vis < VISIBILITY_LOW:
            out[name] = refuse("low_visibility", f"lowest visibility {vis:.2f}")
            continue
        if err > VIEW_TOLERANCE_DEG or (d.view == "frontal" and est.kind == "back"):
            want = "side on" if d.view == "lateral" else "face on"
            out[name] = refuse(
                "view", f"camera {err:.0f}° from {want} (limit {VIEW_TOLERANCE_DEG:.0f}°)"
            )
            continue
        if d.view == "lateral" and fwd == 0 and d.method == "planar":
            out[name] = refuse("view", "cannot tell which way the athlete faces")
            continue
        if not np.isfinite(raw):
            out[name] = refuse("position", "degenerate geometry")
            continue
        pos = _position_problem(base, p_lat, side, fwd)
        if pos is not None:
            out[name] = refuse("position", pos)
            continue
        rng = ANATOMICAL_RANGES[base]
        if not rng.low_deg <= raw <= rng.high_deg:
            out[name] = refuse(
                "out_of_range", f"{raw:.0f}° outside {rng.low_deg:.0f}…{rng.high_deg:.0f}°"
            )
            continue
        jit = float(jitter_deg.get(name, 0.0))
        if jit > JITTER_MAX_DEG:
            out[name] = refuse("jitter", f"frame-to-frame noise {jit:.1f}°")
            continue
        delta = err if d.method == "planar" else 0.0
        u = _uncertainty(base, segs, delta, vis, float(np.hypot(jit, persp)))
        capture = float(np.sqrt(max(0.0, u[0] ** 2 - _sem(base) ** 2)))
        if capture > MAX_CAPTURE_UNCERTAINTY_DEG:
            out[name] = refuse(
                "view",
                f"view-dependent error ±{capture:.0f}° (limit {MAX_CAPTURE_UNCERTAINTY_DEG:.0f}°):"
                " square up to the camera",
            )
            continue
        out[name] = _reading(name, raw, None, "", d, u, vis, err, raw)
    return out


def with_jitter(
    readings: Mapping[str, AngleReading], jitter_deg: Mapping[str, float]
) -> dict[str, AngleReading]:
    """Readings with the jitter term added (same result as ``measure_angles(jitter_deg=…)``
    without measuring again): refused above :data:`JITTER_MAX_DEG`, else the uncertainty
    gains ``u_jitter`` in quadrature and the quality is re-graded."""
    out: dict[str, AngleReading] = {}
    for name, r in readings.items():
        jit = float(jitter_deg.get(name, 0.0))
        if r.angle_deg is None or jit <= 0.0:
            out[name] = r
            continue
        if jit > JITTER_MAX_DEG:
            out[name] = replace(
                r,
                angle_deg=None,
                reason="jitter",
                detail=f"frame-to-frame noise {jit:.1f}°",
                uncertainty_deg=None,
                quality="poor",
            )
            continue
        sem = SEM_DEG[base_name(name)].sem_deg if base_name(name) in SEM_DEG else 5.0
        assert r.uncertainty_deg is not None
        capture = float(np.sqrt(max(0.0, r.uncertainty_deg**2 - sem**2) + jit**2))
        quality: Quality = "good" if capture <= 2.0 else "fair" if capture <= 4.0 else "poor"
        out[name] = replace(r, uncertainty_deg=float(np.sqrt(sem**2 + capture**2)), quality=quality)
    return out


def _supine_problem(p: np.ndarray, fwd: float, test: str) -> str | None:
    """``None`` when lying on the back: trunk ≥ 60° from vertical and the face looking up."""
    lean, _ = _trunk_lean(p, fwd if fwd else 1.0)
    if abs(lean) < 60.0:
        return f"{test} is measured lying on the back (trunk {abs(lean):.0f}° from vertical)"
    ears = (p[LANDMARK["left_ear"]] + p[LANDMARK["right_ear"]]) / 2
    face = p[LANDMARK["nose"]] - ears
    if not -face[1] > abs(face[0]):  # the face looks up (within 45°)
        return f"{test} is measured lying on the back (face up), not bent over"
    return None


def _position_problem(base: str, p: np.ndarray, side: str, fwd: float) -> str | None:
    """Test-position checks (``None`` when the position is right): lying tests, seated hip
    rotation."""
    if base == "hip_extension":
        return _supine_problem(p, fwd, "Thomas test")
    if base in ("hip_internal_rotation", "hip_external_rotation"):
        # seated, knee at 90°, seen face on: the thigh points at the camera (short in the
        # image) while the shank hangs in the image plane
        thigh = float(np.linalg.norm(p[LANDMARK[f"{side}_knee"]] - p[LANDMARK[f"{side}_hip"]]))
        shank = float(np.linalg.norm(p[LANDMARK[f"{side}_ankle"]] - p[LANDMARK[f"{side}_knee"]]))
        if shank <= 0 or thigh / shank > SEATED_THIGH_RATIO:
            return (
                "hip rotation is measured seated with the knee at 90° "
                f"(thigh/shank in the image {thigh / max(shank, 1e-9):.2f} > {SEATED_THIGH_RATIO})"
            )
    if base == "knee_extension_90_90":
        lying = _supine_problem(p, fwd, "the 90/90 test")
        if lying is not None:
            return lying
        hip, _ = _planar(p, side, "hip_flexion", fwd if fwd else 1.0, 1.0)
        if not 70.0 <= hip <= 110.0:
            return f"hold the thigh at 90° hip flexion (now {hip:.0f}°)"
    return None


def joint_angles(result: PoseResult) -> dict[str, float | None]:
    """Angle name → degrees for one pose; ``None`` where not measurable.

    Why a value is ``None`` is given by :func:`angle_reasons` (same names).
    """
    return {name: r.angle_deg for name, r in measure_angles(result).items()}


def angle_reasons(result: PoseResult) -> dict[str, str | None]:
    """Companion of :func:`joint_angles`: why each angle is not measurable.

    Returns
    -------
    dict
        ``name -> "reason: detail"`` (reason a key of :data:`REASONS`) for refused angles,
        ``None`` for measured ones.
    """
    return {
        name: None if r.reason is None else f"{r.reason}: {r.detail or REASONS[r.reason]}"
        for name, r in measure_angles(result).items()
    }


def worst_quality(qualities: Sequence[str]) -> Quality:
    """The worst of several quality flags (``poor`` for an empty sequence)."""
    if not qualities:
        return "poor"
    return min(qualities, key=lambda q: QUALITY_RANK[q])  # type: ignore[return-value]


def angle_jitter_deg(values_deg: Sequence[float]) -> float:
    """Noise (1 SD) of an angle series from its second differences: ``sqrt(mean(d²)/6)``.

    For white noise of SD σ the second difference has variance 6σ²; steady motion adds
    little at camera frame rates. NaNs are skipped; fewer than 3 values give 0.
    """
    a = np.asarray(values_deg, dtype=np.float64)
    a = a[np.isfinite(a)]
    if a.size < 3:
        return 0.0
    return float(np.sqrt(np.mean(np.diff(a, n=2) ** 2) / 6.0))


def held_end_range(
    t_s: np.ndarray, angle_deg: np.ndarray, *, hold_s: float = 0.5
) -> tuple[float, float]:
    """Largest angle held for at least ``hold_s`` seconds (max over windows of the window min).

    Kept for compatibility; the guided screens use :func:`workbench.mobility.holds.end_range`.
    Returns ``(nan, nan)`` when no window of ``hold_s`` seconds exists. NaN samples break a hold.
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
        if not (m <= best):
            best, best_t = m, float(t[i])
    return best, best_t
