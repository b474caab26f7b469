"""LivePlot in JupyterLab: once the window has rolled, the browser holds what the kernel holds.

BokehJS streams into typed arrays in place and never shrinks them, so an update that left
fewer points than the browser held used to leave stale rows at the end of its columns
(x = …, 11, 11, 12, 12 in JupyterLab). Here a notebook runs a 3 s live plot for 7 s, then
pauses it and prints the kernel's sources; every browser document's sources must then equal
them, with x strictly increasing.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import nbformat
import numpy as np
import pytest

from conftest import LAB_SETTINGS, free_port, launch_chromium, serve
from workbench.cli import lab_config_dir

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SCREENS = Path(__file__).resolve().parent / "screens"
TOKEN = "workbench-live-plot-test"

# Real-time sources local to this test: a 1 kHz 2-channel stream in 20 ms blocks (min/max
# decimated) and a 1 Hz heart-rate-like stream (points pass through), both with jitter.
PLOT_CELL = r"""
import asyncio, json, time
import numpy as np
from workbench.drivers.base import SampleBlock, StreamInfo
from workbench.widgets.live_plot import LivePlot

class JitterSource:
    def __init__(self, info, block_s, seed):
        self.info, self.block_s = info, block_s
        self.streams = (info,)
        self.rng = np.random.default_rng(seed)
    async def start(self):
        self.t0 = self.t_next = time.monotonic()
    async def read(self, timeout_s=1.0):
        fs = self.info.sampling_rate_hz
        await asyncio.sleep(max(0.0, self.t_next + self.block_s - time.monotonic()))
        n = max(1, int(round(self.block_s * fs * self.rng.uniform(0.5, 1.5))))
        t = self.t_next + np.arange(n) / fs
        self.t_next = t[-1] + 1 / fs
        v = np.sin(t[:, None] - self.t0 + np.arange(self.info.n_channels)) * 10 + 60
        return SampleBlock(self.info.name, t, np.full(n, np.nan), v)
    async def stop(self):
        pass

emg = StreamInfo("emg", "emg", "test", ("ch1", "ch2"), ("mV", "mV"), 1000.0)
hr = StreamInfo("hr", "hr", "test", ("hr",), ("bpm",), 1.0)
plot = LivePlot([emg, hr], window_s=3.0, columns=60, refresh_hz=15.0, width_px=700)
display(plot)
plot.start()
tasks = [asyncio.ensure_future(plot.consume(JitterSource(emg, 0.02, 1))),
         asyncio.ensure_future(plot.consume(JitterSource(hr, 1.0, 2)))]
"""

SNAPSHOT_CELL = r"""
await asyncio.sleep(7.0)      # the 3 s window has rolled more than twice
plot.pause()                  # the display freezes: no update is sent after this
await asyncio.sleep(1.5)      # in-flight updates reach the browser
print("KERNEL=" + json.dumps({name: {k: np.asarray(c, dtype=float).tolist()
                                     for k, c in src.data.items()}
                              for name, src in plot._sources.items()}))
"""

BROWSER_JS = """() => {
  const out = [];
  for (const doc of (window.Bokeh && Bokeh.documents) || []) {
    const one = {};
    for (const name of ["emg", "hr"]) {
      const src = doc.get_model_by_name("live:" + name);
      if (src == null) continue;
      const cols = {};
      for (const [k, c] of Object.entries(src.data)) cols[k] = Array.from(c, Number);
      one[name] = cols;
    }
    if (Object.keys(one).length) out.push(one);
  }
  return out;
}"""


@contextmanager
def serve_lab(root: Path, *, workbench_config: bool = True):
    """JupyterLab on ``root`` (a temp dir) with a known token and test-friendly settings;
    yields ``(url, token)``. With ``workbench_config`` it has the page config ``workbench
    lab`` serves (:func:`workbench.cli.lab_config_dir`). Used by the camera widget's
    JupyterLab test and ``bench/pose_latency_bench.py`` too."""
    for name, values in LAB_SETTINGS.items():
        path = root / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port = free_port()
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
           "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}",
           "--LabApp.expose_app_in_browser=True",
           f"--LabApp.user_settings_dir={root / 'settings'}",
           f"--LabApp.workspaces_dir={root / 'workspaces'}",
           f"--ServerApp.root_dir={root}"]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    env = {"PYTHONPATH": str(ROOT / "src"), "JUPYTER_CONFIG_DIR": str(root / "config")}
    if workbench_config:
        env["JUPYTER_CONFIG_PATH"] = str(lab_config_dir())
    with serve(cmd, port=port, cwd=root, env=env, timeout_s=180) as url:
        yield url, TOKEN


def run_all_in_lab(page, url: str, name: str) -> None:
    """Open notebook ``name`` in JupyterLab and run all its cells once its kernel is idle."""
    page.goto(f"{url}lab/tree/{name}?reset&token={TOKEN}", timeout=60_000)
    page.wait_for_function(
        "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        " const k = w && w.sessionContext && w.sessionContext.session"
        " && w.sessionContext.session.kernel; return k && k.status === 'idle'; }",
        timeout=120_000,
    )
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")


@pytest.fixture
def lab_url(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(PLOT_CELL), nbformat.v4.new_code_cell(SNAPSHOT_CELL)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    nbformat.write(nb, tmp_path / "live.ipynb")
    with serve_lab(tmp_path) as (url, _token):
        yield url


def _kernel_snapshot(page) -> dict:
    """The KERNEL= line the snapshot cell printed, from JupyterLab's notebook model."""
    page.wait_for_function(
        """() => {
          const w = window.jupyterapp.shell.currentWidget;
          const cells = w && w.context && w.context.model.toJSON().cells;
          return cells && cells[1].outputs.some((o) => o.output_type === "error"
              || (o.text || "").includes("KERNEL="));
        }""",
        timeout=180_000,
        polling=500,
    )
    outputs = page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.context.model.toJSON().cells[1].outputs"
    )
    errors = [o for o in outputs if o["output_type"] == "error"]
    assert not errors, errors[0].get("evalue")
    text = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
    return json.loads(text.split("KERNEL=", 1)[1].splitlines()[0])


def test_live_plot_in_jupyterlab_matches_the_kernel_after_the_window_rolls(
    playwright_instance, lab_url
):
    browser = launch_chromium(playwright_instance)
    try:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        run_all_in_lab(page, lab_url, "live.ipynb")
        kernel = _kernel_snapshot(page)
        page.wait_for_timeout(500)
        docs = page.evaluate(BROWSER_JS)
        SCREENS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENS / "live_plot_jupyterlab.png"), full_page=True)
    finally:
        browser.close()
    assert docs, "no Bokeh document with the live plot's sources in the page"
    # the window has rolled: the oldest kept point is past x = 0 (the first sample)
    for name in ("emg", "hr"):
        assert min(kernel[name]["x"]) > 1.0, (name, kernel[name]["x"][:5])
    for doc in docs:
        for name in ("emg", "hr"):
            x = np.asarray(doc[name]["x"])
            bad = np.flatnonzero(np.diff(x) <= 0)
            assert x.size >= 2 and not bad.size, f"{name}: browser x {x[bad[0] - 2 : bad[0] + 4]}"
            assert set(doc[name]) == set(kernel[name])
            for col, values in kernel[name].items():
                np.testing.assert_allclose(
                    doc[name][col], values, rtol=1e-6, err_msg=f"{name}.{col}: browser ≠ kernel"
                )
