"""Synthetic skeletons with known joint angles, seen from any camera heading.

For tests, demos and benchmarks: :func:`synthetic_pose` builds the 33 BlazePose landmarks
of a body posed with given angles (definitions of :mod:`workbench.mobility.angles`),
rotates it about the vertical axis by ``view_deg`` (0 = facing the camera, 90 = left side
towards the camera) and projects it with a pinhole camera into normalised image landmarks.
"""

from __future__ import annotations

import numpy as np

from .pose import LANDMARK, PoseResult

THIGH_M, SHANK_M, TRUNK_M = 0.42, 0.42, 0.50
UPPER_ARM_M, FOREARM_M = 0.30, 0.25
HIP_HALF_M, SHOULDER_HALF_M = 0.10, 0.18


def _dir(theta_deg: float, phi_deg: float, fwd: np.ndarray, up: np.ndarray, side_ax: np.ndarray):
    """Unit vector at sagittal angle θ from down (forward +) and frontal angle φ (towards side_ax)."""
    th, ph = np.radians(theta_deg), np.radians(phi_deg)
    if abs(phi_deg) < 1e-12:
        return np.sin(th) * fwd - np.cos(th) * up
    if abs(theta_deg) >= 89.0:
        raise ValueError("a frontal component needs a sagittal angle below 89°")
    v = np.tan(th) * fwd + np.tan(ph) * side_ax - up
    return v / np.linalg.norm(v)


def synthetic_pose(
    *,
    view_deg: float = 0.0,
    hip_flexion_deg: tuple[float, float] = (0.0, 0.0),
    knee_flexion_deg: tuple[float, float] = (0.0, 0.0),
    shoulder_flexion_deg: tuple[float, float] = (0.0, 0.0),
    knee_valgus_deg: tuple[float, float] = (0.0, 0.0),
    hip_internal_rotation_deg: tuple[float, float] = (0.0, 0.0),
    trunk_lean_deg: float = 0.0,
    thoracic_rotation_deg: float = 0.0,
    pitch_deg: float = 0.0,
    visibility: float = 1.0,
    camera_distance_m: float = 3.0,
    image_size: tuple[int, int] = (640, 480),
    noise_px: float = 0.0,
    occluded: tuple[str, ...] = (),
    seed: int | None = None,
) -> PoseResult:
    """A posed skeleton as MediaPipe would report it from a camera at ``view_deg``.

    Angles are ``(left, right)`` pairs in degrees. ``hip_internal_rotation_deg`` turns the
    shank outwards (only meaningful seated: hip and knee at 90°). ``pitch_deg`` tilts the
    whole body forward about the lateral axis in the sagittal plane (e.g. 90 ≈ lying
    supine: the body's anterior side faces up), leaving relative angles unchanged.
    ``noise_px`` adds Gaussian noise (SD, pixels) to the image landmarks (and the matching
    noise in metres to the world landmarks); ``occluded`` landmark names get visibility 0.1
    and a 30 px error, as MediaPipe reports a hidden joint.
    """
    up0, lat0, fwd0 = np.array([0, 1.0, 0]), np.array([1.0, 0, 0]), np.array([0, 0, 1.0])
    p: dict[str, np.ndarray] = {}
    lean, rot = trunk_lean_deg, np.radians(thoracic_rotation_deg)
    mid_sh = TRUNK_M * (np.sin(np.radians(lean)) * fwd0 + np.cos(np.radians(lean)) * up0)
    for i, (side, s) in enumerate((("left", 1.0), ("right", -1.0))):
        hip = s * HIP_HALF_M * lat0
        medial = -s * lat0
        th_thigh = hip_flexion_deg[i] - lean
        thigh = _dir(th_thigh, knee_valgus_deg[i] / 2, fwd0, up0, medial)
        knee = hip + THIGH_M * thigh
        th_shank = th_thigh - knee_flexion_deg[i]
        phi_shank = -knee_valgus_deg[i] / 2 - hip_internal_rotation_deg[i]
        shank = _dir(th_shank, phi_shank, fwd0, up0, medial)
        ankle = knee + SHANK_M * shank
        sh = mid_sh + s * SHOULDER_HALF_M * (np.cos(rot) * lat0 - np.sin(rot) * fwd0)
        arm = (
            np.sin(np.radians(shoulder_flexion_deg[i] - lean)) * fwd0
            - np.cos(np.radians(shoulder_flexion_deg[i] - lean)) * up0
        )
        elbow = sh + UPPER_ARM_M * arm
        wrist = elbow + FOREARM_M * arm
        foot_fwd = fwd0 - (fwd0 @ shank) * shank  # foot ⟂ shank, pointing forward
        norm = np.linalg.norm(foot_fwd)
        foot_fwd = foot_fwd / norm if norm > 1e-6 else up0
        p[f"{side}_hip"], p[f"{side}_knee"], p[f"{side}_ankle"] = hip, knee, ankle
        p[f"{side}_shoulder"], p[f"{side}_elbow"], p[f"{side}_wrist"] = sh, elbow, wrist
        p[f"{side}_heel"] = ankle - 0.05 * foot_fwd + 0.04 * shank
        p[f"{side}_foot_index"] = ankle + 0.15 * foot_fwd + 0.04 * shank
        for finger, off in (("pinky", -0.02), ("index", 0.0), ("thumb", 0.02)):
            p[f"{side}_{finger}"] = wrist + 0.07 * arm + off * fwd0
        p[f"{side}_ear"] = mid_sh + 0.22 * up0 + s * 0.07 * lat0
        p[f"{side}_eye"] = mid_sh + 0.25 * up0 + s * 0.03 * lat0 + 0.08 * fwd0
        p[f"{side}_eye_inner"] = p[f"{side}_eye"] - s * 0.01 * lat0
        p[f"{side}_eye_outer"] = p[f"{side}_eye"] + s * 0.01 * lat0
        p[f"mouth_{side}"] = mid_sh + 0.17 * up0 + s * 0.025 * lat0 + 0.08 * fwd0
    p["nose"] = mid_sh + 0.22 * up0 + 0.1 * fwd0
    body = np.array([p[name] for name in LANDMARK])  # body coordinates: lat, up, fwd
    if pitch_deg:
        c, s_ = np.cos(np.radians(pitch_deg)), np.sin(np.radians(pitch_deg))
        y, z = body[:, 1].copy(), body[:, 2].copy()
        body[:, 1], body[:, 2] = c * y - s_ * z, s_ * y + c * z
    # Body -> camera world (x right, y down, z away from camera), athlete turned by view_deg.
    a = np.radians(view_deg)
    lat_w = np.array([np.cos(a), 0.0, -np.sin(a)])
    up_w = np.array([0.0, -1.0, 0.0])
    fwd_w = np.cross(lat_w, up_w)
    world = body[:, :1] * lat_w + body[:, 1:2] * up_w + body[:, 2:3] * fwd_w
    mid_hip = (world[LANDMARK["left_hip"]] + world[LANDMARK["right_hip"]]) / 2
    world = world - mid_hip
    width, height = image_size
    focal_px = 1.2 * height
    depth = camera_distance_m + world[:, 2]
    x = 0.5 + focal_px * world[:, 0] / depth / width
    y = 0.5 + focal_px * world[:, 1] / depth / height
    z = world[:, 2] * focal_px / camera_distance_m / width
    vis = np.full(33, float(visibility))
    if noise_px or occluded:
        rng = np.random.default_rng(seed)
        px = rng.normal(0.0, noise_px, size=(33, 2)) if noise_px else np.zeros((33, 2))
        for name in occluded:
            i = LANDMARK[name]
            vis[i] = 0.1
            px[i] += rng.normal(0.0, 30.0, size=2)
        x = x + px[:, 0] / width
        y = y + px[:, 1] / height
        world = world + rng.normal(0.0, noise_px * camera_distance_m / focal_px, size=world.shape)
    lm = np.column_stack([x, y, z, vis])
    return PoseResult(lm, world, (width, height), None)
