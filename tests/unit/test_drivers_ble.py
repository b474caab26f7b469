"""bleak drivers through the fake backend: scan, connect, battery, reconnect, errors, hub."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest

from fake_ble import (
    captured_payloads,
    heart_rate_peripheral,
    make_fake_backend,
    moxy_peripheral,
    polar_h10_peripheral,
)
from workbench.drivers import ble
from workbench.drivers import parsers as p
from workbench.drivers.hub import DeviceHub, get_hub
from workbench.errors import DeviceError

DATA = Path(__file__).parents[1] / "data" / "ble"
VECTORS = json.loads((DATA / "vectors.json").read_text())
PAYLOADS = captured_payloads(
    VECTORS, np.loadtxt(DATA / "myo_rows_gesture7.txt", delimiter=",")[:, :8]
)


def test_scan_filters_by_service():
    hr = heart_rate_peripheral("AA:00:00:00:00:01", PAYLOADS["hr"])
    mx = moxy_peripheral("AA:00:00:00:00:02", PAYLOADS["moxy"])
    _, scanner = make_fake_backend([hr, mx])

    async def run():
        return await ble.scan(service_uuids=[p.MOXY_SERVICE_UUID], timeout_s=0.01, backend=scanner)

    found = asyncio.run(run())
    assert [f.address for f in found] == ["AA:00:00:00:00:02"]
    assert found[0].name == "Moxy FAKE"


def test_no_bluez_maps_to_bluetooth_unavailable():
    err = ble.map_ble_error(FileNotFoundError(2, "No such file"), address=None, action="scan")
    assert err.reason == "bluetooth_unavailable" and "Bluetooth is unavailable" in str(err)


def test_real_scan_without_bluez_is_a_device_error():
    async def run():
        await ble.scan(timeout_s=0.05)

    try:
        asyncio.run(run())
    except DeviceError as exc:
        assert exc.reason in {"bluetooth_unavailable", "ble_error"}
    # a machine with a working adapter may simply find nothing


def test_unknown_address_is_not_found():
    client, _ = make_fake_backend([])
    drv = ble.HeartRateDriver("AA:00:00:00:00:09", backend=client)
    with pytest.raises(DeviceError) as info:
        asyncio.run(drv.start())
    assert info.value.reason == "not_found"


def test_polar_h10_streams_hr_rr_ecg_and_battery():
    per = polar_h10_peripheral("AA:00:00:00:00:03", PAYLOADS["hr"], PAYLOADS["ecg"])
    client, _ = make_fake_backend([per])
    drv = ble.PolarH10Driver(per.address, backend=client)

    async def run():
        await drv.start()
        await drv.start()  # idempotent
        assert await drv.battery_pct() == 0x57
        got = {}
        for _ in range(60):
            b = await drv.read(0.5)
            if b is not None:
                got.setdefault(b.stream, []).append(b)
        await drv.stop()
        await drv.stop()
        return got

    got = asyncio.run(run())
    assert set(got) == {"hr", "rr", "ecg"}
    assert drv.last_pmd_response is not None and drv.last_pmd_response.ok
    assert (p.PMD_CONTROL_UUID, p.PMD_START_ECG_130HZ) in per.writes
    assert (p.PMD_CONTROL_UUID, p.PMD_STOP_ECG) in per.writes
    ecg = np.concatenate([b.values[:, 0] for b in got["ecg"]])
    assert set(ecg.tolist()) == {-32766.0, 32770.0}
    assert not per.is_connected


def test_forced_disconnect_reconnects_and_loses_nothing():
    per = heart_rate_peripheral("AA:00:00:00:00:04", PAYLOADS["hr"], interval_s=0.01)
    client, _ = make_fake_backend([per])
    drv = ble.HeartRateDriver(per.address, backend=client, backoff_initial_s=0.02)

    async def run():
        await drv.start()
        hr = []
        loop = asyncio.get_running_loop()
        t_end = loop.time() + 1.0
        dropped = False
        while loop.time() < t_end:
            if not dropped and len(hr) > 10:
                per.refuse_connects = 2
                per.force_disconnect()
                dropped = True
            b = await drv.read(0.1)
            if b is not None and b.stream == "hr":
                hr.append(b.values[0, 0])
        await drv.stop()
        while (b := await drv.read(0.0)) is not None:
            if b.stream == "hr":
                hr.append(b.values[0, 0])
        return hr

    hr = asyncio.run(run())
    assert drv.disconnects == 1 and drv.reconnects == 1 and per.connects == 2
    sent = [
        p.parse_heart_rate_measurement(d).hr_bpm
        for u, d in per.emitted
        if u == p.HEART_RATE_MEASUREMENT_UUID
    ]
    assert hr == sent and len(sent) > 20


def test_hub_returns_existing_driver_for_same_address_and_closes():
    per = moxy_peripheral("AA:00:00:00:00:05", PAYLOADS["moxy"])
    client, _ = make_fake_backend([per])
    hub = DeviceHub()
    try:
        h1 = hub.connect(per.address, lambda: ble.MoxyDriver(per.address, backend=client))
        h2 = hub.add_source(ble.MoxyDriver(per.address, backend=client))
        assert h1 is h2 and per.connects == 1
        sub = hub.subscribe(streams={"smo2"})
        item = sub.get(timeout_s=2.0)
        assert item is not None and item[0] == per.address
        assert item[1].values.tolist() == [[53.3, 12.16]]
    finally:
        hub.close()
    assert not per.is_connected and hub.closed
    hub.close()


def test_get_hub_is_one_owner_and_lazy():
    import threading

    before = {t.name for t in threading.enumerate()}
    hub = get_hub()
    assert get_hub() is hub
    assert "workbench-device-hub" not in before or hub.closed is False
    hub.close()
    assert get_hub() is not hub
    get_hub().close()
