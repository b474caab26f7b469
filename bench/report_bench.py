"""Weekly-report batch benchmark: seconds per athlete and for the whole squad.

Builds a demo squad (default 12 athletes x 120 days) in a temporary SQLite file, then runs
``workbench report --all`` through :func:`workbench.reports.run_batch` and prints the
figures (goals on 2 cores: < 10 s per athlete, < 60 s for 12 athletes). No assertions.

    .venv/bin/python bench/report_bench.py [--athletes 12] [--days 120] [--workers 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path

from workbench.demo import generate_demo
from workbench.reports import run_batch
from workbench.reports.weeks import last_complete_week
from workbench.store import open_store


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--athletes", type=int, default=12)
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scheduler", default=None, help="'local' for a Dask LocalCluster")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        with open_store(url) as store:
            generate_demo(
                store,
                athletes=args.athletes,
                days=args.days,
                seed=7,
                end_date=dt.date(2026, 11, 22),
            )
            week = last_complete_week(store).label
            ids = list(store.athletes()["athlete_id"])
        t0 = time.perf_counter()
        results = run_batch(
            ids,
            week,
            db_url=url,
            out_dir=Path(tmp) / "out",
            workers=args.workers,
            scheduler=args.scheduler,
            progress=False,
        )
        wall = time.perf_counter() - t0
        per = [r.seconds for r in results]
        ok = sum(r.ok for r in results)
        size = (
            statistics.mean(os.path.getsize(r.html) for r in results if r.ok) / 1e6 if ok else 0.0
        )
    print(
        f"cpu cores: {os.cpu_count()}, workers: {args.workers}, scheduler: {args.scheduler or 'process pool'}"
    )
    print(
        f"squad: {args.athletes} athletes x {args.days} days, week {week}: {ok}/{len(results)} reports written"
    )
    print(
        f"seconds per athlete (one report, inside a worker): mean {statistics.mean(per):.1f}, max {max(per):.1f}  [goal < 10]"
    )
    print(f"seconds per athlete (squad wall / athletes): {wall / len(results):.1f}")
    print(f"seconds for the whole squad (wall): {wall:.1f}  [goal < 60 for 12 athletes]")
    print(f"HTML size per report: {size:.1f} MB")


if __name__ == "__main__":
    main()
