"""``MemoryStore``: threads in process memory (tests, scripts, the library default)."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ..errors import ConflictError
from ..messages import Message
from .base import (
    Clock,
    Thread,
    ThreadInfo,
    ThreadPage,
    check_expected_metadata,
    check_last,
    check_owner,
    check_thread_id,
    decode_cursor,
    encode_cursor,
    first_loaded,
    from_micros,
    merge_metadata,
    now_micros,
    ttl_micros,
)
from .records import decode_messages, decode_metadata, encode_messages, encode_metadata

__all__ = ["MemoryStore"]


@dataclass(slots=True)
class _Entry:
    owner: str | None
    created: int
    updated: int
    title: str | None = None
    model: str | None = None
    metadata: str = "{}"  # JSON, so callers never share mutable values with the store
    records: list[bytes] = field(default_factory=list)

    def info(self, thread_id: str) -> ThreadInfo:
        return ThreadInfo(
            thread_id=thread_id,
            owner=self.owner,
            title=self.title,
            model=self.model,
            created_at=from_micros(self.created),
            updated_at=from_micros(self.updated),
            message_count=len(self.records),
            metadata=decode_metadata(thread_id, self.metadata),
        )


class MemoryStore:
    """A :class:`~aiops_core.checkpoint.base.CheckpointStore` in a dict.

    Messages are kept as their serialised JSON records (as the other stores keep them): an idle
    thread costs a few hundred bytes per message, and a load hands out fresh objects that share
    nothing with the store. Safe across threads and tasks.

    Args:
        ttl: forget threads idle longer than this (a ``timedelta`` or seconds); ``None`` keeps
            them until :meth:`delete` or :meth:`prune`.
        clock: the time source (microseconds since the epoch); tests pass a fake one. The
            ``clock`` attribute may be replaced while the store is idle.
    """

    def __init__(self, *, ttl: timedelta | float | None = None, clock: Clock = now_micros) -> None:
        self.clock = clock
        self._ttl = ttl_micros(ttl)
        self._threads: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    async def __aenter__(self) -> MemoryStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Nothing to release; present for the protocol."""
        return None

    def __repr__(self) -> str:
        return f"MemoryStore(threads={len(self._threads)})"

    def _live(self, thread_id: str, now: int) -> _Entry | None:
        """The entry, dropping it when its TTL has run out (the lock is held)."""
        entry = self._threads.get(thread_id)
        if entry is not None and self._ttl is not None and entry.updated < now - self._ttl:
            del self._threads[thread_id]
            return None
        return entry

    def _expire(self, now: int) -> None:
        if self._ttl is not None:
            self._drop_older(now - self._ttl)

    def _drop_older(self, cutoff: int) -> int:
        old = [t for t, e in self._threads.items() if e.updated < cutoff]
        for thread_id in old:
            del self._threads[thread_id]
        return len(old)

    async def load(
        self,
        thread_id: str,
        *,
        owner: str | None = None,
        last: int | None = None,
        since_summary: bool = False,
    ) -> Thread | None:
        """The thread (its last ``last`` messages, or those after its summary), or ``None`` if
        it does not exist (or expired)."""
        check_last(last)
        with self._lock:
            entry = self._live(thread_id, self.clock())
            if entry is None:
                return None
            info = entry.info(thread_id)
            check_owner(info, owner)
            first = first_loaded(len(entry.records), info.metadata, last, since_summary)
            records = entry.records[first:]
        return Thread(info, decode_messages(thread_id, records))

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
        expected_metadata: Mapping[str, Any] | None = None,
    ) -> ThreadInfo:
        """Append one turn's messages, creating the thread when it is new."""
        check_thread_id(thread_id)
        records = [r.encode() for r in encode_messages(messages)]
        if metadata:
            encode_metadata(metadata)  # refuse what cannot be serialised before changing anything
        with self._lock:
            now = self.clock()
            entry = self._live(thread_id, now)
            if entry is not None:
                check_owner(entry.info(thread_id), owner)
            found = 0 if entry is None else len(entry.records)
            if expected_count is not None and expected_count != found:
                raise ConflictError(
                    f"Thread {thread_id!r} changed concurrently: expected {expected_count} "
                    f"messages, found {found}; reload and retry"
                )
            if expected_metadata:
                current = {} if entry is None else decode_metadata(thread_id, entry.metadata)
                check_expected_metadata(thread_id, current, expected_metadata)
            if entry is None:
                entry = _Entry(owner=owner, created=now, updated=now)
                self._threads[thread_id] = entry
            entry.records.extend(records)
            # Keep `updated` strictly increasing per thread so the newest-first order is exact.
            entry.updated = max(now, entry.updated + 1) if found else now
            entry.title = title or entry.title
            entry.model = model or entry.model
            if metadata:
                merged = merge_metadata(decode_metadata(thread_id, entry.metadata), metadata)
                entry.metadata = encode_metadata(merged)
            return entry.info(thread_id)

    async def list_threads(
        self, *, owner: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> ThreadPage:
        """Threads newest first (by last update), optionally one owner's only."""
        after = decode_cursor(cursor) if cursor else None
        with self._lock:
            self._expire(self.clock())
            keys = [
                (e.updated, t)
                for t, e in self._threads.items()
                if owner is None or e.owner == owner
            ]
            keys.sort(reverse=True)
            if after is not None:
                keys = [k for k in keys if k < after]
            page = keys[: max(limit, 0)]
            infos = [self._threads[t].info(t) for _, t in page]
        more = len(keys) > len(page) and bool(page)
        return ThreadPage(infos, encode_cursor(*page[-1]) if more else None)

    async def delete(self, thread_id: str, *, owner: str | None = None) -> bool:
        """Delete a thread; ``False`` if it did not exist."""
        with self._lock:
            entry = self._live(thread_id, self.clock())
            if entry is None:
                return False
            check_owner(entry.info(thread_id), owner)
            del self._threads[thread_id]
            return True

    async def prune(self, older_than: timedelta) -> int:
        """Delete threads idle longer than ``older_than``; returns how many."""
        with self._lock:
            return self._drop_older(self.clock() - int(older_than.total_seconds() * 1_000_000))

    async def count(self, *, owner: str | None = None) -> int:
        """How many threads (of one owner, when given)."""
        with self._lock:
            self._expire(self.clock())
            if owner is None:
                return len(self._threads)
            return sum(1 for e in self._threads.values() if e.owner == owner)
