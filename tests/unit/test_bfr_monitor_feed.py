"""Real monitor streams for the BFR supervisor (req 12, issue 12.3): what
:class:`~workbench.bfr.monitor_feed.HubMonitorSource` reports from sensors on a real
``DeviceHub`` — the simulator drivers and the fake BLE Moxy/Myo/HR strap — checked against a
batch computation from the same samples (read by a second subscription on the hub), and
how the supervisor judges what such sensors can and cannot measure."""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import pytest

from bfr_helpers import FakeSensors, simulated_limb_limits, wait_until
from workbench.bfr.authority import authorize_override
from workbench.bfr.limits import CuffLimits
from workbench.bfr.live import LiveSession, RealtimeSimCuff
from workbench.bfr.monitor_feed import HubMonitorSource
from workbench.bfr.protocol import PressureReading
from workbench.bfr.supervisor import Supervisor
from workbench.drivers.hub import DeviceHub
from workbench.drivers.simulators import EmgSimulator, HeartRateSimulator, SmO2Simulator
from workbench.errors import SafetyReason


def _collect(src: HubMonitorSource, seconds: float) -> dict[str, dict[float, dict]]:
    """Every distinct sample ``src`` reported while polled at 100 Hz: {monitor: {t: values}}."""
    seen: dict[str, dict[float, dict]] = {}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for name, (t, values) in src().items():
            seen.setdefault(name, {})[t] = values
        time.sleep(0.01)
    return seen


def _raw(sub, stream: str) -> tuple[np.ndarray, np.ndarray]:
    """Host times and values of every block of ``stream`` the test's own subscription got."""
    blocks = [b for _, b in sub.drain() if b.stream == stream]
    return np.concatenate([b.host_t_s for b in blocks]), np.concatenate([b.values for b in blocks])


def _batch_envelope(t: np.ndarray, x: np.ndarray, t_end: float, n: int) -> float:
    """The n samples ending at the last sample stamped ``t_end``: each channel's standard
    deviation (its RMS about its mean), then the median over channels."""
    (idx,) = np.flatnonzero(t == t_end)[-1:]
    assert idx + 1 >= n, "the test subscription must have seen the whole window"
    return float(np.median(np.std(x[idx + 1 - n : idx + 1], axis=0)))


@pytest.mark.parametrize("off_channels", [(2,), (0, 1, 2, 3, 4)], ids=["one_off", "five_off"])
def test_emg_simulator_envelope_is_the_median_channel_rms_of_100_ms(off_channels):
    """2 kHz µV EMG, with electrodes off (mains hum on a 600 µV offset): one channel off
    separates the median from the mean, five off make the DC removal count."""
    emg = EmgSimulator(emg_kwargs={"electrode_off": [(0.0, 1e6, c) for c in off_channels]})
    with DeviceHub(name="test-emg-hub") as hub:
        hub.add_source(emg, key="emg")
        sub = hub.subscribe()  # before the monitor source: it sees every block that does
        src = HubMonitorSource(hub)
        got = _collect(src, 1.5)["emg"]
        t, x = _raw(sub, "emg")
    assert src.streams == {"emg": "emg/emg"}
    assert len(got) >= 15, got  # ~20 Hz: windows of 100 ms every 50 ms (of samples)
    hops = np.diff(sorted(got)) / 0.05
    assert np.allclose(hops, np.round(hops), atol=1e-6), hops
    for t_end, values in got.items():
        assert set(values) == {"rms_uv"}
        assert values["rms_uv"] == pytest.approx(_batch_envelope(t, x, t_end, 200), rel=1e-9)


def test_fake_ble_moxy_myo_and_strap_report_what_they_sent():
    sensors = FakeSensors()
    try:
        sub = sensors.hub.subscribe()
        src = HubMonitorSource(sensors.hub)
        got = _collect(src, 2.5)
        raw = sub.drain()
    finally:
        sensors.close()
    by_stream: dict[str, list] = {}
    for _, block in raw:
        by_stream.setdefault(block.stream, []).append(block)

    def rows(stream):
        blocks = by_stream[stream]
        return (np.concatenate([b.host_t_s for b in blocks]),
                np.concatenate([b.values for b in blocks]))  # fmt: skip

    # Myo: int8 counts at 200 Hz -> 20-row windows every 10 rows, in counts (no µV invented)
    t, x = rows("emg")
    assert len(got["emg"]) >= 30
    for t_end, values in got["emg"].items():
        assert set(values) == {"rms_counts"}
        assert values["rms_counts"] == pytest.approx(_batch_envelope(t, x, t_end, 20), rel=1e-9)
    # the recorded fist is well above the counts floor (EMG_SET_FLOOR), so it is judged
    assert np.mean([v["rms_counts"] for v in got["emg"].values()]) > 12.0
    # Moxy: SmO2 and THb (g/dL) as sent; no haemoglobin in µM
    t, x = rows("smo2")
    assert len(got["nirs"]) >= 3
    for t_s, values in got["nirs"].items():
        (i,) = np.flatnonzero(t == t_s)
        assert values["smo2_pct"] == x[i, 0] == 53.3 and values["thb_g_dl"] == x[i, 1]
        assert math.isnan(values["thb_um"]) and math.isnan(values["o2hb_um"])
    # HR strap: the notified bpm at its notification time, connected
    t, x = rows("hr")
    assert len(got["hr"]) >= 2
    for t_s, values in got["hr"].items():
        (i,) = np.flatnonzero(t == t_s)
        assert values == {"bpm": x[i, 0], "connected": 1.0}


def test_a_strap_disconnect_is_reported_at_once_and_a_new_notification_clears_it():
    sensors = FakeSensors(hr_interval_s=0.2)
    try:
        src = HubMonitorSource(sensors.hub)
        assert wait_until(lambda: "hr" in src(), 2.0)
        hr = sensors.hr

        def drop() -> None:
            hr.refuse_connects = 1  # the first reconnect fails, the second succeeds
            hr.force_disconnect()

        t_drop = sensors.on_hub(drop)
        assert wait_until(lambda: src()["hr"][1]["connected"] == 0.0, 0.1)
        t_s, values = src()["hr"]
        assert t_drop <= t_s <= t_drop + 0.1 and values["bpm"] > 0
        # back after the driver's back-off (0.5 s, then 1 s) and a new notification
        assert wait_until(lambda: src()["hr"][1]["connected"] == 1.0, 5.0)
        assert src()["hr"][0] > t_s
    finally:
        sensors.close()


def test_simulated_moxy_and_strap_values_and_a_removed_strap():
    with DeviceHub(name="test-sim-hub") as hub:
        hub.add_source(SmO2Simulator(), key="moxy")
        hub.add_source(HeartRateSimulator(notify_s=0.25), key="strap")
        sub = hub.subscribe()
        src = HubMonitorSource(hub)
        got = _collect(src, 1.5)
        blocks = sub.drain()
        nirs = {float(b.host_t_s[-1]): b.values[-1] for _, b in blocks if b.stream == "smo2"}
        hr = {float(b.host_t_s[-1]): b.values[-1, 0] for _, b in blocks if b.stream == "hr"}
        for t_s, values in got["nirs"].items():
            assert (values["smo2_pct"], values["thb_g_dl"]) == tuple(nirs[t_s])
        for t_s, values in got["hr"].items():
            assert values == {"bpm": hr[t_s], "connected": 1.0}
        t_removed = time.monotonic()
        hub.remove_source("strap")  # the hub stopped the strap's source
        t_s, values = src()["hr"]
        assert values["connected"] == 0.0 and t_s >= t_removed
    assert len(got["nirs"]) >= 2 and len(got["hr"]) >= 4


def test_two_streams_for_one_monitor_are_refused_unless_one_is_chosen():
    with DeviceHub(name="test-two-emg-hub") as hub:
        hub.add_source(EmgSimulator(), key="emg-a")
        hub.add_source(EmgSimulator(), key="emg-b")
        with pytest.raises(ValueError, match="two emg streams"):
            HubMonitorSource(hub)
        src = HubMonitorSource(hub, sources=["emg-b"])
        assert src.streams == {"emg": "emg-b/emg"}
        src.close()


# ------------------------------------------------------------------ the supervisor's side
class _Rig:
    """A supervisor armed on a vented cuff, checked at 100 Hz."""

    def __init__(self, monitors: tuple[str, ...], limits: CuffLimits | None = None) -> None:
        self.sup = Supervisor(limits or simulated_limb_limits(), monitors=monitors)
        self.seq, self.now = 0, 0.0
        self.sup.arm(0.0, self._reading())

    def _reading(self) -> PressureReading:
        self.seq += 1
        return PressureReading(0.1 * (self.seq % 3), self.seq, self.now, self.now)

    def run(self, seconds: float, every_s: float, name: str, **values: float) -> list:
        """Tick for ``seconds``, a ``name`` sample every ``every_s``; the trips."""
        trips, next_sample = [], self.now
        for _ in range(round(seconds / 0.01)):
            self.now = round(self.now + 0.01, 9)
            if self.now >= next_sample - 1e-9:
                self.sup.monitor_sample(name, self.now, **values)
                next_sample += every_s
            trips += self.sup.check(self.now, self._reading())
        return trips


@pytest.mark.parametrize(
    ("unit", "level", "judged"),
    [("rms_counts", 15.0, True), ("rms_counts", 8.0, False),
     ("rms_uv", 25.0, True), ("rms_uv", 15.0, False)],
)  # fmt: skip
def test_emg_collapse_is_judged_above_the_floor_of_its_unit(unit, level, judged):
    """Myo counts: a set over 10 counts is judged; µV: over 20 µV (EMG_SET_FLOOR)."""
    rig = _Rig(("emg",))
    rig.sup.set_phase("set", 0.0)
    assert not rig.run(3.0, 0.1, "emg", **{unit: level})
    trips = rig.run(1.0, 0.1, "emg", **{unit: 0.05 * level})
    assert [t.reason for t in trips] == ([SafetyReason.MONITOR] if judged else [])
    if judged:
        assert "EMG amplitude collapsed" in trips[0].message


def test_nirs_without_um_haemoglobin_is_armed_for_desaturation_only():
    limits = authorize_override(
        dataclasses.replace(CuffLimits.for_session(200.0, "leg"), arterial_signature_s=5.0),
        supervisor="test",
        reason="simulated limb whose AOP is known exactly (no person)",
    )
    # the arterial signature (tHb flat, O2Hb falling, at rest) trips with µM values ...
    rig = _Rig(("nirs",), limits)
    falling = []
    for k in range(14):
        falling += rig.run(0.5, 0.5, "nirs", thb_um=80.0, o2hb_um=60.0 - 1.0 * k, smo2_pct=60.0)
    assert any("arterial occlusion signature" in t.message for t in falling)
    # ... a Moxy has none (NaN): only desaturation is judged
    rig = _Rig(("nirs",), limits)
    moxy = dict(thb_um=math.nan, o2hb_um=math.nan, thb_g_dl=12.2)
    assert not rig.run(10.0, 0.5, "nirs", smo2_pct=60.0, **moxy)
    trips = rig.run(0.5, 0.5, "nirs", smo2_pct=3.0, **moxy)
    assert [t.message for t in trips] == ["NIRS complete desaturation: SmO2 3.0 %"]
    # the session says so
    cuff = RealtimeSimCuff()
    try:
        live = LiveSession(
            cuff, simulated_limb_limits(), require_operator=False,
            monitor_source=lambda: {"nirs": (1.0, dict(smo2_pct=60.0, **moxy))},
        )  # fmt: skip
        assert live.monitor_status["nirs"] == (
            "armed (desaturation only: no µM haemoglobin from this device)"
        )
        assert live.supervisor.monitors == {"nirs"}
    finally:
        cuff.close()
