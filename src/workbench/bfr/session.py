"""The BFR session state machine on an injected clock (BFR-SAFETY 2, 5, 20-23).

screening -> cuff -> aop -> prescription -> ready -> set <-> rest -> reperfusion -> done
(any state -> aborted). :class:`BfrSession` decides and records; it does not run the cuff:
:meth:`BfrSession.build_control` and :meth:`BfrSession.live` hand out a control core or a
live session only when every gate passes; the panel drives that live session only through
it (arm, scheme/manual mode, adaptive toggle, vent, end, next-session recommendation). The
simulated run of a whole session: :mod:`workbench.bfr.simulation.session_run`.
Why: ``docs/decisions/0004-bfr-control.md``.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from workbench.bfr.adaptive import AdaptiveDecision, AdaptiveInputs, AdaptiveModulator
from workbench.bfr.calibration import (
    AopReading,
    CalibrationError,
    ConfirmedAOP,
    CuffContext,
    RemeasureRequired,
    confirm_aop,
    predict_aop,
)
from workbench.bfr.control import ControlCore
from workbench.bfr.ledger import TimeLedger, ledger_key
from workbench.bfr.limits import CuffLimits, PrescriptionError, SiteLimits
from workbench.bfr.presets import ProtocolPreset
from workbench.bfr.protocol import CuffController
from workbench.bfr.scheme_learning import Recommendation, SchemeLearner, store_recommendation
from workbench.bfr.screening import (
    ScreeningError,
    ScreeningForm,
    ScreeningResult,
    evaluate_screening,
)
from workbench.bfr.supervisor import HIGH, MEDIUM, Event, Supervisor, Trip
from workbench.errors import SafetyError, SafetyReason

#: Largest step down of the live setpoint per :meth:`BfrSession.step_setpoint`, mmHg.
SP_STEP_DOWN_MMHG = 5.0


class SessionState(str, enum.Enum):
    """States of :class:`BfrSession`."""

    SCREENING = "screening"
    CUFF = "cuff"
    AOP = "aop"
    PRESCRIPTION = "prescription"
    READY = "ready"
    SET = "set"
    REST = "rest"
    REPERFUSION = "reperfusion"
    DONE = "done"
    ABORTED = "aborted"


class SessionError(SafetyError, ValueError):
    """An action is not allowed in the session's current state (nothing inflates)."""

    def __init__(self, message: str, *, reason: SafetyReason = SafetyReason.SCREENING):
        SafetyError.__init__(self, message, reason=reason)


@dataclass(frozen=True)
class Prescription:
    """What the athlete does under the cuff; the setpoint derives from a confirmed AOP.

    Attributes
    ----------
    aop:
        The confirmed AOP the setpoint comes from.
    percent_aop, setpoint_mmhg:
        Prescribed pressure (40-80 % AOP) and the validated setpoint in mmHg.
    exercise, load_pct_1rm:
        Exercise name and external load in % 1RM (20-40).
    scheme:
        Reps per set, e.g. ``(30, 15, 15, 15)``.
    rest_s:
        Rest between sets (cuff inflated), s.
    restriction_max_s:
        Maximum restriction time for this exercise, s (<= the continuous limit).
    """

    aop: ConfirmedAOP
    percent_aop: float
    setpoint_mmhg: float
    exercise: str
    load_pct_1rm: float
    scheme: tuple[int, ...]
    rest_s: float
    restriction_max_s: float

    @property
    def scheme_label(self) -> str:
        """E.g. ``"30-15-15-15"``."""
        return "-".join(str(r) for r in self.scheme)


def make_prescription(
    aop: ConfirmedAOP,
    percent_aop: float,
    *,
    exercise: str,
    load_pct_1rm: float,
    scheme: Sequence[int] = (30, 15, 15, 15),
    rest_s: float = 30.0,
    restriction_max_s: float = 600.0,
    preset: ProtocolPreset | None = None,
    site: SiteLimits | None = None,
) -> Prescription:
    """Validate a prescription against the limits (and ``preset``'s ranges if given).

    Raises
    ------
    PrescriptionError
        Not a :class:`ConfirmedAOP`, % AOP outside 40-80 (or the preset range), load,
        scheme, rest or restriction time outside the limits.
    """
    if not isinstance(aop, ConfirmedAOP):
        raise PrescriptionError(
            "a prescription needs a ConfirmedAOP (two agreeing readings, req 2)",
            reason=SafetyReason.AOP_INVALID,
        )
    aop.verify()  # a copied-and-edited confirmation is refused
    if not isinstance(exercise, str) or not exercise.strip():
        raise PrescriptionError("prescription needs the exercise name")
    base = preset or ProtocolPreset(
        key="custom",
        name="custom",
        population="custom",
        percent_aop_range=(40.0, 80.0),
        percent_aop=60.0,
        load_pct_1rm_range=(20.0, 40.0),
        load_pct_1rm=30.0,
    )
    checked = base.edit(
        percent_aop=percent_aop,
        load_pct_1rm=load_pct_1rm,
        scheme=tuple(scheme),
        rest_s=rest_s,
        restriction_max_s=restriction_max_s,
    )
    limits = aop.limits(site)
    if checked.restriction_max_s > limits.continuous_max_s:
        raise PrescriptionError(
            f"restriction time {checked.restriction_max_s:g} s exceeds the continuous "
            f"inflation limit {limits.continuous_max_s:g} s"
        )
    sp = aop.setpoint_for(checked.percent_aop, site)
    return Prescription(
        aop,
        checked.percent_aop,
        sp,
        exercise.strip(),
        checked.load_pct_1rm,
        checked.scheme,
        float(checked.rest_s),
        float(checked.restriction_max_s),
    )


@dataclass(frozen=True, kw_only=True)
class Timers:
    """What the panel shows (seconds); ``prompt`` is the next instruction in words."""

    state: str
    set_number: int
    sets_total: int
    reps: int
    reps_target: int
    set_elapsed_s: float
    rest_remaining_s: float
    restriction_elapsed_s: float
    restriction_max_s: float
    lockout_remaining_s: float
    cumulative_inflated_s: float
    prompt: str


class BfrSession:
    """State machine of one BFR session (one athlete, cuff, limb and side).

    States::

        screening -> cuff -> aop -> prescription -> ready -> set <-> rest -> reperfusion -> done
                                                       any state -> aborted

    - ``screening``: no inflation until a screening of the athlete is complete for the day
      (:mod:`workbench.bfr.screening`; absolute contraindications and BP >= 180/110 block;
      relative ones need a named supervisor's override).
    - ``cuff``: the cuff is on; a cuff already above 20 mmHg before arming raises an alarm
      and must be vented (req 21).
    - ``aop``: readings until :func:`~workbench.bfr.calibration.confirm_aop` succeeds;
      re-applying the cuff, a posture change or a new day returns here (req 2).
    - ``prescription``/``ready``: % AOP, exercise, load, scheme (30-15-15-15), rest; the
      setpoint comes only from the :class:`~workbench.bfr.calibration.ConfirmedAOP`.
    - ``set``/``rest``: rep counter and timers; trips (from the supervisor) end the set;
      a time-limit trip starts a >= 3 min reperfusion lock-out persisted in the
      :class:`~workbench.bfr.ledger.TimeLedger` (survives kernel restarts).

    Every transition and operator action goes to ``on_event`` (the audit log).

    Parameters
    ----------
    context:
        Athlete, cuff, limb, side, posture and cuff application.
    clock:
        Monotonic seconds (injected; the simulator's clock in tests).
    today:
        Calendar day (screening and AOP are valid for one day).
    ledger:
        Persisted inflation time and lock-outs (``TimeLedger("default")`` survives kernel
        restarts; ``None`` keeps it in memory).
    site:
        Stricter site limits.
    on_event:
        Receives every transition, operator action, override and alarm (audit log).
    """

    def __init__(
        self,
        context: CuffContext,
        *,
        clock: Callable[[], float] = time.monotonic,
        today: Callable[[], dt.date] = dt.date.today,
        ledger: TimeLedger | None = None,
        site: SiteLimits | None = None,
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        if not isinstance(context, CuffContext):
            raise TypeError("BfrSession needs a CuffContext")
        self.context = context
        self.clock = clock
        self.today = today
        self.ledger = ledger or TimeLedger(None)
        self.site = site
        self.on_event = on_event or (lambda e: None)
        self.events: list[Event] = []
        self.state = SessionState.SCREENING
        self.screening: ScreeningResult | None = None
        self.readings: list[AopReading] = []
        self.aop: ConfirmedAOP | None = None
        self.prescription: Prescription | None = None
        self.set_index = -1  # index of the current/last set
        self.reps = 0
        self.trips: list[Trip] = []
        self.alarms: list[str] = []
        self._set_t: float | None = None
        self._rest_t: float | None = None
        self._restriction_t: float | None = None
        self._predicted_mmhg: float | None = None
        self._prediction_set = False
        #: the live session handed out by :meth:`live` (the panel drives it through here)
        self.live_session = None
        self.mode = "scheme"  # or "manual" (:meth:`set_mode`)
        self.manual = None  # ManualSession while in manual mode
        self.adaptive: AdaptiveModulator | None = None  # on: :meth:`set_adaptive`
        self.recommendation: Recommendation | None = None
        self._sp_goal: tuple[float, str] | None = None  # (setpoint, who) not yet reached
        self._sp_sent: float | None = None  # last setpoint sent to the live session
        self._live_seen = 0  # events of a loop-process session already acted on
        self._emit("state", SessionState.SCREENING.value, message="session opened")

    # ------------------------------------------------------------------ helpers
    @property
    def ledger_key(self) -> str:
        """Key of this limb and day in the time ledger."""
        c = self.context
        return ledger_key(c.athlete_id, c.limb, c.side, self.today().isoformat())

    @property
    def limits(self) -> CuffLimits:
        """Frozen limits from the confirmed AOP (raises if there is none or it is invalid)."""
        self._require_aop()
        assert self.aop is not None
        return self.aop.limits(self.site)

    def _emit(self, kind, code, priority=None, value=None, message=None) -> None:
        e = Event(self.clock(), kind, code, priority, value, message)
        self.events.append(e)
        self.on_event(e)

    def _goto(self, state: SessionState, message: str | None = None) -> None:
        self.state = state
        self._emit("state", state.value, message=message)

    def _operator(self, code: str, who: str, value: float | None = None, note: str = "") -> None:
        if not isinstance(who, str) or not who.strip():
            raise SessionError(f"operator action {code!r} needs the operator's name")
        self._emit("operator", code, None, value, who + (f": {note}" if note else ""))

    def record_event(self, e: Event) -> None:
        """Record an event produced elsewhere (e.g. the calibration runner)."""
        self.events.append(e)
        self.on_event(e)

    def _alarm(self, code: str, message: str, priority: str = HIGH) -> None:
        self.alarms.append(f"{priority}: {message}")
        self._emit("alarm", code, priority, None, message)

    def _require(self, *states: SessionState) -> None:
        self.poll_live()
        if self.state not in states:
            raise SessionError(
                f"not allowed in state {self.state.value!r} (needs {[s.value for s in states]})"
            )

    def _require_screening(self) -> None:
        if self.screening is None:
            raise ScreeningError("no screening for today: complete the checklist first")
        self.screening.require_cleared(self.today())

    def _require_aop(self) -> None:
        if self.aop is None:
            raise CalibrationError("no confirmed AOP: measure two agreeing readings first")
        self.aop.require_valid(self.context, self.today())

    # ------------------------------------------------------------------ screening (req 20)
    def complete_screening(self, screening: ScreeningForm | ScreeningResult, who: str) -> None:
        """Record today's screening; a blocking result raises :class:`ScreeningError`."""
        result = (
            evaluate_screening(screening) if isinstance(screening, ScreeningForm) else screening
        )
        if not isinstance(result, ScreeningResult):
            raise ScreeningError("complete_screening needs a ScreeningForm or ScreeningResult")
        if result.athlete_id != self.context.athlete_id:
            raise ScreeningError(
                f"screening is for {result.athlete_id!r}, not {self.context.athlete_id!r}"
            )
        self._operator("screening", who, note="; ".join(result.reasons) or "no findings")
        for o in result.overridden:
            self._emit("operator", f"override:{o.item}", None, None, f"{o.supervisor}: {o.reason}")
        self._emit(
            "state",
            "bp",
            None,
            result.systolic_mmhg,
            f"resting BP {result.systolic_mmhg:.0f}/{result.diastolic_mmhg:.0f} mmHg",
        )
        try:
            result.require_cleared(self.today())
        except ScreeningError as exc:
            self.screening = None
            self._alarm("screening_blocked", str(exc), MEDIUM)
            raise
        self.screening = result
        if self.state is SessionState.SCREENING:
            self._goto(SessionState.CUFF, "screening cleared")

    # ------------------------------------------------------------------ cuff (req 21, 2)
    def cuff_applied(self, pressure_mmhg: float | None, who: str) -> None:
        """The cuff is on the limb and reads ``pressure_mmhg`` before arming.

        Raises
        ------
        SafetyError
            (``PRESSURE_AT_START``) when the cuff reads > 20 mmHg or nothing: vent it and
            call again (req 21). An alarm is recorded.
        """
        self._require_screening()
        self._require(SessionState.CUFF, SessionState.AOP)
        p = math.nan if pressure_mmhg is None else float(pressure_mmhg)
        self._operator("cuff_applied", who, p)
        if not (math.isfinite(p) and p <= 20.0):
            self._alarm(
                SafetyReason.PRESSURE_AT_START.value,
                f"cuff reads {p:.1f} mmHg before arming (> 20 or invalid): vent it",
            )
            raise SafetyError(
                f"cuff reads {p:.1f} mmHg before arming; vent and re-check",
                reason=SafetyReason.PRESSURE_AT_START,
            )
        if self.state is SessionState.CUFF:
            self._goto(SessionState.AOP, "cuff on, vented")

    def set_prediction(
        self, predicted_aop_mmhg: float | None, *, unavailable_reason: str | None = None
    ) -> None:
        """Predicted AOP (see :func:`~workbench.bfr.calibration.predict_aop`) for req 19.

        The cross-check is on in every session: no AOP is confirmed until this was called,
        with a prediction or, when none can be made (e.g. a cuff wider than the model's),
        ``None`` and the reason, which is logged.
        """
        if predicted_aop_mmhg is None:
            if not isinstance(unavailable_reason, str) or not unavailable_reason.strip():
                raise CalibrationError(
                    "no predicted AOP: give predict_aop(limb, circumference, SBP, DBP) or the "
                    "reason it is unavailable (unavailable_reason=...)"
                )
            self._emit("state", "aop_prediction", message=f"unavailable: {unavailable_reason}")
        else:
            pred = float(predicted_aop_mmhg)
            if not math.isfinite(pred) or pred <= 0:
                raise CalibrationError(f"predicted AOP {predicted_aop_mmhg!r} is not a pressure")
            predicted_aop_mmhg = pred
            self._emit("state", "aop_prediction", value=pred)
        self._predicted_mmhg = predicted_aop_mmhg
        self._prediction_set = True

    def predict_from_screening(
        self, circumference_cm: float, *, cuff_width_cm: float | None = None
    ) -> float | None:
        """Predict the AOP from the limb circumference and today's screening BP, and use it.

        Returns the prediction (None, with the reason logged, for a cuff wider than the
        model's). Raises :class:`ScreeningError` without today's screening.
        """
        self._require_screening()
        assert self.screening is not None
        width = cuff_width_cm if cuff_width_cm is not None else self.context.cuff_width_cm
        pred = predict_aop(
            self.context.limb,
            circumference_cm,
            self.screening.systolic_mmhg,
            self.screening.diastolic_mmhg,
            cuff_width_cm=width,
        )
        if pred is None:
            self.set_prediction(
                None, unavailable_reason=f"cuff {width:g} cm wider than the model's"
            )
        else:
            self.set_prediction(pred)
        return pred

    def reapply_cuff(self, who: str) -> None:
        """The cuff was taken off and put on again: the AOP is void (req 2)."""
        self._operator("cuff_reapplied", who)
        self._invalidate(self.context.reapplied(), "cuff re-applied")

    def change_posture(self, posture: str, who: str) -> None:
        """The athlete changes posture: the AOP is void if it differs (req 2)."""
        self._operator("posture", who, note=posture)
        if posture != self.context.posture:
            self._invalidate(self.context.with_posture(posture), f"posture now {posture}")

    def _invalidate(self, context: CuffContext, why: str) -> None:
        if self.state in (SessionState.SET, SessionState.REST):
            raise SessionError(f"vent and end the set before: {why}")
        self.context = context
        self.readings = []
        if self.aop is not None:
            self._emit("state", "aop_invalidated", value=self.aop.aop_mmhg, message=why)
        self.aop = None
        self.prescription = None
        if self.state not in (SessionState.SCREENING, SessionState.DONE, SessionState.ABORTED):
            self._goto(SessionState.CUFF, why)

    # ------------------------------------------------------------------ AOP (req 2, 17-19)
    def add_aop_reading(self, reading: AopReading) -> ConfirmedAOP | None:
        """Add a reading; returns the :class:`ConfirmedAOP` once two agree, else None.

        Raises
        ------
        RemeasureRequired
            The confirmed value is > 25 mmHg from the prediction: measure again.
        CalibrationError
            A reading for another context or day.
        """
        self._require(SessionState.AOP)
        if not self._prediction_set:
            raise CalibrationError(
                "the prediction cross-check (req 19) is not set: call set_prediction() or "
                "predict_from_screening() before adding AOP readings"
            )
        if reading.context != self.context or reading.day != self.today():
            raise CalibrationError("reading is for another cuff application, posture or day")
        self.readings.append(reading)
        self._emit(
            "state", "aop_reading", value=reading.aop_mmhg, message=f"method={reading.method}"
        )
        if len(self.readings) < 2:
            return None
        try:
            aop = confirm_aop(self.readings, predicted_mmhg=self._predicted_mmhg)
        except RemeasureRequired as exc:
            self._alarm("aop_remeasure", str(exc), MEDIUM)
            raise
        except CalibrationError as exc:
            self._emit("state", "aop_unconfirmed", message=str(exc))
            return None
        self.aop = aop
        self._goto(SessionState.PRESCRIPTION, f"AOP {aop.aop_mmhg:.0f} mmHg confirmed")
        return aop

    # ------------------------------------------------------------------ prescription
    def prescribe(
        self,
        percent_aop: float,
        *,
        exercise: str,
        load_pct_1rm: float,
        who: str,
        scheme: Sequence[int] = (30, 15, 15, 15),
        rest_s: float = 30.0,
        restriction_max_s: float = 600.0,
        preset: ProtocolPreset | None = None,
    ) -> Prescription:
        """Validate and set the prescription (raises :class:`PrescriptionError`)."""
        self._require(SessionState.PRESCRIPTION, SessionState.READY)
        self._require_aop()
        assert self.aop is not None
        rx = make_prescription(
            self.aop,
            percent_aop,
            exercise=exercise,
            load_pct_1rm=load_pct_1rm,
            scheme=scheme,
            rest_s=rest_s,
            restriction_max_s=restriction_max_s,
            preset=preset,
            site=self.site,
        )
        self.prescription = rx
        self._operator(
            "prescription",
            who,
            rx.setpoint_mmhg,
            f"{rx.percent_aop:g} % AOP, {rx.exercise}, {rx.load_pct_1rm:g} % 1RM, "
            f"{rx.scheme_label}, rest {rx.rest_s:g} s",
        )
        self._goto(SessionState.READY)
        return rx

    # ------------------------------------------------------------------ gates
    def check_can_inflate(self) -> None:
        """Raise unless inflation is allowed now: screening for today, valid AOP,
        prescription, no reperfusion lock-out, cumulative time left (reqs 2, 5, 20)."""
        self.poll_live()
        self._require_screening()
        self._require_aop()
        if self.prescription is None:
            raise SessionError("no prescription yet", reason=SafetyReason.SETPOINT_REJECTED)
        lock = self.ledger.lockout_remaining_s(self.ledger_key)
        if lock > 0:
            raise SafetyError(
                f"reperfusion lock-out: {lock:.0f} s left", reason=SafetyReason.REPERFUSION_LOCKOUT
            )
        used = self.ledger.cumulative_s(self.ledger_key)
        if used >= self.limits.cumulative_max_s:
            raise SafetyError(
                f"cumulative inflation {used:.0f} s used up today for this limb",
                reason=SafetyReason.TIME_LIMIT,
            )

    def supervisor(
        self,
        *,
        monitors: Iterable[str] = (),
        require_operator: bool = True,
        on_event: Callable[[Event], None] | None = None,
    ) -> Supervisor:
        """A :class:`Supervisor` for this session (limits, ledger and key); gated."""
        self.check_can_inflate()

        def fwd(e: Event) -> None:
            self.events.append(e)
            self.on_event(e)
            if on_event is not None:
                on_event(e)
            if e.kind == "trip":
                self._on_trip_event(e)

        return Supervisor(
            self.limits,
            ledger=self.ledger,
            ledger_key=self.ledger_key,
            require_operator=require_operator,
            monitors=monitors,
            on_event=fwd,
        )

    def build_control(
        self,
        cuff: CuffController,
        *,
        clock: Callable[[], float] | None = None,
        monitors: Iterable[str] = (),
        require_operator: bool = True,
        on_tick=None,
    ) -> ControlCore:
        """A :class:`ControlCore` for this session, or an error if a gate is closed.

        The caller arms it (``core.arm(now)``, which refuses a cuff above 20 mmHg) and
        requests ``self.prescription.setpoint_mmhg``.
        """
        sup = self.supervisor(monitors=monitors, require_operator=require_operator)
        return ControlCore(cuff, sup, clock=clock or self.clock, on_tick=on_tick)

    def live(
        self,
        cuff: CuffController | None = None,
        *,
        emulator=None,
        aop_mmhg: float | None = None,
        seed: int = 0,
        **kwargs,
    ):
        """A live session for this session (gated: screening, confirmed AOP, prescription,
        lock-out and cumulative time are checked here, in the kernel, before anything runs).

        - ``cuff`` given: a :class:`~workbench.bfr.live.LiveSession` whose 100 Hz loop runs
          in a thread of this process (``"sim"``/``"pty"`` transports, fast tests); its
          supervisor's trips are forwarded to this session as they happen.
        - no ``cuff`` (the default path, ADR 0008): a
          :class:`~workbench.bfr.loop_process.ProcessLiveSession` — the loop, supervisor and
          audit log run in their own process on the serial port of a cuff emulator
          (``emulator``, an :class:`~workbench.bfr.simulation.emulator.EmulatorHandle` the
          session then owns, or a new one on a limb of true AOP ``aop_mmhg``, default the
          confirmed AOP). The authorized limits, this limb's ledger key and the time
          ledger's file are handed over at spawn; trips and the ledger come back through the
          client (:meth:`poll_live`), the phase goes out through ``set_phase``.

        ``kwargs`` go to the live session (``store``, ``require_operator``, ``monitors``,
        ``monitor_source`` — real sensors, e.g. a
        :class:`~workbench.bfr.monitor_feed.HubMonitorSource`, instead of the simulated
        limb's streams —, ...; ``clock`` only in-process). The session row gets the AOP
        readings and prescription.
        """
        self.check_can_inflate()
        rx = self.prescription
        assert rx is not None and self.aop is not None
        c = self.context
        fields = dict(kwargs.pop("session_fields", None) or {})
        fields.update(session_row_fields(self))
        fields.pop("aop_mmhg", None)  # the live session writes it from the limits
        common = dict(athlete_id=c.athlete_id, side=c.side, cuff_id=c.cuff_id,
                      ledger=self.ledger, session_fields=fields)  # fmt: skip
        if cuff is None:
            from workbench.bfr.loop_process import ProcessLiveSession

            if emulator is None:
                ls = ProcessLiveSession.on_emulator(
                    self.limits,
                    aop_mmhg=float(aop_mmhg if aop_mmhg is not None else self.aop.aop_mmhg),
                    seed=seed,
                    ledger_key=self.ledger_key,
                    **common,
                    **kwargs,
                )
            else:
                try:
                    ls = ProcessLiveSession(
                        emulator.port,
                        self.limits,
                        truth_path=emulator.truth.path,
                        ledger_key=self.ledger_key,
                        **common,
                        **kwargs,
                    )
                except BaseException:
                    emulator.close()
                    raise
                ls.emulator = emulator  # stopped with the session
            self._live_seen = 0
            self.live_session = ls
            return ls

        from workbench.bfr.live import LiveSession

        ls = LiveSession(cuff, self.limits, **common, **kwargs)
        ls.supervisor.ledger_key = self.ledger_key
        inner = ls.supervisor.on_event

        def fwd(e: Event) -> None:
            inner(e)
            if e.kind == "trip":
                self._on_trip_event(e)

        ls.supervisor.on_event = fwd
        self.live_session = ls
        return ls

    def poll_live(self) -> None:
        """Loop-process session: act on its new trips (a vent ends the set, a time limit
        starts a lock-out) and mirror its time ledger for this limb into :attr:`ledger`
        (gates and timers read it). Called by the methods that need them (timers, gates,
        sets); a no-op for an in-process session, whose trips arrive as they happen."""
        ls = self.live_session
        if ls is None or hasattr(ls, "supervisor"):
            return
        events = ls.events
        new = events[self._live_seen :]
        self._live_seen += len(new)
        for e in new:
            if e.kind == "trip":
                self._on_trip_event(e)
        status = ls.ledger_status()
        if status is None:
            return
        cumulative_s, lockout_s = status
        key = self.ledger_key
        behind_s = cumulative_s - self.ledger.cumulative_s(key)
        if behind_s > 0:
            self.ledger.add_inflated(key, behind_s)
        if ls.snapshot().vented:
            self.ledger.set_deflated(key)
        if lockout_s > self.ledger.lockout_remaining_s(key) + 1.0:
            self.ledger.start_lockout(key, lockout_s)

    # ------------------------------------------------------------------ live cuff (the panel)
    def _require_live(self):
        self.poll_live()
        if self.live_session is None:
            raise SessionError("no live session: call live(cuff, ...) first")
        return self.live_session

    @property
    def target_setpoint_mmhg(self) -> float:
        """What the cuff is asked for: the manual request, the adaptive setpoint or the
        prescription's setpoint (raises without a prescription)."""
        if self.prescription is None:
            raise SessionError("no prescription yet", reason=SafetyReason.SETPOINT_REJECTED)
        if self.manual is not None and self.manual.requested_mmhg is not None:
            return float(self.manual.requested_mmhg)
        if self.adaptive is not None:
            return float(self.adaptive.setpoint_mmhg)
        return float(self.prescription.setpoint_mmhg)

    def _live_inflated(self) -> bool:
        """The live session's loop runs and the cuff is not vented (from its snapshot)."""
        ls = self.live_session
        if ls is None:
            return False
        self.poll_live()
        snap = ls.snapshot()
        return bool(snap.loop_running and not snap.vented)

    def _send_setpoint(self, setpoint_mmhg: float, who: str) -> float:
        """Aim the live session at ``setpoint_mmhg``: raised at once (the supervisor slews
        it), lowered in :data:`SP_STEP_DOWN_MMHG` steps by :meth:`step_setpoint`; returns
        the goal. LiveSession validates each request again; the supervisor clamps it."""
        self._require_live()
        self._sp_goal = (float(setpoint_mmhg), who)
        self.step_setpoint()
        return float(setpoint_mmhg)

    def step_setpoint(self) -> float | None:
        """Send the next step toward the setpoint goal (call at >= 2 Hz while one is
        pending, e.g. the panel's refresh); returns what was sent, None when nothing was.

        A lower setpoint goes down by at most :data:`SP_STEP_DOWN_MMHG` per call: the 1-s
        mean pressure then stays inside the deviation band of the new setpoint (a 40 mmHg
        step down would trip the supervisor's deviation alarm).
        """
        self.poll_live()
        if self._sp_goal is None or self.live_session is None:
            return None
        goal, who = self._sp_goal
        last = self._sp_sent
        step = (
            goal if last is None or goal >= last - SP_STEP_DOWN_MMHG else last - SP_STEP_DOWN_MMHG
        )
        sent = float(self.live_session.request_setpoint(step, who))
        self._sp_sent = sent
        if step == goal:
            self._sp_goal = None
        return sent

    def arm(self, who: str) -> float:
        """Arm the live session (gated) and request the target setpoint; returns it."""
        self.check_can_inflate()
        self._require(SessionState.READY, SessionState.SET, SessionState.REST)
        ls = self._require_live()
        self._operator("arm", who, self.target_setpoint_mmhg)
        ls.start()
        self._sp_goal = self._sp_sent = None
        return self._send_setpoint(self.target_setpoint_mmhg, who)

    def set_mode(self, mode: str, who: str) -> None:
        """``"scheme"`` (the prescribed setpoint, sets and rests) or ``"manual"`` (the
        operator picks the setpoint within the limits; :meth:`request_manual_setpoint`).

        Manual mode is gated like inflation (screening, confirmed AOP, prescription) and
        turns the adaptive modulation off. Back in scheme mode an inflated cuff returns to
        the prescribed setpoint.
        """
        if mode not in ("scheme", "manual"):
            raise ValueError(f"mode must be 'scheme' or 'manual', got {mode!r}")
        if mode == self.mode:
            return
        if mode == "manual":
            from workbench.bfr.manual import ManualSession

            manual = ManualSession(self, charge_time=self.live_session is not None)
            if self.adaptive is not None:
                self.set_adaptive(False, who)
            self.manual, self.mode = manual, "manual"
            self._operator("mode", who, note="manual")
            return
        self.manual, self.mode = None, "scheme"
        self._operator("mode", who, note="scheme")
        if self._live_inflated() and self.state in (SessionState.SET, SessionState.REST,
                                                    SessionState.READY):  # fmt: skip
            self.check_can_inflate()
            self._send_setpoint(self.target_setpoint_mmhg, who)

    def request_manual_setpoint(self, setpoint_mmhg: float, who: str) -> float:
        """Manual mode: ask the cuff for ``setpoint_mmhg`` (returns what was requested).

        Refused (:class:`SessionError`) outside manual mode or once a vent ended the set;
        gated (screening, AOP, prescription, lock-out, cumulative time); rejected
        (:class:`~workbench.bfr.limits.PrescriptionError`) outside [40 % AOP,
        min(80 % AOP, ceiling)]. The supervisor clamps the command again.
        """
        if self.mode != "manual" or self.manual is None:
            raise SessionError("manual setpoint outside manual mode: switch to manual first")
        self._require(SessionState.READY, SessionState.SET, SessionState.REST)
        self.check_can_inflate()
        self.manual.request_setpoint(setpoint_mmhg, who)
        if self.live_session is None:
            return float(self.manual.setpoint_mmhg)
        return self._send_setpoint(self.manual.setpoint_mmhg, who)

    def set_adaptive(self, on: bool, who: str, **modulator_kw) -> None:
        """Turn the adaptive modulation (req 16) on or off; off returns an inflated cuff to
        the prescribed setpoint. On is gated and only in scheme mode."""
        if not on:
            was = self.adaptive is not None
            self.adaptive = None
            self._operator("adaptive", who, 0.0, "off")
            if was and self._live_inflated() and self.state in (SessionState.SET,
                                                                 SessionState.REST):  # fmt: skip
                self._send_setpoint(self.target_setpoint_mmhg, who)
            return
        if self.mode != "scheme":
            raise SessionError("adaptive modulation runs in scheme mode only, not manual")
        self._require(SessionState.READY, SessionState.SET, SessionState.REST)
        self.check_can_inflate()
        assert self.prescription is not None
        self.adaptive = AdaptiveModulator(self.limits, self.prescription.setpoint_mmhg,
                                          **modulator_kw)  # fmt: skip
        self._operator("adaptive", who, 1.0, "on")

    def adaptive_update(self, inputs: AdaptiveInputs) -> AdaptiveDecision | None:
        """One adaptive decision while a set or rest runs (None when off or not in a
        set/rest); a change is requested through the live session (validated, clamped)."""
        if self.adaptive is None or self.state not in (SessionState.SET, SessionState.REST):
            return None
        d = self.adaptive.update(self.clock(), inputs)
        if d.change_mmhg:
            self._emit("state", "adaptive", None, d.setpoint_mmhg, d.reason)
            if self.live_session is not None:
                self._send_setpoint(d.setpoint_mmhg, "adaptive")
        return d

    def vent(self, who: str) -> None:
        """Vent now (the live session latches a trip, which ends the set)."""
        self._require_live().vent(who)
        self._ended_by_vent(who)

    def _ended_by_vent(self, who: str) -> None:
        self._sp_goal = self._sp_sent = None
        if self.manual is not None and self.manual.inflated_since is not None:
            self.manual.deflated(who)
        if self.state in (SessionState.SET, SessionState.REST, SessionState.READY):
            self._restriction_t = None
            self._goto(SessionState.REPERFUSION, f"vented by {who}")

    def end_live(self, who: str, status: str = "complete") -> None:
        """Stop the live session (it vents) and finish the session."""
        if self.live_session is not None:
            self.live_session.stop(status)
            self.poll_live()  # its last events
        if self.manual is not None and self.manual.inflated_since is not None:
            self.manual.deflated(who)
        self.adaptive = None
        if self.state not in (SessionState.DONE, SessionState.ABORTED):
            self.finish(who)

    def recommend_next(
        self,
        learner: SchemeLearner,
        *,
        readiness_band: str = "unknown",
        store=None,
        session_id: int | None = None,
    ) -> Recommendation:
        """After the session: the learner's scheme for the next one (logged; stored as a
        ``bfr_events`` row of this session when ``store`` is given)."""
        self._require(SessionState.DONE, SessionState.ABORTED)
        context = f"{learner.preset.key}:{self.context.limb}:{readiness_band}"
        rec = learner.recommend(context)
        self.recommendation = rec
        self._emit("recommendation", rec.option.label, None, rec.sampled_value, rec.to_json())
        if store is not None:
            if session_id is None:
                audit = getattr(self.live_session, "audit", None)
                session_id = getattr(audit, "session_id", None) or getattr(
                    self.live_session, "session_id", None
                )
            if session_id is None:
                raise SessionError("no session id to store the recommendation under")
            store_recommendation(store, int(session_id), rec, t_s=self.clock())
        return rec

    # ------------------------------------------------------------------ sets
    def start_set(self, who: str) -> int:
        """Start the next set (1-based number returned); gated by :meth:`check_can_inflate`."""
        self._require(SessionState.READY, SessionState.REST, SessionState.REPERFUSION)
        self.check_can_inflate()
        rx = self.prescription
        assert rx is not None
        if self.set_index + 1 >= len(rx.scheme):
            raise SessionError("all sets done; finish the session")
        now = self.clock()
        if self._restriction_t is None:
            self._restriction_t = now
        self.set_index += 1
        self.reps = 0
        self._set_t, self._rest_t = now, None
        self._operator("start_set", who, float(self.set_index + 1))
        self._goto(SessionState.SET, f"set {self.set_index + 1} of {len(rx.scheme)}")
        self._live_phase("set")
        return self.set_index + 1

    def count_rep(self) -> int:
        """One repetition done (rep counter); returns the count in this set."""
        self._require(SessionState.SET)
        self.reps += 1
        return self.reps

    def end_set(self, who: str) -> SessionState:
        """End the current set: rest, or reperfusion after the last set."""
        self._require(SessionState.SET)
        rx = self.prescription
        assert rx is not None
        self._operator("end_set", who, float(self.reps), f"set {self.set_index + 1}")
        if self.set_index + 1 >= len(rx.scheme):
            self._restriction_t = None
            self._goto(SessionState.REPERFUSION, "last set done: deflate")
        else:
            self._rest_t = self.clock()
            self._goto(SessionState.REST)
        self._live_phase("rest")
        return self.state

    def _live_phase(self, phase: str) -> None:
        """Tell the live session's supervisor whether the athlete exercises (EMG checks)."""
        ls = self.live_session
        if ls is not None:
            ls.set_phase(phase)

    def on_trip(self, trip: Trip) -> None:
        """A supervisor trip vented the cuff: end the set; time limits start a lock-out."""
        self.trips.append(trip)
        self._handle_trip(trip.reason.value, trip.priority, trip.message)

    def _on_trip_event(self, e: Event) -> None:
        self._handle_trip(e.code, e.priority or HIGH, e.message or "")

    def _handle_trip(self, code: str, priority: str, message: str) -> None:
        self.alarms.append(f"{priority}: {code}: {message}")
        if code == SafetyReason.TIME_LIMIT.value:
            self.ledger.start_lockout(self.ledger_key, self.limits.reperfusion_s)
        self._sp_goal = self._sp_sent = None  # vented: nothing pending
        if self.manual is not None and self.manual.inflated_since is not None:
            self.manual.deflated(f"trip {code}")
        if self.state in (SessionState.SET, SessionState.REST, SessionState.READY):
            self._restriction_t = None
            self._goto(SessionState.REPERFUSION, f"vented by trip {code}")

    # ------------------------------------------------------------------ end
    def finish(self, who: str) -> None:
        """The session is over (the cuff must be vented)."""
        self._operator("finish", who)
        self._goto(SessionState.DONE)

    def abort(self, reason: str, who: str) -> None:
        """Abort from any state (the caller vents)."""
        self._operator("abort", who, note=reason)
        self._goto(SessionState.ABORTED, reason)

    # ------------------------------------------------------------------ timers
    def timers(self) -> Timers:
        """Set/rest/restriction timers, lock-out and the next prompt (for the panel)."""
        self.poll_live()
        now = self.clock()
        rx = self.prescription
        n_sets = len(rx.scheme) if rx else 0
        target = rx.scheme[self.set_index] if rx and 0 <= self.set_index < n_sets else 0
        set_el = now - self._set_t if self.state is SessionState.SET and self._set_t else 0.0
        rest_rem = (
            max(0.0, rx.rest_s - (now - self._rest_t))
            if rx and self.state is SessionState.REST and self._rest_t is not None
            else 0.0
        )
        restr = now - self._restriction_t if self._restriction_t is not None else 0.0
        lock = self.ledger.lockout_remaining_s(self.ledger_key)
        prompts = {
            SessionState.SCREENING: "complete today's screening checklist and resting BP",
            SessionState.CUFF: "apply the cuff (vented) and confirm",
            SessionState.AOP: "measure AOP: two readings within 10 mmHg",
            SessionState.PRESCRIPTION: "set % AOP, exercise, load and scheme",
            SessionState.READY: "inflate and start set 1",
            SessionState.SET: f"set {self.set_index + 1}: rep {self.reps} of {target}",
            SessionState.REST: f"rest: {rest_rem:.0f} s, cuff stays inflated",
            SessionState.REPERFUSION: (
                f"cuff deflated: reperfusion lock-out {lock:.0f} s"
                if lock > 0
                else "cuff deflated: reperfusion"
            ),
            SessionState.DONE: "session complete",
            SessionState.ABORTED: "session aborted: cuff vented",
        }
        if rx and restr > rx.restriction_max_s and self.state is SessionState.REST:
            prompts[SessionState.REST] = "restriction time for this exercise used up: deflate"
        return Timers(
            state=self.state.value,
            set_number=self.set_index + 1,
            sets_total=n_sets,
            reps=self.reps,
            reps_target=target,
            set_elapsed_s=set_el,
            rest_remaining_s=rest_rem,
            restriction_elapsed_s=restr,
            restriction_max_s=rx.restriction_max_s if rx else 0.0,
            lockout_remaining_s=lock,
            cumulative_inflated_s=self.ledger.cumulative_s(self.ledger_key),
            prompt=prompts[self.state],
        )


def session_row_fields(s: BfrSession) -> dict:
    """``bfr_sessions`` columns known from the session (AOP and prescription)."""
    out: dict = {"posture": s.context.posture, "cuff_width_cm": s.context.cuff_width_cm}
    if s.aop is not None:
        out["aop_readings_mmhg"] = json.dumps(
            [{"aop_mmhg": r.aop_mmhg, "method": r.method} for r in s.aop.readings]
        )
        out["aop_mmhg"] = s.aop.aop_mmhg
    rx = s.prescription
    if rx is not None:
        out.update(
            percent_aop=rx.percent_aop,
            setpoint_mmhg=rx.setpoint_mmhg,
            exercise=rx.exercise,
            load_pct_1rm=rx.load_pct_1rm,
            scheme=rx.scheme_label,
        )
    return out


__all__ = [
    "SP_STEP_DOWN_MMHG",
    "BfrSession",
    "Prescription",
    "SessionError",
    "SessionState",
    "Timers",
    "make_prescription",
    "session_row_fields",
]
