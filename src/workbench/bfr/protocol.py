"""The cuff-controller interface and the open wire protocol of the lab-built cuff.

:class:`CuffController` is what the control loop talks to (simulator, serial/BLE cuff).
The wire format is documented in ``docs/bfr-cuff-protocol.md``; this module holds the pure
encode/decode functions (no I/O, no bleak, no pyserial).

Frame (serial): ``0xA5 | type u8 | seq u8 | len u8 | payload[len] | crc16 u16 LE`` with
CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) over ``type..payload``. Over BLE GATT a
frame is written/notified without the 0xA5 start byte (one frame per ATT value).
Why a host heartbeat and a firmware watchdog: ``docs/decisions/0004-bfr-control.md``.
"""

from __future__ import annotations

import enum
import math
import struct
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from workbench.errors import ProtocolError

SOF = 0xA5
MAX_PAYLOAD = 32
#: PRESSURE value meaning "sensor invalid" (decoded as NaN).
INVALID_PRESSURE = -32768


@dataclass(frozen=True)
class PressureReading:
    """One cuff pressure sample.

    ``seq`` increments with every new firmware sample (a repeated ``seq`` is not new data);
    ``device_t_s`` is the firmware clock, ``host_t_s`` the host receive time (monotonic s).
    ``pressure2_mmhg`` comes from a second, independent sensor: a single drifting sensor is
    otherwise undetectable.
    """

    pressure_mmhg: float
    seq: int
    device_t_s: float
    host_t_s: float
    pressure2_mmhg: float = math.nan  # independent second sensor (NaN if the cuff has none)


@dataclass(frozen=True)
class CuffCommand:
    """Actuator command of one control tick.

    ``pump_duty`` and ``bleed_duty`` are in [0, 1]; ``vent`` opens the dump valve, stops the
    pump and overrides everything else. ``setpoint_mmhg`` is also sent to the firmware, which
    uses it for its own over-pressure check.
    """

    setpoint_mmhg: float
    pump_duty: float
    bleed_duty: float
    vent: bool = False


VENT = CuffCommand(0.0, 0.0, 1.0, True)


class FirmwareState(enum.IntEnum):
    """State of the cuff firmware."""

    IDLE = 0  # vented, not armed
    ARMED = 1  # host in control
    VENTED_HOST = 2  # host asked to vent
    VENTED_WATCHDOG = 3  # no heartbeat for > 250 ms
    VENTED_OVERPRESSURE = 4  # firmware's own hardware trip


@dataclass(frozen=True)
class CuffStatus:
    """Status report of the cuff firmware."""

    state: FirmwareState
    pump_on: bool
    dump_open: bool
    max_setpoint_mmhg: float


@runtime_checkable
class CuffController(Protocol):
    """A controllable cuff (lab-built controller or the simulator).

    The host must call :meth:`heartbeat` at least every 50 ms from its control-loop
    iteration; the firmware vents by itself after 250 ms without one and stays vented
    until :meth:`arm` is called again.
    """

    def arm(self, max_setpoint_mmhg: float) -> None:
        """Leave the vented state; firmware refuses setpoints above ``max_setpoint_mmhg``."""
        ...

    def heartbeat(self) -> None:
        """Tell the firmware the host loop is alive."""
        ...

    def read_pressure(self) -> PressureReading | None:
        """Latest pressure sample, or None if none arrived yet."""
        ...

    def set_target(self, setpoint_mmhg: float, *, pump_duty: float, bleed_duty: float) -> None:
        """Apply the actuator outputs of one tick (and the setpoint for firmware checks)."""
        ...

    def vent(self) -> None:
        """Open the dump valve and stop the pump now."""
        ...

    def status(self) -> CuffStatus:
        """Firmware state."""
        ...


# --------------------------------------------------------------------------- wire codec
class MsgType(enum.IntEnum):
    """Message types: < 0x80 host -> cuff, >= 0x80 cuff -> host."""

    HEARTBEAT = 0x01  # payload: u16 counter
    SET = 0x02  # u16 setpoint 0.1 mmHg, u8 pump %, u8 bleed %
    VENT = 0x03  # u8 reason code
    ARM = 0x04  # u16 max setpoint 0.1 mmHg
    PRESSURE = 0x81  # u32 device ms, u16 sample seq, i16 p1, i16 p2 (0.1 mmHg), u8 flags
    STATUS = 0x82  # u8 state, u8 flags (bit0 pump, bit1 dump), u16 max setpoint 0.1 mmHg


_PAYLOAD_FORMAT = {
    MsgType.HEARTBEAT: "<H",
    MsgType.SET: "<HBB",
    MsgType.VENT: "<B",
    MsgType.ARM: "<H",
    MsgType.PRESSURE: "<IHhhB",
    MsgType.STATUS: "<BBH",
}


def crc16_ccitt(data: bytes, crc: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection); ``b"123456789"`` -> 0x29B1."""
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


@dataclass(frozen=True)
class Frame:
    """One decoded frame: message type, 8-bit sequence number and decoded payload fields."""

    type: MsgType
    seq: int
    fields: tuple[int, ...]


def _deci(value_mmhg: float, name: str, signed: bool = False) -> int:
    if not math.isfinite(value_mmhg):
        raise ValueError(f"{name} {value_mmhg} is not finite")
    v = round(value_mmhg * 10)
    lo, hi = (-32767, 32767) if signed else (0, 65535)
    if not lo <= v <= hi:
        raise ValueError(f"{name} {value_mmhg} mmHg does not fit the wire format")
    return v


def _pct(duty: float, name: str) -> int:
    if not math.isfinite(duty) or not 0.0 <= duty <= 1.0:
        raise ValueError(f"{name} {duty} must be in [0, 1]")
    return round(duty * 100)


def encode_frame(
    msg_type: MsgType, seq: int, fields: tuple[int, ...], *, ble: bool = False
) -> bytes:
    """Encode raw integer ``fields`` of ``msg_type``; ``ble=True`` omits the start byte."""
    payload = struct.pack(_PAYLOAD_FORMAT[MsgType(msg_type)], *fields)
    body = bytes([int(msg_type), seq & 0xFF, len(payload)]) + payload
    out = body + struct.pack("<H", crc16_ccitt(body))
    return out if ble else bytes([SOF]) + out


def encode_heartbeat(seq: int, counter: int, *, ble: bool = False) -> bytes:
    """Host heartbeat frame."""
    return encode_frame(MsgType.HEARTBEAT, seq, (counter & 0xFFFF,), ble=ble)


def encode_set(
    seq: int, setpoint_mmhg: float, pump_duty: float, bleed_duty: float, *, ble: bool = False
) -> bytes:
    """SET frame: setpoint (0.1 mmHg resolution) and actuator duties (1 % resolution)."""
    return encode_frame(
        MsgType.SET,
        seq,
        (_deci(setpoint_mmhg, "setpoint"), _pct(pump_duty, "pump"), _pct(bleed_duty, "bleed")),
        ble=ble,
    )


def encode_vent(seq: int, reason_code: int = 0, *, ble: bool = False) -> bytes:
    """VENT frame."""
    return encode_frame(MsgType.VENT, seq, (reason_code & 0xFF,), ble=ble)


def encode_arm(seq: int, max_setpoint_mmhg: float, *, ble: bool = False) -> bytes:
    """ARM frame carrying the session's maximum setpoint."""
    return encode_frame(MsgType.ARM, seq, (_deci(max_setpoint_mmhg, "max setpoint"),), ble=ble)


def _pressure_field(value_mmhg: float, name: str) -> int:
    if math.isnan(value_mmhg):
        return INVALID_PRESSURE
    return _deci(value_mmhg, name, signed=True)


def encode_pressure(
    seq: int,
    device_t_s: float,
    sample_seq: int,
    pressure_mmhg: float,
    pressure2_mmhg: float = math.nan,
    flags: int = 0,
    *,
    ble: bool = False,
) -> bytes:
    """PRESSURE frame (cuff -> host); NaN encodes as the invalid marker -32768."""
    return encode_frame(
        MsgType.PRESSURE,
        seq,
        (
            round(device_t_s * 1000) & 0xFFFFFFFF,
            sample_seq & 0xFFFF,
            _pressure_field(pressure_mmhg, "pressure"),
            _pressure_field(pressure2_mmhg, "pressure2"),
            flags & 0xFF,
        ),
        ble=ble,
    )


def encode_status(
    seq: int,
    state: int,
    pump_on: bool,
    dump_open: bool,
    max_setpoint_mmhg: float,
    *,
    ble: bool = False,
) -> bytes:
    """STATUS frame (cuff -> host): firmware state, pump/dump flags, armed maximum SP."""
    flags = (1 if pump_on else 0) | (2 if dump_open else 0)
    return encode_frame(
        MsgType.STATUS,
        seq,
        (int(state) & 0xFF, flags, _deci(max_setpoint_mmhg, "max setpoint")),
        ble=ble,
    )


def decode_frame(data: bytes, *, ble: bool = False) -> Frame:
    """Decode exactly one frame; raises :class:`ProtocolError` on any defect."""
    raw = bytes(data)
    if not ble:
        if not raw or raw[0] != SOF:
            raise ProtocolError("frame does not start with 0xA5", data=raw)
        raw = raw[1:]
    if len(raw) < 5:
        raise ProtocolError(f"frame too short ({len(raw)} bytes)", data=bytes(data))
    msg, seq, length = raw[0], raw[1], raw[2]
    if len(raw) != 3 + length + 2:
        raise ProtocolError(f"frame length {len(raw)} does not match len field {length}", data=raw)
    body, (crc,) = raw[: 3 + length], struct.unpack("<H", raw[3 + length :])
    if crc16_ccitt(body) != crc:
        raise ProtocolError(
            f"CRC mismatch: got {crc:#06x}, computed {crc16_ccitt(body):#06x}", data=raw
        )
    try:
        mtype = MsgType(msg)
    except ValueError:
        raise ProtocolError(f"unknown message type {msg:#04x}", data=raw) from None
    fmt = _PAYLOAD_FORMAT[mtype]
    if struct.calcsize(fmt) != length:
        raise ProtocolError(
            f"{mtype.name} payload must be {struct.calcsize(fmt)} bytes, got {length}", data=raw
        )
    return Frame(mtype, seq, struct.unpack(fmt, body[3:]))


def pressure_from_frame(frame: Frame, host_t_s: float) -> PressureReading:
    """Convert a decoded PRESSURE frame to a :class:`PressureReading`."""
    if frame.type is not MsgType.PRESSURE:
        raise ProtocolError(f"expected PRESSURE, got {frame.type.name}")
    dev_ms, sample_seq, p1, p2, _flags = frame.fields

    def conv(v: int) -> float:
        return math.nan if v == INVALID_PRESSURE else v / 10.0

    return PressureReading(conv(p1), sample_seq, dev_ms / 1000.0, host_t_s, conv(p2))


class FrameDecoder:
    """Incremental serial decoder: feed bytes, get complete frames; resyncs after garbage.

    Corrupt frames are counted in ``errors`` and skipped (never returned).
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.errors = 0

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        out: list[Frame] = []
        while True:
            start = self._buf.find(SOF)
            if start < 0:
                self._buf.clear()
                return out
            del self._buf[:start]
            if len(self._buf) < 4:
                return out
            length = self._buf[3]
            if length > MAX_PAYLOAD:
                self.errors += 1
                del self._buf[:1]
                continue
            total = 1 + 3 + length + 2
            if len(self._buf) < total:
                return out
            try:
                out.append(decode_frame(bytes(self._buf[:total])))
            except ProtocolError:
                self.errors += 1
                del self._buf[:1]
                continue
            del self._buf[:total]
