"""Readers of real file formats (pure: path in, arrays/DataFrames out; no database)."""
from workbench.io.emg import read_emg as read_emg  # noqa: E402
from workbench.io.nirs import read_nirs as read_nirs  # noqa: E402
