"""Speed of workbench.signals.hrv_time against NeuroKit2 hrv_time (same columns, same run).

Prints the per-series time of both and their ratio over 1000 synthetic series of ~25k beats;
NeuroKit2 is timed on a subset (``--nk-subset``), since it takes ~0.1 s per series.
Run: ``.venv/bin/python bench/hrv_bench.py``
"""

from __future__ import annotations

import argparse
import time
import warnings

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
    ap.add_argument("--nk-subset", type=int, default=10)
    args = ap.parse_args()
    series = make_series(args.series, args.beats)

    t0 = time.perf_counter()
    ours = hrv_time(series)
    t_ours = (time.perf_counter() - t0) / len(series)

    import neurokit2 as nk

    cols = [c for c in ours.columns if c != "HRV_lnRMSSD"]
    t0 = time.perf_counter()
    worst = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(args.nk_subset):
            ref = nk.hrv_time({"RRI": series[i]})
            a = ours.iloc[i][cols].to_numpy(float)
            b = ref[cols].iloc[0].to_numpy(float)
            ok = np.isfinite(b)
            worst = max(worst, float(np.max(np.abs(a[ok] - b[ok]) / np.abs(b[ok]))))
    t_nk = (time.perf_counter() - t0) / args.nk_subset

    print(f"series: {len(series)} x ~{args.beats} beats; NeuroKit2 timed on {args.nk_subset}")
    print(f"workbench hrv_time : {t_ours * 1e3:8.3f} ms per series (batch of {len(series)})")
    print(f"neurokit2 hrv_time : {t_nk * 1e3:8.3f} ms per series (incl. TINN, not computed here)")
    print(f"speed ratio        : {t_nk / t_ours:8.1f} x")
    print(f"max relative difference on {len(cols)} shared columns: {worst:.2e}")


if __name__ == "__main__":
    main()
