"""Frames per second of the mobility pipeline on 640×480 video, and its overhead over inference.

Prints, for the shipped clip (tests/data/pose/sports2d__demo_640x480.mp4, or --video):
  raw inference   : pose in VIDEO mode on pre-decoded frames only
  whole pipeline  : decode → pose (VIDEO mode) → one-euro smoothing → view check → angles
                    (planar, ranges, uncertainty, jitter)
  overhead        : (pipeline time − inference time) / inference time
  view + angles   : time of estimate_view + measure_angles + jitter per frame alone
Goals on a 2-core machine: ≥ 30 fps in VIDEO mode, overhead < 15 %. No assertions.

With ``--browser`` it instead measures the camera-to-screen latency in Voilà: Chromium's
fake camera plays the clip, the camera widget sends frames at ``--fps``, and the front end
records, per frame, the time from grabbing the frame to drawing its angle text (JPEG
encode, websocket, kernel decode + pose + angles, reply, next paint). Prints p50/p95/max.
The camera's own capture delay before the frame reaches the page is not included.

    python bench/pose_bench.py [--video PATH] [--frames N] [--repeat R]
    python bench/pose_bench.py --browser [--fps 30] [--seconds 20]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from workbench.mobility import PoseEngine, PosePipeline, iter_video
from workbench.mobility.synthetic import synthetic_pose

CLIP = (
    Path(__file__).resolve().parents[1] / "tests" / "data" / "pose" / "sports2d__demo_640x480.mp4"
)


def browser_latency(video: Path, *, fps: int, seconds: float) -> tuple[list[float], list[float]]:
    """Camera-to-screen latencies and the kernel's share (ms) in Voilà with Chromium's fake
    camera playing ``video``."""
    import json
    import signal
    import socket
    import subprocess
    import sys
    import tempfile

    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="pose_latency_"))
    y4m = tmp / "clip.y4m"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(video), "-vf", f"fps={fps}",
         "-pix_fmt", "yuv420p", str(y4m)],
        check=True,
    )  # fmt: skip
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": "from workbench.widgets.camera import CameraWidget\n"
                f"cam = CameraWidget(fps={fps})\ncam",
            }
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (tmp / "latency.ipynb").write_text(json.dumps(nb))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    log = (tmp / "voila.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "voila", "--no-browser", f"--port={port}",
         "--Voila.ip=127.0.0.1", "latency.ipynb"],
        cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"voila did not start: see {tmp / 'voila.log'}")
            time.sleep(0.2)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=[
                    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update",
                    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                    f"--use-file-for-fake-video-capture={y4m}",
                    "--autoplay-policy=no-user-gesture-required",
                ],
            )  # fmt: skip
            try:
                page = browser.new_page(viewport={"width": 900, "height": 700})
                page.goto(f"http://127.0.0.1:{port}/", timeout=60_000)
                page.wait_for_function(
                    "() => { const el = document.querySelector('[data-latencies]');"
                    " return el && el.dataset.latencies.split(',').length >= 10; }",
                    timeout=120_000,
                )
                page.evaluate("() => { const el = document.querySelector('[data-latencies]');"
                              " el.dataset.latencies = ''; el.dataset.kernelMs = ''; }")  # fmt: skip
                page.wait_for_timeout(seconds * 1000)
                raw, kraw = page.evaluate(
                    "() => { const el = document.querySelector('[data-latencies]');"
                    " return [el.dataset.latencies, el.dataset.kernelMs || '']; }"
                )
            finally:
                browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
        log.close()
    return [float(v) for v in raw.split(",") if v], [float(v) for v in kraw.split(",") if v]


def main_browser(args: argparse.Namespace) -> None:
    """Print the browser latency figures."""
    import numpy as np

    lat_l, kernel_l = browser_latency(args.video, fps=args.fps, seconds=args.seconds)
    lat, kernel = np.array(lat_l), np.array(kernel_l)
    print(f"load average   : {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared machine)")
    print(f"browser        : Voilà + Chromium fake camera, {args.video.name} at {args.fps} fps")
    if lat.size == 0:
        print("latency        : no frames with a pose were drawn")
        return
    p50, p95 = np.percentile(lat, [50, 95])
    rate = lat.size / args.seconds
    print(f"frames drawn   : {lat.size} in {args.seconds:.0f} s ({rate:.1f} per s)")
    print(f"latency        : p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {lat.max():.0f} ms")
    if kernel.size:
        k50, k95 = np.percentile(kernel, [50, 95])
        print(f"kernel share   : p50 {k50:.0f} ms, p95 {k95:.0f} ms (JPEG decode, pose, angles)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=CLIP)
    parser.add_argument("--frames", type=int, default=230)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--browser", action="store_true", help="camera-to-screen latency")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    if args.browser:
        main_browser(args)
        return

    frames = list(iter_video(args.video, max_frames=args.frames))
    h, w = frames[0][1].shape[:2]
    n = len(frames)
    best_raw = best_pipe = float("inf")
    for _ in range(args.repeat):
        with PoseEngine("video") as engine:
            t0 = time.perf_counter()
            for t_s, rgb in frames:
                engine.detect_video(rgb, t_s)
            best_raw = min(best_raw, time.perf_counter() - t0)
        with PosePipeline() as pipe:
            t0 = time.perf_counter()
            for t_s, rgb in iter_video(args.video, max_frames=args.frames):
                pipe.process(rgb, t_s)
            best_pipe = min(best_pipe, time.perf_counter() - t0)
    with PosePipeline() as pipe:
        pose = synthetic_pose(view_deg=85.0, hip_flexion_deg=(60.0, 10.0), noise_px=1.0, seed=0)
        t0 = time.perf_counter()
        for k in range(300):
            pipe.analyse(pose, pose, k / 30.0)
        per_frame_ms = (time.perf_counter() - t0) / 300 * 1000
    print(f"load average   : {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared machine)")
    print(f"video          : {args.video.name} ({w}×{h}, {n} frames), best of {args.repeat}")
    print(f"raw inference  : {n / best_raw:6.1f} fps ({best_raw / n * 1000:5.1f} ms/frame)")
    print(f"whole pipeline : {n / best_pipe:6.1f} fps ({best_pipe / n * 1000:5.1f} ms/frame)")
    print(f"overhead       : {(best_pipe - best_raw) / best_raw * 100:6.1f} % over raw inference")
    print(f"view + angles  : {per_frame_ms:6.2f} ms/frame (view check, angles, jitter)")


if __name__ == "__main__":
    main()
