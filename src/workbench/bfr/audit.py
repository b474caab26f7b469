"""Durable audit log of a BFR session (BFR-SAFETY req 22).

Every :class:`~workbench.bfr.supervisor.Event` goes to ``bfr_events``; the raw pressure
(100 Hz: pressure, second sensor, setpoint, pump duty) goes to a recording stream of kind
``pressure``. The control loop only appends to in-memory queues; a writer thread commits
them every ``flush_s`` (<= 1 s), so a killed kernel loses at most one flush interval and
the database (SQLite WAL) stays readable. Why: ``docs/decisions/0004-bfr-control.md``.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections.abc import Callable

import numpy as np

from workbench.bfr.ledger import TimeLedger
from workbench.bfr.protocol import CuffCommand, PressureReading
from workbench.bfr.supervisor import Event
from workbench.log import get_logger
from workbench.store import Store

log = get_logger(__name__)

PRESSURE_CHANNELS = ["pressure_mmhg", "pressure2_mmhg", "setpoint_mmhg", "pump_duty"]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class AuditLog:
    """Queue-and-flush writer of one session's events and pressure stream.

    Build it with :meth:`start`. ``clock`` is the control loop's clock (s); event and
    sample times are stored relative to ``t0_s``.
    """

    def __init__(
        self,
        store: Store,
        session_id: int,
        recording_id: int,
        stream_id: int,
        *,
        t0_s: float,
        flush_s: float = 0.5,
        ledger: TimeLedger | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < flush_s <= 1.0:
            raise ValueError(f"flush_s {flush_s} must be in (0, 1] s (req 22)")
        self.store = store
        self.session_id = session_id
        self.recording_id = recording_id
        self.stream_id = stream_id
        self.t0_s = t0_s
        self.flush_s = flush_s
        self.ledger = ledger
        self.clock = clock
        self._lock = threading.Lock()
        self._events: list[dict] = []
        self._samples: list[tuple[float, float, float, float, float, float]] = []
        self._seq = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bfr-audit", daemon=True)
        self.max_pressure_mmhg = 0.0
        self.errors = 0

    @classmethod
    def start(
        cls,
        store: Store,
        *,
        athlete_id: str,
        limb: str,
        side: str,
        cuff_id: str,
        t0_s: float,
        flush_s: float = 0.5,
        ledger: TimeLedger | None = None,
        clock: Callable[[], float] = time.monotonic,
        **session_fields: object,
    ) -> AuditLog:
        """Create the ``bfr_sessions`` row (status ``running``), recording and stream."""
        now = _utcnow()
        rec = store.create_recording(
            f"BFR {athlete_id} {limb} {side}", athlete_id=athlete_id, started_at=now
        )
        stream = store.add_stream(
            rec,
            "cuff_pressure",
            kind="pressure",
            device=cuff_id,
            channel_names=PRESSURE_CHANNELS,
            units=["mmHg", "mmHg", "mmHg", "1"],
            sampling_rate_hz=100.0,
        )
        sid = store.insert_one(
            "bfr_sessions",
            {
                "athlete_id": athlete_id,
                "started_at": now,
                "limb": limb,
                "side": side,
                "cuff_id": cuff_id,
                "status": "running",
                "recording_id": rec,
                **session_fields,
            },
        )
        out = cls(store, sid, rec, stream, t0_s=t0_s, flush_s=flush_s, ledger=ledger, clock=clock)
        out._thread.start()
        return out

    # ------------------------------------------------------------ producers
    def event(self, e: Event) -> None:
        """Queue an event (called from the control loop: never blocks on the database)."""
        row = {
            "session_id": self.session_id,
            "wall_time": _utcnow(),
            "t_s": (e.t_s if e.t_s is not None else self.clock()) - self.t0_s,
            "kind": e.kind,
            "code": e.code,
            "priority": e.priority,
            "value": None if e.value is None or not math.isfinite(e.value) else float(e.value),
            "message": e.message,
        }
        with self._lock:
            self._events.append(row)

    def operator(self, code: str, message: str | None = None, value: float | None = None) -> None:
        """Log an operator action now."""
        self.event(Event(self.clock(), "operator", code, None, value, message))

    def sample(self, now: float, reading: PressureReading | None, cmd: CuffCommand) -> None:
        """Queue one control-tick sample (use as ``ControlCore(on_tick=...)``)."""
        if reading is None:
            p = p2 = dev = math.nan
        else:
            p, p2, dev = reading.pressure_mmhg, reading.pressure2_mmhg, reading.device_t_s
        if math.isfinite(p):
            self.max_pressure_mmhg = max(self.max_pressure_mmhg, p)
        with self._lock:
            self._samples.append((now - self.t0_s, dev, p, p2, cmd.setpoint_mmhg, cmd.pump_duty))

    # ------------------------------------------------------------ writer
    def flush(self) -> None:
        """Commit queued events and samples (one transaction) and save the time ledger."""
        with self._lock:
            events, self._events = self._events, []
            samples, self._samples = self._samples, []
        try:
            with self.store.transaction() as conn:
                if events:
                    self.store.write("bfr_events", events, conn=conn)
                if samples:
                    a = np.asarray(samples, dtype=np.float64)
                    self.store.append_chunk(
                        self.stream_id, self._seq, a[:, 0], a[:, 1], a[:, 2:], conn=conn
                    )
                    self._seq += 1
        except Exception:
            self.errors += 1
            with self._lock:  # keep them for the next attempt
                self._events = events + self._events
                self._samples = samples + self._samples
            raise
        if self.ledger is not None:
            self.ledger.save()

    def _run(self) -> None:
        while not self._stop.wait(self.flush_s):
            try:
                self.flush()
            except Exception as exc:  # keep trying; the loop never depends on the writer
                log.error("BFR audit flush failed (will retry): %s", exc)

    def close(self, status: str = "complete", **summary: object) -> None:
        """Stop the writer, flush everything and finish the session and recording rows."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5.0)
        self.flush()
        self.store.update(
            "bfr_sessions",
            {"session_id": self.session_id},
            {
                "status": status,
                "ended_at": _utcnow(),
                "max_pressure_mmhg": self.max_pressure_mmhg,
                **summary,
            },
        )
        self.store.finish_recording(
            self.recording_id, "complete" if status == "complete" else "interrupted"
        )


def mark_stale_bfr_sessions_interrupted(store: Store, *, keep=()) -> list[int]:
    """Set status ``interrupted`` on BFR sessions left ``running`` by a killed kernel.

    Call it at start-up (no kernel of another server writing to the same database); the
    session's recording is marked ``interrupted`` too. Sessions in ``keep`` are left alone.
    Returns the session ids changed. The cuff itself was vented by its firmware watchdog.
    """
    keep = {int(k) for k in keep}
    rows = store.bfr_sessions(status="running")
    changed = []
    for sid, rec in zip(rows["session_id"], rows["recording_id"], strict=True):
        if int(sid) in keep:
            continue
        store.update("bfr_sessions", {"session_id": int(sid)}, {"status": "interrupted"})
        if rec is not None and not (isinstance(rec, float) and math.isnan(rec)):
            store.finish_recording(int(rec), "interrupted")
        changed.append(int(sid))
    return changed
