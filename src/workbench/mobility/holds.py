"""End range of a held position and the velocity profile of the rep that reached it.

A single frame is not an end range: the athlete reaches it, holds, and the pose estimate
shakes. :func:`end_range` finds the stable holds in an angle series (every sample within
``tol_deg`` of the hold's median and the angular speed below ``max_speed_deg_s``, for at least
``min_hold_s``), takes the highest, and reports its 90th percentile with its stability and
the two halves of the hold (the end range must agree across them within its uncertainty).
The rep's velocity profile (peak and mean speed of the approach) feeds the neural vs
structural call (:func:`workbench.mobility.interpret.classify_limitation`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.errors import DataFormatError

#: Half-width of the window of the local angular-speed estimate, seconds.
SPEED_HALF_WINDOW_S = 0.15


@dataclass(frozen=True)
class EndRange:
    """End range of one hold.

    Attributes
    ----------
    angle_deg: 90th percentile of the angle over the hold, degrees.
    uncertainty_deg: combined 1-SD uncertainty (readings' uncertainty and hold stability).
    stability_deg: SD of the angle over the hold, degrees.
    first_half_deg, second_half_deg: 90th percentile of each half of the hold.
    start_t_s, end_t_s: the hold, seconds.
    peak_velocity_deg_s: peak angular speed of the approach to the hold (rep), deg/s.
    mean_velocity_deg_s: mean angular speed of the approach, deg/s.
    """

    angle_deg: float
    uncertainty_deg: float
    stability_deg: float
    first_half_deg: float
    second_half_deg: float
    start_t_s: float
    end_t_s: float
    peak_velocity_deg_s: float
    mean_velocity_deg_s: float

    @property
    def duration_s(self) -> float:
        """Length of the hold, seconds."""
        return self.end_t_s - self.start_t_s

    @property
    def halves_agree(self) -> bool:
        """The two halves' end ranges agree within the stated uncertainty."""
        return abs(self.first_half_deg - self.second_half_deg) <= self.uncertainty_deg


def _check(t: np.ndarray, a: np.ndarray) -> None:
    if t.shape != a.shape or t.ndim != 1:
        raise DataFormatError(
            f"t_s and angle_deg must be 1-D of equal length: {t.shape}, {a.shape}"
        )
    if t.size and np.any(np.diff(t) <= 0):
        raise DataFormatError("t_s must be strictly increasing")


def holds(
    t_s: np.ndarray,
    angle_deg: np.ndarray,
    *,
    min_hold_s: float = 1.0,
    tol_deg: float = 4.0,
    max_speed_deg_s: float = 15.0,
) -> list[tuple[int, int]]:
    """Index ranges ``[i, j]`` (inclusive) of stable holds of at least ``min_hold_s``.

    Greedy from each start: extend while the sample is finite, within ``tol_deg`` of the
    running median and the local speed (least-squares slope over ±``SPEED_HALF_WINDOW_S``)
    is below ``max_speed_deg_s``. NaN samples (not measurable) break a hold.
    """
    t = np.asarray(t_s, dtype=np.float64)
    a = np.asarray(angle_deg, dtype=np.float64)
    _check(t, a)
    n = t.size
    if n < 3:
        return []
    speed = np.full(n, np.inf)
    lo_idx = np.searchsorted(t, t - SPEED_HALF_WINDOW_S, side="left")
    hi_idx = np.searchsorted(t, t + SPEED_HALF_WINDOW_S, side="right") - 1
    for i in range(n):
        lo, hi = lo_idx[i], hi_idx[i]
        if hi - lo < 2:
            lo, hi = max(0, i - 1), min(n - 1, i + 1)
        tt, aa = t[lo : hi + 1], a[lo : hi + 1]
        if hi > lo and np.all(np.isfinite(aa)):
            dt = tt - tt.mean()
            speed[i] = abs(float(dt @ (aa - aa.mean())) / float(dt @ dt))
    out: list[tuple[int, int]] = []
    i = 0
    while i < n:
        if not np.isfinite(a[i]) or speed[i] > max_speed_deg_s:
            i += 1
            continue
        j = i
        while j + 1 < n and np.isfinite(a[j + 1]) and speed[j + 1] <= max_speed_deg_s:
            med = float(np.median(a[i : j + 2]))
            if np.max(np.abs(a[i : j + 2] - med)) > tol_deg:
                break
            j += 1
        if t[j] - t[i] >= min_hold_s - 1e-9:
            out.append((i, j))
            i = j + 1
        else:
            i += 1
    return out


def end_range(
    t_s: np.ndarray,
    angle_deg: np.ndarray,
    *,
    uncertainty_deg: np.ndarray | None = None,
    min_hold_s: float = 1.0,
    tol_deg: float = 4.0,
    max_speed_deg_s: float = 15.0,
    percentile: float = 90.0,
) -> EndRange | None:
    """End range over the highest stable hold of at least ``min_hold_s`` (``None``: no hold).

    Parameters
    ----------
    t_s, angle_deg:
        The series, seconds and degrees (NaN = not measurable).
    uncertainty_deg:
        Per-sample 1-SD uncertainty of the readings (default 0).
    """
    t = np.asarray(t_s, dtype=np.float64)
    a = np.asarray(angle_deg, dtype=np.float64)
    found = holds(t, a, min_hold_s=min_hold_s, tol_deg=tol_deg, max_speed_deg_s=max_speed_deg_s)
    if not found:
        return None
    i, j = max(found, key=lambda ij: float(np.percentile(a[ij[0] : ij[1] + 1], percentile)))
    seg = a[i : j + 1]
    mid = (i + j + 1) // 2
    first = seg[: max(1, mid - i)]
    second = seg[max(1, mid - i) :] if j + 1 > mid else seg
    stability = float(np.std(seg))
    u_read = 0.0
    if uncertainty_deg is not None:
        u = np.asarray(uncertainty_deg, dtype=np.float64)[i : j + 1]
        u = u[np.isfinite(u)]
        u_read = float(np.median(u)) if u.size else 0.0
    u_total = float(np.hypot(u_read, stability))
    # approach: from the last low point before the hold up to the hold
    pre_t, pre_a = t[: i + 1], a[: i + 1]
    ok = np.isfinite(pre_a)
    peak_v = mean_v = float("nan")
    if ok.sum() >= 3:
        pt, pa = pre_t[ok], pre_a[ok]
        start = int(np.argmin(pa))
        if pt[-1] - pt[start] > 0:
            v = np.abs(np.diff(pa[start:]) / np.diff(pt[start:])) if pa[start:].size > 1 else []
            if len(v):
                v = np.convolve(v, np.ones(3) / 3, mode="same") if len(v) >= 3 else v
                peak_v = float(np.max(v))
                mean_v = float((pa[-1] - pa[start]) / (pt[-1] - pt[start]))
    return EndRange(
        float(np.percentile(seg, percentile)),
        u_total,
        stability,
        float(np.percentile(first, percentile)),
        float(np.percentile(second, percentile)),
        float(t[i]),
        float(t[j]),
        peak_v,
        mean_v,
    )
