"""Where things live: database URL, data and state folders (all overridable by environment)."""

from __future__ import annotations

import os
from pathlib import Path

DB_URL_ENV = "WORKBENCH_DB_URL"
DATA_DIR_ENV = "WORKBENCH_DATA_DIR"


def project_root() -> Path:
    """The repository root when running from a checkout, else the current directory."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists() and (parent / "src" / "workbench").is_dir():
            return parent
    return Path.cwd()


def data_dir() -> Path:
    """Folder for the default SQLite database and persistent state (``data/``)."""
    path = Path(os.environ.get(DATA_DIR_ENV) or project_root() / "data")
    path.mkdir(parents=True, exist_ok=True)
    return path


def state_dir() -> Path:
    """Folder for state that must survive kernel restarts (BFR counters, recorder journals)."""
    path = data_dir() / "state"
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_db_url() -> str:
    """``WORKBENCH_DB_URL`` if set, else a SQLite file ``data/workbench.db``."""
    url = os.environ.get(DB_URL_ENV)
    if url:
        return url
    return f"sqlite:///{data_dir() / 'workbench.db'}"
