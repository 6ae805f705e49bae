"""SDK clients held per running event loop.

An async HTTP client is bound to the event loop that opened its connections. ``Agent.run_sync``
starts a new loop on every call, so a chat model keeps one client per running loop, created on
first use. Each client is guarded by an async generator registered with its loop: when the loop
shuts down its async generators (``asyncio.run``, ``anyio.run``), the guard closes the client
while the loop is still alive, so no connection outlives its loop.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, Generic, TypeVar

__all__ = ["LoopClients"]

C = TypeVar("C")
_NO_LOOP = object()


def _loop_key() -> Any:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # another anyio backend (trio): one client for the process
        return _NO_LOOP


class LoopClients(Generic[C]):
    """Lazily created clients, one per running event loop.

    Args:
        factory: builds a new client (called inside the loop that will use it).
        close: closes a client.
    """

    __slots__ = ("_close", "_entries", "_factory", "_shared")

    def __init__(self, factory: Callable[[], C], close: Callable[[C], Awaitable[None]]) -> None:
        self._factory = factory
        self._close = close
        self._entries: weakref.WeakKeyDictionary[Any, tuple[C, AsyncGenerator[None, None]]] = (
            weakref.WeakKeyDictionary()
        )
        self._shared: tuple[C, AsyncGenerator[None, None]] | None = None

    async def get(self) -> C:
        """The current loop's client, created on first use."""
        key = _loop_key()
        entry = self._shared if key is _NO_LOOP else self._entries.get(key)
        if entry is None:
            client = self._factory()
            guard = self._guard(client)
            await guard.__anext__()  # registers the guard with this loop's shutdown
            entry = (client, guard)
            if key is _NO_LOOP:
                self._shared = entry
            else:
                self._entries[key] = entry
        return entry[0]

    async def _guard(self, client: C) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            key = _loop_key()
            if key is _NO_LOOP:
                if self._shared is not None and self._shared[0] is client:
                    self._shared = None
            else:
                entry = self._entries.get(key)
                if entry is not None and entry[0] is client:
                    del self._entries[key]
            await self._close(client)

    async def aclose(self) -> None:
        """Close the current loop's client (clients of other loops close with their loop)."""
        key = _loop_key()
        entry = self._shared if key is _NO_LOOP else self._entries.get(key)
        if entry is not None:
            await entry[1].aclose()

    def __len__(self) -> int:
        return len(self._entries) + (self._shared is not None)
