"""What a coach sees when a dashboard fails: a readable message, never a bare cell number.

Voilà runs with ``--show_tracebacks=False`` (tracebacks can hold paths and credentials), so an
exception in a cell shows only "There was an error when executing cell [2]". Dashboard cells
run inside :func:`explained`, which shows what failed, the error's own message and where the
full traceback was written (:func:`log_path`), and lets the rest of the page render.
"""

from __future__ import annotations

import html
import logging
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from workbench.config import data_dir, default_db_url
from workbench.log import get_logger

log = get_logger(__name__)

#: Environment variable naming the dashboards' log file (default ``<data>/logs/dashboards.log``).
LOG_FILE_ENV = "WORKBENCH_DASHBOARD_LOG"


def log_path() -> Path:
    """The file dashboard errors are written to (its folder is created)."""
    import os

    path = Path(os.environ.get(LOG_FILE_ENV) or data_dir() / "logs" / "dashboards.log")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _file_logger() -> logging.Logger:
    path = log_path()
    logger = log.getChild("errors")
    if not any(getattr(h, "baseFilename", None) == str(path) for h in logger.handlers):
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    return logger


def _safe_db_url(db_url: str | None) -> str:
    url = db_url or default_db_url()
    try:
        import sqlalchemy as sa

        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL is shown without its credentials part
        return url.split("@")[-1]


def error_html(what: str, exc: BaseException, *, db_url: str | None = None) -> str:
    """HTML of the message shown instead of ``what``: the failure, the database, the log."""
    where = log_path()
    detail = str(exc).strip() or "(no message)"
    return (
        "<div class='wb-dashboard-error' role='alert' style='font-family:sans-serif;"
        "border-left:6px solid #c62828;background:#ffebee;padding:10px 14px;margin:8px 0;"
        "max-width:900px'>"
        f"<b>Could not show {html.escape(what)}.</b>"
        f"<p style='margin:6px 0'>{html.escape(type(exc).__name__)}: {html.escape(detail)}</p>"
        f"<p style='margin:6px 0;font-size:13px;color:#555'>Database: "
        f"<code>{html.escape(_safe_db_url(db_url))}</code><br>"
        f"The full error (with its traceback) is in <code>{html.escape(str(where))}</code>."
        "</p></div>"
    )


def report_error(what: str, exc: BaseException, *, db_url: str | None = None) -> str:
    """Log ``exc`` with its traceback (log file and console) and return :func:`error_html`."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    _file_logger().error("could not show %s: %s\n%s", what, exc, text)
    return error_html(what, exc, db_url=db_url)


@contextmanager
def explained(what: str, *, db_url: str | None = None) -> Iterator[None]:
    """Run a dashboard cell; on an exception show a readable message instead of raising.

    Examples
    --------
    >>> with explained("the squad readiness overview", db_url=db_url):  # doctest: +SKIP
    ...     display(SquadDashboard(db_url).widget)
    """
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - shown to the coach and logged with traceback
        from IPython.display import HTML, display

        display(HTML(report_error(what, exc, db_url=db_url)))


def guarded(what: str, show: Callable[[str], None], fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` for a widget callback: an exception is logged and ``show(html)`` displays it."""

    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - a callback error must reach the page
            show(report_error(what, exc))
            return None

    return run
