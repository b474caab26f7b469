"""``workbench report``: render weekly reports (plugged into :mod:`workbench.cli` via COMMANDS)."""

from __future__ import annotations

import argparse
import os
import sys

from workbench.config import default_db_url


def configure(p: argparse.ArgumentParser) -> None:
    """Options of ``workbench report``."""
    p.add_argument(
        "--week", default=None, help="ISO week, e.g. 2026-W47 (default: last complete week)"
    )
    who = p.add_mutually_exclusive_group()
    who.add_argument(
        "--athlete", action="append", default=None, metavar="ID", help="athlete id (repeatable)"
    )
    who.add_argument("--all", action="store_true", help="every athlete (the default)")
    p.add_argument(
        "--workers",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="parallel workers (default 2)",
    )
    p.add_argument(
        "--pdf", action="store_true", help="also print each report to PDF (headless chromium)"
    )
    p.add_argument(
        "--out", default=None, help="output folder (default reports/ under the project root)"
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="fan out over Dask distributed: 'local' for a LocalCluster or a scheduler address",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Render the reports; 0 when every report was written, 1 otherwise, 2 on bad arguments."""
    from workbench.reports.runner import default_out_dir, run_batch
    from workbench.reports.weeks import resolve_week
    from workbench.store import open_store

    if args.workers < 1:
        print("error: --workers must be at least 1", file=sys.stderr)
        return 2
    db_url = args.db or default_db_url()
    store = open_store(db_url)
    try:
        week = resolve_week(store, args.week)
        known = list(store.athletes()["athlete_id"])
    finally:
        store.close()
    if args.athlete:
        unknown = [a for a in args.athlete if a not in known]
        if unknown:
            print(f"error: unknown athlete(s) {unknown}; known: {known[:20]}", file=sys.stderr)
            return 2
        ids = list(dict.fromkeys(args.athlete))
    else:
        ids = known
    if not ids:
        print(f"error: no athletes in {db_url}", file=sys.stderr)
        return 2
    out = args.out or str(default_out_dir())
    results = run_batch(
        ids,
        week.label,
        db_url=db_url,
        out_dir=out,
        workers=args.workers,
        pdf=args.pdf,
        scheduler=args.scheduler,
        progress=not args.no_progress,
    )
    failed = [r for r in results if not r.ok]
    for r in failed:
        print(f"error: {r.athlete_id}: {r.error}", file=sys.stderr)
    total = sum(r.seconds for r in results)
    print(
        f"{len(results) - len(failed)}/{len(results)} reports for {week.label} in "
        f"{os.path.join(out, week.label)} (index.html); {total:.1f} s of report time"
    )
    return 1 if failed else 0


COMMANDS = [
    ("report", "render weekly athlete reports (HTML, JSON, PDF) with papermill", configure, run)
]
