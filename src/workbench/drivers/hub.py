"""DeviceHub: one thread owns the asyncio loop on which every live source runs.

Notebooks, widgets and the recorder never touch the loop: they call the hub from any thread.

>>> hub = get_hub()                      # the same hub every time (until closed)
>>> handle = hub.add_source(EmgSimulator())
>>> sub = hub.subscribe(streams={"emg"})   # thread-safe queue of (source_key, SampleBlock)
>>> item = sub.get(timeout_s=1.0)
>>> hub.close()                          # stops every source and the loop thread

``add_source`` with a key already present (a BLE address, say) returns the existing handle:
a second connect to the same device returns the existing driver. Subscriber callbacks run on
the hub thread and must be cheap (append to a buffer); queues are the default.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from workbench.drivers.base import SampleBlock, Source, StreamInfo
from workbench.errors import DeviceError
from workbench.log import get_logger

log = get_logger(__name__)
T = TypeVar("T")

__all__ = ["DeviceHub", "SourceHandle", "Subscription", "get_hub"]


@dataclass
class SourceHandle:
    """A source registered with the hub. ``error`` holds the exception that stopped it."""

    key: str
    source: Source
    hub: DeviceHub
    read_timeout_s: float = 0.5
    error: BaseException | None = None
    n_blocks: int = 0
    _task: asyncio.Task | None = field(default=None, repr=False)

    @property
    def streams(self) -> tuple[StreamInfo, ...]:
        return self.source.streams

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def remove(self) -> None:
        """Stop the source and forget it (idempotent)."""
        self.hub.remove_source(self.key)


class Subscription:
    """Thread-safe delivery of ``(source_key, SampleBlock)`` from the hub.

    With ``callback`` the hub calls it on its own thread; otherwise items are queued for
    :meth:`get`. ``max_blocks`` bounds the queue (oldest dropped, counted in ``dropped``);
    the default None never drops (what a recorder needs).
    """

    def __init__(
        self,
        hub: DeviceHub,
        *,
        callback: Callable[[str, SampleBlock], None] | None,
        sources: Iterable[str] | None,
        streams: Iterable[str] | None,
        max_blocks: int | None,
    ) -> None:
        self._hub = hub
        self._callback = callback
        self._sources = None if sources is None else frozenset(sources)
        self._streams = None if streams is None else frozenset(streams)
        self._queue: queue.Queue = queue.Queue(maxsize=max_blocks or 0)
        self.dropped = 0
        self.closed = False

    def _accepts(self, key: str, stream: str) -> bool:
        return (self._sources is None or key in self._sources) and (
            self._streams is None or stream in self._streams
        )

    def _deliver(self, key: str, block: SampleBlock) -> None:
        if self._callback is not None:
            try:
                self._callback(key, block)
            except Exception:  # a broken consumer must not stop the hub
                log.exception("subscriber callback failed on block of %s/%s", key, block.stream)
            return
        while True:
            try:
                self._queue.put_nowait((key, block))
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    self.dropped += 1
                except queue.Empty:
                    pass

    def get(self, timeout_s: float | None = None) -> tuple[str, SampleBlock] | None:
        """The next ``(source_key, block)``, or None when nothing arrived within the timeout."""
        try:
            return self._queue.get(timeout=timeout_s)
        except queue.Empty:
            return None

    def drain(self) -> list[tuple[str, SampleBlock]]:
        """Everything queued now, without waiting."""
        out = []
        while True:
            try:
                out.append(self._queue.get_nowait())
            except queue.Empty:
                return out

    def close(self) -> None:
        """Stop delivery (idempotent)."""
        self.closed = True
        self._hub._unsubscribe(self)


class DeviceHub:
    """Owner of the asyncio loop (one daemon thread) on which all live sources run.

    Nothing starts until the first call that needs the loop. Use :func:`get_hub` for the
    process-wide hub; tests may create private ones. ``close()`` stops every source.
    """

    def __init__(self, name: str = "workbench-device-hub") -> None:
        self._name = name
        self._lock = threading.RLock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._handles: dict[str, SourceHandle] = {}
        self._subs: list[Subscription] = []
        self.closed = False

    # ------------------------------------------------------------------ the loop
    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self.closed:
                raise DeviceError("the device hub is closed; call get_hub() for a new one")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()
                    loop.close()

                self._thread = threading.Thread(target=run, name=self._name, daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The hub's event loop (started on first use)."""
        return self._ensure_loop()

    def in_hub_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float | None = 30.0) -> T:
        """Run a coroutine on the hub loop from any other thread and return its result."""
        loop = self._ensure_loop()
        if self.in_hub_thread():
            coro.close()
            raise DeviceError("DeviceHub.run() called from the hub thread; await it instead")
        fut = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return fut.result(timeout_s)
        except TimeoutError:
            fut.cancel()
            raise DeviceError(
                f"hub call did not finish within {timeout_s} s", reason="timeout"
            ) from None

    # ---------------------------------------------------------------- sources
    def add_source(
        self, source: Source, *, key: str | None = None, read_timeout_s: float = 0.5
    ) -> SourceHandle:
        """Start ``source`` on the hub and pump its blocks to subscribers.

        ``key`` defaults to the source's ``address`` (BLE drivers) or a unique name. If a
        source with that key is registered, its existing handle is returned and ``source``
        is left untouched.
        """
        key = key or self.source_key(source)
        with self._lock:
            existing = self._handles.get(key)
            if existing is not None:
                return existing
            handle = SourceHandle(key, source, self, read_timeout_s)
            self._handles[key] = handle
        try:
            self.run(self._start(handle))
        except BaseException:
            with self._lock:
                self._handles.pop(key, None)
            raise
        return handle

    @staticmethod
    def source_key(source: Source) -> str:
        """The key :meth:`add_source` gives ``source`` by default: its BLE address or a name."""
        return getattr(source, "address", None) or f"{type(source).__name__}-{id(source):x}"

    def connect(self, key: str, factory: Callable[[], Source], **kwargs: Any) -> SourceHandle:
        """Return the handle registered under ``key`` or create the source with ``factory``."""
        with self._lock:
            if key in self._handles:
                return self._handles[key]
            return self.add_source(factory(), key=key, **kwargs)

    def handle(self, key: str) -> SourceHandle:
        with self._lock:
            try:
                return self._handles[key]
            except KeyError:
                raise KeyError(
                    f"no source {key!r} on the hub; known: {sorted(self._handles)}"
                ) from None

    @property
    def handles(self) -> dict[str, SourceHandle]:
        with self._lock:
            return dict(self._handles)

    def remove_source(self, key: str) -> None:
        """Stop and forget a source (idempotent)."""
        with self._lock:
            handle = self._handles.pop(key, None)
        if handle is not None and self._loop is not None and not self.closed:
            self.run(self._stop(handle))

    async def _start(self, handle: SourceHandle) -> None:
        await handle.source.start()
        handle._task = asyncio.get_running_loop().create_task(
            self._pump(handle), name=f"pump-{handle.key}"
        )

    async def _stop(self, handle: SourceHandle) -> None:
        if handle._task is not None:
            handle._task.cancel()
            try:
                await handle._task
            except asyncio.CancelledError:
                pass  # the cancellation asked for just above
            except Exception as exc:
                log.warning("pump of source %s ended with %r while stopping", handle.key, exc)
        try:
            await handle.source.stop()
        except Exception:
            log.exception("stopping source %s failed", handle.key)
            return
        await self._drain(handle)

    async def _drain(self, handle: SourceHandle, max_blocks: int = 10_000) -> None:
        """Deliver what the stopped source had already received but nobody had read yet."""
        for _ in range(max_blocks):
            try:
                block = await handle.source.read(0.0)
            except Exception as exc:  # a stopped source may refuse reads: nothing left
                log.debug("source %s: no drain after stop (%r)", handle.key, exc)
                return
            if block is None:
                return
            self._dispatch(handle, block)

    def _dispatch(self, handle: SourceHandle, block: SampleBlock) -> None:
        block.meta["source"] = handle.key
        handle.n_blocks += 1
        for sub in tuple(self._subs):
            if sub._accepts(handle.key, block.stream):
                sub._deliver(handle.key, block)

    async def _pump(self, handle: SourceHandle) -> None:
        source = handle.source
        while True:
            try:
                block = await source.read(handle.read_timeout_s)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                handle.error = exc
                log.error("source %s stopped: %s", handle.key, exc)
                return
            if block is None:
                continue
            self._dispatch(handle, block)

    # ------------------------------------------------------------ subscriptions
    def subscribe(
        self,
        callback: Callable[[str, SampleBlock], None] | None = None,
        *,
        sources: Iterable[str] | None = None,
        streams: Iterable[str] | None = None,
        max_blocks: int | None = None,
    ) -> Subscription:
        """Subscribe to blocks of (some) sources/streams; see :class:`Subscription`."""
        sub = Subscription(
            self, callback=callback, sources=sources, streams=streams, max_blocks=max_blocks
        )
        with self._lock:
            self._subs = [*self._subs, sub]
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subs = [s for s in self._subs if s is not sub]

    # ------------------------------------------------------------------ close
    def close(self, timeout_s: float = 10.0) -> None:
        """Stop every source, the loop and its thread (idempotent)."""
        with self._lock:
            if self.closed:
                return
            handles = list(self._handles.values())
            self._handles.clear()
            loop, thread = self._loop, self._thread
            self.closed = True
        if loop is None:
            return

        async def stop_all() -> None:
            await asyncio.gather(*(self._stop(h) for h in handles), return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(stop_all(), loop).result(timeout_s)
        except Exception:
            log.exception("stopping sources on hub close failed")
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout_s)

    def __enter__(self) -> DeviceHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_HUB: DeviceHub | None = None
_HUB_LOCK = threading.Lock()


def get_hub() -> DeviceHub:
    """The process-wide hub: the same object on every call until it is closed."""
    global _HUB
    with _HUB_LOCK:
        if _HUB is None or _HUB.closed:
            _HUB = DeviceHub()
        return _HUB
