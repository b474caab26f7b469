"""Wire protocol of the lab cuff: CRC, framing, round trips, corruption."""

from __future__ import annotations

import math

import pytest

from workbench.bfr import protocol as p
from workbench.errors import ProtocolError


def test_crc_check_value():
    assert p.crc16_ccitt(b"123456789") == 0x29B1


def test_set_frame_layout_is_stable():
    frame = p.encode_set(7, 160.0, 0.5, 0.0)
    assert frame.hex() == "a502070440063200a16f"  # SOF, type, seq, len, sp LE, 50 %, 0 %, CRC
    assert p.decode_frame(frame).fields == (1600, 50, 0)


@pytest.mark.parametrize("ble", [False, True])
def test_pressure_round_trip(ble):
    raw = p.encode_pressure(3, 12.345, 999, 161.7, 160.9, ble=ble)
    frame = p.decode_frame(raw, ble=ble)
    reading = p.pressure_from_frame(frame, host_t_s=5.0)
    assert reading.pressure_mmhg == pytest.approx(161.7)
    assert reading.pressure2_mmhg == pytest.approx(160.9)
    assert reading.seq == 999 and reading.device_t_s == pytest.approx(12.345)


def test_nan_pressure_travels_as_invalid_marker():
    reading = p.pressure_from_frame(p.decode_frame(p.encode_pressure(0, 0.0, 1, math.nan)), 0.0)
    assert math.isnan(reading.pressure_mmhg) and math.isnan(reading.pressure2_mmhg)


def test_corrupted_frames_are_rejected():
    raw = bytearray(p.encode_heartbeat(1, 42))
    raw[4] ^= 0x01
    with pytest.raises(ProtocolError, match="CRC"):
        p.decode_frame(bytes(raw))
    with pytest.raises(ProtocolError):
        p.decode_frame(b"\x00\x01")
    with pytest.raises(ProtocolError, match="unknown message type"):
        body = bytes([0x7F, 0, 0])
        p.decode_frame(bytes([p.SOF]) + body + p.crc16_ccitt(body).to_bytes(2, "little"))


def test_encoder_refuses_out_of_range_values():
    with pytest.raises(ValueError):
        p.encode_set(0, math.nan, 0.5, 0.0)
    with pytest.raises(ValueError):
        p.encode_set(0, 100.0, 1.5, 0.0)
    with pytest.raises(ValueError):
        p.encode_arm(0, -5.0)


def test_stream_decoder_resyncs_after_garbage():
    dec = p.FrameDecoder()
    good = [p.encode_heartbeat(i, i) for i in range(3)]
    bad = bytearray(p.encode_vent(9))
    bad[-1] ^= 0xFF
    stream = b"\x00\xa5\xff" + good[0] + bytes(bad) + good[1] + good[2]
    frames = []
    for i in range(0, len(stream), 3):  # arbitrary chunking
        frames += dec.feed(stream[i : i + 3])
    assert [f.fields[0] for f in frames] == [0, 1, 2]
    assert dec.errors >= 1
