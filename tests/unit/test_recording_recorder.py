"""Recorder: durable flushes, markers, pause, reconnect without loss, exports, SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fake_ble import captured_payloads, heart_rate_peripheral, make_fake_backend
from workbench.drivers import ble
from workbench.drivers import parsers as p
from workbench.drivers.hub import DeviceHub
from workbench.drivers.simulators import EmgSimulator, SmO2Simulator, simulate_emg
from workbench.recording import Recorder, export_csv, export_edf, export_parquet
from workbench.recording.recorder import mark_stale_recordings_interrupted
from workbench.store import open_store

VECTORS = json.loads((Path(__file__).parents[1] / "data" / "ble" / "vectors.json").read_text())


@pytest.fixture
def store(tmp_path):
    s = open_store(f"sqlite:///{tmp_path / 'rec.db'}")
    yield s
    s.close()


@pytest.fixture
def hub():
    h = DeviceHub()
    yield h
    h.close()


def test_records_simulators_with_markers_and_exports(store, hub, tmp_path):
    rec = Recorder(store, title="bench", hub=hub, flush_interval_s=0.2)
    rid = rec.start(
        [EmgSimulator(n_channels=2, sampling_rate_hz=1000, seed=4), SmO2Simulator(seed=1)]
    )
    time.sleep(0.6)
    rec.lap()
    rec.mark("cuff on", kind="marker")
    time.sleep(0.6)
    rec.stop()
    assert rec.status == "complete" and not hub.handles  # owned sources removed
    assert store.recordings().set_index("recording_id").loc[rid, "status"] == "complete"
    streams = store.streams(rid).set_index("name")
    host, dev, emg = store.read_stream(int(streams.loc["emg", "stream_id"]))
    assert 900 < emg.shape[0] < 1600 and emg.shape[1] == 2
    np.testing.assert_array_equal(
        emg, simulate_emg(emg.shape[0], sampling_rate_hz=1000, n_channels=2, seed=4)
    )
    assert np.all(np.diff(host) > 0) and -0.1 < host[0] < 0.2
    markers = store.markers(rid)
    assert markers["label"].tolist() == ["lap 1", "cuff on"]
    assert markers["kind"].tolist() == ["lap", "marker"]

    csvs = export_csv(store, rid, tmp_path / "csv")
    pqs = export_parquet(store, rid, tmp_path / "pq")
    emg_csv = pd.read_csv(next(p for p in csvs if p.name.endswith("_emg.csv")))
    emg_pq = pd.read_parquet(next(p for p in pqs if p.name.endswith("_emg.parquet")))
    assert list(emg_pq.columns) == ["t_s", "device_t_s", "emg1", "emg2"]
    np.testing.assert_array_equal(emg_pq[["emg1", "emg2"]].to_numpy(), emg)
    np.testing.assert_allclose(emg_csv[["emg1", "emg2"]].to_numpy(), emg, rtol=1e-12)
    smo2 = pd.read_parquet(next(p for p in pqs if p.name.endswith("_smo2.parquet")))
    assert list(smo2.columns) == ["t_s", "device_t_s", "smo2_pct", "thb_g_dl"]

    import pyedflib

    dropped = export_edf(store, rid, tmp_path / "rec.edf")
    assert 0 <= dropped["emg"] < 100
    with pyedflib.EdfReader(str(tmp_path / "rec.edf")) as reader:
        assert reader.getSignalLabels() == ["emg:emg1", "emg:emg2"]
        assert reader.getSampleFrequency(0) == 1000
        back = reader.readSignal(1)
        n = back.size
        span = np.ceil(emg[:, 1].max()) - np.floor(emg[:, 1].min())
        assert n == emg.shape[0] - dropped["emg"]
        assert np.max(np.abs(back - emg[:n, 1])) <= span / 65535 + 1e-9
        onsets, _, texts = reader.readAnnotations()
        assert "lap: lap 1" in list(texts)


def test_pause_drops_samples_in_the_paused_span(store, hub):
    rec = Recorder(store, title="pause", hub=hub, flush_interval_s=0.1)
    rid = rec.start([SmO2Simulator(sampling_rate_hz=50.0)])
    time.sleep(0.4)
    rec.pause()
    time.sleep(0.5)
    rec.resume()
    time.sleep(0.4)
    rec.stop()
    host, _, _ = store.read_stream(int(store.streams(rid)["stream_id"].iloc[0]))
    m = store.markers(rid).set_index("label")["t_s"]
    inside = (host >= m["pause"]) & (host < m["resume"])
    assert not inside.any()
    assert (host < m["pause"]).sum() > 10 and (host >= m["resume"]).sum() > 10


def test_forced_disconnect_loses_no_arrived_sample(store, hub):
    payloads = captured_payloads(VECTORS)["hr"]
    per = heart_rate_peripheral("AA:00:00:00:01:01", payloads, interval_s=0.01)
    client, _ = make_fake_backend([per])
    rec = Recorder(store, title="ble", hub=hub, flush_interval_s=0.1)
    drv = ble.HeartRateDriver(per.address, backend=client, backoff_initial_s=0.05)
    rid = rec.start([drv])
    time.sleep(0.4)
    per.refuse_connects = 1
    hub.loop.call_soon_threadsafe(per.force_disconnect)
    time.sleep(0.6)
    rec.stop()
    assert drv.disconnects == 1 and drv.reconnects == 1
    sent = [p.parse_heart_rate_measurement(d) for u, d in per.emitted]
    streams = store.streams(rid).set_index("name")
    _, _, hr = store.read_stream(int(streams.loc["hr", "stream_id"]))
    _, rr_dev, rr = store.read_stream(int(streams.loc["rr", "stream_id"]))
    assert hr[:, 0].tolist() == [m.hr_bpm for m in sent]
    assert rr[:, 0].tolist() == [r for m in sent for r in m.rr_ms]
    np.testing.assert_allclose(rr_dev, np.cumsum(rr[:, 0]) / 1000)


def test_stale_recordings_become_interrupted(store):
    rid = store.create_recording("crashed")
    assert mark_stale_recordings_interrupted(store) == [rid]
    assert store.recordings()["status"].tolist() == ["interrupted"]


CHILD = textwrap.dedent(
    """
    import json, sys, time
    from workbench.drivers.hub import DeviceHub
    from workbench.drivers.simulators import EmgSimulator
    from workbench.recording import Recorder
    from workbench.store import open_store

    store = open_store(sys.argv[1])
    rec = Recorder(store, title="kill me", hub=DeviceHub(), flush_interval_s=0.5)
    rid = rec.start([EmgSimulator(n_channels=8, sampling_rate_hz=2000)])
    print(json.dumps({"t0_s": rec.t0_s, "recording_id": rid}), flush=True)
    time.sleep(600)
    """
)


@pytest.mark.slow
def test_sigkill_loses_at_most_last_second_and_db_stays_intact(tmp_path):
    url = f"sqlite:///{tmp_path / 'kill.db'}"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        info = json.loads(proc.stdout.readline())
        time.sleep(3.0)
        kill_t = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    store = open_store(url)
    try:
        assert store.integrity_check() == "ok"
        rec = store.recordings().iloc[0]
        assert rec["status"] == "recording"  # nobody closed it: the process died
        sid = int(store.streams(info["recording_id"])["stream_id"].iloc[0])
        host, dev, vals = store.read_stream(sid)
        assert vals.shape[1] == 8
        covered_until = info["t0_s"] + host[-1]
        assert covered_until >= kill_t - 1.0, kill_t - covered_until
        assert np.allclose(np.diff(dev), 1 / 2000)  # contiguous: no hole before the kill
        assert vals.shape[0] >= 2000 * 2
    finally:
        store.close()
