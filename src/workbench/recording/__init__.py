"""Recording: live sources into the store durably, markers/laps, exports (CSV, Parquet, EDF+)."""

from workbench.recording.export import export_csv, export_edf, export_parquet, stream_frame
from workbench.recording.recorder import Recorder, mark_stale_recordings_interrupted

__all__ = [
    "Recorder",
    "export_csv",
    "export_edf",
    "export_parquet",
    "mark_stale_recordings_interrupted",
    "stream_frame",
]
