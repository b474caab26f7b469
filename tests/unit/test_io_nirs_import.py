"""`workbench import` of NIRS and EMG files: recordings with streams, chunks and markers."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from workbench import ingest
from workbench.errors import DataFormatError
from workbench.ingest import detect, import_file
from workbench.io import read_emg, read_nirs
from workbench.store import open_store

DATA = Path(__file__).parents[1] / "data"


@pytest.fixture
def store(tmp_path):
    s = open_store(f"sqlite:///{tmp_path / 'wb.db'}")
    yield s
    s.close()


@pytest.mark.parametrize(
    "name",
    ["mnirs__moxy_intervals.csv", "mnirs__moxy_ramp.xlsx", "vo2master_3sensors_synthetic.csv",
     "mnirs__portamon-oxcap.xlsx"],
)  # fmt: skip
def test_nirs_files_land_as_recordings(store, name):
    path = DATA / "nirs" / name
    assert detect(path).name == "nirs"
    import_file(store, path)
    rec = store.recordings()
    assert len(rec) == 1 and rec["status"].iloc[0] == "complete"
    assert name in rec["notes"].iloc[0]
    streams = store.streams(int(rec["recording_id"].iloc[0]))
    assert streams["kind"].tolist() == ["smo2"]
    t, _dev, values = store.read_stream(int(streams["stream_id"].iloc[0]))
    df = read_nirs(path)
    np.testing.assert_allclose(t, df["t_s"])
    chans = [c for c in df.columns if c not in ("t_s", "lap", "event")]
    np.testing.assert_allclose(values, df[chans].to_numpy(float), equal_nan=True)


def test_laps_and_events_become_markers(store):
    import_file(store, DATA / "nirs" / "mnirs__moxy_ramp.xlsx")
    import_file(store, DATA / "nirs" / "mnirs__portamon-oxcap.xlsx")
    ids = store.recordings()["recording_id"].tolist()
    laps = store.markers(int(ids[0]))
    assert laps["kind"].tolist() == ["lap", "lap"]
    events = store.markers(int(ids[1]))
    assert (events["kind"] == "event").all() and "R1 Resting" in events["label"].tolist()


@pytest.mark.parametrize("name", ["biosppy__emg.txt", "myo_right_12345-1_7.txt"])
def test_emg_files_land_as_recordings(store, name, monkeypatch):
    path = DATA / "emg" / name
    emg_imp = next(i for i in ingest.importers() if i.name == "emg")
    assert emg_imp.sniff(path, path.read_bytes()[:65536])
    # detection order between importers is the registry's business (the generic RR-text
    # sniffer also claims one-number-per-line files): use the EMG importer explicitly here
    monkeypatch.setattr(ingest, "detect", lambda _p: emg_imp)
    import_file(store, path)
    rid = int(store.recordings()["recording_id"].iloc[0])
    s = store.streams(rid)
    assert s["kind"].tolist() == ["emg"]
    t, _dev, values = store.read_stream(int(s["stream_id"].iloc[0]))
    x, fs = read_emg(path)
    np.testing.assert_array_equal(values, x)
    assert t[1] == pytest.approx(1 / fs)
    if name.startswith("myo"):
        assert set(store.markers(rid)["label"]) == {"label 0", "label 7"}


def test_corrupt_nirs_file_writes_nothing(store, tmp_path):
    bad = tmp_path / "vo2.csv"
    text = (DATA / "nirs" / "vo2master_3sensors_synthetic.csv").read_text().splitlines()
    text[3] = text[3] + ",extra"
    bad.write_text("\n".join(text) + "\n")
    with pytest.raises(DataFormatError) as err:
        import_file(store, bad)
    assert err.value.line == 4
    assert store.recordings().empty


def test_trainred_is_detected(tmp_path):
    p = tmp_path / "tr.csv"
    shutil.copy(DATA / "nirs" / "mnirs__train.red_intervals.csv", p)
    assert detect(p).name == "nirs"
