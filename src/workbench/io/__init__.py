"""Readers of real file formats (pure: path in, arrays/DataFrames out; no database)."""

from workbench.io.daily import daily_format, read_biomarkers, read_daily, read_performance_tests
from workbench.io.emg import read_emg
from workbench.io.nirs import read_nirs
from workbench.io.rr import RRRecording, read_rr, read_rr_recording

__all__ = [
    "RRRecording",
    "daily_format",
    "read_biomarkers",
    "read_daily",
    "read_emg",
    "read_nirs",
    "read_performance_tests",
    "read_rr",
    "read_rr_recording",
]
