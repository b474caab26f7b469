"""BFR panel controls (widgets.bfr_controls): mode, manual setpoint, adaptive toggle and the
next-session recommendation, all through BfrSession's gates."""

from __future__ import annotations

import datetime as dt

import pytest

from bfr_helpers import ManualClock
from workbench.bfr.calibration import AopReading, CuffContext
from workbench.bfr.scheme_learning import SchemeLearner
from workbench.bfr.screening import ScreeningForm, all_clear
from workbench.bfr.session import BfrSession, SessionState
from workbench.errors import SafetyError
from workbench.widgets.bfr_controls import BfrSessionControls

DAY = dt.date(2026, 11, 24)
CEILING = {"arm": 200.0, "leg": 240.0}  # BFR-SAFETY, mmHg


@pytest.fixture
def sim_cuff():
    from workbench.bfr.live import RealtimeSimCuff

    cuff = RealtimeSimCuff()
    yield cuff
    cuff.close()


def _ready(limb="leg", aop=200.0, clock=None) -> BfrSession:
    s = BfrSession(CuffContext("ath01", "c1", limb, "right"), clock=clock or ManualClock(),
                   today=lambda: DAY)  # fmt: skip
    s.complete_screening(ScreeningForm("ath01", DAY, all_clear(), 120, 75, "J. Tech"), "J. Tech")
    s.cuff_applied(0.0, "J. Tech")
    s.set_prediction(aop)
    s.add_aop_reading(AopReading(aop, "doppler", s.context, DAY))
    s.add_aop_reading(AopReading(aop, "ppg", s.context, DAY))
    s.prescribe(60, exercise="leg press", load_pct_1rm=30, who="J. Tech")
    return s


def _requests(live):
    return [e.value for e in live.events if e.kind == "operator" and e.code == "request_setpoint"]


def test_controls_need_a_prescribed_session():
    s = BfrSession(CuffContext("ath01", "c1", "leg"), clock=ManualClock(), today=lambda: DAY)
    with pytest.raises(SafetyError):
        BfrSessionControls(s, autostart=False)


@pytest.mark.parametrize(("limb", "aop"), [("leg", 200.0), ("arm", 280.0)])
def test_manual_request_is_clamped_into_the_band_and_goes_through_the_session(sim_cuff, limb, aop):
    s = _ready(limb, aop)
    live = s.live(sim_cuff, clock=s.clock, require_operator=False)
    c = BfrSessionControls(s, operator="J. Tech", autostart=False)
    assert c.request.disabled  # scheme mode: no manual setpoint
    assert c.request_manual(150.0) is None and "refused" in c.note
    c.mode.value = "manual"  # the toggle, as a click in the browser
    assert s.mode == "manual" and not c.request.disabled
    hi, lo = min(0.8 * aop, CEILING[limb]), 0.4 * aop
    assert c.request_manual(hi + 90.0) == pytest.approx(hi)
    assert "clamped" in c.status.value and s.target_setpoint_mmhg == pytest.approx(hi)
    assert c.request_manual(lo - 30.0) == pytest.approx(lo)
    for _ in range(40):
        c.tick()  # the refresh lowers the setpoint step by step
    seq = _requests(live)
    assert seq[0] == pytest.approx(hi) and seq[-1] == pytest.approx(lo)
    assert min(seq) >= lo - 1e-9 and max(seq) <= hi + 1e-9
    c.adaptive.value = True  # adaptive runs in scheme mode only: refused, toggle reverts
    assert s.adaptive is None and c.adaptive.value is False and "refused" in c.note
    c.mode.value = "scheme"
    c.adaptive.value = True
    assert s.adaptive is not None and "adaptive <b>on</b>" in c.status.value
    c.mode.value = "manual"  # manual turns adaptive off
    assert s.adaptive is None and c.adaptive.value is False


def test_mode_switch_refused_without_the_gates_reverts_the_toggle(sim_cuff):
    day = [DAY]
    s = _ready()
    s.today = lambda: day[0]
    c = BfrSessionControls(s, operator="J. Tech", autostart=False)
    day[0] = DAY + dt.timedelta(days=1)  # screening and AOP expired
    c.mode.value = "manual"
    assert s.mode == "scheme" and c.mode.value == "scheme" and "refused" in c.note


def test_finish_shows_and_stores_the_recommendation(tmp_path, sim_cuff):
    from workbench.store import open_store

    store = open_store(f"sqlite:///{tmp_path}/t.db")
    store.write("athletes", [{"athlete_id": "ath01", "name": "A", "sex": "F",
                              "birth_date": dt.date(2000, 1, 1), "sport": "x"}])  # fmt: skip
    s = _ready()
    s.live(sim_cuff, store=store, clock=s.clock, require_operator=False)
    learner = SchemeLearner(seed=1)
    c = BfrSessionControls(s, operator="J. Tech", learner=learner, store=store,
                           learner_file=tmp_path / "learner.json", autostart=False)  # fmt: skip
    c.finish_session()
    assert s.state is SessionState.DONE
    rec = s.recommendation
    assert rec is not None and rec.option.label in c.recommendation.value
    assert (tmp_path / "learner.json").is_file()
    assert SchemeLearner.load(tmp_path / "learner.json").options == learner.options
    sid = int(store.bfr_sessions()["session_id"].iloc[0])
    ev = store.bfr_events(sid)
    assert (ev["kind"] == "recommendation").sum() == 1
    assert c.finish.disabled and c.mode.disabled
    store.close()


def test_adaptive_emg_ratio_uses_window_means_not_single_contraction_samples(sim_cuff):
    """A steady contraction rhythm (RMS swinging 20-220 uV) is a ratio of ~1, not a
    valley-to-peak ratio; a doubled amplitude later in the set is ~2 and lowers the SP."""
    import math

    clock = ManualClock()
    s = _ready(clock=clock)
    live = s.live(sim_cuff, clock=clock, require_operator=False)
    amp = [100.0]

    def monitors():
        return 60.0, 120.0 + amp[0] * math.sin(2 * math.pi * 0.5 * clock.t)  # 0.5 Hz reps

    c = BfrSessionControls(s, operator="J. Tech", monitors=monitors, autostart=False)
    c.adaptive.value = True
    s.start_set("J. Tech")
    ratios = []
    for _ in range(60):  # 30 s at the controls' 2 Hz refresh
        clock.t += 0.5
        c.tick()
        ratios.append(c._inputs().emg_ratio)
    steady = [r for r in ratios if not math.isnan(r)]
    assert steady and max(abs(r - 1.0) for r in steady) < 0.25, steady
    assert _requests(live) == []  # nothing to adapt to: it holds at the prescription
    amp[0], base = 100.0, 120.0

    def fatigued():
        return 60.0, 2.0 * (base + amp[0] * math.sin(2 * math.pi * 0.5 * clock.t))

    c.monitors = fatigued
    for _ in range(20):
        clock.t += 0.5
        c.tick()
    assert c._inputs().emg_ratio == pytest.approx(2.0, rel=0.25)
    assert _requests(live) and _requests(live)[-1] < s.prescription.setpoint_mmhg
    assert "EMG" in c.status.value


@pytest.mark.slow
def test_live_bfr_panel_defaults_to_the_loop_process_and_its_vent_ends_the_set():
    """The panel's session is a client of a loop process on a cuff emulator (ADR 0008): the
    demo athlete moves the emulated limb (its true EMG rises), the panel shows pressure,
    monitors and timers, and the VENT button vents the emulator and ends the set in the
    session. The emulator's truth file is the reference."""
    import asyncio
    import math
    import time

    from workbench.bfr.loop_process import ProcessLiveSession
    from workbench.bfr.protocol import FirmwareState
    from workbench.widgets.bfr_controls import live_bfr_panel

    day = dt.date.today()
    aop = 200.0
    s = BfrSession(CuffContext("ath01", "c1", "leg", "right"))  # real clock, today
    s.complete_screening(ScreeningForm("ath01", day, all_clear(), 120, 75, "J. Tech"), "J. Tech")
    s.cuff_applied(0.0, "J. Tech")
    s.set_prediction(aop)
    s.add_aop_reading(AopReading(aop, "doppler", s.context, day))
    s.add_aop_reading(AopReading(aop, "ppg", s.context, day))
    s.prescribe(60, exercise="leg press", load_pct_1rm=30, who="J. Tech")
    target = 0.6 * aop  # stated: 60 % of the confirmed AOP

    async def until(pred, timeout_s: float, beat) -> bool:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            beat()
            if pred():
                return True
            await asyncio.sleep(0.05)
        return pred()

    async def scenario() -> None:
        box = live_bfr_panel(s, operator="J. Tech", demo_sets=1, demo_reps=15)
        live, panel = box.live, box.panel
        emu = live.emulator
        panel.send = lambda content, buffers=None: None  # no browser: drop the traces

        def beat() -> None:
            panel._on_custom_msg(panel, {"type": "heartbeat", "seen": panel._seq}, [])

        try:
            assert isinstance(live, ProcessLiveSession) and emu.alive
            assert s.live_session is live
            panel._on_custom_msg(panel, {"type": "ready"}, [])  # a view: arms (on_connect)
            # the demo athlete's set starts after 3 s: reps move the emulated limb
            assert await until(lambda: s.state is SessionState.SET, 12.0, beat), (
                s.alarms,
                panel.message,
            )
            assert await until(lambda: emu.read()["emg_rms_uv"] > 30.0, 5.0, beat)
            assert await until(lambda: abs(emu.read()["pressure_mmhg"] - target) < 10, 15.0,
                               beat), emu.read()["pressure_mmhg"]  # fmt: skip
            assert await until(lambda: panel.state["phase"] == "set", 1.0, beat), panel.state
            st = panel.state
            assert st["phase"] == "set" and not st["vented"] and not st["pressure_stale"]
            assert abs(st["last_pressure_mmhg"] - emu.read()["pressure_mmhg"]) < 15
            assert st["monitors"] == {
                "nirs": "armed", "emg": "armed", "hr": "armed"
            }  # fmt: skip
            assert st["inflated_s"] is not None and st["inflated_s"] >= 1
            assert math.isfinite(panel.monitors()[1])
            panel._on_custom_msg(panel, {"type": "vent", "who": "J. Tech"}, [])
            assert await until(lambda: emu.read()["state"] == FirmwareState.VENTED_HOST, 0.5,
                               beat)  # fmt: skip
            assert await until(lambda: s.state is SessionState.REPERFUSION, 2.0, beat)
            assert any("operator_vent" in a for a in s.alarms)
            assert await until(lambda: panel.state["vented"], 2.0, beat)
            assert panel.state["phase"] == "reperfusion"
            # the vent ended the demo set (it looks between reps, every 2 s)
            assert await until(box.controls.demo.done, 3.0, beat)
        finally:
            box.controls.stop()
            panel.close()
            s.end_live("J. Tech")
        assert not emu.alive

    asyncio.run(scenario())
