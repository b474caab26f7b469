"""A demo squad in a fresh SQLite file, for tests that need a populated database."""

from __future__ import annotations

from pathlib import Path

from workbench.demo import generate_demo
from workbench.store import open_store


def demo_db_url(directory: Path, **demo_kwargs) -> str:
    """Build the demo (``generate_demo`` keywords) in ``directory/demo.db``; return its URL."""
    url = f"sqlite:///{Path(directory) / 'demo.db'}"
    with open_store(url) as store:
        generate_demo(store, **demo_kwargs)
    return url
