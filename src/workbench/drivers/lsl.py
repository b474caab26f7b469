"""Lab Streaming Layer: an inlet Source for any LSL stream, and outlets that republish.

pylsl is imported on first use. For loopback-only discovery (tests, locked-down labs) point
``LSLAPICFG`` at a config with ``[multicast] ResolveScope = machine``,
``[lab] KnownPeers = {127.0.0.1}`` and ``[ports] IPv6 = disable`` *before* the first use.

Inlet times: ``device_t_s`` is the LSL timestamp (sender clock mapped to the local LSL clock
by clock synchronisation); ``host_t_s`` is the same instant on ``time.monotonic()``, never
later than the receive time and never decreasing.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np

from workbench.drivers.base import SampleBlock, StreamInfo
from workbench.errors import DeviceError
from workbench.log import get_logger

log = get_logger(__name__)

__all__ = ["LslInlet", "LslOutlet", "LslRepublisher"]

_KIND_TO_LSL = {"emg": "EMG", "ecg": "ECG", "smo2": "NIRS", "nirs": "NIRS", "hr": "HR", "rr": "RR"}


def _pylsl() -> Any:
    import pylsl

    return pylsl


class LslInlet:
    """A Source reading one LSL stream, found by ``name``, ``type`` or ``source_id``.

    Parameters
    ----------
    name, type, source_id:
        Exactly one LSL property to resolve the stream by.
    kind:
        Workbench stream kind (default: LSL type lower-cased, e.g. ``emg``).
    resolve_timeout_s:
        How long ``start()`` looks for the stream before raising ``DeviceError(not_found)``.
    max_buffer_s:
        Seconds of data liblsl buffers while nobody reads (older samples are dropped).
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        type: str | None = None,  # noqa: A002 - the LSL property is called "type"
        source_id: str | None = None,
        kind: str | None = None,
        resolve_timeout_s: float = 5.0,
        max_chunk: int = 4096,
        poll_s: float = 0.005,
        max_buffer_s: int = 360,
    ) -> None:
        props = {k: v for k, v in (("name", name), ("type", type), ("source_id", source_id)) if v}
        if len(props) != 1:
            raise ValueError("give exactly one of name=, type=, source_id=")
        ((self._prop, self._value),) = props.items()
        self._kind = kind
        self._resolve_timeout_s = resolve_timeout_s
        self._max_chunk = max_chunk
        self._max_buffer_s = int(max_buffer_s)
        self._poll_s = poll_s
        self._inlet: Any = None
        self._info: StreamInfo | None = None
        self._last_host = -np.inf
        self._running = False

    @property
    def streams(self) -> tuple[StreamInfo, ...]:
        """The stream's metadata; empty until :meth:`start` has resolved the stream."""
        return () if self._info is None else (self._info,)

    def _open(self) -> None:
        lsl = _pylsl()
        found = lsl.resolve_byprop(self._prop, self._value, timeout=self._resolve_timeout_s)
        if not found:
            raise DeviceError(
                f"no LSL stream with {self._prop}={self._value!r} within "
                f"{self._resolve_timeout_s} s; is the sending app streaming on this network? "
                "(check LSLAPICFG / firewall)",
                reason="not_found",
            )
        inlet = lsl.StreamInlet(
            found[0],
            max_buflen=self._max_buffer_s,
            processing_flags=lsl.proc_clocksync | lsl.proc_monotonize,
        )
        info = inlet.info(timeout=self._resolve_timeout_s)
        inlet.open_stream(timeout=self._resolve_timeout_s)
        n = info.channel_count()
        labels, units = [], []
        ch = info.desc().child("channels").child("channel")
        for i in range(n):
            label = ch.child_value("label") if not ch.empty() else ""
            unit = ch.child_value("unit") if not ch.empty() else ""
            labels.append(label or f"ch{i + 1}")
            units.append(unit or "a.u.")
            ch = ch.next_sibling() if not ch.empty() else ch
        fs = info.nominal_srate()
        self._info = StreamInfo(
            info.name(),
            self._kind or (info.type().lower() or "lsl"),
            f"lsl:{info.source_id() or info.hostname()}",
            tuple(labels),
            tuple(units),
            float(fs) if fs > 0 else None,
        )
        self._offset_s = time.monotonic() - lsl.local_clock()
        self._inlet = inlet

    async def start(self) -> None:
        """Resolve and open the stream (idempotent)."""
        if self._running:
            return
        if self._inlet is None:
            await asyncio.get_running_loop().run_in_executor(None, self._open)
        self._running = True

    async def read(self, timeout_s: float = 1.0) -> SampleBlock | None:
        """The samples that arrived, or None when none arrived within ``timeout_s``."""
        if not self._running:
            raise DeviceError("LSL inlet: read() before start()", reason="not_started")
        deadline = time.monotonic() + max(0.0, timeout_s)
        while True:
            samples, stamps = self._inlet.pull_chunk(timeout=0.0, max_samples=self._max_chunk)
            if stamps:
                recv = time.monotonic()
                dev = np.asarray(stamps, dtype=np.float64)
                host = np.minimum(dev + self._offset_s, recv)
                host = np.maximum.accumulate(np.maximum(host, self._last_host))
                self._last_host = float(host[-1])
                return SampleBlock(self._info.name, host, dev, np.asarray(samples, np.float64))  # type: ignore[union-attr]
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(self._poll_s)

    async def stop(self) -> None:
        """Close the stream (idempotent); ``start()`` reopens it."""
        if self._inlet is not None:
            try:
                self._inlet.close_stream()
            except Exception as exc:  # liblsl may complain if the sender is gone
                log.info("closing LSL inlet: %s", exc)
            self._inlet = None
        self._running = False


class LslOutlet:
    """Publish one workbench stream on LSL (float64 channels with labels and units)."""

    def __init__(self, info: StreamInfo, *, source_id: str | None = None) -> None:
        lsl = _pylsl()
        lsl_info = lsl.StreamInfo(
            info.name,
            _KIND_TO_LSL.get(info.kind, info.kind.upper()),
            info.n_channels,
            info.sampling_rate_hz or lsl.IRREGULAR_RATE,
            lsl.cf_double64,
            source_id or f"workbench:{info.device}:{info.name}",
        )
        chans = lsl_info.desc().append_child("channels")
        for label, unit in zip(info.channel_names, info.units, strict=True):
            ch = chans.append_child("channel")
            ch.append_child_value("label", label)
            ch.append_child_value("unit", unit)
        self.info = info
        self._offset_s = lsl.local_clock() - time.monotonic()
        self._outlet = lsl.StreamOutlet(lsl_info)

    def push(self, block: SampleBlock) -> None:
        """Push a block; LSL timestamps are the block's host times on the LSL clock."""
        if block.values.shape[1] != self.info.n_channels:
            raise ValueError(
                f"block of {block.values.shape[1]} channels for LSL stream "
                f"{self.info.name!r} of {self.info.n_channels}"
            )
        if len(block):
            self._outlet.push_chunk(
                np.ascontiguousarray(block.values), (block.host_t_s + self._offset_s).tolist()
            )

    def have_consumers(self) -> bool:
        return bool(self._outlet.have_consumers())

    def close(self) -> None:
        self._outlet = None


class LslRepublisher:
    """Hub subscriber callback that republishes every block on LSL, one outlet per stream.

    >>> hub.subscribe(LslRepublisher(hub))
    """

    def __init__(self, hub: Any) -> None:
        self._hub = hub
        self._outlets: dict[tuple[str, str], LslOutlet] = {}

    def __call__(self, key: str, block: SampleBlock) -> None:
        outlet = self._outlets.get((key, block.stream))
        if outlet is None:
            info = next(i for i in self._hub.handle(key).streams if i.name == block.stream)
            outlet = self._outlets[(key, block.stream)] = LslOutlet(info)
        outlet.push(block)
