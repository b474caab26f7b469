"""The cuff emulator: :class:`CuffSimulator` in real time behind the open protocol on a tty.

It plays the cuff's microcontroller in its own process: decodes host frames, runs the physics
and the firmware watchdog (vents 250 ms after the last HEARTBEAT), sends PRESSURE frames at
``telemetry_hz`` and STATUS on change and at 1 Hz. :func:`spawn_emulator` creates a pty pair
(``os.openpty``) and starts ``python -m workbench.bfr.simulation.emulator --fd N``; the host
opens the slave path with :class:`~workbench.bfr.serial_cuff.SerialCuff`. The true state is
published in a small memory-mapped file (:class:`Truth`) for tests, benches and the panel's
monitor streams. Why: ``docs/decisions/0008-bfr-transport-and-loop-process.md``.
"""

from __future__ import annotations

import argparse
import errno
import math
import mmap
import os
import queue
import select
import struct
import subprocess
import sys
import tempfile
import threading
import time
import tty
from dataclasses import dataclass
from pathlib import Path

from workbench.bfr.protocol import (
    Frame,
    FrameDecoder,
    MsgType,
    encode_pressure,
    encode_status,
)
from workbench.bfr.serial_cuff import SerialCuff, raise_priority, shared_memory_dir
from workbench.bfr.simulation.cuff import CuffParams, CuffSimulator, monitor_streams
from workbench.log import get_logger

log = get_logger(__name__)

#: Fields of the truth file, in order (float64 each).
TRUTH_FIELDS = (
    "counter",
    "t_s",
    "pressure_mmhg",
    "state",
    "n_vents",
    "last_vent_t_s",
    "last_vent_state",
    "peak_mmhg",
    "nirs_t_s",
    "thb_um",
    "o2hb_um",
    "smo2_pct",
    "emg_t_s",
    "emg_rms_uv",
    "hr_t_s",
    "hr_bpm",
    "hr_connected",
    "host_crc_errors",
    "last_heartbeat_t_s",
    "frames_dropped",
    "mono_s",
    "t0_mono_s",
    "pid",
)
_TRUTH = struct.Struct(f"<{len(TRUTH_FIELDS)}d")


class Truth:
    """Read (or, in the emulator, write) the emulator's true state through a mapped file."""

    def __init__(self, path: str | Path, *, create: bool = False) -> None:
        self.path = Path(path)
        if create:
            self.path.write_bytes(b"\0" * _TRUTH.size)
        self._f = open(self.path, "r+b")  # noqa: SIM115 - kept open for the mapping
        self._mm = mmap.mmap(self._f.fileno(), _TRUTH.size)

    def write(self, values: tuple[float, ...]) -> None:
        _TRUTH.pack_into(self._mm, 0, *values)

    def read(self) -> dict[str, float]:
        """A consistent copy (retries while the emulator is writing)."""
        for _ in range(100):
            vals = _TRUTH.unpack_from(self._mm, 0)
            again = _TRUTH.unpack_from(self._mm, 0)
            if vals[0] == again[0]:
                return dict(zip(TRUTH_FIELDS, vals, strict=True))
        return dict(zip(TRUTH_FIELDS, again, strict=True))

    def close(self) -> None:
        self._mm.close()
        self._f.close()


class CuffEmulator:
    """The firmware loop around a :class:`CuffSimulator` on file descriptor ``fd`` (raw tty).

    ``commands``: a queue of text commands (``inject NAME``, ``activity NAME``,
    ``corrupt SECONDS``, ``silence SECONDS``, ``quit``), e.g. fed from stdin.
    """

    def __init__(
        self,
        fd: int,
        sim: CuffSimulator,
        *,
        telemetry_hz: float = 250.0,
        truth: Truth | None = None,
        commands: queue.SimpleQueue | None = None,
    ) -> None:
        self.fd = fd
        self.sim = sim
        self.period_s = 1.0 / telemetry_hz
        self.truth = truth
        self.commands = commands
        self.decoder = FrameDecoder()
        self._seq = 0
        self._sent_state: tuple | None = None
        self._next_status_s = 0.0
        self._corrupt_until = -math.inf
        self._silent_until = -math.inf
        self.dropped = 0
        self.quit = False
        self.orphan = False  # the command channel closed: our spawner is gone
        self.last_host_frame_s = 0.0
        self._counter = 0.0
        os.set_blocking(fd, False)

    # ----------------------------------------------------------------- output
    def _write(self, frame: bytes, now: float) -> None:
        if now < self._silent_until:
            return
        if now < self._corrupt_until:
            b = bytearray(frame)
            b[5] ^= 0x5A  # a flipped payload byte: the CRC no longer matches
            frame = bytes(b) + b"\xa5\x00\xff"  # and some line noise
        try:
            os.write(self.fd, frame)
            self._seq = (self._seq + 1) & 0xFF
        except BlockingIOError:  # nobody reads the line: a UART would drop it too
            self.dropped += 1
        except OSError as exc:
            if exc.errno != errno.EIO:  # EIO: no host has the line open
                raise
            self.dropped += 1

    def _send_pressure(self, now: float) -> None:
        r = self.sim.read_pressure()
        if r is None:
            return
        self._write(
            encode_pressure(self._seq, r.device_t_s, r.seq, r.pressure_mmhg, r.pressure2_mmhg),
            now,
        )

    def _send_status(self, now: float) -> None:
        st = self.sim.status()
        key = (st.state, st.pump_on, st.dump_open, st.max_setpoint_mmhg)
        if key != self._sent_state or now >= self._next_status_s:
            self._sent_state = key
            self._next_status_s = now + 1.0
            self._write(
                encode_status(self._seq, st.state, st.pump_on, st.dump_open, st.max_setpoint_mmhg),
                now,
            )

    # ----------------------------------------------------------------- input
    def _handle(self, f: Frame) -> None:
        sim = self.sim
        if f.type is MsgType.HEARTBEAT:
            sim.heartbeat()
        elif f.type is MsgType.SET:
            sp, pump, bleed = f.fields
            sim.set_target(sp / 10.0, pump_duty=pump / 100.0, bleed_duty=bleed / 100.0)
        elif f.type is MsgType.VENT:
            sim.vent()
        elif f.type is MsgType.ARM:
            sim.arm(f.fields[0] / 10.0)
        else:  # a cuff->host type from the host: not a command, never acted on
            log.warning("emulator: ignoring %s sent by the host", f.type.name)

    def _apply(self, frames: list[Frame], t_sim: float) -> None:
        """Advance the physics to ``t_sim`` and apply ``frames``.

        When this process was starved, frames read together arrived over the gap: they are
        spread evenly over it (a host that died in the gap sent fewer heartbeats, so the
        watchdog still sees the silence), instead of all at once after it.
        """
        sim = self.sim
        lag = t_sim - sim.t_s
        if frames and lag > 0.01:
            start = sim.t_s
            for i, f in enumerate(frames):
                sim.advance_to(start + lag * (i + 1) / len(frames))
                self._handle(f)
        else:
            sim.advance_to(t_sim)
            for f in frames:
                self._handle(f)

    def _command(self, line: str, now: float) -> None:
        parts = line.split()
        if not parts:
            return
        cmd, arg = parts[0], (parts[1] if len(parts) > 1 else "")
        if cmd == "inject":
            self.sim.inject(arg)
        elif cmd == "activity":
            self.sim.set_activity(arg)
        elif cmd == "corrupt":
            self._corrupt_until = now + float(arg)
        elif cmd == "silence":
            self._silent_until = now + float(arg)
        elif cmd == "quit":
            self.quit = True
        elif cmd == "eof":
            self.orphan = not self.quit  # after "quit" the spawner is closing us normally
        else:
            log.warning("emulator: unknown command %r", line)

    def _publish(self, now: float, t0: float) -> None:
        if self.truth is None:
            return
        sim = self.sim
        self._counter += 1
        last = sim.vent_times_s[-1] if sim.vent_times_s else (math.nan, math.nan)
        n = sim.nirs
        self.truth.write(
            (
                self._counter,
                sim.t_s,
                sim.pressure_mmhg,
                float(sim.state),
                float(len(sim.vent_times_s)),
                last[0],
                float(last[1]),
                sim.peak_mmhg,
                n.t_s if n else math.nan,
                n.thb_um if n else math.nan,
                n.o2hb_um if n else math.nan,
                n.smo2_pct if n else math.nan,
                sim.emg_t_s if math.isfinite(sim.emg_t_s) else math.nan,
                sim.emg_rms_uv,
                sim.hr_t_s,
                sim.hr_bpm,
                1.0 if sim.hr_connected else 0.0,
                float(self.decoder.errors),
                sim.last_heartbeat_s if math.isfinite(sim.last_heartbeat_s) else math.nan,
                float(self.dropped),
                now,
                t0,
                float(os.getpid()),
            )
        )

    # ----------------------------------------------------------------- loop
    def run(self, *, clock=time.monotonic) -> None:
        """Run until ``quit`` (or, orphaned, until vented and the host silent for 2 s)."""
        t0 = clock()
        self.sim.advance_to(0.0)
        next_tel = t0
        self.last_host_frame_s = t0
        while not self.quit:
            now = clock()
            timeout = min(max(0.0, next_tel - now), 0.002)
            frames: list[Frame] = []
            readable, _, _ = select.select([self.fd], [], [], timeout)
            if readable:
                try:
                    data = os.read(self.fd, 4096)
                except BlockingIOError:
                    data = b""
                except OSError as exc:
                    if exc.errno != errno.EIO:
                        raise
                    data = b""
                    time.sleep(0.002)  # nobody on the line
                frames = self.decoder.feed(data)
            now = clock()
            if frames:
                self.last_host_frame_s = now
            self._apply(frames, now - t0)
            if self.commands is not None:
                while True:
                    try:
                        self._command(self.commands.get_nowait(), now)
                    except queue.Empty:
                        break
            if now >= next_tel:
                self._send_pressure(now)
                next_tel += self.period_s
                if next_tel < now:
                    next_tel = now + self.period_s
            self._send_status(now)
            self._publish(now, t0)
            if (
                self.orphan
                and not self.sim.status().state == 1  # not ARMED
                and now - self.last_host_frame_s > 2.0
            ):
                log.info("emulator: spawner gone, cuff vented, host silent: exiting")
                return


# --------------------------------------------------------------------------- spawning
@dataclass
class EmulatorHandle:
    """A running emulator process on a pty pair; :attr:`port` is the host's device path."""

    port: str
    proc: subprocess.Popen
    truth: Truth
    _slave_fd: int
    _dir: tempfile.TemporaryDirectory

    def command(self, line: str) -> None:
        """Send a text command (see :class:`CuffEmulator`)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def inject(self, fault: str) -> None:
        self.command(f"inject {fault}")

    def set_activity(self, activity: str) -> None:
        self.command(f"activity {activity}")

    def corrupt(self, seconds: float) -> None:
        """Corrupt every outgoing frame for ``seconds`` (CRC errors on the host)."""
        self.command(f"corrupt {seconds}")

    def silence(self, seconds: float) -> None:
        self.command(f"silence {seconds}")

    def read(self) -> dict[str, float]:
        """The emulator's true state (pressure, firmware state, vents, monitors)."""
        return self.truth.read()

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self, timeout_s: float = 3.0) -> None:
        """Stop the emulator (idempotent)."""
        if self.proc.poll() is None:
            try:
                self.command("quit")
            except (BrokenPipeError, ValueError) as exc:
                log.warning("emulator %d: quit command failed (%r); killing it", self.proc.pid, exc)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                log.warning("emulator %d did not quit; killing it", self.proc.pid)
                self.proc.kill()
                self.proc.wait(timeout_s)
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        if self._slave_fd >= 0:
            os.close(self._slave_fd)
            self._slave_fd = -1
        self.truth.close()
        self._dir.cleanup()


def spawn_emulator(
    *,
    aop_mmhg: float = 200.0,
    seed: int = 0,
    telemetry_hz: float = 250.0,
    params: CuffParams | None = None,
    realtime: bool = True,
    ready_timeout_s: float = 60.0,
) -> EmulatorHandle:
    """Create a pty pair and start the emulator process on its master side.

    This process keeps the slave open (so the emulator never sees a hung-up line) until
    :meth:`EmulatorHandle.close`. ``params`` must be default-constructible fields only.
    """
    master, slave = os.openpty()
    tty.setraw(slave)  # no echo, no line discipline: bytes are bytes
    port = os.ttyname(slave)
    tmp = tempfile.TemporaryDirectory(
        prefix="bfr-emulator-", dir=shared_memory_dir(), ignore_cleanup_errors=True
    )
    truth = Truth(Path(tmp.name) / "truth.bin", create=True)
    cmd = [
        sys.executable,
        "-m",
        "workbench.bfr.simulation.emulator",
        "--fd",
        str(master),
        "--truth",
        str(truth.path),
        "--aop",
        str(aop_mmhg),
        "--seed",
        str(seed),
        "--telemetry-hz",
        str(telemetry_hz),
        "--commands-stdin",
    ] + (["--realtime"] if realtime else [])
    if params is not None:
        cmd += ["--params", repr(params.__dict__)]
    # its own session, like a separate device: the spawner's process-group signals (Jupyter
    # interrupt/shutdown) do not reach it; it notices its spawner gone and exits
    proc = subprocess.Popen(cmd, pass_fds=(master,), stdin=subprocess.PIPE, start_new_session=True)
    os.close(master)
    handle = EmulatorHandle(port, proc, truth, slave, tmp)
    end = time.monotonic() + ready_timeout_s
    while truth.read()["counter"] < 1:
        if proc.poll() is not None or time.monotonic() > end:
            handle.close()
            raise RuntimeError(f"cuff emulator did not start (exit code {proc.poll()})")
        time.sleep(0.01)
    return handle


#: Scheduling asked for the emulator (it plays a microcontroller with a CPU of its own):
#: SCHED_RR above the loop process, else this niceness.
EMULATOR_RT_PRIORITY = 30
EMULATOR_NICE = -10


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--port", help="tty device to serve (e.g. one end of a pty pair)")
    where.add_argument("--fd", type=int, help="an inherited file descriptor (pty master)")
    ap.add_argument("--truth", help="file to publish the true state in")
    ap.add_argument("--aop", type=float, default=200.0, help="the limb's true AOP, mmHg")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--telemetry-hz", type=float, default=250.0)
    ap.add_argument("--params", help="CuffParams fields as a Python dict literal")
    ap.add_argument("--commands-stdin", action="store_true", help="read commands from stdin")
    ap.add_argument("--realtime", action="store_true", help="ask for real-time scheduling")
    a = ap.parse_args(argv)
    if a.port:
        fd = os.open(a.port, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(fd)
    else:
        fd = a.fd
    params = None
    if a.params:
        import ast

        params = CuffParams(**ast.literal_eval(a.params))
    if a.realtime:
        raise_priority("cuff emulator", EMULATOR_RT_PRIORITY, EMULATOR_NICE)
    sim = CuffSimulator(params, aop_mmhg=a.aop, seed=a.seed)
    commands: queue.SimpleQueue | None = None
    if a.commands_stdin:
        commands = queue.SimpleQueue()

        def read_stdin() -> None:
            for line in sys.stdin:
                commands.put(line.strip())
            commands.put("eof")

        threading.Thread(target=read_stdin, name="emulator-commands", daemon=True).start()
    truth = Truth(a.truth) if a.truth else None
    emu = CuffEmulator(fd, sim, telemetry_hz=a.telemetry_hz, truth=truth, commands=commands)
    emu.run()
    if emu.orphan and truth is not None:  # our spawner died: nobody else cleans up
        truth.close()
        try:
            truth.path.unlink(missing_ok=True)
            if truth.path.parent.name.startswith("bfr-emulator-"):
                truth.path.parent.rmdir()
        except OSError as exc:
            log.warning("emulator: could not remove %s: %r", truth.path, exc)
    return 0


if __name__ == "__main__":
    sys.exit(main())


def truth_monitors(truth: Truth) -> dict[str, tuple[float, dict[str, float]]]:
    """The emulated limb's NIRS, EMG and HR streams as the simulator reports them
    (:func:`~workbench.bfr.simulation.cuff.monitor_streams`), from the truth file."""
    t = truth.read()
    return monitor_streams(
        t["t_s"],
        nirs_t_s=t["nirs_t_s"],
        nirs={"thb_um": t["thb_um"], "o2hb_um": t["o2hb_um"], "smo2_pct": t["smo2_pct"]},
        emg_t_s=t["emg_t_s"],
        emg={"rms_uv": t["emg_rms_uv"]},
        hr_t_s=t["hr_t_s"],
        hr={"bpm": t["hr_bpm"], "connected": t["hr_connected"]},
    )


class EmulatedSerialCuff(SerialCuff):
    """A :class:`SerialCuff` on its own emulator process (what the panel and tests use).

    Adds what a simulator offers beyond the wire: the limb's monitor streams and true
    pressure (read from :class:`Truth`), activity and fault injection. :meth:`close` vents,
    closes the port and stops the emulator.
    """

    def __init__(self, emulator: EmulatorHandle, **kwargs) -> None:
        super().__init__(emulator.port, **kwargs)
        self.emulator = emulator
        self.cuff_id = kwargs.get("cuff_id") or "emulated-cuff"

    @classmethod
    def spawn(cls, *, aop_mmhg: float = 200.0, seed: int = 0, **kwargs) -> EmulatedSerialCuff:
        """Start an emulator on a new pty pair and open its port."""
        emu = spawn_emulator(aop_mmhg=aop_mmhg, seed=seed)
        try:
            cuff = cls(emu, connect_timeout_s=0, **kwargs)
            if not cuff.wait_ready(5.0):
                raise RuntimeError(f"cuff emulator on {emu.port} sent nothing within 5 s")
        except BaseException:
            emu.close()
            raise
        return cuff

    def monitor_source(self) -> dict[str, tuple[float, dict[str, float]]]:
        """The emulated limb's NIRS, EMG and HR streams (see :func:`truth_monitors`)."""
        return truth_monitors(self.emulator.truth)

    @property
    def true_pressure_mmhg(self) -> float:
        return self.emulator.read()["pressure_mmhg"]

    def set_activity(self, activity: str) -> None:
        self.emulator.set_activity(activity)

    def inject(self, fault: str) -> None:
        self.emulator.inject(fault)

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.emulator.close()
