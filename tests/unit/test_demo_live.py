"""Demo live recordings (HR/RR, SmO2, 8-channel EMG) and BFR sessions."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from scipy.signal import welch

from workbench.bfr.audit import PRESSURE_CHANNELS
from workbench.demo import generate_demo
from workbench.demo.live import BFR_SCHEDULE
from workbench.demo.rr import BLE_MS
from workbench.store import open_store


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo_live") / "demo.db"
    st = open_store(f"sqlite:///{path}")
    generate_demo(st, athletes=3, days=20, seed=5, end_date=dt.date(2026, 6, 30))
    yield st
    st.close()


def _stream(store, recording_id: int, kind: str):
    s = store.streams(recording_id)
    row = s[s["kind"] == kind].iloc[0]
    host, dev, vals = store.read_stream(int(row["stream_id"]))
    return row, host, dev, vals


def test_fixed_number_of_recordings_all_complete(store):
    rec = store.recordings()
    assert len(rec) == 3 + len(BFR_SCHEDULE)  # 3 live sessions + one pressure trace per BFR
    live = rec[~rec["title"].str.startswith("BFR")]
    assert (live["status"] == "complete").all()
    bfr = store.bfr_sessions().set_index("recording_id")["status"]
    for r in rec[rec["title"].str.startswith("BFR")].itertuples():  # as the audit log does
        assert r.status == ("complete" if bfr[r.recording_id] == "complete" else "interrupted")
    assert (rec["ended_at"] > rec["started_at"]).all()
    assert rec["started_at"].max() < dt.datetime(2026, 7, 1)


def test_live_streams_have_rates_clocks_and_markers(store):
    live = store.recordings()
    live = live[~live["title"].str.startswith("BFR")]
    assert len(live) == 3
    for rid in live["recording_id"]:
        kinds = set(store.streams(int(rid))["kind"])
        assert {"hr", "rr", "smo2"} <= kinds
        row, host, dev, rr = _stream(store, int(rid), "rr")
        assert np.isnan(row["sampling_rate_hz"])
        assert np.array_equal(np.rint(rr[:, 0] / BLE_MS) * BLE_MS, rr[:, 0])
        assert np.all(np.diff(host) > 0) and not np.allclose(host, dev)
        m = store.markers(int(rid))
        assert (m["kind"] == "work_start").sum() == (m["kind"] == "work_end").sum() >= 3
        assert (m["kind"] == "lap").sum() >= 3


def test_smo2_desaturates_during_work_and_recovers(store):
    rec = store.recordings()
    rid = int(rec[rec["title"].str.startswith("Rowing")].iloc[0]["recording_id"])
    row, host, dev, vals = _stream(store, rid, "smo2")
    assert row["sampling_rate_hz"] == 2.0 and row["channel_names"] == ["smo2_pct", "thb_g_dl"]
    m = store.markers(rid)
    t = host - host[0]
    smo2 = vals[:, 0]
    starts = m[m["kind"] == "work_start"]["t_s"].to_numpy()
    ends = m[m["kind"] == "work_end"]["t_s"].to_numpy()
    base = smo2[t < starts[0] - 1].mean()
    for a, b in zip(starts, ends, strict=True):
        end_of_work = smo2[(t > b - 3) & (t < b)].mean()
        assert end_of_work < base - 10
        assert smo2[(t > a - 3) & (t < a)].mean() > end_of_work + 5
    after = smo2[(t > ends[-1] + 15)]
    assert after.mean() > smo2[(t > ends[-1] - 3) & (t < ends[-1])].mean() + 8


def test_emg_eight_channels_at_1khz_with_falling_median_frequency(store):
    rec = store.recordings()
    rid = int(rec[rec["title"].str.contains("EMG")].iloc[0]["recording_id"])
    row, host, dev, emg = _stream(store, rid, "emg")
    assert row["sampling_rate_hz"] >= 1000 and emg.shape[1] == 8
    assert row["units"] == ["uV"] * 8
    m = store.markers(rid)
    a = m[m["kind"] == "work_start"]["t_s"].iloc[0]
    b = m[m["kind"] == "work_end"]["t_s"].iloc[0]
    fs = row["sampling_rate_hz"]
    t = np.arange(emg.shape[0]) / fs

    def mdf(x):
        f, p = welch(x, fs=fs, nperseg=512)
        c = np.cumsum(p)
        return f[np.searchsorted(c, c[-1] / 2)]

    early = emg[(t > a + 1) & (t < a + 6), 0]
    late = emg[(t > b - 6) & (t < b - 1), 0]
    rest = emg[t < a - 2, 0]
    assert mdf(late) < 0.9 * mdf(early)
    assert np.sqrt(np.mean(early**2)) > 5 * np.sqrt(np.mean(rest**2))


def test_bfr_sessions_events_and_pressure_traces(store):
    """The runner's sessions, stored as the audit log stores them (details and limits:
    ``test_demo_bfr_honest.py``)."""
    s = store.bfr_sessions()
    assert len(s) == len(BFR_SCHEDULE)
    assert set(s["status"]) == {"complete", "aborted"}
    for _, row in s.iterrows():
        aops = [r["aop_mmhg"] for r in json.loads(row["aop_readings_mmhg"])]
        assert len(aops) == 2 and min(aops) - 0.05 <= row["aop_mmhg"] <= max(aops) + 0.05
        assert row["setpoint_mmhg"] == pytest.approx(row["aop_mmhg"] * row["percent_aop"] / 100)
        srow, host, dev, p = _stream(store, int(row["recording_id"]), "pressure")
        assert srow["sampling_rate_hz"] == 100.0
        assert srow["channel_names"] == PRESSURE_CHANNELS
        assert srow["units"] == ["mmHg", "mmHg", "mmHg", "1"]
        assert np.nanmax(p[:, 0]) == pytest.approx(row["max_pressure_mmhg"])
        ev = store.bfr_events(int(row["session_id"]))
        assert ev["t_s"].is_monotonic_increasing
        assert ev[ev["kind"] == "state"].iloc[-1]["code"] == (
            "done" if row["status"] == "complete" else "aborted"
        )
        if row["status"] == "complete":
            # every set holds the setpoint (contractions swing around it), then it vents
            starts = ev[ev["code"] == "start_set"]["t_s"].to_numpy()
            ends = ev[ev["code"] == "end_set"]["t_s"].to_numpy()
            assert len(starts) == len(ends) == 4
            for a, b in zip(starts, ends, strict=True):
                held = p[(host > a + 2) & (host < b), 0]
                assert abs(np.nanmedian(held) - row["setpoint_mmhg"]) < 6
            assert p[-1, 0] < 5
    events = store.read("bfr_events")
    assert {"trip", "ack", "operator", "setpoint", "state"} <= set(events["kind"])
