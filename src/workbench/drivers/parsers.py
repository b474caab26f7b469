"""Pure parsers of BLE payloads (never imports bleak).

Every parser takes the raw bytes of one notification/read and returns a small frozen
dataclass or array; malformed bytes raise :class:`~workbench.errors.ProtocolError` carrying
the offending data, never anything else.

Covered:

- Heart Rate service 0x180D: Heart Rate Measurement 0x2A37 (8/16-bit HR, contact bits,
  energy expended, *every* RR interval in the packet, RR ms = raw × 1000 / 1024),
  Body Sensor Location 0x2A38; Battery Level 0x2A19.
- Polar Measurement Data (PMD) service: control-point responses, feature read, start/stop
  command bytes, data frames (H10 ECG in µV, ACC in mG).
- Moxy SmO₂ notifications (characteristic 6404D804, community-documented layout).
- Myo raw EMG notifications (two samples of 8 int8 channels).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from workbench.errors import ProtocolError

__all__ = [
    "BATTERY_LEVEL_UUID",
    "BATTERY_SERVICE_UUID",
    "BODY_SENSOR_LOCATION_UUID",
    "HEART_RATE_MEASUREMENT_UUID",
    "HEART_RATE_SERVICE_UUID",
    "MOXY_SERVICE_UUID",
    "MOXY_SMO2_UUID",
    "MYO_COMMAND_UUID",
    "MYO_EMG_UUIDS",
    "MYO_ENABLE_RAW_EMG",
    "MYO_SERVICE_UUID",
    "PMD_CONTROL_UUID",
    "PMD_DATA_UUID",
    "PMD_SERVICE_UUID",
    "PMD_START_ACC_200HZ",
    "PMD_START_ECG_130HZ",
    "PMD_STOP_ACC",
    "PMD_STOP_ECG",
    "HeartRateMeasurement",
    "MoxySmO2",
    "PmdControlResponse",
    "PmdFrame",
    "parse_battery_level",
    "parse_body_sensor_location",
    "parse_heart_rate_measurement",
    "parse_moxy_smo2",
    "parse_myo_emg",
    "parse_pmd_control_response",
    "parse_pmd_features",
    "parse_pmd_frame",
    "pmd_start_command",
    "pmd_stop_command",
]


def _uuid16(short: int) -> str:
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


HEART_RATE_SERVICE_UUID = _uuid16(0x180D)
HEART_RATE_MEASUREMENT_UUID = _uuid16(0x2A37)
BODY_SENSOR_LOCATION_UUID = _uuid16(0x2A38)
BATTERY_SERVICE_UUID = _uuid16(0x180F)
BATTERY_LEVEL_UUID = _uuid16(0x2A19)

PMD_SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
PMD_CONTROL_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
PMD_DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"

MOXY_SERVICE_UUID = "6404d801-4cb9-11e8-b566-0800200c9a66"
MOXY_SMO2_UUID = "6404d804-4cb9-11e8-b566-0800200c9a66"

MYO_SERVICE_UUID = "d5060005-a904-deb9-4748-2c7f4a124842"
MYO_COMMAND_UUID = "d5060401-a904-deb9-4748-2c7f4a124842"
MYO_EMG_UUIDS = tuple(f"d5060{i}05-a904-deb9-4748-2c7f4a124842" for i in (1, 2, 3, 4))
#: Myo "set mode" command: 01 03 <emg 03 = raw> <imu 01 = on> <classifier 00 = off>.
MYO_ENABLE_RAW_EMG = bytes.fromhex("0103030100")

_BLE_RR_MS = 1000.0 / 1024.0


def _fail(message: str, data: bytes) -> ProtocolError:
    return ProtocolError(f"{message} (bytes: {bytes(data).hex(' ')})", data=bytes(data))


# --------------------------------------------------------------------- heart rate
@dataclass(frozen=True)
class HeartRateMeasurement:
    """One Heart Rate Measurement notification (0x2A37).

    Attributes
    ----------
    hr_bpm:
        Heart rate in beats per minute (as sent; 8- or 16-bit).
    contact:
        ``"not_supported"``, ``"not_detected"`` or ``"detected"`` (sensor-contact bits).
    energy_kj:
        Cumulative energy expended in kJ, or None when absent.
    rr_ms:
        Every RR interval of the packet in ms (raw × 1000/1024), oldest first.
    rr_raw_1024:
        The same RR intervals as raw 1/1024-s counts.
    """

    hr_bpm: int
    contact: Literal["not_supported", "not_detected", "detected"]
    energy_kj: int | None
    rr_ms: list[float]
    rr_raw_1024: list[int]


def parse_heart_rate_measurement(data: bytes) -> HeartRateMeasurement:
    """Parse a Heart Rate Measurement (0x2A37) notification.

    Flags: bit0 HR uint16 (else uint8); bit1 contact detected; bit2 contact supported;
    bit3 energy expended (uint16 kJ) present; bit4 RR intervals present (uint16 LE each,
    1/1024 s). All RR values in the packet are returned.

    Raises
    ------
    ProtocolError
        Too short for its flags, an odd number of RR bytes, or trailing bytes without the
        RR flag.
    """
    data = bytes(data)
    if len(data) < 2:
        raise _fail("heart rate measurement: need at least flags and an 8-bit HR", data)
    flags = data[0]
    pos = 1
    if flags & 0x01:
        if len(data) < 3:
            raise _fail("heart rate measurement: flag says 16-bit HR but 1 byte follows", data)
        hr = int.from_bytes(data[1:3], "little")
        pos = 3
    else:
        hr = data[1]
        pos = 2
    if flags & 0x04:
        contact = "detected" if flags & 0x02 else "not_detected"
    else:
        contact = "not_supported"
    energy: int | None = None
    if flags & 0x08:
        if len(data) < pos + 2:
            raise _fail("heart rate measurement: energy-expended flag set but field missing", data)
        energy = int.from_bytes(data[pos : pos + 2], "little")
        pos += 2
    rest = data[pos:]
    raw: list[int] = []
    if flags & 0x10:
        if len(rest) % 2:
            raise _fail(
                f"heart rate measurement: {len(rest)} RR bytes is not a multiple of 2", data
            )
        raw = np.frombuffer(rest, dtype="<u2").astype(int).tolist()
    elif rest:
        raise _fail(
            f"heart rate measurement: {len(rest)} trailing bytes but no RR flag (bit 4)", data
        )
    return HeartRateMeasurement(
        hr_bpm=hr,
        contact=contact,  # type: ignore[arg-type]
        energy_kj=energy,
        rr_ms=[r * _BLE_RR_MS for r in raw],
        rr_raw_1024=raw,
    )


_BODY_LOCATIONS = ("other", "chest", "wrist", "finger", "hand", "ear_lobe", "foot")


def parse_body_sensor_location(data: bytes) -> str:
    """Parse Body Sensor Location (0x2A38): ``"other"``, ``"chest"``, …, ``"foot"``.

    Raises ProtocolError on a wrong length or a reserved value (7–255).
    """
    data = bytes(data)
    if len(data) != 1:
        raise _fail(f"body sensor location: expected 1 byte, got {len(data)}", data)
    if data[0] >= len(_BODY_LOCATIONS):
        raise _fail(f"body sensor location: reserved value {data[0]}", data)
    return _BODY_LOCATIONS[data[0]]


def parse_battery_level(data: bytes) -> int:
    """Parse Battery Level (0x2A19): percent 0–100. ProtocolError otherwise."""
    data = bytes(data)
    if len(data) != 1:
        raise _fail(f"battery level: expected 1 byte, got {len(data)}", data)
    if data[0] > 100:
        raise _fail(f"battery level: {data[0]} % is above 100 %", data)
    return data[0]


# ------------------------------------------------------------------------- Moxy
@dataclass(frozen=True)
class MoxySmO2:
    """One Moxy SmO₂ notification.

    Attributes: ``count`` (notification counter), ``smo2_pct`` and ``smo2_previous_pct``
    (muscle oxygen saturation, %), ``thb_g_dl`` (total haemoglobin, g/dL), ``flags``.
    """

    count: int
    smo2_pct: float
    smo2_previous_pct: float
    thb_g_dl: float
    flags: int


def parse_moxy_smo2(data: bytes) -> MoxySmO2:
    """Parse a Moxy SmO₂ notification (characteristic 6404D804).

    Layout (community-documented): u16 count, u16 SmO₂ × 0.1 %, u16 previous SmO₂ × 0.1 %,
    u16 THb × 0.01 g/dL, u8 flags; 9 bytes, little-endian. Values are returned as sent
    (no range check: sentinel values are the cleaning step's business).
    """
    data = bytes(data)
    if len(data) != 9:
        raise _fail(f"Moxy SmO2 notification: expected 9 bytes, got {len(data)}", data)
    count, smo2, prev, thb = np.frombuffer(data[:8], dtype="<u2").tolist()
    return MoxySmO2(
        count=count,
        smo2_pct=round(smo2 * 0.1, 1),
        smo2_previous_pct=round(prev * 0.1, 1),
        thb_g_dl=round(thb * 0.01, 2),
        flags=data[8],
    )


# -------------------------------------------------------------------------- Myo
def parse_myo_emg(data: bytes) -> np.ndarray:
    """Parse a Myo raw-EMG notification: 16 bytes → (2, 8) float64 array of int8 counts."""
    data = bytes(data)
    if len(data) != 16:
        raise _fail(f"Myo EMG notification: expected 16 bytes, got {len(data)}", data)
    return np.frombuffer(data, dtype=np.int8).reshape(2, 8).astype(np.float64)


# ---------------------------------------------------------------------- Polar PMD
PMD_ECG = 0
PMD_PPG = 1
PMD_ACC = 2
_PMD_TYPES = {0: "ecg", 1: "ppg", 2: "acc", 3: "ppi", 5: "gyro", 6: "mag"}
_PMD_OPS = {1: "get_settings", 2: "start", 3: "stop"}
_PMD_ERRORS = {
    0: "success",
    1: "invalid_op_code",
    2: "invalid_measurement_type",
    3: "not_supported",
    4: "invalid_length",
    5: "invalid_parameter",
    6: "already_in_state",
    7: "invalid_resolution",
    8: "invalid_sample_rate",
    9: "invalid_range",
    10: "invalid_mtu",
    11: "invalid_number_of_channels",
    12: "invalid_state",
    13: "device_in_charger",
}
#: Setting type -> (name, bytes per value).
_PMD_SETTINGS = {
    0: ("sample_rate_hz", 2),
    1: ("resolution_bits", 2),
    2: ("range_g", 2),
    3: ("range_milliunit", 4),
    4: ("channels", 1),
    5: ("factor", 4),
}

#: H10 ECG 130 Hz, 14-bit.
PMD_START_ECG_130HZ = bytes.fromhex("02 00 00 01 82 00 01 01 0E 00")
PMD_STOP_ECG = bytes.fromhex("03 00")
#: H10 ACC 200 Hz, 16-bit, 8 g.
PMD_START_ACC_200HZ = bytes.fromhex("02 02 00 01 C8 00 01 01 10 00 02 01 08 00")
PMD_STOP_ACC = bytes.fromhex("03 02")


def pmd_start_command(
    measurement: Literal["ecg", "acc"],
    *,
    sampling_rate_hz: int,
    resolution_bits: int,
    range_g: int | None = None,
) -> bytes:
    """Bytes to write to the PMD control point to start a measurement.

    ``pmd_start_command("ecg", sampling_rate_hz=130, resolution_bits=14)`` equals
    :data:`PMD_START_ECG_130HZ`.
    """
    codes = {v: k for k, v in _PMD_TYPES.items()}
    if measurement not in ("ecg", "acc"):
        raise ValueError(f"PMD measurement must be 'ecg' or 'acc', got {measurement!r}")
    out = bytearray([0x02, codes[measurement]])
    out += bytes([0x00, 0x01]) + int(sampling_rate_hz).to_bytes(2, "little")
    out += bytes([0x01, 0x01]) + int(resolution_bits).to_bytes(2, "little")
    if range_g is not None:
        out += bytes([0x02, 0x01]) + int(range_g).to_bytes(2, "little")
    return bytes(out)


def pmd_stop_command(measurement: Literal["ecg", "acc"]) -> bytes:
    """Bytes to write to the PMD control point to stop a measurement."""
    codes = {"ecg": PMD_ECG, "acc": PMD_ACC}
    if measurement not in codes:
        raise ValueError(f"PMD measurement must be 'ecg' or 'acc', got {measurement!r}")
    return bytes([0x03, codes[measurement]])


@dataclass(frozen=True)
class PmdControlResponse:
    """Response of the PMD control point (indication starting with 0xF0).

    ``op`` is ``"get_settings" | "start" | "stop"``, ``measurement`` e.g. ``"ecg"``,
    ``status`` ``"success"`` or an error name; ``settings`` maps setting names to the
    allowed values (get_settings responses only).
    """

    op: str
    measurement: str
    status: str
    more_frames: bool
    settings: dict[str, tuple[int, ...]]

    @property
    def ok(self) -> bool:
        return self.status == "success"


def parse_pmd_control_response(data: bytes) -> PmdControlResponse:
    """Parse a PMD control-point response ``F0 op type status [more settings…]``."""
    data = bytes(data)
    if len(data) < 4 or data[0] != 0xF0:
        raise _fail("PMD control response: expected F0 op type status", data)
    op = _PMD_OPS.get(data[1])
    if op is None:
        raise _fail(f"PMD control response: unknown op code {data[1]}", data)
    measurement = _PMD_TYPES.get(data[2])
    if measurement is None:
        raise _fail(f"PMD control response: unknown measurement type {data[2]}", data)
    status = _PMD_ERRORS.get(data[3])
    if status is None:
        raise _fail(f"PMD control response: unknown status code {data[3]}", data)
    more = False
    settings: dict[str, tuple[int, ...]] = {}
    if len(data) > 4:
        more = bool(data[4])
        pos = 5
        while pos < len(data):
            if pos + 2 > len(data):
                raise _fail("PMD control response: truncated setting header", data)
            kind, count = data[pos], data[pos + 1]
            pos += 2
            spec = _PMD_SETTINGS.get(kind)
            if spec is None:
                raise _fail(f"PMD control response: unknown setting type {kind}", data)
            name, size = spec
            end = pos + count * size
            if end > len(data):
                raise _fail(f"PMD control response: setting {name} truncated", data)
            settings[name] = tuple(
                int.from_bytes(data[p : p + size], "little") for p in range(pos, end, size)
            )
            pos = end
    return PmdControlResponse(op, measurement, status, more, settings)


def parse_pmd_features(data: bytes) -> tuple[str, ...]:
    """Parse the PMD control-point read ``0F <bitmask…>``: the supported measurements."""
    data = bytes(data)
    if len(data) < 2 or data[0] != 0x0F:
        raise _fail("PMD features: expected 0F followed by a bitmask", data)
    mask = int.from_bytes(data[1:], "little")
    return tuple(name for code, name in sorted(_PMD_TYPES.items()) if mask >> code & 1)


@dataclass(frozen=True)
class PmdFrame:
    """One PMD data frame.

    Attributes
    ----------
    measurement:
        ``"ecg"`` or ``"acc"``.
    timestamp_ns:
        Device time of the **last** sample, ns since 2000-01-01 (sensor clock).
    frame_type:
        Frame type byte without the compression bit.
    samples:
        (n, channels) float64: ECG in µV (1 channel), ACC in mG (x, y, z).
    """

    measurement: str
    timestamp_ns: int
    frame_type: int
    samples: np.ndarray

    @property
    def unit(self) -> str:
        return "uV" if self.measurement == "ecg" else "mG"


def _int24(body: bytes) -> np.ndarray:
    b = np.frombuffer(body, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
    v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
    return np.where(v >= 1 << 23, v - (1 << 24), v)


def parse_pmd_frame(data: bytes) -> PmdFrame:
    """Parse a PMD data notification (characteristic FB005C82).

    Header: measurement type u8, timestamp u64 LE (ns since 2000, last sample), frame type u8
    (bit 7 = compressed). Supported: ECG frame type 0 (3-byte signed µV), ACC frame types
    0/1/2 (int8/int16/int24 x, y, z in mG). Compressed (delta) frames raise ProtocolError.
    """
    data = bytes(data)
    if len(data) < 10:
        raise _fail(f"PMD frame: {len(data)} bytes is shorter than the 10-byte header", data)
    mtype, frame_byte = data[0], data[9]
    ts = int.from_bytes(data[1:9], "little")
    body = data[10:]
    if frame_byte & 0x80:
        raise _fail("PMD frame: compressed (delta) frames are not supported", data)
    if mtype == PMD_ECG:
        if frame_byte != 0:
            raise _fail(f"PMD ECG frame: unsupported frame type {frame_byte}", data)
        if len(body) % 3:
            raise _fail(f"PMD ECG frame: {len(body)} sample bytes is not a multiple of 3", data)
        samples = _int24(body).astype(np.float64)[:, None]
        name = "ecg"
    elif mtype == PMD_ACC:
        width = {0: 1, 1: 2, 2: 3}.get(frame_byte)
        if width is None:
            raise _fail(f"PMD ACC frame: unsupported frame type {frame_byte}", data)
        if len(body) % (3 * width):
            raise _fail(f"PMD ACC frame: {len(body)} bytes is not whole x,y,z samples", data)
        if width == 3:
            flat = _int24(body)
        else:
            flat = np.frombuffer(body, dtype="<i1" if width == 1 else "<i2")
        samples = flat.astype(np.float64).reshape(-1, 3)
        name = "acc"
    else:
        raise _fail(f"PMD frame: unsupported measurement type {mtype}", data)
    if samples.shape[0] == 0:
        raise _fail("PMD frame: no samples", data)
    return PmdFrame(measurement=name, timestamp_ns=ts, frame_type=frame_byte, samples=samples)
