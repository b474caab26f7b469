"""Warm kernels before ``workbench dashboard`` reports ready (issue 13: first visit <= 3 s).

Voilà's preheated pool runs each dashboard notebook in a kernel before any visit. A preheated
kernel calls :func:`mark_ready` when its notebook has run; ``workbench dashboard`` waits for
those marks (:func:`wait_until_warm`) before it prints ``ready``, so the first coach gets a
kernel that has already loaded the squad, like every later one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

#: Folder where preheated kernels leave ``<notebook>.ready`` (set by ``workbench dashboard``).
READY_DIR_ENV = "WORKBENCH_DASHBOARD_READY_DIR"


def mark_ready(notebook: str) -> None:
    """Called at the end of a dashboard notebook: a preheated kernel marks its notebook warm.

    Does nothing outside a preheated Voilà kernel started by ``workbench dashboard``.
    """
    folder = os.environ.get(READY_DIR_ENV)
    if folder and os.environ.get("VOILA_PREHEAT") == "True" and Path(folder).is_dir():
        (Path(folder) / f"{notebook}.ready").touch()


def wait_until_warm(
    folder: str | Path,
    notebooks: Iterable[str],
    *,
    timeout_s: float,
    alive: Callable[[], bool] = lambda: True,
    poll_s: float = 0.1,
) -> list[str]:
    """Wait until every notebook left its mark in ``folder``; returns those still cold (on
    timeout, or when ``alive()`` turns false)."""
    want = list(notebooks)
    deadline = time.monotonic() + timeout_s
    while True:
        cold = [n for n in want if not (Path(folder) / f"{n}.ready").exists()]
        if not cold or time.monotonic() > deadline or not alive():
            return cold
        time.sleep(poll_s)
