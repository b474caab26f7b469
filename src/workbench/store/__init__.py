"""Persistent store: schema, Alembic migrations, and the :class:`Store` repository.

``open_store(url=None)`` opens ``WORKBENCH_DB_URL`` (or the SQLite file under ``data/``)
and brings its schema to the newest migration.
"""

from __future__ import annotations

from pathlib import Path

from workbench.config import default_db_url
from workbench.errors import StoreError
from workbench.store.store import TABLES, Store, _engine_for

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

__all__ = ["Store", "open_store", "migrate", "TABLES"]


def _alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(store: Store) -> None:
    """Upgrade the store's schema to the newest Alembic revision (idempotent)."""
    from alembic import command

    cfg = _alembic_config(store.engine.url.render_as_string(hide_password=False))
    try:
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except Exception as exc:  # alembic and drivers raise many types
        raise StoreError(f"could not migrate {store.url}: {exc.__class__.__name__}: {exc}") from exc


def open_store(url: str | None = None, *, migrate_schema: bool = True) -> Store:
    """Open the workbench database.

    Parameters
    ----------
    url:
        Any SQLAlchemy URL; default ``WORKBENCH_DB_URL`` or ``sqlite:///<repo>/data/workbench.db``.
    migrate_schema:
        Bring the schema up to date (default). Turn off only for read-only inspection.
    """
    store = Store(_engine_for(url or default_db_url()))
    if migrate_schema:
        migrate(store)
    return store
