"""The real 100 Hz control thread: stop, thread death and process kill end vented."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from bfr_helpers import simulated_limb_limits, store_with_athlete, wait_until
from workbench.bfr.live import LiveSession, RealtimeSimCuff
from workbench.bfr.protocol import FirmwareState
from workbench.store import open_store


def test_thread_regulates_and_vents_on_stop(tmp_path):
    _url, store = store_with_athlete(tmp_path)
    cuff = RealtimeSimCuff()
    s = LiveSession(cuff, simulated_limb_limits(), store=store, require_operator=False)
    s.start()
    s.request_setpoint(100)
    assert wait_until(lambda: cuff.true_pressure_mmhg > 60, 3.0)
    s.stop()
    assert wait_until(lambda: cuff.true_pressure_mmhg < 20, 0.5)
    cuff.close()
    ev = store.bfr_events(s.audit.session_id)
    assert {"armed", "setpoint", "request_setpoint", "disarmed"} <= set(ev["code"])
    host, _, vals = store.read_stream(s.audit.stream_id)
    assert len(host) > 50 and np.nanmax(vals[:, 0]) > 50  # sensor lags the true pressure
    assert float(np.median(np.diff(host))) == pytest.approx(0.01, abs=0.003)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_thread_death_is_caught_by_the_firmware_watchdog():
    """An exception in the tick AND in the loop's finally: only the firmware can vent."""
    cuff = RealtimeSimCuff()
    s = LiveSession(cuff, simulated_limb_limits(), require_operator=False)
    s.start()
    s.request_setpoint(120)
    assert wait_until(lambda: cuff.true_pressure_mmhg > 60, 6.0), s.supervisor.latched

    def broken_vent():
        raise OSError("serial port gone")

    def boom(now):
        raise RuntimeError("injected")

    cuff.vent = broken_vent  # type: ignore[method-assign]
    t_kill = time.monotonic()
    s.core.fault_hook = boom
    assert wait_until(lambda: not s.thread.alive, 1.0)
    assert wait_until(lambda: cuff.sim.state is FirmwareState.VENTED_WATCHDOG, 0.5)
    assert wait_until(lambda: cuff.true_pressure_mmhg < 20, 1.0)
    assert time.monotonic() - t_kill < 1.5
    del cuff.vent  # the port is back: close the session here, not at interpreter exit
    s.stop()
    cuff.close()


CHILD = textwrap.dedent(
    """
    import datetime, sys, time
    from workbench.bfr.authority import authorize_override
    from workbench.bfr.limits import CuffLimits
    from workbench.bfr.live import LiveSession, RealtimeSimCuff
    from workbench.store import open_store
    store = open_store(sys.argv[1])
    store.write("athletes", [{"athlete_id": "ath01", "name": "A", "sex": "F",
                              "birth_date": datetime.date(1990, 1, 1), "sport": "run"}])
    cuff = RealtimeSimCuff()
    lim = authorize_override(CuffLimits.for_session(200, "leg"), supervisor="test",
                             reason="simulated limb whose AOP is known exactly (no person)")
    s = LiveSession(cuff, lim, store=store, require_operator=False, clock=time.monotonic)
    s.start()
    s.request_setpoint(100)
    print("T0", s.t0_s, s.audit.session_id, s.audit.stream_id, flush=True)
    time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 60)  # then a normal exit
    """
)


def test_killed_kernel_loses_at_most_one_second(tmp_path):
    url = f"sqlite:///{tmp_path / 'wb.db'}"
    open_store(url).close()  # migrate first
    proc = subprocess.Popen([sys.executable, "-c", CHILD, url], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().split()
        assert line and line[0] == "T0", line
        t0, session_id, stream_id = float(line[1]), int(line[2]), int(line[3])
        time.sleep(2.5)
        t_kill = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(5)
    finally:
        if proc.poll() is None:
            proc.kill()
    store = open_store(url)
    assert store.integrity_check() == "ok"
    host, _, vals = store.read_stream(stream_id)
    assert len(host) > 100
    lost_s = (t_kill - t0) - host[-1]
    assert lost_s <= 1.0, f"lost {lost_s:.2f} s of pressure"
    ev = store.bfr_events(session_id)
    assert {"armed", "request_setpoint", "setpoint"} <= set(ev["code"])
    assert store.bfr_sessions().iloc[0]["status"] == "running"  # honest: it never closed


def test_normal_interpreter_exit_vents_and_closes_the_session(tmp_path):
    """A kernel shut down normally (e.g. Voila on tab close) never leaves the session open."""
    url = f"sqlite:///{tmp_path / 'wb.db'}"
    open_store(url).close()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, url, "1.5"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    store = open_store(url)
    session = store.bfr_sessions().iloc[0]
    assert session["status"] == "interrupted"
    ev = store.bfr_events(int(session["session_id"]))
    assert "disarmed" in set(ev["code"])
