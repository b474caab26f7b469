"""Issue 15 item 9: a failing dashboard cell shows what failed and where the log is."""

from __future__ import annotations

import pytest

from workbench.errors import DataFormatError


@pytest.fixture
def dash_log(tmp_path, monkeypatch):
    path = tmp_path / "logs" / "dash.log"
    monkeypatch.setenv("WORKBENCH_DASHBOARD_LOG", str(path))
    return path


def test_explained_cell_shows_what_failed_and_the_log(dash_log, monkeypatch):
    from workbench.dashboards.errors import explained

    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj.data))
    with explained("the squad readiness overview", db_url="postgresql://coach:pw@db/squad"):
        raise DataFormatError("sqlite:///x.db holds no athletes", field="athlete_id")
    (page,) = shown
    assert "Could not show the squad readiness overview" in page
    assert "holds no athletes" in page and "DataFormatError" in page
    assert str(dash_log) in page
    assert "pw" not in page.replace("postgresql://coach:***@db/squad", "")  # password hidden
    logged = dash_log.read_text()
    assert "Traceback" in logged and "holds no athletes" in logged


def test_squad_dashboard_on_an_empty_database_explains(dash_log, monkeypatch, tmp_path):
    """The notebook cell of the squad dashboard, run as Voilà runs it, on a database without
    athletes: a readable message instead of an exception."""
    import nbformat

    from workbench.config import project_root
    from workbench.store import open_store

    url = f"sqlite:///{tmp_path / 'empty.db'}"
    open_store(url).close()
    nb = nbformat.read(project_root() / "notebooks/dashboards/squad_overview.ipynb", 4)
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objs: shown.extend(objs))
    ns = {"display": lambda *objs: shown.extend(objs)}
    for cell in nb.cells:
        if cell.cell_type == "code":
            src = cell.source.replace("db_url = None", f"db_url = {url!r}")
            exec(compile(src, "cell", "exec"), ns)  # noqa: S102 - our own notebook
    text = " ".join(getattr(o, "data", "") or "" for o in shown)
    assert "Could not show the squad readiness overview" in text
    assert "holds no athletes" in text and str(dash_log) in text


def test_a_failing_athlete_click_shows_the_error_in_the_page(dash_log):
    from workbench.dashboards.errors import guarded

    seen = []

    def boom(_b):
        raise ValueError("no readiness rows for 'ath09'")

    guarded("the page of Ann (ath09)", seen.append, boom)(None)
    (page,) = seen
    assert "Could not show the page of Ann (ath09)" in page and "ath09" in page
    assert str(dash_log) in page
