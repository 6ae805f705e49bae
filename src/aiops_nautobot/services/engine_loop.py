"""One long-lived event loop per process, bridging Django's sync world to the async engine.

Django views and Nautobot jobs are synchronous; the engine (provider clients, MCP sessions, the
checkpoint store's connection pool) is async and keeps connections open between runs. Creating a
loop per request (``asyncio.run``) would throw those connections away every time, and an MCP stdio
session would be respawned per chat turn. Instead a daemon thread runs one anyio event loop for
the whole process with an :class:`anyio.from_thread.BlockingPortal` on it, as starlette's test
client does: sync code hands coroutines to the portal with :meth:`EngineLoop.run`, and
:meth:`EngineLoop.iterate` streams an async iterator's items back through an anyio memory object
stream (bounded, so a slow consumer holds the producer back; nothing polls).

Resources that belong to the loop (an MCP pool, a store) are leased from
:class:`~aiops_nautobot.services.leases.Leases` (:meth:`EngineLoop.lease`): created once, shared
by concurrent runs, replaced when their configuration fingerprint changes and closed when the loop
shuts down.

The loop restarts if it died (its resources are then rebuilt), survives a coroutine that raises,
starts afresh in a forked child (Celery prefork workers, gunicorn ``--preload``), and shuts down
cleanly at interpreter exit. The thread is a daemon of our own rather than
``anyio.from_thread.start_blocking_portal``'s executor thread, which the interpreter would join at
exit before ``atexit`` handlers could stop it.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import logging
import os
import threading
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from typing import Any, TypeVar

import anyio
import anyio.lowlevel
from anyio.from_thread import BlockingPortal
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from aiops_core.errors import AiopsError

from .leases import Factory, Leases

__all__ = ["EngineLoop", "EngineTimeoutError", "get_engine_loop"]

log = logging.getLogger("aiops_nautobot.engine_loop")

T = TypeVar("T")

CLOSE_ITERATOR_TIMEOUT = 5.0
"""Seconds an abandoned async iterator gets to close (it may release leases)."""
NOT_RUNNING = "The aiops engine loop is not running; try again"
MAX_BATCH = 1024
"""Most stream items handed to the sync consumer at once."""
BATCH_PATIENCE = 4
"""Loop turns a batch waits for a running producer's next item (a few microseconds each)."""


class EngineTimeoutError(AiopsError, TimeoutError):
    """A coroutine submitted to the engine loop did not finish in time (it was cancelled)."""


class _Generation:
    """One incarnation of the loop thread and what lives on it."""

    def __init__(self, name: str) -> None:
        self.pid = os.getpid()
        self.portal: BlockingPortal | None = None
        self.leases: Leases | None = None
        self.stopping = False
        self._started = threading.Event()
        self._error: BaseException | None = None
        self.thread = threading.Thread(target=self._main, name=name, daemon=True)
        self.thread.start()
        self._started.wait()
        if self.portal is None:
            raise AiopsError("The aiops engine loop could not start") from self._error

    def _main(self) -> None:
        try:
            anyio.run(self._serve, backend="asyncio")
        except BaseException as err:
            if self._started.is_set():
                log.error("engine loop: the loop stopped with an error: %r", err)
            self._error = err
        finally:
            self._started.set()

    async def _serve(self) -> None:
        async with anyio.create_task_group() as owners:
            leases = Leases(owners)
            try:
                async with BlockingPortal() as portal:
                    self.portal, self.leases = portal, leases
                    self._started.set()
                    await portal.sleep_until_stopped()
            finally:
                # Whether stopped on purpose or by accident, release what lives here.
                with anyio.CancelScope(shield=True):
                    await leases.close_all()
                owners.cancel_scope.cancel()

    @property
    def alive(self) -> bool:
        return self.pid == os.getpid() and self.thread.is_alive() and not self.stopping

    def stop(self, timeout: float) -> None:
        self.stopping = True
        if self.portal is not None and self.thread.is_alive():
            # Cancels the work in flight; the thread then closes the leased resources.
            with contextlib.suppress(RuntimeError, concurrent.futures.CancelledError):
                self.portal.call(self.portal.stop, True)
        self.thread.join(timeout)


class EngineLoop:
    """A daemon thread running one event loop behind a blocking portal, with sync entry points.

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
                    if not generation.stopping:
                        log.warning("engine loop: the loop thread died; starting a new one")
                    generation.stop(timeout=1)
                generation = self._generation = _Generation(self.name)
            return generation

    @property
    def running(self) -> bool:
        """Whether the loop thread is up in this process."""
        generation = self._generation
        return generation is not None and generation.alive

    def shutdown(self, timeout: float = 15.0) -> None:
        """Close every resource, stop the loop and join its thread. Later calls fail."""
        with self._lock:
            self._closed = True
        self.restart(timeout)

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
        """Schedule ``coro`` on the loop and return a thread-safe future.

        Cancelling the future cancels the coroutine.
        """
        generation = self._current()
        if threading.current_thread() is generation.thread:
            coro.close()
            raise AiopsError(
                "EngineLoop.run() was called from the engine loop itself: await instead"
            )
        return _start(generation, _await, coro, stopped=NOT_RUNNING, on_refusal=coro.close)

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
            return _result(future, "The engine loop stopped before the operation finished")
        finally:
            # On timeout, or if this thread is interrupted, stop the work on the loop too.
            future.cancel()

    def iterate(
        self, iterable: AsyncIterator[T], timeout: float | None = None, *, max_buffer: int = 256
    ) -> Iterator[T]:
        """Consume an async iterator on the loop and yield its items to sync code.

        Used for streaming responses. If the sync consumer stops early (a client disconnects and
        Django closes the generator), the async iterator is cancelled and closed on the loop.

        Args:
            iterable: the async iterator (for example ``agent.stream(...)``).
            timeout: seconds for the whole iteration; on expiry it is cancelled and
                :class:`EngineTimeoutError` is raised.
            max_buffer: items buffered ahead of a slow consumer before the producer waits.
        """
        generation = self._current()
        send, receive = anyio.create_memory_object_stream[tuple[str, Any]](max_buffer)
        try:
            pump = _start(
                generation, _pump, iterable, send, stopped=NOT_RUNNING, on_refusal=send.close
            )
        except BaseException:
            receive.close()
            raise
        deadline = None if timeout is None else time.monotonic() + timeout
        stopped = "The engine loop stopped while streaming"
        try:
            while True:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise EngineTimeoutError(f"The stream did not finish within {timeout:g} s")
                try:
                    batch = _result(
                        _start(generation, _receive_batch, receive, remaining, stopped=stopped),
                        stopped,
                    )
                except TimeoutError:  # only the receive runs there: the deadline passed
                    raise EngineTimeoutError(
                        f"The stream did not finish within {timeout:g} s"
                    ) from None
                for kind, value in batch:
                    if kind == "item":
                        yield value
                    elif kind == "error":
                        raise value
                    elif kind == "end":
                        return
                    else:  # the producer ended without a word: the loop was stopped under it
                        raise AiopsError(stopped)
        finally:
            pump.cancel()
            _close_receiver(generation, receive)

    # ----------------------------------------------------------------------------- resources
    def lease(
        self, key: str, fingerprint: Any, factory: Factory
    ) -> contextlib.AbstractAsyncContextManager[Any]:
        """Use the shared resource ``key`` (async context manager; call on the loop).

        The resource is the value entered from ``factory()`` (an async context manager, or a
        coroutine returning one). It is created on first use and shared by concurrent users.
        When ``fingerprint`` differs from the current one's (the configuration changed), a new
        resource replaces it and the old one closes once its last user is done.
        """
        return self._leases().lease(key, fingerprint, factory)

    async def discard(self, key: str) -> None:
        """Drop the resource ``key`` (closed after its last user); the next lease rebuilds it."""
        await self._leases().discard(key)

    async def discard_prefix(self, prefix: str) -> None:
        """:meth:`discard` every resource whose key starts with ``prefix``."""
        await self._leases().discard_prefix(prefix)

    async def trim(self, prefix: str, keep: int) -> int:
        """Keep at most ``keep`` resources under ``prefix``: close the least recently used.

        Per-user resources (an MCP pool carrying a user's token) would otherwise pile up.
        Returns how many were dropped.
        """
        return await self._leases().trim(prefix, keep)

    def _leases(self) -> Leases:
        generation = self._current()
        if threading.current_thread() is not generation.thread or generation.leases is None:
            raise AiopsError(
                "Leases are used on the engine loop: call this from a coroutine run there"
            )
        return generation.leases


# ------------------------------------------------------------------------------- loop side
async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable


async def _pump(
    iterable: AsyncIterator[Any], send: MemoryObjectSendStream[tuple[str, Any]]
) -> None:
    """Move the iterator's items into ``send``, then an ``end`` or ``error`` entry."""
    async with send:
        try:
            async for item in iterable:
                await send.send(("item", item))
        except anyio.BrokenResourceError:
            return  # the consumer went away
        except Exception as err:
            with contextlib.suppress(anyio.BrokenResourceError):
                await send.send(("error", err))
        else:
            with contextlib.suppress(anyio.BrokenResourceError):
                await send.send(("end", None))
        finally:
            aclose = getattr(iterable, "aclose", None)
            if aclose is not None:
                # Closing may release leases (await): allowed even when the pump was cancelled.
                with (
                    anyio.move_on_after(CLOSE_ITERATOR_TIMEOUT, shield=True),
                    contextlib.suppress(Exception),
                ):
                    await aclose()


async def _receive_batch(
    receive: MemoryObjectReceiveStream[tuple[str, Any]], limit: float | None
) -> list[tuple[str, Any]]:
    """Wait for the next entry, then take what a running producer adds (one hand-off per batch).

    After the first entry the producer gets the loop back between takes, so a fast producer
    fills the batch (up to the buffer size), while one waiting on I/O costs a few loop turns.

    Raises:
        TimeoutError: nothing arrived within ``limit`` seconds.
    """
    with anyio.fail_after(limit):
        try:
            batch = [await receive.receive()]
        except anyio.EndOfStream:
            return [("closed", None)]
    most = min(receive.statistics().max_buffer_size, MAX_BATCH)
    idle = 0
    while len(batch) < most and idle < BATCH_PATIENCE:
        try:
            batch.append(receive.receive_nowait())
            idle = 0
        except anyio.EndOfStream:
            break
        except anyio.WouldBlock:
            idle += 1
            await anyio.lowlevel.checkpoint()  # let a running producer add the next entry
    return batch


# ------------------------------------------------------------------------------- sync side
def _start(
    generation: _Generation,
    func: Callable[..., Awaitable[T]],
    *args: Any,
    stopped: str,
    on_refusal: Callable[[], object] | None = None,
) -> concurrent.futures.Future[T]:
    """Start ``func(*args)`` on the loop; :class:`AiopsError` ``stopped`` if it is not running."""
    try:
        if generation.portal is None:
            raise RuntimeError("the portal never started")
        return generation.portal.start_task_soon(func, *args)
    except RuntimeError as err:  # the portal stopped after the liveness check
        if on_refusal is not None:
            on_refusal()
        raise AiopsError(stopped) from err


def _result(future: concurrent.futures.Future[T], stopped: str) -> T:
    """The future's result; :class:`AiopsError` ``stopped`` if the loop cancelled it."""
    try:
        return future.result()
    except concurrent.futures.CancelledError:
        raise AiopsError(stopped) from None


def _close_receiver(generation: _Generation, receive: MemoryObjectReceiveStream[Any]) -> None:
    try:
        _result(_start(generation, receive.aclose, stopped=NOT_RUNNING), NOT_RUNNING)
    except AiopsError:
        receive.close()  # no loop any more, so no waiter to wake


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
