"""Guided screening view: the camera widget driven by a :class:`ScreeningSession`.

Each analysed frame advances the session through its view check: until the camera sees the
athlete from the screen's view the overlay shows the prompt that fixes it ("Turn so the
camera sees your left side"); then countdown, measurement and the captured end range with
its uncertainty ("Captured 112° ± 7° (good)") over the live image and in a summary line.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from workbench.mobility.pipeline import FrameAnalysis
from workbench.mobility.screening import SCREENS, Phase, ScreeningSession
from workbench.widgets.camera import CameraWidget


class MobilityScreenWidget(w.VBox):
    """Camera + screen picker + guided session.

    Parameters
    ----------
    camera:
        The camera widget to drive (a new :class:`CameraWidget` if ``None``).
    **session_kwargs:
        Passed to :class:`ScreeningSession` (``repeats``, ``speed``, timings).
    """

    def __init__(self, camera: CameraWidget | None = None, **session_kwargs: Any) -> None:
        self.camera = camera or CameraWidget()
        self.camera._on_frame = self._on_frame
        self.screen_pick = w.Dropdown(
            options=[(s.title, k) for k, s in SCREENS.items()], description="Screen"
        )
        self.side_pick = w.ToggleButtons(options=["left", "right"], description="Side")
        self.start_button = w.Button(description="Start", button_style="primary")
        self.summary = w.HTML()
        self.session: ScreeningSession | None = None
        self.results: list[ScreeningSession] = []
        self._kwargs = session_kwargs
        self.start_button.on_click(lambda _b: self.start())
        controls = w.HBox([self.screen_pick, self.side_pick, self.start_button])
        super().__init__([controls, self.camera, self.summary])

    def start(self) -> ScreeningSession:
        """Begin a session for the selected screen and side."""
        self.session = ScreeningSession(
            self.screen_pick.value, self.side_pick.value, **self._kwargs
        )
        self.camera.show_angles = [self.session.angle_name]
        self.camera.status = SCREENS[self.screen_pick.value].instructions
        return self.session

    def _on_frame(self, analysis: FrameAnalysis | None, t_s: float) -> None:
        if self.session is None or self.session.phase is Phase.DONE:
            return
        view = self.session.feed(t_s, analysis)
        self.camera.status = view.message
        self.camera.view_ok = view.view_ok
        caps = ", ".join(
            f"{c.angle_deg:.0f}°"
            + (f" ± {c.uncertainty_deg:.0f}°" if c.uncertainty_deg is not None else "")
            + f" ({c.quality})"
            for c in view.captures
        )
        self.summary.value = f"<b>{self.session.angle_name}</b>: {caps or '—'}"
        if view.phase is Phase.DONE:
            self.results.append(self.session)


def progress_plot(weekly: Any, *, ncols: int = 2) -> Any:
    """Bokeh grid: weekly best per side with the baseline ± MDC band, one plot per movement.

    ``weekly`` is :func:`workbench.mobility.workflow.weekly_progress` output.
    """
    from bokeh.layouts import gridplot
    from bokeh.plotting import figure

    from workbench.mobility.interpret import MOVEMENT_LABELS

    plots = []
    for mv, g in weekly.groupby("movement"):
        fig = figure(
            height=220, width=420, x_axis_type="datetime", title=MOVEMENT_LABELS.get(mv, mv)
        )
        for side, color in (("left", "#1f77b4"), ("right", "#d62728")):
            s = g[g["side"] == side]
            if s.empty:
                continue
            fig.varea(s["week"], s["band_low_deg"], s["band_high_deg"], color=color, alpha=0.1)
            fig.line(s["week"], s["angle_deg"], color=color, legend_label=side, line_width=2)
            fig.scatter(s["week"], s["angle_deg"], color=color, size=5)
        fig.yaxis.axis_label = "deg"
        fig.legend.location = "bottom_right"
        plots.append(fig)
    return gridplot(plots, ncols=ncols)
