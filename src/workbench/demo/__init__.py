"""The demo squad: a deterministic, physiologically plausible season for a handful of athletes.

``generate_demo(store, athletes=12, days=180, seed=42)`` fills a fresh store with athletes,
training (planned/done/skipped), daily wellness and sleep, nightly and morning RR series,
biomarkers, daily jump tests, mobility screens, ground-truth episodes, a few live recordings
and BFR sessions. ``simulate_squad`` returns the same daily data plus the latent recovery
state without a store. The model and effect sizes are documented in
:mod:`workbench.demo.physiology`, the RR synthesis in :mod:`workbench.demo.rr`, movement names
in :mod:`workbench.demo.squad` and :mod:`workbench.demo.mobility`.
"""

from workbench.demo.generate import DemoSummary, generate_demo, simulate_squad

__all__ = ["DemoSummary", "generate_demo", "simulate_squad"]
