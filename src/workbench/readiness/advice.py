"""Daily advice from a readiness row: session intensity, volume, active recovery, bedtime."""

from __future__ import annotations

import math

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


def daily_advice(
    band: str,
    *,
    illness_flag: bool,
    overtraining_warning: bool,
    load_spike: bool,
    sleep_need_min: float,
    sleep_debt_7d_min: float,
    wake_time: str = "07:00",
) -> tuple[str, list[str]]:
    """Action and advice lines for one athlete-day.

    Returns
    -------
    (action, lines)
        ``action`` is ``"train hard"``, ``"moderate"``, ``"recovery"`` or ``"insufficient
        data"``; ``lines`` are short sentences for the athlete/coach, bedtime last.
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
    bt, target = bedtime(sleep_need_min, sleep_debt_7d_min, wake_time)
    lines.append(
        f"Bedtime {bt} for {int(target // 60)} h {int(round(target % 60)):02d} min of sleep "
        f"(wake {wake_time})."
    )
    return action, lines
