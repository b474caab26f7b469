"""The safety supervisor: owns the limits and the vent decision, trusts nothing above it.

It is independent of the regulator: it sees the raw readings, the clock, the monitors and
the proposed command, and returns the command actually sent (clamped setpoint, pump
forbidden where unsafe, or VENT). Every trip vents and latches; a latch clears only with
the cuff vented (< 20 mmHg) and a named acknowledgement (req 23).

Reqs 1, 3-13, 15, 21, 23; req 2 at arming (only limits authorized by
:mod:`workbench.bfr.authority` arm); req 17 with :class:`~workbench.bfr.limits.CalibrationLimits`
(calibration's one enforcement point, issue 12.1). Why: ``docs/decisions/0004-bfr-control.md``.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from workbench.bfr.authority import require_authorization
from workbench.bfr.ledger import TimeLedger
from workbench.bfr.limits import CalibrationLimits, CuffLimits
from workbench.bfr.protocol import VENT, CuffCommand, PressureReading
from workbench.errors import SafetyError, SafetyReason

#: Physiological monitors the supervisor knows (req 12; ``hr``: issue 12.3).
KNOWN_MONITORS = ("nirs", "emg", "hr")
#: Plausible heart rate, bpm; outside is a sample-quality alarm, never a vent by itself.
HR_PLAUSIBLE_BPM = (25.0, 250.0)
#: The set's EMG level (mean envelope before the recent window) must exceed this, in the
#: envelope's unit, before a collapse is judged. The line sits between the 2-s mean envelope
#: of a relaxed and of a contracting muscle on that kind of sensor: µV (the simulated limb and
#: the EMG simulator driver: relaxed 5-7 µV, contracting 40-220 µV); Myo int8 counts (the
#: median-channel RMS of the recorded Myo in ``tests/data/emg``: relaxed 1.9-9.4, fist
#: 12.5-35 counts).
EMG_SET_FLOOR = {"rms_uv": 20.0, "rms_counts": 10.0}

HIGH = "high"
MEDIUM = "medium"
LOW = "low"

_PRIORITY = {
    SafetyReason.DEVIATION: MEDIUM,
    SafetyReason.LEAK: MEDIUM,
    SafetyReason.NOT_AT_SETPOINT: MEDIUM,
    SafetyReason.MONITOR: MEDIUM,
    SafetyReason.OPERATOR_VENT: LOW,
}


@dataclass(frozen=True)
class Trip:
    """A safety trip: why, when the condition became true and when it was detected (s)."""

    reason: SafetyReason
    message: str
    priority: str
    condition_t_s: float
    detected_t_s: float


@dataclass(frozen=True)
class Event:
    """An audit event (kind: setpoint | trip | alarm | ack | operator | state)."""

    t_s: float
    kind: str
    code: str
    priority: str | None = None
    value: float | None = None
    message: str | None = None


class Supervisor:
    """Safety supervisor of one session.

    Parameters
    ----------
    limits:
        The session's frozen limits.
    ledger, ledger_key:
        Persisted cumulative time and reperfusion lock-out (in-memory ledger if None).
    require_operator:
        Vent when the browser heartbeat stops for > 3 s (req 11).
    monitors:
        Names of the monitors the session relies on (``"nirs"``, ``"emg"``, ``"hr"``)
        (req 12; HR strap: issue 12.3).
    on_event:
        Receives every :class:`Event` (the audit log).
    """

    def __init__(
        self,
        limits: CuffLimits,
        *,
        ledger: TimeLedger | None = None,
        ledger_key: str = "session",
        require_operator: bool = False,
        monitors: Iterable[str] = (),
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        if not isinstance(limits, CuffLimits):
            raise TypeError("Supervisor needs CuffLimits built by CuffLimits.for_session")
        self.limits = limits
        self.ledger = ledger or TimeLedger(None)
        self.ledger_key = ledger_key
        self.require_operator = require_operator
        self.monitors = frozenset(monitors)
        unknown = self.monitors - set(KNOWN_MONITORS)
        if unknown:
            raise ValueError(
                f"unknown monitors {sorted(unknown)}; known: {', '.join(KNOWN_MONITORS)}"
            )
        self.on_event = on_event or (lambda e: None)
        self.armed = False
        self.latched: list[Trip] = []
        self.trips: list[Trip] = []
        self.phase = "rest"  # "set" while the athlete exercises
        self._last_tick_t_s: float | None = None
        self._setpoint_mmhg = 0.0
        self._last_command: CuffCommand = VENT
        self._last_reading_seq: int | None = None
        self._last_fresh_sample_t_s: float | None = None
        self._last_reading_mmhg: float | None = None
        self._last_device_t_s: float | None = None
        self._identical_since_t_s: float | None = None
        self._mean_window: deque[tuple[float, float]] = deque()
        self._mean_window_sum_mmhg = 0.0
        self._last_pressure_mmhg = math.nan
        self._sustained_over_since_t_s: float | None = None
        self._instant_over_since_t_s: float | None = None
        self._beyond_swing_since_t_s: float | None = None
        self._near_aop_since_t_s: float | None = None
        self._above_absolute_max_samples = 0
        self._inflated_since_t_s: float | None = None
        self._deviation_since_t_s: float | None = None
        self._pump_running_since_t_s: float | None = None
        self._inflation_start_t_s: float | None = None
        self._setpoint_reached = False
        self._operator_heartbeat_t_s: float | None = None
        self._monitor_last_sample_t_s: dict[str, float] = {}
        self._nirs_samples: deque[tuple[float, float, float, float]] = deque()  # t, thb, o2hb, smo2
        self._emg_samples: deque[tuple[float, float]] = deque()
        self._emg_floor = EMG_SET_FLOOR["rms_uv"]  # in the unit of the samples received
        #: when the HR strap reported a disconnect (None while connected); only a connected
        #: sample clears it, re-arming does not
        self._hr_disconnected_t_s: float | None = None
        self._hr_implausible = False  # logged once per run of implausible samples
        self._armed_t_s = -math.inf
        self._requested_setpoint_mmhg = 0.0
        self._sensors_disagree_since_t_s: float | None = None
        self._condition_onset_t_s = 0.0
        self._last_supervise_t_s: float | None = None
        self._logged_setpoint_mmhg = 0.0
        self._ledger_charged_to_t_s = 0.0
        # calibration profile (req 17): None in training
        self._calibration = limits if isinstance(limits, CalibrationLimits) else None
        self.calibration_start_t_s: float | None = None
        #: time with P above half the expected AOP during calibration, s (req 17)
        self.time_above_half_s = 0.0
        self._step_mmhg = 0.0
        self._step_since_t_s: float | None = None
        self._long_step_vented_t_s: float | None = None

    # ---------------------------------------------------------------- state
    @property
    def p_mean_mmhg(self) -> float:
        """P-bar: mean of the plausible readings of the last 1 s (NaN if none)."""
        return (
            self._mean_window_sum_mmhg / len(self._mean_window) if self._mean_window else math.nan
        )

    @property
    def vent_required(self) -> bool:
        """True when not armed or a trip is latched."""
        return not self.armed or bool(self.latched)

    @property
    def setpoint_mmhg(self) -> float:
        """The last supervised setpoint sent to the cuff."""
        return self._setpoint_mmhg

    def _emit(self, kind: str, code: str, priority=None, value=None, message=None, t=None) -> None:
        self.on_event(
            Event(self._last_tick_t_s if t is None else t, kind, code, priority, value, message)
        )

    def trip(
        self,
        reason: SafetyReason,
        message: str,
        now: float,
        *,
        condition_t_s: float | None = None,
        priority: str | None = None,
    ) -> Trip:
        """Latch a trip (vent is required until acknowledged while vented)."""
        t = Trip(
            reason,
            message,
            priority or _PRIORITY.get(reason, HIGH),
            now if condition_t_s is None else min(condition_t_s, now),
            now,
        )
        self.trips.append(t)
        self.latched.append(t)
        self._setpoint_mmhg = 0.0
        self._emit("trip", reason.value, t.priority, None, message, t=now)
        if reason is SafetyReason.TIME_LIMIT:
            self.ledger.start_lockout(self.ledger_key, self.limits.reperfusion_s)
        return t

    # ---------------------------------------------------------------- inputs
    def arm(self, now: float, reading: PressureReading | None) -> None:
        """Arm for inflation; refuses (and latches) if the cuff is already inflated (req 21).

        Raises
        ------
        SafetyError
            Pressure at start, reperfusion lock-out, cumulative time used up, latched trips.
        """
        self._last_tick_t_s = now
        # req 2: only limits from a confirmed AOP (or a logged override) arm a cuff for
        # training; calibration (which measures the AOP) arms with its own profile (req 17)
        cal = self._calibration
        auth = None if cal is not None else require_authorization(self.limits)
        if self.latched:
            raise SafetyError(
                f"{len(self.latched)} latched trip(s); vent and acknowledge first",
                reason=self.latched[0].reason,
            )
        p = math.nan if reading is None else reading.pressure_mmhg
        if not math.isfinite(p) or p > self.limits.inflated_mmhg:
            self.trip(
                SafetyReason.PRESSURE_AT_START,
                f"cuff reads {p:.1f} mmHg before arming (> {self.limits.inflated_mmhg:g} or invalid)",
                now,
            )
            raise SafetyError(
                "cuff not vented at start; vented and latched",
                reason=SafetyReason.PRESSURE_AT_START,
            )
        lock = self.ledger.lockout_remaining_s(self.ledger_key)
        if lock > 0:
            raise SafetyError(
                f"reperfusion lock-out: {lock:.0f} s left", reason=SafetyReason.REPERFUSION_LOCKOUT
            )
        if cal is not None:
            self._calibration_arm_checks(now)
        used = self.ledger.cumulative_s(self.ledger_key)
        if used >= self.limits.cumulative_max_s:
            raise SafetyError(
                f"cumulative inflation {used:.0f} s reached {self.limits.cumulative_max_s:.0f} s",
                reason=SafetyReason.TIME_LIMIT,
            )
        self.armed = True
        self._setpoint_mmhg = 0.0
        self._last_reading_seq = None if reading is None else reading.seq
        self._last_fresh_sample_t_s = now
        self._last_reading_mmhg = p
        self._last_device_t_s = None if reading is None else reading.device_t_s
        self._identical_since_t_s = None
        self._operator_heartbeat_t_s = now
        self._monitor_last_sample_t_s = {m: now for m in self.monitors}
        self._armed_t_s = now
        self._inflation_start_t_s = None
        self._setpoint_reached = False
        # the cuff is vented now: pressure history from before (a previous inflation) must
        # not date a new over-pressure condition back to then
        self._mean_window.clear()
        self._mean_window_sum_mmhg = 0.0
        self._last_pressure_mmhg = p
        self._sustained_over_since_t_s = self._instant_over_since_t_s = None
        self._beyond_swing_since_t_s = self._near_aop_since_t_s = None
        self._deviation_since_t_s = self._pump_running_since_t_s = None
        self._above_absolute_max_samples = 0
        if cal is not None:
            self._requested_setpoint_mmhg = 0.0
            self._step_mmhg, self._step_since_t_s = 0.0, None
            if self.calibration_start_t_s is None:
                self.calibration_start_t_s = now
        if auth is not None and auth.source == "override":
            self._emit("operator", "override", message=auth.summary)
        self._emit("state", "armed", value=self.limits.max_setpoint_mmhg)

    def _calibration_arm_checks(self, now: float) -> None:
        """Req 17 at (re-)arming: time box left, >= 10 s deflated after a long step."""
        cal = self._calibration
        assert cal is not None
        t0 = self.calibration_start_t_s
        if t0 is not None and now - t0 >= cal.duration_max_s:
            raise SafetyError(
                f"calibration time box of {cal.duration_max_s:g} s used up",
                reason=SafetyReason.TIME_LIMIT,
            )
        if self.time_above_half_s >= cal.above_half_max_s:
            raise SafetyError(
                f"{self.time_above_half_s:.0f} s above half the expected AOP used up",
                reason=SafetyReason.TIME_LIMIT,
            )
        t_vent = self._long_step_vented_t_s
        if t_vent is not None and now - t_vent < cal.deflate_min_s:
            raise SafetyError(
                f"a step longer than {cal.long_step_s:g} s needs {cal.deflate_min_s:g} s "
                f"deflated; {now - t_vent:.1f} s so far",
                reason=SafetyReason.REPERFUSION_LOCKOUT,
            )

    def acknowledge(self, now: float, reading: PressureReading | None, who: str) -> bool:
        """Clear the latched trips if the cuff is vented (< 20 mmHg); returns success."""
        p = math.nan if reading is None else reading.pressure_mmhg
        if not who or not who.strip():
            raise ValueError("an acknowledgement needs the operator's name")
        if not (math.isfinite(p) and p < self.limits.inflated_mmhg):
            self._emit("ack", "refused_not_vented", value=p, message=who, t=now)
            return False
        n = len(self.latched)
        self.latched.clear()
        self.armed = False
        self._emit("ack", "acknowledged", value=float(n), message=who, t=now)
        return True

    def disarm(self, now: float) -> None:
        """End of control (the cuff must be vented by the caller)."""
        cal = self._calibration
        if (
            cal is not None
            and self.armed
            and self._step_since_t_s is not None
            and now - self._step_since_t_s > cal.long_step_s
        ):
            self._long_step_vented_t_s = now  # req 17: >= 10 s deflated from here
        self._step_mmhg, self._step_since_t_s = 0.0, None
        self.armed = False
        self._setpoint_mmhg = 0.0
        if self._inflated_since_t_s is not None:
            # the dump valve empties the cuff within 0.5 s (req 8): charge it, conservatively
            self.ledger.add_inflated(
                self.ledger_key, max(0.0, now - self._ledger_charged_to_t_s) + 0.5
            )
            self._inflated_since_t_s = None
        self.ledger.set_deflated(self.ledger_key)
        self._emit("state", "disarmed", t=now)

    def operator_heartbeat(self, now: float) -> None:
        """The operator's browser is alive."""
        self._operator_heartbeat_t_s = now

    def monitor_sample(self, name: str, now: float, **values: float) -> None:
        """A monitor sample: ``nirs`` (thb_um, o2hb_um, smo2_pct), ``emg`` (rms_uv or
        rms_counts, see :data:`EMG_SET_FLOOR`) or ``hr`` (bpm, optional connected 1/0).

        An HR strap reporting ``connected=0`` (the BLE driver knows a disconnect at once)
        trips MONITOR at the next :meth:`check`; an implausible HR (NaN, < 25 or > 250 bpm)
        is only logged as a sample-quality alarm (monitors can only lower risk). A NIRS
        device without haemoglobin in µM sends NaN: only desaturation is judged then.
        """
        if name == "nirs":
            self._nirs_samples.append(
                (now, values["thb_um"], values["o2hb_um"], values["smo2_pct"])
            )
            while (
                self._nirs_samples
                and now - self._nirs_samples[0][0] > self.limits.arterial_signature_s + 2
            ):
                self._nirs_samples.popleft()
        elif name == "emg":
            unit = "rms_uv" if "rms_uv" in values else "rms_counts"
            self._emg_floor = EMG_SET_FLOOR[unit]
            self._emg_samples.append((now, values[unit]))
            while self._emg_samples and now - self._emg_samples[0][0] > 10.0:
                self._emg_samples.popleft()
        elif name == "hr":
            self._hr_sample(now, values)
        else:
            raise ValueError(f"unknown monitor {name!r}")
        self._monitor_last_sample_t_s[name] = now

    def _hr_sample(self, now: float, values: dict[str, float]) -> None:
        connected = values.get("connected", 1.0)
        if isinstance(connected, bool):
            connected = float(connected)
        # anything but a clear "connected" (1) counts as a disconnect: NaN, 0, garbage
        ok = isinstance(connected, (int, float)) and math.isfinite(connected) and connected >= 0.5
        if not ok:
            if self._hr_disconnected_t_s is None:
                self._hr_disconnected_t_s = now
                self._emit("alarm", "hr_disconnected", MEDIUM, None, "HR strap disconnected", t=now)
            return
        self._hr_disconnected_t_s = None
        bpm = values.get("bpm", math.nan)
        plausible = (
            isinstance(bpm, (int, float))
            and not isinstance(bpm, bool)
            and math.isfinite(bpm)
            and HR_PLAUSIBLE_BPM[0] <= bpm <= HR_PLAUSIBLE_BPM[1]
        )
        if not plausible and not self._hr_implausible:
            self._emit(
                "alarm",
                "hr_implausible",
                LOW,
                float(bpm) if isinstance(bpm, (int, float)) else None,
                f"implausible heart rate {bpm!r} bpm (sample quality; plausible "
                f"{HR_PLAUSIBLE_BPM[0]:g}-{HR_PLAUSIBLE_BPM[1]:g})",
                t=now,
            )
        self._hr_implausible = not plausible

    def set_phase(self, phase: str, now: float) -> None:
        """``"set"`` while exercising, ``"rest"`` otherwise (EMG collapse applies in sets)."""
        if phase not in ("set", "rest"):
            raise ValueError(f"phase must be set or rest, got {phase!r}")
        self.phase = phase
        if phase == "set":
            self._emg_samples.clear()

    # ---------------------------------------------------------------- checks
    def check(self, now: float, reading: PressureReading | None) -> list[Trip]:
        """Evaluate every trip condition at ``now``; returns the trips newly latched."""
        lim = self.limits
        new: list[Trip] = []

        def fire(reason: SafetyReason, msg: str, cond_t: float | None = None) -> None:
            if any(t.reason is reason for t in self.latched):
                return
            new.append(self.trip(reason, msg, now, condition_t_s=cond_t))

        prev = self._last_tick_t_s
        self._last_tick_t_s = now
        if not math.isfinite(now):
            fire(SafetyReason.LOOP_OVERRUN, f"clock returned {now}")
            return new
        if prev is not None:
            if now < prev:
                fire(SafetyReason.LOOP_OVERRUN, f"clock went backwards by {prev - now:.3f} s")
            elif now - prev > lim.overrun_s:
                # detectable only when the late iteration runs; during the stall the
                # firmware watchdog (250 ms) is the only protection (ADR 0004)
                fire(
                    SafetyReason.LOOP_OVERRUN,
                    f"control loop overrun: {1000 * (now - prev):.0f} ms since the last tick",
                )
        if new:
            return new  # a broken clock makes every other judgement void
        if not self.armed:
            return new
        # --- data freshness and plausibility (req 9)
        fresh = reading is not None and reading.seq != self._last_reading_seq
        if fresh:
            assert reading is not None
            p = reading.pressure_mmhg
            self._last_reading_seq = reading.seq
            last_t = self._last_fresh_sample_t_s
            # the sample may be up to one tick old: time staleness from the previous tick
            self._last_fresh_sample_t_s = prev if prev is not None and prev <= now else now
            if not math.isfinite(p) or p < lim.min_plausible_mmhg or p > lim.max_plausible_mmhg:
                fire(SafetyReason.IMPLAUSIBLE_DATA, f"implausible pressure reading {p}")
            else:
                last_v, last_dev = self._last_reading_mmhg, self._last_device_t_s
                if last_v is not None and math.isfinite(last_v):
                    dt = reading.device_t_s - last_dev if last_dev is not None else math.nan
                    if not (math.isfinite(dt) and dt > 0):
                        dt = now - last_t if last_t is not None else math.nan
                    if (
                        math.isfinite(dt)
                        and dt > 0
                        and abs(p - last_v) / dt > lim.max_rate_mmhg_per_s
                    ):
                        fire(
                            SafetyReason.IMPLAUSIBLE_DATA,
                            f"pressure changed {p - last_v:+.1f} mmHg in {1000 * dt:.0f} ms",
                        )
                p2 = reading.pressure2_mmhg
                if math.isfinite(p2) and abs(p - p2) > lim.sensor_disagree_mmhg:
                    if self._sensors_disagree_since_t_s is None:
                        self._sensors_disagree_since_t_s = last_t if last_t is not None else now
                    elif now - self._sensors_disagree_since_t_s > lim.sensor_disagree_s:
                        fire(
                            SafetyReason.IMPLAUSIBLE_DATA,
                            f"pressure sensors disagree: {p:.1f} vs {p2:.1f} mmHg",
                            self._sensors_disagree_since_t_s + lim.sensor_disagree_s,
                        )
                else:
                    self._sensors_disagree_since_t_s = None
                active = self._last_command.pump_duty > 0 or self._last_command.bleed_duty > 0
                if last_v is not None and p == last_v and active:
                    if self._identical_since_t_s is None:
                        self._identical_since_t_s = last_t if last_t is not None else now
                    elif now - self._identical_since_t_s > lim.frozen_s:
                        fire(
                            SafetyReason.FROZEN_DATA,
                            f"pressure bit-identical ({p}) for {1000 * (now - self._identical_since_t_s):.0f} ms",
                            self._identical_since_t_s + lim.frozen_s,
                        )
                else:
                    self._identical_since_t_s = None
                self._accept(now, p)
            self._last_reading_mmhg = p
            self._last_device_t_s = reading.device_t_s
        elif (
            self._last_fresh_sample_t_s is not None
            and now - self._last_fresh_sample_t_s > lim.stale_s
        ):
            fire(
                SafetyReason.STALE_DATA,
                f"no new pressure sample for {1000 * (now - self._last_fresh_sample_t_s):.0f} ms",
                self._last_fresh_sample_t_s + lim.stale_s,
            )
        self._time_accounting(now, fire)
        if self._calibration is not None:
            self._calibration_checks(now, prev, fire)
        if self.latched:
            return new  # vent already commanded; further judgements add nothing
        self._pressure_checks(now, fire)
        # --- operator (req 11) and monitors (req 12)
        if self.require_operator and self._operator_heartbeat_t_s is not None:
            if now - self._operator_heartbeat_t_s > lim.operator_heartbeat_s:
                fire(
                    SafetyReason.OPERATOR_HEARTBEAT_LOST,
                    f"no operator heartbeat for {now - self._operator_heartbeat_t_s:.1f} s",
                    self._operator_heartbeat_t_s + lim.operator_heartbeat_s,
                )
        for name in self.monitors:
            t_m = self._monitor_last_sample_t_s.get(name, now)
            # an HR strap notifies about once a second: its own staleness limit
            stale_s = lim.hr_stale_s if name == "hr" else lim.monitor_stale_s
            if now - t_m > stale_s:
                fire(
                    SafetyReason.MONITOR,
                    f"{name} monitor silent for {now - t_m:.1f} s",
                    t_m + stale_s,
                )
        self._monitor_checks(now, fire)
        return new

    def _accept(self, now: float, p: float) -> None:
        # a condition seen now may have begun right after the previous sample: timing
        # durations from there trips up to one sample early, never late
        self._condition_onset_t_s = self._mean_window[-1][0] if self._mean_window else now
        self._last_pressure_mmhg = p
        self._mean_window.append((now, p))
        self._mean_window_sum_mmhg += p
        while self._mean_window and now - self._mean_window[0][0] >= self.limits.mean_window_s:
            self._mean_window_sum_mmhg -= self._mean_window.popleft()[1]

    def _time_accounting(self, now: float, fire) -> None:
        """Continuous and cumulative inflation time (req 5), also while vented."""
        lim = self.limits
        p, pbar = self._last_pressure_mmhg, self.p_mean_mmhg
        if not math.isfinite(p):
            return
        # req 5
        if p > lim.inflated_mmhg:
            if self._inflated_since_t_s is None:
                self._inflated_since_t_s = now
                self._ledger_charged_to_t_s = now
            total = self.ledger.add_inflated(self.ledger_key, now - self._ledger_charged_to_t_s)
            self._ledger_charged_to_t_s = now
            cont = now - self._inflated_since_t_s
            if cont > lim.continuous_max_s:
                fire(
                    SafetyReason.TIME_LIMIT,
                    f"continuous inflation {cont:.0f} s > {lim.continuous_max_s:.0f} s",
                    self._inflated_since_t_s + lim.continuous_max_s,
                )
            if total > lim.cumulative_max_s:
                fire(
                    SafetyReason.TIME_LIMIT,
                    f"cumulative inflation {total:.0f} s > {lim.cumulative_max_s:.0f} s",
                )
        elif self._inflated_since_t_s is not None and pbar < lim.inflated_mmhg:
            self._inflated_since_t_s = None
            self.ledger.set_deflated(self.ledger_key)

    def _calibration_checks(self, now: float, prev: float | None, fire) -> None:
        """Req 17: time above half the expected AOP, step hold, overall time box."""
        cal = self._calibration
        assert cal is not None
        p = self._last_pressure_mmhg
        if prev is not None and math.isfinite(p) and p > cal.half_expected_aop_mmhg:
            self.time_above_half_s += min(max(now - prev, 0.0), cal.overrun_s)
        if self.time_above_half_s > cal.above_half_max_s:
            fire(
                SafetyReason.TIME_LIMIT,
                f"{self.time_above_half_s:.1f} s above half the expected AOP "
                f"({cal.half_expected_aop_mmhg:.0f} mmHg) > {cal.above_half_max_s:g} s",
            )
        t0 = self.calibration_start_t_s
        if t0 is not None and now - t0 > cal.duration_max_s:
            fire(
                SafetyReason.TIME_LIMIT,
                f"calibration running {now - t0:.0f} s > {cal.duration_max_s:g} s",
                t0 + cal.duration_max_s,
            )
        since = self._step_since_t_s
        # 1 us: the simulated clock's float rounding at the end of a hold of exactly 30 s
        if self._step_mmhg > 0 and since is not None and now - since > cal.step_hold_max_s + 1e-6:
            fire(
                SafetyReason.TIME_LIMIT,
                f"calibration step {self._step_mmhg:.0f} mmHg held {now - since:.1f} s "
                f"> {cal.step_hold_max_s:g} s",
                since + cal.step_hold_max_s,
            )

    def _limit_mmhg(self) -> float:
        """The setpoint limit the over-pressure lines are drawn from: the session limit in
        training; the current step (clamped to the ceiling) in calibration."""
        lim = self.limits
        if self._calibration is None:
            return lim.max_setpoint_mmhg
        step = max(self._requested_setpoint_mmhg, self._setpoint_mmhg)
        return min(step, lim.max_setpoint_mmhg)

    def _instant_line_mmhg(self) -> float:
        """Req 4: min(AOP, limit + 40) in training; step + margin (25) in calibration, where
        no AOP bounds it (the 300 mmHg two-sample line and the step clamp do)."""
        lim = self.limits
        if self._calibration is None:
            return lim.instant_trip_mmhg
        return self._limit_mmhg() + lim.instant_margin_mmhg

    def _pressure_checks(self, now: float, fire) -> None:
        lim = self.limits
        p, pbar = self._last_pressure_mmhg, self.p_mean_mmhg
        if not math.isfinite(p):
            return
        limit = self._limit_mmhg()
        instant_line = self._instant_line_mmhg()
        # req 3
        sustained_line = limit + lim.sustained_margin_mmhg
        if pbar > sustained_line:
            self._sustained_over_since_t_s = (
                self._sustained_over_since_t_s
                if self._sustained_over_since_t_s is not None
                else self._condition_onset_t_s
            )
            if now - self._sustained_over_since_t_s > lim.sustained_s:
                fire(
                    SafetyReason.OVER_PRESSURE_SUSTAINED,
                    f"1-s mean {pbar:.1f} mmHg > {sustained_line:.1f} for > {lim.sustained_s:g} s",
                    self._sustained_over_since_t_s + lim.sustained_s,
                )
        else:
            self._sustained_over_since_t_s = None
        # issue 15 (ADR 0006, decision 11), stricter than req 3: P-bar past the maximum SP by
        # more than the transducer tolerance means this cuff cannot hold its 80 % AOP line
        # (the regulator and the bleed stage below have failed): vent at once. Training only;
        # calibration steps are bounded by their own profile
        if self._calibration is None and pbar > lim.mean_trip_mmhg:
            fire(
                SafetyReason.OVER_PRESSURE_MEAN,
                f"1-s mean {pbar:.1f} mmHg is more than {lim.mean_trip_above_max_mmhg:g} mmHg over "
                f"the maximum SP {lim.max_setpoint_mmhg:.1f}: this cuff cannot hold the 80 % AOP "
                "line with these contractions; lower the prescription or refit the cuff",
                self._condition_onset_t_s,
            )
        # req 4
        if p > instant_line:
            self._instant_over_since_t_s = (
                self._instant_over_since_t_s
                if self._instant_over_since_t_s is not None
                else self._condition_onset_t_s
            )
            if now - self._instant_over_since_t_s > lim.instant_s:
                fire(
                    SafetyReason.OVER_PRESSURE_INSTANT,
                    f"pressure {p:.1f} mmHg > {instant_line:.1f} for > {1000 * lim.instant_s:.0f} ms",
                    self._instant_over_since_t_s + lim.instant_s,
                )
        else:
            self._instant_over_since_t_s = None
        # stricter than req 4 (ADR 0006): never let the cuff reach the AOP. Beyond the
        # legitimate contraction swing (limit + 25) for 100 ms, or above 95 % of the AOP at
        # the first sample, vents (a stuck pump climbs 100-300 mmHg/s: the 200 ms rule above
        # is too late)
        swing_line = limit + lim.swing_max_mmhg
        # calibration has no AOP yet (its aop_mmhg is the expected value): no near-AOP line
        near_line = lim.near_aop_fraction * lim.aop_mmhg if self._calibration is None else math.inf
        for attr, line, hold, what in (
            (
                "_beyond_swing_since_t_s",
                swing_line,
                lim.swing_max_s,
                "beyond the contraction swing",
            ),
            ("_near_aop_since_t_s", near_line, lim.near_aop_s, f"near the AOP {lim.aop_mmhg:g}"),
        ):
            if p > line:
                since = getattr(self, attr)
                since = since if since is not None else self._condition_onset_t_s
                setattr(self, attr, since)
                if now - since > hold:
                    fire(
                        SafetyReason.OVER_PRESSURE_INSTANT,
                        f"pressure {p:.1f} mmHg > {line:.1f} ({what}) for > {1000 * hold:.0f} ms",
                        since + hold,
                    )
            else:
                setattr(self, attr, None)
        self._above_absolute_max_samples = (
            self._above_absolute_max_samples + 1 if p > lim.absolute_max_mmhg else 0
        )
        if self._above_absolute_max_samples >= lim.absolute_count:
            fire(
                SafetyReason.OVER_PRESSURE_INSTANT,
                f"pressure {p:.1f} mmHg > {lim.absolute_max_mmhg:g} on 2 samples",
            )
        # req 15
        sp = self._setpoint_mmhg
        if sp > 0 and self._inflation_start_t_s is None:
            self._inflation_start_t_s = now
        if self._inflation_start_t_s is not None and math.isfinite(pbar):
            if (
                not self._setpoint_reached
                and self._ramped()
                and pbar >= sp - lim.pump_cutoff_above_sp_mmhg
            ):
                self._setpoint_reached = True
            if (
                not self._setpoint_reached
                and now - self._inflation_start_t_s > lim.reach_setpoint_s
            ):
                fire(
                    SafetyReason.NOT_AT_SETPOINT,
                    f"not at setpoint {sp:.0f} mmHg within {lim.reach_setpoint_s:g} s",
                    self._inflation_start_t_s + lim.reach_setpoint_s,
                )
            if self._setpoint_reached and abs(pbar - sp) > lim.deviation_mmhg:
                self._deviation_since_t_s = (
                    self._deviation_since_t_s if self._deviation_since_t_s is not None else now
                )
                if now - self._deviation_since_t_s > lim.deviation_s:
                    fire(
                        SafetyReason.DEVIATION,
                        f"1-s mean {pbar:.1f} mmHg deviates from SP {sp:.1f} by > {lim.deviation_mmhg:g}",
                        self._deviation_since_t_s + lim.deviation_s,
                    )
            else:
                self._deviation_since_t_s = None
        if (
            self._last_command.pump_duty > 0.05
            and not self._last_command.vent
            and self._setpoint_reached
        ):
            self._pump_running_since_t_s = (
                self._pump_running_since_t_s if self._pump_running_since_t_s is not None else now
            )
            if now - self._pump_running_since_t_s > lim.leak_s:
                fire(
                    SafetyReason.LEAK,
                    f"pump compensating continuously for > {lim.leak_s:g} s (leak?)",
                    self._pump_running_since_t_s + lim.leak_s,
                )
        else:
            self._pump_running_since_t_s = None

    def _ramped(self) -> bool:
        """True when the supervised SP has caught up with a positive requested SP."""
        return (
            self._requested_setpoint_mmhg > 0
            and self._setpoint_mmhg >= self._requested_setpoint_mmhg - 1e-6
        )

    def _monitor_checks(self, now: float, fire) -> None:
        lim = self.limits
        if "hr" in self.monitors and self._hr_disconnected_t_s is not None:
            fire(
                SafetyReason.MONITOR,
                f"HR strap disconnected {now - self._hr_disconnected_t_s:.2f} s ago",
                # a disconnect from before this arming became a condition at the arming
                min(now, max(self._hr_disconnected_t_s, self._armed_t_s)),
            )
        if "nirs" in self.monitors and self._nirs_samples:
            _, thb, o2, smo2 = self._nirs_samples[-1]
            if smo2 < lim.smo2_floor_pct:
                fire(SafetyReason.MONITOR, f"NIRS complete desaturation: SmO2 {smo2:.1f} %")
            t0 = self._nirs_samples[0][0]
            if self.phase == "rest" and now - t0 >= lim.arterial_signature_s:
                start = [r for r in self._nirs_samples if r[0] - t0 < 2.0]
                end = [r for r in self._nirs_samples if now - r[0] < 2.0]
                d_thb = sum(r[1] for r in end) / len(end) - sum(r[1] for r in start) / len(start)
                d_o2 = sum(r[2] for r in end) / len(end) - sum(r[2] for r in start) / len(start)
                # a device without haemoglobin in µM (a Moxy: SmO2 and a relative THb in
                # g/dL) cannot show the signature: skipped, never judged on NaN
                measured = math.isfinite(d_thb) and math.isfinite(d_o2)
                if measured and abs(d_thb) < 1.0 and d_o2 < -3.0:
                    fire(
                        SafetyReason.MONITOR,
                        f"arterial occlusion signature: tHb flat ({d_thb:+.1f} µM) while O2Hb fell {d_o2:.1f} µM in 20 s",
                    )
        if "emg" in self.monitors and self.phase == "set" and len(self._emg_samples) > 20:
            t_last = self._emg_samples[-1][0]
            win = lim.emg_recent_s
            recent = [v for t, v in self._emg_samples if t_last - t < win]
            older = [v for t, v in self._emg_samples if t_last - t >= win]
            if len(older) >= 20:
                ref = sum(older) / len(older)
                cur = sum(recent) / len(recent)
                if ref > self._emg_floor and cur < lim.emg_collapse_fraction * ref:
                    fire(
                        SafetyReason.MONITOR,
                        f"EMG amplitude collapsed to {100 * cur / ref:.0f} % of its level",
                    )

    # ---------------------------------------------------------------- command
    def _calibration_step(self, now: float) -> bool:
        """Track the calibration step (req 17); False (tripped) when a step held longer
        than ``long_step_s`` is followed by another without the deflated pause."""
        cal = self._calibration
        assert cal is not None
        step = self._requested_setpoint_mmhg
        if step == self._step_mmhg:
            return True
        since = self._step_since_t_s
        if self._step_mmhg > 0 and since is not None and now - since > cal.long_step_s:
            if step <= 0:
                return True  # still the long step until vented (disarm) for deflate_min_s
            self.trip(
                SafetyReason.REPERFUSION_LOCKOUT,
                f"step {self._step_mmhg:.0f} mmHg held {now - since:.1f} s > "
                f"{cal.long_step_s:g} s followed by {step:.0f} mmHg without "
                f"{cal.deflate_min_s:g} s deflated",
                now,
            )
            return False
        self._step_mmhg, self._step_since_t_s = step, now
        return True

    def supervised_target(self, requested_mmhg: object) -> float:
        """The setpoint the regulator may aim for: the request clamped to ``[0, limit]``.

        Non-numbers, NaN and negatives give 0 (vent-like); anything above
        min(0.80 x AOP, ceiling) gives that limit. The regulator never sees the raw request,
        so it cannot pump toward a pressure the supervisor would not command (issue 15.1).
        """
        if isinstance(requested_mmhg, bool) or not isinstance(requested_mmhg, (int, float)):
            return 0.0
        req = float(requested_mmhg)
        if self.vent_required or not math.isfinite(req) or req <= 0.0:
            return 0.0
        return min(req, self.limits.max_setpoint_mmhg)

    def supervise(
        self, now: float, proposed: CuffCommand, requested_mmhg: float | None = None
    ) -> CuffCommand:
        """Return the command actually sent: VENT, or ``proposed`` clamped to the limits.

        ``requested_mmhg`` is the session's target (the regulator proposes a ramp toward
        it); it only tells the supervisor when the ramp is over (for req 15).
        """
        lim = self.limits
        dt = now - self._last_supervise_t_s if self._last_supervise_t_s is not None else 0.0
        dt = min(max(dt, 0.0), lim.overrun_s) if math.isfinite(dt) else 0.0
        self._last_supervise_t_s = now
        if self.vent_required:
            self._setpoint_mmhg = self._logged_setpoint_mmhg = 0.0
            self._last_command = VENT
            return VENT
        sp_req = proposed.setpoint_mmhg
        if not isinstance(sp_req, (int, float)) or not math.isfinite(sp_req):
            self.trip(
                SafetyReason.SETPOINT_REJECTED,
                f"non-finite setpoint {sp_req!r} from the regulator",
                now,
            )
            self._last_command = VENT
            return VENT
        if proposed.vent:
            self._setpoint_mmhg = 0.0
            self._last_command = VENT
            return VENT
        sp = min(
            max(float(sp_req), 0.0),
            lim.max_setpoint_mmhg,
            self._setpoint_mmhg + lim.slew_up_mmhg_per_s * dt,
        )
        target = sp_req if requested_mmhg is None else requested_mmhg
        self._requested_setpoint_mmhg = (
            min(float(target), lim.max_setpoint_mmhg) if math.isfinite(target) else 0.0
        )
        if self._calibration is not None and not self._calibration_step(now):
            self._last_command = VENT
            return VENT
        if abs(sp - self._logged_setpoint_mmhg) >= 1.0 or (
            sp != self._logged_setpoint_mmhg and sp == float(sp_req)
        ):
            self._logged_setpoint_mmhg = sp
            self._emit("setpoint", "setpoint", value=sp, t=now)
        self._setpoint_mmhg = sp
        pump = proposed.pump_duty if math.isfinite(proposed.pump_duty) else 0.0
        bleed = proposed.bleed_duty if math.isfinite(proposed.bleed_duty) else 1.0
        pump = min(max(pump, 0.0), 1.0)
        bleed = min(max(bleed, 0.0), 1.0)
        pbar, p = self.p_mean_mmhg, self._last_pressure_mmhg
        if (
            sp <= 0.0
            or not math.isfinite(pbar)
            or pbar >= sp + lim.pump_cutoff_above_sp_mmhg
            or not math.isfinite(p)
            or p >= self._instant_line_mmhg()
        ):
            pump = 0.0
        if sp <= 0.0 or (
            math.isfinite(pbar) and pbar > lim.max_setpoint_mmhg + lim.mean_bleed_above_max_mmhg
        ):
            pump, bleed = 0.0, 1.0
        cmd = CuffCommand(sp, pump, bleed, False)
        self._last_command = cmd
        return cmd
