"""BFR transport and loop-isolation benchmark (issue 12 items 5 and 6).

1. Loop period at 100 Hz on the pty transport with a busy kernel (CPU hog thread, cyclic
   garbage thread and a BFR panel polled at 25 Hz in this, the client, process): the loop
   in a kernel thread (``LiveSession``) against the loop in its own process
   (``ProcessLiveSession``).
2. Wire latency: host VENT written -> emulator firmware vented (its published state).
3. Kill -> vented: SIGKILL of the loop process -> true pressure < 20 mmHg (firmware watchdog).
4. The default notebook path: a gated ``BfrSession`` with ``live_bfr_panel`` (panel and
   controls refreshing on this process's asyncio loop, heartbeats at 2 Hz) and a ``LivePlot``
   of simulated EMG/SmO2 via the device hub, optionally with the CPU hog + garbage threads.

Run: ``.venv/bin/python bench/bfr_transport_bench.py [--loop-s 20] [--vents 200] [--kills 3]
[--panel-s 20]``.
Prints figures; asserts nothing about time. ADR: docs/decisions/0008-bfr-transport-and-loop-process.md
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # shared BFR helpers
from bfr_helpers import busy_kernel, simulated_limb_limits  # noqa: E402
from workbench.bfr import CuffLimits
from workbench.bfr.live import LiveSession
from workbench.bfr.loop_process import ProcessLiveSession
from workbench.bfr.protocol import FirmwareState
from workbench.bfr.serial_cuff import SerialCuff
from workbench.bfr.simulation.emulator import EmulatedSerialCuff, spawn_emulator
from workbench.widgets.bfr_panel import BfrPanel


def _limits() -> CuffLimits:
    return simulated_limb_limits(supervisor="bfr_transport_bench")


def pct(a, q) -> float:
    return float(np.percentile(np.asarray(a, dtype=float), q))


class KernelLoad:
    """What a busy notebook kernel does besides the session (as in bench/bfr_bench.py),
    plus a BFR panel polled at 25 Hz whose messages are dropped (no browser)."""

    def __init__(self, session, *, panel: bool = True) -> None:
        self.stop = threading.Event()
        self.panel = BfrPanel(session, autostart=False, operator="bench") if panel else None
        if self.panel is not None:
            self.panel.send = lambda content, buffers=None: None
        self.threads = [threading.Thread(target=self._panel_poll, daemon=True)] if panel else []
        self._busy = busy_kernel()

    def _panel_poll(self) -> None:
        while not self.stop.is_set():
            self.panel.poll()
            self.panel._on_custom_msg(self.panel, {"type": "heartbeat", "seen": 1}, [])
            time.sleep(0.04)

    def __enter__(self) -> KernelLoad:
        self._busy.__enter__()
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(2.0)
        self._busy.__exit__(None, None, None)
        if self.panel is not None:
            self.panel.close()


def _report(name: str, periods_s, latched, gc_runs: int, seconds: float) -> None:
    p_ms = np.asarray(periods_s) * 1000
    print(f"  {name} ({seconds:.0f} s, gc collections in the kernel: {gc_runs}):")
    print(
        f"    n={len(p_ms)}  p50={pct(p_ms, 50):.2f} ms  p99={pct(p_ms, 99):.2f} ms  "
        f"max={p_ms.max():.2f} ms  ticks>15 ms={int((p_ms > 15).sum())}  "
        f"ticks>50 ms={int((p_ms > 50).sum())}  alarms={latched or 'none'}"
    )


def loop_period(seconds: float) -> None:
    print("loop period at 100 Hz, pty transport, busy kernel (CPU hog + cyclic garbage + panel):")
    # a) the loop in a thread of this (busy) kernel
    cuff = EmulatedSerialCuff.spawn(seed=1)
    s = LiveSession(cuff, _limits(), require_operator=True)
    s.start()
    s.thread.record_periods = True
    s.request_setpoint(120)
    gc0 = sum(st["collections"] for st in gc.get_stats())
    with KernelLoad(s):
        time.sleep(seconds)
    gc_runs = sum(st["collections"] for st in gc.get_stats()) - gc0
    latched = [t.reason.value for t in s.supervisor.latched]
    s.stop()
    cuff.close()
    _report("loop in a kernel thread (LiveSession)", s.thread.periods_s, latched, gc_runs, seconds)
    # b) the loop in its own process
    p = ProcessLiveSession.on_emulator(
        _limits(), seed=1, require_operator=True, record_periods=True
    )
    p.start()
    p.request_setpoint(120)
    gc0 = sum(st["collections"] for st in gc.get_stats())
    with KernelLoad(p):
        time.sleep(seconds)
    gc_runs = sum(st["collections"] for st in gc.get_stats()) - gc0
    periods = p.periods_s()
    latched = list(p.latched)
    p.stop()
    _report("loop in its own process (ProcessLiveSession)", periods, latched, gc_runs, seconds)


def wire_vent_latency(n: int) -> None:
    emu = spawn_emulator(seed=2)
    cuff = SerialCuff(emu.port)
    lat_ms = []
    try:
        for _ in range(n):
            cuff.arm(200.0)
            cuff.heartbeat()
            t_end = time.monotonic() + 1.0
            while emu.read()["state"] != FirmwareState.ARMED and time.monotonic() < t_end:
                cuff.heartbeat()
                time.sleep(0.001)
            t_w = time.monotonic()
            cuff.vent()
            while True:
                truth = emu.read()
                if truth["state"] == FirmwareState.VENTED_HOST:
                    lat_ms.append(1000 * (truth["mono_s"] - t_w))
                    break
                if time.monotonic() - t_w > 1.0:
                    lat_ms.append(float("nan"))
                    break
            time.sleep(0.005)
    finally:
        cuff.close()
        emu.close()
    a = np.asarray(lat_ms)
    ok = a[np.isfinite(a)]
    print(
        f"wire latency host VENT -> emulator firmware vented (n={n}, lost={n - len(ok)}): "
        f"p50={pct(ok, 50):.2f} ms  p99={pct(ok, 99):.2f} ms  max={ok.max():.2f} ms"
    )


def kill_to_vented(n: int) -> None:
    out = []
    for k in range(n):
        p = ProcessLiveSession.on_emulator(_limits(), seed=10 + k, require_operator=False)
        emu = p.emulator
        try:
            p.start()
            p.request_setpoint(120)
            end = time.monotonic() + 20
            while emu.read()["pressure_mmhg"] < 100 and time.monotonic() < end:
                time.sleep(0.01)
            if emu.read()["state"] != FirmwareState.ARMED:
                print(f"  run {k}: the session vented before the kill ({p.latched}); skipped")
                continue
            t_kill = time.monotonic()
            os.kill(p.loop_pid, signal.SIGKILL)
            while emu.read()["pressure_mmhg"] >= 20 and time.monotonic() - t_kill < 5:
                time.sleep(0.001)
            t = emu.read()
            out.append(
                (
                    1000 * (time.monotonic() - t_kill),
                    FirmwareState(int(t["state"])).name,
                    1000 * (t["last_vent_t_s"] - t["last_heartbeat_t_s"]),
                )
            )
        finally:
            p.stop()
    print(f"SIGKILL loop process -> true pressure < 20 mmHg (n={n}, from ~100-120 mmHg):")
    for ms, state, wd in out:
        print(f"    {ms:.0f} ms  firmware {state}  (vented {wd:.0f} ms after the last heartbeat)")


def _ready_session():
    import datetime as dt

    from workbench.bfr.calibration import AopReading, CuffContext
    from workbench.bfr.screening import ScreeningForm, all_clear
    from workbench.bfr.session import BfrSession

    day = dt.date.today()
    s = BfrSession(CuffContext("ath01", "bench-cuff", "leg", "right"))
    s.complete_screening(ScreeningForm("ath01", day, all_clear(), 120, 75, "bench"), "bench")
    s.cuff_applied(0.0, "bench")  # a new emulator starts vented
    s.set_prediction(200.0)
    s.add_aop_reading(AopReading(200.0, "doppler", s.context, day))
    s.add_aop_reading(AopReading(200.0, "ppg", s.context, day))
    s.prescribe(60, exercise="leg press", load_pct_1rm=30, who="bench")
    return s


async def _panel_run(seconds: float, busy: bool) -> None:
    import asyncio

    from workbench.drivers.hub import get_hub
    from workbench.drivers.simulators import EmgSimulator, SmO2Simulator
    from workbench.widgets.bfr_controls import live_bfr_panel
    from workbench.widgets.live_plot import LivePlot

    flow = _ready_session()
    box = live_bfr_panel(flow, operator="bench", live_kw={"record_periods": True})
    panel, live = box.panel, box.live
    panel.send = lambda content, buffers=None: None  # no browser
    hub = get_hub()
    sources = [EmgSimulator(n_channels=8, sampling_rate_hz=2000.0), SmO2Simulator()]
    plot = LivePlot([i for src in sources for i in src.streams], window_s=10.0, refresh_hz=15.0)
    plot.start()
    sub = plot.subscribe_to(hub)
    keys = [hub.source_key(src) for src in sources]
    for src in sources:
        hub.add_source(src)
    load = KernelLoad(live, panel=False) if busy else None
    try:
        panel._on_custom_msg(panel, {"type": "ready"}, [])  # a view: flow.arm
        if load is not None:
            load.__enter__()
        gc0 = sum(st["collections"] for st in gc.get_stats())
        end = time.monotonic() + seconds
        while time.monotonic() < end:  # the browser: panel heartbeat, plot acknowledgement
            panel._on_custom_msg(panel, {"type": "heartbeat", "seen": panel._seq}, [])
            plot._on_ack("data", None, {"seq": [plot._seq]})  # as its view does
            await asyncio.sleep(0.5)
        gc_runs = sum(st["collections"] for st in gc.get_stats()) - gc0
        periods = live.periods_s()
        latched = list(live.latched)
    finally:
        if load is not None:
            load.__exit__()
        sub.close()
        for key in keys:
            hub.remove_source(key)
        plot.stop()
        box.controls.stop()
        panel.close()
        flow.end_live("bench")
    what = "panel + controls + live plot" + (" + CPU hog + garbage" if busy else "")
    _report(f"BfrSession on the loop process; client kernel: {what}", periods, latched,
            gc_runs, seconds)  # fmt: skip
    print(f"    plot refreshes={plot.n_refreshes} ({plot.n_samples_in} samples)  "
          f"panel heartbeats={panel.heartbeats}")  # fmt: skip


def panel_session(seconds: float) -> None:
    import asyncio

    print("loop period at 100 Hz, default path (BfrSession.live -> loop process + emulator):")
    for busy in (False, True):
        asyncio.run(_panel_run(seconds, busy))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loop-s", type=float, default=20.0)
    ap.add_argument("--vents", type=int, default=200)
    ap.add_argument("--kills", type=int, default=3)
    ap.add_argument("--panel-s", type=float, default=20.0)
    a = ap.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")
    if a.loop_s > 0:
        loop_period(a.loop_s)
    if a.vents > 0:
        wire_vent_latency(a.vents)
    if a.kills > 0:
        kill_to_vented(a.kills)
    if a.panel_s > 0:
        panel_session(a.panel_s)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
