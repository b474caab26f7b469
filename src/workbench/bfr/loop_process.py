"""The BFR control loop in its own process; the kernel is a client (issue 12 item 6).

:class:`ProcessLiveSession` has :class:`~workbench.bfr.live.LiveSession`'s public methods
but runs the real ``LiveSession`` (supervisor, 100 Hz ``ControlThread``, audit log) in a
child process (``python -m workbench.bfr.loop_process``) that owns the serial port. Requests
go over a socket pair; the child publishes the snapshot in a memory-mapped file and the
events over the socket. The child vents and closes the audit log when the kernel dies
(socket EOF or a new parent pid); the cuff firmware's watchdog vents when the child dies.
Why: ``docs/decisions/0008-bfr-transport-and-loop-process.md``.
"""

from __future__ import annotations

import math
import mmap
import os
import queue
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

from workbench.bfr.authority import _grant, require_authorization
from workbench.bfr.control import MonitorSamples, MonitorSource
from workbench.bfr.ledger import TimeLedger
from workbench.bfr.limits import CuffLimits
from workbench.bfr.live import PRESSURE_STALE_S, Snapshot
from workbench.bfr.serial_cuff import raise_priority, shared_memory_dir
from workbench.bfr.supervisor import Event
from workbench.errors import SafetyError, SafetyReason
from workbench.log import get_logger
from workbench.store import Store

log = get_logger(__name__)

#: Snapshot fields published by the loop process (float64 each, ``counter`` first).
SNAPSHOT_FIELDS = (
    "counter",
    "t_s",
    "pressure_mmhg",
    "setpoint_mmhg",
    "pump_duty",
    "vented",
    "pressure_age_s",
    "pressure_stale",
    "loop_running",
    "crc_errors",
    "mono_s",
    "ledger_cumulative_s",
    "ledger_lockout_s",
)
_SNAP = struct.Struct(f"<{len(SNAPSHOT_FIELDS)}d")
#: Scheduling asked for the loop process: SCHED_RR at this priority, else this niceness
#: (both need privilege; ADR 0008). The emulator (the "firmware") asks for more.
LOOP_RT_PRIORITY = 20
LOOP_NICE = -5
#: ``port`` prefix of a BLE cuff on the Nordic UART Service: ``"ble:<address>"``.
BLE_PORT_PREFIX = "ble:"
#: How often the loop process publishes its snapshot, events and alarms, s.
PUBLISH_S = 0.02
#: A snapshot older than this means the loop process is not running (any more), s.
STALE_PUBLISH_S = 0.5
#: How often the kernel polls a ``monitor_source`` and sends its new samples, s (a small
#: part of the time an EMG collapse may take to vent: 0.5 s, issue 12.3).
MONITOR_FEED_S = 0.01


class LoopProcessError(RuntimeError):
    """The loop process failed to start, answer, or died."""


# --------------------------------------------------------------------------- kernel side
class ProcessLiveSession:
    """A live session whose control loop runs in its own process (same API as LiveSession).

    Beyond LiveSession's methods: :meth:`set_phase` (a request), :meth:`set_activity` (to the
    emulator), :meth:`ledger_status` and :meth:`monitor_values` (from the mapped files);
    :class:`~workbench.bfr.session.BfrSession` uses only these (ADR 0008, decision 8).

    Parameters
    ----------
    port:
        Serial device of the cuff (``/dev/ttyACM0``, an emulator's pty), or
        ``"ble:<address>"``: a BLE cuff on the Nordic UART Service (``bfr/ble_uart.py``).
    limits:
        Authorized limits (checked here, before anything is spawned; req 2).
    truth_path:
        The emulator's truth file (:class:`~workbench.bfr.simulation.emulator.Truth`): its
        simulated NIRS/EMG become the monitor streams (unless ``monitor_source`` is given).
    monitor_source:
        Monitor streams read in this process (e.g. a
        :class:`~workbench.bfr.monitor_feed.HubMonitorSource` of real sensors): a daemon
        thread polls it every :data:`MONITOR_FEED_S` and sends new samples to the loop
        process, which time-stamps them on arrival (:class:`RelayedMonitors`): if this
        process stalls, they go stale there and the supervisor vents. Streams it offers at
        start are armed (``monitors=None``). Replaces the truth file's monitors.
    store:
        Where the loop process writes the audit log (it opens its own connection).
    ledger:
        Time ledger; its file (if any) is used by the loop process, not by this object.
    record_periods:
        Keep the loop's tick periods (for :meth:`periods_s`, the bench).
    realtime:
        Ask for real-time scheduling of the loop process (see :func:`~workbench.bfr.serial_cuff.raise_priority`).

    Other keywords are those of :class:`~workbench.bfr.live.LiveSession`.
    """

    def __init__(
        self,
        port: str,
        limits: CuffLimits,
        *,
        truth_path: str | Path | None = None,
        monitor_source: MonitorSource | None = None,
        athlete_id: str = "ath01",
        side: str = "right",
        cuff_id: str = "serial-cuff",
        store: Store | None = None,
        ledger: TimeLedger | None = None,
        require_operator: bool = True,
        monitors: tuple[str, ...] | None = None,
        flush_s: float = 0.5,
        session_fields: dict | None = None,
        ledger_key: str | None = None,
        record_periods: bool = False,
        realtime: bool = True,
        ready_timeout_s: float = 60.0,
    ) -> None:
        auth = require_authorization(limits)
        # the streams connected now are what the loop process arms by default
        first_samples = None if monitor_source is None else _plain(monitor_source())
        self.limits = limits
        self.events: list[Event] = []
        self.latched: list[str] = []
        self._replies: queue.Queue = queue.Queue()
        self._request_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._stopped = False
        self._final: dict[str, float] | None = None  # the last snapshot, kept by stop()
        self._stop_acked = False  # the loop process stopped the session when asked
        self.dead_reason: str | None = None
        self.emulator = None  # set by on_emulator (an EmulatorHandle)
        self._dir = tempfile.TemporaryDirectory(
            prefix="bfr-loop-", dir=shared_memory_dir(), ignore_cleanup_errors=True
        )
        snap_path = Path(self._dir.name) / "snapshot.bin"
        snap_path.write_bytes(b"\0" * _SNAP.size)
        self._snap_f = open(snap_path, "rb")  # noqa: SIM115 - kept open for the mapping
        self._snap = mmap.mmap(self._snap_f.fileno(), _SNAP.size, access=mmap.ACCESS_READ)
        ours, theirs = socket.socketpair()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "workbench.bfr.loop_process", str(theirs.fileno())]
            + (["--realtime"] if realtime else []),
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            # its own session: the kernel's process-group signals (Jupyter's interrupt
            # SIGINT, the SIGKILL of a kernel shutdown) do not reach it; it sees the kernel
            # die (socket EOF), vents and cleans up
            start_new_session=True,
        )
        theirs.close()
        self._conn = Connection(ours.detach())
        self.ledger_key = ledger_key
        ledger_path = None if ledger is None or ledger.path is None else str(ledger.path)
        config = {
            "parent_pid": os.getpid(),
            "port": port,
            "truth_path": None if truth_path is None else str(truth_path),
            "monitor_samples": first_samples,
            "snapshot_path": str(snap_path),
            "limits": limits,
            "auth": (auth.source, auth.who, auth.reason),
            "store_url": None
            if store is None
            else store.engine.url.render_as_string(hide_password=False),
            "ledger_path": ledger_path,
            "ledger_key": ledger_key,
            "record_periods": record_periods,
            "session": {
                "athlete_id": athlete_id,
                "side": side,
                "cuff_id": cuff_id,
                "require_operator": require_operator,
                "monitors": monitors,
                "flush_s": flush_s,
                "session_fields": session_fields,
            },
        }
        self._send(("config", config))
        self._reader = threading.Thread(target=self._read, name="bfr-loop-client", daemon=True)
        self._reader.start()
        ready = self._reply(ready_timeout_s, "start-up")
        self.t0_s: float = ready["t0_s"]
        self.session_id: int | None = ready["session_id"]
        self.stream_id: int | None = ready["stream_id"]
        self.monitor_status: dict[str, str] = ready["monitor_status"]
        self.loop_pid = self.proc.pid
        self._monitor_source = monitor_source
        self._feed_stop = threading.Event()
        self._feeder: threading.Thread | None = None
        if monitor_source is not None:
            self._feeder = threading.Thread(
                target=self._feed_monitors,
                args=(monitor_source, first_samples),
                name="bfr-monitor-feed",
                daemon=True,
            )
            self._feeder.start()

    @classmethod
    def on_emulator(
        cls, limits: CuffLimits, *, aop_mmhg: float = 200.0, seed: int = 0, **kwargs
    ) -> ProcessLiveSession:
        """A session on a new cuff emulator (pty), with the emulated limb's monitors.

        The emulator (:attr:`emulator`: true pressure, activity, faults) is stopped by
        :meth:`stop`.
        """
        from workbench.bfr.simulation.emulator import spawn_emulator

        emu = spawn_emulator(aop_mmhg=aop_mmhg, seed=seed)
        try:
            session = cls(emu.port, limits, truth_path=emu.truth.path, **kwargs)
        except BaseException:
            emu.close()
            raise
        session.emulator = emu
        return session

    # ----------------------------------------------------------------- plumbing
    def _feed_monitors(self, source: MonitorSource, sent: MonitorSamples) -> None:
        """Send the source's new samples to the loop process until stopped or it is gone.

        A failing source is logged (once per error) and polled again: meanwhile nothing new
        arrives and the supervisor vents on staleness."""
        seen = {name: t for name, (t, _) in sent.items()}
        error = None
        while not self._feed_stop.wait(MONITOR_FEED_S) and self.dead_reason is None:
            try:
                samples = _plain(source())
            except Exception as exc:
                if repr(exc) != error:
                    error = repr(exc)
                    log.exception("BFR monitor source failed; its streams go stale")
                continue
            error = None
            new = {name: s for name, s in samples.items() if seen.get(name) != s[0]}
            if not new:
                continue
            try:
                self._send(("monitors", new))
            except LoopProcessError:
                return  # the reader reports the dead loop process
            seen.update((name, t) for name, (t, _) in new.items())

    def _send(self, msg: tuple) -> None:
        with self._send_lock:
            try:
                self._conn.send(msg)
            except OSError as exc:
                raise LoopProcessError(f"BFR loop process unreachable: {exc!r}") from exc

    def _read(self) -> None:
        try:
            while True:
                kind, payload = self._conn.recv()
                if kind == "events":
                    self.events.extend(payload)
                elif kind == "latched":
                    self.latched = payload
                else:
                    self._replies.put((kind, payload))
        except (EOFError, OSError) as exc:
            code = self.proc.poll()
            self.dead_reason = f"loop process gone (exit code {code}, {exc!r})"
            if not self._stopped:
                log.error("BFR %s: the cuff firmware watchdog vents", self.dead_reason)
            self._replies.put(("dead", self.dead_reason))

    def _reply(self, timeout_s: float, what: str):
        try:
            kind, payload = self._replies.get(timeout=timeout_s)
        except queue.Empty:
            raise LoopProcessError(
                f"BFR loop process did not answer {what} in {timeout_s} s"
            ) from None
        if kind == "ok":
            return payload
        if kind == "error":
            name, message, reason = payload
            if reason is not None:
                raise SafetyError(f"{name}: {message}", reason=SafetyReason(reason))
            raise LoopProcessError(f"{what} failed in the loop process: {name}: {message}")
        raise LoopProcessError(f"{what}: {payload}")

    def _request(self, msg: tuple, timeout_s: float = 5.0):
        with self._request_lock:
            if self.dead_reason is not None:
                raise LoopProcessError(f"BFR {self.dead_reason}")
            while True:  # an answer still queued belongs to a request that timed out
                try:
                    late = self._replies.get_nowait()
                except queue.Empty:
                    break
                log.warning("BFR loop process: late answer %r dropped", late)
            self._send(msg)
            return self._reply(timeout_s, msg[0])

    # ----------------------------------------------------------------- LiveSession API
    def start(self) -> None:
        """Arm (refused if the cuff is not vented) and start the loop in the loop process."""
        self._request(("start",))

    def request_setpoint(self, setpoint_mmhg: float, who: str = "operator") -> float:
        """Validate here (reject, never clamp), then again in the loop process."""
        sp = self.limits.validate_setpoint(setpoint_mmhg) if setpoint_mmhg > 0 else 0.0
        return self._request(("setpoint", sp, who))

    def vent(self, who: str = "operator") -> None:
        """Operator vent (latched by the loop process's supervisor)."""
        self._request(("vent", who))

    def operator_heartbeat(self) -> None:
        """The operator's browser is alive (fire and forget)."""
        if self.dead_reason is None:
            self._send(("heartbeat",))

    def acknowledge(self, who: str) -> bool:
        """Clear latched alarms if the cuff is vented; returns success."""
        return self._request(("ack", who))

    def set_phase(self, phase: str) -> None:
        """Tell the loop process's supervisor whether the athlete exercises (EMG checks)."""
        self._request(("phase", str(phase)))

    def set_activity(self, activity: str) -> None:
        """Move the emulated limb (``"reps"``/``"rest"``): a command to the emulator process."""
        if self.emulator is None:
            raise LoopProcessError("set_activity needs a session on a cuff emulator")
        self.emulator.set_activity(activity)

    def ledger_status(self) -> tuple[float, float] | None:
        """The loop process's time ledger for its key: (cumulative inflated s, lock-out left
        s) as last published; None once stopped or before the first publication."""
        if self._stopped:
            return None
        raw = self._read_snapshot()
        if raw["counter"] < 1:
            return None
        return raw["ledger_cumulative_s"], raw["ledger_lockout_s"]

    def monitor_values(self) -> tuple[float, float]:
        """SmO2 (%) and EMG RMS (uV) the monitors read now: the ``monitor_source``'s, else
        the emulated limb's (NaN: none, stale, stopped, or EMG not in µV)."""
        if self._stopped:
            return math.nan, math.nan
        if self._monitor_source is not None:
            streams = self._monitor_source()
        elif self.emulator is not None:
            from workbench.bfr.simulation.emulator import truth_monitors

            streams = truth_monitors(self.emulator.truth)
        else:
            return math.nan, math.nan
        nirs, emg = streams.get("nirs"), streams.get("emg")
        return (
            math.nan if nirs is None else float(nirs[1]["smo2_pct"]),
            math.nan if emg is None else float(emg[1].get("rms_uv", math.nan)),
        )

    def periods_s(self) -> list[float]:
        """The loop's recorded tick periods (``record_periods=True``), s."""
        return self._request(("periods",), timeout_s=10.0)

    def stop(self, status: str = "complete") -> None:
        """Stop the loop (it vents), close the audit log, end the process (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        self._feed_stop.set()
        if self._feeder is not None:
            self._feeder.join(2.0)
        try:
            if self.dead_reason is None:
                try:
                    self._request(("stop", status), timeout_s=10.0)
                    self._stop_acked = True
                except LoopProcessError:
                    if self.dead_reason is None:
                        raise
                    # it died meanwhile: nothing left to stop; the firmware watchdog vents
                    log.warning("BFR loop process died before stop: %s", self.dead_reason)
        finally:
            try:
                self.proc.wait(5.0)
            except subprocess.TimeoutExpired:
                log.error("BFR loop process %d did not exit after stop; killing it", self.proc.pid)
                self.proc.kill()
                self.proc.wait(5.0)
            self._conn.close()
            self._reader.join(1.0)
            self._final = self._read_snapshot()  # the last reading, shown as not live
            self._snap.close()
            self._snap_f.close()
            self._dir.cleanup()
            if self.emulator is not None:
                self.emulator.close()

    def _read_snapshot(self) -> dict[str, float]:
        for _ in range(100):
            vals = _SNAP.unpack_from(self._snap, 0)
            if vals == _SNAP.unpack_from(self._snap, 0):
                break
        return dict(zip(SNAPSHOT_FIELDS, vals, strict=True))

    def snapshot(self) -> Snapshot:
        """The loop process's last published state (a dead loop shows vented and stale)."""
        lim = self.limits
        if self._stopped:
            raw = self._final or dict.fromkeys(SNAPSHOT_FIELDS, math.nan)
        else:
            raw = self._read_snapshot()
        alive = self.dead_reason is None and not self._stopped and self.proc.poll() is None
        published_age = (
            time.monotonic() - raw["mono_s"] if math.isfinite(raw["mono_s"]) else math.inf
        )
        running = alive and bool(raw["loop_running"]) and published_age < STALE_PUBLISH_S
        age = raw["pressure_age_s"] + max(0.0, published_age)
        vented = not running or bool(raw["vented"])
        latched = list(self.latched)
        if not alive and not self._stop_acked:  # it died (a stopped session is no alarm)
            latched.append(f"high: loop_process: {self.dead_reason or 'not running'}")
        return Snapshot(
            t_s=time.monotonic() - self.t0_s,
            pressure_mmhg=raw["pressure_mmhg"],
            setpoint_mmhg=0.0 if vented else raw["setpoint_mmhg"],
            pump_duty=0.0 if vented else raw["pump_duty"],
            vented=vented,
            latched=latched,
            max_setpoint_mmhg=lim.max_setpoint_mmhg,
            sustained_trip_mmhg=lim.sustained_trip_mmhg,
            instant_trip_mmhg=lim.instant_trip_mmhg,
            pressure_age_s=age,
            pressure_stale=not (math.isfinite(age) and age <= PRESSURE_STALE_S),
            loop_running=running,
        )


def _plain(samples: MonitorSamples) -> MonitorSamples:
    """Monitor samples as plain floats (sent between processes)."""
    return {
        str(name): (float(t), {str(k): float(v) for k, v in values.items()})
        for name, (t, values) in samples.items()
    }


# --------------------------------------------------------------------------- loop process
class RelayedMonitors:
    """The kernel's monitor samples in the loop process (a
    :data:`~workbench.bfr.control.MonitorSource`).

    Each sample is stamped with this process's clock when it arrives: samples the kernel
    stops sending (a hung kernel, a stuck feed) go stale here and the supervisor vents."""

    def __init__(self, samples: MonitorSamples) -> None:
        self._lock = threading.Lock()
        self._latest: MonitorSamples = {}
        self.update(samples)

    def update(self, samples: MonitorSamples) -> None:
        now = time.monotonic()
        with self._lock:
            self._latest.update((name, (now, values)) for name, (_, values) in samples.items())

    def __call__(self) -> MonitorSamples:
        with self._lock:
            return dict(self._latest)


def _remove_orphan_file(path: Path, dir_prefix: str) -> None:
    """Remove a mapped file (and its temporary directory) whose creator died."""
    try:
        path.unlink(missing_ok=True)
        if path.parent.name.startswith(dir_prefix):
            path.parent.rmdir()
    except OSError as exc:
        log.warning("could not remove %s left by a dead process: %r", path, exc)


def _error(exc: BaseException) -> tuple[str, tuple]:
    reason = getattr(exc, "reason", None)  # a SafetyReason, or e.g. a DeviceError's text
    value = reason.value if isinstance(reason, SafetyReason) else None
    return ("error", (type(exc).__name__, str(exc), value))


def _open_cuff(port: str, cuff_id: str):
    """The cuff on ``port``: a serial device, or ``"ble:<address>"`` (Nordic UART Service)."""
    from workbench.bfr.serial_cuff import SerialCuff

    if port.startswith(BLE_PORT_PREFIX):
        from workbench.bfr.ble_uart import open_ble_cuff

        return open_ble_cuff(port.removeprefix(BLE_PORT_PREFIX), cuff_id=cuff_id)
    return SerialCuff(port, cuff_id=cuff_id)


class _LoopServer:
    """The loop process: a LiveSession on the serial port, served over ``conn``."""

    def __init__(self, conn: Connection) -> None:
        from workbench.bfr.live import LiveSession
        from workbench.store import open_store

        self.conn = conn
        self.send_lock = threading.Lock()
        cfg = conn.recv()[1]
        self.parent_pid = cfg["parent_pid"]
        source, who, reason = cfg["auth"]
        # the kernel verified the authorization of these exact values before spawning us
        limits = _grant(cfg["limits"], source, who, f"{reason} (kernel pid {self.parent_pid})")
        self.cuff = _open_cuff(cfg["port"], cfg["session"]["cuff_id"])
        monitor_source = None
        self.relayed: RelayedMonitors | None = None
        if cfg["monitor_samples"] is not None:
            monitor_source = self.relayed = RelayedMonitors(cfg["monitor_samples"])
        elif cfg["truth_path"]:
            from workbench.bfr.simulation.emulator import Truth, truth_monitors

            truth = Truth(cfg["truth_path"])

            def monitor_source() -> MonitorSamples:
                return truth_monitors(truth)

        self.store = open_store(cfg["store_url"]) if cfg["store_url"] else None
        ledger = TimeLedger(cfg["ledger_path"]) if cfg["ledger_path"] else None
        self.session = LiveSession(
            self.cuff,
            limits,
            store=self.store,
            ledger=ledger,
            monitor_source=monitor_source,
            **cfg["session"],
        )
        if cfg["ledger_key"]:
            self.session.supervisor.ledger_key = cfg["ledger_key"]
        self.record_periods = cfg["record_periods"]
        self.snapshot_path = Path(cfg["snapshot_path"])
        self._snap_f = open(self.snapshot_path, "r+b")  # noqa: SIM115 - mapped
        self._snap = mmap.mmap(self._snap_f.fileno(), _SNAP.size)
        self._counter = 0.0
        self._events_sent = 0
        self._latched_sent: list[str] | None = None
        self._stop = threading.Event()
        self._gone_lock = threading.Lock()
        self._gone = False
        audit = self.session.audit
        self.send(
            "ok",
            {
                "t0_s": self.session.t0_s,
                "session_id": None if audit is None else audit.session_id,
                "stream_id": None if audit is None else audit.stream_id,
                "monitor_status": self.session.monitor_status,
            },
        )
        self.publisher = threading.Thread(
            target=self._publish_loop, name="bfr-publish", daemon=True
        )
        self.publisher.start()

    def send(self, kind: str, payload) -> None:
        with self.send_lock:
            self.conn.send((kind, payload))

    def _publish(self) -> None:
        s = self.session.snapshot()
        self._counter += 1
        ledger, key = self.session.ledger, self.session.supervisor.ledger_key
        _SNAP.pack_into(
            self._snap,
            0,
            self._counter,
            s.t_s,
            s.pressure_mmhg,
            s.setpoint_mmhg,
            s.pump_duty,
            float(s.vented),
            s.pressure_age_s,
            float(s.pressure_stale),
            float(s.loop_running),
            float(self.cuff.crc_errors),
            time.monotonic(),
            ledger.cumulative_s(key),
            ledger.lockout_remaining_s(key),
        )
        events = self.session.events
        if len(events) > self._events_sent:
            new = events[self._events_sent :]
            self._events_sent += len(new)
            self.send("events", new)
        if s.latched != self._latched_sent:
            self._latched_sent = s.latched
            self.send("latched", s.latched)

    def _publish_loop(self) -> None:
        while not self._stop.wait(PUBLISH_S):
            if os.getppid() != self.parent_pid:
                self.kernel_gone("parent pid changed")
                return
            try:
                self._publish()
            except (OSError, EOFError) as exc:
                self.kernel_gone(f"publishing failed: {exc!r}")
                return

    def kernel_gone(self, why: str) -> None:
        """The kernel died: vent, latch, close the audit log as interrupted, exit."""
        with self._gone_lock:
            if self._gone:
                return
            self._gone = True
        self._stop.set()
        log.error("BFR loop process: kernel gone (%s); venting and closing the session", why)
        try:
            self.session.vent(who=f"loop process: kernel gone ({why})")
        finally:
            try:
                self.session.stop("interrupted")
                self.cuff.close()
            finally:
                _remove_orphan_file(self.snapshot_path, "bfr-loop-")
                os._exit(3)

    def serve(self) -> None:
        session = self.session
        while True:
            try:
                msg = self.conn.recv()
            except (EOFError, OSError) as exc:
                self.kernel_gone(f"socket closed: {exc!r}")
                return
            kind = msg[0]
            if kind == "heartbeat":
                session.operator_heartbeat()
                continue
            if kind == "monitors" and self.relayed is not None:
                self.relayed.update(msg[1])
                continue
            try:
                if kind == "start":
                    session.start()
                    if session.thread is not None:
                        session.thread.record_periods = self.record_periods
                    out = None
                elif kind == "setpoint":
                    out = session.request_setpoint(msg[1], msg[2])
                elif kind == "vent":
                    session.vent(msg[1])
                    out = None
                elif kind == "ack":
                    out = session.acknowledge(msg[1])
                elif kind == "phase":
                    session.set_phase(msg[1])
                    out = None
                elif kind == "periods":
                    out = list(session.thread.periods_s) if session.thread else []
                elif kind == "stop":
                    self._stop.set()
                    self.publisher.join(1.0)
                    session.stop(msg[1])
                    self._publish_vented()
                    self.cuff.close()
                    self._publish_final()
                    self.send("ok", None)
                    return
                else:
                    raise ValueError(f"unknown request {kind!r}")
            except Exception as exc:  # answered to the kernel, which raises it there
                log.warning("BFR loop process: request %r failed: %r", kind, exc)
                self.send(*_error(exc))
            else:
                self.send("ok", out)

    def _publish_vented(self, timeout_s: float = 1.0) -> None:
        """After stop: publish the pressure read from the (vented) cuff once it is below
        20 mmHg or after ``timeout_s`` — the kernel keeps it as the session's last reading."""
        end = time.monotonic() + timeout_s
        try:
            while self.session.snapshot().pressure_mmhg >= 20.0 and time.monotonic() < end:
                time.sleep(0.05)
            self._publish()
        except (OSError, EOFError) as exc:
            log.warning("BFR loop process: last snapshot not published: %r", exc)

    def _publish_final(self) -> None:
        events = self.session.events
        if len(events) > self._events_sent:
            self.send("events", events[self._events_sent :])
            self._events_sent = len(events)
        latched = self.session.supervisor.latched  # no snapshot: the port is closed now
        self.send("latched", [f"{t.priority}: {t.reason.value}: {t.message}" for t in latched])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if "--realtime" in args:
        raise_priority("BFR loop process", LOOP_RT_PRIORITY, LOOP_NICE)
    conn = Connection(int(args[0]))
    try:
        server = _LoopServer(conn)
    except Exception as exc:
        log.exception("BFR loop process failed to start")
        conn.send(_error(exc))
        return 2
    server.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
