"""ReplaySource: exact values, real-time pacing on a fake clock, as fast as possible, errors."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from workbench.drivers.replay import ReplaySource
from workbench.errors import DataFormatError
from workbench.store import open_store


class FakeClock:
    def __init__(self) -> None:
        self.t = 50.0

    def __call__(self) -> float:
        return self.t

    async def sleep(self, dt: float) -> None:
        self.t += dt


@pytest.fixture
def rec(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'r.db'}")
    rid = store.create_recording("r")
    a = store.add_stream(
        rid,
        "ecg",
        kind="ecg",
        device="x",
        channel_names=["ecg"],
        units=["uV"],
        sampling_rate_hz=100.0,
    )
    b = store.add_stream(
        rid,
        "hr",
        kind="hr",
        device="x",
        channel_names=["hr_bpm"],
        units=["bpm"],
        sampling_rate_hz=None,
    )
    t = 0.5 + np.arange(1000) / 100
    store.append_chunk(a, 0, t[:400], t[:400] + 7, np.arange(400.0))
    store.append_chunk(a, 1, t[400:], t[400:] + 7, np.arange(400.0, 1000.0))
    store.append_chunk(b, 0, np.arange(1.0, 11.0), np.full(10, np.nan), np.arange(60.0, 70.0))
    yield store, rid
    store.close()


def _drain(src, until):
    async def run():
        await src.start()
        out = []
        while not src.finished and src._clock() < until:
            blk = await src.read(0.5)
            if blk is not None:
                out.append((src._clock(), blk))
        await src.stop()
        return out

    return asyncio.run(run())


def test_real_time_replay_is_paced_and_exact(rec):
    store, rid = rec
    clock = FakeClock()
    src = ReplaySource(store, rid, speed=2.0, clock=clock, sleep=clock.sleep)
    got = _drain(src, until=100.0)
    ecg = [(t, b) for t, b in got if b.stream == "ecg"]
    vals = np.concatenate([b.values[:, 0] for _, b in ecg])
    np.testing.assert_array_equal(vals, np.arange(1000.0))
    dev = np.concatenate([b.device_t_s for _, b in ecg])
    np.testing.assert_allclose(dev, 7.5 + np.arange(1000) / 100)
    for now, b in got:  # never emitted before it is due
        assert b.host_t_s[-1] <= now + 1e-9
    assert 50 + 10.0 / 2 - 0.5 < clock.t < 50 + 10.0 / 2 + 1.0  # 10 s of data at 2x
    hr = np.concatenate([b.values[:, 0] for _, b in got if b.stream == "hr"])
    assert hr.tolist() == list(range(60, 70))
    assert {len(b) for _, b in ecg} <= {5, 4, 3, 2, 1}


def test_as_fast_as_possible(rec):
    store, rid = rec
    clock = FakeClock()
    src = ReplaySource(store, rid, speed=None, streams=["ecg"], clock=clock, sleep=clock.sleep)
    got = _drain(src, until=1e9)
    assert clock.t == 50.0  # no waiting at all
    assert sum(len(b) for _, b in got) == 1000
    assert [i.name for i in src.streams] == ["ecg"]


def test_unknown_stream_is_an_error(rec):
    store, rid = rec
    with pytest.raises(DataFormatError, match="no stream"):
        ReplaySource(store, rid, streams=["emg"])
