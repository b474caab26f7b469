"""RR and daily importers through workbench.ingest.import_file into a temporary store."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pytest

from workbench.errors import DataFormatError
from workbench.ingest import ImportContext, import_file
from workbench.store import open_store

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture()
def store(tmp_path: Path):
    s = open_store(f"sqlite:///{tmp_path}/t.db")
    s.write(
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
    yield s
    s.close()


def test_fit_import(store) -> None:
    ctx = ImportContext(athlete_id="a1")
    written = import_file(store, DATA / "fit" / "fitparse__garmin-edge-820-bike.fit", ctx)
    assert written == {"hrv_readings": 1}
    row = store.hrv_readings("a1").iloc[0]
    assert row["n_beats"] == 126 and row["context"] == "exercise"
    assert np.asarray(row["rr_ms"]).size == 126
    assert row["start_time"] == dt.datetime(2017, 6, 12, 16, 10, 15)
    assert "fit_hrv" in row["source"] and row["quality"] in {"good", "fair", "unreliable"}


def test_rr_text_and_daily_imports(store, tmp_path: Path) -> None:
    ctx = ImportContext(athlete_id="a1")
    rr = tmp_path / "2024-03-02 07-01-30.txt"
    rr.write_text("\n".join(str(900 + (i % 7) * 5) for i in range(200)))
    assert import_file(store, rr, ctx) == {"hrv_readings": 1}
    assert store.hrv_readings("a1").iloc[0]["context"] == "morning"
    for name, table, n in [
        ("whoop_physiological_cycles.csv", "wellness_daily", 2),
        ("oura_daily.csv", "wellness_daily", 2),
        ("hrv4training_android.csv", "wellness_daily", 2),
        ("biomarkers.csv", "biomarkers", 3),
        ("performance_tests.csv", "performance_tests", 2),
    ]:
        assert import_file(store, DATA / "daily" / name, ctx) == {table: n}, name
    w = store.wellness("a1")
    assert set(w["source"]) == {"whoop_cycles", "oura_daily", "hrv4training_android"}


def test_import_needs_athlete(store) -> None:
    with pytest.raises(DataFormatError, match="--athlete"):
        import_file(store, DATA / "daily" / "oura_daily.csv", ImportContext())


def test_corrupt_files_write_nothing(store, tmp_path: Path) -> None:
    ctx = ImportContext(athlete_id="a1")
    bad = tmp_path / "whoop.csv"
    text = (DATA / "daily" / "whoop_physiological_cycles.csv").read_text().splitlines()
    text[2] = text[2].replace(",55,44,", ",55,4400,")  # second row: HRV in wrong unit
    bad.write_text("\n".join(text) + "\n")
    with pytest.raises(DataFormatError) as err:
        import_file(store, bad, ctx)
    assert err.value.line == 3 and "whoop.csv" in str(err.value)
    fit = tmp_path / "cut.fit"
    shutil.copy(DATA / "fit" / "fitparse__garmin-fenix-5-walk.fit", fit)
    fit.write_bytes(fit.read_bytes()[:1000])
    with pytest.raises(DataFormatError):
        import_file(store, fit, ctx)
    empty = tmp_path / "e.txt"
    empty.write_text("")
    with pytest.raises(DataFormatError):
        import_file(store, empty, ctx)
    assert store.wellness("a1").empty and store.hrv_readings("a1").empty
    assert store.read("imports").empty
