"""Pruning idle conversations from the checkpoint store and the ``Conversation`` table."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from datetime import timedelta

from .engine_loop import EngineLoop
from .stores import CLEANUP_GRACE, store_ttl, with_store

__all__ = ["CleanupReport", "prune_conversations", "prune_usage", "store_sync_disabled"]

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
    usage_records_deleted: int = 0


def prune_conversations(
    *, grace: timedelta = CLEANUP_GRACE, engine: EngineLoop | None = None
) -> CleanupReport:
    """Prune threads idle longer than the session TTL plus ``grace`` (sync).

    The store's ``prune`` removes the messages; the matching ``Conversation`` rows (by
    ``last_activity``) are deleted too.
    """
    from django.utils import timezone

    from ..models import Conversation

    idle_after = store_ttl() + grace
    pruned = with_store(lambda store: store.prune(idle_after), engine)
    token = store_sync_disabled.set(True)
    try:
        old = Conversation.objects.filter(last_activity__lt=timezone.now() - idle_after)
        deleted = old.delete()[1].get(Conversation._meta.label, 0)
    finally:
        store_sync_disabled.reset(token)
    return CleanupReport(idle_after, pruned, deleted, prune_usage())


def prune_usage() -> int:
    """Delete usage, tool-call and MCP health records older than ``usage_retention_days``."""
    from django.utils import timezone

    from ..models import MCPHealthRecord, ToolUsageRecord, UsageRecord
    from ..settings import get_settings

    before = timezone.now() - timedelta(days=get_settings().usage_retention_days)
    deleted = UsageRecord.objects.filter(started_at__lt=before).delete()[0]
    deleted += ToolUsageRecord.objects.filter(started_at__lt=before).delete()[0]
    deleted += MCPHealthRecord.objects.filter(checked_at__lt=before).delete()[0]
    return deleted
