"""Speed of workbench.signals.hrv_time against NeuroKit2 hrv_time (same columns, same run).

Builds 1000 synthetic series of ~25k beats. Each of ``--rounds`` rounds times workbench on the
whole batch and NeuroKit2 on the first ``--nk-subset`` series (it takes ~0.1-0.4 s per series),
so both see the same machine load; the ratio uses the best round of each (the least disturbed
measurement on a shared machine), the median ratio over rounds is printed as well. Then checks
that both agree on every shared column of the subset (NaN in the same places, max relative
difference elsewhere). Last, the time to compute daily readiness for 50 athletes x 365 days
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
    worst, nan_mismatch = 0.0, 0
    for i, ref in enumerate(refs):
        a = ours.iloc[i][cols].to_numpy(float)
        b = ref[cols].iloc[0].to_numpy(float)
        nan_mismatch += int(np.sum(np.isnan(a) != np.isnan(b)))
        ok = np.isfinite(b) & np.isfinite(a)
        worst = max(worst, float(np.max(np.abs(a[ok] - b[ok]) / np.abs(b[ok]))))

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
        f"agreement on {len(cols)} shared columns x {len(refs)} series: max relative difference "
        f"{worst:.2e}, NaN mismatches {nan_mismatch}"
    )
    if not args.no_readiness:
        sys.path.insert(0, str(Path(__file__).parent))
        from readiness_bench import main as readiness_main

        print("daily readiness:")
        readiness_main(athletes=50, days=365)


if __name__ == "__main__":
    main()
