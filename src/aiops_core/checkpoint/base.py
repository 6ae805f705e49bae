"""The ``CheckpointStore`` protocol and its thread types."""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeAlias, runtime_checkable

from ..errors import ConflictError, ThreadAccessError, UserError
from ..messages import Message

__all__ = [
    "MAX_THREAD_ID_LENGTH",
    "SUMMARY_KEY",
    "CheckpointStore",
    "Clock",
    "Thread",
    "ThreadInfo",
    "ThreadPage",
    "check_expected_metadata",
    "check_last",
    "check_owner",
    "check_thread_id",
    "decode_cursor",
    "encode_cursor",
    "first_loaded",
    "from_micros",
    "merge_metadata",
    "now_micros",
    "stored_summary",
    "to_micros",
    "ttl_micros",
    "utcnow",
]

MAX_THREAD_ID_LENGTH = 255
"""Longest thread id every store accepts (the SQL column width)."""

SUMMARY_KEY = "summary"
"""Thread metadata key of a conversation summary: ``{"text": str, "upto": int}``.

``text`` summarises the thread's messages before position ``upto`` (0-based); ``load(...,
since_summary=True)`` reads only the messages from ``upto`` on. The agent writes it with
``context_policy="summarize"``; the messages it covers stay in the thread.
"""

_MAX_UPTO = 1_000_000_000  # positions past this are not a summary (and overflow SQL INTEGER)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def now_micros() -> int:
    """The current time in microseconds since the Unix epoch (how stores keep timestamps)."""
    return time.time_ns() // 1000


Clock: TypeAlias = Callable[[], int]
"""A store's time source: microseconds since the Unix epoch (default :func:`now_micros`).

Stores that keep time themselves (``MemoryStore``, ``SQLStore``) take one as ``clock=``, so tests
can age a thread without waiting or patching ``time``. ``RedisStore`` uses the server's time.
"""


def to_micros(moment: datetime) -> int:
    """A timezone-aware datetime as microseconds since the Unix epoch."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    """Microseconds since the Unix epoch as a UTC datetime."""
    return _EPOCH + timedelta(microseconds=micros)


def ttl_micros(ttl: timedelta | float | None) -> int | None:
    """Validate a store TTL (a timedelta or seconds) and return it in microseconds."""
    if ttl is None:
        return None
    seconds = ttl.total_seconds() if isinstance(ttl, timedelta) else float(ttl)
    if seconds <= 0:
        raise UserError(f"A store ttl must be positive (seconds or a timedelta), got {ttl!r}")
    return int(seconds * 1_000_000)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class ThreadInfo:
    """A thread's metadata.

    ``metadata`` holds free-form JSON values; the agent keeps a pending tool approval under
    ``"pending_approval"`` and a conversation summary under ``"summary"`` (:data:`SUMMARY_KEY`). In :meth:`CheckpointStore.list_threads` a thread whose stored
    metadata cannot be read shows ``{"corrupt": True}`` (loading it raises
    :class:`~aiops_core.errors.CorruptThreadError`). Times are timezone-aware UTC.
    """

    thread_id: str
    owner: str | None = None
    title: str | None = None
    model: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    message_count: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)

    def copy(self) -> ThreadInfo:
        """A copy whose ``metadata`` dict can be changed without touching the original."""
        return replace(self, metadata=dict(self.metadata))


@dataclass(slots=True)
class Thread:
    """A thread: metadata and its messages in order.

    After a partial load ``messages`` holds the thread's messages from position :attr:`first`
    on, and ``info.message_count`` still counts them all.
    """

    info: ThreadInfo
    messages: list[Message]

    @property
    def thread_id(self) -> str:
        return self.info.thread_id

    @property
    def first(self) -> int:
        """The position in the thread of ``messages[0]`` (0 unless the load was partial)."""
        return max(self.info.message_count - len(self.messages), 0)


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
    :class:`~aiops_core.errors.ConflictError` if the thread changed since it was loaded; with
    ``expected_metadata`` it fails the same way unless each given metadata key still holds the
    value given (``None``: the key is absent). Both are checked atomically with the write, so of
    two writers that loaded the same state exactly one succeeds: the agent claims a paused run
    this way. An append writes only the new messages, so its cost does not grow with the
    thread's length.

    Failures: an unreachable backend raises :class:`~aiops_core.errors.StoreUnavailableError`; a
    thread whose records cannot be read raises :class:`~aiops_core.errors.CorruptThreadError`
    naming it (other threads keep working). Stores created with a ``ttl`` forget threads idle
    longer than it; :meth:`prune` deletes idle threads on demand (a scheduled job calls it).

    ``list_threads`` cursors are opaque strings that stay valid while threads change: a page
    continues after the last thread of the previous one.

    Partial loads read only a thread's tail, so their cost does not grow with the thread:
    ``load(thread_id, last=N)`` reads the last N messages, and ``load(thread_id,
    since_summary=True)`` the messages its summary does not cover (from ``upto`` of the
    ``"summary"`` metadata, :data:`SUMMARY_KEY`, as the agent's ``context_policy="summarize"``
    stores it). Both read the metadata and the messages in one consistent step, and
    :attr:`Thread.first` tells where the messages start. A full load always returns every
    message: a summary never replaces stored history.
    """

    async def load(
        self,
        thread_id: str,
        *,
        owner: str | None = None,
        last: int | None = None,
        since_summary: bool = False,
    ) -> Thread | None:
        """The thread, or ``None`` if it does not exist.

        With ``last`` only the thread's last ``last`` messages are read. With ``since_summary``
        only the messages from the stored summary's ``upto`` on (all of them when the thread
        has no valid summary, see :func:`stored_summary`); with both, the shorter tail.
        ``info.message_count`` still counts the whole thread, and ``info.metadata`` holds the
        summary.
        """
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
        expected_metadata: Mapping[str, Any] | None = None,
    ) -> ThreadInfo:
        """Append one turn's messages, creating the thread.

        ``title`` and ``model`` replace the stored ones when given; ``metadata`` is merged into
        the stored metadata, and keys set to ``None`` are removed. An empty ``messages`` list
        only updates the metadata. ``expected_count`` and ``expected_metadata`` are the
        preconditions described in the class docstring (a thread that does not exist yet has
        0 messages and no metadata); values are compared as JSON values.
        """
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


def check_thread_id(thread_id: str) -> None:
    """Refuse thread ids every store cannot keep."""
    if not isinstance(thread_id, str) or not thread_id:
        raise UserError("A thread id must be a non-empty string")
    if len(thread_id) > MAX_THREAD_ID_LENGTH:
        raise UserError(
            f"Thread id is {len(thread_id)} characters long; use at most {MAX_THREAD_ID_LENGTH}"
        )


def check_last(last: int | None) -> None:
    """Refuse a ``load(last=...)`` that is not a positive number of messages."""
    if last is not None and (isinstance(last, bool) or not isinstance(last, int) or last < 1):
        raise UserError(f"load(last=...) takes a positive number of messages, got {last!r}")


def stored_summary(metadata: Mapping[str, Any]) -> tuple[str, int] | None:
    """The ``(text, upto)`` of the summary in thread metadata, or ``None``.

    A summary is ``{"text": <string>, "upto": <whole number from 0 below 10**9>}`` (an integral
    float such as ``3.0`` counts as its integer); anything else under the key is not one, and
    a ``since_summary`` load then reads the whole thread. Every store applies this same rule.
    """
    value = metadata.get(SUMMARY_KEY)
    if not isinstance(value, Mapping):
        return None
    text, upto = value.get("text"), value.get("upto")
    if not isinstance(text, str) or isinstance(upto, bool) or not isinstance(upto, int | float):
        return None
    if not (0 <= upto < _MAX_UPTO) or upto != int(upto):
        return None
    return text, int(upto)


def first_loaded(
    count: int, metadata: Mapping[str, Any], last: int | None, since_summary: bool
) -> int:
    """Where a load of a thread of ``count`` messages starts (see :meth:`CheckpointStore.load`)."""
    first = max(count - last, 0) if last else 0
    summary = stored_summary(metadata) if since_summary else None
    if summary is not None:
        first = max(first, summary[1])
    return min(first, count)


def encode_cursor(updated_micros: int, thread_id: str) -> str:
    """An opaque ``list_threads`` cursor pointing after the thread given."""
    raw = f"{updated_micros}:{thread_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    """The ``(updated micros, thread id)`` inside a cursor, or :class:`UserError`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        micros, _, thread_id = raw.partition(":")
        return int(micros), thread_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise UserError(
            f"Invalid thread list cursor {cursor!r}; pass a next_cursor from a previous page"
        ) from None


def check_owner(info: ThreadInfo, owner: str | None) -> None:
    """Refuse access to another owner's thread (an unowned thread is open to everyone)."""
    if owner is not None and info.owner is not None and info.owner != owner:
        raise ThreadAccessError(f"Thread {info.thread_id!r} belongs to another user")


def check_expected_metadata(
    thread_id: str, current: Mapping[str, Any], expected: Mapping[str, Any] | None
) -> None:
    """Raise :class:`ConflictError` unless each expected key holds its value (``None``: absent)."""
    for key, value in (expected or {}).items():
        if current.get(key) != value or (value is None and key in current):
            raise ConflictError(
                f"Thread {thread_id!r} changed concurrently: its {key!r} metadata is not what "
                "was loaded; reload and retry"
            )


def merge_metadata(current: Mapping[str, Any], update: Mapping[str, Any] | None) -> dict[str, Any]:
    """``current`` updated with ``update``; keys set to ``None`` are removed."""
    merged = dict(current)
    for key, value in (update or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
