"""Speed of workbench.signals.hrv_time against NeuroKit2 hrv_time (same columns, same run).

Builds 1000 synthetic series of ~25k beats. Each of ``--rounds`` rounds times workbench on the
whole batch and NeuroKit2 on the first ``--nk-subset`` series (it takes ~0.1-0.4 s per series),
so both see the same machine load; the ratio uses the best round of each (the least disturbed
measurement on a shared machine), the median ratio over rounds is printed as well. Then checks
that both agree on every column whose definition is shared (NaN in the same places, max
relative difference elsewhere). SDANN/SDNNI share NeuroKit2 0.3's definition only when the
trailing part of the recording is shorter than half a segment (NeuroKit2 rounds the window
count, we count complete segments: ``docs/hrv-definitions.md``); they are compared on those
(series, W) pairs and the others are counted and their difference printed. Last, the time to compute daily readiness for 50 athletes x 365 days
(``bench/readiness_bench.py``; skip with ``--no-readiness``).
Run: ``.venv/bin/python bench/hrv_bench.py``
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from workbench.signals import hrv_time


def nk_shares_segments(x: np.ndarray, window_min: int) -> bool:
    """NeuroKit2 0.3 uses our SDANN/SDNNI segments: same count and same segment per beat."""
    w = window_min * 60_000.0
    ours = np.cumsum(x)
    t = np.cumsum(x / 1000)
    theirs = (t - t[0]) * 1000 + x[0]  # NeuroKit2's interval end times
    return bool(
        np.floor(ours[-1] / w) == np.round(theirs[-1] / w)
        and np.array_equal(np.floor(ours / w), np.floor(theirs / w))
    )


def make_series(n_series: int, n_beats: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_series):
        n = int(n_beats * rng.uniform(0.9, 1.1))
        t = np.arange(n)
        rr = 850 + 60 * np.sin(t / 40.0) + 25 * np.sin(t / 3.1) + rng.normal(0, 15, n)
        out.append(np.round(rr, 1))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=1000)
    ap.add_argument("--beats", type=int, default=25_000)
    ap.add_argument("--nk-subset", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-readiness", action="store_true", help="skip the readiness timing")
    args = ap.parse_args()
    series = make_series(args.series, args.beats)

    import neurokit2 as nk

    def run_nk() -> list:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [nk.hrv_time({"RRI": s}) for s in series[: args.nk_subset]]

    hrv_time(series[:2])  # warm-up (imports, first allocations)
    run_nk()
    t_ours, t_nk = [], []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        ours = hrv_time(series)
        t_ours.append((time.perf_counter() - t0) / len(series))
        t0 = time.perf_counter()
        refs = run_nk()
        t_nk.append((time.perf_counter() - t0) / args.nk_subset)

    cols = [c for c in ours.columns if c in refs[0].columns]
    worst, nan_mismatch, n_values = 0.0, 0, 0
    n_pairs = n_shared = 0
    differs: list[float] = []
    for i, ref in enumerate(refs):
        shared = {w: nk_shares_segments(series[i], w) for w in (1, 2, 5)}
        n_pairs += len(shared)
        n_shared += sum(shared.values())
        use = [
            c for c in cols if not c.startswith(("HRV_SDANN", "HRV_SDNNI")) or shared[int(c[-1])]
        ]
        a = ours.iloc[i][use].to_numpy(float)
        b = ref[use].iloc[0].to_numpy(float)
        nan_mismatch += int(np.sum(np.isnan(a) != np.isnan(b)))
        ok = np.isfinite(b) & np.isfinite(a)
        n_values += int(ok.sum())
        worst = max(worst, float(np.max(np.abs(a[ok] - b[ok]) / np.abs(b[ok]))))
        for c in set(cols) - set(use):
            x, y = float(ours.iloc[i][c]), float(ref[c].iloc[0])
            if np.isfinite(x) and np.isfinite(y):
                differs.append(abs(x - y) / abs(y))

    best_ours, best_nk = min(t_ours), min(t_nk)
    ratios = np.array(t_nk) / np.array(t_ours)
    print(
        f"series: {len(series)} x ~{args.beats} beats; NeuroKit2 timed on {args.nk_subset}; "
        f"{args.rounds} interleaved rounds, best of each"
    )
    print(f"workbench hrv_time : {best_ours * 1e3:8.3f} ms per series (batch of {len(series)})")
    print(
        f"neurokit2 hrv_time : {best_nk * 1e3:8.3f} ms per series (incl. TINN, not computed here)"
    )
    print(
        f"speed ratio        : {best_nk / best_ours:8.1f} x (best/best; per round median "
        f"{np.median(ratios):.1f} x, min {ratios.min():.1f} x)"
    )
    print(
        f"agreement on every shared definition ({len(cols) - 6} columns + SDANN/SDNNI on "
        f"{n_shared} of {n_pairs} (series, W) pairs) x {len(refs)} series: {n_values} values, "
        f"max relative difference {worst:.2e}, NaN mismatches {nan_mismatch}"
    )
    if differs:
        print(
            f"SDANN/SDNNI where NeuroKit2 counts a trailing part >= W/2 as a window "
            f"({n_pairs - n_shared} pairs, not a shared definition): median relative "
            f"difference {np.median(differs):.1e}, max {max(differs):.1e}"
        )
    if not args.no_readiness:
        sys.path.insert(0, str(Path(__file__).parent))
        from readiness_bench import main as readiness_main

        print("daily readiness:")
        readiness_main(athletes=50, days=365)


if __name__ == "__main__":
    main()
