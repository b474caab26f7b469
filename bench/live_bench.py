"""Live plot benchmark: kernel CPU and sample-to-browser delay in Voilà + headless Chromium.

Streams 8 ch × 2 kHz EMG + SmO₂ (2 Hz) + HR from the drivers' simulators (on the DeviceHub
thread, as in a real session) into a :class:`~workbench.widgets.live_plot.LivePlot` shown by
Voilà, opens the page in headless Chromium and prints

- kernel CPU per wall second (process CPU time / wall time of the Voilà kernel, ~20 s;
  goal < 0.25 core), and the simulators' own share measured separately in this process;
- the delay from a sample's creation (its ``host_t_s``) to its arrival in the browser-side
  Bokeh data source (p50/p95/max over every refresh; goal p95 < 150 ms), and to the next
  painted frame;
- where the time goes: kernel build+send time and PATCH-DOC size per update, kernel send ->
  browser acknowledgement, CPU of the Voilà server and of Chromium, and the floor: a bare
  browser -> kernel -> browser round trip through the same Bokeh comm, pinged every 250 ms
  in the same run.

Run: ``.venv/bin/python bench/live_bench.py [--seconds 20] [--refresh-hz 15]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
# the floor: a bare browser -> kernel -> browser round trip through the same Bokeh comm
from bokeh.models import ColumnDataSource, Scatter
ping = ColumnDataSource(data={"t": [0.0]}, name="ping")
pong = ColumnDataSource(data={"t": [0.0]}, name="pong")
for src in (ping, pong):
    plot.layout.children[0].add_glyph(src, Scatter(x=0, y=0, size=0), visible=False)
ping.on_change("data", lambda attr, old, new: setattr(pong, "data", {"t": list(new["t"])}))
display(plot)
plot.start()
sub = plot.subscribe_to(hub)
handles = [hub.add_source(s) for s in sources]

import json, threading
def _dump_stats():
    while True:
        time.sleep(0.5)
        try:
            stats = {"rtt": list(plot.ack_rtt_ms), "refresh": list(plot.refresh_ms),
                     "bytes": list(plot.patch_bytes), "n_refreshes": plot.n_refreshes,
                     "n_skipped": plot.n_skipped, "n_full": plot.n_full,
                     "n_errors": plot.n_errors, "last_error": plot.last_error,
                     "first_error": plot.first_error,
                     "echoes": getattr(plot._model, "n_echoes_dropped", 0)}
        except RuntimeError:  # a deque changed while copied: next time
            continue
        tmp = os.environ["LIVE_BENCH_STATS"] + ".tmp"
        with open(tmp, "w") as f:
            json.dump(stats, f)
        os.replace(tmp, os.environ["LIVE_BENCH_STATS"])
threading.Thread(target=_dump_stats, daemon=True).start()
open(os.environ["LIVE_BENCH_PID_FILE"], "w").write(str(os.getpid()))
"""

PROBE_JS = """() => {
  window.__lat = []; window.__ping = []; window.__paint = [];
  for (const doc of Bokeh.documents) {
    const probe = doc.get_model_by_name('probe');
    if (probe) {
      // delay = browser receive (probe applied, after the update's data) - sample creation;
      // __paint: until the next animation frame after it (BokehJS repaints in that frame)
      probe.change.connect(() => {
        const t = probe.data.t_created_ms[0];
        window.__lat.push(Date.now() - t);
        requestAnimationFrame(() => requestAnimationFrame(() =>
          window.__paint.push(Date.now() - t)));
      });
      const ping = doc.get_model_by_name('ping'), pong = doc.get_model_by_name('pong');
      pong.change.connect(() => window.__ping.push(performance.now() - pong.data.t[0]));
      window.__pinger = setInterval(() => { ping.data = {t: [performance.now()]}; }, 250);
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


def _descendants(root: int) -> list[int]:
    """Processes below ``root`` (children, grandchildren, ...)."""
    parent: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                parent[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        todo += kids
    return out


def _tree_cpu_s(pids: list[int]) -> float:
    total = 0.0
    for p in pids:
        try:
            total += _cpu_s(p)
        except (OSError, IndexError, ValueError):
            pass
    return total


def _pct(a, qs=(50, 95)) -> str:
    a = np.asarray(a, dtype=float)
    if not a.size:
        return "n/a"
    return ", ".join(f"p{q} {np.percentile(a, q):.0f}" for q in qs) + f", max {a.max():.0f}"


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
        stats_file = Path(tmp) / "stats.json"
        port = _free_port()
        voila = Path(sys.executable).with_name("voila")
        proc = subprocess.Popen(
            [str(voila), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1", str(path)],
            cwd=tmp, stdout=subprocess.DEVNULL, stderr=open(os.environ.get("LIVE_BENCH_LOG", os.devnull), "w"),
            env={**os.environ, "LIVE_BENCH_PID_FILE": str(pid_file),
                 "LIVE_BENCH_STATS": str(stats_file)},
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
                chrome = [p for p in _descendants(os.getpid()) if p not in (pid, proc.pid)]
                chrome = [p for p in chrome if "chrom" in Path(f"/proc/{p}/comm").read_text()]
                stats0 = json.loads(stats_file.read_text())
                cdp = page.context.new_cdp_session(page)
                cdp.send("Performance.enable")

                def metrics() -> dict[str, float]:
                    got = cdp.send("Performance.getMetrics")["metrics"]
                    return {m["name"]: m["value"] for m in got}

                c0, w0 = _cpu_s(pid), time.monotonic()
                v0, b0, m0 = _cpu_s(proc.pid), _tree_cpu_s(chrome), metrics()
                page.wait_for_timeout(args.seconds * 1000)
                c1, w1 = _cpu_s(pid), time.monotonic()
                v1, b1, m1 = _cpu_s(proc.pid), _tree_cpu_s(chrome), metrics()
                time.sleep(0.6)
                stats1 = json.loads(stats_file.read_text())
                lat = np.asarray(page.evaluate("() => window.__lat"), dtype=float)
                paint = np.asarray(page.evaluate("() => window.__paint"), dtype=float)
                ping = np.asarray(page.evaluate("() => window.__ping"), dtype=float)
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
        print(f"  ... to the next painted frame: {_pct(paint)} ms")
    else:
        print("no browser-side updates were observed")
    k = stats1["n_refreshes"] - stats0["n_refreshes"]
    print(f"kernel: {k} updates sent ({stats1['n_full'] - stats0['n_full']} full windows), "
          f"{stats1['n_skipped'] - stats0['n_skipped']} refreshes held back by back-pressure; "
          f"build+send {_pct(stats1['refresh'][-k:] if k else [])} ms; "
          f"PATCH-DOC {_pct(stats1['bytes'][-k:] if k else [])} bytes")  # fmt: skip
    if stats1["n_errors"]:
        print(f"kernel: {stats1['n_errors']} refresh errors, last: {stats1['last_error']}")
        print(stats1["first_error"])
    print(f"echoes of kernel-owned data dropped by the kernel: {stats1['echoes']} in total")
    print(f"kernel send -> browser ack back in kernel: {_pct(stats1['rtt'][-k:] if k else [])} ms")
    print(f"floor, bare Bokeh comm round trip browser -> kernel -> browser (ping every 250 ms, "
          f"same run): {_pct(ping)} ms over {ping.size} pings")  # fmt: skip
    print(f"CPU per wall second: Voila server {(v1 - v0) / wall:.3f} core, Chromium "
          f"{(b1 - b0) / wall:.3f} core ({len(chrome)} processes)")  # fmt: skip
    busy = {k: (m1.get(k, 0.0) - m0.get(k, 0.0)) / wall for k in
            ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")}  # fmt: skip
    print("page main thread busy per wall second: "
          + ", ".join(f"{k[:-8].lower()} {v:.3f} s" for k, v in busy.items()))  # fmt: skip
    print(f"EMG points per channel in the browser source: {n_points} (decimated from 20000)")


if __name__ == "__main__":
    main()
