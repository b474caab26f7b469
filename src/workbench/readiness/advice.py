"""Daily advice from a readiness row: session intensity, volume, active recovery, bedtime.

Also the one place where a score becomes what a coach reads, so that the card, the squad
table, the advice and next week's plan cannot disagree: :func:`score_points` (the displayed
integer, half up), :func:`readiness_band` (bands on that integer, capped by the flags),
:func:`readiness_call` (the day's action) and :func:`format_score`.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

#: Band thresholds on the displayed score: go hard above 80, moderate from 60, else recovery.
GO_HARD_ABOVE = 80
MODERATE_FROM = 60
INSUFFICIENT = "insufficient data"


def score_points(score: ArrayLike) -> np.ndarray:
    """The displayed readiness score: rounded half up to an integer (NaN stays NaN).

    Every view shows this value and the bands are decided on it, so 80.4 is shown as 80 and
    is ``moderate`` (go hard needs > 80), never "80, go hard".
    """
    return np.floor(np.asarray(score, dtype=float) + 0.5)


def format_score(score: float | None) -> str:
    """``"87"`` (see :func:`score_points`), or ``"–"`` when there is no score."""
    if score is None or not math.isfinite(float(score)):
        return "–"
    return f"{int(score_points(score))}"


def score_band(score: ArrayLike) -> np.ndarray:
    """Band of the displayed score alone: ``go hard`` (> 80), ``moderate`` (60-80),
    ``recovery`` (< 60) or ``insufficient data`` (no score)."""
    pts = score_points(score)
    band = np.full(pts.shape, INSUFFICIENT, dtype=object)
    ok = np.isfinite(pts)
    band[ok] = "recovery"
    band[ok & (pts >= MODERATE_FROM)] = "moderate"
    band[ok & (pts > GO_HARD_ABOVE)] = "go hard"
    return band


def cap_band(
    band: ArrayLike,
    *,
    hrv_below_normal: ArrayLike = False,
    illness_flag: ArrayLike = False,
    overtraining_warning: ArrayLike = False,
    load_spike: ArrayLike = False,
    rhr_red: ArrayLike = False,
) -> np.ndarray:
    """Lower score bands by the flags (scalars or arrays of the same shape).

    A possible illness or an overtraining warning makes any scored day ``recovery``; a 7-day
    HRV below the personal normal range, a load spike (yesterday's ACWR >= 1.5) or a red
    resting HR (|z| >= 2) caps ``go hard`` at ``moderate``. So "go hard" never stands next
    to one of those flags, and the band names the day's action (:func:`readiness_call`).
    """
    band = np.asarray(band, dtype=object)
    scored = np.isin(band, ("go hard", "moderate", "recovery"))
    ill = np.asarray(illness_flag, dtype=bool) | np.asarray(overtraining_warning, dtype=bool)
    band = np.where(scored & ill, "recovery", band)
    cap = (
        np.asarray(hrv_below_normal, dtype=bool)
        | np.asarray(load_spike, dtype=bool)
        | np.asarray(rhr_red, dtype=bool)
    )
    return np.where((band == "go hard") & cap, "moderate", band)


def readiness_band(score: ArrayLike, **flags: ArrayLike) -> np.ndarray:
    """The band a coach sees: :func:`score_band` lowered by the flags (keywords of
    :func:`cap_band`)."""
    return cap_band(score_band(score), **flags)


def band_cap_reason(
    score: float,
    band: str,
    *,
    hrv_below_normal: bool = False,
    illness_flag: bool = False,
    overtraining_warning: bool = False,
    load_spike: bool = False,
    rhr_red: bool = False,
) -> str | None:
    """Why ``band`` is below the score's own band (a sentence), or ``None`` when it is not."""
    if score is None or not math.isfinite(score):
        return None
    pts = math.floor(score + 0.5)
    own = "go hard" if pts > GO_HARD_ABOVE else "moderate" if pts >= MODERATE_FROM else "recovery"
    order = ("recovery", "moderate", "go hard")
    if own not in order or band not in order or order.index(band) >= order.index(own):
        return None
    why = (
        "possible illness"
        if illness_flag
        else "overtraining warning"
        if overtraining_warning
        else "HRV 7-day mean below the normal range"
        if hrv_below_normal
        else "the load-spike flag"
        if load_spike
        else "a red resting HR"
        if rhr_red
        else "a flag"
    )
    return f"Readiness {format_score(score)} alone would be {own}; {why} makes it {band} today."


def readiness_call(
    band: str, *, illness_flag: bool, overtraining_warning: bool, load_spike: bool
) -> str:
    """The day's action: ``recovery``, ``moderate``, ``train hard`` or ``insufficient data``.

    The one rule behind the advice (:func:`daily_advice`) and next week's plan
    (:func:`workbench.planning.recovery_status`).
    """
    if illness_flag or overtraining_warning or band == "recovery":
        return "recovery"
    if band == INSUFFICIENT:
        return INSUFFICIENT
    if band == "moderate" or load_spike:
        return "moderate"
    return "train hard"


ACTIVE_RECOVERY = (
    "active recovery: 20-30 min easy cycling or walking (HR < 65 % HRmax), mobility work, "
    "5 min slow breathing"
)


def bedtime(
    sleep_need_min: float, sleep_debt_7d_min: float, wake_time: str = "07:00"
) -> tuple[str, float]:
    """Bedtime that covers tonight's need plus a third of the week's debt (at most +60 min).

    Parameters
    ----------
    sleep_need_min:
        Nightly sleep need (minutes).
    sleep_debt_7d_min:
        Shortfall over the last 7 nights (minutes); NaN counts as 0.
    wake_time:
        Planned wake-up time, ``"HH:MM"``.

    Returns
    -------
    (bedtime, target_sleep_min)
        ``"HH:MM"`` lights-out time (15 min sleep latency included) and the sleep target.
    """
    hh, mm = (int(p) for p in wake_time.split(":"))
    debt = 0.0 if not math.isfinite(sleep_debt_7d_min) else max(sleep_debt_7d_min, 0.0)
    target = sleep_need_min + min(debt / 3.0, 60.0)
    minutes = (hh * 60 + mm - target - 15) % (24 * 60)
    m = int(round(minutes / 5.0) * 5) % (24 * 60)
    return f"{m // 60:02d}:{m % 60:02d}", target


def bedtime_lines(
    sleep_need_min: np.ndarray, sleep_debt_7d_min: np.ndarray, wake_time: str = "07:00"
) -> list[str]:
    """The bedtime sentence of :func:`daily_advice` for many days at once (same rule as
    :func:`bedtime`)."""
    hh, mm = (int(p) for p in wake_time.split(":"))
    debt = np.clip(np.nan_to_num(np.asarray(sleep_debt_7d_min, dtype=float)), 0.0, None)
    target = np.asarray(sleep_need_min, dtype=float) + np.minimum(debt / 3.0, 60.0)
    minutes = np.mod(hh * 60 + mm - target - 15, 24 * 60)
    m = (np.round(minutes / 5.0) * 5).astype(int) % (24 * 60)
    th, tm = (target // 60).astype(int), np.round(target % 60).astype(int)
    return [
        f"Bedtime {a // 60:02d}:{a % 60:02d} for {h} h {t:02d} min of sleep (wake {wake_time})."
        for a, h, t in zip(m.tolist(), th.tolist(), tm.tolist(), strict=True)
    ]


def daily_advice(
    band: str,
    *,
    illness_flag: bool,
    overtraining_warning: bool,
    load_spike: bool,
    sleep_need_min: float,
    sleep_debt_7d_min: float,
    wake_time: str = "07:00",
    bedtime_line: str | None = None,
    cap_reason: str | None = None,
) -> tuple[str, list[str]]:
    """Action and advice lines for one athlete-day.

    Returns
    -------
    (action, lines)
        ``action`` is ``"train hard"``, ``"moderate"``, ``"recovery"`` or ``"insufficient
        data"``; ``lines`` are short sentences for the athlete/coach, bedtime last
        (``bedtime_line`` when given, e.g. from :func:`bedtime_lines`); ``cap_reason``
        (:func:`band_cap_reason`) comes first when the flags lowered the band.
    """
    lines: list[str] = [cap_reason] if cap_reason else []
    action = readiness_call(
        band,
        illness_flag=illness_flag,
        overtraining_warning=overtraining_warning,
        load_spike=load_spike,
    )
    if band == INSUFFICIENT:
        lines.append(
            "Not enough HRV mornings for a personal baseline yet"
            + (": train as planned." if action == INSUFFICIENT else ".")
        )
    if action == "recovery":
        lines.append(f"Recovery day: no hard session; {ACTIVE_RECOVERY}.")
        if illness_flag:
            lines.append(
                "Possible illness / incomplete recovery: check symptoms and temperature, "
                "skip intensity until markers return."
            )
        if overtraining_warning:
            lines.append(
                "Overtraining warning (sustained multi-marker pattern, not a diagnosis): "
                "review the training plan with staff and reduce load this week."
            )
    elif action == "moderate":
        lines.append("Train moderately: keep intensity, reduce volume 20 %.")
    else:
        lines.append("Ready to train hard: the planned key session is appropriate.")
    if load_spike and action != "recovery":
        lines.append("Load-spike flag (ACWR >= 1.5): reduce volume 20 % to smooth the ramp.")
    if bedtime_line is None:
        bedtime_line = bedtime_lines(
            np.array([sleep_need_min]), np.array([sleep_debt_7d_min]), wake_time
        )[0]
    lines.append(bedtime_line)
    return action, lines
