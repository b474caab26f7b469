"""Playwright on Debian's chromium (never a downloaded browser)."""

from __future__ import annotations

import shutil

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
