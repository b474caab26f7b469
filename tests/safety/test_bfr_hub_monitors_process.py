"""Issue 12.3 with real sensor streams on the default path: a Moxy, a Myo and an HR strap
(the fake BLE backend replaying recorded payloads) on a real ``DeviceHub`` in this (the
kernel's) process feed the supervisor of the loop process (``ProcessLiveSession``) through
``HubMonitorSource``. SmO2 complete desaturation, a sudden EMG collapse in a set and a lost
strap vent within 0.5 s; a feed that stops in the kernel goes stale in the loop process and
vents there (BFR-SAFETY.md req 12).

Event times are this process's (``time.monotonic``: when the sample arrived, or when the
fault was made on the hub's loop), vent times the emulator's truth; both on one clock via
the emulator's ``t0_mono_s``. ADR 0008 describes the path.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time

import numpy as np
import pytest

from bfr_helpers import (
    FakeSensors,
    inflate_process_session,
    moxy_payload,
    myo_fist_rows,
    simulated_limb_limits,
    wait_until,
)
from workbench.bfr.loop_process import ProcessLiveSession
from workbench.bfr.monitor_feed import HubMonitorSource
from workbench.bfr.protocol import FirmwareState
from workbench.drivers import parsers as p
from workbench.errors import SafetyReason

pytestmark = pytest.mark.slow

VENT_S = 0.5  # issue 12.3: the event -> vented
MONITOR_STALE_S = 1.0  # req 12
TRUE_VENTED_MMHG = 20.0
MOXY_ONLY = "armed (desaturation only: no µM haemoglobin from this device)"


class _Feed:
    """The hub's monitor source, as read by the kernel-side feed thread; :meth:`block`
    stalls that thread inside the read (a hung kernel)."""

    def __init__(self, src: HubMonitorSource) -> None:
        self.src = src
        self.open = threading.Event()
        self.open.set()

    def __call__(self):
        self.open.wait()
        return self.src()

    def block(self) -> None:
        self.open.clear()


@pytest.fixture
def rig():
    """A loop-process session on a new emulator whose monitors are the fake BLE sensors."""
    sensors = FakeSensors()
    src = HubMonitorSource(sensors.hub)
    feed = _Feed(src)
    try:
        assert wait_until(lambda: set(src()) == {"nirs", "emg", "hr"}, 5.0), src()
        s = ProcessLiveSession.on_emulator(
            simulated_limb_limits(),
            seed=int(time.time()) % 10_000,
            require_operator=False,
            monitor_source=feed,
        )
        try:
            assert s.monitor_status == {"nirs": MOXY_ONLY, "emg": "armed", "hr": "armed"}
            yield s, sensors
        finally:
            feed.open.set()
            s.stop()
    finally:
        src.close()
        sensors.close()


def _emu_t(s: ProcessLiveSession, mono_s: float) -> float:
    """A ``time.monotonic`` instant on the emulator's clock."""
    return mono_s - s.emulator.read()["t0_mono_s"]


def _wait_vent(s: ProcessLiveSession, timeout_s: float) -> dict[str, float]:
    emu = s.emulator
    assert wait_until(lambda: emu.read()["n_vents"] >= 1, timeout_s, 0.002), (
        emu.read(), s.latched)  # fmt: skip
    truth = emu.read()
    assert truth["last_vent_state"] == FirmwareState.VENTED_HOST  # the loop, not the watchdog
    return truth


def _trip_message(s: ProcessLiveSession) -> str:
    assert wait_until(lambda: any(e.kind == "trip" for e in s.events), 2.0), s.events
    trip = next(e for e in s.events if e.kind == "trip")
    assert trip.code == SafetyReason.MONITOR.value, s.events
    return trip.message


def _assert_deflates(s: ProcessLiveSession, t_vent_s: float) -> float:
    emu = s.emulator
    assert wait_until(lambda: emu.read()["pressure_mmhg"] < TRUE_VENTED_MMHG, 3.0, 0.002)
    deflated = emu.read()["t_s"] - t_vent_s
    assert deflated <= VENT_S + 0.1, deflated
    return deflated


def _report(what: str, **figures: float) -> None:
    print(f"\nMEASURED {what}: " + ", ".join(f"{k}={v:.3f} s" for k, v in figures.items()))


def test_a_gated_session_arms_the_hub_monitors_and_says_what_they_judge(tmp_path):
    """``BfrSession.live(monitor_source=...)`` on the default path arms the connected
    sensors; the panel's status says the Moxy's NIRS judges desaturation only."""
    from workbench.bfr.calibration import AopReading, CuffContext
    from workbench.bfr.ledger import TimeLedger
    from workbench.bfr.screening import ScreeningForm, all_clear
    from workbench.bfr.session import BfrSession

    day = dt.date.today()
    s = BfrSession(CuffContext("ath01", "c1", "leg", "right", "seated"),
                   ledger=TimeLedger(tmp_path / "ledger.json"))  # fmt: skip
    s.complete_screening(
        ScreeningForm(athlete_id="ath01", day=day, answers=all_clear(), systolic_mmhg=120,
                      diastolic_mmhg=75, screened_by="J. Tech"),
        "J. Tech",
    )  # fmt: skip
    s.cuff_applied(0.0, "J. Tech")
    s.set_prediction(200.0)
    s.add_aop_reading(AopReading(200.0, "doppler", s.context, day))
    assert s.add_aop_reading(AopReading(200.0, "ppg", s.context, day)) is not None
    s.prescribe(50.0, exercise="leg press", load_pct_1rm=30, who="J. Tech")
    sensors = FakeSensors()
    src = HubMonitorSource(sensors.hub)
    try:
        assert wait_until(lambda: set(src()) == {"nirs", "emg", "hr"}, 5.0), src()
        live = s.live(aop_mmhg=200.0, require_operator=False, monitor_source=src)
        try:
            assert live.monitor_status == {"nirs": MOXY_ONLY, "emg": "armed", "hr": "armed"}
            s.arm("J. Tech")  # starts the loop process's control loop
            assert wait_until(lambda: any(e.code == "monitors" for e in live.events), 2.0)
            (ev,) = [e for e in live.events if e.code == "monitors"]
            assert ev.message.startswith("emg, hr, nirs (armed")
            smo2, emg_uv = live.monitor_values()  # what the monitors read: the Moxy's SmO2
            assert smo2 == 53.3 and math.isnan(emg_uv)  # the Myo's counts are no µV
        finally:
            s.end_live("J. Tech")
    finally:
        src.close()
        sensors.close()


def test_moxy_complete_desaturation_vents_within_half_a_second(rig):
    s, sensors = rig
    inflate_process_session(s)
    sub = sensors.hub.subscribe(streams={"smo2"})
    sensors.on_hub(lambda: sensors.moxy.notifications.update(
        {p.MOXY_SMO2_UUID: [moxy_payload(2.0)]}))  # fmt: skip
    # the event: the first desaturated sample as it arrived from the device
    t_desat = math.nan
    end = time.monotonic() + 3.0
    while math.isnan(t_desat) and time.monotonic() < end:
        item = sub.get(0.1)
        if item is not None and item[1].values[-1, 0] < s.limits.smo2_floor_pct:
            t_desat = float(item[1].host_t_s[-1])
    sub.close()
    assert not math.isnan(t_desat)
    truth = _wait_vent(s, 2.0)
    dt_s = truth["last_vent_t_s"] - _emu_t(s, t_desat)
    assert 0.0 <= dt_s <= VENT_S, (dt_s, s.latched)
    assert "NIRS complete desaturation: SmO2 2.0 %" in _trip_message(s)
    deflated = _assert_deflates(s, truth["last_vent_t_s"])
    _report("Moxy desaturation", sample_to_vent=dt_s, vent_to_20mmHg=deflated)


def test_myo_emg_collapse_in_a_set_vents_within_half_a_second(rig):
    s, sensors = rig
    inflate_process_session(s)
    s.set_phase("set")
    time.sleep(3.5)  # the set's EMG level is established (> 2 s of envelope values)
    assert s.emulator.read()["n_vents"] == 0 and not s.latched, s.latched
    rows = np.round(myo_fist_rows()[:2000] * 0.05).astype(np.int8)  # to 5 % of the fist
    collapsed = [rows[i : i + 2].tobytes() for i in range(0, len(rows), 2)]
    t_fault = sensors.on_hub(lambda: sensors.myo.notifications.update(
        {p.MYO_EMG_UUIDS[0]: collapsed}))  # fmt: skip
    truth = _wait_vent(s, 2.0)
    dt_s = truth["last_vent_t_s"] - _emu_t(s, t_fault)
    assert 0.0 <= dt_s <= VENT_S, (dt_s, s.latched)
    assert "EMG amplitude collapsed" in _trip_message(s)
    deflated = _assert_deflates(s, truth["last_vent_t_s"])
    _report("Myo EMG collapse", fault_to_vent=dt_s, vent_to_20mmHg=deflated)


def test_a_lost_hr_strap_vents_within_half_a_second(rig):
    s, sensors = rig
    inflate_process_session(s)

    def lose() -> None:
        sensors.hr.refuse_connects = 1000  # out of range: it does not come back
        sensors.hr.force_disconnect()

    t_lost = sensors.on_hub(lose)
    truth = _wait_vent(s, 2.0)
    dt_s = truth["last_vent_t_s"] - _emu_t(s, t_lost)
    assert 0.0 <= dt_s <= VENT_S, (dt_s, s.latched)
    assert "HR strap disconnected" in _trip_message(s)
    deflated = _assert_deflates(s, truth["last_vent_t_s"])
    _report("HR strap lost", disconnect_to_vent=dt_s, vent_to_20mmHg=deflated)


def test_a_blocked_kernel_feed_goes_stale_in_the_loop_process_and_vents(rig):
    """The sensors still stream to the hub; the kernel-side feed thread is stuck: the loop
    process receives nothing new, its monitors go silent after 1 s and it vents."""
    s, sensors = rig
    inflate_process_session(s)
    feed = s._monitor_source
    t_block = time.monotonic()
    feed.block()
    n_myo = len(sensors.myo.emitted)
    truth = _wait_vent(s, MONITOR_STALE_S + VENT_S + 1.0)
    dt_s = truth["last_vent_t_s"] - _emu_t(s, t_block)
    # the last samples arrived before the block (NIRS up to 0.5 s before): stale between
    # 0.5 and 1 s after it, then vented within 0.5 s
    assert MONITOR_STALE_S - 0.6 <= dt_s <= MONITOR_STALE_S + VENT_S, (dt_s, s.latched)
    assert "silent" in _trip_message(s)
    assert len(sensors.myo.emitted) > n_myo + 20  # the sensors kept streaming meanwhile
    deflated = _assert_deflates(s, truth["last_vent_t_s"])
    _report("blocked kernel feed", block_to_vent=dt_s, vent_to_20mmHg=deflated)
