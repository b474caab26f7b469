"""BFR panel in Voilà, headless Chromium: closing the tab vents the cuff; VENT vents.

The notebook (written into tmp_path) builds a gated ``BfrSession`` whose live session runs in
its own loop process on a cuff emulator process (ADR 0008, the default path), arms it once the
panel's first heartbeat arrives and inflates it to 120 mmHg (60 % of a 200 mmHg AOP, leg). Its audit log goes to a temporary SQLite database (``WORKBENCH_DB_URL``) that the
test reads: event wall times tie the session clock to the test's wall clock.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from conftest import serve_voila
from workbench.store import open_store

SCREENS = Path(__file__).parent / "screens"
SETPOINT = 120.0

NB_CODE = r"""
import asyncio, datetime, os
from urllib.parse import parse_qs
from workbench.bfr.calibration import AopReading, CuffContext
from workbench.bfr.screening import ScreeningForm, all_clear
from workbench.bfr.serial_cuff import SerialCuff
from workbench.bfr.session import BfrSession
from workbench.bfr.simulation.emulator import spawn_emulator
from workbench.store import open_store
from workbench.widgets.bfr_panel import BfrPanel

# ?reps=N (5-40): a short only set (the after-set screenshot); default 30 reps
reps = int(parse_qs(os.environ.get("QUERY_STRING", "")).get("reps", ["30"])[0])
store = open_store(os.environ["WORKBENCH_DB_URL"])
emu = spawn_emulator(aop_mmhg=200.0)  # the cuff: an emulator process on a pty
gauge = SerialCuff(emu.port, connect_timeout_s=5.0)  # read once before arming, then released
today = datetime.date.today()
# through the session's gates: screening, prediction, two agreeing AOP readings, prescription
flow = BfrSession(CuffContext("ath01", "sim-cuff", "leg", "right"))
flow.complete_screening(ScreeningForm("ath01", today, all_clear(), 120, 75, "J. Doe"), "J. Doe")
flow.cuff_applied(gauge.read_pressure().pressure_mmhg, "J. Doe")
gauge.close()
flow.set_prediction(200.0)
flow.add_aop_reading(AopReading(200.0, "doppler", flow.context, today))
flow.add_aop_reading(AopReading(200.0, "ppg", flow.context, today))
flow.prescribe(60, exercise="knee extension", load_pct_1rm=30,
               scheme=(reps,) if reps < 30 else (30, 15, 15, 15), who="J. Doe")
# the default path: the control loop in its own process, this kernel a client
session = flow.live(emulator=emu, store=store, require_operator=True)
panel = BfrPanel(session, flow=flow, operator="J. Doe",
                 title="BFR · ath01 · right leg · AOP 200 mmHg · 60 % AOP → 120 mmHg",
                 window_s=30.0)

def armed():
    snap = session.snapshot()
    return snap.loop_running and not snap.vented

async def protocol():
    while not armed():
        await asyncio.sleep(0.05)
    await asyncio.sleep(3.0)
    if not armed():
        return  # vented before the set began
    flow.start_set("J. Doe")  # the phase goes to the loop process's supervisor
    session.set_activity("reps")  # the emulated limb
    for rep in range(reps):
        await asyncio.sleep(2.0)
        if flow.state.value != "set":
            return  # vented: the session says so
        flow.count_rep()
    session.set_activity("rest")
    flow.end_set("J. Doe")
    if reps < 30:  # the short demo's only set is over: deflate and close
        flow.end_live("J. Doe")

panel.on_connect(lambda: flow.arm("J. Doe"))  # arm only once the operator sees the panel
task = asyncio.ensure_future(protocol())
display(panel)
"""

PANEL = ".wb-bfr"
STATE_JS = """() => {
  const el = document.querySelector('.wb-bfr');
  if (!el) return null;
  const host = el.parentElement;
  return {pressure: parseFloat(host.dataset.pressure), vented: host.dataset.vented,
          beats: parseInt(host.dataset.heartbeats || '0'), rows: parseInt(host.dataset.rows || '0'),
          phase: host.dataset.phase, pstale: host.dataset.pstale,
          badge: (el.querySelector('.wb-bfr-badge') || {}).textContent,
          settime: (el.querySelectorAll('.wb-bfr-timer-value')[2] || {}).textContent};
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
    page = browser.new_page(viewport={"width": 1120, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, timeout=60_000)
    page.wait_for_selector(PANEL, timeout=60_000)
    try:
        page.wait_for_function(
            f"() => {{ const s = ({STATE_JS})(); return s && s.pressure > {SETPOINT - 10}; }}",
            timeout=30_000,
        )
    except PlaywrightTimeout as err:
        # once in a --latest run the cuff was not at SP 30 s after the panel showed: keep
        # what the operator saw (badge, alarms, event log) so the next failure says why
        SCREENS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENS / "bfr_inflate_timeout.png"), full_page=True)
        seen = page.inner_text(PANEL)
        raise AssertionError(
            f"cuff not at SP within 30 s; panel: {seen!r}; errors {errors}"
        ) from err
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
    page.wait_for_function(  # VENT mid-set: the first set is under way
        f"() => {{ const s = ({STATE_JS})(); return s && s.phase === 'set'; }}", timeout=15_000
    )
    page.wait_for_timeout(2500)
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
    # the VENT ended the set: the phase says so and the set timer stopped (issue 15.4)
    page.wait_for_function(
        f"() => {{ const s = ({STATE_JS})(); "
        "return s && (s.phase === 'reperfusion' || s.phase === 'vented'); }",
        timeout=5_000,
    )
    first = page.evaluate(STATE_JS)
    page.wait_for_timeout(2500)
    later = page.evaluate(STATE_JS)
    assert later["settime"] == first["settime"] == "--:--", (first, later)
    assert later["pstale"] == "0" and later["pressure"] < 20, later
    SCREENS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENS / "bfr_panel_after_vent.png"), full_page=True)
    assert not page.is_disabled("button.wb-bfr-ack")  # vented: acknowledgement possible
    page.click("button.wb-bfr-ack")
    page.wait_for_function("() => document.querySelectorAll('.wb-bfr-alarm').length === 0",
                           timeout=5_000)  # fmt: skip
    assert not errors, errors
    page.close()


def test_after_the_set_the_panel_shows_the_vented_cuff(browser, voila_bfr):
    """The last set ends and the session stops: the panel never shows the loop's last
    inflated sample as the cuff's pressure ("VENTING at 128 mmHg", issue 15.4). The loop
    process and the emulator end with the session, so there is no live pressure any more:
    the panel says so, with the last reading (taken after the vent: < 20 mmHg), no alarm."""
    import re

    url, _ = voila_bfr
    page, errors = _open_inflated(browser, url + "?reps=5")
    page.wait_for_function(
        "() => { const s = ("
        + STATE_JS
        + ")(); return s && s.vented === '1' && s.phase === 'done'; }",
        timeout=30_000,
    )
    page.wait_for_timeout(3000)  # well past the 0.3 s staleness limit
    state = page.evaluate(STATE_JS)
    assert state["badge"] == "NO LIVE PRESSURE", state  # not VENTING, not an alarm
    assert state["pstale"] == "1", state
    note = page.inner_text(".wb-bfr-pstale")
    last = re.search(r"last reading ([\d.]+) mmHg", note)
    assert last and float(last.group(1)) < 20.0, note
    SCREENS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENS / "bfr_panel_after_set.png"), full_page=True)
    assert not errors, errors
    page.close()


# ---------------------------------------------------------------------- modes (issue 12.8)
MODES_CODE = r"""
import datetime, os
from workbench.bfr.calibration import AopReading, CuffContext
from workbench.bfr.screening import ScreeningForm, all_clear
from workbench.bfr.session import BfrSession
from workbench.store import open_store
from workbench.widgets.bfr_controls import live_bfr_panel

store = open_store(os.environ["WORKBENCH_DB_URL"])
today = datetime.date.today()
flow = BfrSession(CuffContext("ath01", "sim-cuff", "leg", "right"))
flow.complete_screening(ScreeningForm("ath01", today, all_clear(), 120, 75, "J. Doe"), "J. Doe")
flow.cuff_applied(0.0, "J. Doe")  # a new emulated cuff starts vented
flow.set_prediction(200.0)
flow.add_aop_reading(AopReading(200.0, "doppler", flow.context, today))
flow.add_aop_reading(AopReading(200.0, "ppg", flow.context, today))
flow.prescribe(60, exercise="knee extension", load_pct_1rm=30, who="J. Doe")
# the package builds the live session through flow.live (by default in a loop process on a
# cuff emulator) and arms it through flow.arm
display(live_bfr_panel(flow, store=store, operator="J. Doe", demo_sets=1, window_s=30.0))
"""
AOP = 200.0
MAX_SP = 0.8 * AOP  # BFR-SAFETY: min(80 % AOP, leg ceiling 240)
SUSTAINED_TRIP = MAX_SP + 15.0
MODE_STATE_JS = STATE_JS.replace(
    "phase: host.dataset.phase,",
    "phase: host.dataset.phase, monitors: host.dataset.monitors, alarms: host.dataset.alarms,"
    " setpoint: parseFloat(host.dataset.setpoint),"
    " status: (document.querySelector('.wb-bfr-mode-status') || {}).textContent,"
    " pnote: (el.querySelector('.wb-bfr-pstale') || {}).textContent || '',",
)
#: Vented, and the cuff below 20 mmHg: live, or (once the loop process has ended with the
#: session) as the panel's "no live pressure: last reading X mmHg" note
DEFLATED_JS = (
    "s.vented === '1' && (s.pressure < 20 || (s.pstale === '1'"
    " && parseFloat((s.pnote.match(/last reading ([-\\d.]+) mmHg/) || [])[1]) < 20))"
)


@pytest.fixture(scope="module")
def voila_modes(tmp_path_factory):
    """Voilà serving the panel + controls built by ``live_bfr_panel``; yields (url, db_url)."""
    tmp = tmp_path_factory.mktemp("bfr_modes")
    db_url = f"sqlite:///{tmp / 'bfr.db'}"
    with open_store(db_url) as store:
        store.write("athletes", [{"athlete_id": "ath01", "name": "Test Athlete", "sex": "F",
                                  "birth_date": dt.date(1995, 1, 1), "sport": "rowing"}])  # fmt: skip
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(MODES_CODE)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    path = tmp / "bfr_modes.ipynb"
    nbformat.write(nb, path)
    env = {"PYTHONUNBUFFERED": "1", "WORKBENCH_DB_URL": db_url,
           "WORKBENCH_DATA_DIR": str(tmp / "data")}  # fmt: skip
    with serve_voila(path, cwd=tmp, env=env, timeout_s=30) as url:
        yield url, db_url


def _wait_state(page, cond: str, timeout_ms: int):
    from playwright.sync_api import TimeoutError as PwTimeout

    try:
        page.wait_for_function(
            f"() => {{ const s = ({MODE_STATE_JS})(); return s && ({cond}); }}",
            timeout=timeout_ms,
        )
    except PwTimeout as exc:  # say what the panel showed instead
        msg = page.inner_text(".wb-bfr-msg") if page.query_selector(".wb-bfr-msg") else None
        raise AssertionError(f"{cond}: {page.evaluate(MODE_STATE_JS)}, message {msg!r}") from exc
    return page.evaluate(MODE_STATE_JS)


def _pressures(page, seconds: float) -> list[float]:
    out = []
    for _ in range(int(seconds / 0.25)):
        out.append(page.evaluate(MODE_STATE_JS)["pressure"])
        page.wait_for_timeout(250)
    return out


def test_manual_mode_and_adaptive_toggle_through_the_session(browser, voila_modes):
    url, db_url = voila_modes
    with open_store(db_url) as store:
        known = set(store.bfr_sessions()["session_id"].astype(int))
    page = browser.new_page(viewport={"width": 1120, "height": 1100})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, timeout=60_000)
    page.wait_for_selector(PANEL, timeout=60_000)
    page.wait_for_selector(".wb-bfr-mode-status", timeout=30_000)
    # armed through flow.arm at the prescribed 120 mmHg, monitors armed, the set under way
    st = _wait_state(page, f"s.pressure > {SETPOINT - 10} && s.phase === 'set'", 30_000)
    session_id = _new_session(db_url, known)
    assert set(st["monitors"].split(",")) == {"emg", "hr", "nirs"}, st
    assert "mode scheme" in st["status"] and "adaptive off" in st["status"], st
    SCREENS.mkdir(exist_ok=True)
    page.wait_for_timeout(2000)
    page.screenshot(path=str(SCREENS / "bfr_modes_armed.png"), full_page=True)

    # manual mode: 250 mmHg asked, clamped to 160 (80 % AOP); the pressure follows
    page.click(".wb-bfr-mode button:has-text('manual')")
    _wait_state(page, "s.status.includes('mode manual')", 5_000)
    page.fill(".wb-bfr-manual-sp input", "250")
    page.press(".wb-bfr-manual-sp input", "Enter")
    page.click(".wb-bfr-manual-request")
    st = _wait_state(page, "s.status.includes('clamped to 160')", 5_000)
    assert "target 160 mmHg" in st["status"], st
    # the supervised setpoint ramps up to the clamped request, never past it
    st = _wait_state(page, f"s.pressure > {MAX_SP - 12} && s.setpoint > {MAX_SP - 0.5}", 10_000)
    assert st["setpoint"] == pytest.approx(MAX_SP, abs=0.5), st
    held = _pressures(page, 4.0)
    assert min(held) > MAX_SP - 25 and max(held) < SUSTAINED_TRIP, held
    st = page.evaluate(MODE_STATE_JS)
    assert st["alarms"] == "0" and st["vented"] == "0", st
    page.screenshot(path=str(SCREENS / "bfr_modes_manual.png"), full_page=True)

    # back to scheme (the prescribed 120 mmHg), then the adaptive toggle on
    page.click(".wb-bfr-mode button:has-text('scheme')")
    _wait_state(page, f"s.status.includes('mode scheme') && s.setpoint < {SETPOINT + 1}", 10_000)
    page.click("button.wb-bfr-adaptive")
    st = _wait_state(page, "s.status.includes('adaptive on')", 5_000)
    assert page.inner_text("button.wb-bfr-adaptive").strip() == "adaptive: on"
    # its decisions and their reasons are shown (missing velocity: it holds, never raises)
    st = _wait_state(page, "/adaptive: \\d+ mmHg: /.test(s.status)", 5_000)
    page.wait_for_timeout(5000)
    st = page.evaluate(MODE_STATE_JS)
    assert 0.4 * AOP - 0.5 <= st["setpoint"] <= MAX_SP + 0.5, st
    assert st["alarms"] == "0" and st["vented"] == "0", st
    page.screenshot(path=str(SCREENS / "bfr_modes_adaptive.png"), full_page=True)

    # finish: the cuff vents, the next session's scheme is shown and stored
    page.click("button.wb-bfr-finish")
    page.wait_for_selector(".wb-bfr-recommendation:has-text('Next session')", timeout=10_000)
    _wait_state(page, DEFLATED_JS, 10_000)
    page.screenshot(path=str(SCREENS / "bfr_modes_finished.png"), full_page=True)
    assert page.inner_text("button.wb-bfr-adaptive").strip() == "adaptive: off"
    with open_store(db_url) as store:
        ev = store.bfr_events(session_id)
    assert (ev["kind"] == "recommendation").sum() == 1
    ops = ev[ev["kind"] == "operator"]
    manual = ops[ops["code"] == "request_setpoint"]["value"].round(1).tolist()
    assert MAX_SP in manual and max(manual) <= MAX_SP, manual
    assert not errors, errors
    page.close()
