"""Manual mode: the operator sets the pressure (issue 6, build item 1; issue 12 item 8).

Commercial cuffs that cannot be controlled: the operator inflates with the device's own
controls; the workbench times sets and rests, prompts, logs the pressures read off the
device and applies the time limits (req 5) by *prompting* to deflate (high-priority alarm).
Inflation time goes to the same persisted :class:`~workbench.bfr.ledger.TimeLedger` as
controlled sessions, so the cumulative limit and the lock-out hold across modes and kernel
restarts. On a controlled cuff (``charge_time=False``) the operator picks the setpoint
within the limits and the supervisor charges the time. ADR: ``docs/decisions/0004-bfr-control.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from workbench.bfr.ledger import TimeLedger
from workbench.bfr.session import BfrSession, SessionState
from workbench.bfr.supervisor import HIGH, MEDIUM, Event
from workbench.errors import SafetyError, SafetyReason


@dataclass(frozen=True)
class Prompt:
    """An instruction for the operator; ``priority`` high means "deflate now"."""

    t_s: float
    priority: str
    code: str
    text: str


class ManualSession:
    """Timers, prompts and pressure log around a :class:`BfrSession` with a manual cuff.

    The wrapped session must be ``ready`` (or in a set or rest) with every gate open
    (screening, confirmed AOP, prescription): the same gates apply as for a controlled cuff.
    Call :meth:`tick` at >= 1 Hz (the panel's refresh) to get prompts.

    ``charge_time=False`` when a supervisor runs the cuff and already charges inflation
    time to the ledger (a controlled cuff in manual mode): nothing is charged twice.
    """

    def __init__(self, session: BfrSession, *, charge_time: bool = True) -> None:
        if session.state not in (SessionState.READY, SessionState.SET, SessionState.REST):
            raise SafetyError(
                f"manual mode needs a ready session (screening, AOP, prescription); "
                f"state is {session.state.value!r}",
                reason=SafetyReason.SCREENING,
            )
        session.check_can_inflate()
        self.charge_time = bool(charge_time)
        #: the operator's setpoint request (None: the prescription's setpoint)
        self.requested_mmhg: float | None = None
        self.session = session
        self.clock: Callable[[], float] = session.clock
        self.ledger: TimeLedger = session.ledger
        self.limits = session.limits
        self.inflated_since: float | None = None
        self._charged_t: float | None = None
        self.readings: list[tuple[float, float]] = []
        self.prompts: list[Prompt] = []
        self._raised: set[str] = set()

    @property
    def setpoint_mmhg(self) -> float:
        """The pressure to set on the device (the operator's request or the prescription's)."""
        if self.requested_mmhg is not None:
            return self.requested_mmhg
        rx = self.session.prescription
        assert rx is not None
        return rx.setpoint_mmhg

    def _event(self, kind: str, code: str, priority=None, value=None, message=None) -> None:
        self.session.record_event(Event(self.clock(), kind, code, priority, value, message))

    def _prompt(self, priority: str, code: str, text: str) -> Prompt:
        p = Prompt(self.clock(), priority, code, text)
        self.prompts.append(p)
        self._event("alarm" if priority == HIGH else "state", code, priority, None, text)
        return p

    def _charge(self) -> None:
        now = self.clock()
        if not self.charge_time:  # the supervisor charges a controlled cuff's time
            return
        if self.inflated_since is not None and self._charged_t is not None:
            self.ledger.add_inflated(self.session.ledger_key, now - self._charged_t)
            self._charged_t = now

    # ---------------------------------------------------------------- operator actions
    def request_setpoint(self, setpoint_mmhg: float, who: str) -> Prompt:
        """The operator asks for ``setpoint_mmhg`` (gated; rejected, never clamped, outside
        [40 % AOP, min(80 % AOP, ceiling)]); returns the prompt to set it."""
        self.session.check_can_inflate()
        sp = self.limits.validate_setpoint(setpoint_mmhg)
        self.requested_mmhg = sp
        self._event("operator", "manual_setpoint", None, sp, who)
        now = self.clock()
        if self.inflated_since is None:
            self.inflated_since = self._charged_t = now
        return self._prompt(MEDIUM, "manual_set_pressure", f"set the cuff to {sp:.0f} mmHg")

    def inflated(self, who: str) -> Prompt:
        """The operator inflated the cuff on the device (gated like a controlled cuff)."""
        self.session.check_can_inflate()
        self._event("operator", "manual_inflated", None, self.setpoint_mmhg, who)
        now = self.clock()
        if self.inflated_since is None:
            self.inflated_since = self._charged_t = now
        return self._prompt(
            MEDIUM, "manual_set_pressure", f"set the device to {self.setpoint_mmhg:.0f} mmHg"
        )

    def deflated(self, who: str) -> None:
        """The operator deflated the cuff."""
        self._charge()
        self.inflated_since = self._charged_t = None
        if self.charge_time:
            self.ledger.set_deflated(self.session.ledger_key)
        self._raised.clear()
        self._event("operator", "manual_deflated", None, None, who)

    def log_pressure(self, pressure_mmhg: float, who: str) -> Prompt | None:
        """Log the pressure read off the device; returns a prompt if it is out of range.

        Above the sustained limit (max SP + 15 mmHg) or not a number -> "deflate now"
        (high); more than 15 mmHg from the setpoint -> "adjust" (medium).
        """
        p = float(pressure_mmhg) if isinstance(pressure_mmhg, (int, float)) else math.nan
        self.readings.append((self.clock(), p))
        self._event("operator", "manual_pressure", None, p if math.isfinite(p) else None, who)
        if not math.isfinite(p) or p < 0:
            return self._prompt(
                HIGH, "manual_bad_reading", f"reading {pressure_mmhg!r} invalid: deflate and check"
            )
        if p > self.limits.sustained_trip_mmhg:
            return self._prompt(
                HIGH,
                SafetyReason.OVER_PRESSURE_SUSTAINED.value,
                f"{p:.0f} mmHg above the limit {self.limits.sustained_trip_mmhg:.0f}: deflate now",
            )
        if abs(p - self.setpoint_mmhg) > self.limits.deviation_mmhg:
            return self._prompt(
                MEDIUM,
                SafetyReason.DEVIATION.value,
                f"{p:.0f} mmHg is off the setpoint {self.setpoint_mmhg:.0f}: adjust the device",
            )
        return None

    # ---------------------------------------------------------------- timers
    def tick(self) -> list[Prompt]:
        """Charge inflation time and return new prompts (time limits -> deflate now)."""
        out: list[Prompt] = []
        if self.inflated_since is None:
            return out
        self._charge()
        now = self.clock()
        cont = now - self.inflated_since
        total = self.ledger.cumulative_s(self.session.ledger_key)
        lim = self.limits
        rx = self.session.prescription
        checks = [
            (cont > lim.continuous_max_s, "continuous", f"inflated {cont:.0f} s: deflate now"),
            (total > lim.cumulative_max_s, "cumulative", f"{total:.0f} s today: deflate now"),
            (
                rx is not None and cont > rx.restriction_max_s,
                "restriction",
                f"restriction time for {rx.exercise if rx else ''} used up: deflate",
            ),
        ]
        for cond, code, text in checks:
            if cond and code not in self._raised:
                self._raised.add(code)
                out.append(self._prompt(HIGH, f"{SafetyReason.TIME_LIMIT.value}_{code}", text))
                if code in ("continuous", "cumulative"):
                    self.ledger.start_lockout(self.session.ledger_key, lim.reperfusion_s)
        return out


__all__ = ["ManualSession", "Prompt"]
