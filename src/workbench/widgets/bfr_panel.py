"""Operator panel of a supervised BFR session (anywidget; front end in ``widgets/bfr_panel.js``).

A thin view over a session object (:class:`~workbench.bfr.live.LiveSession` or any object
with the same ``snapshot / vent / operator_heartbeat / acknowledge`` methods). It shows a
pressure gauge with the setpoint and limit bands, live pressure / SmO₂ / EMG traces, set and
rep timers, the latched alarms with their priorities, an acknowledge button and a VENT button.

It makes no safety decision. Each button press and each browser heartbeat is forwarded to
the session as it arrives:

* the browser sends ``{"type": "heartbeat"}`` every ``heartbeat_ms`` (≤ 1 s, from a Web
  Worker timer so that background tabs are not throttled) → ``session.operator_heartbeat()``;
  the session's supervisor vents and latches when none arrives for 3 s (BFR-SAFETY req 11:
  tab closed, network lost, or a kernel too busy to hear the operator);
* VENT → ``session.vent(who)`` at once; acknowledge → ``session.acknowledge(who)``, which the
  supervisor refuses unless the cuff is vented (req 23).

Kernel → browser traffic is throttled: the session is sampled at ``sample_hz`` and the new
rows are sent at ``send_hz`` as one float32 buffer (columns :data:`TRACE_COLUMNS`); the
discrete state (alarms, phase, timers) is a synced dict that changes only when it changes.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import anywidget
import numpy as np
import traitlets

from workbench.log import get_logger
from workbench.widgets._frontend import asset
from workbench.widgets._periodic import PeriodicTask

log = get_logger(__name__)

__all__ = ["TRACE_COLUMNS", "BfrPanel", "SessionLike"]

#: Columns of each trace row sent to the browser (float32): session time (s), measured
#: pressure, commanded setpoint (mmHg), SmO₂ (%), EMG RMS (µV); NaN when unknown.
TRACE_COLUMNS = ("t_s", "pressure_mmhg", "setpoint_mmhg", "smo2_pct", "emg_uv")

MonitorFn = Callable[[], tuple[float, float]]

#: Phases (``set_progress``) during which the cuff is inflated; a vent ends them.
_INFLATED_PHASES = ("set", "rest", "settle")


def _pressure_stale(snap: Any) -> bool:
    """True when the snapshot's pressure is not a live value (old sample or none)."""
    return bool(getattr(snap, "pressure_stale", False)) or not math.isfinite(snap.pressure_mmhg)


@runtime_checkable
class SessionLike(Protocol):
    """What the panel needs from a session (:class:`~workbench.bfr.live.LiveSession` has it)."""

    def snapshot(self) -> Any: ...
    def vent(self, who: str = ...) -> None: ...
    def operator_heartbeat(self) -> None: ...
    def acknowledge(self, who: str) -> bool: ...


def simulator_monitors(session: Any) -> MonitorFn | None:
    """SmO₂ and EMG read from the session's simulated cuff or emulated limb (a loop-process
    session's ``monitor_values``); None when it is not simulated."""
    values = getattr(session, "monitor_values", None)
    if callable(values):
        return values
    cuff = getattr(session, "cuff", None)
    sim = getattr(cuff, "sim", cuff)
    if sim is None or not hasattr(sim, "nirs") or not hasattr(sim, "emg_rms_uv"):
        return None

    def read() -> tuple[float, float]:
        nirs = sim.nirs
        return (math.nan if nirs is None else float(nirs.smo2_pct), float(sim.emg_rms_uv))

    return read


class _Rows:
    """Ring of the last ``capacity`` trace rows (float32)."""

    def __init__(self, capacity: int) -> None:
        self.a = np.full((capacity, len(TRACE_COLUMNS)), np.nan, dtype=np.float32)
        self.n = 0  # rows ever appended

    def append(self, row: tuple[float, ...]) -> None:
        self.a[self.n % len(self.a)] = row
        self.n += 1

    def since(self, n0: int) -> np.ndarray:
        """Rows appended after the first ``n0`` (at most the ring's capacity)."""
        cap = len(self.a)
        n0 = max(n0, self.n - cap)
        idx = np.arange(n0, self.n) % cap
        return self.a[idx]


class BfrPanel(anywidget.AnyWidget):
    """Operator panel of one BFR session.

    Parameters
    ----------
    session:
        The session (:class:`SessionLike`); must outlive the panel.
    operator:
        Name used for VENT and acknowledgements (editable in the panel).
    title:
        Heading, e.g. athlete, limb and prescription.
    monitors:
        ``f() -> (smo2_pct, emg_uv)`` read at each sample; default: the simulated cuff's
        NIRS/EMG when the session runs on the simulator, else no monitor traces.
    window_s:
        Seconds of trace shown.
    sample_hz, send_hz:
        How often the session is sampled (10–50 Hz) and how often new rows are sent to the
        browser (2–20 Hz).
    heartbeat_ms:
        Browser heartbeat period (100–1000 ms).
    flow:
        Optional session state machine with ``timers()`` (e.g.
        :class:`~workbench.bfr.session.BfrSession`): phase, set, reps and timers come from
        it instead of :meth:`set_progress`.
    autostart:
        Start the refresh loop on the kernel's event loop now (``False``: call :meth:`start`,
        or drive :meth:`poll` yourself, e.g. from a simulated-time loop).
    """

    _esm = asset("bfr_panel.js")
    _css = asset("bfr_panel.css")

    title = traitlets.Unicode("BFR session").tag(sync=True)
    operator = traitlets.Unicode("operator").tag(sync=True)
    limits = traitlets.Dict(help="AOP and limit bands (mmHg)").tag(sync=True)
    state = traitlets.Dict(help="discrete state: alarms, phase, timers").tag(sync=True)
    window_s = traitlets.Float(60.0).tag(sync=True)
    heartbeat_ms = traitlets.Int(500).tag(sync=True)
    stale_ms = traitlets.Int(2000, help="no data for this long: the panel says so").tag(sync=True)
    message = traitlets.Unicode("", help="result of the last operator action").tag(sync=True)

    def __init__(
        self,
        session: SessionLike,
        *,
        operator: str = "operator",
        title: str = "BFR session",
        monitors: MonitorFn | None = None,
        window_s: float = 60.0,
        sample_hz: float = 25.0,
        send_hz: float = 10.0,
        heartbeat_ms: int = 500,
        flow: Any = None,
        autostart: bool = True,
        wall_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        missing = [m for m in ("snapshot", "vent", "operator_heartbeat", "acknowledge")
                   if not callable(getattr(session, m, None))]  # fmt: skip
        if missing:
            raise TypeError(f"BfrPanel needs a session with {missing} (e.g. a LiveSession)")
        if not 10.0 <= sample_hz <= 50.0:
            raise ValueError(f"sample_hz must be 10–50 Hz, got {sample_hz}")
        if not 2.0 <= send_hz <= 20.0:
            raise ValueError(f"send_hz must be 2–20 Hz, got {send_hz}")
        if not 5.0 <= window_s <= 600.0:
            raise ValueError(f"window_s must be 5–600 s, got {window_s}")
        super().__init__(
            operator=operator, title=title, window_s=window_s, heartbeat_ms=heartbeat_ms
        )
        self.session = session
        if flow is not None and not callable(getattr(flow, "timers", None)):
            raise TypeError("flow must have a timers() method (e.g. a BfrSession)")
        self.flow = flow
        self.monitors = monitors if monitors is not None else simulator_monitors(session)
        self.sample_hz = float(sample_hz)
        self.send_hz = float(send_hz)
        self._wall = wall_clock
        self._rows = _Rows(int(window_s * sample_hz * 1.25) + 16)
        self._sent_n = 0
        self._last_send = -math.inf
        self._seq = 0
        self._progress: dict[str, Any] = {"phase": "", "phase_start_s": None}
        self._lock = threading.Lock()
        self._refresher = PeriodicTask(self.poll, self.sample_hz, self._on_poll_error)
        #: heartbeats received from browser views and when the last one came (wall clock)
        self.heartbeats = 0
        self.last_heartbeat_s: float | None = None
        self.browser_seq = 0
        self.max_in_flight = 30
        self._connect_callbacks: list[Callable[[], None]] = []
        self.limits = self._limits()
        self.on_msg(self._on_custom_msg)
        if autostart:
            self.start()

    # ------------------------------------------------------------------ validation
    @traitlets.validate("heartbeat_ms")
    def _check_heartbeat(self, proposal: dict[str, Any]) -> int:
        ms = int(proposal["value"])
        if not 100 <= ms <= 1000:
            raise traitlets.TraitError(f"heartbeat_ms must be 100–1000 (req 11), got {ms}")
        return ms

    # ------------------------------------------------------------------ model → view
    def _limits(self) -> dict[str, float]:
        snap = self.session.snapshot()
        lim = getattr(self.session, "limits", None)
        out = {
            "max_setpoint_mmhg": float(snap.max_setpoint_mmhg),
            "sustained_trip_mmhg": float(snap.sustained_trip_mmhg),
            "instant_trip_mmhg": float(snap.instant_trip_mmhg),
        }
        for name in ("aop_mmhg", "inflated_mmhg", "absolute_max_mmhg", "mean_trip_mmhg"):
            v = getattr(lim, name, None)
            if isinstance(v, (int, float)) and math.isfinite(v):
                out[name] = float(v)
        limb = getattr(lim, "limb", None)
        if limb:
            out["limb"] = str(limb)
        return out

    def set_progress(
        self,
        phase: str,
        *,
        set_index: int | None = None,
        n_sets: int | None = None,
        reps_done: int | None = None,
        reps_target: int | None = None,
    ) -> None:
        """Show where the session is (for sessions that do not expose ``progress()``).

        ``phase`` is free text (``"set"``, ``"rest"``, ``"reperfusion"``…); the phase timer
        restarts when ``phase`` or ``set_index`` changes, the rep timer when ``reps_done``
        changes. Times come from the session's clock.
        """
        t = float(self.session.snapshot().t_s)
        with self._lock:
            p = self._progress
            if phase != p.get("phase") or set_index != p.get("set_index"):
                p["phase_start_s"] = t
            if reps_done != p.get("reps_done"):
                p["rep_start_s"] = t
            p.update(phase=phase, set_index=set_index, n_sets=n_sets, reps_done=reps_done,
                     reps_target=reps_target)  # fmt: skip

    def _alarms(self, snap: Any) -> list[dict[str, Any]]:
        sup = getattr(self.session, "supervisor", None)
        if sup is not None and hasattr(sup, "latched"):
            return [
                {"priority": t.priority, "reason": t.reason.value, "message": t.message,
                 "t_s": round(float(t.detected_t_s) - float(getattr(self.session, "t0_s", 0.0)), 2)}
                for t in list(sup.latched)
            ]  # fmt: skip
        out = []
        for s in snap.latched:
            prio, _, rest = str(s).partition(": ")
            reason, _, msg = rest.partition(": ")
            out.append({"priority": prio, "reason": reason, "message": msg, "t_s": None})
        return out

    def _events(self, n: int = 8, scan: int = 5000) -> list[dict[str, Any]]:
        """The last ``n`` operator/trip/ack/state events (setpoint ramps are left out)."""
        events = getattr(self.session, "events", None)
        if not isinstance(events, list):
            return []
        t0 = float(getattr(self.session, "t0_s", 0.0))
        keep = []
        for e in reversed(events[-scan:]):
            if e.kind in ("trip", "ack", "operator", "alarm", "state"):
                keep.append(e)
                if len(keep) == n:
                    break
        return [
            {"t_s": round(float(e.t_s) - t0, 1), "kind": e.kind, "code": e.code,
             "priority": e.priority, "message": e.message or "",
             "value": None if e.value is None or not math.isfinite(e.value) else float(e.value)}
            for e in reversed(keep)
        ]  # fmt: skip

    def _inflated_s(self) -> float | None:
        sup = getattr(self.session, "supervisor", None)
        ledger = getattr(sup, "ledger", None)
        key = getattr(sup, "ledger_key", None)
        if ledger is None and self.flow is not None:  # a loop-process session: the flow's
            ledger, key = getattr(self.flow, "ledger", None), getattr(self.flow, "ledger_key", None)
        if ledger is None or key is None or not hasattr(ledger, "cumulative_s"):
            return None
        return float(ledger.cumulative_s(key))

    def _flow_progress(self, t_s: float) -> dict[str, Any]:
        """Phase and timers from the state machine, as start times on the panel's clock."""
        tm = self.flow.timers()
        set_start = round(t_s - float(tm.set_elapsed_s), 1) if tm.state == "set" else None
        return {
            "phase": str(tm.state),
            "set_index": int(tm.set_number) if tm.sets_total else None,
            "n_sets": int(tm.sets_total) or None,
            "reps_done": int(tm.reps) if tm.state == "set" else None,
            "reps_target": int(tm.reps_target) or None,
            "phase_start_s": set_start,
            "rest_end_s": round(t_s + float(tm.rest_remaining_s), 1)
            if tm.state == "rest"
            else None,
            "prompt": str(tm.prompt),
        }

    def _state(self, snap: Any) -> dict[str, Any]:
        sup = getattr(self.session, "supervisor", None)
        # the loop applies a vent on its next tick; the supervisor knows it already
        vented = bool(snap.vented or getattr(sup, "vent_required", False))
        if self.flow is not None:
            prog = self._flow_progress(float(snap.t_s))
        else:
            with self._lock:
                prog = dict(self._progress)
        if vented and str(prog.get("phase", "")).lower() in _INFLATED_PHASES:
            # a VENT or trip ended the set (whatever a protocol loop still reports): say so,
            # and stop the set/rep timers
            prog.update(phase="vented", phase_start_s=None, rep_start_s=None, rest_end_s=None,
                        reps_done=None, prompt="cuff vented: the set has ended")  # fmt: skip
        inflated = self._inflated_s()
        stale = _pressure_stale(snap)
        age = getattr(snap, "pressure_age_s", math.nan)
        return {
            "armed": bool(getattr(sup, "armed", not snap.vented)),
            "vented": vented,
            # a pressure that is not live is shown as stale, never as the cuff's pressure
            "pressure_stale": stale,
            # which physiological monitors can vent the cuff, and why the others cannot
            "monitors": {
                str(k): str(v)
                for k, v in (getattr(self.session, "monitor_status", None) or {}).items()
            },  # fmt: skip
            "pressure_age_s": round(float(age), 1) if math.isfinite(age) else None,
            "last_pressure_mmhg": round(float(snap.pressure_mmhg), 1)
            if math.isfinite(snap.pressure_mmhg)
            else None,
            "alarms": self._alarms(snap),
            "events": self._events(),
            "inflated_s": None if inflated is None else round(inflated),
            "connected": self.heartbeats > 0,
            **{k: v for k, v in prog.items() if v is None or isinstance(v, (str, int, float))},
        }

    # ------------------------------------------------------------------ refresh
    def poll(self) -> bool:
        """Sample the session once; send new rows and state if a send is due.

        Returns True when something was sent to the browser.
        """
        snap = self.session.snapshot()
        smo2 = emg = math.nan
        if self.monitors is not None:
            try:
                smo2, emg = self.monitors()
            except Exception as exc:  # a broken monitor feed must not stop the panel
                log.warning("BFR panel monitor read failed: %r", exc)
        p = math.nan if _pressure_stale(snap) else snap.pressure_mmhg  # a gap, not a flat line
        self._rows.append((snap.t_s, p, snap.setpoint_mmhg, smo2, emg))
        now = self._wall()
        if now - self._last_send < 1.0 / self.send_hz:
            return False
        self._last_send = now
        state = self._state(snap)
        if state != self.state:
            self.state = state
        if self._seq - self.browser_seq > self.max_in_flight and self.heartbeats:
            return True  # the browser is behind: state only, rows wait (none are lost)
        self._send_rows(reset=False)
        return True

    def _send_rows(self, *, reset: bool) -> None:
        rows = self._rows.since(0 if reset else self._sent_n)
        self._sent_n = self._rows.n
        if not len(rows) and not reset:
            return
        self._seq += 1
        self.send(
            {"type": "trace", "seq": self._seq, "reset": reset, "columns": list(TRACE_COLUMNS)},
            [np.ascontiguousarray(rows, dtype=np.float32).tobytes()],
        )

    def _on_poll_error(self, exc: Exception) -> None:
        """The view must never die silently; the session is unaffected."""
        log.error("BFR panel refresh failed", exc_info=exc)
        self.message = f"panel refresh failed: {exc}"

    def start(self) -> asyncio.Task:
        """Run the refresh loop as a task on the current (kernel) event loop."""
        return self._refresher.start()

    def stop(self) -> None:
        """Stop the refresh loop (the session is not touched)."""
        refresher = getattr(self, "_refresher", None)  # absent when __init__ failed early
        if refresher is not None:
            refresher.stop()

    def close(self) -> None:
        """Stop refreshing and close the view (no more heartbeats: an armed session vents)."""
        self.stop()
        super().close()

    # ------------------------------------------------------------------ view → model
    def on_connect(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` once, when the first browser view is up (now if it already is).

        Use it to arm a session only once an operator can see the panel and its heartbeat
        runs; otherwise a slow page load could outlast the 3 s operator timeout.
        """
        if self.heartbeats:
            self._run_callback(callback)
        else:
            self._connect_callbacks.append(callback)

    def _run_callback(self, callback: Callable[[], None]) -> None:
        try:
            callback()
        except Exception as exc:
            log.exception("BFR panel on_connect callback failed")
            self.message = f"start failed: {type(exc).__name__}: {exc}"

    def heartbeat(self, seen_seq: int | None = None) -> None:
        """A browser view is alive: forwarded to ``session.operator_heartbeat()``."""
        self.session.operator_heartbeat()
        self.heartbeats += 1
        self.last_heartbeat_s = self._wall()
        if seen_seq is not None:
            self.browser_seq = max(self.browser_seq, int(seen_seq))
        if self._connect_callbacks:
            callbacks, self._connect_callbacks = self._connect_callbacks, []
            for cb in callbacks:
                self._run_callback(cb)

    def press_vent(self, who: str | None = None) -> None:
        """The VENT button: ``session.vent(who)`` now, no questions asked."""
        who = (who or self.operator or "operator").strip() or "operator"
        self.session.vent(who=who)
        self.message = f"VENT sent by {who}"

    def press_acknowledge(self, who: str | None = None) -> bool:
        """The acknowledge button: the session decides (refused unless the cuff is vented)."""
        who = (who or self.operator or "").strip()
        if not who:
            self.message = "acknowledge refused: enter the operator's name"
            return False
        ok = bool(self.session.acknowledge(who))
        self.message = (
            f"alarms acknowledged by {who}" if ok else "acknowledge refused: cuff not vented"
        )
        self.poll_state()
        return ok

    def poll_state(self) -> None:
        """Push the current discrete state now (after an operator action)."""
        self.state = self._state(self.session.snapshot())

    def _on_custom_msg(self, _w: Any, content: Any, _buffers: list[Any]) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "vent":
            # first, before anything else can fail
            self.press_vent(content.get("who"))
            self.poll_state()
        elif kind == "heartbeat":
            self.heartbeat(content.get("seen"))
        elif kind == "ack":
            self.press_acknowledge(content.get("who"))
        elif kind == "ready":
            self.heartbeat(None)
            self.browser_seq = self._seq  # a new view starts from a full history
            self._send_rows(reset=True)
            self.poll_state()
        else:
            log.warning("BFR panel: unknown message %r", kind)
