"""Benchmark: generate the demo squad (default 50 athletes x 365 days) into a temp SQLite file.

Prints wall time, rows per table, file size and ``PRAGMA integrity_check``. Pass a database URL
as the first argument to run against another database (e.g. a PostgreSQL server); options
``--athletes N --days D``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from workbench.demo import generate_demo
from workbench.store import open_store


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("url", nargs="?", help="database URL (default: a temp SQLite file)")
    ap.add_argument("--athletes", type=int, default=50)
    ap.add_argument("--days", type=int, default=365)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.db"
        url = args.url or f"sqlite:///{db}"
        store = open_store(url)
        t0, c0 = time.perf_counter(), time.process_time()
        summary = generate_demo(
            store, athletes=args.athletes, days=args.days, seed=42, end_date=dt.date(2026, 6, 30)
        )
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(
            f"demo {args.athletes} athletes x {args.days} days on {store.dialect}: "
            f"{wall:.1f} s wall, {cpu:.1f} s CPU of this process"
        )
        for table, n in summary.counts.items():
            print(f"  {table:22s} {n:8d} rows")
        if db.exists():
            size = sum(p.stat().st_size for p in db.parent.glob("demo.db*"))
            print(f"  database size          {size / 1e6:8.1f} MB")
        print(f"integrity_check: {store.integrity_check()}")
        store.close()


if __name__ == "__main__":
    main()
