"""Issue 15 items 6-7: athlete ids cannot steer report files outside ``--out`` or put a
script URL into the squad index."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from workbench.errors import ConfigError, DataFormatError
from workbench.reports.runner import ReportJob, ReportResult, render_report, write_index
from workbench.store import open_store

HOSTILE_IDS = [
    "../../../../tmp/x",
    "../escape",
    "a/b",
    "..",
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    "ath 01",
    "ath01\n",
    "",
    "-leading-dash",
    "x" * 65,
    "évé",
]


def _athlete(athlete_id: str) -> dict:
    return {
        "athlete_id": athlete_id,
        "name": "Probe",
        "sex": "F",
        "birth_date": dt.date(2000, 1, 1),
        "sport": "rowing",
    }


@pytest.mark.parametrize("bad", HOSTILE_IDS)
def test_store_refuses_unsafe_athlete_ids_at_creation(tmp_path, bad):
    with open_store(f"sqlite:///{tmp_path / 'ids.db'}") as store:
        with pytest.raises(DataFormatError, match="invalid athlete id"):
            store.write("athletes", [_athlete(bad)])
        with pytest.raises(DataFormatError, match="invalid athlete id"):
            store.write("athletes", pd.DataFrame([_athlete(bad)]))
        assert store.athletes().empty


def test_store_accepts_ordinary_ids(tmp_path):
    from workbench.store.ids import is_valid_athlete_id

    with open_store(f"sqlite:///{tmp_path / 'ids.db'}") as store:
        store.write("athletes", [_athlete("ath01"), _athlete("jane-doe_2")])
        assert sorted(store.athletes()["athlete_id"]) == ["ath01", "jane-doe_2"]
    assert not any(is_valid_athlete_id(b) for b in HOSTILE_IDS)


@pytest.mark.parametrize("bad", ["../../../../tmp/x", "..", "a/b", "/etc/passwd", "a\\b", "x\0"])
def test_output_path_stays_under_out(tmp_path, bad):
    from workbench.reports.runner import output_path

    with pytest.raises(ConfigError):
        output_path(tmp_path, "2026-W47", f"{bad}")
    with pytest.raises(ConfigError):
        output_path(tmp_path, bad, "ath01.html")
    assert output_path(tmp_path, "2026-W47", "ath01.html") == tmp_path / "2026-W47" / "ath01.html"


def _tiny_notebook(path: Path) -> Path:
    """A report notebook that writes its figures file (so the runner reaches its writes)."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        "athlete_id = None\niso_week = None\ndb_url = None\nfigures_path = None"
    )
    params.metadata["tags"] = ["parameters"]
    body = nbformat.v4.new_code_cell(
        "import json\njson.dump({'athlete_id': athlete_id}, open(figures_path, 'w'))"
    )
    nb.cells = [params, body]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


def test_render_report_never_writes_outside_out(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    victim_dir = tmp_path / "victim"
    victim_dir.mkdir()
    notebook = _tiny_notebook(tmp_path / "tiny.ipynb")
    # 2026-W47/../../victim/x.html would land in tmp_path/victim
    job = ReportJob(
        athlete_id="../../victim/x",
        week="2026-W47",
        out_dir=str(out),
        db_url="sqlite://",
        notebook=str(notebook),
    )
    res = render_report(job)
    assert not res.ok
    assert "not a plain file name" in (res.error or "")
    assert list(victim_dir.iterdir()) == []
    assert all(p.resolve().is_relative_to(out.resolve()) for p in tmp_path.rglob("*.html"))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href"]


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "data:text/html,hi", "//evil.example/x"])
def test_index_links_carry_no_scheme_from_data(tmp_path, bad):
    week_dir = tmp_path / "2026-W47"
    week_dir.mkdir()
    # a legacy database may still hold such an id; its report file sits in the week folder
    name = bad.replace("/", "_")
    (week_dir / f"{name}.html").write_text("<p>report</p>")
    # and an old index.json may carry a crafted link
    (week_dir / "index.json").write_text(
        json.dumps({"reports": [{"athlete_id": "old", "ok": True, "error": None,
                                 "readiness_mean": None, "band_last": None, "flags": 0,
                                 "html": bad, "pdf": bad, "name": None, "group": None,
                                 "seconds": 0}]})
    )  # fmt: skip
    results = [
        ReportResult(name, "2026-W47", True, 0.1),
        ReportResult("ath01", "2026-W47", True, 0.1),
    ]
    (week_dir / "ath01.html").write_text("<p>report</p>")
    page = write_index(week_dir, "2026-W47", results).read_text()
    parser = _Links()
    parser.feed(page)
    assert parser.hrefs, "the index links the reports that exist"
    for href in parser.hrefs:
        parts = urllib.parse.urlsplit(href)
        assert parts.scheme == "" and parts.netloc == "", href
        assert href.startswith("./") and "/" not in href[2:], href
    assert "./ath01.html" in parser.hrefs
    assert "./" + urllib.parse.quote(f"{name}.html", safe="") in parser.hrefs
    # the legacy row with a crafted link shows no link at all (old.html does not exist)
    assert not any(bad in h for h in parser.hrefs)
