"""Supervised blood-flow-restriction (BFR) training: limits, regulator, supervisor, session.

Safety first: the safe state is a vented cuff. See ``BFR-SAFETY.md`` and
``docs/decisions/0004-bfr-control.md``. Nothing here runs at import time.
"""

from workbench.bfr.adaptive import AdaptiveDecision, AdaptiveInputs, AdaptiveModulator
from workbench.bfr.authority import Authorization, authorization, authorize_override
from workbench.bfr.calibration import (
    AopReading,
    CalibrationError,
    CalibrationPlan,
    CalibrationResult,
    ConfirmedAOP,
    CuffContext,
    DopplerDetector,
    NirsDetector,
    PpgDetector,
    RemeasureRequired,
    confirm_aop,
    plan_calibration,
    predict_aop,
    run_calibration,
)
from workbench.bfr.control import ControlCore, ControlThread
from workbench.bfr.limits import (
    CalibrationLimits,
    CuffLimits,
    PrescriptionError,
    SiteLimits,
    validate_aop,
    validate_percent_aop,
    validate_prescription,
)
from workbench.bfr.manual import ManualSession, Prompt
from workbench.bfr.presets import ProtocolPreset, get_preset, presets
from workbench.bfr.protocol import CuffCommand, CuffController, CuffStatus, PressureReading
from workbench.bfr.scheme_learning import (
    Recommendation,
    SchemeLearner,
    SchemeOption,
    session_reward,
    store_recommendation,
)
from workbench.bfr.screening import (
    Override,
    ScreeningError,
    ScreeningForm,
    ScreeningResult,
    evaluate_screening,
)
from workbench.bfr.session import (
    BfrSession,
    Prescription,
    SessionError,
    SessionState,
    Timers,
    make_prescription,
)
from workbench.bfr.simulation.control_run import FAULTS, SessionResult, simulate_session
from workbench.bfr.simulation.cuff import CuffParams, CuffSimulator
from workbench.bfr.simulation.session_run import SimulatedSession, run_simulated_session
from workbench.bfr.supervisor import Supervisor, Trip

__all__ = [
    "CalibrationLimits",
    "Authorization",
    "authorization",
    "authorize_override",
    "AdaptiveDecision",
    "AdaptiveInputs",
    "AdaptiveModulator",
    "ManualSession",
    "Prompt",
    "Recommendation",
    "SchemeLearner",
    "SchemeOption",
    "session_reward",
    "store_recommendation",
    "AopReading",
    "BfrSession",
    "CalibrationError",
    "CalibrationPlan",
    "CalibrationResult",
    "ConfirmedAOP",
    "CuffContext",
    "DopplerDetector",
    "NirsDetector",
    "Override",
    "PpgDetector",
    "Prescription",
    "ProtocolPreset",
    "RemeasureRequired",
    "ScreeningError",
    "ScreeningForm",
    "ScreeningResult",
    "SessionError",
    "SessionState",
    "SimulatedSession",
    "Timers",
    "confirm_aop",
    "evaluate_screening",
    "get_preset",
    "make_prescription",
    "plan_calibration",
    "predict_aop",
    "presets",
    "run_calibration",
    "run_simulated_session",
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
