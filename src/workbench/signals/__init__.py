"""Pure analytics over numpy/pandas (no I/O, no widgets)."""

from workbench.signals.hrv import (
    HRV_FREQUENCY_BANDS_HZ,
    HRV_TIME_COLUMNS,
    RRCleanResult,
    hrv_frequency,
    hrv_nonlinear,
    hrv_time,
    rr_clean,
)

__all__ = [
    "HRV_FREQUENCY_BANDS_HZ",
    "HRV_TIME_COLUMNS",
    "RRCleanResult",
    "hrv_frequency",
    "hrv_nonlinear",
    "hrv_time",
    "rr_clean",
]
