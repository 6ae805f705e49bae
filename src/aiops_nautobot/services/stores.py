"""The checkpoint store of the conversations: leased on the engine loop, used from sync code."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack, aclosing
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from ..settings import get_settings
from .engine_loop import EngineLoop, get_engine_loop

if TYPE_CHECKING:
    from aiops_core.checkpoint import CheckpointStore

__all__ = ["CLEANUP_GRACE", "open_checkpoint_store", "store_ttl", "with_store"]

T = TypeVar("T")

CLEANUP_GRACE = timedelta(minutes=5)
"""Added to the session TTL before the cleanup job prunes a thread."""


def store_ttl() -> timedelta:
    """How long an idle conversation is kept (``chat_session_ttl_minutes``)."""
    return timedelta(minutes=get_settings().chat_session_ttl_minutes)


async def open_checkpoint_store(
    engine: EngineLoop, url: str, ttl: timedelta | None, stack: AsyncExitStack
) -> CheckpointStore:
    """Lease the process's checkpoint store for ``url`` (call on the engine loop)."""
    from aiops_core.checkpoint import open_store

    def factory() -> Any:
        # A ``?ttl=`` in the URL is the operator's explicit choice and wins over the session TTL.
        explicit = "ttl=" in url.partition("?")[2]
        store = open_store(url) if ttl is None or explicit else open_store(url, ttl=ttl)
        return aclosing(store)

    return await stack.enter_async_context(engine.lease("checkpoint-store", (url, ttl), factory))


def with_store(
    operation: Callable[[CheckpointStore], Awaitable[T]], engine: EngineLoop | None = None
) -> T:
    """Run ``operation(store)`` on the engine loop with the configured store (sync).

    Bounded by ``request_timeout_seconds``.
    """
    engine = engine or get_engine_loop()
    settings = get_settings()

    async def run() -> T:
        async with AsyncExitStack() as stack:
            store = await open_checkpoint_store(engine, settings.checkpoint_url, store_ttl(), stack)
            return await operation(store)

    return engine.run(run(), timeout=float(settings.request_timeout_seconds))
