"""The control loop in its own process (issue 12.6): kernel death, loop death, busy kernel.

The cuff is the emulator process on a pty; its true pressure and firmware state (read from
its truth file) are the reference, not what the loop reports.
"""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from bfr_helpers import busy_kernel, simulated_limb_limits, store_with_athlete, wait_until
from workbench.bfr.limits import CuffLimits
from workbench.bfr.loop_process import LoopProcessError, ProcessLiveSession
from workbench.bfr.protocol import FirmwareState
from workbench.bfr.simulation.emulator import spawn_emulator
from workbench.errors import SafetyError
from workbench.store import open_store

pytestmark = pytest.mark.slow

VENT_S = 0.5  # req 8
WATCHDOG_S = 0.25  # req 10
SLACK_S = 0.35  # scheduling on a shared, loaded 2-core machine


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by its parent) counts as gone
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


@dataclass
class _Kernel:
    """A kernel subprocess that printed ``STARTED <loop pid> <emulator pid> <truth path>``."""

    proc: subprocess.Popen
    pids: list[int]
    truth: object  # the emulator's Truth; our own mapping stays valid after the file is removed
    truth_path: Path


@contextmanager
def _kernel_subprocess(code: str) -> Iterator[_Kernel]:
    """Run ``code`` as a kernel in a subprocess; whatever a failed test leaves running is
    killed on the way out."""
    from workbench.bfr.simulation.emulator import Truth

    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    pids: list[int] = []
    try:
        line = proc.stdout.readline().split()
        assert line and line[0] == "STARTED", line
        pids += [int(line[1]), int(line[2])]
        yield _Kernel(proc, pids, Truth(line[3]), Path(line[3]))
    finally:
        if proc.poll() is None:
            proc.kill()
        for p in pids:
            if _pid_alive(p):
                os.kill(p, signal.SIGKILL)


def _sigkill_kernel_ends_vented(k: _Kernel) -> None:
    """SIGKILL the kernel subprocess: the cuff is below 20 mmHg in time, vented by the loop
    process or the firmware, both processes are gone and the truth file is removed."""
    t_kill = time.monotonic()
    os.kill(k.proc.pid, signal.SIGKILL)
    k.proc.wait(5)
    assert wait_until(lambda: k.truth.read()["pressure_mmhg"] < 20, VENT_S + SLACK_S + 0.25)
    assert time.monotonic() - t_kill <= VENT_S + SLACK_S + 0.25
    state = k.truth.read()["state"]
    assert state in (FirmwareState.VENTED_HOST, FirmwareState.VENTED_WATCHDOG)
    assert wait_until(lambda: not any(_pid_alive(p) for p in k.pids), 8.0)
    assert not k.truth_path.exists()
    k.truth.close()


def test_unauthorized_limits_spawn_nothing():
    with pytest.raises(SafetyError):
        ProcessLiveSession("/dev/null", CuffLimits.for_session(200, "leg"))


def test_loop_process_regulates_audits_and_vents_on_stop(tmp_path):
    url, store = store_with_athlete(tmp_path)
    emu = spawn_emulator(seed=31)
    s = ProcessLiveSession(
        emu.port, simulated_limb_limits(), truth_path=emu.truth.path, store=store,
        require_operator=False,
    )  # fmt: skip
    try:
        assert s.monitor_status == {"nirs": "armed", "emg": "armed", "hr": "armed"}
        assert s.loop_pid != os.getpid()
        s.start()
        sp = s.request_setpoint(110)
        assert wait_until(lambda: abs(emu.read()["pressure_mmhg"] - sp) < 6, 12.0), s.latched
        time.sleep(1.0)
        assert abs(emu.read()["pressure_mmhg"] - sp) < 10
        snap = s.snapshot()
        assert snap.loop_running and not snap.vented and not snap.pressure_stale
        assert abs(snap.pressure_mmhg - emu.read()["pressure_mmhg"]) < 10
        assert abs(snap.setpoint_mmhg - sp) < 1
        with pytest.raises(ValueError):  # rejected in the kernel, never clamped
            s.request_setpoint(s.limits.max_setpoint_mmhg + 20)
        t_stop = time.monotonic()
        s.stop()
        assert wait_until(lambda: emu.read()["pressure_mmhg"] < 20, VENT_S + SLACK_S)
        assert time.monotonic() - t_stop < 5.0
        assert emu.read()["state"] == FirmwareState.VENTED_HOST
        assert s.proc.returncode == 0
    finally:
        s.stop()
        emu.close()
    codes = set(open_store(url).bfr_events(s.session_id)["code"])
    assert {"armed", "setpoint", "request_setpoint", "disarmed"} <= codes
    assert {"armed", "request_setpoint"} <= {e.code for e in s.events}  # mirrored to the kernel
    host, _, vals = open_store(url).read_stream(s.stream_id)
    assert len(host) > 100 and np.nanmax(vals[:, 0]) > 90
    assert float(np.median(np.diff(host))) == pytest.approx(0.01, abs=0.003)


KERNEL = textwrap.dedent(
    """
    import sys, time
    from workbench.bfr.authority import authorize_override
    from workbench.bfr.limits import CuffLimits
    from workbench.bfr.loop_process import ProcessLiveSession
    from workbench.store import open_store
    lim = authorize_override(CuffLimits.for_session(200, "leg"), supervisor="test",
                             reason="simulated limb whose AOP is known exactly (no person)")
    s = ProcessLiveSession(sys.argv[1], lim, store=open_store(sys.argv[2]),
                           require_operator=False)
    s.start()
    s.request_setpoint(120)
    print("STARTED", s.loop_pid, s.session_id, flush=True)
    time.sleep(120)
    """
)


def test_sigkilled_kernel_the_loop_process_vents_and_closes_the_audit(tmp_path):
    url, store = store_with_athlete(tmp_path)
    emu = spawn_emulator(seed=8)
    kernel = subprocess.Popen(
        [sys.executable, "-c", KERNEL, emu.port, url], stdout=subprocess.PIPE, text=True
    )
    loop_pid = None
    try:
        line = kernel.stdout.readline().split()
        assert line and line[0] == "STARTED", line
        loop_pid, session_id = int(line[1]), int(line[2])
        assert wait_until(lambda: emu.read()["pressure_mmhg"] > 90, 15.0), emu.read()
        t_kill = time.monotonic()
        os.kill(kernel.pid, signal.SIGKILL)
        kernel.wait(5)
        assert wait_until(lambda: emu.read()["pressure_mmhg"] < 20, VENT_S + SLACK_S + 0.25)
        assert time.monotonic() - t_kill <= VENT_S + SLACK_S + 0.25
        # the loop process vented (host VENT) before the watchdog would have
        assert emu.read()["state"] == FirmwareState.VENTED_HOST
        assert wait_until(lambda: not _pid_alive(loop_pid), 5.0)
    finally:
        if kernel.poll() is None:
            kernel.kill()
        if loop_pid is not None and _pid_alive(loop_pid):
            os.kill(loop_pid, signal.SIGKILL)
        emu.close()
    store = open_store(url)
    row = store.bfr_sessions().set_index("session_id").loc[session_id]
    assert row["status"] == "interrupted"
    ev = store.bfr_events(session_id)
    assert any("kernel gone" in str(m) for m in ev["message"]), ev


def test_sigkilled_loop_process_is_vented_by_the_firmware_watchdog():
    emu = spawn_emulator(seed=13)
    s = ProcessLiveSession(emu.port, simulated_limb_limits(), require_operator=False)
    try:
        s.start()
        s.request_setpoint(120)
        assert wait_until(lambda: emu.read()["pressure_mmhg"] > 90, 15.0), s.latched
        t_kill = time.monotonic()
        os.kill(s.loop_pid, signal.SIGKILL)
        assert wait_until(lambda: emu.read()["pressure_mmhg"] < 20, WATCHDOG_S + VENT_S + SLACK_S)
        assert time.monotonic() - t_kill <= WATCHDOG_S + VENT_S + SLACK_S
        truth = emu.read()
        assert truth["state"] == FirmwareState.VENTED_WATCHDOG
        assert truth["last_vent_t_s"] - truth["last_heartbeat_t_s"] == pytest.approx(
            WATCHDOG_S, abs=0.005
        )
        assert wait_until(lambda: s.dead_reason is not None, 2.0)
        snap = s.snapshot()
        assert snap.vented and not snap.loop_running
        assert any("loop_process" in m for m in snap.latched)
        with pytest.raises(LoopProcessError):
            s.request_setpoint(100)
    finally:
        s.stop()
        emu.close()


def test_corrupted_line_latches_a_vent_in_the_loop_process():
    emu = spawn_emulator(seed=17)
    s = ProcessLiveSession(emu.port, simulated_limb_limits(), require_operator=False)
    try:
        s.start()
        s.request_setpoint(100)
        assert wait_until(lambda: emu.read()["pressure_mmhg"] > 60, 15.0), s.latched
        emu.corrupt(1.0)
        assert wait_until(lambda: s.snapshot().vented, 1.5)
        assert wait_until(lambda: emu.read()["pressure_mmhg"] < 20, VENT_S + SLACK_S + 0.5)
        assert s.snapshot().loop_running  # vented and latched, not crashed
        assert any("stale" in m for m in s.latched), s.latched
        assert emu.read()["host_crc_errors"] == 0  # the host's frames stayed intact
    finally:
        s.stop()
        emu.close()


def test_busy_kernel_does_not_disturb_the_loop_process():
    """CPU hog + cyclic garbage in the kernel (client) process, as in bench/bfr_bench.py."""
    emu = spawn_emulator(seed=2)
    s = ProcessLiveSession(
        emu.port, simulated_limb_limits(), require_operator=False, record_periods=True
    )
    try:
        s.start()
        sp = s.request_setpoint(120)
        gc0 = sum(st["collections"] for st in gc.get_stats())
        with busy_kernel():
            time.sleep(6.0)
            for _ in range(50):  # the kernel still gets answers while busy
                s.operator_heartbeat()
            assert sum(st["collections"] for st in gc.get_stats()) > gc0  # the load was real
            assert abs(emu.read()["pressure_mmhg"] - sp) < 12
            assert not s.latched, s.latched
        periods_ms = np.asarray(s.periods_s()) * 1000
    finally:
        s.stop()
        emu.close()
    assert len(periods_ms) > 400
    assert np.percentile(periods_ms, 50) == pytest.approx(10.0, abs=1.5)
    assert periods_ms.max() < 100.0  # req 10: never an overrun (the bench prints p99/max)


def test_panel_drives_a_loop_process_session():
    """The BFR panel needs only snapshot/vent/operator_heartbeat/acknowledge: it works
    unchanged on the process session (heartbeats, vent button, acknowledgement)."""
    from bfr_helpers import captured_panel

    s = ProcessLiveSession.on_emulator(simulated_limb_limits(), seed=3, require_operator=True)
    emu = s.emulator
    panel, _sent, _wall = captured_panel(s, operator="Tech A")
    try:
        panel._on_custom_msg(panel, {"type": "ready"}, [])
        s.start()
        s.request_setpoint(100)
        end = time.monotonic() + 5.0  # longer than the 3 s operator timeout
        while time.monotonic() < end:
            panel._on_custom_msg(panel, {"type": "heartbeat", "seen": 1}, [])
            time.sleep(0.3)
        assert not s.latched, s.latched
        assert emu.read()["pressure_mmhg"] > 80
        panel._on_custom_msg(panel, {"type": "vent", "who": "Tech A"}, [])
        assert wait_until(lambda: emu.read()["state"] == FirmwareState.VENTED_HOST, 0.2)
        assert wait_until(lambda: emu.read()["pressure_mmhg"] < 20, VENT_S + SLACK_S)
        assert wait_until(lambda: s.latched, 1.0)
        panel.poll_state()
        assert panel.state["vented"] and panel.state["alarms"][0]["reason"] == "operator_vent"
        time.sleep(0.3)  # the sensor follows the true pressure
        panel._on_custom_msg(panel, {"type": "ack", "who": "Tech A"}, [])
        assert wait_until(lambda: not s.latched, 1.0), s.latched
        assert [e.code for e in s.events if e.kind == "ack"] == ["acknowledged"]
    finally:
        panel.close()
        s.stop()
    assert not emu.alive


KERNEL_DEFAULT_PATH = textwrap.dedent(
    """
    import sys, time
    from workbench.bfr.authority import authorize_override
    from workbench.bfr.limits import CuffLimits
    from workbench.bfr.live import open_live_session
    lim = authorize_override(CuffLimits.for_session(200, "leg"), supervisor="test",
                             reason="simulated limb whose AOP is known exactly (no person)")
    s = open_live_session(lim, require_operator=False)  # loop process + emulator
    s.start()
    s.request_setpoint(110)
    print("STARTED", s.loop_pid, s.emulator.proc.pid, s.emulator.truth.path, flush=True)
    time.sleep(120)
    """
)


def test_sigkilled_kernel_on_the_default_path_ends_vented_and_leaves_nothing_running():
    """The kernel spawned both the loop process and the emulator; after its SIGKILL the cuff
    is vented, both processes exit and their mapped files are removed."""

    with _kernel_subprocess(KERNEL_DEFAULT_PATH) as k:
        assert wait_until(lambda: k.truth.read()["pressure_mmhg"] > 90, 15.0), k.truth.read()
        _sigkill_kernel_ends_vented(k)


KERNEL_WITH_PANEL = textwrap.dedent(
    """
    import asyncio, datetime as dt
    from workbench.bfr.calibration import AopReading, CuffContext
    from workbench.bfr.screening import ScreeningForm, all_clear
    from workbench.bfr.session import BfrSession
    from workbench.widgets.bfr_controls import live_bfr_panel

    day = dt.date.today()
    s = BfrSession(CuffContext("ath01", "c1", "leg", "right"))
    s.complete_screening(ScreeningForm("ath01", day, all_clear(), 120, 75, "T"), "T")
    s.cuff_applied(0.0, "T")
    s.set_prediction(200.0)
    s.add_aop_reading(AopReading(200.0, "doppler", s.context, day))
    s.add_aop_reading(AopReading(200.0, "ppg", s.context, day))
    s.prescribe(60, exercise="leg press", load_pct_1rm=30, who="T")

    async def main():
        box = live_bfr_panel(s, operator="T")  # the default path: loop process + emulator
        panel, live = box.panel, box.live
        panel.send = lambda content, buffers=None: None  # no browser: heartbeats below
        panel._on_custom_msg(panel, {"type": "ready"}, [])  # a view: arms the session
        print("STARTED", live.loop_pid, live.emulator.proc.pid, live.emulator.truth.path,
              flush=True)
        while True:
            panel._on_custom_msg(panel, {"type": "heartbeat", "seen": panel._seq}, [])
            await asyncio.sleep(0.2)

    asyncio.run(main())
    """
)


def test_sigkilled_kernel_with_the_panel_ends_vented_and_leaves_nothing_running():
    """A kernel built the panel's gated session (BfrSession -> live_bfr_panel, armed by the
    panel's first view) and inflated to 60 % AOP; after its SIGKILL the emulator's true
    pressure falls below 20 mmHg in time, both processes exit and their files are removed."""

    with _kernel_subprocess(KERNEL_WITH_PANEL) as k:
        target = 0.6 * 200.0  # stated: 60 % of the confirmed AOP
        assert wait_until(lambda: abs(k.truth.read()["pressure_mmhg"] - target) < 10, 20.0), (
            k.truth.read()
        )
        time.sleep(1.0)
        assert k.truth.read()["pressure_mmhg"] > 100  # still inflated: the panel heartbeats
        _sigkill_kernel_ends_vented(k)
