"""Heart-rate variability from RR/NN intervals: artefact correction, time, frequency, nonlinear.

All functions are pure (numpy/pandas/scipy, no I/O). Intervals are in milliseconds. Every
function accepts one series (1-D array-like) or a list of series; the result has one row per
series. :func:`hrv_time` computes a whole batch at once on the concatenated intervals
(segment sums with ``np.add.reduceat``, one in-place sort per series, order statistics read
off the sorted segments), which is what makes a squad's season fast.

Column names follow NeuroKit2 (``HRV_MeanNN`` ...) so results can be compared one to one. The
definitions are ours, stated in ``docs/hrv-definitions.md``; SDANN/SDNNI follow Task Force
(1996) and differ from NeuroKit2's on recordings with a partial trailing segment.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from workbench.errors import DataFormatError

__all__ = [
    "RRCleanResult",
    "rr_clean",
    "hrv_time",
    "hrv_frequency",
    "hrv_nonlinear",
    "HRV_TIME_COLUMNS",
    "HRV_FREQUENCY_BANDS_HZ",
    "DFA_ALPHA1_SCALES_BEATS",
    "WELCH_SEGMENT_S",
    "smoothness_priors_detrend",
]

RRInput = Sequence[float] | np.ndarray
RRBatch = RRInput | Sequence[RRInput]

HRV_TIME_COLUMNS: tuple[str, ...] = (
    "HRV_MeanNN",
    "HRV_SDNN",
    "HRV_SDANN1",
    "HRV_SDNNI1",
    "HRV_SDANN2",
    "HRV_SDNNI2",
    "HRV_SDANN5",
    "HRV_SDNNI5",
    "HRV_RMSSD",
    "HRV_SDSD",
    "HRV_CVNN",
    "HRV_CVSD",
    "HRV_MedianNN",
    "HRV_MadNN",
    "HRV_MCVNN",
    "HRV_IQRNN",
    "HRV_SDRMSSD",
    "HRV_Prc20NN",
    "HRV_Prc80NN",
    "HRV_pNN50",
    "HRV_pNN20",
    "HRV_MinNN",
    "HRV_MaxNN",
    "HRV_HTI",
    "HRV_lnRMSSD",
)

#: Frequency bands (Hz) as in NeuroKit2 / Task Force 1996.
HRV_FREQUENCY_BANDS_HZ: dict[str, tuple[float, float]] = {
    "ULF": (0.0, 0.0033),
    "VLF": (0.0033, 0.04),
    "LF": (0.04, 0.15),
    "HF": (0.15, 0.4),
    "VHF": (0.4, 0.5),
}

_HTI_BINSIZE_MS = 1000.0 / 128.0  # NeuroKit2 / Task Force: 1/128 s
_MAD_CONSTANT = 1.4826


# --------------------------------------------------------------------------- input handling
def _is_batch(rr: RRBatch) -> bool:
    if isinstance(rr, np.ndarray):
        if rr.dtype == object:
            return True
        if rr.ndim > 1:
            raise DataFormatError(
                f"RR input must be 1-D (one series) or a list of 1-D series, got shape {rr.shape}"
            )
        return False
    if isinstance(rr, pd.Series):
        return False
    if isinstance(rr, (list, tuple)):
        return len(rr) > 0 and all(isinstance(r, (np.ndarray, list, tuple, pd.Series)) for r in rr)
    return False


def _as_series(rr: RRInput, index: int | None = None) -> np.ndarray:
    where = "" if index is None else f"series {index}: "
    try:
        x = np.asarray(rr, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataFormatError(f"{where}RR intervals must be numbers in ms ({exc})") from None
    if x.ndim != 1:
        raise DataFormatError(f"{where}RR intervals must be a 1-D array, got shape {x.shape}")
    bad = ~np.isfinite(x) | (x <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataFormatError(
            f"{where}RR interval {i} is {x[i]!r}: intervals must be finite and > 0 ms; "
            "drop gaps or split the recording before analysis"
        )
    return x


def _as_batch(rr: RRBatch) -> tuple[list[np.ndarray], bool]:
    if _is_batch(rr):
        return [_as_series(r, i) for i, r in enumerate(rr)], True  # type: ignore[union-attr]
    return [_as_series(rr)], False  # type: ignore[arg-type]


# --------------------------------------------------------------------------- rr_clean
@dataclass(frozen=True)
class RRCleanResult:
    """Outcome of :func:`rr_clean`.

    Attributes
    ----------
    nn_ms:
        Corrected NN intervals (ms).
    artifact_pct:
        Corrected beats as a percentage of the input intervals (all passes).
    n_missed, n_extra, n_ectopic, n_longshort:
        Number of distinct beats corrected, by the kind of their first correction (a beat
        touched again in a later pass is not counted again).
    positions:
        Kind -> indices into the *input* ``rr_ms`` of the intervals flagged in the first
        pass (the interval that ends at the flagged beat).
    n_passes:
        Detection passes run (the correction repeats while the artefact count falls).
    note:
        Why nothing was done (series too short), else empty.
    """

    nn_ms: np.ndarray
    artifact_pct: float
    n_missed: int
    n_extra: int
    n_ectopic: int
    n_longshort: int
    positions: dict[str, np.ndarray] = field(default_factory=dict)
    n_passes: int = 0
    note: str = ""

    @property
    def n_corrected(self) -> int:
        """Total corrected beats."""
        return self.n_missed + self.n_extra + self.n_ectopic + self.n_longshort

    @property
    def quality(self) -> str:
        """``good`` (<= 2 % corrected), ``fair`` (<= 5 %) or ``unreliable`` (> 5 %)."""
        if self.artifact_pct <= 2.0:
            return "good"
        if self.artifact_pct <= 5.0:
            return "fair"
        return "unreliable"


def _rolling_threshold(x: np.ndarray, alpha: float, window: int) -> np.ndarray:
    s = pd.Series(np.abs(x))
    roll = s.rolling(window, center=True, min_periods=1)
    q1 = roll.quantile(0.25).to_numpy()
    q3 = roll.quantile(0.75).to_numpy()
    return alpha * ((q3 - q1) / 2.0)


def _find_artifacts(
    peaks_s: np.ndarray,
    *,
    c1: float,
    c2: float,
    alpha: float,
    window_width: int,
    medfilt_order: int,
) -> dict[str, list[int]]:
    """Lipponen & Tarvainen (2019) beat classification; indices are peak indices."""
    rr = np.ediff1d(peaks_s, to_begin=0.0)
    rr[0] = np.mean(rr[1:]) if rr.size > 1 else 1.0
    drrs = np.ediff1d(rr, to_begin=0.0)
    drrs[0] = np.mean(drrs[1:]) if drrs.size > 1 else 0.0
    th1 = _rolling_threshold(drrs, alpha, window_width)
    with np.errstate(divide="ignore", invalid="ignore"):
        drrs = np.where(th1 != 0, drrs / np.where(th1 != 0, th1, 1.0), np.nan)

    pad = np.pad(drrs, 2, "reflect")
    prev1, next1, next2 = pad[1:-3], pad[3:-1], pad[4:]
    with np.errstate(invalid="ignore"):
        s12 = np.where(
            drrs > 0, np.maximum(prev1, next1), np.where(drrs < 0, np.minimum(prev1, next1), 0.0)
        )
        s22 = np.where(
            drrs >= 0, np.minimum(next1, next2), np.where(drrs < 0, np.maximum(next1, next2), 0.0)
        )

    medrr = pd.Series(rr).rolling(medfilt_order, center=True, min_periods=1).median().to_numpy()
    mrrs = rr - medrr
    mrrs[mrrs < 0] *= 2.0
    th2 = _rolling_threshold(mrrs, alpha, window_width)
    with np.errstate(divide="ignore", invalid="ignore"):
        mrrs = np.where(th2 != 0, mrrs / np.where(th2 != 0, th2, 1.0), np.nan)

    out: dict[str, list[int]] = {"ectopic": [], "missed": [], "extra": [], "longshort": []}
    n = rr.size
    with np.errstate(invalid="ignore"):
        candidates = np.flatnonzero(~(np.abs(drrs) <= 1.0))

    def ectopic_at(j: int) -> bool:
        """Lipponen & Tarvainen's ectopic criterion on the dRR pattern centred at ``j``."""
        d = drrs[j]
        return bool((d > 1 and s12[j] < (-c1 * d - c2)) or (d < -1 and s12[j] > (-c1 * d + c2)))

    ci = 0
    i = 0
    while i < n - 2:
        while ci < candidates.size and candidates[ci] < i:
            ci += 1
        if ci >= candidates.size:
            break
        i = int(candidates[ci])
        if i >= n - 2:
            break
        # An ectopic beat b is early (late) by some delta: rr[b] short (long), rr[b + 1] long
        # (short), so dRR shows -, +2, - (or +, -2, +) around j = b + 1 and the criterion
        # holds at j. The displaced beat is b = j - 1, not j: only b is moved, and the
        # pattern's other candidates (j, j + 1) are consumed with it, so the event is one
        # corrected beat (NeuroKit2 flags j as ectopic and b as long/short: two beats moved).
        centre = next((j for j in (i + 1, i) if j < n - 1 and ectopic_at(j)), None)
        if centre is not None:
            out["ectopic"].append(centre - 1)
            i = centre + 2
            continue
        d = drrs[i]
        if not (abs(d) > 1 or abs(mrrs[i]) > 3):
            i += 1
            continue
        cands = [i]
        if abs(drrs[i + 1]) < abs(drrs[i + 2]):
            cands.append(i + 1)
        for j in cands:
            eq3 = drrs[j] > 1 and s22[j] < -1
            eq4 = abs(mrrs[j]) > 3
            eq5 = drrs[j] < -1 and s22[j] > 1
            if not (eq3 or eq4 or eq5):
                i += 1
                continue
            eq6 = abs(rr[j] / 2 - medrr[j]) < th2[j]
            eq7 = abs(rr[j] + rr[j + 1] - medrr[j]) < th2[j]
            if eq5 and eq7:
                out["extra"].append(j)
            elif eq3 and eq6:
                out["missed"].append(j)
            else:
                out["longshort"].append(j)
            i += 1
    return out


def _after_delete(deleted: np.ndarray, idx: list[int]) -> np.ndarray:
    """Indices ``idx`` after the beats at sorted ``deleted`` are removed (those themselves go)."""
    u = np.setdiff1d(np.asarray(idx, dtype=np.int64), deleted)
    return u - np.searchsorted(deleted, u, side="left")


def _after_insert(inserted_at: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Indices after ``np.insert`` at sorted positions ``inserted_at`` (all counted at once:
    NeuroKit2's ``_update_indices`` shifts one source index at a time and compares it with
    already-shifted indices, which moves the wrong beat once a few corrections precede)."""
    return idx + np.searchsorted(inserted_at, idx, side="right")


def _correct(
    artifacts: dict[str, list[int]], peaks: np.ndarray, ids: np.ndarray, next_id: int
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], int]:
    """Apply one pass of corrections to beat times ``peaks`` (s).

    Extra beats are deleted, missed beats inserted at the midpoint of their interval,
    ectopic and long/short beats moved to the midpoint of their neighbours. ``ids`` names
    every beat (input beats ``0..n``, inserted beats ``next_id, next_id + 1`` ...), so the
    beats a pass touches can be told apart from those of earlier passes. Returns the
    corrected times, their ids, the ids touched per kind and the next free id.
    """
    touched: dict[str, np.ndarray] = {k: np.zeros(0, dtype=np.int64) for k in artifacts}
    extra = np.unique(np.asarray(artifacts["extra"], dtype=np.int64))
    missed = np.asarray(artifacts["missed"], dtype=np.int64)
    moved = {k: np.asarray(artifacts[k], dtype=np.int64) for k in ("ectopic", "longshort")}
    if extra.size:
        touched["extra"] = ids[extra]
        peaks, ids = np.delete(peaks, extra), np.delete(ids, extra)
        missed = _after_delete(extra, missed.tolist())
        moved = {k: _after_delete(extra, v.tolist()) for k, v in moved.items()}
    missed = np.unique(missed)
    missed = missed[(missed > 1) & (missed < peaks.size)]
    if missed.size:
        new_ids = np.arange(next_id, next_id + missed.size, dtype=np.int64)
        next_id += missed.size
        touched["missed"] = new_ids
        peaks = np.insert(peaks, missed, (peaks[missed - 1] + peaks[missed]) / 2.0)
        ids = np.insert(ids, missed, new_ids)
        moved = {k: _after_insert(missed, v) for k, v in moved.items()}
    for kind in ("ectopic", "longshort"):
        idx = np.unique(moved[kind])
        idx = idx[(idx > 1) & (idx < peaks.size - 1)]
        if idx.size:
            touched[kind] = ids[idx]
            peaks = peaks.copy()
            peaks[idx] = (peaks[idx - 1] + peaks[idx + 1]) / 2.0
            order = np.argsort(peaks, kind="mergesort")
            peaks, ids = peaks[order], ids[order]
    return peaks, ids, touched, next_id


def _rr_clean_one(
    rr_ms: np.ndarray,
    *,
    iterative: bool,
    c1: float,
    c2: float,
    alpha: float,
    window_width: int,
    medfilt_order: int,
) -> RRCleanResult:
    kinds = ("missed", "extra", "ectopic", "longshort")
    if rr_ms.size < 4:
        return RRCleanResult(
            nn_ms=rr_ms.copy(),
            artifact_pct=0.0,
            n_missed=0,
            n_extra=0,
            n_ectopic=0,
            n_longshort=0,
            positions={k: np.zeros(0, dtype=np.int64) for k in kinds},
            n_passes=0,
            note=f"{rr_ms.size} intervals: at least 4 are needed for artefact detection",
        )
    params = dict(c1=c1, c2=c2, alpha=alpha, window_width=window_width, medfilt_order=medfilt_order)
    peaks = np.concatenate([[0.0], np.cumsum(rr_ms)]) / 1000.0  # beat times, s
    ids = np.arange(peaks.size, dtype=np.int64)
    next_id = int(peaks.size)
    arts = _find_artifacts(peaks, **params)
    positions = {k: np.asarray(arts[k], dtype=np.int64) - 1 for k in kinds}
    # every beat is counted once, under the kind of its first correction, however many
    # passes touch it again
    counted: set[int] = set()
    counts = {k: 0 for k in kinds}

    def tally(touched: dict[str, np.ndarray]) -> None:
        for k in kinds:
            fresh = set(touched[k].tolist()) - counted
            counts[k] += len(fresh)
            counted.update(fresh)

    peaks, ids, touched, next_id = _correct(arts, peaks, ids, next_id)
    tally(touched)
    n_passes = 1
    current = sum(len(v) for v in arts.values())
    while iterative and current > 0:
        new = _find_artifacts(peaks, **params)
        n_passes += 1
        n_new = sum(len(v) for v in new.values())
        if n_new >= current:
            break
        current = n_new
        peaks, ids, touched, next_id = _correct(new, peaks, ids, next_id)
        tally(touched)
    nn_ms = np.diff(peaks) * 1000.0
    total = sum(counts.values())
    return RRCleanResult(
        nn_ms=nn_ms,
        artifact_pct=100.0 * total / rr_ms.size,
        n_missed=counts["missed"],
        n_extra=counts["extra"],
        n_ectopic=counts["ectopic"],
        n_longshort=counts["longshort"],
        positions=positions,
        n_passes=n_passes,
    )


def rr_clean(
    rr_ms: RRBatch,
    *,
    iterative: bool = True,
    c1: float = 0.13,
    c2: float = 0.17,
    alpha: float = 5.2,
    window_width: int = 91,
    medfilt_order: int = 11,
) -> RRCleanResult | list[RRCleanResult]:
    """Detect and correct RR artefacts (Lipponen & Tarvainen 2019, the Kubios method).

    Beats are classified from successive-difference and median-deviation series with
    time-varying thresholds into missed, extra, ectopic and long/short beats; extra beats are
    removed, missed beats inserted at the midpoint, long/short beats moved to the midpoint
    of their neighbours. Detection repeats while the number of artefacts falls. Works on
    beat times in floating point (no rounding to samples).

    Where this differs from NeuroKit2 ``signal_fixpeaks(method="kubios")`` (tested on
    MIT-BIH record 100 with injected artefacts, ``bench/reference_bench.py``):

    - **An ectopic beat is one displaced beat.** The ectopic criterion holds at the dRR
      index ``j`` in the middle of the -, +, - (or +, -, +) pattern; the beat that is early
      (late) is ``j - 1``, whose interval is short (long) while the next one compensates.
      Only that beat is moved (to the midpoint of its neighbours); its neighbour, which is
      in place, is left alone. NeuroKit2 moves beat ``j`` and flags ``j - 1`` as long/short,
      moving both: 0 of 25 injected ectopics restored within 50 ms, against 25 of 25 here.
    - **Indices after deletions and insertions** are updated all at once; NeuroKit2 updates
      them one source index at a time against already-updated values, which moves the beat
      next to the flagged one once a few corrections precede it.
    - **Counting.** Every beat (an input beat or an inserted one) counts once, under the kind
      of its first correction, however many passes touch it again; the counts used to grow
      with every pass (411 corrections for 59 ectopic events).
    Parameters
    ----------
    rr_ms:
        RR intervals (ms), or a list of such series.
    iterative:
        Repeat detection and correction while the artefact count decreases.
    c1, c2, alpha, window_width, medfilt_order:
        Algorithm constants of Lipponen & Tarvainen (2019) (window sizes in beats).

    Returns
    -------
    RRCleanResult or list of RRCleanResult
        Corrected NN series (ms), share (%) and kinds of corrected beats, first-pass positions.

    Raises
    ------
    DataFormatError
        If an interval is non-finite or not positive.
    """
    series, batch = _as_batch(rr_ms)
    out = [
        _rr_clean_one(
            s,
            iterative=iterative,
            c1=c1,
            c2=c2,
            alpha=alpha,
            window_width=window_width,
            medfilt_order=medfilt_order,
        )
        for s in series
    ]
    return out if batch else out[0]


# --------------------------------------------------------------------------- hrv_time
_SD_WINDOWS_MIN = (1, 2, 5)  # SDANN/SDNNI segment lengths (minutes); Task Force uses 5
_MINUTE_MS = 60_000.0
_WINDOW_ALIGN = 10  # lcm of _SD_WINDOWS_MIN: per-series minute blocks are padded to it
_CHUNK_ELEMENTS = 1_000_000  # intervals per concatenated chunk (bounds memory)


def _as_arrays(rr: RRBatch) -> tuple[list[np.ndarray], bool]:
    """Float64 1-D series without the value checks (done later on the sorted data)."""
    try:
        if _is_batch(rr):
            arrays = [np.asarray(r, dtype=np.float64) for r in rr]  # type: ignore[union-attr]
            batch = True
        else:
            arrays, batch = [np.asarray(rr, dtype=np.float64)], False
    except (TypeError, ValueError):
        return _as_batch(rr)  # raises the detailed DataFormatError
    if any(a.ndim != 1 for a in arrays):
        return _as_batch(rr)
    return arrays, batch


def _invalid(rr: RRBatch) -> DataFormatError:
    """The detailed error for the first bad interval (``_as_batch`` raises it)."""
    _as_batch(rr)
    return DataFormatError("RR intervals must be finite and > 0 ms")  # pragma: no cover


def _lerp_sorted(s: np.ndarray, start: np.ndarray, n: np.ndarray, q: float) -> np.ndarray:
    """numpy's linear percentile ``q`` of each sorted segment ``s[start:start + n]``."""
    pos = (q / 100.0) * (n - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    frac = pos - lo
    a = s[start + lo]
    b = s[start + hi]
    diff = b - a
    # numpy's _lerp: a + diff*t, and b - diff*(1-t) when t >= 0.5
    return np.where(frac >= 0.5, b - diff * (1.0 - frac), a + diff * frac)


def _median_sorted(s: np.ndarray, start: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``np.median`` of each sorted segment (mean of the two middle values for even n)."""
    mid = start + n // 2
    return np.where(n % 2 == 1, s[mid], (s[mid - 1] + s[mid]) / 2.0)


def _mad_sorted(s: np.ndarray, start: np.ndarray, n: np.ndarray, med: np.ndarray) -> np.ndarray:
    """Median of ``|x - med|`` per sorted segment without a second sort.

    With ``p = n // 2`` (``s[p-1] <= med <= s[p]``) the deviations are two ascending runs,
    ``A[j] = med - s[p-1-j]`` and ``B[j] = s[p+j] - med``; the r-th smallest of their union is
    found by a binary search on how many come from ``A``, for all segments in lockstep.
    The deviations are the same floating-point values as ``np.abs(x - med)``.
    """
    p = n // 2
    na, nb = p, n - p
    r = (n - 1) // 2
    last = n - 1

    def dev_a(j: np.ndarray) -> np.ndarray:
        return med - s[start + np.clip(p - 1 - j, 0, last)]

    def dev_b(j: np.ndarray) -> np.ndarray:
        return s[start + np.clip(p + j, 0, last)] - med

    lo = np.maximum(0, r + 1 - nb)
    hi = np.minimum(r + 1, na)
    active = lo < hi
    while active.any():
        mid = (lo + hi) // 2
        take = (mid >= na) | (r - mid < 0) | (dev_a(mid) >= dev_b(r - mid))
        hi = np.where(active & take, mid, hi)
        lo = np.where(active & ~take, mid + 1, lo)
        active = lo < hi
    i = lo  # the r+1 smallest are A[:i] and B[:r+1-i]
    with np.errstate(invalid="ignore"):
        v_r = np.maximum(
            np.where(i >= 1, dev_a(i - 1), -np.inf), np.where(r - i >= 0, dev_b(r - i), -np.inf)
        )
        v_next = np.minimum(
            np.where(i < na, dev_a(i), np.inf), np.where(r + 1 - i < nb, dev_b(r + 1 - i), np.inf)
        )
    return np.where(n % 2 == 1, v_r, (v_r + v_next) / 2.0)


def _hti_one(seg_sorted: np.ndarray) -> float:
    """Tallest bin of ``np.histogram(x, np.arange(0, max + b, b))``, b = 1/128 s (sorted x)."""
    mn, mx = float(seg_sorted[0]), float(seg_sorted[-1])
    n_edges = math.ceil((mx + _HTI_BINSIZE_MS) / _HTI_BINSIZE_MS)  # len(np.arange(...))
    n_bins = n_edges - 1
    first = max(int(mn // _HTI_BINSIZE_MS) - 1, 0)  # bins below hold nothing
    # counts of values < each inner edge (edges i*b are exact), last bin closed as numpy
    cuts = seg_sorted.searchsorted(np.arange(first + 1, n_bins) * _HTI_BINSIZE_MS)
    top = int(seg_sorted.searchsorted((n_edges - 1) * _HTI_BINSIZE_MS, side="right"))
    if cuts.size == 0:
        return float(top)
    inner = int(np.diff(cuts).max()) if cuts.size > 1 else 0
    return float(max(int(cuts[0]), inner, top - int(cuts[-1])))


def _windows_sd(
    x: np.ndarray, c: np.ndarray, starts: np.ndarray, n: np.ndarray
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """SDANN and SDNNI (Task Force 1996, see ``docs/hrv-definitions.md``) per series.

    Interval ``j`` ends at ``c_j`` = sum of the intervals up to and including ``j`` (ms, time 0
    at the beat that opens the first interval) and belongs to segment ``floor(c_j / W)``.
    Only complete segments count (``floor(c_last / W)`` of them, every beat included); the
    intervals ending after the last complete segment are left out. Every segment is a run of
    one-minute blocks: each minute's sums of ``x - K`` and ``(x - K)**2`` (``K`` = the minute's
    mean, so no cancellation) are taken once with ``np.add.reduceat``; a segment's mean and
    squared deviations combine its minutes (parallel-variance formula).
    ``c`` holds the per-series cumulative sums of ``x`` (ms).
    """
    k = n.size
    out = {w: (np.full(k, np.nan), np.full(k, np.nan)) for w in _SD_WINDOWS_MIN}
    ends = starts + n
    c_last = c[ends - 1]
    # complete segments only (a partial trailing segment is left out)
    n_win = {w: np.floor(c_last / (w * _MINUTE_MS)).astype(np.int64) for w in _SD_WINDOWS_MIN}
    span = np.max([np.where(n_win[w] >= 3, w * n_win[w], 0) for w in _SD_WINDOWS_MIN], axis=0)
    rows = np.flatnonzero(span > 0)
    if rows.size == 0:
        return out
    n_min = -(-span[rows] // _WINDOW_ALIGN) * _WINDOW_ALIGN  # minutes per series, padded
    first = np.concatenate([[0], np.cumsum(n_min + 1)])  # offsets into the edge positions
    pos = np.empty(int(first[-1]), dtype=np.int64)
    for j, r in enumerate(rows.tolist()):
        a, b = int(starts[r]), int(ends[r])
        edges = np.arange(int(n_min[j]) + 1) * _MINUTE_MS
        pos[first[j] : first[j + 1]] = c[a:b].searchsorted(edges) + a  # first c >= edge

    # minute m of the j-th series is x[pos[first[j] + m] : pos[first[j] + m + 1]]; the entry
    # at each series' last edge spans no minute (it runs on to the next series)
    size = x.size
    minute = np.ones(pos.size, dtype=bool)
    minute[first[1:] - 1] = False
    seg_len = np.diff(pos, append=size)
    seg_len[~minute] = 0
    x_ext = np.append(x, 0.0)  # reduceat indices may equal x.size
    with np.errstate(invalid="ignore", divide="ignore"):
        ref = np.where(seg_len > 0, np.add.reduceat(x_ext, pos) / seg_len, 0.0)
    # per-element reference: the minute's mean inside minutes, 0 elsewhere
    ref_elem = np.repeat(np.concatenate([[0.0], ref]), np.diff(pos, prepend=0, append=size + 1))
    dev = x_ext - ref_elem
    dev2 = dev * dev
    s1 = np.where(seg_len > 0, np.add.reduceat(dev, pos), 0.0)[minute]
    q1 = np.where(seg_len > 0, np.add.reduceat(dev2, pos), 0.0)[minute]
    m1 = seg_len[minute].astype(np.float64)
    k1 = ref[minute]
    for w in _SD_WINDOWS_MIN:
        # series j owns n_min[j] // w consecutive windows (n_min is a multiple of w)
        per = n_min // w
        series = np.repeat(np.arange(rows.size), per)
        win = np.arange(per.sum()) - np.repeat(np.cumsum(per) - per, per)
        s, q, m = s1, q1, m1  # per-minute count, sums of deviations and of their squares
        m_w = m.reshape(-1, w).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            win_mean = (m * k1 + s).reshape(-1, w).sum(axis=1) / m_w
            off = k1 - np.repeat(win_mean, w)  # minute reference - window mean
            ss_w = np.where(m > 0, q + 2.0 * off * s + m * off * off, 0.0)
            win_var = ss_w.reshape(-1, w).sum(axis=1) / (m_w - 1.0)
            win_sd = np.sqrt(np.maximum(win_var, 0.0))
        counted = win < n_win[w][rows[series]]
        has_mean = counted & (m_w >= 1)
        has_sd = counted & (m_w >= 2)
        n_mean = np.bincount(series, weights=has_mean, minlength=rows.size)
        mean_of_means = np.bincount(
            series, weights=np.where(has_mean, win_mean, 0.0), minlength=rows.size
        ) / np.maximum(n_mean, 1.0)
        spread = np.where(has_mean, win_mean - mean_of_means[series], 0.0)
        ss = np.bincount(series, weights=spread * spread, minlength=rows.size)
        n_sd = np.bincount(series, weights=has_sd, minlength=rows.size)
        sum_sd = np.bincount(series, weights=np.where(has_sd, win_sd, 0.0), minlength=rows.size)
        defined = n_win[w][rows] >= 3
        with np.errstate(invalid="ignore", divide="ignore"):
            sdann = np.where(defined & (n_mean >= 2), np.sqrt(ss / (n_mean - 1.0)), np.nan)
            sdnni = np.where(defined & (n_sd >= 1), sum_sd / n_sd, np.nan)
        out[w][0][rows] = sdann
        out[w][1][rows] = sdnni
    return out


def _time_chunk(rr: RRBatch, arrays: list[np.ndarray]) -> np.ndarray:
    """All columns for series of >= 2 intervals, on their concatenation."""
    n = np.array([a.size for a in arrays], dtype=np.int64)
    k = n.size
    starts = np.concatenate([[0], np.cumsum(n)[:-1]]).astype(np.int64)
    ends = starts + n
    x = np.concatenate(arrays)
    size = x.size
    nf = n.astype(np.float64)
    nd = nf - 1.0
    d = np.diff(x)
    d[ends[:-1] - 1] = 0.0  # differences across two series
    with np.errstate(invalid="ignore"):  # bad input is reported below
        mean = np.add.reduceat(x, starts) / nf
        dmean = np.add.reduceat(d, starts) / nd

    xs = x.copy()
    c = np.empty(size)  # per-series cumulative time (ms): where each interval ends
    dev = np.empty(size)  # x - series mean
    hti = np.empty(k)
    ssd = np.empty(k)  # sum of squared deviations of the differences from their mean
    scratch = np.empty(int(n.max()))
    for i, (a, b, mu, dmu) in enumerate(
        zip(starts.tolist(), ends.tolist(), mean.tolist(), dmean.tolist(), strict=True)
    ):
        seg = xs[a:b]
        seg.sort()
        if not (seg[0] > 0.0 and math.isfinite(seg[-1])):  # NaN sorts last
            raise _invalid(rr)
        hti[i] = (b - a) / _hti_one(seg)  # NeuroKit2: len(rri) / max(bar_y)
        np.cumsum(x[a:b], out=c[a:b])  # per series, so a batch row equals a single series
        np.subtract(x[a:b], mu, out=dev[a:b])
        e = np.subtract(d[a : b - 1], dmu, out=scratch[: b - a - 1])
        ssd[i] = np.multiply(e, e, out=e).sum()  # not np.dot: BLAS threads on a shared CPU

    out = np.empty((k, len(HRV_TIME_COLUMNS)))
    col = {name: i for i, name in enumerate(HRV_TIME_COLUMNS)}
    with np.errstate(invalid="ignore", divide="ignore"):
        dev2 = dev * dev
        sdnn = np.sqrt(np.add.reduceat(dev2, starts) / nd)
        sdsd = np.sqrt(ssd / (nd - 1.0))
        d *= d
        rmssd = np.sqrt(np.add.reduceat(d, starts) / nd)
        # d*d > 2500 (400) exactly when |d| > 50 (20): squaring is monotone and the next
        # double above 50 (20) squares to more than one ulp above 2500 (400)
        nn50 = np.add.reduceat(d > 2500.0, starts, dtype=np.int64)
        nn20 = np.add.reduceat(d > 400.0, starts, dtype=np.int64)
        del d

        median = _median_sorted(xs, starts, n)
        mad = _mad_sorted(xs, starts, n, median) * _MAD_CONSTANT
        q25 = _lerp_sorted(xs, starts, n, 25.0)
        q75 = _lerp_sorted(xs, starts, n, 75.0)

        out[:, col["HRV_MeanNN"]] = mean
        out[:, col["HRV_SDNN"]] = sdnn
        for w, (sdann, sdnni) in _windows_sd(x, c, starts, n).items():
            out[:, col[f"HRV_SDANN{w}"]] = sdann
            out[:, col[f"HRV_SDNNI{w}"]] = sdnni
        out[:, col["HRV_RMSSD"]] = rmssd
        out[:, col["HRV_SDSD"]] = sdsd
        out[:, col["HRV_CVNN"]] = sdnn / mean
        out[:, col["HRV_CVSD"]] = rmssd / mean
        out[:, col["HRV_MedianNN"]] = median
        out[:, col["HRV_MadNN"]] = mad
        out[:, col["HRV_MCVNN"]] = mad / median
        out[:, col["HRV_IQRNN"]] = q75 - q25
        out[:, col["HRV_SDRMSSD"]] = sdnn / rmssd
        out[:, col["HRV_Prc20NN"]] = _lerp_sorted(xs, starts, n, 20.0)
        out[:, col["HRV_Prc80NN"]] = _lerp_sorted(xs, starts, n, 80.0)
        out[:, col["HRV_pNN50"]] = nn50 / nf * 100.0
        out[:, col["HRV_pNN20"]] = nn20 / nf * 100.0
        out[:, col["HRV_MinNN"]] = xs[starts]
        out[:, col["HRV_MaxNN"]] = xs[ends - 1]
        out[:, col["HRV_HTI"]] = hti
        out[:, col["HRV_lnRMSSD"]] = np.log(rmssd)
    return out


def hrv_time(rr_ms: RRBatch) -> pd.DataFrame:
    """Time-domain HRV of one or many NN series (ms), computed as one batch.

    Definitions are stated in ``docs/hrv-definitions.md``: sample SD (ddof 1),
    ``pNNx`` = count(|ΔNN| > x ms) / (number of intervals) × 100, ``MadNN`` = 1.4826 × median
    absolute deviation, percentiles with linear interpolation, HTI with 1/128-s bins.
    SDANN/SDNNI (Task Force 1996) use complete W-minute segments (W = 1, 2, 5): interval
    ``j`` belongs to the segment in which it ends (``floor(c_j / W)``, ``c_j`` = sum of the
    intervals up to ``j``), every interval of a segment is included, and a partial trailing
    segment is left out (it would enter with the weight of a full segment from fewer beats
    and a shorter span); NaN with fewer than 3 complete segments. All other columns equal
    NeuroKit2 0.3 ``hrv_time`` (~1e-12 relative), and so do SDANN/SDNNI when the trailing part
    is shorter than W/2 (NeuroKit2 rounds the window count). NeuroKit2's ``HRV_TINN`` (a
    brute-force triangle search) is not computed.

    Parameters
    ----------
    rr_ms:
        NN intervals (ms) of one reading, or a list of readings (one row each).
        Use :func:`rr_clean` first; intervals must be finite and > 0.

    Returns
    -------
    pandas.DataFrame
        One row per series with columns :data:`HRV_TIME_COLUMNS`: ``HRV_MeanNN``,
        ``HRV_SDNN``, ``HRV_SDANN{1,2,5}``, ``HRV_SDNNI{1,2,5}``, ``HRV_RMSSD``, ``HRV_SDSD``
        (ms), ``HRV_CVNN``, ``HRV_CVSD`` (ratios), ``HRV_MedianNN``, ``HRV_MadNN`` (ms),
        ``HRV_MCVNN``, ``HRV_IQRNN`` (ms), ``HRV_SDRMSSD``, ``HRV_Prc20NN``, ``HRV_Prc80NN``
        (ms), ``HRV_pNN50``, ``HRV_pNN20`` (%), ``HRV_MinNN``, ``HRV_MaxNN`` (ms),
        ``HRV_HTI`` and ``HRV_lnRMSSD`` (ln of RMSSD in ms). A series with fewer than 2
        intervals gives a row of NaN.

    Raises
    ------
    DataFormatError
        If an interval is non-finite or not positive.
    """
    arrays, _ = _as_arrays(rr_ms)
    result = np.full((len(arrays), len(HRV_TIME_COLUMNS)), np.nan)
    for a in arrays:
        if a.size == 1 and not (a[0] > 0.0 and math.isfinite(a[0])):
            raise _invalid(rr_ms)
    todo = [i for i, a in enumerate(arrays) if a.size >= 2]
    # chunks of consecutive series, each concatenated into one array of bounded size
    start = 0
    while start < len(todo):
        stop, size = start, 0
        while stop < len(todo) and (
            stop == start or size + arrays[todo[stop]].size <= _CHUNK_ELEMENTS
        ):
            size += arrays[todo[stop]].size
            stop += 1
        idx = todo[start:stop]
        result[idx] = _time_chunk(rr_ms, [arrays[i] for i in idx])
        start = stop
    return pd.DataFrame(result, columns=list(HRV_TIME_COLUMNS))


# --------------------------------------------------------------------------- hrv_frequency
def _lomb_psd(t_s: np.ndarray, y: np.ndarray, freqs_hz: np.ndarray) -> np.ndarray:
    """Generalised (floating-mean) Lomb–Scargle periodogram, PSD normalisation (y units² / Hz·…).

    Same definition as astropy ``LombScargle(t, y, normalization="psd")`` with unit errors.
    """
    n = t_s.size
    w = np.full(n, 1.0 / n)
    y = y - np.dot(w, y)
    out = np.empty(freqs_hz.size)
    chunk = max(1, 2_000_000 // max(n, 1))
    for a in range(0, freqs_hz.size, chunk):
        omega = 2.0 * np.pi * freqs_hz[a : a + chunk, None]
        ot = omega * t_s[None, :]
        s = (w * np.sin(ot)).sum(axis=1)
        c = (w * np.cos(ot)).sum(axis=1)
        s2 = 2.0 * (w * np.sin(ot) * np.cos(ot)).sum(axis=1)
        c2 = 2.0 * (w * np.cos(ot) ** 2).sum(axis=1) - 1.0
        s2 = s2 - 2.0 * s * c
        c2 = c2 - (c * c - s * s)
        tau = 0.5 * np.arctan2(s2, c2) / omega[:, 0]
        ott = omega * (t_s[None, :] - tau[:, None])
        cos_t, sin_t = np.cos(ott), np.sin(ott)
        yc = (w * y * cos_t).sum(axis=1)
        ys = (w * y * sin_t).sum(axis=1)
        cc = (w * cos_t * cos_t).sum(axis=1)
        ss = (w * sin_t * sin_t).sum(axis=1)
        cm = (w * cos_t).sum(axis=1)
        sm = (w * sin_t).sum(axis=1)
        cc = cc - cm * cm
        ss = ss - sm * sm
        out[a : a + chunk] = 0.5 * n * (yc * yc / cc + ys * ys / ss)
    return out


def smoothness_priors_detrend(x: np.ndarray, lam: float) -> np.ndarray:
    """Remove the smoothness-priors trend (Tarvainen et al. 2002) from evenly sampled ``x``.

    ``trend = (I + λ² D₂ᵀD₂)⁻¹ x`` with ``D₂`` the second-difference matrix; the result is
    ``x - trend``. The filter is a time-varying high-pass with cut-off about
    ``0.189 · fs / sqrt(λ)`` (λ = 500 at 4 Hz: 0.034 Hz, Kubios' default).
    """
    import scipy.sparse
    import scipy.sparse.linalg

    n = x.size
    if n < 3:
        return x - np.mean(x)
    d2 = scipy.sparse.diags([1.0, -2.0, 1.0], [0, 1, 2], shape=(n - 2, n))
    a = scipy.sparse.identity(n, format="csc") + (lam * lam) * (d2.T @ d2).tocsc()
    trend = scipy.sparse.linalg.spsolve(a, x)
    return x - trend


def _psd(
    rr_ms: np.ndarray,
    method: str,
    interpolation_rate_hz: float,
    *,
    segment_s: float | None = None,
    interpolation: str = "quadratic",
    detrend: str | None = None,
    detrend_lambda: float = 500.0,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Frequencies (Hz), PSD (ms²/Hz for Welch) and the smallest frequency kept."""
    import scipy.interpolate
    import scipy.signal

    t = np.cumsum(rr_ms / 1000.0)
    if method == "welch":
        fs = interpolation_rate_hz
        grid = np.arange(t[0], t[-1] + 1 / fs, 1 / fs)
        kind = interpolation if rr_ms.size >= 4 else "linear"
        if kind == "cubic":
            sig = scipy.interpolate.CubicSpline(t, rr_ms, extrapolate=False)(grid)
            sig[grid > t[-1]] = rr_ms[-1]
        else:
            f = scipy.interpolate.interp1d(
                t, rr_ms, kind=kind, bounds_error=False, fill_value=([rr_ms[0]], [rr_ms[-1]])
            )
            sig = f(grid)
        if detrend == "smoothness_priors":
            sig = smoothness_priors_detrend(sig, detrend_lambda)
        sig = sig - np.mean(sig)
        n = sig.size
        if segment_s is None:  # NeuroKit2: segments of 2 / fmin, at most half the series
            fmin = (2 * fs) / (n / 2)
            nperseg = int((2 / fmin) * fs)
            if nperseg > n / 2:
                nperseg = int(n / 2)
            nfft = int(nperseg * 2)
        else:  # fixed-length segments (Kubios), the whole series when it is shorter
            nperseg = min(int(round(segment_s * fs)), n)
            nfft = max(2 * int(round(segment_s * fs)), 256)  # one frequency grid for all n
            fmin = 1.0 / (nperseg / fs)  # one cycle per segment
        freqs, power = scipy.signal.welch(
            sig,
            fs=fs,
            scaling="density",
            detrend=False,
            nfft=nfft,
            average="mean",
            nperseg=nperseg,
            noverlap=nperseg // 2,
            window="hann",
        )
        return freqs, power, fmin
    sig = rr_ms - np.mean(rr_ms)
    n = sig.size
    fmin = (2 * np.median(np.diff(t))) / (n / 2)
    baseline = t.max() - t.min()
    df = 1.0 / baseline / 5.0  # 5 samples per peak, as astropy's autofrequency
    n_f = 1 + int(np.round((0.5 - fmin) / df))
    freqs = fmin + df * np.arange(n_f)
    return freqs, _lomb_psd(t, sig, freqs), fmin


def _band_power(freqs: np.ndarray, power: np.ndarray, band: tuple[float, float]) -> float:
    sel = (freqs >= band[0]) & (freqs < band[1])
    p = float(np.trapezoid(power[sel], freqs[sel])) if sel.sum() > 1 else 0.0
    return np.nan if p == 0.0 else p


def _frequency_one(rr_ms: np.ndarray, method: str, interpolation_rate_hz: float, **opts) -> dict:
    duration_s = float(rr_ms.sum()) / 1000.0
    row: dict[str, float | str] = {}
    notes: list[str] = []
    if rr_ms.size < 4:
        for name in HRV_FREQUENCY_BANDS_HZ:
            row[f"HRV_{name}"] = np.nan
        notes.append(f"{rr_ms.size} intervals: at least 4 are needed for a spectrum")
    else:
        freqs, power, fmin = _psd(rr_ms, method, interpolation_rate_hz, **opts)
        keep = (freqs >= fmin) & (freqs <= 0.5)
        freqs, power = freqs[keep], power[keep]
        for name, band in HRV_FREQUENCY_BANDS_HZ.items():
            lowest = band[0] if band[0] > 0 else band[1]
            need_s = 2.0 / lowest
            if duration_s < need_s:
                row[f"HRV_{name}"] = np.nan
                if name != "ULF":
                    notes.append(
                        f"{name}: NaN, the window ({duration_s:.0f} s) is shorter than 2 "
                        f"cycles of {lowest} Hz ({need_s:.0f} s)"
                    )
            else:
                row[f"HRV_{name}"] = _band_power(freqs, power, band)
    powers = np.array([row[f"HRV_{b}"] for b in HRV_FREQUENCY_BANDS_HZ], dtype=float)
    tp = float(np.nansum(powers)) if np.isfinite(powers).any() else np.nan
    lf, hf = float(row["HRV_LF"]), float(row["HRV_HF"])
    row["HRV_TP"] = tp
    row["HRV_LFHF"] = lf / hf
    row["HRV_LFn"] = lf / tp
    row["HRV_HFn"] = hf / tp
    row["HRV_LnHF"] = np.log(hf)
    row["HRV_FrequencyNote"] = "; ".join(notes)
    return row


#: Welch defaults (Kubios HRV): 256-s Hann segments with 50 % overlap, cubic-spline
#: resampling at 4 Hz.
WELCH_SEGMENT_S = 256.0


def hrv_frequency(
    rr_ms: RRBatch,
    *,
    method: Literal["lomb", "welch"] = "welch",
    interpolation_rate_hz: float = 4.0,
    welch_segment_s: float | None = WELCH_SEGMENT_S,
    interpolation: Literal["cubic", "quadratic", "linear"] = "cubic",
    detrend: Literal["smoothness_priors"] | None = None,
    detrend_lambda: float = 500.0,
) -> pd.DataFrame:
    """Frequency-domain HRV: band powers of the NN series.

    ``welch`` (default): the NN series is interpolated on a uniform grid at
    ``interpolation_rate_hz`` (default 4 Hz) with a cubic spline (``interpolation``), the
    mean removed (and, with ``detrend="smoothness_priors"``, the smoothness-priors trend,
    λ = ``detrend_lambda``), and a Hann-windowed Welch periodogram computed over segments of
    ``welch_segment_s`` (default 256 s, Kubios; 50 % overlap; the whole series when it is
    shorter) on a fixed frequency grid, power density in ms²/Hz. Fixed segments make the
    spectrum stable: removing one beat from a 5-min reading leaves a 256-s segment
    unchanged, where NeuroKit2's half-length segments change with every sample.
    ``welch_segment_s=None`` with ``interpolation="quadratic"`` is NeuroKit2's Welch
    (segments of half the series) and agrees with its ``hrv_frequency(..., normalize=False)``.
    ``lomb``: generalised Lomb–Scargle on the unevenly spaced beat times (astropy's ``psd``
    normalisation, 5 samples per peak; agrees with NeuroKit2 ``interpolation_rate=None``).
    Band power is the trapezoidal integral over ``[low, high)``. A band whose lowest
    frequency does not fit twice into the recording is NaN and ``HRV_FrequencyNote`` says
    so: VLF (0.0033 Hz, 606 s) is NaN for every 5-min reading, LF needs 50 s.

    Parameters
    ----------
    rr_ms:
        NN intervals (ms) of one reading, or a list of readings.
    method:
        ``"welch"`` or ``"lomb"``.
    interpolation_rate_hz:
        Resampling rate for Welch (Hz); ignored by Lomb.
    welch_segment_s:
        Welch segment length (s); ``None`` for NeuroKit2's half-length segments.
    interpolation:
        ``"cubic"`` (spline, Kubios), ``"quadratic"`` (NeuroKit2) or ``"linear"``.
    detrend:
        ``None`` (mean removed) or ``"smoothness_priors"`` (Tarvainen et al. 2002).
    detrend_lambda:
        Smoothness-priors λ (500 at 4 Hz ≈ 0.034 Hz cut-off, Kubios' default).

    Returns
    -------
    pandas.DataFrame
        One row per series: ``HRV_ULF``, ``HRV_VLF`` (0.0033–0.04 Hz), ``HRV_LF``
        (0.04–0.15 Hz), ``HRV_HF`` (0.15–0.4 Hz), ``HRV_VHF`` band powers (ms² for Welch),
        ``HRV_TP`` (sum of the valid bands), ``HRV_LFHF``, ``HRV_LFn``, ``HRV_HFn``
        (band / TP), ``HRV_LnHF`` (ln HF) and ``HRV_FrequencyNote`` (why values are NaN).
    """
    if method not in ("lomb", "welch"):
        raise DataFormatError(f"unknown method {method!r}: use 'lomb' or 'welch'")
    if not interpolation_rate_hz > 0:
        raise DataFormatError("interpolation_rate_hz must be > 0")
    if interpolation not in ("cubic", "quadratic", "linear"):
        raise DataFormatError(f"unknown interpolation {interpolation!r}")
    if detrend not in (None, "smoothness_priors"):
        raise DataFormatError(f"unknown detrend {detrend!r}: use None or 'smoothness_priors'")
    if welch_segment_s is not None and not welch_segment_s > 0:
        raise DataFormatError("welch_segment_s must be > 0 s (or None)")
    opts = dict(
        segment_s=welch_segment_s,
        interpolation=interpolation,
        detrend=detrend,
        detrend_lambda=detrend_lambda,
    )
    series, _ = _as_batch(rr_ms)
    rows = [_frequency_one(s, method, interpolation_rate_hz, **opts) for s in series]
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- hrv_nonlinear
def _dfa_alpha(x: np.ndarray, scales: np.ndarray) -> float:
    """DFA exponent: order-1 detrending in half-overlapping windows, every window counted."""
    y = np.cumsum(x - x.mean())
    n = y.size
    fluct = np.empty(scales.size)
    for i, w in enumerate(scales):
        starts = np.arange(0, n - w, w // 2)
        seg = y[starts[:, None] + np.arange(w)[None, :]]
        t = np.arange(w, dtype=np.float64)
        tc = t - t.mean()
        slope = (seg * tc).sum(axis=1) / (tc * tc).sum()
        intercept = seg.mean(axis=1) - slope * t.mean()
        resid = seg - (intercept[:, None] + slope[:, None] * t[None, :])
        var = np.mean(resid * resid, axis=1)
        # every window counts, a perfectly linear one (equal intervals) with 0 (Peng 1995);
        # NeuroKit2 drops windows with variance <= 1e-8 instead
        fluct[i] = np.sqrt(np.mean(var)) if np.mean(var) > 0 else np.nan
    return float(np.polyfit(np.log2(scales), np.log2(fluct), 1)[0])


#: DFA α1 scale range (beats) of Kubios HRV (Tarvainen et al. 2014): 4 <= n <= 16.
DFA_ALPHA1_SCALES_BEATS: tuple[int, int] = (4, 16)


def hrv_nonlinear(
    rr_ms: RRBatch,
    *,
    min_beats_dfa: int = 100,
    dfa_scales_beats: tuple[int, int] = DFA_ALPHA1_SCALES_BEATS,
) -> pd.DataFrame:
    """Poincaré SD1/SD2 and short-term DFA α1 of one or many NN series.

    DFA (Peng et al. 1995): the mean-removed NN series is integrated, cut into windows of
    ``n`` beats (half-overlapping, as NeuroKit2 ``fractal_dfa``), each window detrended with
    a least-squares line; F(n) is the root mean square of the residuals; α1 is the slope of
    log F(n) against log n over every integer ``n`` in ``dfa_scales_beats``. The default,
    4-16 beats, is Kubios HRV's short-term range, the one the α1 ≈ 0.75 first-ventilatory-
    threshold studies used; NeuroKit2 ``hrv_nonlinear`` uses 4-11 beats (give
    ``dfa_scales_beats=(4, 11)`` to match it). The range used is written in
    ``HRV_DFA_alpha1_Scales``.

    Parameters
    ----------
    rr_ms:
        NN intervals (ms) of one reading, or a list of readings.
    min_beats_dfa:
        Fewest intervals for DFA α1; shorter series give NaN with a note.
    dfa_scales_beats:
        Smallest and largest window (beats, inclusive) of the α1 fit.

    Returns
    -------
    pandas.DataFrame
        One row per series: ``HRV_SD1``, ``HRV_SD2`` (ms), ``HRV_SD1SD2`` (ratio),
        ``HRV_DFA_alpha1`` (dimensionless), ``HRV_DFA_alpha1_Scales`` (e.g. ``"4-16 beats"``)
        and ``HRV_NonlinearNote`` (why values are NaN).
    """
    lo, hi = (int(v) for v in dfa_scales_beats)
    if not 4 <= lo < hi:
        raise DataFormatError(
            f"dfa_scales_beats {dfa_scales_beats!r}: need 4 <= smallest < largest window"
        )
    series, _ = _as_batch(rr_ms)
    rows = []
    scales = np.arange(lo, hi + 1)
    label = f"{lo}-{hi} beats"
    for x in series:
        notes = []
        if x.size >= 3:
            x1 = (x[:-1] - x[1:]) / np.sqrt(2)
            x2 = (x[:-1] + x[1:]) / np.sqrt(2)
            sd1, sd2 = float(np.std(x1, ddof=1)), float(np.std(x2, ddof=1))
        else:
            sd1 = sd2 = np.nan
            notes.append(f"{x.size} intervals: at least 3 are needed for SD1/SD2")
        need = max(min_beats_dfa, 2 * hi + 2)
        if x.size >= need:
            alpha1 = _dfa_alpha(x, scales)
        else:
            alpha1 = np.nan
            notes.append(f"DFA α1: {x.size} intervals, at least {need} are needed")
        rows.append(
            {
                "HRV_SD1": sd1,
                "HRV_SD2": sd2,
                "HRV_SD1SD2": sd1 / sd2 if sd2 else np.nan,
                "HRV_DFA_alpha1": alpha1,
                "HRV_DFA_alpha1_Scales": label,
                "HRV_NonlinearNote": "; ".join(notes),
            }
        )
    return pd.DataFrame(rows)
