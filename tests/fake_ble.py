"""A fake bleak backend: the real bleak facade and drivers, no radio.

:func:`make_fake_backend` returns ``(client_class, scanner_class)`` subclassing bleak's
``BaseBleakClient`` / ``BaseBleakScanner``; pass them as ``backend=`` to the drivers of
:mod:`workbench.drivers.ble` (or to ``BleakClient``/``BleakScanner``). Each
:class:`FakePeripheral` serves a GATT table, answers reads, replies to control-point writes and
emits recorded notification bytes (cycling) every ``interval_s`` while subscribed. Tests can
:meth:`~FakePeripheral.force_disconnect` it mid-stream and make the next connects fail
(``refuse_connects``) to exercise the reconnect back-off. ``emitted`` records every
notification that was delivered, in order. For stream-like peripherals (a UART bridge),
``on_write`` hooks see every written value and :meth:`~FakePeripheral.notify` pushes a
notification from any thread; ``mtu`` is the ATT MTU the client reports.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError

from workbench.drivers import parsers as p

__all__ = [
    "FakePeripheral",
    "captured_payloads",
    "heart_rate_peripheral",
    "make_fake_backend",
    "moxy_peripheral",
    "myo_peripheral",
    "polar_h10_peripheral",
]


@dataclass
class FakePeripheral:
    """A simulated BLE peripheral.

    ``services`` maps service UUID -> characteristic UUIDs; ``reads`` characteristic ->
    value; ``notifications`` characteristic -> recorded payloads emitted in a cycle;
    ``responses`` maps ``(characteristic, written bytes)`` -> ``[(characteristic, payload)]``
    sent back as notifications/indications; ``on_write`` maps characteristic -> a function
    called with every value written to it (on the client's event loop).
    """

    address: str
    name: str
    services: dict[str, list[str]]
    notifications: dict[str, Sequence[bytes]] = field(default_factory=dict)
    reads: dict[str, bytes] = field(default_factory=dict)
    responses: dict[tuple[str, bytes], list[tuple[str, bytes]]] = field(default_factory=dict)
    on_write: dict[str, Callable[[bytes], None]] = field(default_factory=dict)
    mtu: int = 247
    interval_s: float = 0.02
    refuse_connects: int = 0
    rssi: int = -60
    emitted: list[tuple[str, bytes]] = field(default_factory=list)
    writes: list[tuple[str, bytes]] = field(default_factory=list)
    connects: int = 0
    _cursor: dict[str, int] = field(default_factory=dict)
    _clients: list[Any] = field(default_factory=list)

    def next_payload(self, uuid: str) -> bytes:
        seq = self.notifications[uuid]
        i = self._cursor.get(uuid, 0)
        self._cursor[uuid] = i + 1
        return bytes(seq[i % len(seq)])

    def force_disconnect(self) -> None:
        """Drop every connection as a radio loss would (the client sees a disconnect)."""
        for client in list(self._clients):
            client._drop()

    def notify(self, uuid: str, payload: bytes) -> None:
        """Notify ``payload`` on ``uuid`` to every subscribed client (from any thread)."""
        for client in list(self._clients):
            client._push(uuid, bytes(payload))

    @property
    def is_connected(self) -> bool:
        return any(c.is_connected for c in self._clients)


def make_fake_backend(
    peripherals: Sequence[FakePeripheral],
) -> tuple[type[BaseBleakClient], type[BaseBleakScanner]]:
    """Client and scanner backend classes serving ``peripherals`` (keyed by address)."""
    registry = {per.address.upper(): per for per in peripherals}

    class FakeBleakClient(BaseBleakClient):
        def __init__(self, address_or_ble_device: Any, **kwargs: Any) -> None:
            super().__init__(
                address_or_ble_device,
                disconnected_callback=kwargs.get("disconnected_callback"),
                timeout=kwargs.get("timeout", 10.0),
            )
            self._per = registry.get(str(self.address).upper())
            self._connected = False
            self._tasks: dict[str, asyncio.Task] = {}
            self._callbacks: dict[str, Callable[[bytearray], None]] = {}
            self._loop: asyncio.AbstractEventLoop | None = None

        @property
        def name(self) -> str:
            return self._per.name if self._per else ""

        @property
        def mtu_size(self) -> int:
            return self._per.mtu if self._per else 247

        async def connect(self, pair: bool, **kwargs: Any) -> None:
            per = self._per
            if per is None:
                raise BleakDeviceNotFoundError(self.address, f"Device {self.address} not found")
            await asyncio.sleep(0)
            if per.refuse_connects > 0:
                per.refuse_connects -= 1
                raise BleakError(f"fake: connection to {self.address} refused")
            coll = BleakGATTServiceCollection()
            handle = 1
            for s_uuid, chars in per.services.items():
                svc = BleakGATTService(None, handle, s_uuid)
                coll.add_service(svc)
                handle += 1
                for c_uuid in chars:
                    char = BleakGATTCharacteristic(
                        None, handle, c_uuid, ["read", "write", "notify"], lambda: 244, svc
                    )
                    coll.add_characteristic(char)
                    handle += 1
            self.services = coll
            self._connected = True
            per.connects += 1
            per._clients.append(self)

        def _stop_tasks(self) -> None:
            for task in self._tasks.values():
                task.cancel()
            self._tasks.clear()
            self._callbacks.clear()
            if self._per is not None and self in self._per._clients:
                self._per._clients.remove(self)

        async def disconnect(self) -> None:
            self._connected = False
            self._stop_tasks()

        def _drop(self) -> None:
            was = self._connected
            self._connected = False
            self._stop_tasks()
            if was and self._disconnected_callback is not None:
                self._disconnected_callback()

        async def pair(self, *args: Any, **kwargs: Any) -> None:
            return None

        async def unpair(self) -> None:
            return None

        @property
        def is_connected(self) -> bool:
            return self._connected

        def _need(self) -> FakePeripheral:
            if not self._connected or self._per is None:
                raise BleakError("Not connected")
            return self._per

        async def read_gatt_char(self, characteristic: Any, **kwargs: Any) -> bytearray:
            per = self._need()
            try:
                return bytearray(per.reads[characteristic.uuid])
            except KeyError:
                raise BleakError(
                    f"fake: characteristic {characteristic.uuid} not readable"
                ) from None

        async def read_gatt_descriptor(self, descriptor: Any, **kwargs: Any) -> bytearray:
            raise BleakError("fake: descriptors are not served")

        async def write_gatt_char(self, characteristic: Any, data: Any, response: bool) -> None:
            per = self._need()
            payload = bytes(data)
            per.writes.append((characteristic.uuid, payload))
            hook = per.on_write.get(characteristic.uuid)
            if hook is not None:
                hook(payload)
            for uuid, reply in per.responses.get((characteristic.uuid, payload), []):
                cb = self._callbacks.get(uuid)
                if cb is not None:
                    per.emitted.append((uuid, reply))
                    asyncio.get_running_loop().call_soon(cb, bytearray(reply))

        async def write_gatt_descriptor(self, descriptor: Any, data: Any) -> None:
            raise BleakError("fake: descriptors are not served")

        async def start_notify(self, characteristic: Any, callback: Any, **kwargs: Any) -> None:
            per = self._need()
            uuid = characteristic.uuid
            self._callbacks[uuid] = callback
            self._loop = asyncio.get_running_loop()
            if uuid in per.notifications and uuid not in self._tasks:
                self._tasks[uuid] = asyncio.get_running_loop().create_task(
                    self._emit(per, uuid, callback)
                )

        async def _emit(self, per: FakePeripheral, uuid: str, callback: Any) -> None:
            while self._connected:
                await asyncio.sleep(per.interval_s)
                if not self._connected:
                    return
                payload = per.next_payload(uuid)
                per.emitted.append((uuid, payload))
                callback(bytearray(payload))

        def _push(self, uuid: str, payload: bytes) -> None:
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._deliver, uuid, payload)

        def _deliver(self, uuid: str, payload: bytes) -> None:
            cb = self._callbacks.get(uuid)
            if cb is not None and self._connected and self._per is not None:
                self._per.emitted.append((uuid, payload))
                cb(bytearray(payload))

        async def stop_notify(self, characteristic: Any) -> None:
            task = self._tasks.pop(characteristic.uuid, None)
            if task is not None:
                task.cancel()
            self._callbacks.pop(characteristic.uuid, None)

    class FakeBleakScanner(BaseBleakScanner):
        def __init__(
            self,
            detection_callback: Any = None,
            service_uuids: list[str] | None = None,
            scanning_mode: str = "active",
            **kwargs: Any,
        ) -> None:
            super().__init__(detection_callback, service_uuids)

        async def start(self) -> None:
            self.seen_devices = {}
            for per in registry.values():
                adv = AdvertisementData(
                    local_name=per.name,
                    manufacturer_data={},
                    service_data={},
                    service_uuids=list(per.services),
                    tx_power=None,
                    rssi=per.rssi,
                    platform_data=(),
                )
                if self.is_allowed_uuid(adv.service_uuids):
                    dev: BLEDevice = self.create_or_update_device(
                        per.address, per.address, per.name, None, adv
                    )
                    self.call_detection_callbacks(dev, adv)

        async def stop(self) -> None:
            return None

    return FakeBleakClient, FakeBleakScanner


_BATTERY = {p.BATTERY_SERVICE_UUID: [p.BATTERY_LEVEL_UUID]}


def heart_rate_peripheral(
    address: str, hr_payloads: Sequence[bytes], *, name: str = "HR strap", **kw: Any
) -> FakePeripheral:
    """A plain heart-rate strap emitting ``hr_payloads`` on 0x2A37."""
    return FakePeripheral(
        address,
        name,
        services={
            p.HEART_RATE_SERVICE_UUID: [p.HEART_RATE_MEASUREMENT_UUID, p.BODY_SENSOR_LOCATION_UUID],
            **_BATTERY,
        },
        notifications={p.HEART_RATE_MEASUREMENT_UUID: list(hr_payloads)},
        reads={p.BATTERY_LEVEL_UUID: b"\x57", p.BODY_SENSOR_LOCATION_UUID: b"\x01"},
        **kw,
    )


def polar_h10_peripheral(
    address: str,
    hr_payloads: Sequence[bytes],
    ecg_frames: Sequence[bytes],
    *,
    name: str = "Polar H10 FAKE",
    **kw: Any,
) -> FakePeripheral:
    """A Polar H10: heart rate plus PMD ECG frames, answering start/stop on the control point."""
    per = heart_rate_peripheral(address, hr_payloads, name=name, **kw)
    per.services[p.PMD_SERVICE_UUID] = [p.PMD_CONTROL_UUID, p.PMD_DATA_UUID]
    per.notifications[p.PMD_DATA_UUID] = list(ecg_frames)
    per.responses[(p.PMD_CONTROL_UUID, p.PMD_START_ECG_130HZ)] = [
        (p.PMD_CONTROL_UUID, bytes.fromhex("F0 02 00 00 00"))
    ]
    per.responses[(p.PMD_CONTROL_UUID, p.PMD_STOP_ECG)] = [
        (p.PMD_CONTROL_UUID, bytes.fromhex("F0 03 00 00"))
    ]
    return per


def moxy_peripheral(
    address: str, smo2_payloads: Sequence[bytes], *, name: str = "Moxy FAKE", **kw: Any
) -> FakePeripheral:
    """A Moxy emitting ``smo2_payloads`` on 6404D804."""
    return FakePeripheral(
        address,
        name,
        services={p.MOXY_SERVICE_UUID: [p.MOXY_SMO2_UUID], **_BATTERY},
        notifications={p.MOXY_SMO2_UUID: list(smo2_payloads)},
        reads={p.BATTERY_LEVEL_UUID: b"\x40"},
        **kw,
    )


def myo_peripheral(
    address: str, emg_payloads: Sequence[bytes], *, name: str = "Myo FAKE", **kw: Any
) -> FakePeripheral:
    """A Myo armband emitting 16-byte raw-EMG payloads on its first EMG characteristic."""
    return FakePeripheral(
        address,
        name,
        services={p.MYO_SERVICE_UUID: [p.MYO_COMMAND_UUID, *p.MYO_EMG_UUIDS], **_BATTERY},
        notifications={p.MYO_EMG_UUIDS[0]: list(emg_payloads)},
        reads={p.BATTERY_LEVEL_UUID: b"\x64"},
        **kw,
    )


def captured_payloads(vectors: dict, myo_rows: Any = None) -> dict[str, list[bytes]]:
    """Notification payloads from a ``vectors.json`` dict (and Myo int8 rows, n × 8).

    Returns ``{"hr": [...], "moxy": [...], "ecg": [...], "myo": [...]}``; Myo rows are
    packed two per 16-byte notification.
    """
    import numpy as np

    out = {
        "hr": [bytes.fromhex(v["hex"]) for v in vectors["heart_rate_measurement_0x2A37"]],
        "moxy": [bytes.fromhex(v["hex"]) for v in vectors["moxy_smo2_notification_6404D804"]],
        "ecg": [bytes.fromhex(v["hex"]) for v in vectors["polar_pmd_ecg_frame_0xFB005C82"]],
        "myo": [],
    }
    if myo_rows is not None:
        rows = np.asarray(myo_rows, dtype=np.int64)
        if rows.ndim != 2 or rows.shape[1] != 8 or rows.min() < -128 or rows.max() > 127:
            raise ValueError("myo_rows must be an (n, 8) array of int8 values")
        rows = rows[: rows.shape[0] // 2 * 2].astype(np.int8)
        out["myo"] = [rows[i : i + 2].tobytes() for i in range(0, rows.shape[0], 2)]
    return out
