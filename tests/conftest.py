"""Fixtures shared by every test area."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pg import PostgresServer  # noqa: E402

DATA = Path(__file__).parent / "data"


def pytest_collection_modifyitems(config, items):
    """Browser tests run last: they are the slowest and drive an event loop of their own."""
    items.sort(key=lambda item: "tests/browser/" in str(item.fspath).replace("\\", "/"))


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server for the session (started with initdb/pg_ctl in a temp dir)."""
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """URL of a fresh SQLite database file in the test's temp dir."""
    return f"sqlite:///{tmp_path / 'workbench.db'}"
