"""LSL outlet -> inlet on loopback: every sample, in order, with labels/units; republisher."""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from pathlib import Path

import numpy as np

_CFG = Path(tempfile.gettempdir()) / "workbench-lsl-loopback.cfg"
if "LSLAPICFG" not in os.environ:  # loopback only; must precede the first use of liblsl
    _CFG.write_text(
        "[multicast]\nResolveScope = machine\n[lab]\nKnownPeers = {127.0.0.1}\n"
        "[ports]\nIPv6 = disable\n"
    )
    os.environ["LSLAPICFG"] = str(_CFG)

from workbench.drivers.base import SampleBlock, StreamInfo  # noqa: E402
from workbench.drivers.lsl import LslInlet, LslOutlet, LslRepublisher  # noqa: E402


def test_outlet_to_inlet_round_trip_is_complete_and_ordered():
    name = f"wb-unit-{uuid.uuid4().hex[:8]}"
    info = StreamInfo(name, "smo2", "test", ("smo2_pct", "thb_g_dl"), ("%", "g/dL"), 10.0)
    outlet = LslOutlet(info)
    inlet = LslInlet(name=name, resolve_timeout_s=10)
    values = np.column_stack([np.arange(1000.0), np.arange(1000.0) / 100])

    async def run():
        await inlet.start()
        (got_info,) = inlet.streams
        assert got_info.channel_names == ("smo2_pct", "thb_g_dl")
        assert got_info.units == ("%", "g/dL") and got_info.kind == "nirs"
        assert got_info.sampling_rate_hz == 10.0
        await asyncio.sleep(0.3)
        for k in range(10):
            sl = slice(k * 100, (k + 1) * 100)
            host = 1000.0 + np.arange(sl.start, sl.stop) / 10
            outlet.push(SampleBlock(name, host, np.full(100, np.nan), values[sl]))
        out = []
        while sum(len(b) for b in out) < 1000:
            b = await inlet.read(timeout_s=5)
            assert b is not None, "LSL samples missing"
            out.append(b)
        await inlet.stop()
        return out

    blocks = asyncio.run(run())
    got = np.concatenate([b.values for b in blocks])
    np.testing.assert_array_equal(got, values)
    dev = np.concatenate([b.device_t_s for b in blocks])
    np.testing.assert_allclose(np.diff(dev), 0.1, atol=1e-6)
    outlet.close()


def test_republisher_creates_one_outlet_per_stream():
    class FakeHub:
        def __init__(self, infos):
            self._infos = infos

        def handle(self, key):
            return type("H", (), {"streams": self._infos})()

    name = f"wb-rep-{uuid.uuid4().hex[:8]}"
    info = StreamInfo(name, "emg", "sim", ("a",), ("uV",), 100.0)
    rep = LslRepublisher(FakeHub((info,)))
    inlet = LslInlet(name=name, resolve_timeout_s=10)
    rep("k", SampleBlock(name, [1.0], [np.nan], [[0.0]]))

    async def run():
        await inlet.start()
        await asyncio.sleep(0.3)
        rep("k", SampleBlock(name, [2.0, 2.01], [np.nan] * 2, [[1.0], [2.0]]))
        b = await inlet.read(timeout_s=5)
        await inlet.stop()
        return b

    b = asyncio.run(run())
    assert b is not None and b.values[:, 0].tolist() == [1.0, 2.0]
