"""Shared, long-lived resources on the engine loop: one per key, replaced when their config changes.

A resource (a chat model client, an MCP pool, a checkpoint store) is an async context manager.
:meth:`Leases.lease` enters it once and hands the value to every concurrent user; when the
caller's configuration *fingerprint* differs from the current resource's, a new one replaces it
and the old one is closed after its last user is done.

Each resource is entered and exited by one *owner* task of its own, because anyio task groups and
cancel scopes (an MCP pool holds one) must be exited by the task that entered them, while its
users come and go on other tasks.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio.abc import TaskGroup

__all__ = ["CLOSE_TIMEOUT", "Factory", "Leases", "fingerprint"]

log = logging.getLogger("aiops_nautobot.engine_loop")

Factory = Callable[
    [], Awaitable[AbstractAsyncContextManager[Any]] | AbstractAsyncContextManager[Any]
]
"""Makes the resource: an async context manager, or a coroutine returning one."""

CLOSE_TIMEOUT = 10.0
"""Seconds a resource may take to close before its owner task is cancelled."""


def fingerprint(value: Any) -> str:
    """A digest of a JSON-able configuration, to tell when a leased resource is out of date."""
    data = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()


@dataclass(eq=False)
class _Slot:
    """One resource: its fingerprint, its owner task's state and its users."""

    fingerprint: Any
    ready: anyio.Event = field(default_factory=anyio.Event)
    closing: anyio.Event = field(default_factory=anyio.Event)
    done: anyio.Event = field(default_factory=anyio.Event)
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    value: Any = None
    error: BaseException | None = None
    users: int = 0
    retired: bool = False
    last_used: float = 0.0


async def _own(slot: _Slot, factory: Factory) -> None:
    """Enter the resource, hand it to the users, and exit it when the slot closes."""
    try:
        with slot.scope:
            async with AsyncExitStack() as stack:
                manager = factory()
                if not isinstance(manager, AbstractAsyncContextManager):
                    manager = await manager
                slot.value = await stack.enter_async_context(manager)
                slot.ready.set()
                await slot.closing.wait()
    except Exception as err:
        if not slot.ready.is_set():
            slot.error = err
        else:
            log.exception("engine loop: error while closing a resource")
    finally:
        if not slot.ready.is_set() and slot.error is None:
            slot.error = RuntimeError("The resource was closed before it was ready")
        slot.ready.set()
        slot.done.set()


async def _close(slot: _Slot) -> None:
    """Ask the owner to exit the resource; cancel it if it takes longer than CLOSE_TIMEOUT."""
    slot.closing.set()
    with anyio.move_on_after(CLOSE_TIMEOUT, shield=True):
        await slot.done.wait()
    if not slot.done.is_set():
        log.warning("engine loop: a resource did not close within %ss; cancelled", CLOSE_TIMEOUT)
        slot.scope.cancel()
        with anyio.move_on_after(CLOSE_TIMEOUT, shield=True):
            await slot.done.wait()


class Leases:
    """The shared resources of one event loop (use only on that loop).

    Args:
        owners: the task group the resources' owner tasks run in; it must outlive them
            (:meth:`close_all` ends them).
    """

    def __init__(self, owners: TaskGroup) -> None:
        self._owners = owners
        self._slots: dict[str, _Slot] = {}
        self._retiring: set[_Slot] = set()

    @asynccontextmanager
    async def lease(self, key: str, fingerprint: Any, factory: Factory) -> AsyncIterator[Any]:
        """Use the shared resource ``key``, built by ``factory`` for ``fingerprint``.

        Raises:
            Exception: whatever entering the resource raised (a failed resource is not kept).
        """
        slot = self._slots.get(key)
        if slot is None or slot.fingerprint != fingerprint:
            if slot is not None:
                self._retire(key, slot)
                # An idle predecessor closes now, in the background; a used one after its users.
                self._owners.start_soon(self._close_if_unused, slot)
            slot = _Slot(fingerprint)
            self._slots[key] = slot
            self._owners.start_soon(_own, slot, factory, name=f"aiops:{key}")
        await slot.ready.wait()
        if slot.error is not None:
            if self._slots.get(key) is slot:
                del self._slots[key]  # a failed resource is not cached
            self._retiring.discard(slot)
            raise slot.error
        slot.users += 1
        slot.last_used = anyio.current_time()
        try:
            yield slot.value
        finally:
            slot.users -= 1
            slot.last_used = anyio.current_time()
            await self._close_if_unused(slot)

    async def discard(self, key: str) -> None:
        """Drop the resource ``key`` (closed after its last user); the next lease rebuilds it."""
        slot = self._slots.get(key)
        if slot is not None:
            self._retire(key, slot)
            await self._close_if_unused(slot)

    async def discard_prefix(self, prefix: str) -> None:
        """:meth:`discard` every resource whose key starts with ``prefix``."""
        for key in [k for k in self._slots if k.startswith(prefix)]:
            await self.discard(key)

    async def trim(self, prefix: str, keep: int) -> int:
        """Keep at most ``keep`` resources under ``prefix``, dropping the least recently used.

        Returns:
            How many were dropped.
        """
        keys = sorted(
            (k for k in self._slots if k.startswith(prefix)),
            key=lambda k: self._slots[k].last_used,
        )
        dropped = keys[: max(0, len(keys) - keep)]
        for key in dropped:
            await self.discard(key)
        return len(dropped)

    async def close_all(self) -> None:
        """Close every resource, in use or not, concurrently (the loop is shutting down)."""
        slots = [*self._slots.values(), *self._retiring]
        self._slots.clear()
        self._retiring.clear()
        async with anyio.create_task_group() as group:
            for slot in slots:
                group.start_soon(_close, slot)

    def _retire(self, key: str, slot: _Slot) -> None:
        del self._slots[key]
        slot.retired = True
        self._retiring.add(slot)

    async def _close_if_unused(self, slot: _Slot) -> None:
        # A slot still being created is closed by its creator's lease when that ends.
        if slot.retired and slot.users == 0 and slot.ready.is_set() and slot in self._retiring:
            self._retiring.discard(slot)
            await _close(slot)
