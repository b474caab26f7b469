"""Playwright on Debian's chromium (never a downloaded browser)."""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


def launch_chromium(playwright, extra_args: list[str] | None = None):
    """Launch Debian chromium headless with the offline-safe flags (plus ``extra_args``)."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS + (extra_args or [])
    )


@pytest.fixture(scope="module")
def playwright_instance():
    """Playwright for one test module.

    The sync API keeps an asyncio loop running in the main thread while it is open, which
    breaks ``asyncio.run`` in any later test: never let it outlive its module.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture
def browser(playwright_instance):
    b = launch_chromium(playwright_instance)
    yield b
    b.close()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(
    cmd: list[str],
    *,
    port: int,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout_s: float = 60.0,
):
    """Run a server command (its own process group) until its port on 127.0.0.1 accepts.

    Yields the base URL; the server's output goes to ``cwd/server.log``, whose tail is in the
    error when the port never opens. The whole process group is stopped at the end.
    """
    import os
    import signal
    import socket
    import subprocess
    import time

    log_path = cwd / "server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, cwd=cwd, env={**os.environ, **(env or {})}, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        break
                if proc.poll() is not None or time.monotonic() > deadline:
                    tail = log_path.read_text()[-2000:]
                    raise RuntimeError(
                        f"{cmd[0]} did not open port {port} (exit {proc.poll()}):\n{tail}"
                    )
                time.sleep(0.2)
            yield f"http://127.0.0.1:{port}/"
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@contextmanager
def serve_voila(
    notebook: Path, *, cwd: Path, env: dict[str, str] | None = None, timeout_s: float = 60.0
):
    """Serve one notebook with Voilà on 127.0.0.1 from ``cwd`` (a temp dir); yields its URL."""
    import sys

    port = free_port()
    cmd = [sys.executable, "-m", "voila", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
           str(notebook)]  # fmt: skip
    with serve(cmd, port=port, cwd=cwd, env=env, timeout_s=timeout_s) as url:
        yield url


# Lab settings for a test browser: every cell in the DOM (no virtual scrolling), no news fetch.
LAB_SETTINGS = {
    # autoStartDefaultKernel: under load JupyterLab may ask which kernel to start (a race with
    # its kernelspec fetch); every notebook here declares python3, the kernel it would start.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "windowingMode": "none",
        "autoStartDefaultKernel": True,
    },
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}
