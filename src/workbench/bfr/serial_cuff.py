"""A :class:`~workbench.bfr.protocol.CuffController` over a serial port (pyserial).

:class:`SerialCuff` speaks the open cuff protocol (``docs/bfr-cuff-protocol.md``) on a UART,
USB CDC port or pty. No reader thread: every call drains the port, so the heartbeat and the
reads happen in the control-loop iteration itself (req 10). A silent or corrupted line gives
no new sample ``seq`` and the supervisor vents on stale data (req 9); CRC errors are counted
and logged, never acted on. Why: ``docs/decisions/0008-bfr-transport-and-loop-process.md``.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable

import serial

from workbench.bfr.protocol import (
    CuffStatus,
    FirmwareState,
    Frame,
    FrameDecoder,
    MsgType,
    PressureReading,
    encode_arm,
    encode_heartbeat,
    encode_set,
    encode_vent,
    pressure_from_frame,
)
from workbench.log import get_logger

log = get_logger(__name__)

#: VENT reason codes on the wire.
VENT_REASON_HOST = 1
VENT_REASON_CLOSE = 2

#: A write blocked this long raises (the loop latches a trip and vents), s.
WRITE_TIMEOUT_S = 0.5

#: Reads per poll: bounds the time one call spends draining a flooded line.
_MAX_READS_PER_POLL = 16

#: Status reported before the firmware sent one: vented and not armed (the safe guess).
UNKNOWN_STATUS = CuffStatus(
    FirmwareState.IDLE, pump_on=False, dump_open=True, max_setpoint_mmhg=0.0
)


class SerialCuff:
    """The lab-built cuff (or its emulator) on serial port ``port``.

    Parameters
    ----------
    port:
        Device path (``/dev/ttyACM0``, ``/dev/pts/N``) or an open ``serial.Serial``-like
        object (``read``, ``write``, ``in_waiting``, ``reset_input_buffer``, ``close``).
    baudrate:
        Line speed (ignored by USB CDC and ptys).
    clock:
        Host receive time stamp of the samples (``PressureReading.host_t_s``).
    cuff_id:
        Name in logs and the audit log.
    connect_timeout_s:
        Wait this long after opening for the first PRESSURE and STATUS (0: do not wait).
    """

    def __init__(
        self,
        port: str | serial.Serial,
        *,
        baudrate: int = 115200,
        clock: Callable[[], float] = time.monotonic,
        cuff_id: str | None = None,
        connect_timeout_s: float = 2.0,
    ) -> None:
        if isinstance(port, str):
            # pyserial raises on a write that *completed* later than write_timeout (e.g. the
            # process was descheduled): generous, it is for a truly stuck line only
            self.port = serial.Serial(
                port, baudrate=baudrate, timeout=0, write_timeout=WRITE_TIMEOUT_S
            )
            self.cuff_id = cuff_id or port
        else:
            self.port = port
            self.cuff_id = cuff_id or getattr(port, "name", "serial-cuff")
        self.port.reset_input_buffer()  # frames queued before we opened are not "now"
        self.clock = clock
        self._lock = threading.RLock()
        self._decoder = FrameDecoder()
        self._seq = 0
        self._hb = 0
        self._last: PressureReading | None = None
        self._status: CuffStatus | None = None
        self._logged_errors = 0
        self.frames_in = 0
        self.closed = False
        if connect_timeout_s > 0 and not self.wait_ready(connect_timeout_s):
            # not fatal here: arming refuses a cuff without a sample (req 21), and the
            # panel shows the pressure as stale
            log.warning(
                "cuff %s sent no PRESSURE and STATUS within %.1f s of opening the port",
                self.cuff_id,
                connect_timeout_s,
            )

    # ----------------------------------------------------------------- link health
    @property
    def crc_errors(self) -> int:
        """Corrupt frames (bad CRC, length or type) dropped by the decoder so far."""
        return self._decoder.errors

    def _send(self, frame: bytes) -> None:
        with self._lock:
            self.port.write(frame)
            self._seq = (self._seq + 1) & 0xFF

    def _poll(self) -> None:
        """Decode everything the port holds; keep the newest sample and status."""
        with self._lock:
            for _ in range(_MAX_READS_PER_POLL):  # a backlog may exceed one read
                n = self.port.in_waiting
                if not n:
                    break
                data = self.port.read(n)
                now = self.clock()
                for frame in self._decoder.feed(data):
                    self._handle(frame, now)
            if self._decoder.errors != self._logged_errors:
                log.warning(
                    "cuff %s: %d corrupt frame(s) dropped on the serial line (%d in total); "
                    "their samples count as missing (stale -> vent)",
                    self.cuff_id,
                    self._decoder.errors - self._logged_errors,
                    self._decoder.errors,
                )
                self._logged_errors = self._decoder.errors

    def _handle(self, frame: Frame, now: float) -> None:
        self.frames_in += 1
        if frame.type is MsgType.PRESSURE:
            self._last = pressure_from_frame(frame, now)
        elif frame.type is MsgType.STATUS:
            state, flags, max_sp = frame.fields
            try:
                fw = FirmwareState(state)
            except ValueError:
                log.warning("cuff %s: unknown firmware state %d in STATUS", self.cuff_id, state)
                return
            self._status = CuffStatus(fw, bool(flags & 1), bool(flags & 2), max_sp / 10.0)
        else:
            log.warning("cuff %s: unexpected host message %s from the cuff", self.cuff_id, frame)

    # ----------------------------------------------------------------- CuffController
    def arm(self, max_setpoint_mmhg: float) -> None:
        self._send(encode_arm(self._seq, max_setpoint_mmhg))

    def heartbeat(self) -> None:
        self._hb = (self._hb + 1) & 0xFFFF
        self._send(encode_heartbeat(self._seq, self._hb))

    def read_pressure(self) -> PressureReading | None:
        """Newest sample received; the same ``seq`` again when nothing new arrived."""
        self._poll()
        return self._last

    def set_target(self, setpoint_mmhg: float, *, pump_duty: float, bleed_duty: float) -> None:
        self._send(encode_set(self._seq, setpoint_mmhg, pump_duty, bleed_duty))

    def vent(self) -> None:
        self._send(encode_vent(self._seq, VENT_REASON_HOST))

    def status(self) -> CuffStatus:
        """Last STATUS the firmware sent (:data:`UNKNOWN_STATUS` before the first)."""
        self._poll()
        return self._status or UNKNOWN_STATUS

    def wait_ready(self, timeout_s: float = 1.0) -> bool:
        """Wait until the firmware sent a sample and a status; False after ``timeout_s``."""
        end = time.monotonic() + timeout_s
        while True:
            self._poll()
            if self._status is not None and self._last is not None:
                return True
            if time.monotonic() >= end:
                return False
            time.sleep(0.005)

    def close(self) -> None:
        """Vent, then close the port (idempotent); the firmware watchdog covers a failed vent."""
        if self.closed:
            return
        self.closed = True
        try:
            self._send(encode_vent(self._seq, VENT_REASON_CLOSE))
            self.port.flush()
        finally:
            self.port.close()

    @property
    def pressure_mmhg(self) -> float:
        """Last received pressure (NaN: none yet)."""
        return math.nan if self._last is None else self._last.pressure_mmhg


def raise_priority(who: str, rt_priority: int, nice: int) -> str:
    """Real-time round-robin scheduling for this process (threads started later inherit
    it), else a lower niceness, else none; returns what was obtained (logged)."""
    try:
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(rt_priority))
        return f"SCHED_RR {rt_priority}"
    except (PermissionError, AttributeError, OSError) as exc:
        log.info("%s: SCHED_RR %d refused (%r); trying nice %d", who, rt_priority, exc, nice)
    try:
        os.setpriority(os.PRIO_PROCESS, 0, nice)
        return f"nice {nice}"
    except PermissionError as exc:
        log.warning("%s: no priority raise possible (%r): timing depends on the load", who, exc)
        return "default"


def shared_memory_dir() -> str | None:
    """Where to put files mapped between processes: ``/dev/shm`` (tmpfs) when there is one.

    A mapped file on a disk can stall a writer for page write-back (100+ ms under I/O load),
    and the stalled thread may hold the GIL the control loop needs.
    """
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None
