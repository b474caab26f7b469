"""Memory and time of ``workbench import`` on big files (issue 14: 200 MB RR text, 200 MB
biomarkers CSV), each in a fresh subprocess so that its peak RSS is its own.

Run: ``.venv/bin/python bench/import_bench.py [--mb 200]``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _write_rr(path: Path, mb: int) -> None:
    rng = np.random.default_rng(0)
    with path.open("w") as fh:
        while fh.tell() < mb * 1_000_000:
            fh.write("\n".join(f"{v:.0f}" for v in 800 + 40 * rng.standard_normal(200_000)))
            fh.write("\n")


def _write_bio(path: Path, mb: int) -> None:
    rng = np.random.default_rng(1)
    markers = ["creatine_kinase", "crp", "cortisol", "lactate_rest", "ferritin"]
    units = ["U/L", "mg/L", "nmol/L", "mmol/L", "ug/L"]
    day0 = dt.date(2000, 1, 1)
    with path.open("w") as fh:
        fh.write("date,marker,value,unit\n")
        k = 0
        while fh.tell() < mb * 1_000_000:
            rows = []
            for v in rng.gamma(2.0, 100.0, 50_000):
                j = k % 5
                rows.append(
                    f"{day0 + dt.timedelta(days=(k // 5) % 9000)},{markers[j]},{v:.2f},{units[j]}"
                )
                k += 1
            fh.write("\n".join(rows) + "\n")


_CHILD = """
import resource, sys, time
from workbench.cli import main
t = time.perf_counter()
code = main(["--db", sys.argv[1], "import", "--athlete", "a1", sys.argv[2]])
print(f"exit {code}; {time.perf_counter() - t:.1f} s; peak RSS "
      f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB", flush=True)
"""


def _run(db: str, path: Path) -> None:
    t = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, db, str(path)], capture_output=True, text=True
    )
    size = path.stat().st_size / 1e6
    print(f"{path.name}: {size:.0f} MB")
    for line in (out.stdout + out.stderr).strip().splitlines()[-4:]:
        print(f"  {line[:300]}")
    print(f"  wall {time.perf_counter() - t:.1f} s (with interpreter start)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=200, help="size of each generated file (MB)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        db = f"sqlite:///{d / 'bench.db'}"
        from workbench.store import open_store

        s = open_store(db)
        s.write("athletes", [{"athlete_id": "a1", "name": "A", "sex": "F",
                              "birth_date": dt.date(2000, 1, 1), "sport": "rowing"}])  # fmt: skip
        s.close()
        rr, bio = d / "rr_big.txt", d / "biomarkers_big.csv"
        _write_rr(rr, args.mb)
        _write_bio(bio, args.mb)
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
        _run(db, rr)
        _run(db, bio)
        small = d / "rr_1M.txt"
        np.savetxt(small, np.round(800 + 40 * np.random.default_rng(3).standard_normal(1_000_000)),
                   fmt="%.0f")  # fmt: skip
        _run(db, small)
    print(
        f"bench process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
