"""Detection curve of the readiness flags against the injected episodes' effect size (issue 14.4).

Simulated squads (``--athletes`` x ``--days``, one per seed) at fixed effect scales ``s`` (0 =
no physiological change, 1 = upper literature anchor; sources in
docs/readiness-validation.md). For our flags (``illness_flag | overtraining_warning``) and two
published anchors (HRV4Training SWC rule; SWC + Plews' 7-day CV) it prints sensitivity,
median detection delay and false alarms per athlete-month, each against ``s``, pooled over
the seeds; then the day-level agreement of our flags with the anchors at the demo's drawn
effect sizes, and the score-vs-self-rating comparison with bootstrap CIs.

Run: ``.venv/bin/python bench/readiness_detection_bench.py [--seeds 20] [--athletes 6]``
(about 1 s per squad on one core: 20 seeds x 6 scales ~ 2-3 min).
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from workbench.demo.detection import (
    EVAL_FROM_DAY,
    agreement,
    detection_curve,
    simulate_inputs,
)
from workbench.readiness import compute_readiness, validate_readiness

SCALES = [0.0, 0.1, 0.25, 0.5, 0.75, 1.0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--athletes", type=int, default=6)
    ap.add_argument("--days", type=int, default=150)
    args = ap.parse_args()
    seeds = list(range(1, args.seeds + 1))
    t0 = time.perf_counter()
    curve = detection_curve(SCALES, seeds, athletes=args.athletes, days=args.days)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    print(
        f"Detection curve: {len(seeds)} seeds x {args.athletes} athletes x {args.days} days "
        f"per effect scale ({time.perf_counter() - t0:.0f} s)"
    )
    for kind in ("illness", "overreaching", "any"):
        sub = curve[curve["kind"] == kind]
        cols = ["sensitivity", "delay_days_median"]
        if kind == "any":
            cols = ["false_alarms_per_athlete_month"]
        wide = sub.pivot(index="effect_scale", columns="method", values=cols)
        n = int(sub["episodes"].iloc[0]) if len(sub) else 0
        print(f"\n== {kind} (episodes per scale: {n}) ==")
        print(wide.round(3).to_string())

    print("\nAgreement with published anchors, demo effect sizes drawn per episode (seeds 1-5):")
    agree, valid = [], []
    for s in seeds[:5]:
        inputs, _ = simulate_inputs(args.athletes, args.days, s)
        r = compute_readiness(inputs, with_text=False)
        agree.append(agreement(r, first_day=r["date"].min() + pd.Timedelta(days=EVAL_FROM_DAY)))
        valid.append(validate_readiness(r, inputs.performance_tests).assign(seed=s))
    a = pd.concat(agree).groupby("anchor").mean(numeric_only=True)
    print(a.round(2).to_string())
    print("\nScore vs self-rating, next-day CMJ below usual (bootstrap 95 % CI over athletes):")
    cols = ["seed", "predictor", "n_pairs", "auc_below_usual", "auc_ci_low", "auc_ci_high"]
    cols += ["pearson_r", "pearson_ci_low", "pearson_ci_high"]
    print(pd.concat(valid)[cols].round(3).to_string(index=False))


if __name__ == "__main__":
    main()
