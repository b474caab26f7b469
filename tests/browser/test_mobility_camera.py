"""The camera widget in Voilà with Chromium's fake camera playing a real clip.

Checks that frames reach the kernel, landmarks come back, and the overlay draws (also by
pixels: the skeleton colour appears on the canvas); that frames go one at a time at the
requested size and the camera-to-screen timings add up, in Voilà and in JupyterLab (the
figures themselves: bench/pose_latency_bench.py). Saves screenshots in ``screens/``.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import launch_chromium, serve_voila

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CLIP = ROOT / "tests" / "data" / "pose" / "sports2d__demo_640x480.mp4"
SCREENS = Path(__file__).resolve().parent / "screens"


def camera_notebook(source: str) -> dict:
    """A one-cell notebook running ``source`` (the camera widget's front ends need no more)."""
    return {
        "cells": [
            {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
             "source": source}
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }  # fmt: skip


NOTEBOOK = camera_notebook(
    "from workbench.widgets.camera import CameraWidget\ncam = CameraWidget(fps=6)\ncam"
)


@pytest.fixture
def fake_camera(tmp_path: Path) -> Path:
    y4m = tmp_path / "clip.y4m"
    # 4 s of jumping jacks (a person facing the camera), 15 fps, 640x480
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-ss", "1", "-t", "4", "-i", str(CLIP),
         "-vf", "fps=15", "-pix_fmt", "yuv420p", str(y4m)],
        check=True,
    )  # fmt: skip
    return y4m


@pytest.fixture
def voila_url(tmp_path: Path):
    nb = tmp_path / "camera.ipynb"
    nb.write_text(json.dumps(NOTEBOOK))
    with serve_voila(nb, cwd=tmp_path, env={"PYTHONPATH": str(ROOT / "src")}, timeout_s=30) as url:
        yield url


def test_camera_widget_gets_landmarks_and_draws(playwright_instance, fake_camera, voila_url):
    browser = _fake_camera_browser(playwright_instance, fake_camera)
    try:
        page = browser.new_page(viewport={"width": 900, "height": 700})
        page.goto(voila_url, timeout=60_000)
        page.wait_for_selector(".wb-camera-canvas", timeout=90_000)
        # landmarks must come back for several frames and the overlay must be drawn
        page.wait_for_function(
            "() => { const el = document.querySelector('[data-poses]');"
            " return el && Number(el.dataset.poses) >= 3 && Number(el.dataset.overlays) >= 3; }",
            timeout=90_000,
        )
        page.wait_for_timeout(500)
        counts = page.evaluate(
            "() => { const el = document.querySelector('[data-poses]');"
            " return {poses: Number(el.dataset.poses), frames: Number(el.dataset.frames)}; }"
        )
        assert counts["poses"] >= 3 and counts["frames"] >= counts["poses"]
        # skeleton colour (#00e5ff) drawn on the canvas (poll: frames without a person clear it)
        page.wait_for_function(
            """() => {
              const c = document.querySelector('.wb-camera-canvas');
              const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
              let n = 0;
              for (let i = 0; i < d.length; i += 4)
                if (d[i] < 40 && d[i + 1] > 200 && d[i + 2] > 220) n++;
              return n > 50;
            }""",
            timeout=60_000,
            polling=50,
        )
        SCREENS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENS / "mobility_camera_voila.png"))
    finally:
        browser.close()


GUIDED = camera_notebook(
    "from workbench.widgets.mobility import MobilityScreenWidget\n"
    "ui = MobilityScreenWidget(instruct_s=0.0, countdown_s=0.0, repeats=1,"
    " max_attempt_s=4.0)\n"
    "ui.camera.fps = 8\n"
    "ui.screen_pick.value = 'shoulder_flexion'\n"
    "ui.side_pick.value = 'left'\n"
    "ui.start()\n"
    "ui"
)


@pytest.fixture
def guided_url(tmp_path: Path):
    nb = tmp_path / "guided.ipynb"
    nb.write_text(json.dumps(GUIDED))
    with serve_voila(nb, cwd=tmp_path, env={"PYTHONPATH": str(ROOT / "src")}, timeout_s=30) as url:
        yield url


BALANCE = ROOT / "tests" / "data" / "pose" / "pose2sim__Demo_SinglePerson_cam01_270x480.mp4"


@pytest.fixture
def fake_camera_full(tmp_path: Path) -> Path:
    y4m = tmp_path / "full.y4m"
    # two real clips back to back: the pose2sim balance trial filmed obliquely (slowed 2.5×,
    # padded to 640×480: the view prompt), then Sports2D's walker side on (measurable)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(BALANCE), "-ss", "3.5", "-i", str(CLIP),
         "-filter_complex",
         "[0:v]setpts=2.5*PTS,scale=-2:480,pad=640:480:(ow-iw)/2:0,fps=15,setsar=1[a];"
         "[1:v]fps=15,setsar=1[b];[a][b]concat=n=2:v=1:a=0[v]",
         "-map", "[v]", "-pix_fmt", "yuv420p", str(y4m)],
        check=True,
    )  # fmt: skip
    return y4m


def test_guided_screen_prompts_for_the_view_then_measures_with_uncertainty(
    playwright_instance, fake_camera_full, guided_url
):
    browser = _fake_camera_browser(playwright_instance, fake_camera_full)
    try:
        page = browser.new_page(viewport={"width": 900, "height": 760})
        page.goto(guided_url, timeout=60_000)
        page.wait_for_selector(".wb-camera-canvas", timeout=90_000)
        SCREENS.mkdir(exist_ok=True)
        # 1. filmed obliquely: the view prompt, highlighted
        page.wait_for_function(
            "() => { const el = document.querySelector('[data-status]');"
            " return el && el.dataset.status.startsWith('Turn so the camera sees your left side')"
            " && document.querySelector('.wb-camera-prompt'); }",
            timeout=90_000,
            polling=50,
        )
        page.screenshot(path=str(SCREENS / "mobility_guided_1_view_prompt.png"))
        # 2. side on: a measured angle drawn with its uncertainty
        page.wait_for_function(
            "() => { const el = document.querySelector('[data-measured]');"
            " return el && /left shoulder flexion: -?\\d+° ± \\d+°/.test(el.dataset.measured); }",
            timeout=120_000,
            polling=50,
        )
        page.wait_for_timeout(300)
        page.screenshot(path=str(SCREENS / "mobility_guided_2_measured.png"))
        measured = page.evaluate("() => document.querySelector('[data-measured]').dataset.measured")
        assert "±" in measured
    finally:
        browser.close()


# -- camera-to-screen latency record, Voilà and JupyterLab (issue 11) -------------------------
LATENCY_NOTEBOOK = camera_notebook(
    "from workbench.widgets.camera import CameraWidget\n"
    "cam = CameraWidget(fps=30, send_long_px=320)\ncam"
)

IN_FLIGHT_JS = """() => { const el = document.querySelector('[data-drawn]');
  return Number(el.dataset.frames) - Number(el.dataset.replies); }"""


def _check_latency_record(page) -> None:
    """Frames go one at a time at the requested size, and every drawn frame's timing adds up."""
    page.wait_for_function(
        "() => { const el = document.querySelector('[data-drawn]');"
        " return el && Number(el.dataset.drawn) >= 15; }",
        timeout=150_000,
        polling=200,
    )
    in_flight = []
    for _ in range(25):  # latest frame wins: never more than one frame waiting for the kernel
        in_flight.append(page.evaluate(IN_FLIGHT_JS))
        page.wait_for_timeout(40)
    assert set(in_flight) <= {0, 1}, in_flight
    # the kernel decoded frames scaled to send_long_px on the long side (camera 640×480)
    assert page.evaluate("() => document.querySelector('[data-drawn]').dataset.imagePx") == (
        "320x240"
    )
    timings = page.evaluate("() => document.querySelector('[data-drawn]').wbTimings")
    lat = np.array(timings["latencies"], dtype=float)
    stages = np.array(timings["stages"], dtype=float)
    assert lat.size >= 15 and stages.shape == (lat.size, 5)
    encode, transit, kernel, paint, _age = stages.T
    ok = np.isfinite(stages[:, :4]).all(axis=1)
    assert ok.mean() > 0.9, stages[~ok][:5]
    assert (stages[ok, :4] >= -1).all(), stages[ok][:5]  # rounding to whole ms
    # the stages partition the latency (each rounded to 1 ms)
    total = encode + transit + kernel + paint
    np.testing.assert_allclose(total[ok], lat[ok], atol=3)


@pytest.fixture
def latency_voila_url(tmp_path: Path):
    nb = tmp_path / "latency.ipynb"
    nb.write_text(json.dumps(LATENCY_NOTEBOOK))
    with serve_voila(nb, cwd=tmp_path, env={"PYTHONPATH": str(ROOT / "src")}, timeout_s=30) as url:
        yield url


def _fake_camera_browser(playwright_instance, y4m: Path):
    return launch_chromium(
        playwright_instance,
        [
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={y4m}",
            "--autoplay-policy=no-user-gesture-required",
        ],
    )


def test_latency_record_in_voila(playwright_instance, fake_camera, latency_voila_url):
    browser = _fake_camera_browser(playwright_instance, fake_camera)
    try:
        page = browser.new_page(viewport={"width": 900, "height": 700})
        page.goto(latency_voila_url, timeout=60_000)
        _check_latency_record(page)
    finally:
        browser.close()


@pytest.mark.slow
def test_latency_record_in_jupyterlab(playwright_instance, fake_camera, tmp_path):
    from test_live_plot_jupyterlab import run_all_in_lab, serve_lab

    root = tmp_path / "lab"
    root.mkdir()
    (root / "latency.ipynb").write_text(json.dumps(LATENCY_NOTEBOOK))
    with serve_lab(root) as (url, _token):
        browser = _fake_camera_browser(playwright_instance, fake_camera)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            run_all_in_lab(page, url, "latency.ipynb")
            _check_latency_record(page)
            SCREENS.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENS / "mobility_camera_jupyterlab.png"))
        finally:
            browser.close()
