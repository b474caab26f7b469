"""Live plot benchmark: kernel CPU and sample-to-browser delay in Voilà + headless Chromium.

Streams 8 ch × 2 kHz EMG + SmO₂ (2 Hz) + HR from the drivers' simulators (on the DeviceHub
thread, as in a real session) into a :class:`~workbench.widgets.live_plot.LivePlot` shown by
Voilà, opens the page in headless Chromium and prints

- kernel CPU per wall second (process CPU time / wall time of the Voilà kernel, ~20 s;
  goal < 0.25 core), and the simulators' own share measured separately in this process;
- the delay from a sample's creation (its ``host_t_s``) to its arrival in the browser-side
  Bokeh data source (p50/p95/max over every refresh; goal p95 < 150 ms).

Run: ``.venv/bin/python bench/live_bench.py [--seconds 20] [--refresh-hz 15]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import numpy as np

NB_CODE = r"""
import os, time
from workbench.drivers.hub import get_hub
from workbench.drivers.simulators import EmgSimulator, HeartRateSimulator, SmO2Simulator
from workbench.widgets.live_plot import LivePlot

hub = get_hub()
sources = [EmgSimulator(n_channels=8, sampling_rate_hz=2000.0), SmO2Simulator(),
           HeartRateSimulator()]
infos = [i for s in sources for i in s.streams if i.name != "rr"]
plot = LivePlot(infos, window_s=10.0, refresh_hz=REFRESH_HZ, columns=400, width_px=800,
                panel_height_px=160)
display(plot)
plot.start()
sub = plot.subscribe_to(hub)
handles = [hub.add_source(s) for s in sources]
open(os.environ["LIVE_BENCH_PID_FILE"], "w").write(str(os.getpid()))
"""

PROBE_JS = """() => {
  window.__lat = [];
  for (const doc of Bokeh.documents) {
    const probe = doc.get_model_by_name('probe');
    if (probe) {
      probe.change.connect(() => window.__lat.push(Date.now() - probe.data.t_created_ms[0]));
      return true;
    }
  }
  return false;
}"""
READY_JS = """() => { for (const d of (window.Bokeh && Bokeh.documents) || []) {
  const s = d.get_model_by_name('live:emg'); if (s && s.data.x.length > 100) return true; }
  return false; }"""


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _simulators_cpu(seconds: float) -> float:
    """CPU per wall second of generating the same streams with no plot (this process)."""
    from workbench.drivers.simulators import EmgSimulator, HeartRateSimulator, SmO2Simulator

    async def run() -> None:
        srcs = [EmgSimulator(n_channels=8, sampling_rate_hz=2000.0), SmO2Simulator(),
                HeartRateSimulator()]  # fmt: skip
        for s in srcs:
            await s.start()
        end = time.monotonic() + seconds

        async def pump(s):
            while time.monotonic() < end:
                await s.read(0.2)

        await asyncio.gather(*(pump(s) for s in srcs))

    c0, w0 = time.process_time(), time.monotonic()
    asyncio.run(run())
    return (time.process_time() - c0) / (time.monotonic() - w0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--refresh-hz", type=float, default=15.0)
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "browser"))
    from playwright.sync_api import sync_playwright

    from conftest import launch_chromium  # the project's offline Chromium flags

    with tempfile.TemporaryDirectory() as tmp:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(f"REFRESH_HZ = {args.refresh_hz}\n" + NB_CODE)]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}  # fmt: skip
        path = Path(tmp) / "live_bench.ipynb"
        nbformat.write(nb, path)
        pid_file = Path(tmp) / "kernel.pid"
        port = _free_port()
        voila = Path(sys.executable).with_name("voila")
        proc = subprocess.Popen(
            [str(voila), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1", str(path)],
            cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "LIVE_BENCH_PID_FILE": str(pid_file)},
        )  # fmt: skip
        try:
            with sync_playwright() as pw:
                browser = launch_chromium(pw)
                page = browser.new_page(viewport={"width": 1000, "height": 800})
                t_nav = time.monotonic()
                for _ in range(150):
                    try:
                        page.goto(f"http://127.0.0.1:{port}/", timeout=60_000)
                        break
                    except Exception:
                        time.sleep(0.2)
                page.wait_for_function(READY_JS, timeout=90_000)
                t_ready = time.monotonic() - t_nav
                pid = int(pid_file.read_text())
                page.evaluate(PROBE_JS)
                page.wait_for_timeout(1000)  # settle
                page.evaluate("() => { window.__lat = []; }")
                c0, w0 = _cpu_s(pid), time.monotonic()
                page.wait_for_timeout(args.seconds * 1000)
                c1, w1 = _cpu_s(pid), time.monotonic()
                lat = np.asarray(page.evaluate("() => window.__lat"), dtype=float)
                n_points = page.evaluate(
                    "() => { for (const d of Bokeh.documents) { const s = "
                    "d.get_model_by_name('live:emg'); if (s) return s.data.x.length; } }"
                )
                browser.close()
        finally:
            proc.terminate()
            proc.wait(15)
    sim = _simulators_cpu(5.0)
    wall = w1 - w0
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} (1/5 min)")
    print(f"page ready (Voila + kernel + first EMG data): {t_ready:.1f} s")
    print("streams: EMG 8 ch x 2000 Hz, SmO2 2 Hz, HR; window 10 s, 400 columns,"
          f" refresh {args.refresh_hz:g} Hz")  # fmt: skip
    print(f"kernel CPU per wall second: {(c1 - c0) / wall:.3f} core over {wall:.1f} s "
          "(goal < 0.25)")  # fmt: skip
    print(f"  of which simulators alone (measured without plot): {sim:.3f} core")
    if lat.size:
        p50, p95 = np.percentile(lat, [50, 95])
        print(
            f"sample creation -> browser data source: p50 {p50:.0f} ms, p95 {p95:.0f} ms, "
            f"max {lat.max():.0f} ms over {lat.size} updates "
            f"({lat.size / wall:.1f} updates/s; goal p95 < 150 ms)"
        )
    else:
        print("no browser-side updates were observed")
    print(f"EMG points per channel in the browser source: {n_points} (decimated from 20000)")


if __name__ == "__main__":
    main()
