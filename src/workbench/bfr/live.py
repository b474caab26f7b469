"""A live (real-time) BFR session: cuff + supervisor + 100 Hz control thread + audit log.

:class:`RealtimeSimCuff` runs the simulator's physics and firmware in its own thread (as an
independent microcontroller would), so its watchdog vents even when the control thread
is dead. :class:`LiveSession` wires everything for the panel and notebooks;
:func:`open_live_session` picks the transport (loop process + serial emulator, serial
emulator, in-process simulator). Why: ``docs/decisions/0004-bfr-control.md`` and
``docs/decisions/0008-bfr-transport-and-loop-process.md``.
"""

from __future__ import annotations

import atexit
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from workbench.bfr.audit import AuditLog
from workbench.bfr.authority import require_authorization
from workbench.bfr.control import ControlCore, ControlThread, MonitorSource
from workbench.bfr.ledger import TimeLedger
from workbench.bfr.limits import CuffLimits
from workbench.bfr.protocol import CuffController, CuffStatus, PressureReading
from workbench.bfr.simulation.cuff import CuffSimulator
from workbench.bfr.supervisor import KNOWN_MONITORS, Event, Supervisor
from workbench.errors import SafetyReason
from workbench.log import get_logger
from workbench.store import Store

log = get_logger(__name__)


class RealtimeSimCuff:
    """Thread-safe :class:`CuffSimulator` advanced in real time by its own firmware thread.

    ``speed`` > 1 runs the physics faster than real time (demos); the host clock passed to
    the control loop must then be :meth:`sim_clock`.
    """

    def __init__(
        self,
        sim: CuffSimulator | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        speed: float = 1.0,
    ) -> None:
        self.sim = sim or CuffSimulator()
        self.sim.step()  # the firmware has a first sample before anyone asks
        self._clock = clock
        self._t0 = clock()
        self.speed = float(speed)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cuff-firmware", daemon=True)
        self._thread.start()

    def sim_clock(self) -> float:
        """Simulated seconds since start (the clock the control loop should use)."""
        return (self._clock() - self._t0) * self.speed

    def _run(self) -> None:
        while not self._stop.wait(0.002):
            with self._lock:
                self.sim.advance_to(self.sim_clock())

    def close(self) -> None:
        """Stop the firmware thread (vents first)."""
        with self._lock:
            self.sim.vent()
        self._stop.set()
        self._thread.join(1.0)

    def _call(self, fn, *a, **kw):
        with self._lock:
            self.sim.advance_to(self.sim_clock())
            return fn(*a, **kw)

    def arm(self, max_setpoint_mmhg: float) -> None:
        self._call(self.sim.arm, max_setpoint_mmhg)

    def heartbeat(self) -> None:
        self._call(self.sim.heartbeat)

    def read_pressure(self) -> PressureReading | None:
        return self._call(self.sim.read_pressure)

    def set_target(self, setpoint_mmhg: float, *, pump_duty: float, bleed_duty: float) -> None:
        self._call(self.sim.set_target, setpoint_mmhg, pump_duty=pump_duty, bleed_duty=bleed_duty)

    def vent(self) -> None:
        self._call(self.sim.vent)

    def status(self) -> CuffStatus:
        return self._call(self.sim.status)

    def set_activity(self, activity: str) -> None:
        self._call(self.sim.set_activity, activity)

    def monitor_source(self) -> dict[str, tuple[float, dict[str, float]]]:
        """The simulated limb's NIRS, EMG and HR streams (see :data:`~workbench.bfr.control.MonitorSource`)."""
        with self._lock:
            return self.sim.monitor_samples()

    @property
    def true_pressure_mmhg(self) -> float:
        return self.sim.pressure_mmhg


#: A pressure sample older than this is shown as stale, never as the live pressure, s.
PRESSURE_STALE_S = 0.3


@dataclass
class Snapshot:
    """What a UI shows, read without locks from the control loop's last tick."""

    t_s: float
    pressure_mmhg: float
    setpoint_mmhg: float
    pump_duty: float
    vented: bool
    latched: list[str]
    max_setpoint_mmhg: float
    sustained_trip_mmhg: float
    instant_trip_mmhg: float
    #: seconds since ``pressure_mmhg`` was a new sample (NaN: never had one)
    pressure_age_s: float = float("nan")
    #: True when ``pressure_mmhg`` is older than :data:`PRESSURE_STALE_S`: not a live value
    pressure_stale: bool = False
    #: True while the control loop runs
    loop_running: bool = False


class LiveSession:
    """One supervised session on a cuff, with the audit log when a store is given.

    Parameters
    ----------
    cuff:
        A :class:`CuffController` (e.g. :class:`RealtimeSimCuff`).
    limits:
        Frozen limits authorized to arm: from :meth:`ConfirmedAOP.limits
        <workbench.bfr.calibration.ConfirmedAOP.limits>` (use :meth:`BfrSession.live
        <workbench.bfr.session.BfrSession.live>`, which also checks screening and
        prescription) or a logged :func:`~workbench.bfr.authority.authorize_override`.
        Bare ``CuffLimits.for_session(...)`` is refused (:class:`SafetyError`).
    store:
        Where the audit log goes (None: events kept in memory only).
    clock:
        The control loop's clock (``cuff.sim_clock`` for an accelerated simulator).
    require_operator:
        Vent when :meth:`operator_heartbeat` is not called for 3 s (the panel does).
    monitors, monitor_source:
        Physiological monitors (req 12). Default (``None``): every stream the source (or
        ``cuff.monitor_source``) offers is armed; a named tuple arms those (a named monitor
        that is not connected vents as silent after 1 s). :attr:`monitor_status` says which
        are armed (and what an armed one cannot judge) and why the others are not; it is
        also logged (``monitors`` event). Real sensors on the device hub:
        :class:`~workbench.bfr.monitor_feed.HubMonitorSource`.
    """

    def __init__(
        self,
        cuff: CuffController,
        limits: CuffLimits,
        *,
        athlete_id: str = "ath01",
        side: str = "right",
        cuff_id: str = "sim-cuff",
        store: Store | None = None,
        ledger: TimeLedger | None = None,
        clock: Callable[[], float] = time.monotonic,
        require_operator: bool = True,
        monitors: tuple[str, ...] | None = None,
        monitor_source: MonitorSource | None = None,
        flush_s: float = 0.5,
        session_fields: dict | None = None,
    ) -> None:
        # req 2: refuse before anything is created (audit row, threads)
        require_authorization(limits)
        self.cuff = cuff
        self.limits = limits
        self.clock = clock
        self.events: list[Event] = []
        self.ledger = ledger or TimeLedger(None)
        t0 = clock()
        self.audit: AuditLog | None = None
        if store is not None:
            self.audit = AuditLog.start(
                store,
                athlete_id=athlete_id,
                limb=limits.limb,
                side=side,
                cuff_id=cuff_id,
                t0_s=t0,
                flush_s=flush_s,
                ledger=self.ledger,
                clock=clock,
                aop_mmhg=limits.aop_mmhg,
                **(session_fields or {}),
            )

        def on_event(e: Event) -> None:
            self.events.append(e)
            if self.audit is not None:
                self.audit.event(e)

        # req 12 / issue 12.3: monitors are on by default for every stream that is connected
        source = monitor_source or getattr(cuff, "monitor_source", None)
        streams = source() if source is not None else {}
        # an HR strap that reports itself disconnected is no connected stream (issue 12.3)
        connected = sorted(m for m, (_, v) in streams.items() if v.get("connected", 1.0) != 0)
        if monitors is None:
            monitors = tuple(m for m in connected if m in KNOWN_MONITORS)
            why = "armed: every connected stream" if monitors else "no monitor stream connected"
        else:
            monitors = tuple(monitors)
            off = [m for m in connected if m in KNOWN_MONITORS and m not in monitors]
            why = f"turned off by the caller: {', '.join(off)}" if off else "as requested"
            missing = [m for m in monitors if m not in connected]
            if missing:
                why += f"; not connected (will vent as silent): {', '.join(missing)}"
        self.monitor_status = {m: ("armed" if m in monitors else why) for m in KNOWN_MONITORS}
        if "hr" not in monitors and "hr" not in connected:
            self.monitor_status["hr"] = "no HR strap connected"
        nirs = streams.get("nirs")
        if "nirs" in monitors and nirs is not None:
            hb_um = (nirs[1]["thb_um"], nirs[1]["o2hb_um"])
            if not all(math.isfinite(v) for v in hb_um):  # e.g. a Moxy: SmO2 and THb in g/dL
                self.monitor_status["nirs"] = (
                    "armed (desaturation only: no µM haemoglobin from this device)"
                )
        self.supervisor = Supervisor(
            limits,
            ledger=self.ledger,
            ledger_key=f"{athlete_id}:{limits.limb}:{side}:{time.strftime('%Y-%m-%d')}",
            require_operator=require_operator,
            monitors=monitors,
            on_event=on_event,
        )
        on_event(Event(t0, "state", "monitors", None, float(len(monitors)),
                       f"{', '.join(monitors) or 'none'} ({why})"))  # fmt: skip
        self.core = ControlCore(
            cuff,
            self.supervisor,
            clock=clock,
            on_tick=self.audit.sample if self.audit else None,
            monitor_source=source if monitors else None,
        )
        self.thread: ControlThread | None = None
        self.t0_s = t0
        self._stopped = False
        self._direct: tuple[PressureReading | None, int | None, float] = (None, None, math.nan)
        self._direct_read_error: str | None = None  # logged once until a read succeeds
        #: close the cuff (e.g. stop its emulator) at the end of :meth:`stop`
        self.close_cuff_on_stop = False

    # ------------------------------------------------------------ control
    def start(self) -> None:
        """Arm (refused if the cuff is not vented) and start the 100 Hz loop."""
        self.core.arm(self.clock())
        self.thread = ControlThread(self.core, clock=self.clock).start()
        # Req 13: a normal interpreter exit (kernel shutdown, tab closed in Voila) ends vented
        # and closes the audit log; a hard kill is left to the firmware watchdog.
        atexit.register(self._stop_at_exit)

    def request_setpoint(self, setpoint_mmhg: float, who: str = "operator") -> float:
        """Validate (reject, never clamp) and request a setpoint; logged as operator action."""
        sp = self.limits.validate_setpoint(setpoint_mmhg) if setpoint_mmhg > 0 else 0.0
        self.core.request_setpoint(sp)
        self._operator("request_setpoint", who, sp)
        return sp

    def vent(self, who: str = "operator") -> None:
        """Operator vent: latch, vent now (from the calling thread too)."""
        self.supervisor.trip(SafetyReason.OPERATOR_VENT, f"vent pressed by {who}", self.clock())
        self.cuff.vent()
        self._operator("vent", who)

    def set_phase(self, phase: str) -> None:
        """Tell the supervisor whether the athlete exercises (``"set"``/``"rest"``: EMG checks)."""
        self.supervisor.set_phase(phase, self.clock())

    def set_activity(self, activity: str) -> None:
        """Move the simulated limb (``"reps"``/``"rest"``; the cuff must be simulated)."""
        fn = getattr(self.cuff, "set_activity", None)
        if fn is None:
            raise TypeError(f"cuff {type(self.cuff).__name__} has no simulated limb to move")
        fn(activity)

    def operator_heartbeat(self) -> None:
        """The operator's browser is alive (call at least every second)."""
        self.supervisor.operator_heartbeat(self.clock())

    def acknowledge(self, who: str) -> bool:
        """Clear latched alarms if the cuff is vented; returns success."""
        return self.supervisor.acknowledge(self.clock(), self.cuff.read_pressure(), who)

    def stop(self, status: str = "complete") -> None:
        """Stop the loop (it vents in ``finally``) and close the audit log (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self._stop_at_exit)
        try:
            if self.thread is not None:
                self.thread.stop()
            self.cuff.vent()
        finally:  # a failing vent (port gone) must not lose the audit log or the time ledger
            if self.audit is not None:
                sp = self.supervisor.setpoint_mmhg
                # keep a prescribed setpoint already in the row when the cuff ended vented
                self.audit.close(status, **({"setpoint_mmhg": sp} if sp else {}))
            self.ledger.save()
            if self.close_cuff_on_stop:
                self.cuff.close()  # type: ignore[attr-defined]

    def _stop_at_exit(self) -> None:
        try:
            self.stop("interrupted")
        except Exception:  # at exit nobody can handle it: log it; the firmware watchdog vents
            log.exception(
                "BFR session stop at interpreter exit failed; relying on the cuff watchdog"
            )

    def _operator(self, code: str, who: str, value: float | None = None) -> None:
        e = Event(self.clock(), "operator", code, None, value, who)
        self.events.append(e)
        if self.audit is not None:
            self.audit.event(e)

    def _direct_reading(self, now: float) -> tuple[PressureReading | None, float]:
        """The cuff read here (read-only) while no control loop reads it: before start and
        after stop the panel still shows the true pressure (e.g. the vent), not the loop's
        last sample. Returns the reading and when it was new (clock s)."""
        last, seq, t_new = self._direct
        try:
            r = self.cuff.read_pressure()
        except Exception as exc:  # e.g. a closed port: no new data, the value goes stale
            r = None
            if repr(exc) != self._direct_read_error:  # once per error, not per panel refresh
                self._direct_read_error = repr(exc)
                log.warning(
                    "BFR panel: reading cuff %r outside the control loop failed (%r); "
                    "the shown pressure goes stale",
                    getattr(self.cuff, "cuff_id", type(self.cuff).__name__),
                    exc,
                    exc_info=True,
                )
        else:
            self._direct_read_error = None
        if r is not None and r.seq != seq:
            last, seq, t_new = r, r.seq, now
            self._direct = (last, seq, t_new)
        return last, t_new

    def snapshot(self) -> Snapshot:
        """Current pressure (with its age: a stale value is flagged, never passed off as
        live), setpoint, alarms and limit bands."""
        now = self.clock()
        running = self.thread is not None and self.thread.alive
        cmd = self.core.last_command
        if running:
            r, t_new = self.core.last_reading, self.core.last_fresh_t
        else:
            r, t_new = self._direct_reading(now)
        age = now - t_new if r is not None and math.isfinite(t_new) else math.nan
        stale = not (math.isfinite(age) and age <= PRESSURE_STALE_S)
        lim = self.limits
        vented = cmd.vent or not running or self.supervisor.vent_required
        return Snapshot(
            t_s=now - self.t0_s,
            pressure_mmhg=float("nan") if r is None else r.pressure_mmhg,
            setpoint_mmhg=0.0 if vented else cmd.setpoint_mmhg,
            pump_duty=0.0 if vented else cmd.pump_duty,
            vented=vented,
            latched=[
                f"{t.priority}: {t.reason.value}: {t.message}" for t in self.supervisor.latched
            ],
            max_setpoint_mmhg=lim.max_setpoint_mmhg,
            sustained_trip_mmhg=lim.sustained_trip_mmhg,
            instant_trip_mmhg=lim.instant_trip_mmhg,
            pressure_age_s=age,
            pressure_stale=stale,
            loop_running=running,
        )


#: Live-session transports of :func:`open_live_session`.
TRANSPORTS = ("process", "pty", "sim")


def open_live_session(
    limits: CuffLimits,
    *,
    transport: str = "process",
    aop_mmhg: float = 200.0,
    seed: int = 0,
    **kwargs,
):
    """A live session on a simulated limb, over the chosen transport (ADR 0008).

    - ``"process"``: the control loop in its own process on the serial protocol to a cuff
      emulator process (pty) — the isolated path
      (:class:`~workbench.bfr.loop_process.ProcessLiveSession`; its ``emulator`` is the cuff);
    - ``"pty"``: the loop in a kernel thread, on the serial protocol to the emulator
      (:class:`LiveSession` on an
      :class:`~workbench.bfr.simulation.emulator.EmulatedSerialCuff`);
    - ``"sim"``: the loop in a kernel thread on the in-process :class:`RealtimeSimCuff`
      (fast tests).

    ``kwargs`` go to the session (``monitor_source``: real sensors, e.g. a
    :class:`~workbench.bfr.monitor_feed.HubMonitorSource`, instead of the simulated limb's
    streams). The simulated cuff/emulator is closed by ``stop()``.
    """
    if transport == "process":
        from workbench.bfr.loop_process import ProcessLiveSession

        return ProcessLiveSession.on_emulator(limits, aop_mmhg=aop_mmhg, seed=seed, **kwargs)
    if transport == "pty":
        from workbench.bfr.simulation.emulator import EmulatedSerialCuff

        cuff: CuffController = EmulatedSerialCuff.spawn(aop_mmhg=aop_mmhg, seed=seed)
    elif transport == "sim":
        cuff = RealtimeSimCuff(CuffSimulator(aop_mmhg=aop_mmhg, seed=seed))
    else:
        raise ValueError(f"transport must be one of {TRANSPORTS}, got {transport!r}")
    try:
        session = LiveSession(cuff, limits, **kwargs)
    except BaseException:
        cuff.close()  # type: ignore[attr-defined]
        raise
    session.close_cuff_on_stop = True
    return session
