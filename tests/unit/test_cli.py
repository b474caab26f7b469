"""The ``workbench`` command line: database selection, import errors, lab preparation."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from workbench.cli import main
from workbench.store import open_store


@pytest.fixture
def db(sqlite_url, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DB_URL", sqlite_url)
    store = open_store(sqlite_url)
    store.write(
        "athletes",
        [
            {
                "athlete_id": "a1",
                "name": "A",
                "sex": "F",
                "birth_date": dt.date(2000, 1, 1),
                "sport": "rowing",
            }
        ],
    )
    store.close()
    return sqlite_url


def test_info_honours_the_environment(db, capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert db in out and "WORKBENCH_DB_URL" in out and "integrity_check: ok" in out


def test_db_option_overrides_the_environment(db, tmp_path, capsys):
    other = f"sqlite:///{tmp_path / 'other.db'}"
    assert main(["--db", other, "info"]) == 0
    assert other in capsys.readouterr().out


@pytest.mark.parametrize("content", [b"", b"\x00\xffnot a known format\n", b"\x0e\x10garbage.FIT"])
def test_import_of_unknown_or_corrupt_file_prints_one_line_and_fails(db, tmp_path, capsys, content):
    bad = tmp_path / "bad_file.dat"
    bad.write_bytes(content)
    before = open_store(db).counts()
    assert main(["import", "--athlete", "a1", str(bad)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad_file.dat" in err[0]
    assert open_store(db).counts() == before


def test_import_of_a_missing_file_names_it(db, capsys):
    assert main(["import", "--athlete", "a1", "/nonexistent/rr.txt"]) != 0
    assert "/nonexistent/rr.txt" in capsys.readouterr().err


def test_lab_dry_run_targets_notebooks_on_loopback(db, capsys):
    assert main(["lab", "--dry-run", "--no-demo"]) == 0
    out = capsys.readouterr().out
    assert "--ServerApp.ip=127.0.0.1" in out and "notebooks" in out


def test_lab_puts_its_config_first_without_the_busy_tab_icon(db, monkeypatch, capsys):
    """JupyterLab re-fetches its tab icon on every kernel busy/idle flip (issue 11 latency)."""
    import json
    import os
    from pathlib import Path

    monkeypatch.setenv("JUPYTER_CONFIG_PATH", "/site/jupyter")
    assert main(["lab", "--dry-run", "--no-demo"]) == 0
    first, *rest = os.environ["JUPYTER_CONFIG_PATH"].split(os.pathsep)
    assert rest == ["/site/jupyter"]  # the user's own config path is kept, after ours
    page_config = json.loads((Path(first) / "labconfig" / "page_config.json").read_text())
    assert page_config["disabledExtensions"] == {
        "@jupyterlab/application-extension:faviconbusy": True
    }


def test_console_script_is_installed():
    result = subprocess.run(
        [sys.executable, "-m", "workbench", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0 and "import" in result.stdout
