"""Validate RR artefact correction: inject artefacts at known beats, score a corrector.

Pure functions for benchmarks and tests (no I/O). Ground truth is a series of true beat
times (e.g. the reference annotations of an MIT-BIH record); artefacts are injected at
chosen beats, a corrector returns flagged beat times and corrected beat times, and
:func:`score_correction` counts, per kind, detected and corrected events and false alarms.

Injected kinds (``k`` = the chosen beat, ``RR_k = t_k - t_{k-1}``):

- ``ectopic``: beat ``k`` displaced by ``f · RR_k`` (``f`` in ±[0.25, 0.40], premature when
  negative), every other beat in place: a premature (or late) beat with its compensation.
- ``missed``: beat ``k`` removed (one interval of about ``2·RR``).
- ``extra``: a spurious beat inserted at ``t_k + g · RR_{k+1}``, ``g`` in [0.30, 0.60].
- ``longshort``: every beat from ``k`` on shifted by ``h · RR_k`` (``h`` in ±[0.30, 0.45]):
  one interval too long or too short, nothing compensates (a dropped or doubled stretch).

An event is *detected* when the corrector flags a beat within ``tolerance_beats`` beats of
it; *corrected* when, around it, the corrected beats equal the true beats in number and
each lies within ``tolerance_ms`` of its true time (for ``longshort`` only the detection is
scored: no true time exists after an uncompensated shift). Flags farther than
``tolerance_beats`` from every injected event and every *exempt* beat (e.g. annotated real
ectopics) are false positives.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["InjectedSeries", "inject_artefacts", "score_correction", "CorrectionScore"]

KINDS = ("ectopic", "missed", "extra", "longshort")


@dataclass(frozen=True)
class InjectedSeries:
    """Beat times with artefacts injected.

    Attributes
    ----------
    t_s:
        Corrupted beat times (s).
    truth_s:
        True beat times after the same shifts (``longshort`` shifts are part of the truth
        from then on, so the other kinds stay scorable after them).
    events:
        One dict per injected artefact: ``kind``, ``time_s`` (where it is in ``t_s``),
        ``truth_index`` (the true beat it concerns).
    """

    t_s: np.ndarray
    truth_s: np.ndarray
    events: list[dict] = field(default_factory=list)


def inject_artefacts(
    beats_s: np.ndarray,
    counts: dict[str, int],
    *,
    seed: int = 0,
    exclude: Sequence[int] = (),
    spacing_beats: int = 12,
) -> InjectedSeries:
    """Inject ``counts[kind]`` artefacts of each kind into true beat times ``beats_s`` (s).

    Positions are drawn at random (``seed``) at least ``spacing_beats`` apart, away from
    the first and last 10 beats and from the beats in ``exclude`` (e.g. annotated ectopics)
    by at least ``spacing_beats // 2``.
    """
    rng = np.random.default_rng(seed)
    t = np.asarray(beats_s, dtype=float).copy()
    n = t.size
    total = sum(counts.values())
    half = spacing_beats // 2
    banned = np.zeros(n, dtype=bool)
    banned[:10] = banned[-10:] = True
    for e in exclude:
        banned[max(0, e - half) : e + half + 1] = True
    chosen: list[int] = []
    for k in rng.permutation(n):
        if len(chosen) == total:
            break
        if banned[k] or any(abs(int(k) - c) < spacing_beats for c in chosen):
            continue
        chosen.append(int(k))
    if len(chosen) < total:
        raise ValueError(f"room for {len(chosen)} of {total} artefacts; use fewer or less spacing")
    kinds = [k for k, c in counts.items() for _ in range(c)]
    rng.shuffle(kinds)
    plan = sorted(zip(chosen, kinds, strict=True))

    truth = t.copy()
    corrupt = t.copy()
    keep = np.ones(n, dtype=bool)
    inserts: list[float] = []
    events: list[dict] = []
    for k, kind in plan:
        rr_k = truth[k] - truth[k - 1]
        sign = rng.choice([-1.0, 1.0])
        if kind == "ectopic":
            corrupt[k] += sign * rng.uniform(0.25, 0.40) * rr_k
            events.append({"kind": kind, "time_s": corrupt[k], "truth_index": k})
        elif kind == "missed":
            keep[k] = False
            events.append({"kind": kind, "time_s": truth[k], "truth_index": k})
        elif kind == "extra":
            at = truth[k] + rng.uniform(0.30, 0.60) * (truth[k + 1] - truth[k])
            inserts.append(at)
            events.append({"kind": kind, "time_s": at, "truth_index": k})
        elif kind == "longshort":
            shift = sign * rng.uniform(0.30, 0.45) * rr_k
            truth[k:] += shift
            corrupt[k:] += shift
            for ev in events:  # earlier events are before k: unaffected
                assert ev["truth_index"] < k
            events.append({"kind": kind, "time_s": corrupt[k], "truth_index": k})
        else:
            raise ValueError(f"unknown artefact kind {kind!r}")
    out = np.sort(np.concatenate([corrupt[keep], inserts]))
    return InjectedSeries(t_s=out, truth_s=truth, events=events)


@dataclass(frozen=True)
class CorrectionScore:
    """Per-kind counts of a corrector on one injected series.

    ``injected[k]``, ``detected[k]`` (flagged within tolerance, any kind), ``classified[k]``
    (flagged as that kind), ``corrected[k]`` (beats restored within tolerance),
    ``false_positives`` (flags away from every event and exempt beat), ``n_beats``.
    """

    injected: dict[str, int]
    detected: dict[str, int]
    classified: dict[str, int]
    corrected: dict[str, int]
    false_positives: int
    n_beats: int

    @property
    def false_positive_pct(self) -> float:
        """False positives as a percentage of beats."""
        return 100.0 * self.false_positives / max(self.n_beats, 1)

    def rate(self, what: str, kind: str | None = None) -> float:
        """Share (%) of injected events ``what`` (detected/classified/corrected), all kinds
        or one; ``corrected`` leaves ``longshort`` out (not scorable)."""
        kinds = [kind] if kind else [k for k in KINDS if what != "corrected" or k != "longshort"]
        num = sum(getattr(self, what)[k] for k in kinds)
        den = sum(self.injected[k] for k in kinds)
        return 100.0 * num / den if den else float("nan")


Corrector = Callable[[np.ndarray], tuple[dict[str, np.ndarray], np.ndarray]]


def score_correction(
    series: InjectedSeries,
    flags_s: dict[str, np.ndarray],
    corrected_s: np.ndarray,
    *,
    exempt_s: Sequence[float] = (),
    tolerance_beats: float = 1.5,
    tolerance_ms: float = 50.0,
) -> CorrectionScore:
    """Score flagged beat times ``flags_s`` (kind -> s) and corrected beat times (s)."""
    truth = series.truth_s
    mean_rr = float(np.median(np.diff(truth)))
    tol_s = tolerance_beats * mean_rr
    injected = {k: 0 for k in KINDS}
    detected = {k: 0 for k in KINDS}
    classified = {k: 0 for k in KINDS}
    corrected = {k: 0 for k in KINDS}
    all_flags = np.sort(np.concatenate([np.asarray(v, float) for v in flags_s.values()] or [[]]))
    for ev in series.events:
        kind = ev["kind"]
        injected[kind] += 1
        near = np.abs(all_flags - ev["time_s"]) <= tol_s
        if near.any():
            detected[kind] += 1
        own = np.asarray(flags_s.get(kind, []), float)
        if (np.abs(own - ev["time_s"]) <= tol_s).any():
            classified[kind] += 1
        if kind == "longshort":
            continue
        k = ev["truth_index"]
        lo, hi = truth[k - 2] - 0.25 * mean_rr, truth[k + 2] + 0.25 * mean_rr
        want = truth[(truth >= lo) & (truth <= hi)]
        got = corrected_s[(corrected_s >= lo) & (corrected_s <= hi)]
        if got.size == want.size and np.all(np.abs(got - want) * 1000.0 <= tolerance_ms):
            corrected[kind] += 1
    marks = np.concatenate([[ev["time_s"] for ev in series.events], np.asarray(exempt_s, float)])
    fp = 0
    for f in all_flags:
        if not (np.abs(marks - f) <= tol_s).any():
            fp += 1
    return CorrectionScore(
        injected=injected,
        detected=detected,
        classified=classified,
        corrected=corrected,
        false_positives=fp,
        n_beats=int(series.t_s.size),
    )
