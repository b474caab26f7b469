"""Helpers shared by the BFR tests that run a live (threaded) session on a simulated cuff."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from workbench.bfr.authority import authorize_override
from workbench.bfr.limits import CuffLimits
from workbench.errors import SafetyReason


def simulated_limb_limits(
    aop_mmhg: float = 200.0, limb: str = "leg", *, supervisor: str = "test"
) -> CuffLimits:
    """Limits for a simulated limb whose AOP is known exactly, armed under a logged test
    override (requirement 2: no person, so no calibration); ``supervisor`` names who."""
    return authorize_override(
        CuffLimits.for_session(aop_mmhg, limb),
        supervisor=supervisor,
        reason="simulated limb whose AOP is known exactly (no person)",
    )


def wait_until(pred: Callable[[], bool], timeout_s: float, poll_s: float = 0.005) -> bool:
    """Poll ``pred`` until it holds or ``timeout_s`` passes; its last value."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(poll_s)
    return pred()


class ManualClock:
    """A clock that moves only when the test sets ``t`` (seconds)."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def calibrate_on_simulator(sim, plan, detector, ctx, day, **kw):
    """``run_calibration`` on a ``CuffSimulator`` in simulated time (its clock, waits and NIRS)."""
    from workbench.bfr.calibration import run_calibration

    return run_calibration(
        sim,
        plan,
        detector,
        ctx,
        clock=lambda: sim.t_s,
        wait=lambda d: sim.advance_to(sim.t_s + d),
        nirs=lambda: sim.nirs,
        today=lambda: day,
        **kw,
    )


def captured_panel(session, wall_clock=None, **kw):
    """A ``BfrPanel`` on ``session`` whose messages to the browser are kept in a list.

    Returns ``(panel, sent, wall_clock)``; ``sent`` holds ``(content, buffers)`` per message.
    """
    from workbench.widgets.bfr_panel import BfrPanel

    sent: list = []
    wall = wall_clock or ManualClock()
    panel = BfrPanel(session, autostart=False, wall_clock=wall, **kw)
    panel.send = lambda content, buffers=None: sent.append((content, buffers))
    return panel, sent, wall


#: Sensor and pneumatic faults -> the supervisor reasons that may end them (what physically
#: shows each one), in training sessions and in calibration alike.
SENSOR_AND_PNEUMATIC_FAULT_REASONS = {
    "sensor_freeze": {SafetyReason.FROZEN_DATA},
    "sensor_dropout": {SafetyReason.STALE_DATA},
    "sensor_offset_plus_20": {SafetyReason.IMPLAUSIBLE_DATA},
    "sensor_offset_minus_20": {SafetyReason.IMPLAUSIBLE_DATA},
    "sensor_spikes": {SafetyReason.IMPLAUSIBLE_DATA},
    "nan_reading": {SafetyReason.IMPLAUSIBLE_DATA},
    "pump_stuck_on": {SafetyReason.OVER_PRESSURE_INSTANT, SafetyReason.OVER_PRESSURE_SUSTAINED},
    "leak_0_5mm": {SafetyReason.LEAK, SafetyReason.DEVIATION},
    "leak_1mm": {SafetyReason.LEAK, SafetyReason.DEVIATION},
    "hose_off": {SafetyReason.IMPLAUSIBLE_DATA, SafetyReason.DEVIATION},
}


@contextmanager
def busy_kernel() -> Iterator[threading.Event]:
    """A busy notebook kernel while the block runs: a thread contending for the GIL and one
    making cyclic garbage (the automatic collector runs all the time). Yields the stop event."""
    stop = threading.Event()

    def cpu_hog() -> None:
        x = 0
        while not stop.is_set():
            for i in range(20000):
                x += i * i

    def gc_pressure() -> None:
        junk: list = []
        while not stop.is_set():
            for _ in range(2000):
                a: list = []
                a.append(a)
                junk.append(a)
            if len(junk) > 50_000:
                junk = []
            time.sleep(0.001)

    threads = [threading.Thread(target=f, daemon=True) for f in (cpu_hog, gc_pressure)]
    for t in threads:
        t.start()
    try:
        yield stop
    finally:
        stop.set()
        for t in threads:
            t.join(2.0)


def store_with_athlete(directory) -> tuple[str, object]:
    """A fresh SQLite store in ``directory`` holding athlete ``ath01``; ``(url, store)``."""
    import datetime as dt

    from workbench.store import open_store

    url = f"sqlite:///{directory / 'wb.db'}"
    store = open_store(url)
    store.write("athletes", [{"athlete_id": "ath01", "name": "A", "sex": "F",
                              "birth_date": dt.date(1990, 1, 1), "sport": "run"}])  # fmt: skip
    return url, store


# ---------------------------------------------------------------- real monitor streams
#: Recorded Myo rows of a clenched fist (label 7 of ``tests/data/emg/myo_right_12345-1_7.txt``).
MYO_FIST_FILE = "emg/myo_right_12345-1_7.txt"


def myo_fist_rows():
    """The recorded Myo's fist rows, (n, 8) int8 counts."""
    from pathlib import Path

    import numpy as np

    d = np.loadtxt(Path(__file__).parent / "data" / MYO_FIST_FILE, delimiter=",")
    return d[d[:, 8] == 7, :8].astype(np.int64)


def moxy_payload(smo2_pct: float, thb_g_dl: float = 12.2, count: int = 0) -> bytes:
    """A Moxy SmO2 notification in the layout ``parse_moxy_smo2`` documents (u16 count,
    SmO2 x 0.1 %, previous SmO2, THb x 0.01 g/dL, u8 flags; little-endian)."""
    import struct

    sat = round(smo2_pct * 10)
    return struct.pack("<HHHHB", count, sat, sat, round(thb_g_dl * 100), 0)


class FakeSensors:
    """A Moxy (2 Hz), a Myo (200 Hz, replaying fist rows) and an HR strap (1 Hz) on the fake
    BLE backend, connected through a real :class:`~workbench.drivers.hub.DeviceHub`."""

    MOXY, MYO, HR = "AA:00:00:00:01:01", "AA:00:00:00:01:02", "AA:00:00:00:01:03"

    def __init__(self, *, hr_interval_s: float = 1.0) -> None:
        import json
        from pathlib import Path

        from fake_ble import (
            captured_payloads,
            heart_rate_peripheral,
            make_fake_backend,
            moxy_peripheral,
            myo_peripheral,
        )
        from workbench.drivers import ble
        from workbench.drivers.hub import DeviceHub

        vectors = json.loads((Path(__file__).parent / "data/ble/vectors.json").read_text())
        payloads = captured_payloads(vectors, myo_fist_rows())
        self.moxy = moxy_peripheral(self.MOXY, payloads["moxy"], interval_s=0.5)
        self.myo = myo_peripheral(self.MYO, payloads["myo"], interval_s=0.01)
        self.hr = heart_rate_peripheral(self.HR, payloads["hr"], interval_s=hr_interval_s)
        client, _ = make_fake_backend([self.moxy, self.myo, self.hr])
        self.hub = DeviceHub(name="fake-sensors-hub")
        try:
            for driver, address in (
                (ble.MoxyDriver, self.MOXY),
                (ble.MyoDriver, self.MYO),
                (ble.HeartRateDriver, self.HR),
            ):
                self.hub.add_source(driver(address, backend=client))
        except BaseException:
            self.hub.close()
            raise

    def on_hub(self, fn: Callable[[], None]) -> float:
        """Run ``fn`` on the hub's event loop (between notifications); the monotonic time
        at which it ran, s."""
        done: list[float] = []
        ran = threading.Event()

        def call() -> None:
            done.append(time.monotonic())
            fn()
            ran.set()

        self.hub.loop.call_soon_threadsafe(call)
        assert ran.wait(5.0), "the hub loop did not run the call"
        return done[0]

    def close(self) -> None:
        self.hub.close()


def inflate_process_session(s, mmhg: float = 120.0) -> None:
    """Start a :class:`~workbench.bfr.loop_process.ProcessLiveSession` on its emulator and
    wait until the emulated cuff is near ``mmhg`` with no vent and no latched trip."""
    s.start()
    s.request_setpoint(mmhg)
    emu = s.emulator
    assert wait_until(lambda: emu.read()["pressure_mmhg"] > mmhg - 20, 15.0), s.latched
    truth = emu.read()
    assert truth["n_vents"] == 0 and not s.latched, (truth, s.latched)
