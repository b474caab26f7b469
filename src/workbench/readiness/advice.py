"""Daily advice from a readiness row: session intensity, volume, active recovery, bedtime."""

from __future__ import annotations

import math

import numpy as np

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
) -> tuple[str, list[str]]:
    """Action and advice lines for one athlete-day.

    Returns
    -------
    (action, lines)
        ``action`` is ``"train hard"``, ``"moderate"``, ``"recovery"`` or ``"insufficient
        data"``; ``lines`` are short sentences for the athlete/coach, bedtime last
        (``bedtime_line`` when given, e.g. from :func:`bedtime_lines`).
    """
    lines: list[str] = []
    if band == "insufficient data":
        action = "insufficient data"
        lines.append("Not enough HRV mornings for a personal baseline yet: train as planned.")
    elif illness_flag or overtraining_warning or band == "recovery":
        action = "recovery"
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
    elif band == "moderate" or load_spike:
        action = "moderate"
        lines.append("Train moderately: keep intensity, reduce volume 20 %.")
    else:
        action = "train hard"
        lines.append("Ready to train hard: the planned key session is appropriate.")
    if load_spike and action != "recovery":
        lines.append("Load-spike flag (ACWR >= 1.5): reduce volume 20 % to smooth the ramp.")
    if bedtime_line is None:
        bedtime_line = bedtime_lines(
            np.array([sleep_need_min]), np.array([sleep_debt_7d_min]), wake_time
        )[0]
    lines.append(bedtime_line)
    return action, lines
