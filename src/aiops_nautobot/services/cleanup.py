"""Pruning idle conversations from the checkpoint store and the ``Conversation`` table."""

from __future__ import annotations

import contextvars
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta

from ..settings import get_settings
from .agent_factory import CLEANUP_GRACE, open_checkpoint_store, store_ttl
from .engine_loop import EngineLoop, get_engine_loop

__all__ = ["CleanupReport", "prune_conversations", "store_sync_disabled"]

store_sync_disabled: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "aiops_store_sync_disabled", default=False
)
"""Set while the cleanup deletes rows whose threads the store already pruned."""


@dataclass(frozen=True, slots=True)
class CleanupReport:
    """What one cleanup round removed."""

    idle_after: timedelta
    threads_pruned: int
    conversations_deleted: int


def prune_conversations(
    *, grace: timedelta = CLEANUP_GRACE, engine: EngineLoop | None = None
) -> CleanupReport:
    """Prune threads idle longer than the session TTL plus ``grace`` (sync).

    The store's ``prune`` removes the messages; the matching ``Conversation`` rows (by
    ``last_activity``) are deleted too.
    """
    from django.utils import timezone

    from ..models import Conversation

    engine = engine or get_engine_loop()
    settings = get_settings()
    idle_after = store_ttl() + grace

    async def prune() -> int:
        async with AsyncExitStack() as stack:
            store = await open_checkpoint_store(engine, settings.checkpoint_url, store_ttl(), stack)
            return await store.prune(idle_after)

    pruned = engine.run(prune(), timeout=float(settings.request_timeout_seconds))
    token = store_sync_disabled.set(True)
    try:
        old = Conversation.objects.filter(last_activity__lt=timezone.now() - idle_after)
        deleted = old.delete()[1].get(Conversation._meta.label, 0)
    finally:
        store_sync_disabled.reset(token)
    return CleanupReport(idle_after, pruned, deleted)
