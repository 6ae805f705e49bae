"""``MemoryStore``: threads in process memory (tests, scripts, the library default)."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from ..errors import ConflictError
from ..messages import Message
from .base import Thread, ThreadInfo, ThreadPage, check_owner, merge_metadata, utcnow

__all__ = ["MemoryStore"]


class MemoryStore:
    """A :class:`~aiops_core.checkpoint.base.CheckpointStore` in a dict.

    Messages are immutable objects, so loads share them without copying. Safe across threads.
    """

    def __init__(self) -> None:
        self._threads: dict[str, tuple[ThreadInfo, list[Message]]] = {}
        self._lock = threading.Lock()

    async def __aenter__(self) -> MemoryStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"MemoryStore(threads={len(self._threads)})"

    async def load(self, thread_id: str, *, owner: str | None = None) -> Thread | None:
        with self._lock:
            entry = self._threads.get(thread_id)
            if entry is None:
                return None
            info, messages = entry
            check_owner(info, owner)
            snapshot = ThreadInfo(
                info.thread_id,
                info.owner,
                info.title,
                info.model,
                info.created_at,
                info.updated_at,
                info.message_count,
                dict(info.metadata),
            )
            return Thread(snapshot, list(messages))

    async def append(
        self,
        thread_id: str,
        messages: Sequence[Message],
        *,
        owner: str | None = None,
        title: str | None = None,
        model: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        expected_count: int | None = None,
    ) -> ThreadInfo:
        with self._lock:
            entry = self._threads.get(thread_id)
            if entry is None:
                entry = (ThreadInfo(thread_id, owner=owner), [])
                self._threads[thread_id] = entry
            info, stored = entry
            check_owner(info, owner)
            if expected_count is not None and expected_count != len(stored):
                raise ConflictError(
                    f"Thread {thread_id!r} changed concurrently: expected {expected_count} "
                    f"messages, found {len(stored)}; reload and retry"
                )
            stored.extend(messages)
            info.message_count = len(stored)
            info.updated_at = utcnow()
            info.title = title or info.title
            info.model = model or info.model
            if metadata:
                info.metadata = merge_metadata(info.metadata, metadata)
            return info

    async def list_threads(
        self, *, owner: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> ThreadPage:
        with self._lock:
            infos = [i for i, _ in self._threads.values() if owner is None or i.owner == owner]
        infos.sort(key=lambda i: (i.updated_at, i.thread_id), reverse=True)
        start = int(cursor) if cursor else 0
        page = infos[start : start + limit]
        more = start + limit < len(infos)
        return ThreadPage(page, str(start + limit) if more else None)

    async def delete(self, thread_id: str, *, owner: str | None = None) -> bool:
        with self._lock:
            entry = self._threads.get(thread_id)
            if entry is None:
                return False
            check_owner(entry[0], owner)
            del self._threads[thread_id]
            return True

    async def prune(self, older_than: timedelta) -> int:
        cutoff = utcnow() - older_than
        with self._lock:
            old = [t for t, (i, _) in self._threads.items() if i.updated_at < cutoff]
            for thread_id in old:
                del self._threads[thread_id]
        return len(old)

    async def count(self, *, owner: str | None = None) -> int:
        with self._lock:
            if owner is None:
                return len(self._threads)
            return sum(1 for i, _ in self._threads.values() if i.owner == owner)
