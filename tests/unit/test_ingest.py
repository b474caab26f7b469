"""The import seam: detection, one transaction per file, recordings, clear errors."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from workbench import ingest
from workbench.errors import DataFormatError, UnsupportedFormatError
from workbench.ingest import ImportContext, ImportedRecording, ImportedStream, Importer
from workbench.store import open_store


def _parse_probe(path, ctx):
    lines = path.read_text().splitlines()[1:]
    bio = pd.DataFrame(
        [
            {
                "athlete_id": ctx.athlete_id,
                "date": dt.date(2026, 1, i + 1),
                "marker": "ck",
                "value": float(v),
                "unit": "U/L",
                "source": path.name,
            }
            for i, v in enumerate(lines)
        ]
    )
    t = np.arange(10) / 2.0
    rec = ImportedRecording(
        title=path.name,
        started_at=dt.datetime(2026, 1, 1, 9),
        streams=[
            ImportedStream(
                "smo2", "smo2", "probe", ["smo2"], ["%"], 2.0, t, np.linspace(70, 40, 10)
            )
        ],
        markers=[(2.0, "lap 1", "lap")],
    )
    return {"biomarkers": bio, "recordings": [rec]}


@pytest.fixture
def probe_format():
    imp = ingest.register(
        Importer(
            "probe-test", "test format", lambda p, head: head.startswith(b"PROBE"), _parse_probe
        )
    )
    yield imp
    ingest._REGISTRY.pop(imp.name)


@pytest.fixture
def store(sqlite_url):
    s = open_store(sqlite_url)
    s.write(
        "athletes",
        [
            {
                "athlete_id": "a1",
                "name": "A",
                "sex": "F",
                "birth_date": dt.date(2000, 1, 1),
                "sport": "cycling",
            }
        ],
    )
    yield s
    s.close()


def test_rows_and_recording_land_together(store, tmp_path, probe_format):
    f = tmp_path / "x.probe"
    f.write_text("PROBE\n100\n250\n")
    written = ingest.import_file(store, f, ImportContext(athlete_id="a1"))
    assert written == {"biomarkers": 2, "recordings": 1}
    rec = store.recordings().iloc[0]
    assert rec["status"] == "complete" and rec["athlete_id"] == "a1"
    stream = store.streams(int(rec["recording_id"])).iloc[0]
    t, dev, values = store.read_stream(int(stream["stream_id"]))
    assert np.array_equal(values[:, 0], np.linspace(70, 40, 10)) and np.isnan(dev).all()
    assert store.markers(int(rec["recording_id"]))["label"].tolist() == ["lap 1"]
    imports = store.read("imports")
    assert imports["format"].tolist() == ["probe-test"] and imports["rows"].tolist() == [3]


def test_a_bad_value_writes_nothing(store, tmp_path, probe_format):
    f = tmp_path / "bad.probe"
    f.write_text("PROBE\n100\nnot-a-number\n")
    with pytest.raises(ValueError):
        ingest.import_file(store, f, ImportContext(athlete_id="a1"))
    assert store.counts()["biomarkers"] == 0 and store.counts()["recordings"] == 0


def test_unknown_and_empty_files_are_named(store, tmp_path):
    unknown = tmp_path / "mystery.bin"
    unknown.write_bytes(b"\x00\x01garbage")
    with pytest.raises(UnsupportedFormatError, match="mystery.bin.*Supported formats"):
        ingest.import_file(store, unknown)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(DataFormatError, match="empty.csv.*empty"):
        ingest.import_file(store, empty)


def test_specific_formats_win_over_generic_rr_text():
    from pathlib import Path

    order = [imp.name for imp in ingest.importers()]
    assert order.index("emg") < order.index("rr_text") and order.index("nirs") < order.index(
        "rr_text"
    )
    data = Path(__file__).parents[1] / "data"
    emg_files = sorted(data.glob("emg/**/*.txt"))
    assert emg_files, "EMG fixtures missing"
    for path in emg_files:
        assert ingest.detect(path).name == "emg", path
