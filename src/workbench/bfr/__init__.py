"""Supervised blood-flow-restriction (BFR) training: limits, regulator, supervisor, session.

Safety first: the safe state is a vented cuff. See ``BFR-SAFETY.md`` and
``docs/decisions/0004-bfr-control.md``. Nothing here runs at import time.
"""

from workbench.bfr.control import ControlCore, ControlThread
from workbench.bfr.limits import (
    CuffLimits,
    PrescriptionError,
    SiteLimits,
    validate_aop,
    validate_percent_aop,
    validate_prescription,
)
from workbench.bfr.protocol import CuffCommand, CuffController, CuffStatus, PressureReading
from workbench.bfr.simulate import FAULTS, SessionResult, simulate_session
from workbench.bfr.simulator import CuffParams, CuffSimulator
from workbench.bfr.supervisor import Supervisor, Trip

__all__ = [
    "FAULTS",
    "ControlCore",
    "ControlThread",
    "CuffCommand",
    "CuffController",
    "CuffLimits",
    "CuffParams",
    "CuffSimulator",
    "CuffStatus",
    "PrescriptionError",
    "PressureReading",
    "SessionResult",
    "SiteLimits",
    "Supervisor",
    "Trip",
    "simulate_session",
    "validate_aop",
    "validate_percent_aop",
    "validate_prescription",
]
