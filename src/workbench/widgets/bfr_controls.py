"""Operator controls beside the BFR panel: scheme/manual mode, manual setpoint, adaptive
toggle and the next session's scheme (issue 12 item 8).

Every action goes through :class:`~workbench.bfr.session.BfrSession` and its gates; nothing
here builds a live session or commands the cuff. :func:`live_bfr_panel` puts the panel and
these controls on a gated live session (by default in its own loop process on a cuff
emulator); :func:`simulated_live_panel` does it for the notebook's simulated limb.
Why: ``docs/decisions/0004-bfr-control.md`` and
``docs/decisions/0008-bfr-transport-and-loop-process.md``.
"""

from __future__ import annotations

import asyncio
import html
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as w

from workbench.bfr.adaptive import AdaptiveInputs
from workbench.bfr.scheme_learning import SchemeLearner
from workbench.bfr.session import BfrSession, SessionState
from workbench.errors import SafetyError, SafetyReason
from workbench.log import get_logger
from workbench.widgets._periodic import PeriodicTask
from workbench.widgets.bfr_panel import BfrPanel

log = get_logger(__name__)

__all__ = ["BfrSessionControls", "live_bfr_panel", "simulated_live_panel", "simulated_sets"]

MonitorFn = Callable[[], tuple[float, float]]

#: EMG RMS is averaged over this window (a few contractions) for the adaptive EMG ratio, s.
EMG_WINDOW_S = 4.0


def learner_path() -> Path:
    """Where the scheme learner is kept between sessions (the workbench state folder)."""
    from workbench.config import state_dir

    return state_dir() / "bfr_scheme_learning.json"


def load_learner(path: Path | None = None) -> SchemeLearner:
    """The saved :class:`SchemeLearner` (a new one when none was saved yet)."""
    path = path or learner_path()
    return SchemeLearner.load(path) if path.is_file() else SchemeLearner()


class BfrSessionControls(w.VBox):
    """Mode selector, manual setpoint, adaptive toggle, finish button and recommendation.

    Parameters
    ----------
    flow:
        The session state machine; its :meth:`~BfrSession.live` session runs the cuff.
    operator:
        Name logged with each action.
    monitors:
        ``f() -> (smo2_pct, emg_uv)`` for the adaptive modulation (None: it holds).
    learner, learner_file:
        Scheme learner for the next session's recommendation (default: the saved one,
        saved again after recommending).
    store:
        Where the recommendation row goes (``bfr_events`` of this session).
    tick_hz:
        Rate of setpoint steps down (>= 2 Hz), manual-mode prompts and adaptive decisions.
    """

    def __init__(
        self,
        flow: BfrSession,
        *,
        operator: str = "operator",
        monitors: MonitorFn | None = None,
        learner: SchemeLearner | None = None,
        learner_file: Path | None = None,
        store: Any = None,
        readiness_band: str = "unknown",
        tick_hz: float = 2.0,
        autostart: bool = True,
    ) -> None:
        if flow.prescription is None:
            raise SafetyError(
                "the controls need a prescribed session (BfrSession.prescribe)",
                reason=SafetyReason.SETPOINT_REJECTED,
            )
        self.flow = flow
        self.operator = operator
        self.monitors = monitors
        self.store = store
        self.readiness_band = readiness_band
        self._learner = learner
        self._learner_file = learner_file
        lim = flow.limits
        self.band_mmhg = (float(lim.min_prescription_mmhg), float(lim.max_setpoint_mmhg))
        self.mode = w.ToggleButtons(options=[("scheme", "scheme"), ("manual", "manual")],
                                    value=flow.mode, description="mode")  # fmt: skip
        self.manual_sp = w.FloatText(value=round(flow.prescription.setpoint_mmhg), step=5.0,
                                     description="SP (mmHg)", disabled=True)  # fmt: skip
        self.request = w.Button(description="request SP", disabled=True)
        self.adaptive = w.ToggleButton(value=False, description="adaptive: off")
        self.finish = w.Button(description="finish session", button_style="warning")
        self.status = w.HTML()
        self.recommendation = w.HTML()
        for widget, cls in [(self.mode, "wb-bfr-mode"), (self.manual_sp, "wb-bfr-manual-sp"),
                            (self.request, "wb-bfr-manual-request"),
                            (self.adaptive, "wb-bfr-adaptive"), (self.finish, "wb-bfr-finish"),
                            (self.status, "wb-bfr-mode-status"),
                            (self.recommendation, "wb-bfr-recommendation")]:  # fmt: skip
            widget.add_class(cls)
        self._reverting = False
        self.prompt = ""
        self.note = ""
        self.decision = ""  # the adaptive modulator's last decision and why
        self._emg: tuple[int, float, list[tuple[float, float]]] | None = None  # set, t0, rows
        self.change = ""  # the adaptive modulator's last change and why
        self.mode.observe(self._on_mode, names="value")
        self.adaptive.observe(self._on_adaptive, names="value")
        self.request.on_click(lambda _b: self.request_manual())
        self.finish.on_click(lambda _b: self.finish_session())
        row1 = w.HBox([self.mode, self.adaptive])
        row2 = w.HBox([self.manual_sp, self.request, self.finish])
        super().__init__([row1, row2, self.status, self.recommendation])
        self.add_class("wb-bfr-controls")
        self._task = PeriodicTask(self.tick, tick_hz, self._on_error)
        self.refresh()
        if autostart:
            self._task.start()

    # ------------------------------------------------------------------ actions
    def _refused(self, what: str, exc: Exception) -> None:
        log.info("BFR controls: %s refused: %s", what, exc)
        self.note = f"{what} refused: {exc}"
        self.refresh()

    def _revert(self, widget: w.ValueWidget, value: Any) -> None:
        self._reverting = True
        try:
            widget.value = value
        finally:
            self._reverting = False

    def _on_mode(self, change: dict) -> None:
        if not self._reverting:
            self.select_mode(change["new"])

    def _on_adaptive(self, change: dict) -> None:
        if not self._reverting:
            self.toggle_adaptive(bool(change["new"]))

    def select_mode(self, mode: str) -> bool:
        """Switch to ``"scheme"`` or ``"manual"`` through the session (gated)."""
        try:
            self.flow.set_mode(mode, self.operator)
        except (SafetyError, ValueError) as exc:
            self._revert(self.mode, self.flow.mode)
            self._refused(f"{mode} mode", exc)
            return False
        self._revert(self.mode, self.flow.mode)
        self._revert(self.adaptive, self.flow.adaptive is not None)
        self.note = f"{mode} mode"
        self.refresh()
        return True

    def request_manual(self, setpoint_mmhg: float | None = None) -> float | None:
        """Request the manual setpoint (the field's value), clamped into the session's band
        [40 % AOP, min(80 % AOP, ceiling)] first; the session checks it again."""
        value = float(self.manual_sp.value if setpoint_mmhg is None else setpoint_mmhg)
        if not math.isfinite(value):
            self._refused("manual setpoint", ValueError(f"{value!r} is not a pressure"))
            return None
        lo, hi = self.band_mmhg
        sp = min(max(value, lo), hi)
        try:
            sent = self.flow.request_manual_setpoint(sp, self.operator)
        except (SafetyError, ValueError) as exc:
            self._refused("manual setpoint", exc)
            return None
        self.manual_sp.value = round(sent, 1)
        self.note = (
            f"requested {value:.0f} mmHg: clamped to {sent:.0f} mmHg (band {lo:.0f}-{hi:.0f} mmHg)"
            if sp != value
            else f"requested {sent:.0f} mmHg"
        )
        self.refresh()
        return sent

    def toggle_adaptive(self, on: bool) -> bool:
        """Adaptive modulation on or off through the session (gated; scheme mode only)."""
        try:
            self.flow.set_adaptive(on, self.operator)
        except (SafetyError, ValueError) as exc:
            self._revert(self.adaptive, self.flow.adaptive is not None)
            self._refused("adaptive " + ("on" if on else "off"), exc)
            return False
        self.note = "adaptive " + ("on" if on else "off")
        self.refresh()
        return True

    def finish_session(self) -> None:
        """Stop the live session (it vents), finish, and show the next session's scheme."""
        self.flow.end_live(self.operator)
        self.note = f"session finished by {self.operator}: cuff vented"
        self.show_recommendation()

    def show_recommendation(self) -> None:
        """The learner's scheme for the next session (stored with this session)."""
        if self.flow.recommendation is None:
            learner = self._learner or load_learner(self._learner_file)
            self._learner = learner
            self.flow.recommend_next(learner, readiness_band=self.readiness_band,
                                     store=self.store)  # fmt: skip
            learner.save(self._learner_file or learner_path())
        rec = self.flow.recommendation
        assert rec is not None
        items = "".join(f"<li>{html.escape(r)}</li>" for r in rec.reasons)
        self.recommendation.value = (
            f"<b>Next session: {html.escape(rec.option.label)}</b><ul>{items}</ul>"
        )
        self.refresh()

    # ------------------------------------------------------------------ refresh
    def _inputs(self) -> AdaptiveInputs:
        """SmO2 now and EMG as the ratio of its mean over the last :data:`EMG_WINDOW_S` to
        the mean over the first window seen in this set (NaN until both exist)."""
        if self.monitors is None:
            return AdaptiveInputs()
        smo2, emg = self.monitors()
        flow = self.flow
        if flow.state is not SessionState.SET:
            self._emg = None
            return AdaptiveInputs(smo2_pct=smo2)
        set_no, now = flow.set_index + 1, flow.clock()
        if self._emg is None or self._emg[0] != set_no:
            self._emg = (set_no, now, [])  # a new set: a new baseline
        _, t0, rows = self._emg
        if math.isfinite(emg):
            rows.append((now, float(emg)))
        base = [v for t, v in rows if t - t0 <= EMG_WINDOW_S]
        last = [v for t, v in rows if now - t <= EMG_WINDOW_S]
        ratio = math.nan
        if now - t0 >= 2 * EMG_WINDOW_S and base and last and sum(base) > 0:
            ratio = (sum(last) / len(last)) / (sum(base) / len(base))
        return AdaptiveInputs(smo2_pct=smo2, emg_ratio=ratio)

    def tick(self) -> None:
        """Manual-mode prompts and one adaptive decision; refresh the status line."""
        flow = self.flow
        flow.step_setpoint()  # a lower setpoint is reached in steps
        if flow.manual is not None:
            for p in flow.manual.tick():
                self.prompt = p.text
        if flow.adaptive is not None:
            d = flow.adaptive_update(self._inputs())
            if d is not None:
                self.decision = f"{d.setpoint_mmhg:.0f} mmHg: {d.reason}"
                if d.change_mmhg:
                    self.change = f"{d.change_mmhg:+.0f} mmHg at {d.t_s:.0f} s: {d.reason}"
        if flow.state in (SessionState.DONE, SessionState.ABORTED):
            if flow.recommendation is None and flow.live_session is not None:
                self.show_recommendation()
        self.refresh()

    def refresh(self) -> None:
        """Enable what the session allows now and show mode, target and the last note."""
        flow = self.flow
        over = flow.state in (SessionState.DONE, SessionState.ABORTED)
        manual = flow.mode == "manual"
        self.manual_sp.disabled = self.request.disabled = not manual or over
        self.mode.disabled = self.adaptive.disabled = self.finish.disabled = over
        if self.adaptive.value != (flow.adaptive is not None):  # e.g. turned off at the end
            self._revert(self.adaptive, flow.adaptive is not None)
        self.adaptive.description = "adaptive: on" if flow.adaptive is not None else "adaptive: off"
        self.adaptive.button_style = "info" if flow.adaptive is not None else ""
        target = flow.target_setpoint_mmhg
        parts = [f"mode <b>{flow.mode}</b>", f"target {target:.0f} mmHg",
                 f"adaptive <b>{'on' if flow.adaptive is not None else 'off'}</b>",
                 f"state {flow.state.value}"]  # fmt: skip
        if flow.adaptive is not None and self.decision:
            parts.append(f"adaptive: {html.escape(self.decision)}")
            if self.change:
                parts.append(f"last change {html.escape(self.change)}")
        if self.prompt:
            parts.append(f"prompt: {html.escape(self.prompt)}")
        if self.note:
            parts.append(html.escape(self.note))
        self.status.value = " · ".join(parts)

    def _on_error(self, exc: Exception) -> None:
        log.error("BFR controls refresh failed", exc_info=exc)
        self.note = f"controls refresh failed: {exc}"

    def stop(self) -> None:
        """Stop the refresh loop (the session is not touched)."""
        self._task.stop()


async def simulated_sets(
    flow: BfrSession,
    athlete: Any,
    *,
    operator: str = "operator",
    sets: int | None = None,
    reps: int | None = None,
    cadence_hz: float = 0.5,
    settle_s: float = 3.0,
    on_done: Callable[[], None] | None = None,
) -> None:
    """A simulated athlete doing the prescription's sets (``sets``/``reps`` shorten it).

    ``athlete.set_activity("reps"|"rest")`` moves the simulated limb; sets, reps and rests
    go through ``flow``. A vent (the state leaves set/rest) ends it; after the last set the
    live session is stopped and the session finished.
    """
    rx = flow.prescription
    assert rx is not None
    scheme = rx.scheme[: sets or len(rx.scheme)]
    await asyncio.sleep(settle_s)
    for i, target in enumerate(scheme):
        if flow.state not in (SessionState.READY, SessionState.REST):
            return  # vented (reperfusion) or finished: the session says so
        flow.start_set(operator)
        athlete.set_activity("reps")
        for _ in range(reps or target):
            await asyncio.sleep(1.0 / cadence_hz)
            if flow.state is not SessionState.SET:
                return
            flow.count_rep()
        athlete.set_activity("rest")
        if i + 1 < len(scheme):
            flow.end_set(operator)
            await asyncio.sleep(rx.rest_s)
    if flow.state is SessionState.SET:
        flow.end_live(operator)
    if on_done is not None:
        on_done()


def live_bfr_panel(
    flow: BfrSession,
    cuff: Any = None,
    *,
    emulator: Any = None,
    operator: str = "operator",
    store: Any = None,
    title: str | None = None,
    demo_sets: int | None = None,
    demo_reps: int | None = None,
    learner: SchemeLearner | None = None,
    learner_file: Path | None = None,
    live_kw: dict[str, Any] | None = None,
    **panel_kw: Any,
) -> w.VBox:
    """Panel + controls on ``flow.live(...)`` (gated; ``live_kw`` go to it); armed through
    ``flow.arm`` once a browser shows the panel. Returns a box with ``.panel``, ``.controls``
    and ``.live``.

    Default (no ``cuff``): the control loop runs in its own process on the serial port of a
    cuff emulator (``emulator``, or a new one on the confirmed AOP; ADR 0008); the panel is
    a client, its VENT a direct request to the loop process. A ``cuff`` runs the loop in a
    thread of this kernel instead. ``demo_sets``/``demo_reps``: a simulated athlete (the
    emulated limb, or a cuff offering ``set_activity``) runs that many sets."""
    kw = {"store": store, "require_operator": True, **(live_kw or {})}
    if cuff is None:
        live = flow.live(emulator=emulator, **kw)
        athlete = live
    else:
        live = flow.live(cuff, clock=flow.clock, **kw)
        athlete = cuff
    try:
        rx, aop = flow.prescription, flow.aop
        assert rx is not None and aop is not None
        c = flow.context
        panel = BfrPanel(live, flow=flow, operator=operator, title=title or (
            f"BFR · {c.athlete_id} · {c.side} {c.limb} · AOP {aop.aop_mmhg:.0f} mmHg · "
            f"{rx.percent_aop:g} % AOP → {rx.setpoint_mmhg:.0f} mmHg"), **panel_kw)  # fmt: skip
        controls = BfrSessionControls(flow, operator=operator, monitors=panel.monitors,
                                      learner=learner, learner_file=learner_file,
                                      store=store)  # fmt: skip
    except BaseException:
        live.stop("aborted")  # nothing armed yet; a loop process must not be left running
        raise

    def arm() -> None:
        flow.arm(operator)
        if demo_sets or demo_reps:
            controls.demo = asyncio.ensure_future(
                simulated_sets(flow, athlete, operator=operator, sets=demo_sets, reps=demo_reps)
            )

    panel.on_connect(arm)  # only once an operator can see the panel
    box = w.VBox([panel, controls])
    box.panel, box.controls, box.live = panel, controls, live
    return box


def simulated_live_panel(
    result: Any,
    *,
    aop_mmhg: float,
    seed: int = 0,
    operator: str = "operator",
    transport: str = "process",
    **kw: Any,
) -> w.VBox:
    """:func:`live_bfr_panel` on a real-time simulated limb for a stored simulated session:
    today's screening, the AOP readings and the prescription of ``result`` go through a new
    session's gates again (:func:`~workbench.bfr.simulation.session_run.rehearse_on_live_cuff`).

    ``transport="process"`` (default): a cuff emulator process whose port the kernel reads
    once (the cuff is vented before arming), then the loop process owns it. ``"sim"``: the
    in-process :class:`~workbench.bfr.live.RealtimeSimCuff` with the loop in a kernel thread.
    """
    from workbench.bfr.simulation.session_run import rehearse_on_live_cuff

    if transport == "sim":
        from workbench.bfr.live import RealtimeSimCuff
        from workbench.bfr.simulation.cuff import CuffSimulator

        cuff = RealtimeSimCuff(CuffSimulator(aop_mmhg=aop_mmhg, seed=seed))
        flow = rehearse_on_live_cuff(result, cuff, clock=cuff.sim_clock, operator=operator)
        kw.setdefault("demo_sets", 1)
        kw.setdefault("demo_reps", 15)
        return live_bfr_panel(flow, cuff, operator=operator, **kw)
    if transport != "process":
        raise ValueError(f"transport must be 'process' or 'sim', got {transport!r}")
    from workbench.bfr.serial_cuff import SerialCuff
    from workbench.bfr.simulation.emulator import spawn_emulator

    emu = spawn_emulator(aop_mmhg=aop_mmhg, seed=seed)
    try:
        gauge = SerialCuff(emu.port, cuff_id="emulated-cuff", connect_timeout_s=0)
        try:
            if not gauge.wait_ready(5.0):
                raise RuntimeError(f"cuff emulator on {emu.port} sent nothing within 5 s")
            flow = rehearse_on_live_cuff(result, gauge, clock=time.monotonic, operator=operator)
        finally:
            gauge.close()  # the loop process opens the port next
    except BaseException:
        emu.close()
        raise
    kw.setdefault("demo_sets", 1)
    kw.setdefault("demo_reps", 15)
    return live_bfr_panel(flow, emulator=emu, operator=operator, **kw)
