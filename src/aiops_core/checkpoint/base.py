"""The ``CheckpointStore`` protocol and its thread types."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from ..errors import ThreadAccessError
from ..messages import Message

__all__ = [
    "CheckpointStore",
    "Thread",
    "ThreadInfo",
    "ThreadPage",
    "check_owner",
    "merge_metadata",
    "utcnow",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class ThreadInfo:
    """A thread's metadata.

    ``metadata`` holds free-form values; the agent keeps a pending tool approval under
    ``"pending_approval"``.
    """

    thread_id: str
    owner: str | None = None
    title: str | None = None
    model: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    message_count: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Thread:
    """A thread: metadata and its messages in order."""

    info: ThreadInfo
    messages: list[Message]

    @property
    def thread_id(self) -> str:
        return self.info.thread_id


@dataclass(slots=True)
class ThreadPage:
    """One page of :meth:`CheckpointStore.list_threads`, newest first."""

    threads: list[ThreadInfo]
    next_cursor: str | None = None


@runtime_checkable
class CheckpointStore(Protocol):
    """Where conversations live.

    Owner rules: a thread created with an ``owner`` belongs to it. Passing a different ``owner``
    to :meth:`load`, :meth:`append` or :meth:`delete` raises
    :class:`~aiops_core.errors.ThreadAccessError`; ``owner=None`` means a trusted, unscoped
    caller (scripts, the CLI, cleanup jobs).

    Appends are atomic and ordered: concurrent appends to one thread all land, in the order the
    store commits them. With ``expected_count`` an append fails with
    :class:`~aiops_core.errors.ConflictError` if the thread changed since it was loaded.
    """

    async def load(self, thread_id: str, *, owner: str | None = None) -> Thread | None:
        """The thread, or ``None`` if it does not exist."""
        ...

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
        """Append one turn's messages (creating the thread); metadata keys set to ``None`` are removed."""
        ...

    async def list_threads(
        self, *, owner: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> ThreadPage:
        """Threads newest first (by last update), optionally one owner's only."""
        ...

    async def delete(self, thread_id: str, *, owner: str | None = None) -> bool:
        """Delete a thread; ``False`` if it did not exist."""
        ...

    async def prune(self, older_than: timedelta) -> int:
        """Delete threads idle longer than ``older_than``; returns how many."""
        ...

    async def count(self, *, owner: str | None = None) -> int:
        """How many threads (of one owner, when given)."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


def check_owner(info: ThreadInfo, owner: str | None) -> None:
    """Refuse access to another owner's thread."""
    if owner is not None and info.owner is not None and info.owner != owner:
        raise ThreadAccessError(f"Thread {info.thread_id!r} belongs to another user")


def merge_metadata(current: Mapping[str, Any], update: Mapping[str, Any] | None) -> dict[str, Any]:
    """``current`` updated with ``update``; keys set to ``None`` are removed."""
    merged = dict(current)
    for key, value in (update or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
