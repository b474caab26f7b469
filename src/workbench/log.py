"""Logging for the workbench: one logger tree under ``workbench``."""

from __future__ import annotations

import logging
import os


def get_logger(name: str) -> logging.Logger:
    """Return the logger for a workbench module (``name`` is usually ``__name__``)."""
    return logging.getLogger(name if name.startswith("workbench") else f"workbench.{name}")


def configure(level: str | int | None = None) -> None:
    """Configure console logging once; level from ``WORKBENCH_LOG_LEVEL`` (default INFO)."""
    level = level or os.environ.get("WORKBENCH_LOG_LEVEL", "INFO")
    root = logging.getLogger("workbench")
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(level)
