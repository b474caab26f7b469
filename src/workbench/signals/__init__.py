"""signals."""
from workbench.signals.emg import emg_clean, emg_envelope, emg_fatigue, emg_onsets  # noqa: F401
from workbench.signals.smo2 import smo2_clean, smo2_intervals, smo2_kinetics  # noqa: F401
