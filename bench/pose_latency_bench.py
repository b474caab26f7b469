"""Camera-to-screen latency of the mobility camera widget in JupyterLab and in Voilà (issue 11).

Chromium's fake camera plays a real clip (``--use-file-for-fake-video-capture``) at ``--fps``;
the camera widget (``widgets/camera.js``) records per drawn frame the time from grabbing the
frame to painting its angle text, split into stages: encode (grab → JPEG bytes ready), transit
(websocket both ways + kernel message handling, i.e. send → reply minus the kernel's work),
kernel (JPEG decode + pose + angles) and paint wait (reply → next paint). Prints p50/p95/max per
front end, frames drawn per second and the load average (2 shared cores: figures are noisy).
The camera's own capture delay before the frame reaches the page is not included.

    python bench/pose_latency_bench.py [--frontend lab voila] [--fps 30] [--seconds 20]
        [--send-long-px 640] [--stock-lab]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))  # the browser tests' servers, reused
from test_live_plot_jupyterlab import run_all_in_lab, serve_lab  # noqa: E402
from test_mobility_camera import camera_notebook  # noqa: E402

from conftest import serve_voila  # noqa: E402

CLIP = ROOT / "tests" / "data" / "pose" / "sports2d__demo_640x480.mp4"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]  # fmt: skip
FAVICON_BUSY = "@jupyterlab/application-extension:faviconbusy"
STAGES = ("encode", "transit", "kernel", "paint wait", "frame age at grab")


def _notebook(fps: int, send_long_px: int) -> dict:
    return camera_notebook(
        "from workbench.widgets.camera import CameraWidget\n"
        f"cam = CameraWidget(fps={fps}, send_long_px={send_long_px})\ncam"
    )


@contextmanager
def _open_voila(page, tmp: Path, stock_lab: bool) -> Iterator[None]:
    with serve_voila(tmp / "latency.ipynb", cwd=tmp, env={"PYTHONPATH": str(ROOT / "src")}) as url:
        page.goto(url, timeout=60_000)
        yield


@contextmanager
def _open_lab(page, tmp: Path, stock_lab: bool) -> Iterator[None]:
    with serve_lab(tmp, workbench_config=not stock_lab) as (url, _token):
        run_all_in_lab(page, url, "latency.ipynb")
        yield


def browser_latency(
    video: Path,
    *,
    frontend: str,
    fps: int,
    seconds: float,
    send_long_px: int = 640,
    stock_lab: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Per drawn frame: camera-to-screen latency (ms) and its stages (n×4 ms, :data:`STAGES`),
    measured in ``frontend`` ("lab" or "voila") with Chromium's fake camera playing ``video``."""
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix=f"pose_latency_{frontend}_"))
    y4m = tmp / "clip.y4m"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(video), "-vf", f"fps={fps}",
         "-pix_fmt", "yuv420p", str(y4m)],
        check=True,
    )  # fmt: skip
    (tmp / "latency.ipynb").write_text(json.dumps(_notebook(fps, send_long_px)))
    opener = {"lab": _open_lab, "voila": _open_voila}[frontend]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={y4m}"],
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            with opener(page, tmp, stock_lab):
                page.wait_for_function(
                    "() => { const el = document.querySelector('[data-drawn]');"
                    " return el && Number(el.dataset.drawn) >= 10; }",
                    timeout=180_000,
                )
                drawn = "() => Number(document.querySelector('[data-drawn]').dataset.drawn)"
                start = page.evaluate(drawn)
                page.wait_for_timeout(seconds * 1000)
                raw, stages, end = page.evaluate(
                    "() => { const el = document.querySelector('[data-drawn]');"
                    " const t = el.wbTimings;"
                    " return [t.latencies, t.stages, Number(el.dataset.drawn)]; }"
                )
                n_new = end - start
        finally:
            browser.close()
    lat = np.array(raw, dtype=float)
    st = np.array(stages, dtype=float).reshape(-1, len(STAGES))
    # the front end keeps the last 500: drop the warm-up frames recorded before the window
    return lat[max(0, len(lat) - n_new) :], st[max(0, len(st) - n_new) :]


def report(frontend: str, lat: np.ndarray, stages: np.ndarray, seconds: float) -> None:
    """Print one front end's figures."""
    name = {"lab": "JupyterLab", "voila": "Voilà"}[frontend]
    if lat.size == 0:
        print(f"{name:10s}: no frames with a pose were drawn")
        return
    p50, p95 = np.percentile(lat, [50, 95])
    print(
        f"{name:10s}: latency p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {lat.max():.0f} ms;"
        f" {lat.size} frames drawn in {seconds:.0f} s ({lat.size / seconds:.1f}/s)"
    )
    if stages.size:
        parts = ", ".join(
            f"{s} {np.nanpercentile(stages[:, i], 50):.0f}/{np.nanpercentile(stages[:, i], 95):.0f}"
            for i, s in enumerate(STAGES[:4])
        )
        print(f"{'':10s}  stages p50/p95 ms: {parts}")
        age = stages[:, 4]
        if np.isfinite(age).any() and len(age) == len(lat):
            c50, c95 = np.nanpercentile(lat + age, [50, 95])
            a50, a95 = np.nanpercentile(age, [50, 95])
            print(
                f"{'':10s}  frame age at grab p50/p95 {a50:.0f}/{a95:.0f} ms; camera frame"
                f" → paint p50 {c50:.0f} ms, p95 {c95:.0f} ms"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=CLIP)
    parser.add_argument("--frontend", nargs="+", choices=["lab", "voila"], default=["lab", "voila"])
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--send-long-px", type=int, default=640, help="long side of frames sent")
    parser.add_argument(
        "--stock-lab", action="store_true", help=f"JupyterLab with {FAVICON_BUSY} (its default)"
    )
    args = parser.parse_args()
    print(
        f"clip          : {args.video.name} via Chromium's fake camera at {args.fps} fps,"
        f" sent with long side {args.send_long_px} px"
    )
    for frontend in args.frontend:
        load0 = os.getloadavg()[0]
        lat, stages = browser_latency(
            args.video, frontend=frontend, fps=args.fps, seconds=args.seconds,
            send_long_px=args.send_long_px, stock_lab=args.stock_lab,
        )  # fmt: skip
        load1 = os.getloadavg()[0]
        print(f"load average  : {load0:.1f} → {load1:.1f} on {os.cpu_count()} cores (shared)")
        report(frontend, lat, stages, args.seconds)


if __name__ == "__main__":
    main()
