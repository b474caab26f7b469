"""Dead-channel checks shared by the readers (pure, numpy only).

A channel is *dead* when it carries no measurement: no finite value, all zero, constant,
stuck at a saturation rail, or mostly outside its physiological range. Readers report dead
channels (``df.attrs["dead_channels"]``, ``EmgFile.meta["dead_channels"]``,
``RRRecording.flags``) and use an alternative column where the export has one; they never
drop or repair the values themselves.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["dead_reason"]


def dead_reason(
    values: np.ndarray | Sequence[float],
    *,
    valid_range: tuple[float, float] | None = None,
    rails: Sequence[float] = (),
    min_samples: int = 5,
    max_bad_fraction: float = 0.5,
) -> str | None:
    """Why a channel is dead, or ``None`` when it looks like a measurement.

    Parameters
    ----------
    values:
        The channel's samples (NaN = missing).
    valid_range:
        Physiological range (inclusive); more than ``max_bad_fraction`` of the finite samples
        outside it makes the channel dead ("out of range").
    rails:
        Saturation values (ADC limits, 0 % / 100 % SmO2); more than ``max_bad_fraction`` of the
        samples on a rail makes the channel dead ("saturated").
    min_samples:
        Below this many finite samples "constant" is not judged (two equal values prove
        nothing).
    max_bad_fraction:
        Share of bad samples above which the channel counts as dead.

    Returns
    -------
    str or None
        A short reason (``"no data"``, ``"all zero"``, ``"constant at 42"``, ``"saturated at
        4095 (97 % of samples)"``, ``"out of range 0-100 (80 % of samples)"``) or ``None``.
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    finite = x[np.isfinite(x)]
    if finite.size == 0:
        return "no data (no finite value)"
    if not finite.any():
        return "all zero"
    lo, hi = float(finite.min()), float(finite.max())
    if finite.size >= min_samples and lo == hi:
        return f"constant at {lo:g}"
    for rail in rails:
        share = float(np.mean(finite == rail))
        if share > max_bad_fraction:
            return f"saturated at {rail:g} ({share:.0%} of samples)"
    if valid_range is not None:
        a, b = valid_range
        share = float(np.mean((finite < a) | (finite > b)))
        if share > max_bad_fraction:
            return f"out of range {a:g}-{b:g} ({share:.0%} of samples)"
    return None
