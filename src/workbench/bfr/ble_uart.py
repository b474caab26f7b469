"""A ``serial.Serial``-like byte port over the Nordic UART Service (NUS), on bleak.

:class:`BleUartPort` lets :class:`~workbench.bfr.serial_cuff.SerialCuff` talk to a BLE cuff
that streams the serial framing of the open cuff protocol (``docs/bfr-cuff-protocol.md``,
"BLE transport") over NUS: the host writes to RX (write without response) in chunks of at
most ATT MTU − 3 bytes, the cuff notifies on TX. bleak runs on an event loop in a daemon
thread; notifications only append to a bounded buffer, so the reads and the heartbeat still
happen in the control-loop iteration (req 10). After a disconnect writes raise (the loop
trips and vents) and reads run dry (stale data -> vent); the cuff firmware's watchdog vents
by itself 250 ms after the last heartbeat.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import warnings
from typing import Any

import serial
from bleak import BleakClient

from workbench.bfr.serial_cuff import WRITE_TIMEOUT_S, SerialCuff
from workbench.drivers.ble import map_ble_error
from workbench.errors import DeviceError
from workbench.log import get_logger

log = get_logger(__name__)

NUS_SERVICE_UUID = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"
#: Host -> device (write without response).
NUS_RX_UUID = "6e400002-b5a3-f393-e0a9-e50e24dcca9e"
#: Device -> host (notify).
NUS_TX_UUID = "6e400003-b5a3-f393-e0a9-e50e24dcca9e"

MIN_ATT_MTU = 23
ATT_HEADER_BYTES = 3
#: Largest write at the minimum ATT MTU: used when the MTU is unknown.
DEFAULT_CHUNK_BYTES = MIN_ATT_MTU - ATT_HEADER_BYTES
#: Received bytes kept unread at most (~1 s of the cuff's 250 Hz telemetry); older ones drop.
RX_BUFFER_BYTES = 4096
#: Wait for the link to close on :meth:`BleUartPort.close`, s.
DISCONNECT_TIMEOUT_S = 2.0


def chunk_bytes_for(client: BleakClient) -> int:
    """Largest write without response: the negotiated ATT MTU − 3 (20 when unknown)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # BlueZ warns that it reports the default 23
            mtu = int(client.mtu_size)
    except (NotImplementedError, TypeError):  # a backend without the MTU (or not yet)
        return DEFAULT_CHUNK_BYTES
    return mtu - ATT_HEADER_BYTES if mtu >= MIN_ATT_MTU else DEFAULT_CHUNK_BYTES


class BleUartPort:
    """The NUS of the BLE device at ``address`` as a non-blocking serial port.

    Parameters
    ----------
    address:
        BLE address (or platform identifier) of the cuff.
    backend:
        Optional bleak client backend class (tests pass a fake one).
    connect_timeout_s:
        Connecting and subscribing to TX must finish within this; else :class:`DeviceError`.
    write_timeout_s:
        A write not completed within this raises ``serial.SerialTimeoutException``.
    max_buffer_bytes:
        Bound of the receive buffer; on overflow the oldest bytes are dropped and counted in
        :attr:`dropped_bytes` (the frame decoder resyncs).
    """

    def __init__(
        self,
        address: str,
        *,
        backend: type | None = None,
        connect_timeout_s: float = 20.0,
        write_timeout_s: float = WRITE_TIMEOUT_S,
        max_buffer_bytes: int = RX_BUFFER_BYTES,
    ) -> None:
        self.address = address
        self.name = f"ble:{address}"
        self.write_timeout_s = write_timeout_s
        self.max_buffer_bytes = max_buffer_bytes
        self.dropped_bytes = 0
        self.chunk_bytes = DEFAULT_CHUNK_BYTES
        self._buf = bytearray()
        self._lock = threading.Lock()
        self._connected = False
        self._closed = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"ble-uart {address}", daemon=True
        )
        self._thread.start()
        try:
            self._client, self._rx = asyncio.run_coroutine_threadsafe(
                self._connect(backend, connect_timeout_s), self._loop
            ).result()
        except BaseException:
            self._stop_loop()
            raise

    async def _connect(self, backend: type | None, timeout_s: float) -> tuple[BleakClient, Any]:
        kwargs: dict[str, Any] = {"timeout": timeout_s}
        if backend is not None:
            kwargs["backend"] = backend
        client = BleakClient(self.address, self._on_disconnect, **kwargs)
        try:
            await asyncio.wait_for(client.connect(), timeout_s)
            rx = client.services.get_characteristic(NUS_RX_UUID)
            if rx is None:
                raise DeviceError(
                    f"BLE UART connect {self.address}: the device has no Nordic UART Service "
                    f"(RX characteristic {NUS_RX_UUID} not found)",
                    reason="ble_error",
                    address=self.address,
                )
            await asyncio.wait_for(client.start_notify(NUS_TX_UUID, self._on_notify), timeout_s)
        except Exception as exc:
            if client.is_connected:
                try:
                    await client.disconnect()
                except Exception as dexc:  # the connect error is the one to report
                    log.warning("BLE UART %s: disconnect failed: %r", self.address, dexc)
            raise map_ble_error(exc, address=self.address, action="BLE UART connect") from exc
        self.chunk_bytes = chunk_bytes_for(client)
        self._connected = True
        return client, rx

    # ----------------------------------------------------------------- event-loop side
    def _on_notify(self, _characteristic: Any, data: bytearray) -> None:
        with self._lock:
            self._buf += data
            excess = len(self._buf) - self.max_buffer_bytes
            if excess > 0:
                del self._buf[:excess]
                self.dropped_bytes += excess

    def _on_disconnect(self, _client: BleakClient) -> None:
        self._connected = False
        if not self._closed:
            log.warning(
                "BLE link to cuff %s lost: writes raise; the cuff firmware watchdog vents",
                self.address,
            )

    async def _write_chunks(self, data: bytes) -> None:
        n = self.chunk_bytes
        for i in range(0, len(data), n):
            await self._client.write_gatt_char(self._rx, data[i : i + n], response=False)

    # ----------------------------------------------------------------- serial.Serial API
    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def in_waiting(self) -> int:
        """Bytes received and not read yet."""
        with self._lock:
            return len(self._buf)

    def read(self, size: int = 1) -> bytes:
        """Up to ``size`` buffered bytes, without waiting (b"" when none)."""
        with self._lock:
            out = bytes(self._buf[:size])
            del self._buf[:size]
        return out

    def reset_input_buffer(self) -> None:
        with self._lock:
            self._buf.clear()

    def write(self, data: bytes) -> int:
        """Send ``data`` in MTU-sized writes; raises if the link is down, fails or blocks."""
        if self._closed:
            raise serial.PortNotOpenError()
        if not self._connected:
            raise serial.SerialException(f"BLE link to {self.address} is down")
        data = bytes(data)
        fut = asyncio.run_coroutine_threadsafe(self._write_chunks(data), self._loop)
        try:
            fut.result(self.write_timeout_s)
        except concurrent.futures.TimeoutError:
            fut.cancel()
            raise serial.SerialTimeoutException(
                f"BLE write to {self.address} not done within {self.write_timeout_s} s"
            ) from None
        except Exception as exc:
            raise serial.SerialException(f"BLE write to {self.address} failed: {exc!r}") from exc
        return len(data)

    def flush(self) -> None:
        """Nothing to do: :meth:`write` returns only once every chunk was handed to bleak."""

    def close(self) -> None:
        """Disconnect and stop the event-loop thread (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._client.is_connected:
                asyncio.run_coroutine_threadsafe(self._client.disconnect(), self._loop).result(
                    DISCONNECT_TIMEOUT_S
                )
        except Exception as exc:  # the link ends with the thread anyway
            log.warning("BLE UART %s: disconnect failed: %r", self.address, exc)
        finally:
            self._connected = False
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(DISCONNECT_TIMEOUT_S)
        if not self._thread.is_alive():
            self._loop.close()


def open_ble_cuff(address: str, *, backend: type | None = None, **serial_cuff_kwargs) -> SerialCuff:
    """A :class:`SerialCuff` on the NUS of the BLE cuff at ``address``."""
    port = BleUartPort(address, backend=backend)
    try:
        return SerialCuff(port, **serial_cuff_kwargs)
    except BaseException:
        port.close()
        raise
