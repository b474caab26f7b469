"""Min/max decimation of sampled traces for plotting (pure numpy, no widgets).

:func:`minmax_decimate` reduces a window to two points per pixel column;
:func:`bin_decimate` does the same over bins fixed in time, so the live plot only re-sends
the bin that is still filling.
"""

from __future__ import annotations

import numpy as np

__all__ = ["bin_decimate", "minmax_decimate"]


def minmax_decimate(
    t: np.ndarray, v: np.ndarray, *, t_start: float, t_end: float, columns: int
) -> tuple[np.ndarray, np.ndarray]:
    """Reduce samples to a min and a max per pixel column, keeping the trace's envelope.

    Parameters
    ----------
    t:
        Sorted sample times (s), shape (n,).
    v:
        Values, shape (n, channels).
    t_start, t_end:
        The visible window (s); samples outside it are dropped.
    columns:
        Pixel columns; the output has at most ``2 × columns`` points.

    Returns
    -------
    t_out, v_out
        When the window holds ≤ ``2 × columns`` samples they are returned unchanged;
        otherwise, per non-empty column, two points (its min and max per channel, at the
        column's first and last sample time).
    """
    v = v if v.ndim == 2 else v[:, None]
    i0, i1 = np.searchsorted(t, [t_start, t_end], side="left")
    i1 = max(i1, np.searchsorted(t, t_end, side="right"))
    t, v = t[i0:i1], v[i0:i1]
    if t.size <= 2 * columns:
        return t, v
    edges = np.linspace(t_start, t_end, columns + 1)
    starts = np.searchsorted(t, edges[:-1], side="left")
    ends = np.searchsorted(t, edges[1:], side="left")
    ends[-1] = t.size
    keep = ends > starts
    starts, ends = starts[keep], ends[keep]
    vmin = np.minimum.reduceat(v, starts, axis=0)
    vmax = np.maximum.reduceat(v, starts, axis=0)
    t_out = np.empty(2 * starts.size)
    t_out[0::2] = t[starts]
    t_out[1::2] = t[ends - 1]
    v_out = np.empty((2 * starts.size, v.shape[1]))
    v_out[0::2] = vmin
    v_out[1::2] = vmax
    return t_out, v_out


def bin_decimate(
    t: np.ndarray, v: np.ndarray, *, origin: float, width: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Min/max-decimate sorted samples over fixed time bins ``origin + k × width``.

    A bin holding more than two samples becomes two points: each channel's min at the
    bin's first sample time and its max at the bin's last sample time (NaNs ignored
    unless the whole bin is NaN); a bin with one or two samples keeps them unchanged.
    The bins are fixed in time, so decimating more samples later never changes the
    points of bins that were already complete.

    Returns
    -------
    bins, t_out, v_out
        Bin index of each point (int64, non-decreasing), its time, its values
        (shape (points, channels)).
    """
    v = v if v.ndim == 2 else v[:, None]
    n = t.size
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros((0, v.shape[1]))
    b = np.floor((t - origin) / width).astype(np.int64)
    starts = np.flatnonzero(np.r_[True, b[1:] != b[:-1]])
    ends = np.r_[starts[1:], n]
    cnt = ends - starts
    two = cnt >= 2
    dense = cnt >= 3
    nrows = np.where(two, 2, 1)
    pos = np.cumsum(nrows) - nrows  # index of each bin's first point
    total = int(nrows.sum())
    t_out = np.empty(total)
    v_out = np.empty((total, v.shape[1]))
    b_out = np.empty(total, np.int64)
    first = v[starts]
    last = v[ends - 1]
    if dense.any():
        first[dense] = np.fmin.reduceat(v, starts, axis=0)[dense]
        last[dense] = np.fmax.reduceat(v, starts, axis=0)[dense]
    t_out[pos] = t[starts]
    v_out[pos] = first
    b_out[pos] = b[starts]
    second = pos[two] + 1
    t_out[second] = t[ends[two] - 1]
    v_out[second] = last[two]
    b_out[second] = b[starts[two]]
    return b_out, t_out, v_out
