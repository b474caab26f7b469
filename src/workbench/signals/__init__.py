"""Pure analytics over numpy/pandas (no I/O, no widgets)."""

from workbench.signals.emg import emg_clean, emg_envelope, emg_fatigue, emg_onsets
from workbench.signals.hrv import (
    HRV_FREQUENCY_BANDS_HZ,
    HRV_TIME_COLUMNS,
    RRCleanResult,
    hrv_frequency,
    hrv_nonlinear,
    hrv_time,
    rr_clean,
)
from workbench.signals.smo2 import smo2_clean, smo2_intervals, smo2_kinetics

__all__ = [
    "emg_clean",
    "emg_envelope",
    "emg_fatigue",
    "emg_onsets",
    "smo2_clean",
    "smo2_intervals",
    "smo2_kinetics",
    "HRV_FREQUENCY_BANDS_HZ",
    "HRV_TIME_COLUMNS",
    "RRCleanResult",
    "hrv_frequency",
    "hrv_nonlinear",
    "hrv_time",
    "rr_clean",
]
