"""Argument checks shared by the signal modules."""

from __future__ import annotations

import numpy as np


def check_sampling_rate(sampling_rate_hz: float) -> float:
    """``sampling_rate_hz`` as a float; ValueError unless it is a finite positive number."""
    fs = float(sampling_rate_hz)
    if not np.isfinite(fs) or fs <= 0:
        raise ValueError(f"sampling_rate_hz must be a positive number, got {sampling_rate_hz!r}")
    return fs
