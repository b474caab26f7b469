"""One-euro filter for landmark arrays (Casiez, Roussel & Vogel, CHI 2012).

An adaptive low-pass filter: the cutoff rises with the signal's speed, so a held pose is
smoothed hard (little jitter) while a fast movement keeps little lag::

    cutoff_hz = min_cutoff_hz + beta * |d signal / dt (low-passed at d_cutoff_hz)|
    alpha     = 1 / (1 + 1 / (2 π cutoff_hz dt))

Tuning: lower ``min_cutoff_hz`` for less jitter at rest; raise ``beta`` for less lag in
fast movement. ``beta`` is in units of 1/(signal unit): for normalised image coordinates a
speed of 1 image-width per second adds ``beta`` Hz to the cutoff.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from workbench.errors import DataFormatError

from .pose import PoseResult


def _alpha(cutoff_hz: np.ndarray | float, dt_s: float) -> np.ndarray | float:
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt_s)


@dataclass
class OneEuroFilter:
    """One-euro filter over arrays of any fixed shape, element-wise.

    Parameters
    ----------
    min_cutoff_hz:
        Cutoff at zero speed, Hz.
    beta:
        Speed coefficient, Hz per (signal unit / s).
    d_cutoff_hz:
        Cutoff of the derivative's low-pass, Hz.
    """

    min_cutoff_hz: float = 1.0
    beta: float = 10.0
    d_cutoff_hz: float = 1.0

    def __post_init__(self) -> None:
        for name in ("min_cutoff_hz", "d_cutoff_hz"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0 Hz, got {getattr(self, name)}")
        if self.beta < 0:
            raise ValueError(f"beta must be ≥ 0, got {self.beta}")
        self.reset()

    def reset(self) -> None:
        """Forget the state (e.g. after the person was lost)."""
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t_s: float | None = None

    def __call__(self, x: np.ndarray, t_s: float) -> np.ndarray:
        """Filter one sample ``x`` taken at ``t_s`` seconds; returns the filtered array."""
        x = np.asarray(x, dtype=np.float64)
        if self._x is None or self._t_s is None:
            self._x, self._dx, self._t_s = x.copy(), np.zeros_like(x), t_s
            return x.copy()
        if x.shape != self._x.shape:
            raise DataFormatError(f"sample shape {x.shape} differs from {self._x.shape}")
        dt_s = t_s - self._t_s
        if not dt_s > 0:
            raise DataFormatError(f"timestamps must increase: {t_s} s after {self._t_s} s")
        dx = (x - self._x) / dt_s
        self._dx = self._dx + _alpha(self.d_cutoff_hz, dt_s) * (dx - self._dx)
        cutoff_hz = self.min_cutoff_hz + self.beta * np.abs(self._dx)
        self._x = self._x + _alpha(cutoff_hz, dt_s) * (x - self._x)
        self._t_s = t_s
        return self._x.copy()


class LandmarkSmoother:
    """One-euro smoothing of a :class:`PoseResult` stream (image and world landmarks).

    Visibility is passed through unfiltered. Call :meth:`reset` when the person is lost.

    Parameters
    ----------
    min_cutoff_hz, beta, d_cutoff_hz:
        One-euro parameters for image coordinates (normalised units). World landmarks
        (metres) use the same cutoffs with ``beta_world = beta * world_scale``.
    world_scale:
        Ratio between image-normalised and metre units for ``beta`` (≈ 1 body height ≈ 1
        image height ≈ 1.7 m → 0.6).
    """

    def __init__(
        self,
        min_cutoff_hz: float = 1.0,
        beta: float = 10.0,
        d_cutoff_hz: float = 1.0,
        world_scale: float = 0.6,
    ) -> None:
        self.image = OneEuroFilter(min_cutoff_hz, beta, d_cutoff_hz)
        self.world = OneEuroFilter(min_cutoff_hz, beta * world_scale, d_cutoff_hz)

    def reset(self) -> None:
        """Forget the state."""
        self.image.reset()
        self.world.reset()

    def __call__(self, result: PoseResult, t_s: float | None = None) -> PoseResult:
        """Smoothed copy of ``result`` at ``t_s`` (default ``result.t_s``)."""
        t = result.t_s if t_s is None else t_s
        if t is None:
            raise DataFormatError("smoothing needs a timestamp: pass t_s or a video-mode result")
        xyz = self.image(result.landmarks[:, :3], t)
        lm = np.column_stack([xyz, result.landmarks[:, 3]])
        return result.with_landmarks(lm, self.world(result.world_landmarks, t))


def jitter(x: np.ndarray) -> float:
    """Frame-to-frame jitter: RMS of the second difference over frames (axis 0).

    The second difference ignores steady drift and measures the high-frequency shake of a
    held pose, in the units of ``x`` per frame².
    """
    x = np.asarray(x, dtype=np.float64)
    if x.shape[0] < 3:
        raise DataFormatError(f"jitter needs ≥ 3 frames, got {x.shape[0]}")
    return float(np.sqrt(np.mean(np.diff(x, n=2, axis=0) ** 2)))
