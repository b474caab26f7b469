"""Frames per second of the mobility pipeline on 640×480 video, and its overhead over inference.

Prints, for the shipped clip (tests/data/pose/sports2d__demo_640x480.mp4, or --video):
  raw inference   : pose in VIDEO mode on pre-decoded frames only
  whole pipeline  : decode → pose (VIDEO mode) → one-euro smoothing → view check → angles
                    (planar, ranges, uncertainty, jitter)
  overhead        : (pipeline time − inference time) / inference time
  view + angles   : time of estimate_view + measure_angles + jitter per frame alone
Goals on a 2-core machine: ≥ 30 fps in VIDEO mode, overhead < 15 %. No assertions.

With ``--browser`` it instead measures the camera-to-screen latency in JupyterLab and Voilà
(``bench/pose_latency_bench.py``: Chromium's fake camera plays the clip; per drawn frame the
time from grabbing the frame to painting its angle text, and its stages). p50/p95/max.

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


def main_browser(args: argparse.Namespace) -> None:
    """Print the browser latency figures (bench/pose_latency_bench.py, both front ends)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from pose_latency_bench import browser_latency, report

    for frontend in ("lab", "voila"):
        print(f"load average   : {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared)")
        lat, stages = browser_latency(
            args.video, frontend=frontend, fps=args.fps, seconds=args.seconds
        )
        report(frontend, lat, stages, args.seconds)


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
