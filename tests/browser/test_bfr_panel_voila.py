"""BFR panel in Voilà, headless Chromium: closing the tab vents the cuff; VENT vents.

The notebook (written into tmp_path) starts a :class:`LiveSession` on the real-time simulated
cuff once the panel's first heartbeat arrives and inflates it to 120 mmHg (60 % of a 200 mmHg
AOP, leg). Its audit log goes to a temporary SQLite database (``WORKBENCH_DB_URL``) that the
test reads: event wall times tie the session clock to the test's wall clock.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest

from conftest import serve_voila
from workbench.store import open_store

SCREENS = Path(__file__).parent / "screens"
SETPOINT = 120.0

NB_CODE = r"""
import asyncio, os
from workbench.bfr.limits import CuffLimits
from workbench.bfr.live import LiveSession, RealtimeSimCuff
from workbench.store import open_store
from workbench.widgets.bfr_panel import BfrPanel

store = open_store(os.environ["WORKBENCH_DB_URL"])
cuff = RealtimeSimCuff()
session = LiveSession(cuff, CuffLimits.for_session(200.0, "leg"), store=store,
                      athlete_id="ath01", side="right", require_operator=True)
panel = BfrPanel(session, operator="J. Doe",
                 title="BFR · ath01 · right leg · AOP 200 mmHg · 60 % AOP → 120 mmHg",
                 window_s=30.0)

async def protocol():
    panel.set_progress("settle", set_index=1, n_sets=4)
    while not session.supervisor.armed:
        await asyncio.sleep(0.05)
    await asyncio.sleep(3.0)
    cuff.set_activity("reps")
    for rep in range(30):
        panel.set_progress("set", set_index=1, n_sets=4, reps_done=rep, reps_target=30)
        await asyncio.sleep(2.0)

def arm():
    session.start()
    session.request_setpoint(120.0)

panel.on_connect(arm)  # arm only once the operator sees the panel
task = asyncio.ensure_future(protocol())
display(panel)
"""

PANEL = ".wb-bfr"
STATE_JS = """() => {
  const el = document.querySelector('.wb-bfr');
  if (!el) return null;
  const host = el.parentElement;
  return {pressure: parseFloat(host.dataset.pressure), vented: host.dataset.vented,
          beats: parseInt(host.dataset.heartbeats || '0'), rows: parseInt(host.dataset.rows || '0')};
}"""


@pytest.fixture(scope="module")
def voila_bfr(tmp_path_factory):
    """Voilà serving the panel notebook; yields (url, db_url)."""
    tmp = tmp_path_factory.mktemp("bfr_voila")
    db_url = f"sqlite:///{tmp / 'bfr.db'}"
    with open_store(db_url) as store:
        store.write("athletes", [{"athlete_id": "ath01", "name": "Test Athlete", "sex": "F",
                                  "birth_date": dt.date(1995, 1, 1), "sport": "rowing"}])  # fmt: skip
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(NB_CODE)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    path = tmp / "bfr_panel.ipynb"
    nbformat.write(nb, path)
    env = {
        "PYTHONUNBUFFERED": "1",
        "WORKBENCH_DB_URL": db_url,
        "WORKBENCH_DATA_DIR": str(tmp / "data"),
    }
    with serve_voila(path, cwd=tmp, env=env, timeout_s=30) as url:
        yield url, db_url


def _open_inflated(browser, url: str):
    page = browser.new_page(viewport={"width": 1120, "height": 820})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, timeout=60_000)
    page.wait_for_selector(PANEL, timeout=60_000)
    page.wait_for_function(
        f"() => {{ const s = ({STATE_JS})(); return s && s.pressure > {SETPOINT - 10}; }}",
        timeout=30_000,
    )
    return page, errors


def _new_session(db_url: str, known: set[int], timeout_s: float = 5.0) -> int:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        with open_store(db_url) as store:
            ids = set(store.bfr_sessions()["session_id"].astype(int)) - known
        if ids:
            return max(ids)
        time.sleep(0.2)
    raise AssertionError("the kernel did not create a bfr_sessions row")


def _vent_times(db_url: str, session_id: int, code: str, timeout_s: float):
    """Wait for event ``code``; return (event wall time, wall time when P < 20 mmHg after it).

    Wall times are UNIX seconds. The session clock is tied to wall time by the event's
    (wall_time, t_s) pair; the pressure stream is on the session clock.
    """
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        with open_store(db_url) as store:
            ev = store.bfr_events(session_id)
            hit = ev[ev["code"] == code]
            if len(hit):
                row = hit.iloc[0]
                wall = row["wall_time"].replace(tzinfo=dt.timezone.utc).timestamp()
                t0_wall = wall - float(row["t_s"])
                rec = int(store.bfr_sessions(session_id=session_id)["recording_id"].iloc[0])
                sid = int(store.streams(rec)["stream_id"].iloc[0])
                host, _, vals = store.read_stream(sid)
                after = (host >= float(row["t_s"])) & (vals[:, 0] < 20.0)
                if after.any():
                    before = vals[host < float(row["t_s"]), 0]
                    return wall, t0_wall + float(host[np.argmax(after)]), before
        time.sleep(0.2)
    raise AssertionError(f"no {code!r} event followed by P < 20 mmHg within {timeout_s} s")


def test_closing_the_panel_tab_vents_within_3_5_s(browser, voila_bfr):
    url, db_url = voila_bfr
    with open_store(db_url) as store:
        known = set(store.bfr_sessions()["session_id"].astype(int))
    page, errors = _open_inflated(browser, url)
    session_id = _new_session(db_url, known)
    page.wait_for_timeout(5000)  # a few contractions on the traces for the screenshot
    state = page.evaluate(STATE_JS)
    assert state["beats"] >= 5 and state["rows"] > 50 and state["vented"] == "0", state
    SCREENS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENS / "bfr_panel.png"), full_page=True)
    assert not errors, errors
    t_close = time.time()
    page.close()  # no beforeunload: the kernel lives on, the heartbeats stop (= network lost)
    trip_wall, vented_wall, before = _vent_times(db_url, session_id, "operator_heartbeat_lost", 8.0)
    assert np.nanmax(before) > SETPOINT - 10  # it was inflated until the trip
    assert 2.0 < trip_wall - t_close <= 3.2, trip_wall - t_close
    assert vented_wall - t_close <= 3.5, vented_wall - t_close


def test_vent_button_vents(browser, voila_bfr):
    url, db_url = voila_bfr
    with open_store(db_url) as store:
        known = set(store.bfr_sessions()["session_id"].astype(int))
    page, errors = _open_inflated(browser, url)
    session_id = _new_session(db_url, known)
    t_click = time.time()
    page.click("button.wb-bfr-vent")
    page.wait_for_function(
        f"() => {{ const s = ({STATE_JS})(); return s && s.vented === '1' && s.pressure < 20; }}",
        timeout=5_000,
    )
    ev_wall, vented_wall, _ = _vent_times(db_url, session_id, "operator_vent", 5.0)
    assert ev_wall - t_click < 0.5, ev_wall - t_click  # browser -> kernel -> session.vent
    assert vented_wall - t_click < 1.0, vented_wall - t_click
    alarms = page.inner_text(".wb-bfr-alarm-list")
    assert page.locator(".wb-bfr-alarm").count() == 1, alarms
    assert "operator vent" in alarms.lower()
    assert not page.is_disabled("button.wb-bfr-ack")  # vented: acknowledgement possible
    page.click("button.wb-bfr-ack")
    page.wait_for_function("() => document.querySelectorAll('.wb-bfr-alarm').length === 0",
                           timeout=5_000)  # fmt: skip
    assert not errors, errors
    page.close()
