"""Review of a stored BFR session (bfr.review): time under pressure by phase on streams whose
answer is known by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.bfr.review import phase_at, time_under_pressure_by_phase


def _events(marks):
    return pd.DataFrame(
        {"t_s": [t for t, _ in marks], "kind": "state", "code": [c for _, c in marks]}
    )


@pytest.mark.parametrize("seed", range(5))
def test_time_under_pressure_by_phase_matches_the_construction(seed):
    rng = np.random.default_rng(seed)
    rate_hz = float(rng.choice([50.0, 100.0]))
    # phases with random lengths; the cuff is inflated for a random part of each
    names = ["aop_reading", "armed", "set", "rest", "set", "reperfusion"]
    lengths = rng.uniform(5, 40, len(names))
    starts = np.concatenate([[0.0], np.cumsum(lengths)[:-1]])
    t = np.arange(0, lengths.sum(), 1 / rate_hz)
    p = np.zeros_like(t)
    expect: dict[str, float] = {}
    label = {"aop_reading": "AOP measurement", "armed": "settle"}
    for name, t0, n in zip(names, starts, lengths, strict=True):
        on = rng.uniform(0.2, 0.9) * n  # inflated for the first `on` seconds of the phase
        p[(t >= t0) & (t < t0 + on)] = rng.uniform(60, 180)
        k = label.get(name, name)
        n_on = np.count_nonzero((t >= t0) & (t < t0 + on))
        expect[k] = expect.get(k, 0.0) + n_on / rate_hz
    # a 10-s gap in the stream inside the last set earns no credit
    gap = (t > starts[4] + 1.0) & (t < starts[4] + 11.0)
    expect["set"] -= np.count_nonzero(gap & (p > 20)) / rate_hz
    t, p = t[~gap], p[~gap]
    got = time_under_pressure_by_phase(t, p, _events(list(zip(starts, names, strict=True))))
    assert list(got.index) == ["AOP measurement", "settle", "set", "rest", "reperfusion"]
    for k, v in expect.items():
        # one sample of credit per boundary (the last sample before the gap: 0.05 s)
        assert got[k] == pytest.approx(v, abs=2.5 / rate_hz + 0.05), k


def test_phase_before_any_event_is_start_and_calibration_is_aop_measurement():
    ev = _events([(1.0, "calibration_step"), (2.0, "ready"), (3.0, "set")])
    ph = phase_at(np.array([0.5, 1.5, 2.5, 3.5]), ev)
    assert list(ph) == ["start", "AOP measurement", "settle", "set"]
