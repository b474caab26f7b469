"""Beat-by-beat RR interval synthesis, vectorised over many recordings at once.

Each series is ``mean_rr + scale * (RSA + LF + VLF + white)``: respiratory sinus arrhythmia
at 0.20-0.30 Hz with a wandering phase (weight 1.0), a Mayer-wave LF component at 0.07-0.12 Hz
(weight 0.8 overnight, x0.7-1.3 per series), VLF drift (AR(1) over beats with a 25-beat
memory, 0.5) and white noise (0.3). ``scale`` is solved per series so that the artefact-free RMSSD equals the target exactly.

Artefacts then replace ``artifact_frac`` of the RR values (as chest straps produce them):

* missed beat: two RR merged into one long interval (1 affected value),
* extra beat: one RR split in two short ones, split point 35-65 % (2 values),
* ectopic beat: a premature short RR followed by a compensatory long one, 20-35 % of the
  interval moved to the next (2 values).

Events are 30 % missed, 30 % extra, 40 % ectopic, placed at even beat indices so they never
touch. Values are finally quantised to the 1/1024-s resolution of BLE heart-rate straps:
``rr_ms = round(rr_ms * 1.024) * 1000 / 1024`` (so the store keeps them at 2 bytes/beat).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

BLE_MS = 1000.0 / 1024.0
_VALUES_PER_EVENT = 0.3 * 1 + 0.3 * 2 + 0.4 * 2


@dataclass
class RRBatch:
    """Concatenated RR series: ``rr_ms[offsets[i]:offsets[i+1]]`` is series ``i``.

    ``artifact_pct`` is the share of RR values (in %) that are artefacts, per series;
    ``clean_rmssd_ms`` the RMSSD before artefacts and quantisation.
    """

    rr_ms: np.ndarray
    offsets: np.ndarray
    artifact_pct: np.ndarray
    clean_rmssd_ms: np.ndarray

    @property
    def n_beats(self) -> np.ndarray:
        return np.diff(self.offsets)

    def series(self) -> list[np.ndarray]:
        """One array per series (views into ``rr_ms``)."""
        return np.split(self.rr_ms, self.offsets[1:-1])


def quantise_rr(rr_ms: np.ndarray) -> np.ndarray:
    """Round RR intervals to the BLE resolution of 1/1024 s (exactly ``count * 1000/1024``)."""
    return np.maximum(np.rint(np.asarray(rr_ms) * 1.024), 1.0) * BLE_MS


def synthesize_rr(
    rng: np.random.Generator,
    mean_rr_ms: np.ndarray,
    rmssd_ms: np.ndarray,
    duration_s: float,
    artifact_frac: np.ndarray,
    *,
    lf_weight: float = 0.8,
) -> RRBatch:
    """Synthesize one RR series per entry of ``mean_rr_ms``/``rmssd_ms``/``artifact_frac``.

    Parameters
    ----------
    rng:
        Random generator (the only source of randomness).
    mean_rr_ms, rmssd_ms:
        Mean RR interval and artefact-free RMSSD of each series, ms.
    duration_s:
        Length of every series, s (number of beats = duration / mean RR).
    artifact_frac:
        Share of RR values to corrupt per series (0.01-0.03 for typical chest-strap nights).
    lf_weight:
        Weight of the LF component relative to RSA.
    """
    mean_rr = np.asarray(mean_rr_ms, dtype=np.float64)
    target = np.asarray(rmssd_ms, dtype=np.float64)
    frac = np.broadcast_to(np.asarray(artifact_frac, dtype=np.float64), mean_rr.shape)
    if np.any(mean_rr < 250) or np.any(target <= 0):
        raise ValueError("mean_rr_ms must be >= 250 ms and rmssd_ms > 0")
    m = mean_rr.size
    n = np.rint(duration_s * 1000.0 / mean_rr).astype(np.int64)
    if np.any(n < 8):
        raise ValueError(f"duration_s={duration_s} gives fewer than 8 beats")
    start = np.concatenate([[0], np.cumsum(n)[:-1]])
    total = int(n.sum())
    night = np.repeat(np.arange(m), n)
    k = np.arange(total) - start[night]
    t = k * mean_rr[night] / 1000.0

    two_pi = 2 * np.pi
    phase_r = two_pi * rng.uniform(0.20, 0.30, m)[night] * t + rng.uniform(0, two_pi, m)[night]
    rsa = np.sin(phase_r + np.cumsum(rng.normal(0, 0.08, total)))
    lf_amp = lf_weight * rng.uniform(0.7, 1.3, m)
    phase_l = two_pi * rng.uniform(0.07, 0.12, m)[night] * t + rng.uniform(0, two_pi, m)[night]
    lf = lf_amp[night] * np.sin(phase_l)
    a = np.exp(-1.0 / 25.0)  # VLF drift: AR(1) over beats, ~25-beat memory
    vlf = lfilter([np.sqrt(1 - a * a)], [1.0, -a], rng.standard_normal(total))
    fluct = rsa + lf + 0.5 * vlf + 0.3 * rng.standard_normal(total)

    same = night[1:] == night[:-1]
    d2 = np.diff(fluct) ** 2
    ss = np.bincount(night[1:][same], weights=d2[same], minlength=m)
    scale = target / np.sqrt(ss / (n - 1))
    rr = mean_rr[night] + scale[night] * fluct
    rr = np.maximum(rr, 0.45 * mean_rr[night])

    # ---- artefacts ------------------------------------------------------------------
    n_ev = np.rint(frac * n / _VALUES_PER_EVENT).astype(np.int64)
    n_missed = np.rint(0.3 * n_ev).astype(np.int64)
    n_extra = np.rint(0.3 * n_ev).astype(np.int64)
    # one event per stratum of the even beat indices 2..n-3, so events never touch
    slots = (n - 3) // 2
    ev_night = np.repeat(np.arange(m), n_ev)
    ev_start = np.concatenate([[0], np.cumsum(n_ev)[:-1]])
    j = np.arange(ev_night.size) - ev_start[ev_night]
    slot = np.floor((j + rng.random(ev_night.size)) * slots[ev_night] / n_ev[ev_night])
    pos = start[ev_night] + 2 + 2 * slot.astype(np.int64)
    order = np.lexsort((rng.random(ev_night.size), ev_night))
    rank = np.empty(ev_night.size, dtype=np.int64)
    rank[order] = j
    is_missed = rank < n_missed[ev_night]
    is_extra = ~is_missed & (rank < (n_missed + n_extra)[ev_night])
    is_ect = ~is_missed & ~is_extra
    idx = pos[is_ect]
    delta = rng.uniform(0.20, 0.35, idx.size) * rr[idx]
    rr[idx] -= delta
    rr[idx + 1] += delta
    idx = pos[is_missed]
    rr[idx] += rr[idx + 1]
    keep = np.ones(total, dtype=np.int64)
    keep[idx + 1] = 0
    idx = pos[is_extra]
    counts = keep
    counts[idx] += 1
    out = np.repeat(rr, counts)
    out_night = np.repeat(night, counts)
    first = (np.cumsum(counts) - counts)[idx]
    a = rng.uniform(0.35, 0.65, idx.size)
    out[first] = a * rr[idx]
    out[first + 1] = (1 - a) * rr[idx]

    n_out = np.bincount(out_night, minlength=m)
    affected = np.bincount(ev_night, weights=2.0 - is_missed, minlength=m)
    offsets = np.concatenate([[0], np.cumsum(n_out)])
    return RRBatch(
        rr_ms=quantise_rr(out),
        offsets=offsets,
        artifact_pct=100.0 * affected / n_out,
        clean_rmssd_ms=target.copy(),
    )
