"""SDANN/SDNNI written straight from the definitions, one segment at a time (test helper).

Two conventions, so tests can say which one a value follows:

- ``segments="complete"``: ours (``docs/hrv-definitions.md``, Task Force 1996): interval ``j``
  ends at ``c_j = x[0] + ... + x[j]`` and belongs to segment ``floor(c_j / W)``; only the
  ``floor(c_last / W)`` complete segments count, every beat of each included.
- ``segments="rounded"``: NeuroKit2 0.3.0 ``_sdann``/``_sdnni``: the same assignment but
  ``round(c_last / W)`` windows, so a trailing part of at least ``W / 2`` is a window of its
  own (and a shorter one is left out). NeuroKit2 computes ``c`` as
  ``(cumsum(x / 1000) - x[0] / 1000) * 1000 + x[0]``, which can differ from ``cumsum(x)`` by
  rounding; ``nk_cumulative_ms`` reproduces it.
"""

from __future__ import annotations

import numpy as np

MINUTE_MS = 60_000.0


def nk_cumulative_ms(x: np.ndarray) -> np.ndarray:
    """NeuroKit2 0.3.0's interval end times (ms)."""
    t = np.nancumsum(x / 1000)
    return (t - t[0]) * 1000 + x[0]


def segment_sd(
    x: np.ndarray, window_min: int, *, segments: str = "complete", c: np.ndarray | None = None
) -> tuple[float, float]:
    """(SDANN, SDNNI) for ``window_min``-minute segments; NaN with fewer than 3 segments."""
    x = np.asarray(x, dtype=float)
    w = window_min * MINUTE_MS
    if c is None:
        c = np.cumsum(x)
    if segments == "complete":
        n_seg = int(np.floor(c[-1] / w))
    elif segments == "rounded":
        n_seg = int(np.round(c[-1] / w))
    else:  # pragma: no cover - helper misuse
        raise ValueError(segments)
    if n_seg < 3:
        return float("nan"), float("nan")
    seg = np.floor(c / w)
    means, sds = [], []
    for k in range(n_seg):
        vals = x[seg == k]
        if vals.size >= 1:
            means.append(vals.mean())
        if vals.size >= 2:
            sds.append(vals.std(ddof=1))
    sdann = float(np.std(means, ddof=1)) if len(means) >= 2 else float("nan")
    sdnni = float(np.mean(sds)) if sds else float("nan")
    return sdann, sdnni


def nk_shares_definition(x: np.ndarray, window_min: int) -> bool:
    """True when NeuroKit2 0.3.0 uses exactly our segments for this series and window.

    That needs the same number of segments (``round`` = ``floor``: a trailing part shorter
    than ``W / 2``) and the same segment for every interval (its ``c`` rounding does not move
    a beat across a boundary).
    """
    x = np.asarray(x, dtype=float)
    w = window_min * MINUTE_MS
    ours, theirs = np.cumsum(x), nk_cumulative_ms(x)
    return bool(
        np.floor(ours[-1] / w) == np.round(theirs[-1] / w)
        and np.array_equal(np.floor(ours / w), np.floor(theirs / w))
    )


def assert_equals_neurokit_where_shared(row, x: np.ndarray, ref) -> int:
    """Compare a ``hrv_time`` row with NeuroKit2's ``hrv_time`` on every shared definition.

    SDANN/SDNNI of a window length are compared with NeuroKit2 only when
    :func:`nk_shares_definition`; otherwise the difference is named and checked: NeuroKit2's
    value is the "rounded" convention on its own end times, ours the "complete" one. Returns
    the number of columns compared with NeuroKit2 (non-NaN).
    """
    import pytest

    x = np.asarray(x, dtype=float)
    compared = 0
    for col in row.index:
        if col not in ref:
            continue
        a, b = float(row[col]), float(ref[col].iloc[0])
        if col.startswith(("HRV_SDANN", "HRV_SDNNI")):
            w = int(col[-1])
            which = 0 if col.startswith("HRV_SDANN") else 1
            if not nk_shares_definition(x, w):
                # the difference, named: NeuroKit2 0.3.0 counts round(T / W) windows
                nk_def = segment_sd(x, w, segments="rounded", c=nk_cumulative_ms(x))[which]
                ours_def = segment_sd(x, w)[which]
                assert b == pytest.approx(nk_def, rel=1e-9, nan_ok=True), col
                assert a == pytest.approx(ours_def, rel=1e-9, abs=1e-9, nan_ok=True), col
                continue
        if np.isnan(b):
            assert np.isnan(a), col
            continue
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12), col
        compared += 1
    return compared
