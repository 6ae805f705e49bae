"""One long-lived event loop per process, bridging Django's sync world to the async engine.

Django views and Nautobot jobs are synchronous; the engine (provider clients, MCP sessions, the
checkpoint store's connection pool) is async and keeps connections open between runs. Creating a
loop per request (``asyncio.run``) would throw those connections away every time, and an MCP stdio
session would be respawned per chat turn. Instead a daemon thread runs one asyncio loop for the
whole process; sync code submits coroutines to it with :meth:`EngineLoop.run` (or streams an async
iterator with :meth:`EngineLoop.iterate`).

Resources that belong to the loop (an MCP pool, a store) are kept in :meth:`EngineLoop.lease`
slots: created once, shared by concurrent runs, replaced when their configuration fingerprint
changes (the old one is closed after its last user is done) and closed when the loop shuts down.

The loop restarts if it died (its resources are then rebuilt), survives a coroutine that raises,
starts afresh in a forked child (Celery prefork workers, gunicorn ``--preload``), and shuts down
cleanly at interpreter exit.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import logging
import os
import queue
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiops_core.errors import AiopsError

__all__ = ["EngineLoop", "EngineTimeoutError", "get_engine_loop"]

log = logging.getLogger("aiops_nautobot.engine_loop")

T = TypeVar("T")
Factory = Callable[
    [], Awaitable[AbstractAsyncContextManager[Any]] | AbstractAsyncContextManager[Any]
]


class EngineTimeoutError(AiopsError, TimeoutError):
    """A coroutine submitted to the engine loop did not finish in time (it was cancelled)."""


@dataclass(eq=False)
class _Slot:
    """A shared resource on the loop: one value per fingerprint, reference counted.

    The resource is entered and exited by one owner task, because anyio task groups and cancel
    scopes (an MCP pool holds one) must be exited by the task that entered them.
    """

    fingerprint: Any
    ready: asyncio.Future[Any]
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    owner: asyncio.Task[None] | None = None
    users: int = 0
    retired: bool = False
    last_used: float = 0.0


async def _own(slot: _Slot, factory: Factory) -> None:
    """Enter the resource, hand it to the users, and exit it when the slot closes."""
    try:
        async with AsyncExitStack() as stack:
            manager = factory()
            if not isinstance(manager, AbstractAsyncContextManager):
                manager = await manager
            slot.ready.set_result(await stack.enter_async_context(manager))
            await slot.closing.wait()
    except BaseException as err:
        if not slot.ready.done():
            slot.ready.set_exception(err)
            slot.ready.exception()  # retrieved: waiters get it, asyncio logs nothing
        elif not isinstance(err, asyncio.CancelledError):
            log.exception("engine loop: error while closing a resource")
        if not isinstance(err, Exception):
            raise


class _Generation:
    """One incarnation of the loop thread and what lives on it."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.pid = os.getpid()
        self.slots: dict[str, _Slot] = {}
        self.retiring: set[_Slot] = set()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._main, args=(ready,), name=name, daemon=True)
        self.thread.start()
        ready.wait()

    def _main(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(ready.set)
        try:
            self.loop.run_forever()
        finally:
            # Whether stopped on purpose or by accident, release what lives here.
            try:
                self.loop.run_until_complete(self._drain())
            except Exception:
                log.exception("engine loop: error while closing resources")
            finally:
                self.loop.close()

    async def _drain(self) -> None:
        slots = [*self.slots.values(), *self.retiring]
        self.slots.clear()
        self.retiring.clear()
        for slot in slots:
            await _close_slot(slot)
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        await self.loop.shutdown_asyncgens()

    @property
    def alive(self) -> bool:
        return (
            self.pid == os.getpid()
            and self.thread.is_alive()
            and self.loop.is_running()
            and not self.loop.is_closed()
        )

    def stop(self, timeout: float) -> None:
        if self.loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout)


async def _close_slot(slot: _Slot) -> None:
    slot.closing.set()
    if slot.owner is not None and not slot.owner.done():
        done, _ = await asyncio.wait([slot.owner], timeout=10)
        if not done:
            slot.owner.cancel()


class EngineLoop:
    """A daemon thread running one asyncio loop, with sync entry points.

    Args:
        name: the thread's name (shows in thread dumps).
    """

    def __init__(self, name: str = "aiops-engine-loop") -> None:
        self.name = name
        self._lock = threading.Lock()
        self._generation: _Generation | None = None
        self._closed = False
        _instances.add(self)

    # ----------------------------------------------------------------------------- lifecycle
    def _current(self) -> _Generation:
        with self._lock:
            if self._closed:
                raise AiopsError("The aiops engine loop has been shut down")
            generation = self._generation
            if generation is None or not generation.alive:
                if generation is not None and generation.pid == os.getpid():
                    log.warning("engine loop: the loop thread died; starting a new one")
                    generation.stop(timeout=1)
                generation = self._generation = _Generation(self.name)
            return generation

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The running loop (started, or restarted, on demand)."""
        return self._current().loop

    @property
    def running(self) -> bool:
        """Whether the loop thread is up in this process."""
        generation = self._generation
        return generation is not None and generation.alive

    def shutdown(self, timeout: float = 15.0) -> None:
        """Close every resource, stop the loop and join its thread. Later calls fail."""
        with self._lock:
            self._closed = True
            generation, self._generation = self._generation, None
        if generation is not None and generation.pid == os.getpid():
            generation.stop(timeout)

    def restart(self, timeout: float = 15.0) -> None:
        """Stop the loop (closing its resources); the next call starts a fresh one."""
        with self._lock:
            generation, self._generation = self._generation, None
        if generation is not None and generation.pid == os.getpid():
            generation.stop(timeout)

    def _after_fork(self) -> None:
        # The loop thread does not exist in a forked child; its sockets belong to the parent.
        self._lock = threading.Lock()
        self._generation = None

    # ----------------------------------------------------------------------------- sync API
    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the loop and return a thread-safe future."""
        generation = self._current()
        if threading.current_thread() is generation.thread:
            coro.close()
            raise AiopsError(
                "EngineLoop.run() was called from the engine loop itself: await instead"
            )
        return asyncio.run_coroutine_threadsafe(coro, generation.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and wait for its result.

        Args:
            coro: the coroutine.
            timeout: seconds to wait; on expiry the coroutine is cancelled.

        Raises:
            EngineTimeoutError: the coroutine did not finish within ``timeout``.
            Exception: whatever the coroutine raised.
        """
        future = self.submit(coro)
        try:
            done, _ = concurrent.futures.wait([future], timeout=timeout)
            if not done:
                raise EngineTimeoutError(f"The operation did not finish within {timeout:g} s")
            return future.result()
        finally:
            # On timeout, or if this thread is interrupted, stop the work on the loop too.
            future.cancel()

    def iterate(
        self, iterable: AsyncIterator[T], timeout: float | None = None, *, max_buffer: int = 256
    ) -> Iterator[T]:
        """Consume an async iterator on the loop and yield its items to sync code.

        Used for streaming responses. If the sync consumer stops early (a client disconnects and
        Django closes the generator), the async iterator is cancelled on the loop.

        Args:
            iterable: the async iterator (for example ``agent.stream(...)``).
            timeout: seconds for the whole iteration; on expiry it is cancelled and
                :class:`EngineTimeoutError` is raised.
            max_buffer: items buffered ahead of a slow consumer before the producer waits.
        """
        items: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=max_buffer)
        loop = self.loop

        async def pump() -> None:
            try:
                async for item in iterable:
                    await _put(items, ("item", item))
                await _put(items, ("end", None))
            except asyncio.CancelledError:
                raise
            except BaseException as err:
                await _put(items, ("error", err))
            finally:
                aclose = getattr(iterable, "aclose", None)
                if aclose is not None:
                    with contextlib.suppress(Exception):
                        await aclose()

        future = self.submit(pump())
        deadline = None if timeout is None else loop.time() + timeout
        try:
            while True:
                remaining = None if deadline is None else deadline - loop.time()
                if remaining is not None and remaining <= 0:
                    raise EngineTimeoutError(f"The stream did not finish within {timeout:g} s")
                try:
                    kind, value = items.get(
                        timeout=1.0 if remaining is None else min(remaining, 1.0)
                    )
                except queue.Empty:
                    if future.done() and items.empty():
                        # The pump ended without a word: the loop was stopped under it.
                        raise AiopsError("The engine loop stopped while streaming") from None
                    continue
                if kind == "item":
                    yield value
                elif kind == "error":
                    raise value
                else:
                    return
        finally:
            future.cancel()

    # ----------------------------------------------------------------------------- resources
    @contextlib.asynccontextmanager
    async def lease(self, key: str, fingerprint: Any, factory: Factory) -> AsyncIterator[Any]:
        """Use the shared resource ``key`` (async context manager; call on the loop).

        The resource is the value entered from ``factory()`` (an async context manager, or a
        coroutine returning one). It is created on first use and shared by concurrent users.
        When ``fingerprint`` differs from the current one's (the configuration changed), a new
        resource replaces it and the old one closes once its last user is done.
        """
        generation = self._current()
        slot = generation.slots.get(key)
        if slot is None or slot.fingerprint != fingerprint:
            if slot is not None:
                self._retire(generation, key, slot)
            slot = _Slot(fingerprint, generation.loop.create_future())
            generation.slots[key] = slot
            slot.owner = generation.loop.create_task(_own(slot, factory), name=f"aiops:{key}")
        try:
            value = await asyncio.shield(slot.ready)
        except BaseException:
            if generation.slots.get(key) is slot and slot.ready.done():
                del generation.slots[key]  # a failed resource is not cached
            generation.retiring.discard(slot)
            raise
        slot.users += 1
        slot.last_used = generation.loop.time()
        try:
            yield value
        finally:
            slot.users -= 1
            slot.last_used = generation.loop.time()
            await self._close_if_unused(generation, slot)

    async def discard(self, key: str) -> None:
        """Drop the resource ``key`` (closed after its last user); the next lease rebuilds it."""
        generation = self._current()
        slot = generation.slots.get(key)
        if slot is not None:
            self._retire(generation, key, slot)
            await self._close_if_unused(generation, slot)

    async def discard_prefix(self, prefix: str) -> None:
        """:meth:`discard` every resource whose key starts with ``prefix``."""
        generation = self._current()
        for key in [k for k in generation.slots if k.startswith(prefix)]:
            await self.discard(key)

    async def trim(self, prefix: str, keep: int) -> int:
        """Keep at most ``keep`` resources under ``prefix``: close the least recently used.

        Per-user resources (an MCP pool carrying a user's token) would otherwise pile up.
        Returns how many were dropped.
        """
        generation = self._current()
        keys = [k for k in generation.slots if k.startswith(prefix)]
        keys.sort(key=lambda k: generation.slots[k].last_used)
        dropped = keys[: max(0, len(keys) - keep)]
        for key in dropped:
            await self.discard(key)
        return len(dropped)

    @staticmethod
    def _retire(generation: _Generation, key: str, slot: _Slot) -> None:
        del generation.slots[key]
        slot.retired = True
        generation.retiring.add(slot)

    @staticmethod
    async def _close_if_unused(generation: _Generation, slot: _Slot) -> None:
        # A slot still being created is closed by its creator's lease when that ends.
        if slot.retired and slot.users == 0 and slot.ready.done() and slot in generation.retiring:
            generation.retiring.discard(slot)
            await _close_slot(slot)


async def _put(items: queue.Queue[tuple[str, Any]], entry: tuple[str, Any]) -> None:
    # A bounded queue gives back-pressure without blocking the loop: wait in small steps.
    while True:
        try:
            items.put_nowait(entry)
            return
        except queue.Full:
            await asyncio.sleep(0.01)


_instances: weakref.WeakSet[EngineLoop] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for engine in list(_instances):
        engine._after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)

_engine_loop: EngineLoop | None = None
_engine_lock = threading.Lock()


def get_engine_loop() -> EngineLoop:
    """The process-wide engine loop (created on first use, shut down at exit)."""
    global _engine_loop
    with _engine_lock:
        if _engine_loop is None:
            _engine_loop = EngineLoop()
            atexit.register(_engine_loop.shutdown)
        return _engine_loop
