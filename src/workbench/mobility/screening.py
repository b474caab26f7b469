"""Guided screening: the screens, and a timestamp-driven state machine per attempt series.

Each :class:`Screen` declares its camera view (``lateral`` or ``frontal``) and the body
position (standing, seated, supine, half-kneeling). A :class:`ScreeningSession` runs one
screen on one side: instructions → **view check** (waits, prompting, until the camera sees
the athlete from the screen's view and every needed landmark is in frame) → countdown →
measure (auto-capture at a stable hold: the end range is the 90th percentile over a hold of
at least ``plateau_s`` seconds, see :mod:`.holds`) → rest → … up to ``repeats`` captures (at
most 3), keeping the best and the median. If the view goes wrong while measuring, the
samples are not measurable (they break the hold) and the prompt is shown again.

It is pure: feed it :meth:`ScreeningSession.feed` with pipeline frames (view check
included), or ``update(t_s, angles, qualities, view=...)`` from any clock (live camera, video
file, tests), and show the returned :class:`SessionView`.
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

from .angles import definition, worst_quality
from .holds import EndRange, end_range
from .views import VIEW_TOLERANCE_DEG, ViewCheck, check_view

Speed = Literal["slow", "fast"]
Position = Literal["standing", "seated", "supine", "half_kneeling"]


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
    view: camera placement, ``"lateral"`` (tested side towards the camera) or ``"frontal"``.
    position: body position of the test.
    """

    key: str
    title: str
    instructions: str
    movement: str
    angle: str
    also: dict[str, str] = field(default_factory=dict)
    view: str = "lateral"
    position: Position = "standing"
    #: Largest accepted deviation from the screen's view, degrees.
    view_tolerance_deg: float = VIEW_TOLERANCE_DEG

    def landmarks(self, side: str) -> tuple[str, ...]:
        """Landmarks that must be in frame for the captured angle on ``side``."""
        name = self.angle if self.angle == "trunk_lean" else f"{side}_{self.angle}"
        s, d = definition(name)
        return tuple(lm.format(s=s) for lm in d.landmarks)


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
            position="supine",
        ),
        Screen(
            "knee_to_wall",
            "Dorsiflexion knee-to-wall lunge",
            "Camera side on. Half-kneel facing a wall, front foot flat; drive the knee "
            "forward over the toes as far as the heel stays down, hold 2 s.",
            "ankle_dorsiflexion",
            "ankle_dorsiflexion",
            position="half_kneeling",
        ),
        Screen(
            "thomas_test",
            "Thomas test",
            "Camera side on. Sit at the end of a bench, roll back hugging the other knee to "
            "the chest; let the tested leg hang relaxed, hold 3 s.",
            "hip_extension_thomas",
            "hip_extension",
            {"knee_flexion": "knee_flexion"},
            position="supine",
        ),
        Screen(
            "seated_thoracic_rotation",
            "Seated thoracic rotation",
            "Camera in front. Sit on a bench, hips square, arms crossed on the chest; rotate "
            "the trunk towards the tested side as far as possible, hold 2 s.",
            "thoracic_rotation",
            "thoracic_rotation",
            view="frontal",
            position="seated",
        ),
        Screen(
            "seated_hip_rotation",
            "Seated hip internal rotation",
            "Camera in front. Sit on a bench, knees at 90°, thighs parallel; swing the foot "
            "of the tested leg outwards as far as possible without lifting the thigh, hold 2 s.",
            "hip_internal_rotation",
            "hip_internal_rotation",
            view="frontal",
            position="seated",
        ),
    )
}


class Phase(enum.Enum):
    """Where a session is."""

    INSTRUCT = "instruct"
    VIEW = "view"
    COUNTDOWN = "countdown"
    MEASURE = "measure"
    REST = "rest"
    DONE = "done"


@dataclass(frozen=True)
class Capture:
    """One captured end range.

    ``angle_deg`` is the 90th percentile over the hold starting at ``t_s`` (``plateau``
    False: captured on timeout from the best hold found earlier in the attempt). An attempt
    without any stable hold is not captured (it counts in ``failed_attempts``).
    ``uncertainty_deg`` is its 1-SD uncertainty and ``hold`` the full :class:`EndRange`
    (stability, halves, velocity profile of the rep) when a hold was found.
    """

    angle_deg: float
    t_s: float
    quality: str
    plateau: bool
    also: dict[str, float] = field(default_factory=dict)
    uncertainty_deg: float | None = None
    hold: EndRange | None = None


@dataclass(frozen=True)
class SessionView:
    """What to show: phase, message, seconds left in the phase, captures so far."""

    phase: Phase
    message: str
    seconds_left: float | None
    repeat: int
    captures: tuple[Capture, ...]
    view_ok: bool = True


class ScreeningSession:
    """State machine of one screen on one side (driven by timestamps).

    Parameters
    ----------
    screen: a key of :data:`SCREENS` or a :class:`Screen`.
    side: ``"left"`` or ``"right"``.
    repeats: captures wanted, 1–3.
    speed: ``"slow"`` or ``"fast"`` attempts (for neural vs structural classification).
    instruct_s, countdown_s, rest_s: phase durations, seconds (0 for video files).
    plateau_s, plateau_tol_deg: a hold is at least ``plateau_s`` seconds with every sample
        within ``plateau_tol_deg`` of its median (and slower than 15°/s).
    min_rise_deg: the hold must be this far beyond the attempt's starting angle.
    max_attempt_s: after this long, capture the best hold seen (``plateau=False``); without
        any hold the attempt fails (not captured: one frame is not an end range).
    view_hold_s: the view must be right this long before the countdown starts.
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
        plateau_s: float = 1.0,
        plateau_tol_deg: float = 4.0,
        min_rise_deg: float = 10.0,
        max_attempt_s: float = 15.0,
        view_hold_s: float = 0.5,
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
        self.view_hold_s = view_hold_s
        self.phase = Phase.INSTRUCT
        self.captures: list[Capture] = []
        self.failed_attempts = 0
        self._last_failed = False
        self._prompt = ""
        self._candidate = ("", 0.0)
        self.last_view: ViewCheck | None = None
        self._view_ok_since: float | None = None
        self._phase_t0: float | None = None
        self._t: list[float] = []
        self._a: list[float] = []
        self._u: list[float] = []
        self._q: list[str] = []
        self._also: list[dict[str, float]] = []
        self._last_t: float | None = None

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
    def best_uncertainty_deg(self) -> float | None:
        """Uncertainty of the best capture."""
        if not self.captures:
            return None
        return max(self.captures, key=lambda c: c.angle_deg).uncertainty_deg

    @property
    def quality(self) -> str:
        """Worst quality among the captures (``poor`` without any)."""
        return worst_quality([c.quality for c in self.captures])

    # -- view --------------------------------------------------------------------------------
    def check_view(self, result) -> ViewCheck:
        """View check of a pose for this screen and side (see :func:`.views.check_view`)."""
        side = self.side if self.screen.view == "lateral" else None
        return check_view(
            result,
            self.screen.view,  # type: ignore[arg-type]
            side=side,  # type: ignore[arg-type]
            landmarks=self.screen.landmarks(self.side),
            tolerance_deg=self.screen.view_tolerance_deg,
        )

    def feed(self, t_s: float, analysis) -> SessionView:
        """Advance with one :class:`~workbench.mobility.pipeline.FrameAnalysis` (or ``None``)."""
        view = self.check_view(None if analysis is None else analysis.smoothed)
        if analysis is None:
            return self.update(t_s, None, None, view=view)
        angles = analysis.values()
        quals = {k: r.quality for k, r in analysis.angles.items()}
        unc = {k: r.uncertainty_deg for k, r in analysis.angles.items()}
        return self.update(t_s, angles, quals, uncertainties=unc, view=view)

    #: A new view prompt is shown once it has persisted this long (no flicker per frame).
    PROMPT_HOLD_S = 0.4

    def _debounce_prompt(self, view: ViewCheck | None, t_s: float) -> None:
        text = "" if view is None or view.ok else view.message
        kind = text.split(" (")[0]  # the numbers in a prompt change every frame
        if kind != self._candidate[0]:
            self._candidate = (kind, t_s)
        same_kind = self._prompt.split(" (")[0] == kind
        if same_kind or not self._prompt or t_s - self._candidate[1] >= self.PROMPT_HOLD_S:
            self._prompt = text

    # -- machine -----------------------------------------------------------------------------
    def _enter(self, phase: Phase, t_s: float) -> None:
        self.phase, self._phase_t0 = phase, t_s
        if phase is Phase.MEASURE:
            self._t, self._a, self._u, self._q, self._also = [], [], [], [], []

    def _left(self, t_s: float, duration_s: float) -> float:
        assert self._phase_t0 is not None
        return max(0.0, duration_s - (t_s - self._phase_t0))

    def _hold(self, *, require_end: bool) -> EndRange | None:
        t, a = np.asarray(self._t), np.asarray(self._a, dtype=float)
        if t.size < 3:
            return None
        finite = a[np.isfinite(a)]
        if finite.size == 0:
            return None
        er = end_range(
            t,
            a,
            uncertainty_deg=np.asarray(self._u, dtype=float),
            min_hold_s=self.plateau_s,
            tol_deg=self.plateau_tol_deg,
        )
        if er is None or er.angle_deg < finite[0] + self.min_rise_deg:
            return None
        if require_end and er.end_t_s < t[-1] - 1e-9:
            return None  # the best hold is over; wait for the current one
        return er

    def _capture(self, hold: EndRange, plateau: bool) -> None:
        idx = [i for i, ti in enumerate(self._t) if hold.start_t_s <= ti <= hold.end_t_s]
        quality = worst_quality([self._q[i] for i in idx]) if idx else "poor"
        also = self._also[idx[-1]] if idx else {}
        self._last_failed = False
        self.captures.append(
            Capture(
                hold.angle_deg, hold.start_t_s, quality, plateau, also, hold.uncertainty_deg, hold
            )
        )

    def update(
        self,
        t_s: float,
        angles: dict[str, float | None] | None = None,
        qualities: dict[str, str] | None = None,
        *,
        uncertainties: dict[str, float | None] | None = None,
        view: ViewCheck | None = None,
    ) -> SessionView:
        """Advance to time ``t_s`` with this frame's angles (``None``: no person seen).

        ``angles`` maps full angle names (``left_hip_flexion``) to degrees (``None`` = not
        measurable); ``qualities`` and ``uncertainties`` the matching flags and 1-SD values.
        ``view`` is this frame's :class:`~workbench.mobility.views.ViewCheck` (``None``:
        the caller vouches for the view).
        """
        if self._phase_t0 is None:
            self._phase_t0 = t_s
        if self._last_t is not None and t_s <= self._last_t:
            raise DataFormatError(f"timestamps must increase: {t_s} s after {self._last_t} s")
        self._last_t = t_s
        self.last_view = view
        self._debounce_prompt(view, t_s)
        view_ok = view is None or view.ok
        if view_ok:
            self._view_ok_since = t_s if self._view_ok_since is None else self._view_ok_since
        else:
            self._view_ok_since = None
        if self.phase is Phase.INSTRUCT and self._left(t_s, self.instruct_s) <= 0:
            self._enter(Phase.VIEW, t_s)
        if self.phase is Phase.VIEW and view_ok:
            since = t_s if self._view_ok_since is None else self._view_ok_since
            held = view is None or t_s - since >= self.view_hold_s
            if held:
                self._enter(Phase.COUNTDOWN, t_s)
        if self.phase is Phase.COUNTDOWN and not view_ok:
            self._enter(Phase.VIEW, t_s)
        if self.phase is Phase.COUNTDOWN and self._left(t_s, self.countdown_s) <= 0:
            self._enter(Phase.MEASURE, t_s)
        if self.phase is Phase.REST and self._left(t_s, self.rest_s) <= 0:
            if len(self.captures) < self.repeats:
                self._enter(Phase.VIEW, t_s)
                if view_ok:
                    self._enter(Phase.COUNTDOWN, t_s)
            else:
                self._enter(Phase.DONE, t_s)
        if self.phase is Phase.MEASURE:
            name = self.angle_name
            raw = None if not angles else angles.get(name)
            value = np.nan if raw is None or not view_ok else float(raw)
            unc = (uncertainties or {}).get(name)
            self._t.append(t_s)
            self._a.append(value)
            self._u.append(np.nan if unc is None else float(unc))
            self._q.append((qualities or {}).get(name, "poor") if np.isfinite(value) else "poor")
            also = {}
            if angles:
                for m, b in self.screen.also.items():
                    v = angles.get(self._name(b))
                    if v is not None:
                        also[m] = float(v)
            self._also.append(also)
            timeout = self._left(t_s, self.max_attempt_s) <= 0
            hold = self._hold(require_end=True)
            if hold is not None or timeout:
                if hold is None:
                    hold = self._hold(require_end=False)  # a hold that is already over
                if hold is not None:
                    self._capture(hold, plateau=not timeout)
                else:  # one frame is not an end range: the attempt does not count
                    self.failed_attempts += 1
                    self._last_failed = True
                done = len(self.captures) + self.failed_attempts >= self.repeats
                self._enter(Phase.DONE if done else Phase.REST, t_s)
        return self.view(t_s)

    def finish(self, t_s: float) -> SessionView:
        """Stop now (end of a video): capture the running attempt if it held long enough."""
        if self.phase is Phase.MEASURE and len(self._t) >= 2:
            hold = self._hold(require_end=False)
            if hold is not None:
                self._capture(hold, plateau=False)
            else:
                self.failed_attempts += 1
        self._enter(Phase.DONE, t_s)
        return self.view(t_s)

    def view(self, t_s: float) -> SessionView:
        """The current state, for display."""
        s, n = self.screen, len(self.captures)
        side = self.side
        vc = self.last_view
        view_ok = vc is None or vc.ok
        prompt = "" if view_ok else self._prompt
        if self.phase is Phase.INSTRUCT:
            msg, left = f"{s.title} ({side}): {s.instructions}", self._left(t_s, self.instruct_s)
        elif self.phase is Phase.VIEW:
            msg = prompt or "View OK: hold still…"
            left = None
        elif self.phase is Phase.COUNTDOWN:
            left = self._left(t_s, self.countdown_s)
            msg = f"Attempt {n + 1}/{self.repeats} ({self.speed}) in {int(np.ceil(left))}…"
        elif self.phase is Phase.MEASURE:
            msg = prompt or f"Go to end range ({side}) and hold"
            left = None
        elif self.phase is Phase.REST:
            if self._last_failed:
                msg = "No stable 1 s hold at end range: attempt not counted. Relax."
            else:
                msg = f"Captured {_fmt(self.captures[-1])}. Relax."
            left = self._left(t_s, self.rest_s)
        else:
            best = max(self.captures, key=lambda c: c.angle_deg) if self.captures else None
            msg = (
                f"Done: best {_fmt(best)}, median {self.median_deg:.0f}°"
                if best is not None
                else "Done: no stable hold at end range was captured"
            )
            left = None
        return SessionView(self.phase, msg, left, n, tuple(self.captures), view_ok)


def _fmt(c: Capture) -> str:
    u = f" ± {c.uncertainty_deg:.0f}°" if c.uncertainty_deg is not None else ""
    return f"{c.angle_deg:.0f}°{u} ({c.quality})"


def screen_frames(
    frames: Iterable[tuple],
    screen: str | Screen,
    *,
    sides: tuple[str, ...] = ("left", "right"),
    repeats: int = 3,
    speed: Speed = "slow",
    **timing: float,
) -> dict[str, ScreeningSession]:
    """Run one session per side over frames (no pauses).

    A frame is ``(t_s, FrameAnalysis | None)`` (view-checked) or ``(t_s, angles, qualities)``.
    """
    kwargs: dict[str, float] = {"instruct_s": 0.0, "countdown_s": 0.0, "rest_s": 0.0}
    kwargs.update(timing)
    sessions = {
        side: ScreeningSession(screen, side, repeats=repeats, speed=speed, **kwargs)  # type: ignore[arg-type]
        for side in sides
    }
    t_last = 0.0
    for frame in frames:
        t_s = frame[0]
        t_last = t_s
        for sess in sessions.values():
            if sess.phase is Phase.DONE:
                continue
            if len(frame) == 2:  # (t_s, FrameAnalysis | None): view-checked
                sess.feed(t_s, frame[1])
            else:
                sess.update(t_s, frame[1], frame[2])
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
    """Run a screen on a video file, both sides at once, with the view check of each side."""
    from .pipeline import PosePipeline, iter_video

    def frames():
        with PosePipeline() as pipe:
            for t_s, rgb in iter_video(path, max_frames=max_frames):
                yield t_s, pipe.process(rgb, t_s)

    return screen_frames(frames(), screen, sides=sides, repeats=repeats, speed=speed, **timing)
