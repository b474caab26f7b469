"""BLE parsers: every captured vector decodes exactly; fuzzing raises only ProtocolError."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.drivers import parsers as p
from workbench.errors import ProtocolError

VECTORS = json.loads((Path(__file__).parents[1] / "data" / "ble" / "vectors.json").read_text())


@pytest.mark.parametrize("vec", VECTORS["heart_rate_measurement_0x2A37"], ids=lambda v: v["hex"])
def test_heart_rate_vectors_decode_exactly(vec):
    m = p.parse_heart_rate_measurement(bytes.fromhex(vec["hex"]))
    assert m.hr_bpm == vec["hr_bpm"]
    assert m.contact == vec["contact"]
    assert m.energy_kj == vec["energy_kj"]
    assert m.rr_raw_1024 == vec["rr_raw_1024"]
    assert m.rr_ms == vec["rr_ms"]
    assert all(isinstance(r, float) for r in m.rr_ms)


def test_heart_rate_reads_every_rr_in_the_packet():
    data = bytes([0x10, 70]) + np.array([800, 820, 790], "<u2").tobytes()
    m = p.parse_heart_rate_measurement(data)
    assert m.rr_raw_1024 == [800, 820, 790]
    assert m.rr_ms == [800 * 1000 / 1024, 820 * 1000 / 1024, 790 * 1000 / 1024]


@pytest.mark.parametrize(
    "hexdata",
    ["", "10", "01 50", "08 50 01", "10 50 01", "00 50 01", "18 50 00 00 01"],
)
def test_heart_rate_malformed_raise_protocol_error(hexdata):
    with pytest.raises(ProtocolError) as info:
        p.parse_heart_rate_measurement(bytes.fromhex(hexdata))
    assert info.value.data == bytes.fromhex(hexdata)


@pytest.mark.parametrize("vec", VECTORS["moxy_smo2_notification_6404D804"])
def test_moxy_vectors_decode_exactly(vec):
    m = p.parse_moxy_smo2(bytes.fromhex(vec["hex"]))
    assert m.count == vec["count"]
    assert m.smo2_pct == vec["smo2_pct"]
    assert m.smo2_previous_pct == vec["smo2_previous_pct"]
    assert m.thb_g_dl == vec["thb_g_dl"]


@pytest.mark.parametrize("vec", VECTORS["polar_pmd_ecg_frame_0xFB005C82"])
def test_pmd_ecg_vectors_decode_exactly(vec):
    f = p.parse_pmd_frame(bytes.fromhex(vec["hex"]))
    assert f.measurement == "ecg" and vec["measurement_type"] == 0
    assert f.timestamp_ns == vec["timestamp_ns_since_2000"]
    assert f.frame_type == vec["frame_type"]
    assert f.samples[:, 0].tolist() == vec["ecg_uv"]
    assert f.unit == "uV"


def test_pmd_commands_match_documented_bytes():
    notes = VECTORS["notes"]["pmd"]
    assert p.PMD_START_ECG_130HZ.hex(" ").upper() in notes
    assert p.PMD_START_ACC_200HZ.hex(" ").upper() in notes
    assert p.pmd_start_command("ecg", sampling_rate_hz=130, resolution_bits=14) == (
        p.PMD_START_ECG_130HZ
    )
    assert (
        p.pmd_start_command("acc", sampling_rate_hz=200, resolution_bits=16, range_g=8)
        == p.PMD_START_ACC_200HZ
    )
    assert p.pmd_stop_command("ecg") == p.PMD_STOP_ECG == bytes([3, 0])
    assert p.pmd_stop_command("acc") == p.PMD_STOP_ACC


def test_pmd_acc_frame_int16_mg():
    xyz = np.array([[10, -20, 1000], [-32768, 32767, 0]], "<i2")
    data = bytes([2]) + (123).to_bytes(8, "little") + bytes([1]) + xyz.tobytes()
    f = p.parse_pmd_frame(data)
    assert f.measurement == "acc" and f.unit == "mG" and f.timestamp_ns == 123
    np.testing.assert_array_equal(f.samples, xyz.astype(float))


def test_pmd_control_responses():
    r = p.parse_pmd_control_response(bytes.fromhex("F0 02 00 00 00"))
    assert (r.op, r.measurement, r.status, r.ok) == ("start", "ecg", "success", True)
    r = p.parse_pmd_control_response(bytes.fromhex("F0 02 00 06"))
    assert r.status == "already_in_state" and not r.ok
    r = p.parse_pmd_control_response(bytes.fromhex("F0 01 00 00 00 00 01 82 00 01 01 0E 00"))
    assert r.settings == {"sample_rate_hz": (130,), "resolution_bits": (14,)}
    assert p.parse_pmd_features(bytes.fromhex("0F 05 00")) == ("ecg", "acc")
    with pytest.raises(ProtocolError):
        p.parse_pmd_control_response(bytes.fromhex("F0 01 00 00 00 09 01"))


def test_small_characteristics():
    assert p.parse_battery_level(b"\x57") == 87
    assert p.parse_body_sensor_location(b"\x01") == "chest"
    for bad in (b"", b"\x65", b"\x01\x02"):
        with pytest.raises(ProtocolError):
            p.parse_battery_level(bad)
    with pytest.raises(ProtocolError):
        p.parse_body_sensor_location(b"\x07")


def test_myo_emg_int8_two_samples():
    raw = np.arange(-8, 8, dtype=np.int8)
    emg = p.parse_myo_emg(raw.tobytes())
    assert emg.shape == (2, 8)
    np.testing.assert_array_equal(emg.ravel(), raw.astype(float))


PARSERS = [
    p.parse_heart_rate_measurement,
    p.parse_body_sensor_location,
    p.parse_battery_level,
    p.parse_moxy_smo2,
    p.parse_myo_emg,
    p.parse_pmd_frame,
    p.parse_pmd_control_response,
    p.parse_pmd_features,
]
BATCH = 500
N_EXAMPLES = 40  # x 500 = 20 000 hypothesis-drawn strings (plus 10⁵ in the seeded batches)


def _run_all(blobs: list[bytes]) -> int:
    n = 0
    for blob in blobs:
        for parse in PARSERS:
            try:
                parse(blob)
            except ProtocolError:
                pass
            n += 1
    return n


# Random bytes, biased towards short strings and towards valid first bytes (flags, types).
_blob = st.one_of(
    st.binary(max_size=24),
    st.binary(min_size=10, max_size=240),
    st.tuples(st.sampled_from([0, 2, 0xF0, 0x0F, 0x10, 0x19, 0x1F]), st.binary(max_size=40)).map(
        lambda t: bytes([t[0]]) + t[1]
    ),
)


@settings(
    max_examples=N_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(_blob, min_size=BATCH, max_size=BATCH))
def test_fuzz_parsers_raise_only_protocol_error(blobs):
    assert _run_all(blobs) == BATCH * len(PARSERS)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**63 - 1), st.integers(1, 300))
def test_fuzz_hypothesis_seeded_batches(seed, max_len):
    """Hypothesis draws seed and length scale; numpy draws 1000 byte strings per example
    (100 examples = 10⁵ strings, each through every parser) cheaply."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, max_len + 1, size=1000)
    pool = rng.integers(0, 256, size=int(lengths.sum()), dtype=np.uint8).tobytes()
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    blobs = [pool[offsets[i] : offsets[i + 1]] for i in range(lengths.size)]
    # make the first byte a plausible flags/type byte half the time
    firsts = rng.choice([0, 2, 0x0F, 0x10, 0x16, 0x19, 0x1F, 0xF0], size=lengths.size)
    blobs = [
        bytes([f]) + b[1:] if b and i % 2 else b
        for i, (f, b) in enumerate(zip(firsts, blobs, strict=True))
    ]
    assert _run_all(blobs) == 1000 * len(PARSERS)
