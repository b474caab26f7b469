"""First coach visit to the squad dashboard: Chromium time to interactive on a fresh server.

Builds a demo squad in a temporary SQLite file, starts ``workbench dashboard`` (a fresh Voilà
server), waits for its ``ready`` line, then opens the squad overview in headless Debian
chromium (Playwright) and prints the seconds until the athlete buttons are on the page (time
to interactive), for the first visit and for a later one. Goal (issue 13): first visit
<= 3 s on a 2-core machine. No assertions.

    .venv/bin/python bench/dashboard_bench.py [--athletes 6] [--days 120] [--no-preheat]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from workbench.demo import generate_demo
from workbench.store import open_store

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
BUTTON = ".wb-athlete-button button, button.wb-athlete-button"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _visit(browser, url: str) -> float:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    t0 = time.perf_counter()
    page.goto(url, timeout=180_000)
    page.wait_for_selector(BUTTON, timeout=180_000)
    tti = time.perf_counter() - t0
    page.close()
    return tti


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--athletes", type=int, default=6)
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--no-preheat", action="store_true", help="baseline: a kernel per visit")
    ap.add_argument("--later-after-s", type=float, default=20.0, help="wait before visit 2")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        with open_store(url) as store:
            generate_demo(
                store, athletes=args.athletes, days=args.days, seed=7,
                end_date=dt.date(2026, 11, 22), recordings=False,
            )  # fmt: skip
        port = _free_port()
        cmd = [sys.executable, "-m", "workbench", "dashboard", "--port", str(port)]
        cmd += ["--no-preheat"] if args.no_preheat else ["--pool-size", "1"]
        t_start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, env={**os.environ, "WORKBENCH_DB_URL": url}, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, start_new_session=True,
        )  # fmt: skip
        ready = threading.Event()

        def read() -> None:
            for line in proc.stdout:
                if line.startswith("ready"):
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        try:
            if not ready.wait(300):
                raise SystemExit("workbench dashboard never reported ready")
            t_ready = time.perf_counter() - t_start
            page_url = f"http://127.0.0.1:{port}/voila/render/squad_overview.ipynb"
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                first = _visit(browser, page_url)
                time.sleep(args.later_after_s)  # the pool refills behind the first visit
                later = _visit(browser, page_url)
                browser.close()
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    mode = "no preheat (kernel per visit)" if args.no_preheat else "preheated pool of 1"
    print(f"squad dashboard, {args.athletes} athletes x {args.days} days, {mode}")
    print(f"  workbench dashboard start -> ready:            {t_ready:6.2f} s")
    print(f"  first visit, time to interactive (Chromium):   {first:6.2f} s   (goal <= 3 s)")
    print(f"  later visit ({args.later_after_s:.0f} s on), time to interactive:  {later:6.2f} s")
    print(
        f"  load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
