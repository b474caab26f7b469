"""A whole BFR session run on the simulated cuff in simulated time, stored like a real one.

:func:`run_simulated_session` drives the :class:`~workbench.bfr.session.BfrSession` state
machine (screening, AOP, prescription, sets) against
:class:`~workbench.bfr.simulation.cuff.CuffSimulator`; :func:`rehearse_on_live_cuff` replays its
gates on a live simulated cuff. Why: ``docs/decisions/0004-bfr-control.md``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from workbench.bfr.calibration import (
    CalibrationResult,
    ConfirmedAOP,
    CuffContext,
    DopplerDetector,
    NirsDetector,
    PpgDetector,
    RemeasureRequired,
    plan_calibration,
    run_calibration,
)
from workbench.bfr.control import ControlCore
from workbench.bfr.ledger import TimeLedger
from workbench.bfr.presets import ProtocolPreset
from workbench.bfr.protocol import VENT, CuffCommand, CuffController, PressureReading
from workbench.bfr.screening import ScreeningForm, all_clear
from workbench.bfr.session import (
    BfrSession,
    Prescription,
    SessionError,
    SessionState,
    session_row_fields,
)
from workbench.bfr.simulation.control_run import time_in_band_pct
from workbench.bfr.simulation.cuff import CuffSimulator
from workbench.bfr.supervisor import Event, Trip
from workbench.errors import SafetyError
from workbench.log import get_logger

log = get_logger(__name__)

#: Reps/s assumed for set timers when the athlete's cadence is unknown.
DEFAULT_CADENCE_HZ = 0.5


@dataclass
class SimulatedSession:
    """Result of :func:`run_simulated_session` (pressures mmHg, times s).

    ``session_id`` is the ``bfr_sessions`` row (None without a store). ``trace`` holds
    100 Hz arrays ``t_s``, ``pressure_mmhg`` (measured), ``setpoint_mmhg``, ``phase``,
    ``smo2_pct`` and ``emg_rms_uv`` of the training part.
    """

    status: str
    session_id: int | None
    recording_id: int | None
    aop: ConfirmedAOP | None
    prescription: Prescription | None
    calibrations: list[CalibrationResult]
    time_under_pressure_s: float
    max_pressure_mmhg: float
    pct_exercise_in_band: float
    pct_rest_in_band: float
    trips: list[Trip]
    events: list[Event]
    session: BfrSession
    trace: dict[str, np.ndarray] = field(default_factory=dict)


def rehearse_on_live_cuff(
    result: SimulatedSession,
    cuff: CuffController,
    *,
    clock: Callable[[], float],
    operator: str,
) -> BfrSession:
    """A new :class:`BfrSession`, ``ready``, for a live (real-time) simulated cuff on the limb
    that :func:`run_simulated_session` measured, today.

    Nothing is carried over as a result: today's screening, the prediction and the AOP
    readings of ``result`` go through this session's own gates again (screening valid today,
    cuff vented before arming, :func:`confirm_aop` with the prediction cross-check, the
    prescription's ranges). The live cuff is treated as the same cuff application on the
    same simulated limb. Arm it with :meth:`BfrSession.live`.

    Raises
    ------
    SessionError, SafetyError, CalibrationError
        The simulated session has no confirmed AOP or prescription, or a gate refuses.
    """
    src = result.session
    if result.aop is None or result.prescription is None or src.screening is None:
        raise SessionError("the simulated session has no confirmed AOP and prescription")
    sess = BfrSession(src.context, clock=clock, today=src.today, site=src.site)
    sess.complete_screening(src.screening, operator)
    r0 = cuff.read_pressure()
    sess.cuff_applied(None if r0 is None else r0.pressure_mmhg, operator)
    if result.aop.predicted_mmhg is None:
        sess.set_prediction(None, unavailable_reason="no prediction in the simulated session")
    else:
        sess.set_prediction(result.aop.predicted_mmhg)
    for reading in src.readings:
        try:
            if sess.add_aop_reading(reading) is not None:
                break
        except RemeasureRequired:
            continue
    rx = result.prescription
    sess.prescribe(
        rx.percent_aop,
        exercise=rx.exercise,
        load_pct_1rm=rx.load_pct_1rm,
        scheme=rx.scheme,
        rest_s=rx.rest_s,
        restriction_max_s=rx.restriction_max_s,
        who=operator,
    )
    return sess


def simulated_circumference_cm(
    limb: str, true_aop_mmhg: float, systolic_mmhg: float, diastolic_mmhg: float
) -> float:
    """Limb circumference (cm) of a simulated athlete whose true AOP the published model
    (:func:`~workbench.bfr.calibration.predict_aop`) predicts, kept to 15-100 cm.

    Where no plausible circumference gives that AOP (e.g. an arm AOP of 55 mmHg), the
    nearest plausible one is used, and the cross-check then asks for re-measurement.
    """
    if limb == "arm":
        c = (true_aop_mmhg - 0.514 * systolic_mmhg - 0.339 * diastolic_mmhg - 17.236) / 1.461
    else:
        c = (true_aop_mmhg + 220.046 - 0.734 * diastolic_mmhg - 0.912 * systolic_mmhg) / 5.893
    return float(min(max(c, 15.0), 100.0))


def run_simulated_session(
    store=None,
    *,
    athlete_id: str = "ath01",
    limb: str = "leg",
    side: str = "right",
    posture: str = "seated",
    cuff_id: str = "sim-cuff",
    true_aop_mmhg: float = 200.0,
    preset: ProtocolPreset | None = None,
    percent_aop: float | None = None,
    exercise: str = "knee extension",
    load_pct_1rm: float | None = None,
    scheme: Sequence[int] | None = None,
    rest_s: float | None = None,
    screening: ScreeningForm | None = None,
    calibration_method: str = "ppg",
    expected_aop_mmhg: float | None = None,
    limb_circumference_cm: float | None = None,
    faults: Iterable[str] = (),
    fault_at_s: float = 30.0,
    seed: int = 0,
    ledger: TimeLedger | None = None,
    today: Callable[[], dt.date] = dt.date.today,
    operator: str = "sim-operator",
    reperfusion_s: float = 10.0,
    setpoint_schedule: Callable[[float, float], float] | None = None,
    on_tick: Callable[[float, PressureReading | None, CuffCommand], None] | None = None,
    acknowledge_trips: bool = False,
) -> SimulatedSession:
    """Run a whole session on the simulator in simulated time and store it.

    screening -> cuff applied -> two AOP measurements (stepwise inflation with
    ``calibration_method`` ``"ppg"``, ``"nirs"`` + PPG confirmation, or ``"doppler"``) ->
    prescription (``preset`` defaults, overridable) -> sets with rep counting at 0.5 Hz
    and rests, 100 Hz control against the 1 kHz physics -> reperfusion -> done.

    Parameters
    ----------
    store:
        A :class:`~workbench.store.Store` (the athlete row must exist): the session,
        its events and the 100 Hz pressure stream are written there. ``None``: memory only.
    limb_circumference_cm:
        For the AOP prediction cross-check (req 19, always on); default: the circumference
        of :func:`simulated_circumference_cm`.
    faults:
        Simulator fault names (see :data:`workbench.bfr.simulation.cuff.SIM_FAULTS`) injected
        ``fault_at_s`` after the first set starts.
    setpoint_schedule:
        Optional ``f(t_s, prescribed_mmhg) -> requested_mmhg`` (e.g. adaptive modulation);
        the supervisor clamps it.
    ledger:
        Time ledger (default: in memory, so repeated demo runs do not use up the day).
    on_tick:
        Also receives ``(now, reading, command)`` at every control tick, calibration
        included (what the audit log records at 100 Hz), e.g. to store the run elsewhere.
    acknowledge_trips:
        After a trip, the operator acknowledges the latch once the cuff is vented, at the
        end of the reperfusion wait (the supervisor refuses if it still reads > 20 mmHg).

    Returns
    -------
    SimulatedSession
        ``status`` is ``"complete"`` or ``"aborted"``.
    """
    from workbench.bfr.audit import AuditLog
    from workbench.bfr.presets import get_preset
    from workbench.bfr.simulation.cuff import SIM_FAULTS

    faults = tuple(faults)
    for f in faults:
        if f not in SIM_FAULTS:
            raise ValueError(f"unknown simulator fault {f!r}; known: {sorted(SIM_FAULTS)}")
    if calibration_method not in ("ppg", "nirs", "doppler"):
        raise ValueError(
            f"calibration_method must be ppg, nirs or doppler, not {calibration_method!r}"
        )
    preset = preset or get_preset("in_season_athletes")
    sim = CuffSimulator(aop_mmhg=true_aop_mmhg, seed=seed)
    sim.advance_to(0.02)
    clock = lambda: sim.t_s  # noqa: E731

    def wait(d: float) -> None:
        sim.advance_to(sim.t_s + d)

    ledger = ledger or TimeLedger(None, wall_clock=lambda: 1.7e9 + sim.t_s)
    context = CuffContext(athlete_id, cuff_id, limb, side, posture)  # type: ignore[arg-type]
    audit = None
    if store is not None:
        audit = AuditLog.start(
            store,
            athlete_id=athlete_id,
            limb=limb,
            side=side,
            cuff_id=cuff_id,
            t0_s=clock(),
            ledger=ledger,
            clock=clock,
            posture=posture,
        )
    sess = BfrSession(
        context,
        clock=clock,
        today=today,
        ledger=ledger,
        on_event=audit.event if audit is not None else None,
    )
    hooks = [h for h in (audit.sample if audit is not None else None, on_tick) if h is not None]

    def tick_hooks(now: float, reading: PressureReading | None, cmd: CuffCommand) -> None:
        for h in hooks:
            h(now, reading, cmd)

    tick_hook = tick_hooks if hooks else None

    def wait_vented(d: float) -> None:
        """Let ``d`` s pass with the cuff vented; a record (``tick_hook``) goes on at 100 Hz."""
        if tick_hook is None:
            wait(d)
            return
        for _ in range(round(d / 0.01)):
            wait(0.01)
            tick_hook(clock(), sim.read_pressure(), VENT)

    calibrations: list[CalibrationResult] = []
    status = "aborted"
    core: ControlCore | None = None
    tr: dict[str, list] = {k: [] for k in ("t_s", "pressure_mmhg", "setpoint_mmhg", "phase")}
    tr.update(smo2_pct=[], emg_rms_uv=[])
    under_pressure_s = 0.0
    max_p = 0.0
    try:
        # ---------------------------------------------------------- screening, cuff
        form = screening or ScreeningForm(
            athlete_id,
            today(),
            all_clear(),
            systolic_mmhg=120,
            diastolic_mmhg=75,
            screened_by=operator,
        )
        sess.complete_screening(form, operator)
        r0 = sim.read_pressure()
        sess.cuff_applied(None if r0 is None else r0.pressure_mmhg, operator)
        # the prediction cross-check (req 19) is on in every session
        circ = limb_circumference_cm
        if circ is None:
            circ = simulated_circumference_cm(
                limb, true_aop_mmhg, sess.screening.systolic_mmhg, sess.screening.diastolic_mmhg
            )
        sess.predict_from_screening(circ)
        # ---------------------------------------------------------- AOP (two readings)
        exp = expected_aop_mmhg or (200.0 if limb == "leg" else 150.0)
        methods = (
            ["nirs", "ppg", "ppg", "ppg"]
            if calibration_method == "nirs"
            else [calibration_method] * 4
        )
        for m in methods:
            if m == "nirs":
                det = NirsDetector()
                plan = plan_calibration(exp, step_mmhg=20.0, hold_s=16.0)
            elif m == "ppg":
                det, plan = PpgDetector(), plan_calibration(exp)
            else:
                det = DopplerDetector(lambda t, p: sim.pressure_mmhg >= sim.aop_mmhg)
                plan = plan_calibration(exp)
            res = run_calibration(
                sim,
                plan,
                det,
                sess.context,
                clock=clock,
                wait=wait,
                nirs=lambda: sim.nirs,
                today=today,
                on_event=sess.record_event,
                on_tick=tick_hook,
            )
            calibrations.append(res)
            wait_vented(60.0)  # limb reperfuses between measurements
            if res.reading is None:
                raise SessionError(f"AOP measurement failed: {res.reason}")
            try:
                if sess.add_aop_reading(res.reading) is not None:
                    break
            except RemeasureRequired:
                continue  # far from the prediction: measure again (req 19)
        if sess.aop is None:
            raise SessionError("AOP could not be confirmed (readings disagree)")
        # ---------------------------------------------------------- prescription
        rx = sess.prescribe(
            preset.percent_aop if percent_aop is None else percent_aop,
            exercise=exercise,
            load_pct_1rm=preset.load_pct_1rm if load_pct_1rm is None else load_pct_1rm,
            scheme=preset.scheme if scheme is None else tuple(scheme),
            rest_s=preset.rest_s if rest_s is None else rest_s,
            restriction_max_s=preset.restriction_max_s,
            preset=preset,
            who=operator,
        )
        if audit is not None:
            store.update("bfr_sessions", {"session_id": audit.session_id}, session_row_fields(sess))
        # ---------------------------------------------------------- sets
        core = sess.build_control(
            sim, clock=clock, monitors=("nirs", "emg"), require_operator=True, on_tick=tick_hook
        )
        sup = core.supervisor
        core.arm(clock())
        t_train = clock()
        dt_s = 0.01
        phase = "settle"
        phase_end = t_train + 10.0
        next_rep = math.inf
        fault_t = math.inf
        last_hb = -math.inf
        while True:
            now = clock()
            if sess.state is SessionState.REPERFUSION or not sup.armed:
                break
            # ------------------------------------------------ session flow
            if phase == "settle" and now >= phase_end:
                sess.start_set(operator)
                phase, sim_act = "set", "reps"
                sim.set_activity(sim_act)
                sup.set_phase("set", now)
                next_rep = now + 1.0 / DEFAULT_CADENCE_HZ
                if fault_t == math.inf:
                    fault_t = now + fault_at_s
                    for f in faults:
                        sim.inject(f, fault_t)
            elif phase == "set" and now >= next_rep:
                sess.count_rep()
                next_rep += 1.0 / DEFAULT_CADENCE_HZ
                if sess.reps >= rx.scheme[sess.set_index]:
                    sess.end_set(operator)
                    sim.set_activity("rest")
                    sup.set_phase("rest", now)
                    if sess.state is SessionState.REPERFUSION:
                        break
                    phase, phase_end = "rest", now + rx.rest_s
            elif phase == "rest" and now >= phase_end:
                sess.start_set(operator)
                phase = "set"
                sim.set_activity("reps")
                sup.set_phase("set", now)
                next_rep = now + 1.0 / DEFAULT_CADENCE_HZ
            # ------------------------------------------------ monitors, operator, tick
            if now - last_hb >= 0.5:
                sup.operator_heartbeat(now)
                last_hb = now
            n = sim.nirs
            if n is not None and n.t_s > now - dt_s:
                sup.monitor_sample(
                    "nirs", now, thb_um=n.thb_um, o2hb_um=n.o2hb_um, smo2_pct=n.smo2_pct
                )
                sup.monitor_sample("emg", now, rms_uv=sim.emg_rms_uv)
            req = rx.setpoint_mmhg
            if setpoint_schedule is not None:
                req = setpoint_schedule(now - t_train, rx.setpoint_mmhg)
            core.request_setpoint(req)
            cmd = core.safe_tick(now)
            rd = core.last_reading
            p = rd.pressure_mmhg if rd is not None else math.nan
            if math.isfinite(p):
                max_p = max(max_p, p)
                if p > 20.0:
                    under_pressure_s += dt_s
            tr["t_s"].append(now - t_train)
            tr["pressure_mmhg"].append(p)
            tr["setpoint_mmhg"].append(cmd.setpoint_mmhg)
            tr["phase"].append(phase)
            tr["smo2_pct"].append(n.smo2_pct if n is not None else math.nan)
            tr["emg_rms_uv"].append(sim.emg_rms_uv)
            wait(dt_s)
        # ---------------------------------------------------------- reperfusion, done
        sup.disarm(clock())
        sim.vent()
        sim.set_activity("rest")
        wait_vented(reperfusion_s)
        if acknowledge_trips and sup.latched:
            sup.acknowledge(clock(), sim.read_pressure(), operator)
        if sess.trips or sup.trips:
            status = "aborted"
            sess.abort(f"{len(sup.trips)} trip(s) during the session", operator)
        else:
            status = "complete"
            sess.finish(operator)
    except (SafetyError, ValueError) as exc:
        sim.vent()
        if sess.state not in (SessionState.ABORTED, SessionState.DONE):
            sess.abort(str(exc), operator)
        else:  # the session already ended: the error is not in its events, so log it
            log.warning(
                "simulated BFR session for %s ended (%s), then failed: %s",
                athlete_id,
                sess.state.value,
                exc,
                exc_info=True,
            )
        status = "aborted"
    finally:
        sim.vent()
        ledger.save()
    trips = list(core.supervisor.trips) if core is not None else []
    arr = {k: np.asarray(v) for k, v in tr.items()}
    pct_ex, pct_rest = time_in_band_pct(arr["pressure_mmhg"], arr["setpoint_mmhg"], arr["phase"])
    session_id = recording_id = None
    if audit is not None:
        fields = session_row_fields(sess)
        fields["time_under_pressure_s"] = under_pressure_s
        audit.close(status, **fields)
        session_id, recording_id = audit.session_id, audit.recording_id
    return SimulatedSession(
        status=status,
        session_id=session_id,
        recording_id=recording_id,
        aop=sess.aop,
        prescription=sess.prescription,
        calibrations=calibrations,
        time_under_pressure_s=under_pressure_s,
        max_pressure_mmhg=max_p,
        pct_exercise_in_band=pct_ex,
        pct_rest_in_band=pct_rest,
        trips=trips,
        events=list(sess.events),
        session=sess,
        trace=arr,
    )


__all__ = [
    "DEFAULT_CADENCE_HZ",
    "SimulatedSession",
    "rehearse_on_live_cuff",
    "run_simulated_session",
    "simulated_circumference_cm",
]
