"""SerialCuff over BleUartPort (Nordic UART Service) against the real cuff emulator process.

A fake NUS peripheral (``fake_ble``) bridges the BLE link to the emulator's pty: what the host
writes to RX goes to the emulator, what the emulator writes comes back as TX notifications
cut at 20 bytes (so frames are split across notifications). References are the emulator's
true state (its truth file) and this process's clock, not the code under test.
"""

from __future__ import annotations

import functools
import os
import select
import threading
import time

import pytest
import serial

from bfr_helpers import wait_until
from fake_ble import FakePeripheral, make_fake_backend
from workbench.bfr import ble_uart
from workbench.bfr.ble_uart import NUS_RX_UUID, NUS_SERVICE_UUID, NUS_TX_UUID, BleUartPort
from workbench.bfr.loop_process import _error, _open_cuff
from workbench.bfr.protocol import FirmwareState, encode_pressure
from workbench.bfr.simulation.emulator import spawn_emulator
from workbench.errors import DeviceError, SafetyError, SafetyReason

ADDRESS = "C0:FF:EE:00:00:01"
#: Notification size of the bridge: the payload of the minimum ATT MTU (23).
NOTIFY_BYTES = 20
#: Firmware watchdog 250 ms + vent to < 20 mmHg 0.5 s (req 8) + slack on a loaded 2-core VM.
WATCHDOG_VENT_S = 0.25 + 0.5 + 0.35


def nus_peripheral(**kw) -> FakePeripheral:
    return FakePeripheral(
        ADDRESS, "BFR cuff (NUS)", services={NUS_SERVICE_UUID: [NUS_RX_UUID, NUS_TX_UUID]}, **kw
    )


class NusBridge:
    """A fake NUS peripheral in front of the emulator's pty (its UART)."""

    def __init__(self, port: str) -> None:
        self.fd = os.open(port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        self.per = nus_peripheral(on_write={NUS_RX_UUID: self._to_cuff}, mtu=23)
        self.backend, _ = make_fake_backend([self.per])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._from_cuff, name="nus-bridge", daemon=True)
        self._thread.start()

    def _to_cuff(self, data: bytes) -> None:
        os.write(self.fd, data)

    def _from_cuff(self) -> None:
        pending = b""
        while not self._stop.is_set():
            readable, _, _ = select.select([self.fd], [], [], 0.01)
            if readable:
                pending += os.read(self.fd, 4096)
            # full 20-byte notifications; the rest once the line is idle
            while len(pending) >= NOTIFY_BYTES or (pending and not readable):
                chunk, pending = pending[:NOTIFY_BYTES], pending[NOTIFY_BYTES:]
                self.per.notify(NUS_TX_UUID, chunk)

    def stop_notifying(self) -> None:
        self._stop.set()
        self._thread.join(2.0)
        assert not self._thread.is_alive()

    def close(self) -> None:
        self.stop_notifying()
        os.close(self.fd)


@pytest.fixture(autouse=True)
def no_leftover_threads():
    yield
    left = [t.name for t in threading.enumerate() if t.name.startswith(("ble-uart", "nus-"))]
    assert not left, left


@pytest.fixture
def rig():
    """(emulator, bridge, cuffs to close): cuffs close first, then the bridge, the emulator."""
    emu = spawn_emulator(seed=7)
    bridge = NusBridge(emu.port)
    cuffs: list = []
    yield emu, bridge, cuffs
    try:
        bridge.stop_notifying()
        for cuff in cuffs:
            cuff.close()
    finally:
        bridge.close()
        emu.close()


def open_cuff(bridge: NusBridge, cuffs: list):
    cuff = ble_uart.open_ble_cuff(ADDRESS, backend=bridge.backend, connect_timeout_s=5.0)
    cuffs.append(cuff)
    return cuff


def inflate(cuff, duration_s: float, setpoint_mmhg: float = 150.0) -> list:
    """Open-loop inflation with a heartbeat every 10 ms (as the loop would); the readings."""
    readings = []
    end = time.monotonic() + duration_s
    while time.monotonic() < end:
        cuff.heartbeat()
        cuff.set_target(setpoint_mmhg, pump_duty=0.6, bleed_duty=0.0)
        readings.append(cuff.read_pressure())
        time.sleep(0.01)
    return readings


@pytest.mark.slow
def test_cuff_over_nus_arms_and_reads_the_emulators_rising_pressure(rig):
    emu, bridge, cuffs = rig
    cuff = open_cuff(bridge, cuffs)
    assert cuff.port.chunk_bytes == 20
    assert cuff.status().state is FirmwareState.IDLE
    cuff.arm(200.0)
    readings = inflate(cuff, 1.5)
    assert emu.read()["state"] == FirmwareState.ARMED
    assert emu.read()["pressure_mmhg"] > 100
    assert cuff.status().state is FirmwareState.ARMED  # STATUS came back over TX
    new = {r.seq: r.pressure_mmhg for r in readings if r is not None}
    assert len(new) > 50, len(new)  # a stream of new samples, not one stale value
    pressures = list(new.values())
    assert pressures[-1] > pressures[0] + 80
    assert pressures[-1] == pytest.approx(emu.read()["pressure_mmhg"], abs=15)
    # the stream really was cut mid-frame and reassembled
    assert any(payload[0] != 0xA5 for _, payload in bridge.per.emitted)


@pytest.mark.slow
@pytest.mark.parametrize("failure", ["link_lost", "heartbeats_stop"])
def test_firmware_watchdog_vents_when_heartbeats_stop_arriving(rig, failure):
    emu, bridge, cuffs = rig
    cuff = open_cuff(bridge, cuffs)
    cuff.arm(200.0)
    inflate(cuff, 1.5)
    assert emu.read()["pressure_mmhg"] > 100
    t_stop = time.monotonic()
    if failure == "link_lost":
        bridge.per.force_disconnect()
        with pytest.raises(serial.SerialException):  # the loop would trip and vent
            cuff.heartbeat()
    vented = wait_until(
        lambda: (
            emu.read()["state"] == FirmwareState.VENTED_WATCHDOG
            and emu.read()["pressure_mmhg"] < 20
        ),
        WATCHDOG_VENT_S,
    )
    assert vented, (time.monotonic() - t_stop, emu.read())
    if failure == "link_lost":  # reads drain what came before the loss, then run dry
        last = cuff.read_pressure()
        time.sleep(0.1)
        assert cuff.read_pressure() == last and cuff.port.in_waiting == 0
        with pytest.raises(serial.SerialException):  # its VENT cannot go out either
            cuff.close()  # the port closes all the same (no thread left: see the fixture)
    else:  # the link is up: the host sees the watchdog vent on the wire
        assert wait_until(lambda: cuff.status().state is FirmwareState.VENTED_WATCHDOG, 2.0)


def test_write_after_disconnect_raises_and_reads_drain_then_run_dry():
    per = nus_peripheral()
    backend, _ = make_fake_backend([per])
    port = BleUartPort(ADDRESS, backend=backend)
    try:
        assert port.write(b"\xa5abc") == 4
        per.notify(NUS_TX_UUID, b"0123456789")
        assert wait_until(lambda: port.in_waiting == 10, 1.0)
        per.force_disconnect()
        assert not port.connected
        with pytest.raises(serial.SerialException, match=ADDRESS):
            port.write(b"\xa5")
        assert port.read(4) == b"0123"
        assert port.read(100) == b"456789"
        assert port.read(100) == b""
    finally:
        port.close()
    port.close()  # idempotent
    with pytest.raises(serial.PortNotOpenError):
        port.write(b"\xa5")


@pytest.mark.slow
def test_garbage_and_partial_notifications_are_counted_not_raised(rig):
    emu, bridge, cuffs = rig
    cuff = open_cuff(bridge, cuffs)
    errors_before = cuff.crc_errors  # opening may cut a frame
    frame = encode_pressure(1, 1.0, 1, 123.4)
    bad_crc = frame[:-1] + bytes([frame[-1] ^ 0xFF])
    for junk in (frame[:7], bad_crc, b"\xa5", b"\xa5\x81\x00\xff\x00", bytes(range(256))[::7]):
        bridge.per.notify(NUS_TX_UUID, junk)
    emu.corrupt(0.2)  # the emulator flips payload bytes and adds line noise
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        cuff.read_pressure()
        cuff.status()
        time.sleep(0.01)
    assert cuff.crc_errors >= errors_before + 5
    before = cuff.read_pressure().seq
    assert wait_until(lambda: cuff.read_pressure().seq != before, 1.0)  # the stream resumed


def test_receive_buffer_stays_bounded_under_a_flood_and_keeps_the_newest_bytes():
    per = nus_peripheral()
    backend, _ = make_fake_backend([per])
    port = BleUartPort(ADDRESS, backend=backend, max_buffer_bytes=1000)
    stream = bytes(i % 251 for i in range(200 * 244))
    peak = 0
    try:
        for i in range(0, len(stream), 244):  # delivered on the port's event loop meanwhile
            per.notify(NUS_TX_UUID, stream[i : i + 244])
            peak = max(peak, port.in_waiting)
        end = time.monotonic() + 5.0
        while port.in_waiting + port.dropped_bytes < len(stream) and time.monotonic() < end:
            peak = max(peak, port.in_waiting)
        assert peak <= 1000
        assert port.in_waiting == 1000
        assert port.dropped_bytes == len(stream) - 1000
        assert port.read(5000) == stream[-1000:]
    finally:
        port.close()


@pytest.mark.parametrize(("mtu", "chunk"), [(23, 20), (100, 97), (0, 20)])
def test_writes_are_cut_at_the_negotiated_mtu(mtu, chunk):
    per = nus_peripheral(mtu=mtu)
    backend, _ = make_fake_backend([per])
    port = BleUartPort(ADDRESS, backend=backend)
    data = bytes(range(250))
    try:
        assert port.write(data) == 250
    finally:
        port.close()
    sizes = [len(d) for uuid, d in per.writes if uuid == NUS_RX_UUID]
    assert sizes == [chunk] * (250 // chunk) + ([250 % chunk] if 250 % chunk else [])
    assert b"".join(d for _, d in per.writes) == data


def test_a_blocked_write_raises_after_the_write_timeout():
    per = nus_peripheral(on_write={NUS_RX_UUID: lambda _d: time.sleep(0.4)})
    backend, _ = make_fake_backend([per])
    port = BleUartPort(ADDRESS, backend=backend, write_timeout_s=0.1)
    try:
        t0 = time.monotonic()
        with pytest.raises(serial.SerialTimeoutException):
            port.write(b"\xa5\x01")
        assert time.monotonic() - t0 < 0.35
    finally:
        port.close()


@pytest.mark.parametrize(
    ("peripheral", "address", "reason", "text"),
    [
        (nus_peripheral(), "C0:FF:EE:00:00:99", "not_found", "not found"),
        (nus_peripheral(refuse_connects=1), ADDRESS, "ble_error", "refused"),
        (
            FakePeripheral(ADDRESS, "HR strap", services={"180d": ["2a37"]}),
            ADDRESS,
            "ble_error",
            "Nordic UART",
        ),
    ],
    ids=["unknown-address", "refused", "no-nus"],
)
def test_connection_failure_names_the_address(peripheral, address, reason, text):
    backend, _ = make_fake_backend([peripheral])
    with pytest.raises(DeviceError, match=text) as info:
        BleUartPort(address, backend=backend, connect_timeout_s=1.0)
    assert address in str(info.value) and info.value.reason == reason


@pytest.mark.slow
def test_loop_process_opens_a_ble_port_string_as_a_cuff_on_nus(rig, monkeypatch):
    emu, bridge, cuffs = rig
    monkeypatch.setattr(
        ble_uart, "open_ble_cuff", functools.partial(ble_uart.open_ble_cuff, backend=bridge.backend)
    )
    cuff = _open_cuff(f"ble:{ADDRESS}", "left-thigh")
    cuffs.append(cuff)
    assert isinstance(cuff.port, BleUartPort) and cuff.port.address == ADDRESS
    assert cuff.cuff_id == "left-thigh"
    assert cuff.status().state is FirmwareState.IDLE and cuff.read_pressure() is not None


def test_a_ble_connect_error_in_the_loop_process_reaches_the_kernel_as_an_error_reply():
    """A DeviceError's ``reason`` is text, not a SafetyReason: it must still be answered."""
    exc = DeviceError(f"BLE UART connect {ADDRESS}: timed out", reason="timeout", address=ADDRESS)
    assert _error(exc) == ("error", ("DeviceError", str(exc), None))
    safety = SafetyError("no", reason=SafetyReason.SETPOINT_REJECTED)
    assert _error(safety)[1][2] == "setpoint_rejected"
