"""The open cuff protocol over a real pty: SerialCuff <-> emulator process (issue 12.5).

References are independent of the code under test: frames are built with ``struct`` and a
bitwise CRC written here from the published definition (CRC-16/CCITT-FALSE), pressures are
the emulator's true physics state, and times come from this process's monotonic clock.
"""

from __future__ import annotations

import os
import random
import signal
import struct
import subprocess
import sys
import textwrap
import time
import tty

import pytest

from bfr_helpers import simulated_limb_limits, wait_until
from workbench.bfr.live import LiveSession, open_live_session
from workbench.bfr.protocol import FirmwareState
from workbench.bfr.serial_cuff import SerialCuff
from workbench.bfr.simulation.emulator import EmulatedSerialCuff, spawn_emulator
from workbench.errors import SafetyReason

pytestmark = pytest.mark.slow

#: BFR-SAFETY req 8: below 20 mmHg within 0.5 s of a vent from 250 mmHg; watchdog 250 ms.
VENT_S = 0.5
WATCHDOG_S = 0.25
#: Scheduling slack on a shared 2-core machine (load average 5-10), s.
SLACK_S = 0.35


def ref_crc(data: bytes) -> int:
    """CRC-16/CCITT-FALSE from its definition: poly 0x1021, init 0xFFFF, MSB first."""
    crc = 0xFFFF
    for byte in data:
        for bit in range(7, -1, -1):
            top = (crc >> 15) ^ ((byte >> bit) & 1)
            crc = ((crc << 1) & 0xFFFF) ^ (0x1021 if top else 0)
    return crc


def ref_frame(msg_type: int, seq: int, payload: bytes) -> bytes:
    body = bytes([msg_type, seq, len(payload)]) + payload
    return b"\xa5" + body + struct.pack("<H", ref_crc(body))


def read_frames(fd: int, n: int, timeout_s: float = 2.0) -> list[tuple[int, bytes]]:
    """Parse ``n`` frames from ``fd`` with the reference framing (type, payload)."""
    buf = b""
    out: list[tuple[int, bytes]] = []
    end = time.monotonic() + timeout_s
    while len(out) < n and time.monotonic() < end:
        try:
            buf += os.read(fd, 4096)
        except BlockingIOError:
            time.sleep(0.002)
        while len(buf) >= 4 and len(buf) >= 6 + buf[3]:
            assert buf[0] == 0xA5, buf
            length = buf[3]
            frame, buf = buf[: 6 + length], buf[6 + length :]
            assert struct.unpack("<H", frame[-2:])[0] == ref_crc(frame[1:-2])
            out.append((frame[1], frame[4:-2]))
    return out


def xfail_if_thread_loop_stalled(session, true_mmhg) -> None:
    """xfail (after checking the vent) when a kernel-thread loop only tripped on timing.

    The loop thread shares the test process's GIL and has no scheduling priority: on a
    loaded machine it can stall > 100 ms and vent (safe). That is issue 12.6; the loop-process
    path is tested strictly in ``tests/safety/test_bfr_loop_process.py``.
    """
    reasons = {t.reason for t in session.supervisor.latched}
    if reasons and reasons <= {SafetyReason.LOOP_OVERRUN, SafetyReason.STALE_DATA}:
        assert wait_until(lambda: true_mmhg() < 20, VENT_S + SLACK_S)
        pytest.xfail(f"kernel-thread loop stalled under machine load: {reasons}")


@pytest.fixture
def pty_pair():
    master, slave = os.openpty()
    tty.setraw(slave)
    os.set_blocking(master, False)
    yield master, os.ttyname(slave)
    os.close(master)
    os.close(slave)


def test_host_frames_cross_the_pty_with_their_values(pty_pair):
    master, port = pty_pair
    rng = random.Random(12)
    cuff = SerialCuff(port, connect_timeout_s=0)
    sps = [round(rng.uniform(0, 240), 1) for _ in range(20)]
    pumps = [rng.randint(0, 100) for _ in sps]
    cuff.arm(187.3)
    cuff.heartbeat()
    for sp, pump in zip(sps, pumps, strict=True):
        cuff.set_target(sp, pump_duty=pump / 100, bleed_duty=(100 - pump) / 100)
    cuff.vent()
    frames = read_frames(master, 3 + len(sps))
    assert [t for t, _ in frames] == [0x04, 0x01] + [0x02] * len(sps) + [0x03]
    assert struct.unpack("<H", frames[0][1])[0] == 1873
    for (_, payload), sp, pump in zip(frames[2:-1], sps, pumps, strict=True):
        assert struct.unpack("<HBB", payload) == (round(sp * 10), pump, 100 - pump)
    cuff.close()


def test_cuff_frames_are_decoded_and_garbage_is_counted_not_raised(pty_pair):
    master, port = pty_pair
    rng = random.Random(3)
    cuff = SerialCuff(port, connect_timeout_s=0)
    assert cuff.read_pressure() is None
    good = 0
    for i in range(1, 200):
        p1, p2 = rng.randint(-100, 3000), rng.randint(-100, 3000)
        frame = ref_frame(0x81, i & 0xFF, struct.pack("<IHhhB", i * 4, i, p1, p2, 0))
        if rng.random() < 0.3:  # a corrupted frame followed by line noise
            bad = bytearray(frame)
            bad[rng.randrange(5, len(bad))] ^= 1 << rng.randrange(8)
            os.write(master, bytes(bad) + bytes(rng.randrange(256) for _ in range(5)))
        else:
            os.write(master, frame)
            good += 1
            assert wait_until(lambda i=i: getattr(cuff.read_pressure(), "seq", None) == i, 1.0)
            got = cuff.read_pressure()
            assert got.pressure_mmhg == pytest.approx(
                p1 / 10
            ) and got.pressure2_mmhg == pytest.approx(p2 / 10)
            assert got.device_t_s == pytest.approx(i * 0.004)
    assert cuff.crc_errors > 0
    os.write(master, ref_frame(0x82, 1, struct.pack("<BBH", 3, 2, 1500)))
    assert wait_until(lambda: cuff.status().state is FirmwareState.VENTED_WATCHDOG, 1.0)
    assert cuff.status().dump_open and not cuff.status().pump_on
    assert cuff.status().max_setpoint_mmhg == pytest.approx(150.0)
    cuff.close()


def test_emulator_watchdog_vents_when_heartbeats_stop():
    emu = spawn_emulator(seed=5)
    cuff = SerialCuff(emu.port)
    try:
        assert cuff.wait_ready(5.0)
        cuff.arm(200.0)
        end = time.monotonic() + 1.5
        while time.monotonic() < end:  # open-loop inflation, heartbeat every 10 ms
            cuff.heartbeat()
            cuff.set_target(150.0, pump_duty=0.6, bleed_duty=0.0)
            time.sleep(0.01)
        assert emu.read()["pressure_mmhg"] > 100
        t_stop = time.monotonic()
        assert wait_until(lambda: emu.read()["state"] == FirmwareState.VENTED_WATCHDOG, 2.0)
        assert wait_until(lambda: emu.read()["pressure_mmhg"] < 20, 2.0)
        elapsed = time.monotonic() - t_stop
        assert elapsed <= WATCHDOG_S + VENT_S + SLACK_S, elapsed
        # reported on the wire too (the host did not read meanwhile: the backlog drains first)
        assert wait_until(lambda: cuff.status().state is FirmwareState.VENTED_WATCHDOG, 2.0)
    finally:
        cuff.close()
        emu.close()


def test_live_session_on_the_pty_inflates_to_setpoint_and_vents():
    cuff = EmulatedSerialCuff.spawn(seed=9)
    s = LiveSession(cuff, simulated_limb_limits(), require_operator=False)
    try:
        s.start()
        sp = s.request_setpoint(120)
        reached = wait_until(lambda: abs(cuff.true_pressure_mmhg - sp) < 6, 12.0)
        time.sleep(1.0)
        xfail_if_thread_loop_stalled(s, lambda: cuff.true_pressure_mmhg)
        assert reached and not s.supervisor.latched, s.supervisor.latched
        assert abs(cuff.true_pressure_mmhg - sp) < 10, cuff.true_pressure_mmhg
        snap = s.snapshot()
        assert not snap.pressure_stale and abs(snap.pressure_mmhg - sp) < 15
        t_vent = time.monotonic()
        s.vent()
        assert wait_until(lambda: cuff.true_pressure_mmhg < 20, VENT_S + SLACK_S)
        assert time.monotonic() - t_vent <= VENT_S + SLACK_S
        assert cuff.emulator.read()["state"] == FirmwareState.VENTED_HOST
    finally:
        s.stop()
        cuff.close()
    assert cuff.crc_errors == 0


def test_corrupted_line_goes_stale_and_vents_without_crashing():
    cuff = EmulatedSerialCuff.spawn(seed=4)
    s = LiveSession(cuff, simulated_limb_limits(), require_operator=False)
    try:
        s.start()
        s.request_setpoint(100)
        assert wait_until(lambda: cuff.true_pressure_mmhg > 60, 10.0), s.supervisor.latched
        cuff.emulator.corrupt(1.0)
        assert wait_until(lambda: s.supervisor.vent_required, 1.0)
        assert wait_until(lambda: cuff.true_pressure_mmhg < 20, VENT_S + SLACK_S + 0.5)
        reasons = {t.reason for t in s.supervisor.trips}
        assert SafetyReason.LOOP_EXCEPTION not in reasons, s.supervisor.trips
        assert s.thread.alive  # the loop kept running, vented
        time.sleep(1.2)  # corruption over: samples flow again but the trip stays latched
        assert cuff.crc_errors > 10
        assert s.snapshot().vented and not s.snapshot().pressure_stale
    finally:
        s.stop()
        cuff.close()


KERNEL = textwrap.dedent(
    """
    import sys, time
    from workbench.bfr.authority import authorize_override
    from workbench.bfr.limits import CuffLimits
    from workbench.bfr.live import LiveSession, open_live_session
    from workbench.bfr.serial_cuff import SerialCuff
    lim = authorize_override(CuffLimits.for_session(200, "leg"), supervisor="test",
                             reason="simulated limb whose AOP is known exactly (no person)")
    s = LiveSession(SerialCuff(sys.argv[1]), lim, require_operator=False)
    s.start()
    s.request_setpoint(float(sys.argv[2]))
    print("STARTED", flush=True)
    time.sleep(120)
    """
)


def test_sigkilled_kernel_on_the_pty_ends_vented_by_the_emulator_watchdog():
    emu = spawn_emulator(seed=21)
    kernel = subprocess.Popen(
        [sys.executable, "-c", KERNEL, emu.port, "120"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert kernel.stdout.readline().strip() == "STARTED"
        assert wait_until(lambda: emu.read()["pressure_mmhg"] > 90, 15.0), emu.read()
        assert emu.read()["state"] == FirmwareState.ARMED
        t_kill = time.monotonic()
        os.kill(kernel.pid, signal.SIGKILL)
        kernel.wait(5)
        assert wait_until(lambda: emu.read()["pressure_mmhg"] < 20, 3.0), emu.read()
        elapsed = time.monotonic() - t_kill
        truth = emu.read()
        assert truth["state"] == FirmwareState.VENTED_WATCHDOG
        # the firmware vented 250 ms after the last heartbeat it saw (emulator clock)
        assert truth["last_vent_t_s"] - truth["last_heartbeat_t_s"] == pytest.approx(
            WATCHDOG_S, abs=0.005
        )
        assert elapsed <= WATCHDOG_S + VENT_S + SLACK_S, elapsed
    finally:
        if kernel.poll() is None:
            kernel.kill()
        emu.close()


@pytest.mark.parametrize("transport", ["sim", "pty", "process"])
def test_every_transport_regulates_to_setpoint_and_stop_vents_and_cleans_up(transport):
    s = open_live_session(
        simulated_limb_limits(), transport=transport, seed=6, require_operator=False
    )
    if transport == "process":
        emu = s.emulator

        def true_mmhg() -> float:
            return emu.read()["pressure_mmhg"]
    else:
        emu = getattr(s.cuff, "emulator", None)

        def true_mmhg() -> float:
            return s.cuff.true_pressure_mmhg

    try:
        s.start()
        sp = s.request_setpoint(100)
        reached = wait_until(lambda: abs(true_mmhg() - sp) < 6, 12.0)
        if transport != "process":
            xfail_if_thread_loop_stalled(s, true_mmhg)
        assert reached, s.latched if transport == "process" else s.supervisor.latched
        snap = s.snapshot()
        assert snap.loop_running and not snap.vented and abs(snap.pressure_mmhg - sp) < 15
        if emu is not None:
            pid = int(emu.read()["pid"])
        s.vent("test")
        assert wait_until(lambda: true_mmhg() < 20, VENT_S + SLACK_S)
        t_stop = time.monotonic()
        s.stop()
        assert time.monotonic() - t_stop < 10.0
    finally:
        s.stop()
    if emu is not None:  # the emulator process is gone with the session
        assert not emu.alive and emu.proc.returncode == 0
        assert pid == emu.proc.pid
    with pytest.raises(ValueError):
        open_live_session(simulated_limb_limits(), transport="usb")


def test_emulator_command_line_serves_a_given_tty(pty_pair):
    """``python -m workbench.bfr.simulation.emulator --port /dev/pts/N``: the emulator on the
    slave side, this test as the host on the master side (reference framing)."""
    master, port = pty_pair
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench.bfr.simulation.emulator", "--port", port],
        stdin=subprocess.DEVNULL,
    )
    try:
        frames = read_frames(master, 3, timeout_s=30.0)  # start-up: imports
        types = {t for t, _ in frames}
        assert 0x81 in types or 0x82 in types, frames
        os.write(master, ref_frame(0x04, 0, struct.pack("<H", 1500)))  # ARM 150 mmHg
        t_armed = time.monotonic()
        seen: list[tuple[int, int, int]] = []
        while time.monotonic() - t_armed < 0.2:  # heartbeats for 0.2 s, then silence
            os.write(master, ref_frame(0x01, 1, struct.pack("<H", 1)))
            for t, payload in read_frames(master, 1, timeout_s=0.02):
                if t == 0x82:
                    seen.append(struct.unpack("<BBH", payload))
            time.sleep(0.01)
        assert (1, 0, 1500) in seen  # ARMED, pump off, dump closed, max SP 150.0
        t_silent = time.monotonic()
        vented = None
        while vented is None and time.monotonic() - t_silent < 2.0:
            for t, payload in read_frames(master, 1, timeout_s=0.02):
                if t == 0x82 and struct.unpack("<BBH", payload)[0] == 3:
                    vented = time.monotonic()
        assert vented is not None, "no VENTED_WATCHDOG status after the heartbeats stopped"
        assert WATCHDOG_S - 0.03 <= vented - t_silent <= WATCHDOG_S + SLACK_S
    finally:
        proc.kill()
        proc.wait(5)
