"""LivePlot in Voilà, headless Chromium: the traces move and a screenshot is saved."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

SCREENS = Path(__file__).parent / "screens"

# A tiny Source local to this test (B1's simulators are tested elsewhere): sines + noise
# in real time, 4 channels at 1 kHz plus a 1 Hz SmO2-like stream, blocks every 20 ms.
NB_CODE = r"""
import asyncio, time
import numpy as np
from workbench.drivers.base import SampleBlock, StreamInfo
from workbench.widgets.live_plot import LivePlot

class SineSource:
    def __init__(self, info, freq_hz, block_s=0.02):
        self.info, self.freq_hz, self.block_s = info, freq_hz, block_s
        self.streams = (info,)
    async def start(self):
        self.t0 = self.t_next = time.monotonic()
    async def read(self, timeout_s=1.0):
        fs = self.info.sampling_rate_hz
        await asyncio.sleep(max(0.0, self.t_next + self.block_s - time.monotonic()))
        n = max(1, int(round(self.block_s * fs)))
        t = self.t_next + np.arange(n) / fs
        self.t_next = t[-1] + 1 / fs
        ph = 2 * np.pi * self.freq_hz * (t - self.t0)
        v = np.stack([np.sin(ph + k) * (k + 1) for k in range(self.info.n_channels)], 1)
        v += 0.1 * np.random.default_rng().standard_normal(v.shape)
        return SampleBlock(self.info.name, t, np.full(n, np.nan), v)
    async def stop(self):
        pass

emg = StreamInfo("emg", "emg", "test", ("ch1", "ch2", "ch3", "ch4"), ("mV",) * 4, 1000.0)
smo2 = StreamInfo("smo2", "smo2", "test", ("smo2",), ("%",), 2.0)
plot = LivePlot([emg, smo2], window_s=5.0, refresh_hz=15.0, width_px=700)
display(plot)
plot.start()
tasks = [asyncio.ensure_future(plot.consume(SineSource(emg, 0.7))),
         asyncio.ensure_future(plot.consume(SineSource(smo2, 0.05, block_s=0.5)))]
plot.add_marker("start")
"""

READ_JS = """() => {
  const plot_range = (doc) => doc.get_model_by_name('emg').x_range;
  for (const doc of (window.Bokeh && Bokeh.documents) || []) {
    const src = doc.get_model_by_name('live:emg');
    if (src) {
      const d = src.data;
      const r = doc.get_model_by_name('probe').data;
      let sorted = true;
      for (let i = 1; i < d.x.length; i++) if (d.x[i] < d.x[i - 1]) sorted = false;
      return {n: d.x.length, x: Array.from(d.x.slice(0, 5)), y: Array.from(d.y0.slice(-5)),
              x_last: d.x[d.x.length - 1], lens: Object.values(d).map((c) => c.length),
              sorted, seq: r.seq[0], prev: r.prev[0],
              range: [plot_range(doc).start, plot_range(doc).end]};
    }
  }
  return null;
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, timeout_s: float) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"voila did not open port {port}")


@pytest.fixture
def voila_live(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(NB_CODE)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    path = tmp_path / "live.ipynb"
    nbformat.write(nb, path)
    port = _free_port()
    voila = Path(sys.executable).with_name("voila")
    proc = subprocess.Popen(
        [str(voila), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1", str(path)],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        _wait_port(port, 30)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_live_plot_traces_move_in_voila(browser, voila_live):
    page = browser.new_page(viewport={"width": 900, "height": 700})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(voila_live, timeout=60_000)
    page.wait_for_function(f"() => {{ const r = ({READ_JS})(); return r && r.n > 50; }}",
                           timeout=60_000)  # fmt: skip
    first = page.evaluate(READ_JS)
    page.wait_for_timeout(800)
    second = page.evaluate(READ_JS)
    assert first is not None and second is not None
    assert second["y"] != first["y"], "trace values did not change between two reads"
    # x is seconds since the first sample; the x range follows the newest sample
    for r in (first, second):
        assert r["sorted"] and len(set(r["lens"])) == 1, r  # all columns the same length
        assert r["x_last"] == pytest.approx(r["range"][1], abs=0.2), r
        assert r["range"][1] - r["range"][0] == pytest.approx(5.0)
        assert min(r["x"]) >= r["range"][0] - 0.05, r
    assert second["seq"] > first["seq"] and second["prev"] == second["seq"] - 1, second
    assert second["x_last"] > first["x_last"]
    page.wait_for_selector("canvas", timeout=10_000)
    SCREENS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENS / "live_plot_voila.png"), full_page=True)
    assert not [e for e in errors if "require" in e], json.dumps(errors)
