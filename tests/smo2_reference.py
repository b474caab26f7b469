"""Reference fit of the SmO2 recovery model: a global least-squares search (scipy's
differential evolution), independent of the local fit in ``workbench.signals.smo2``.
Used by the SmO2 tests and ``bench/reference_bench.py``."""

from __future__ import annotations

import numpy as np
from scipy import optimize

from workbench.signals.smo2 import smo2_recovery_model


def recovery_sse(params, t_s: np.ndarray, smo2_pct: np.ndarray) -> float:
    """Sum of squared residuals of the recovery model with ``(a, b, td, tau)``."""
    return float(np.sum((smo2_pct - smo2_recovery_model(t_s, *params)) ** 2))


def global_recovery_fit(t_s: np.ndarray, smo2_pct: np.ndarray) -> optimize.OptimizeResult:
    """Global least-squares fit over wide bounds (deterministic: seed 0)."""
    span_s = float(t_s[-1] - t_s[0])
    bounds = [
        (smo2_pct.min() - 20, smo2_pct.max() + 5),
        (0, 100),
        (0, span_s / 2),
        (0.1, 10 * span_s),
    ]
    return optimize.differential_evolution(
        recovery_sse, bounds, args=(t_s, smo2_pct), seed=0, tol=1e-10, maxiter=3000
    )
