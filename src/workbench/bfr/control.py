"""One control tick (:class:`ControlCore`) and the 100 Hz control thread that runs it.

A tick: heartbeat to the cuff (from the iteration itself, req 10) -> read pressure ->
supervisor checks -> regulator step -> supervisor clamps -> command (or VENT). The same
:class:`ControlCore` runs in :class:`ControlThread` (real time) and in
:func:`workbench.bfr.simulation.control_run.simulate_session` (simulated time), so the simulated code
is the real code. Any exception in a tick latches a trip and vents; the thread vents in
``finally``; if even that fails, the cuff firmware's watchdog vents 250 ms later.
Why: ``docs/decisions/0004-bfr-control.md``.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from workbench.bfr import regulator as reg
from workbench.bfr.protocol import VENT, CuffCommand, CuffController, PressureReading
from workbench.bfr.supervisor import Supervisor, Trip
from workbench.errors import SafetyReason
from workbench.log import get_logger

log = get_logger(__name__)

#: How often the control loop polls the monitor streams, s.
MONITOR_POLL_S = 0.05
#: ``{name: (sample_time, values)}`` of the physiological monitors (``"nirs"``: thb_um,
#: o2hb_um, smo2_pct; ``"emg"``: rms_uv or rms_counts; ``"hr"``: bpm, connected 1/0); a
#: name is absent while its stream is lost (an HR strap reports a disconnect as
#: ``connected=0``).
MonitorSamples = dict[str, tuple[float, dict[str, float]]]
#: ``f() -> MonitorSamples``: the monitors' latest samples.
MonitorSource = Callable[[], MonitorSamples]


@dataclass(frozen=True)
class TripVent:
    """A trip and the time (s, same clock) at which the vent command had been sent."""

    trip: Trip
    vent_t_s: float

    @property
    def latency_ms(self) -> float:
        return 1000.0 * (self.vent_t_s - self.trip.condition_t_s)


class ControlCore:
    """The body of one control-loop iteration; not thread-aware itself.

    Parameters
    ----------
    cuff:
        The cuff (simulator or real controller).
    supervisor:
        The session's supervisor (owns the limits).
    clock:
        Same clock as the ``now`` passed to :meth:`tick`; used to time-stamp vents.
    on_tick:
        Called after each tick with ``(now, reading, command)`` (audit, UI); must be fast.
    fault_hook:
        Test seam called at the start of each tick (may raise to inject loop faults).
    monitor_source:
        Physiological monitor streams (:data:`MonitorSource`), read every tick; new samples
        of the supervisor's monitors are fed to it (req 12).
    """

    def __init__(
        self,
        cuff: CuffController,
        supervisor: Supervisor,
        *,
        clock: Callable[[], float] = time.monotonic,
        regulator_params: reg.RegulatorParams | None = None,
        on_tick: Callable[[float, PressureReading | None, CuffCommand], None] | None = None,
        fault_hook: Callable[[float], None] | None = None,
        monitor_source: MonitorSource | None = None,
    ) -> None:
        self.cuff = cuff
        self.supervisor = supervisor
        self.clock = clock
        params = regulator_params or reg.RegulatorParams()
        if params.slew_up_mmhg_per_s > supervisor.limits.slew_up_mmhg_per_s:
            # a stricter site slew limit applies to the regulator's ramp too
            params = replace(params, slew_up_mmhg_per_s=supervisor.limits.slew_up_mmhg_per_s)
        # P̄ is held at or below the maximum SP (the regulator's ceiling guard, ADR 0004)
        params = replace(
            params, ceiling_mmhg=min(params.ceiling_mmhg, supervisor.limits.max_setpoint_mmhg)
        )
        self.state = reg.RegulatorState(params=params)
        self.requested_setpoint_mmhg = 0.0
        self.on_tick = on_tick
        self.fault_hook = fault_hook
        self.monitor_source = monitor_source
        self._monitor_seen: dict[str, float] = {}
        self._monitor_next = float("-inf")
        self.trip_vents: list[TripVent] = []
        self.last_command: CuffCommand = VENT
        self.last_reading: PressureReading | None = None
        #: loop-clock time at which the last *new* sample (new ``seq``) arrived (NaN: none)
        self.last_fresh_t: float = float("nan")
        self._fresh_seq: int | None = None
        self.ticks = 0

    def arm(self, now: float) -> None:
        """Check the cuff is vented (req 21), arm the supervisor, then the firmware.

        Raises :class:`~workbench.errors.SafetyError` (and vents) when arming is refused.
        """
        reading = self.cuff.read_pressure()
        try:
            self.supervisor.arm(now, reading)
        except BaseException:
            self.cuff.vent()
            raise
        self.state = reg.reset(self.state)
        self.requested_setpoint_mmhg = 0.0
        self.cuff.arm(self.supervisor.limits.max_setpoint_mmhg)

    def request_setpoint(self, setpoint_mmhg: float) -> None:
        """Ask for a setpoint (already validated by the session); the supervisor clamps it."""
        self.requested_setpoint_mmhg = float(setpoint_mmhg)

    def _vent(self, new_trips: list[Trip]) -> CuffCommand:
        self.cuff.vent()
        t = self.clock()
        self.trip_vents.extend(TripVent(tr, t) for tr in new_trips)
        self.state = reg.reset(self.state)
        return VENT

    def tick(self, now: float) -> CuffCommand:
        """Run one iteration at ``now``; exceptions propagate (use :meth:`safe_tick`)."""
        self.ticks += 1
        self.cuff.heartbeat()
        if self.fault_hook is not None:
            self.fault_hook(now)
        reading = self.cuff.read_pressure()
        self.last_reading = reading
        if reading is not None and reading.seq != self._fresh_seq:
            self._fresh_seq = reading.seq
            self.last_fresh_t = now
        sup = self.supervisor
        if self.monitor_source is not None and not now < self._monitor_next:
            self._monitor_next = now + MONITOR_POLL_S  # streams are 10 Hz: no need each tick
            self._feed_monitors(now)
        trips = sup.check(now, reading)
        if sup.vent_required:
            cmd = self._vent(trips)
        else:
            # the regulator only ever sees the supervised (clamped) target, never the raw
            # request: otherwise it pumps toward a pressure the supervisor would not command
            target = sup.supervised_target(self.requested_setpoint_mmhg)
            self.state = reg.with_target(self.state, target, exercising=sup.phase == "set")
            self.state, proposed = reg.step(self.state, reading, now)
            n_before = len(sup.trips)
            cmd = sup.supervise(now, proposed, target)
            if cmd.vent:
                cmd = self._vent(sup.trips[n_before:])
            else:
                if cmd.setpoint_mmhg < self.state.ramp_mmhg:
                    # the supervisor's slew or clamp is stricter: the regulator's reference
                    # follows the supervised setpoint, not its own ramp
                    self.state = replace(self.state, ramp_mmhg=cmd.setpoint_mmhg)
                self.cuff.set_target(
                    cmd.setpoint_mmhg, pump_duty=cmd.pump_duty, bleed_duty=cmd.bleed_duty
                )
        self.last_command = cmd
        if self.on_tick is not None:
            self.on_tick(now, reading, cmd)
        return cmd

    def _feed_monitors(self, now: float) -> None:
        """New monitor samples to the supervisor, from this (the control) thread (req 12).

        A source that raises ends the tick like any loop exception: the cuff vents.
        """
        sup = self.supervisor
        for name, (t_sample, values) in self.monitor_source().items():  # type: ignore[misc]
            if name in sup.monitors and t_sample != self._monitor_seen.get(name):
                self._monitor_seen[name] = t_sample
                sup.monitor_sample(name, now, **values)

    def safe_tick(self, now: float) -> CuffCommand:
        """:meth:`tick`, but any exception latches a LOOP_EXCEPTION trip and vents.

        ``KeyboardInterrupt``/``SystemExit`` are re-raised after venting.
        """
        try:
            return self.tick(now)
        except BaseException as exc:
            try:
                tr = self.supervisor.trip(
                    SafetyReason.LOOP_EXCEPTION, f"{type(exc).__name__} in control loop: {exc}", now
                )
                self._vent([tr])
            except BaseException:
                self.cuff.vent()
                raise
            if not isinstance(exc, Exception):
                raise
            log.error("control tick failed; cuff vented: %r", exc)
            return VENT


class ControlThread:
    """Runs :meth:`ControlCore.safe_tick` at ``rate_hz`` in its own thread; vents in ``finally``.

    ``clock`` and ``sleep`` are injectable. Overruns are not compensated by bursts: a late
    tick is run once and the schedule restarts from it (the supervisor trips on > 100 ms).
    """

    def __init__(
        self,
        core: ControlCore,
        *,
        rate_hz: float = 100.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        name: str = "bfr-control",
    ) -> None:
        if not 50.0 <= rate_hz <= 1000.0:
            raise ValueError(f"rate_hz {rate_hz} outside 50-1000 (heartbeat must be <= 50 ms)")
        self.core = core
        self.period_s = 1.0 / rate_hz
        self.clock = clock
        self.sleep = sleep
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.periods_s: list[float] = []
        self.record_periods = False
        self.error: BaseException | None = None

    def start(self) -> ControlThread:
        """Start the loop (once).

        Calls :func:`gc.freeze` first: objects alive now (imported modules, pandas, ...)
        are moved out of the collector's view, so full collections triggered by other
        threads do not stall the loop for 100+ ms (measured in ``bench/bfr_bench.py``).
        """
        if self._thread.is_alive() or self._stop.is_set():
            raise RuntimeError("control thread already started")
        gc.freeze()
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop the loop; the cuff is vented by the loop's ``finally``."""
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout_s)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        core, clock = self.core, self.clock
        try:
            next_t = clock()
            last = None
            while not self._stop.is_set():
                now = clock()
                if self.record_periods and last is not None:
                    self.periods_s.append(now - last)
                last = now
                core.safe_tick(now)
                next_t += self.period_s
                remaining = next_t - clock()
                if remaining < 0:
                    next_t = clock()
                    remaining = 0.0
                self.sleep(remaining)
        except BaseException as exc:  # KeyboardInterrupt, SystemExit, injected faults
            self.error = exc
            raise
        finally:
            core.cuff.vent()
            core.supervisor.disarm(clock())
