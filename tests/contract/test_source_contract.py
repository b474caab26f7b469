"""One contract for every Source: simulators, replay, bleak drivers on the fake backend
(emitting real captured bytes), and the LSL inlet."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from fake_ble import (
    captured_payloads,
    heart_rate_peripheral,
    make_fake_backend,
    moxy_peripheral,
    myo_peripheral,
    polar_h10_peripheral,
)
from workbench.drivers import ble
from workbench.drivers import simulators as sim
from workbench.drivers.base import SampleBlock, Source, StreamInfo
from workbench.drivers.hub import DeviceHub
from workbench.drivers.replay import ReplaySource
from workbench.store import open_store

DATA = Path(__file__).parents[1] / "data" / "ble"
PAYLOADS = captured_payloads(
    json.loads((DATA / "vectors.json").read_text()),
    np.loadtxt(DATA / "myo_rows_gesture7.txt", delimiter=",")[:, :8],
)


@dataclass
class Case:
    source: Source
    closed: Callable[[], bool] = lambda: True
    cleanup: list[Callable[[], None]] = field(default_factory=list)


@pytest.fixture(scope="module")
def recorded_store(tmp_path_factory):
    """A recording with a 2 kHz EMG stream, a 2 Hz SmO2 stream and an irregular RR stream."""
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('replay') / 'r.db'}")
    rid = store.create_recording("replay fixture")
    emg_id = store.add_stream(
        rid,
        "emg",
        kind="emg",
        device="sim",
        channel_names=["a", "b"],
        units=["uV", "uV"],
        sampling_rate_hz=2000.0,
    )
    smo2_id = store.add_stream(
        rid,
        "smo2",
        kind="smo2",
        device="sim",
        channel_names=["smo2_pct", "thb_g_dl"],
        units=["%", "g/dL"],
        sampling_rate_hz=2.0,
    )
    rr_id = store.add_stream(
        rid,
        "rr",
        kind="rr",
        device="sim",
        channel_names=["rr_ms"],
        units=["ms"],
        sampling_rate_hz=None,
    )
    n = 2000 * 4
    emg = sim.simulate_emg(n, sampling_rate_hz=2000, n_channels=2)
    t = np.arange(n) / 2000
    for k in range(8):
        sl = slice(k * 1000, (k + 1) * 1000)
        store.append_chunk(emg_id, k, t[sl], t[sl], emg[sl])
    s, h = sim.simulate_smo2(8, sampling_rate_hz=2)
    store.append_chunk(smo2_id, 0, np.arange(8) / 2, np.arange(8) / 2, np.column_stack([s, h]))
    beat_t, rr = sim.simulate_rr(4, seed=1)
    store.append_chunk(rr_id, 0, beat_t, beat_t, rr)
    yield store, rid
    store.close()


def _ble_case(kind: str) -> Case:
    addr = f"FA:KE:00:00:00:{ {'hr': 1, 'h10': 2, 'moxy': 3, 'myo': 4}[kind]:02X}"
    if kind == "hr":
        per, cls = heart_rate_peripheral(addr, PAYLOADS["hr"]), ble.HeartRateDriver
    elif kind == "h10":
        per = polar_h10_peripheral(addr, PAYLOADS["hr"], PAYLOADS["ecg"])
        cls = ble.PolarH10Driver
    elif kind == "moxy":
        per, cls = moxy_peripheral(addr, PAYLOADS["moxy"]), ble.MoxyDriver
    else:
        per, cls = myo_peripheral(addr, PAYLOADS["myo"]), ble.MyoDriver
    client, _ = make_fake_backend([per])
    return Case(cls(addr, backend=client), closed=lambda: not per.is_connected)


@contextmanager
def _lsl_case():
    from workbench.drivers.lsl import LslInlet, LslOutlet

    name = f"wb-contract-{uuid.uuid4().hex[:8]}"
    info = StreamInfo(name, "emg", "test", ("a", "b", "c"), ("uV",) * 3, 500.0)
    outlet = LslOutlet(info)
    stop = threading.Event()

    def push():
        k = 0
        while not stop.is_set():
            t = time.monotonic()
            outlet.push(
                SampleBlock(
                    name,
                    t - np.arange(9, -1, -1) / 500,
                    np.full(10, np.nan),
                    np.full((10, 3), float(k)),
                )
            )
            k += 1
            time.sleep(0.02)

    th = threading.Thread(target=push, daemon=True)
    th.start()
    inlet = LslInlet(name=name, resolve_timeout_s=10)
    try:
        yield Case(inlet, closed=lambda: inlet._inlet is None)
    finally:
        stop.set()
        th.join()
        outlet.close()


@contextmanager
def make_case(kind: str, recorded_store):
    if kind == "sim_hr":
        yield Case(sim.HeartRateSimulator(notify_s=0.1))
    elif kind == "sim_ecg":
        yield Case(sim.EcgSimulator())
    elif kind == "sim_smo2":
        yield Case(sim.SmO2Simulator(sampling_rate_hz=10.0))
    elif kind == "sim_emg":
        yield Case(sim.EmgSimulator())
    elif kind.startswith("replay"):
        store, rid = recorded_store
        yield Case(ReplaySource(store, rid, speed=None if kind == "replay_asap" else 1.0))
    elif kind.startswith("ble_"):
        yield _ble_case(kind[4:])
    elif kind == "lsl_inlet":
        with _lsl_case() as case:
            yield case
    else:  # pragma: no cover
        raise KeyError(kind)


KINDS = [
    "sim_hr",
    "sim_ecg",
    "sim_smo2",
    "sim_emg",
    "replay_realtime",
    "replay_asap",
    "ble_hr",
    "ble_h10",
    "ble_moxy",
    "ble_myo",
    "lsl_inlet",
]


async def _collect(src: Source, n_blocks: int, wall_s: float) -> list[SampleBlock]:
    blocks = []
    t_end = time.monotonic() + wall_s
    while len(blocks) < n_blocks and time.monotonic() < t_end:
        b = await src.read(timeout_s=0.5)
        if b is not None:
            blocks.append(b)
    return blocks


@pytest.mark.parametrize("kind", KINDS)
def test_source_contract(kind, recorded_store):
    with make_case(kind, recorded_store) as case:
        src = case.source
        assert isinstance(src, Source)

        async def scenario():
            await src.start()
            await src.start()  # idempotent
            infos = src.streams
            assert infos and all(isinstance(i, StreamInfo) for i in infos)
            names = [i.name for i in infos]
            assert len(set(names)) == len(names)
            for i in infos:
                assert len(i.units) == i.n_channels >= 1
                assert i.sampling_rate_hz is None or i.sampling_rate_hz > 0
            by_name = {i.name: i for i in infos}

            blocks = await _collect(src, 12, wall_s=8.0)
            assert len(blocks) >= 3, f"only {len(blocks)} blocks"
            last_host: dict[str, float] = {}
            for b in blocks:
                assert b.stream in by_name
                n = len(b)
                assert n >= 1
                assert b.values.dtype == np.float64
                assert b.values.shape == (n, by_name[b.stream].n_channels)
                assert b.host_t_s.dtype == b.device_t_s.dtype == np.float64
                assert b.host_t_s.shape == b.device_t_s.shape == (n,)
                assert np.all(np.isfinite(b.host_t_s))
                assert np.all(np.diff(b.host_t_s) >= 0)
                assert b.host_t_s[0] >= last_host.get(b.stream, -np.inf)
                last_host[b.stream] = b.host_t_s[-1]

            # read(0) never blocks and returns None once nothing is due/queued
            saw_none = False
            for _ in range(100_000):
                t = time.monotonic()
                b = await src.read(timeout_s=0.0)
                assert time.monotonic() - t < 0.1
                if b is None:
                    saw_none = True
                    break
            assert saw_none
            t = time.monotonic()
            await src.stop()
            await src.stop()  # idempotent
            assert time.monotonic() - t < 5.0

        asyncio.run(scenario())
        assert case.closed()


@pytest.mark.parametrize("kind", ["sim_emg", "replay_realtime", "ble_moxy", "lsl_inlet"])
def test_source_runs_on_the_hub(kind, recorded_store):
    with make_case(kind, recorded_store) as case:
        with DeviceHub() as hub:
            sub = hub.subscribe()
            handle = hub.add_source(case.source)
            item = sub.get(timeout_s=10.0)
            assert item is not None and item[0] == handle.key
            assert item[1].stream in {i.name for i in handle.streams}
        assert case.closed()
