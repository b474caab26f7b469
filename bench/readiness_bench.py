"""Time daily readiness for a squad of 50 athletes x 365 days (goal < 2 s).

Inputs come from the demo simulator (``workbench.demo.simulate_squad``: load plan, wellness,
episodes, performance tests, nightly RMSSD) built in memory; only the computation is timed.
Run: ``.venv/bin/python bench/readiness_bench.py [athletes] [days]``.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time

import numpy as np
import pandas as pd

from workbench.demo import simulate_squad
from workbench.readiness import ReadinessInputs, compute_readiness, validate_readiness


def build_inputs(athletes: int, days: int, seed: int = 42) -> ReadinessInputs:
    squad = simulate_squad(athletes=athletes, days=days, seed=seed, end_date=dt.date(2026, 11, 20))
    hrv = []
    for ad in squad:
        n = ad.nights
        hrv.append(
            pd.DataFrame(
                {
                    "athlete_id": ad.profile.athlete_id,
                    "date": pd.to_datetime(n["date"]),
                    "rmssd_ms": n["rmssd_ms"].to_numpy(float),
                    "lnrmssd": np.log(n["rmssd_ms"].to_numpy(float)),
                    "corrected_pct": 0.0,
                    "hrv_reliable": True,
                    "hrv_source": "simulated",
                }
            )
        )

    def cat(attr: str) -> pd.DataFrame:
        df = pd.concat([getattr(ad, attr) for ad in squad], ignore_index=True)
        df["date"] = pd.to_datetime(df["date"])
        return df

    athletes_df = pd.DataFrame([ad.profile.store_row() for ad in squad])
    return ReadinessInputs(
        athletes=athletes_df,
        hrv_daily=pd.concat(hrv, ignore_index=True),
        wellness=cat("wellness"),
        sessions=cat("sessions"),
        biomarkers=cat("biomarkers"),
        performance_tests=cat("performance"),
    )


def main(athletes: int = 50, days: int = 365, repeats: int = 3) -> None:
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    t0 = time.perf_counter()
    inputs = build_inputs(athletes, days)
    print(f"inputs simulated in {time.perf_counter() - t0:.1f} s (not timed below)")
    for with_text in (True, False):
        times, cpu = [], []
        for _ in range(repeats):
            t, c = time.perf_counter(), time.process_time()
            df = compute_readiness(inputs, with_text=with_text)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        label = "with contributors/reasons/advice" if with_text else "numbers only"
        print(
            f"compute_readiness {athletes} athletes x {days} days ({len(df)} rows), {label}: "
            f"wall best {min(times):.3f} s, median {np.median(times):.3f} s; "
            f"CPU best {min(cpu):.3f} s (goal < 2 s; wall grows on a loaded machine)"
        )
    v = validate_readiness(df, inputs.performance_tests).set_index("column")
    for _, row in v.iterrows():
        print(
            f"next-day CMJ, {row['predictor']}: AUC(below usual) {row['auc_below_usual']:.3f}, "
            f"r {row['pearson_r']:.3f} (n {row['n_pairs']})"
        )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
