"""BLE drivers on bleak: heart-rate straps, Polar H10 ECG, Moxy SmO₂, Myo EMG.

Each driver is a :class:`~workbench.drivers.base.Source`. Its notification callback only
timestamps (host ``time.monotonic()``) and enqueues the raw bytes; parsing happens in
:meth:`BleDriver.read` with the pure parsers of :mod:`workbench.drivers.parsers`. An
unsolicited disconnect starts a reconnect loop with exponential back-off; notifications that
arrived before it stay queued, so none is lost. Every failure surfaces as a
:class:`~workbench.errors.DeviceError` with a machine-readable ``reason``:
``bluetooth_unavailable`` (no adapter / BlueZ / D-Bus), ``not_found``, ``timeout``,
``ble_error``, ``not_started``.

Run drivers on the :class:`~workbench.drivers.hub.DeviceHub` loop. ``backend=`` takes a
bleak client backend class (the tests use ``tests/fake_ble.py``, which replays captured bytes).
"""

from __future__ import annotations

import abc
import asyncio
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from workbench.drivers import parsers as p
from workbench.drivers.base import SampleBlock, StreamInfo
from workbench.errors import DeviceError, ProtocolError
from workbench.log import get_logger

log = get_logger(__name__)

__all__ = [
    "BleDriver",
    "FoundDevice",
    "HeartRateDriver",
    "MoxyDriver",
    "MyoDriver",
    "PolarH10Driver",
    "map_ble_error",
    "scan",
]

_NO_BLUETOOTH = (
    "Bluetooth is unavailable on this machine (no adapter, or BlueZ/D-Bus not running). "
    "Start bluetoothd / plug in an adapter, or use a simulator or replay source instead."
)


def map_ble_error(exc: BaseException, *, address: str | None, action: str) -> DeviceError:
    """Translate bleak/OS exceptions into the workbench error tree."""
    if isinstance(exc, DeviceError):
        return exc
    if isinstance(exc, FileNotFoundError):  # bleak without BlueZ/D-Bus
        return DeviceError(
            f"{action}: {_NO_BLUETOOTH} ({exc})", reason="bluetooth_unavailable", address=address
        )
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return DeviceError(
            f"{action} {address or ''}: timed out; is the device on, in range and not "
            "connected to another app?",
            reason="timeout",
            address=address,
        )
    from bleak.exc import BleakDeviceNotFoundError, BleakError

    if isinstance(exc, BleakDeviceNotFoundError):
        return DeviceError(
            f"{action}: device {address} not found; wake it (wet the strap, press its button) "
            "and scan again",
            reason="not_found",
            address=address,
        )
    if isinstance(exc, BleakError):
        text = str(exc)
        if "org.bluez" in text or "No Bluetooth adapters" in text or "dbus" in text.lower():
            return DeviceError(
                f"{action}: {_NO_BLUETOOTH} ({text})",
                reason="bluetooth_unavailable",
                address=address,
            )
        return DeviceError(f"{action} {address or ''}: {text}", reason="ble_error", address=address)
    if isinstance(exc, OSError):
        return DeviceError(f"{action} {address or ''}: {exc}", reason="ble_error", address=address)
    raise exc


@dataclass(frozen=True)
class FoundDevice:
    """A device seen while scanning."""

    address: str
    name: str | None
    rssi: int
    service_uuids: tuple[str, ...]


async def scan(
    *,
    service_uuids: list[str] | None = None,
    timeout_s: float = 5.0,
    backend: type | None = None,
) -> list[FoundDevice]:
    """Scan for ``timeout_s`` seconds for devices advertising one of ``service_uuids``.

    ``backend`` is a bleak scanner backend class (tests pass a fake one).
    """
    from bleak import BleakScanner

    kwargs: dict[str, Any] = {"service_uuids": service_uuids}
    if backend is not None:
        kwargs["backend"] = backend
    try:
        found = await BleakScanner.discover(timeout=timeout_s, return_adv=True, **kwargs)
    except Exception as exc:
        raise map_ble_error(exc, address=None, action="BLE scan") from exc
    return sorted(
        (
            FoundDevice(d.address, d.name, adv.rssi, tuple(adv.service_uuids))
            for d, adv in found.values()
        ),
        key=lambda f: -f.rssi,
    )


class BleDriver(abc.ABC):
    """Base class of the bleak drivers (connect, subscribe, reconnect, read, stop).

    Parameters
    ----------
    address:
        BLE address (or platform identifier) of the device.
    backend:
        Optional bleak client backend class.
    reconnect:
        Reconnect after an unsolicited disconnect, waiting ``backoff_initial_s`` doubled up to
        ``backoff_max_s`` between attempts.
    """

    service_uuid: ClassVar[str] = ""
    device_kind: ClassVar[str] = "ble"

    def __init__(
        self,
        address: str,
        *,
        backend: type | None = None,
        connect_timeout_s: float = 20.0,
        reconnect: bool = True,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 10.0,
        clock: Any = None,
    ) -> None:
        self.address = address
        self._backend = backend
        self._connect_timeout_s = connect_timeout_s
        self._reconnect_enabled = reconnect
        self._backoff = (backoff_initial_s, backoff_max_s)
        self._clock = clock or time.monotonic
        self._client: Any = None
        self._queue: asyncio.Queue | None = None
        self._pending: deque[SampleBlock] = deque()
        self._reconnect_task: asyncio.Task | None = None
        self._running = False
        self._stopping = False
        self.connected = False
        self.disconnects = 0
        self.reconnects = 0
        self.protocol_errors = 0
        self.n_notifications = 0

    # --------------------------------------------------------------- metadata
    @property
    def device(self) -> str:
        return f"{self.device_kind}:{self.address}"

    @property
    @abc.abstractmethod
    def streams(self) -> tuple[StreamInfo, ...]:
        """Implemented by each concrete class."""

    # ------------------------------------------------------------- subclassing
    @abc.abstractmethod
    async def _setup(self, client: Any) -> None:
        """Subscribe / send start commands on a freshly connected client."""

    async def _teardown(self, client: Any) -> None:  # noqa: B027 - optional hook
        """Send stop commands before a clean disconnect (best effort)."""

    @abc.abstractmethod
    def _decode(self, t_s: float, char_uuid: str, data: bytes) -> list[SampleBlock]:
        """Raw notification -> blocks (may raise ProtocolError)."""

    # -------------------------------------------------------------- callbacks
    def _on_notify(self, characteristic: Any, data: bytearray) -> None:
        """Only timestamp and enqueue (runs on the loop, must stay trivial)."""
        self._queue.put_nowait((self._clock(), characteristic.uuid, bytes(data)))  # type: ignore[union-attr]

    def _on_disconnect(self, _client: Any) -> None:
        self.connected = False
        if self._stopping or not self._running:
            return
        self.disconnects += 1
        log.warning("%s disconnected unexpectedly", self.device)
        if self._reconnect_enabled and (
            self._reconnect_task is None or self._reconnect_task.done()
        ):
            self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect())

    # ------------------------------------------------------------- lifecycle
    async def _connect(self) -> None:
        from bleak import BleakClient

        kwargs: dict[str, Any] = {"timeout": self._connect_timeout_s}
        if self._backend is not None:
            kwargs["backend"] = self._backend
        try:
            client = BleakClient(self.address, self._on_disconnect, **kwargs)
            await client.connect()
            self._client = client
            await self._setup(client)
        except Exception as exc:
            raise map_ble_error(exc, address=self.address, action="BLE connect") from exc
        self.connected = True

    async def _reconnect(self) -> None:
        delay, cap = self._backoff
        while self._running and not self._stopping:
            await asyncio.sleep(delay)
            try:
                await self._connect()
            except DeviceError as exc:
                log.info("%s reconnect failed (%s); next try in %.1f s", self.device, exc, delay)
                delay = min(delay * 2, cap)
                continue
            self.reconnects += 1
            log.info("%s reconnected", self.device)
            return

    async def start(self) -> None:
        """Connect and subscribe (idempotent)."""
        if self._running:
            return
        if self._queue is None:
            self._queue = asyncio.Queue()
        self._stopping = False
        await self._connect()
        self._running = True

    async def stop(self) -> None:
        """Stop notifications and disconnect cleanly (idempotent)."""
        if not self._running:
            return
        self._stopping = True
        if self._reconnect_task is not None:
            self._reconnect_task.cancel()
            try:
                await self._reconnect_task
            except asyncio.CancelledError:
                pass  # the cancellation asked for just above
            except Exception as exc:
                log.warning("%s: reconnect task ended with %r while stopping", self.device, exc)
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            try:
                await self._teardown(client)
            except Exception as exc:
                log.info("%s: stop command failed: %s", self.device, exc)
            try:
                await client.disconnect()
            except Exception as exc:
                log.info("%s: disconnect failed: %s", self.device, exc)
        self.connected = False
        self._running = False

    async def read(self, timeout_s: float = 1.0) -> SampleBlock | None:
        """The next block (decoded from queued notifications), or None after ``timeout_s``.

        Notifications that arrived before a disconnect or ``stop()`` are still returned.
        Malformed notifications are logged and counted in ``protocol_errors``.
        """
        if self._queue is None:
            raise DeviceError(
                f"{self.device}: read() before start()", reason="not_started", address=self.address
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout_s)
        while True:
            if self._pending:
                return self._pending.popleft()
            try:
                item = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                remaining = deadline - loop.time()
                if remaining <= 0 or (not self._running and self._queue.empty()):
                    return None
                try:
                    item = await asyncio.wait_for(self._queue.get(), remaining)
                except (asyncio.TimeoutError, TimeoutError):
                    return None
            self.n_notifications += 1
            try:
                self._pending.extend(self._decode(*item))
            except ProtocolError as exc:
                self.protocol_errors += 1
                log.warning("%s: dropped malformed notification: %s", self.device, exc)

    async def battery_pct(self) -> int:
        """Read the Battery Level characteristic (percent)."""
        if self._client is None or not self._client.is_connected:
            raise DeviceError(f"{self.device} is not connected", reason="disconnected")
        try:
            data = await self._client.read_gatt_char(p.BATTERY_LEVEL_UUID)
        except Exception as exc:
            raise map_ble_error(exc, address=self.address, action="battery read") from exc
        return p.parse_battery_level(bytes(data))


class HeartRateDriver(BleDriver):
    """Any Bluetooth heart-rate strap (service 0x180D): streams ``hr`` (bpm) and ``rr`` (ms).

    Host time of every value is the notification's receive time; RR device time is the
    cumulative RR sum since start (the strap's beat clock); HR device time is NaN.
    """

    service_uuid = p.HEART_RATE_SERVICE_UUID
    device_kind = "hr"

    def __init__(self, address: str, **kwargs: Any) -> None:
        super().__init__(address, **kwargs)
        self._beat_clock_s = 0.0
        self.last_contact: str | None = None

    @property
    def streams(self) -> tuple[StreamInfo, ...]:
        return (
            StreamInfo("hr", "hr", self.device, ("hr_bpm",), ("bpm",), None),
            StreamInfo("rr", "rr", self.device, ("rr_ms",), ("ms",), None),
        )

    async def _setup(self, client: Any) -> None:
        await client.start_notify(p.HEART_RATE_MEASUREMENT_UUID, self._on_notify)

    def _decode(self, t_s: float, char_uuid: str, data: bytes) -> list[SampleBlock]:
        m = p.parse_heart_rate_measurement(data)
        self.last_contact = m.contact
        out = [SampleBlock("hr", [t_s], [np.nan], [float(m.hr_bpm)], meta={"contact": m.contact})]
        if m.rr_ms:
            rr = np.asarray(m.rr_ms)
            dev = self._beat_clock_s + np.cumsum(rr) / 1000.0
            self._beat_clock_s = float(dev[-1])
            out.append(SampleBlock("rr", np.full(rr.size, t_s), dev, rr))
        return out


class PolarH10Driver(HeartRateDriver):
    """Polar H10: heart rate/RR plus ECG at 130 Hz in µV via the PMD service (stream ``ecg``).

    ECG device time is the frame timestamp (s since 2000-01-01, sensor clock) spread back
    over the frame's samples at 130 Hz; host time is the notification receive time.
    """

    device_kind = "polar_h10"
    ecg_rate_hz: ClassVar[float] = 130.0

    def __init__(self, address: str, **kwargs: Any) -> None:
        super().__init__(address, **kwargs)
        self.last_pmd_response: p.PmdControlResponse | None = None

    @property
    def streams(self) -> tuple[StreamInfo, ...]:
        return (
            *super().streams,
            StreamInfo("ecg", "ecg", self.device, ("ecg",), ("uV",), self.ecg_rate_hz),
        )

    async def _setup(self, client: Any) -> None:
        await super()._setup(client)
        await client.start_notify(p.PMD_CONTROL_UUID, self._on_notify)
        await client.start_notify(p.PMD_DATA_UUID, self._on_notify)
        await client.write_gatt_char(p.PMD_CONTROL_UUID, p.PMD_START_ECG_130HZ, response=True)

    async def _teardown(self, client: Any) -> None:  # noqa: B027 - optional hook
        await client.write_gatt_char(p.PMD_CONTROL_UUID, p.PMD_STOP_ECG, response=True)

    def _decode(self, t_s: float, char_uuid: str, data: bytes) -> list[SampleBlock]:
        if char_uuid == p.PMD_DATA_UUID:
            f = p.parse_pmd_frame(data)
            if f.measurement != "ecg":
                raise ProtocolError(f"unexpected PMD {f.measurement} frame", data=data)
            n = f.samples.shape[0]
            dev = f.timestamp_ns / 1e9 - np.arange(n - 1, -1, -1) / self.ecg_rate_hz
            return [SampleBlock("ecg", np.full(n, t_s), dev, f.samples)]
        if char_uuid == p.PMD_CONTROL_UUID:
            r = p.parse_pmd_control_response(data)
            self.last_pmd_response = r
            if not r.ok:
                log.warning("%s: PMD %s %s refused: %s", self.device, r.op, r.measurement, r.status)
            return []
        return super()._decode(t_s, char_uuid, data)


class MoxyDriver(BleDriver):
    """Moxy muscle oxygen monitor: stream ``smo2`` (``smo2_pct`` %, ``thb_g_dl`` g/dL), ~2 Hz."""

    service_uuid = p.MOXY_SERVICE_UUID
    device_kind = "moxy"

    @property
    def streams(self) -> tuple[StreamInfo, ...]:
        return (
            StreamInfo("smo2", "smo2", self.device, ("smo2_pct", "thb_g_dl"), ("%", "g/dL"), 2.0),
        )

    async def _setup(self, client: Any) -> None:
        await client.start_notify(p.MOXY_SMO2_UUID, self._on_notify)

    def _decode(self, t_s: float, char_uuid: str, data: bytes) -> list[SampleBlock]:
        m = p.parse_moxy_smo2(data)
        return [
            SampleBlock(
                "smo2", [t_s], [np.nan], [[m.smo2_pct, m.thb_g_dl]], meta={"count": m.count}
            )
        ]


class MyoDriver(BleDriver):
    """Myo armband raw EMG: stream ``emg``, 8 channels of int8 counts at 200 Hz."""

    service_uuid = p.MYO_SERVICE_UUID
    device_kind = "myo"

    @property
    def streams(self) -> tuple[StreamInfo, ...]:
        chans = tuple(f"emg{i + 1}" for i in range(8))
        return (StreamInfo("emg", "emg", self.device, chans, ("counts",) * 8, 200.0),)

    async def _setup(self, client: Any) -> None:
        for uuid in p.MYO_EMG_UUIDS:
            await client.start_notify(uuid, self._on_notify)
        await client.write_gatt_char(p.MYO_COMMAND_UUID, p.MYO_ENABLE_RAW_EMG, response=True)

    def _decode(self, t_s: float, char_uuid: str, data: bytes) -> list[SampleBlock]:
        emg = p.parse_myo_emg(data)
        return [SampleBlock("emg", np.full(2, t_s), np.full(2, np.nan), emg)]
