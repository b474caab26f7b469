"""Guided screening: the screens, and a timestamp-driven state machine per attempt series.

A :class:`ScreeningSession` runs one screen on one side: instructions → countdown →
measure (auto-capture when the angle plateaus at end range) → rest → … up to ``repeats``
captures (at most 3), keeping the best and the median. It is pure: feed it
``update(t_s, angle_deg, quality)`` from any clock (live camera, video file, tests) and show
the returned :class:`SessionView`.
"""

from __future__ import annotations

import enum
import os
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from workbench.errors import DataFormatError

from .angles import held_end_range, worst_quality

Speed = Literal["slow", "fast"]


@dataclass(frozen=True)
class Screen:
    """One screening test.

    Attributes
    ----------
    key: identifier (``"standing_hip_flexion"``).
    title: display name.
    instructions: what the athlete does and where the camera goes.
    movement: stored movement name (``mobility_assessments.movement``).
    angle: angle name without side, captured at end range (see :mod:`.angles`).
    also: further angles recorded at the capture instant (movement → angle).
    view: camera placement, ``"lateral"`` or ``"frontal"``.
    """

    key: str
    title: str
    instructions: str
    movement: str
    angle: str
    also: dict[str, str] = field(default_factory=dict)
    view: str = "lateral"


SCREENS: dict[str, Screen] = {
    s.key: s
    for s in (
        Screen(
            "overhead_squat",
            "Overhead squat",
            "Camera side on at hip height, 3 m away. Feet shoulder-width, arms straight "
            "overhead; squat as deep as you can with heels down and hold 2 s at the bottom.",
            "hip_flexion",
            "hip_flexion",
            {
                "knee_flexion": "knee_flexion",
                "ankle_dorsiflexion": "ankle_dorsiflexion",
                "trunk_lean": "trunk_lean",
                "knee_valgus": "knee_valgus",
            },
        ),
        Screen(
            "standing_hip_flexion",
            "Standing hip flexion",
            "Camera side on. Stand tall, raise the knee of the tested leg as high as you can "
            "without leaning back, hold 2 s.",
            "hip_flexion",
            "hip_flexion",
        ),
        Screen(
            "shoulder_flexion",
            "Shoulder flexion",
            "Camera side on. Stand with the back against a wall, raise the straight arm "
            "forward and up as far as possible without arching the back, hold 2 s.",
            "shoulder_flexion",
            "shoulder_flexion",
        ),
        Screen(
            "hamstring_90_90",
            "Hamstring 90/90",
            "Camera side on. Lie on the back, hold the thigh at 90° hip flexion with both "
            "hands, straighten the knee as far as possible, hold 2 s.",
            "knee_extension_90_90",
            "knee_extension_90_90",
        ),
        Screen(
            "knee_to_wall",
            "Dorsiflexion knee-to-wall lunge",
            "Camera side on. Half-kneel facing a wall, front foot flat; drive the knee "
            "forward over the toes as far as the heel stays down, hold 2 s.",
            "ankle_dorsiflexion",
            "ankle_dorsiflexion",
        ),
        Screen(
            "thomas_test",
            "Thomas test",
            "Camera side on. Sit at the end of a bench, roll back hugging the other knee to "
            "the chest; let the tested leg hang relaxed, hold 3 s.",
            "hip_extension_thomas",
            "hip_extension",
            {"knee_flexion": "knee_flexion"},
        ),
        Screen(
            "seated_thoracic_rotation",
            "Seated thoracic rotation",
            "Camera in front. Sit on a bench, hips square, arms crossed on the chest; rotate "
            "the trunk towards the tested side as far as possible, hold 2 s.",
            "thoracic_rotation",
            "thoracic_rotation",
            view="frontal",
        ),
        Screen(
            "seated_hip_rotation",
            "Seated hip internal rotation",
            "Camera in front. Sit on a bench, knees at 90°, thighs parallel; swing the foot "
            "of the tested leg outwards as far as possible without lifting the thigh, hold 2 s.",
            "hip_internal_rotation",
            "hip_internal_rotation",
            view="frontal",
        ),
    )
}


class Phase(enum.Enum):
    """Where a session is."""

    INSTRUCT = "instruct"
    COUNTDOWN = "countdown"
    MEASURE = "measure"
    REST = "rest"
    DONE = "done"


@dataclass(frozen=True)
class Capture:
    """One captured end range: ``angle_deg`` held from ``t_s``; ``plateau`` False on timeout."""

    angle_deg: float
    t_s: float
    quality: str
    plateau: bool
    also: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SessionView:
    """What to show: phase, message, seconds left in the phase, captures so far."""

    phase: Phase
    message: str
    seconds_left: float | None
    repeat: int
    captures: tuple[Capture, ...]


class ScreeningSession:
    """State machine of one screen on one side (driven by timestamps).

    Parameters
    ----------
    screen: a key of :data:`SCREENS` or a :class:`Screen`.
    side: ``"left"`` or ``"right"``.
    repeats: captures wanted, 1–3.
    speed: ``"slow"`` or ``"fast"`` attempts (for neural vs structural classification).
    instruct_s, countdown_s, rest_s: phase durations, seconds (0 for video files).
    plateau_s, plateau_tol_deg: the angle must stay within ``plateau_tol_deg`` for
        ``plateau_s`` seconds to auto-capture.
    min_rise_deg: the plateau must be this far beyond the attempt's starting angle.
    max_attempt_s: capture the best held angle anyway after this long (``plateau=False``).
    """

    def __init__(
        self,
        screen: str | Screen,
        side: str,
        *,
        repeats: int = 3,
        speed: Speed = "slow",
        instruct_s: float = 5.0,
        countdown_s: float = 3.0,
        rest_s: float = 3.0,
        plateau_s: float = 0.6,
        plateau_tol_deg: float = 3.0,
        min_rise_deg: float = 10.0,
        max_attempt_s: float = 15.0,
    ) -> None:
        self.screen = SCREENS[screen] if isinstance(screen, str) else screen
        if side not in ("left", "right"):
            raise ValueError(f"side must be 'left' or 'right', not {side!r}")
        if not 1 <= repeats <= 3:
            raise ValueError(f"repeats must be 1..3, got {repeats}")
        self.side, self.repeats, self.speed = side, repeats, speed
        self.instruct_s, self.countdown_s, self.rest_s = instruct_s, countdown_s, rest_s
        self.plateau_s, self.plateau_tol_deg = plateau_s, plateau_tol_deg
        self.min_rise_deg, self.max_attempt_s = min_rise_deg, max_attempt_s
        self.phase = Phase.INSTRUCT
        self.captures: list[Capture] = []
        self._phase_t0: float | None = None
        self._t: list[float] = []
        self._a: list[float] = []
        self._q: list[str] = []
        self._also: list[dict[str, float]] = []

    @property
    def angle_name(self) -> str:
        """Full name of the captured angle, e.g. ``left_hip_flexion``."""
        return self._name(self.screen.angle)

    def _name(self, base: str) -> str:
        return base if base == "trunk_lean" else f"{self.side}_{base}"

    # -- results -----------------------------------------------------------------------------
    @property
    def best_deg(self) -> float | None:
        """Largest captured angle (``None`` before the first capture)."""
        return max(c.angle_deg for c in self.captures) if self.captures else None

    @property
    def median_deg(self) -> float | None:
        """Median of the captures."""
        return statistics.median(c.angle_deg for c in self.captures) if self.captures else None

    @property
    def quality(self) -> str:
        """Worst quality among the captures (``poor`` without any)."""
        return worst_quality([c.quality for c in self.captures])

    # -- machine -----------------------------------------------------------------------------
    def _enter(self, phase: Phase, t_s: float) -> None:
        self.phase, self._phase_t0 = phase, t_s
        if phase is Phase.MEASURE:
            self._t, self._a, self._q, self._also = [], [], [], []

    def _left(self, t_s: float, duration_s: float) -> float:
        assert self._phase_t0 is not None
        return max(0.0, duration_s - (t_s - self._phase_t0))

    def _capture(self, plateau: bool) -> None:
        t, a = np.asarray(self._t), np.asarray(self._a, dtype=float)
        hold = self.plateau_s if plateau else min(self.plateau_s, 0.2)
        value, t0 = held_end_range(t, a, hold_s=hold) if t.size >= 2 else (np.nan, np.nan)
        if plateau:  # held within plateau_tol_deg: its median is the end-range angle
            in_win = t >= t[-1] - self.plateau_s
            value, t0 = float(np.median(a[in_win])), float(t[in_win][0])
        if np.isnan(value):
            finite = np.isfinite(a)
            if not finite.any():
                return  # nothing seen at all: no capture
            i = int(np.nanargmax(a))
            value, t0 = float(a[i]), float(t[i])
        idx = [i for i, ti in enumerate(self._t) if t0 <= ti <= t0 + hold]
        quality = worst_quality([self._q[i] for i in idx]) if idx else "poor"
        also = self._also[idx[-1]] if idx else {}
        self.captures.append(Capture(float(value), float(t0), quality, plateau, also))

    def _plateau(self) -> bool:
        if len(self._t) < 3 or self._t[-1] - self._t[0] < self.plateau_s:
            return False
        t = np.asarray(self._t)
        a = np.asarray(self._a, dtype=float)
        win = a[t >= t[-1] - self.plateau_s]
        if np.isnan(win).any():
            return False
        start = a[np.isfinite(a)][0]
        peak, _ = held_end_range(t, a, hold_s=min(0.2, self.plateau_s))  # spike-proof peak
        peak = win.mean() if np.isnan(peak) else peak
        return bool(
            win.max() - win.min() <= self.plateau_tol_deg
            and win.mean() >= start + self.min_rise_deg
            and win.mean() >= peak - 2 * self.plateau_tol_deg
        )

    def update(
        self,
        t_s: float,
        angles: dict[str, float] | None = None,
        qualities: dict[str, str] | None = None,
    ) -> SessionView:
        """Advance to time ``t_s`` with this frame's angles (``None``: no person seen).

        ``angles`` maps full angle names (``left_hip_flexion``) to degrees; ``qualities``
        their quality flags.
        """
        if self._phase_t0 is None:
            self._phase_t0 = t_s
        if self._t and t_s <= self._t[-1]:
            raise DataFormatError(f"timestamps must increase: {t_s} s after {self._t[-1]} s")
        if self.phase is Phase.INSTRUCT and self._left(t_s, self.instruct_s) <= 0:
            self._enter(Phase.COUNTDOWN, t_s)
        if self.phase is Phase.COUNTDOWN and self._left(t_s, self.countdown_s) <= 0:
            self._enter(Phase.MEASURE, t_s)
        if self.phase is Phase.REST and self._left(t_s, self.rest_s) <= 0:
            self._enter(Phase.COUNTDOWN if len(self.captures) < self.repeats else Phase.DONE, t_s)
        if self.phase is Phase.MEASURE:
            name = self.angle_name
            value = np.nan if not angles or name not in angles else float(angles[name])
            self._t.append(t_s)
            self._a.append(value)
            self._q.append((qualities or {}).get(name, "poor") if np.isfinite(value) else "poor")
            self._also.append(
                {m: float(angles[self._name(b)]) for m, b in self.screen.also.items()}
                if angles and all(self._name(b) in angles for b in self.screen.also.values())
                else {}
            )
            timeout = self._left(t_s, self.max_attempt_s) <= 0
            if self._plateau() or timeout:
                self._capture(plateau=not timeout)
                done = len(self.captures) >= self.repeats
                self._enter(Phase.DONE if done else Phase.REST, t_s)
        return self.view(t_s)

    def finish(self, t_s: float) -> SessionView:
        """Stop now (end of a video): capture the running attempt if it has data."""
        if self.phase is Phase.MEASURE and len(self._t) >= 2:
            self._capture(plateau=False)
        self._enter(Phase.DONE, t_s)
        return self.view(t_s)

    def view(self, t_s: float) -> SessionView:
        """The current state, for display."""
        s, n = self.screen, len(self.captures)
        side = self.side
        if self.phase is Phase.INSTRUCT:
            msg, left = f"{s.title} ({side}): {s.instructions}", self._left(t_s, self.instruct_s)
        elif self.phase is Phase.COUNTDOWN:
            left = self._left(t_s, self.countdown_s)
            msg = f"Attempt {n + 1}/{self.repeats} ({self.speed}) in {int(np.ceil(left))}…"
        elif self.phase is Phase.MEASURE:
            msg, left = f"Go to end range ({side}) and hold", None
        elif self.phase is Phase.REST:
            last = self.captures[-1]
            msg = f"Captured {last.angle_deg:.0f}° ({last.quality}). Relax."
            left = self._left(t_s, self.rest_s)
        else:
            best = self.best_deg
            msg = f"Done: best {best:.0f}°, median {self.median_deg:.0f}°" if best else "Done"
            left = None
        return SessionView(self.phase, msg, left, n, tuple(self.captures))


def screen_frames(
    frames: Iterable[tuple[float, dict[str, float] | None, dict[str, str] | None]],
    screen: str | Screen,
    *,
    sides: tuple[str, ...] = ("left", "right"),
    repeats: int = 3,
    speed: Speed = "slow",
    **timing: float,
) -> dict[str, ScreeningSession]:
    """Run one session per side over ``(t_s, angles, qualities)`` frames (no pauses)."""
    kwargs: dict[str, float] = {"instruct_s": 0.0, "countdown_s": 0.0, "rest_s": 0.0}
    kwargs.update(timing)
    sessions = {
        side: ScreeningSession(screen, side, repeats=repeats, speed=speed, **kwargs)  # type: ignore[arg-type]
        for side in sides
    }
    t_last = 0.0
    for t_s, angles, qualities in frames:
        t_last = t_s
        for sess in sessions.values():
            if sess.phase is not Phase.DONE:
                sess.update(t_s, angles, qualities)
    for sess in sessions.values():
        if sess.phase is not Phase.DONE:
            sess.finish(t_last)
    return sessions


def screen_video(
    path: str | os.PathLike[str],
    screen: str | Screen,
    *,
    sides: tuple[str, ...] = ("left", "right"),
    repeats: int = 3,
    speed: Speed = "slow",
    max_frames: int | None = None,
    **timing: float,
) -> dict[str, ScreeningSession]:
    """Run a screen on a video file, both sides at once (the athlete's whole clip)."""
    from .pipeline import PosePipeline, iter_video

    def frames():
        with PosePipeline() as pipe:
            for t_s, rgb in iter_video(path, max_frames=max_frames):
                fa = pipe.process(rgb, t_s)
                if fa is None:
                    yield t_s, None, None
                else:
                    yield (
                        t_s,
                        {k: r.angle_deg for k, r in fa.angles.items()},
                        {k: r.quality for k, r in fa.angles.items()},
                    )

    return screen_frames(frames(), screen, sides=sides, repeats=repeats, speed=speed, **timing)
