"""Keeping the checkpoint store in step with ``Conversation`` rows.

Deleting a conversation (REST API, UI, bulk delete, or a deleted user's cascade) deletes its
thread from the checkpoint store once the transaction commits, so no message outlives its record;
only a thread of the record's owner is deleted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from aiops_core.errors import ThreadAccessError

__all__ = ["StoredThread", "connect_signals", "delete_thread", "load_thread_messages"]

log = logging.getLogger("aiops_nautobot.conversations")


def delete_thread(thread_id: str, *, owner: Any) -> bool:
    """Delete one of ``owner``'s threads from the checkpoint store (sync).

    Returns:
        ``False`` if the store did not hold it.

    Raises:
        ThreadAccessError: the stored thread belongs to someone else (nothing is deleted).
    """
    from .stores import with_store

    return with_store(lambda store: store.delete(thread_id, owner=str(owner)))


@dataclass(frozen=True, slots=True)
class StoredThread:
    """What the store holds of a thread: its title (from the first message) and its messages."""

    title: str | None
    messages: list[str] = field(default_factory=list)
    """Versioned JSON records, one per message."""


def load_thread_messages(thread_id: str, *, owner: Any) -> StoredThread:
    """A thread's title and messages (sync); empty when the store has none.

    Raises:
        ThreadAccessError: the stored thread belongs to someone else.
    """
    from aiops_core.messages import dump_message

    from .stores import with_store

    async def load(store: Any) -> StoredThread:
        thread = await store.load(thread_id, owner=str(owner))
        if thread is None:
            return StoredThread(None)
        return StoredThread(thread.info.title, [dump_message(m) for m in thread.messages])

    return with_store(load)


def _on_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    from django.db import transaction

    from .cleanup import store_sync_disabled

    if store_sync_disabled.get():
        return
    thread_id, owner = instance.thread_id, instance.owner_id

    def after_commit() -> None:
        try:
            delete_thread(thread_id, owner=owner)
        except ThreadAccessError:
            log.warning("Thread %r belongs to another user: not deleted with its record", thread_id)
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
