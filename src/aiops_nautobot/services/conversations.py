"""Keeping the checkpoint store in step with ``Conversation`` rows.

Deleting a conversation (REST API, UI, bulk delete, or a deleted user's cascade) deletes its
thread from the checkpoint store once the transaction commits, so no message outlives its record.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["connect_signals", "delete_thread", "load_thread_messages"]

log = logging.getLogger("aiops_nautobot.conversations")


def delete_thread(thread_id: str) -> bool:
    """Delete one thread from the checkpoint store (sync); ``False`` if it was not there."""
    from .stores import with_store

    return with_store(lambda store: store.delete(thread_id))


def load_thread_messages(thread_id: str, *, owner: Any) -> list[str]:
    """A thread's messages as versioned JSON records (sync); empty when the store has none.

    Raises:
        ThreadAccessError: the stored thread belongs to someone else.
    """
    from aiops_core.messages import dump_message

    from .stores import with_store

    async def load(store: Any) -> list[str]:
        thread = await store.load(thread_id, owner=str(owner))
        return [dump_message(m) for m in thread.messages] if thread else []

    return with_store(load)


def _on_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    from django.db import transaction

    from .cleanup import store_sync_disabled

    if store_sync_disabled.get():
        return
    thread_id = instance.thread_id

    def after_commit() -> None:
        try:
            delete_thread(thread_id)
        except Exception:
            # The store's TTL and the cleanup job remove it later; the row is gone either way.
            log.exception("Could not delete thread %r from the checkpoint store", thread_id)

    transaction.on_commit(after_commit)


def connect_signals() -> None:
    """Connect the receivers (called from the app's ``ready()``)."""
    from django.db.models.signals import post_delete

    from ..models import Conversation

    post_delete.connect(
        _on_delete, sender=Conversation, dispatch_uid="aiops_nautobot.thread_delete"
    )
