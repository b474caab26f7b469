"""Locate the front-end files of custom widgets (top-level ``widgets/`` folder).

In a checkout they live in ``<repo>/widgets``; in a wheel they are shipped as
``workbench/_frontend``.
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parents[1]


def frontend_dir() -> Path:
    """The folder holding the widgets' ``.js`` and ``.css`` files."""
    packaged = _PKG / "_frontend"
    if packaged.is_dir():
        return packaged
    return _PKG.parents[1] / "widgets"


def asset(name: str) -> Path:
    """Path of one front-end file, e.g. ``asset("camera.js")``; FileNotFoundError if absent."""
    path = frontend_dir() / name
    if not path.is_file():
        raise FileNotFoundError(f"front-end file {name!r} not found in {frontend_dir()}")
    return path
