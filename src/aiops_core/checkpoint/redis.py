"""``RedisStore``: threads in Redis (single server, Sentinel or Cluster), shared by many workers.

Layout, in a database of its own (default 2)::

    checkpoint:{<thread_id>}:info       hash: owner, title, model, created, updated, m:<key>
    checkpoint:{<thread_id>}:messages   list: one dump_message() record per message
    checkpoint:{<thread_id>}:ops        hash: ids of appends in the last 5 minutes (see below)
    checkpoint:index:updated            sorted set: thread ids by last update (microseconds)
    checkpoint:index:owner:<owner>      sorted set: one owner's thread ids by last update

The braces are a Redis Cluster hash tag: both keys of a thread live in one slot, so one Lua script
appends a turn atomically (``RPUSH`` of the new records only, then the TTL refresh). Appends to a
thread are serialised by Redis and all land, in the order Redis runs them. Each append carries a
fresh operation id that the script remembers for five minutes, so when the client resends an
append whose reply it lost (redis-py retries on connection errors) the turn is stored once.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import uuid
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextvars import ContextVar
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import anyio

from .._extras import missing_extra
from ..errors import (
    ConflictError,
    CorruptThreadError,
    StoreError,
    StoreUnavailableError,
    ThreadAccessError,
)
from ..messages import Message
from . import redis_scripts
from .base import (
    Thread,
    ThreadInfo,
    ThreadPage,
    check_last,
    check_owner,
    check_thread_id,
    decode_cursor,
    encode_cursor,
    from_micros,
    ttl_micros,
)
from .records import decode_messages, encode_messages, encode_metadata
from .redis_url import RedisTarget, client_options, close_client, connect, parse_redis_url

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["DEFAULT_TTL", "RedisStore"]

_INSIDE: ContextVar[bool] = ContextVar("aiops_redis_store_call", default=False)

DEFAULT_TTL = timedelta(days=30)
"""How long an idle thread stays in Redis unless the store is given another ``ttl``."""


class _Script:
    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()


_APPEND = _Script(redis_scripts.APPEND)
_LOAD = _Script(redis_scripts.LOAD)
_DELETE = _Script(redis_scripts.DELETE)


class RedisStore:
    """A :class:`~aiops_core.checkpoint.base.CheckpointStore` in Redis.

    Args:
        url: ``redis://[:password@]host:6379/2``, ``rediss://`` (TLS), ``unix:///path?db=2``,
            ``redis+sentinel://[:password@]host:26379[,host:26379]/service[/db]`` or
            ``redis+cluster://[:password@]host:7000[,host:7001]`` (database 0 only).
        ttl: idle threads expire after this (a ``timedelta`` or seconds; ``None`` never). Every
            write refreshes it. Default :data:`DEFAULT_TTL` (30 days).
        prefix: first part of every key (default ``checkpoint``).
        client: an existing ``redis.asyncio`` client (``decode_responses=False``) to use
            instead of ``url``; the store then does not close it.

    The password in ``url`` never appears in ``repr()``, logs or error messages.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/2",
        *,
        ttl: timedelta | float | None = DEFAULT_TTL,
        prefix: str = "checkpoint",
        client: Redis | None = None,
        **connection_options: Any,
    ) -> None:
        if client is None and importlib.util.find_spec("redis") is None:
            raise missing_extra(ModuleNotFoundError(name="redis"), "RedisStore")
        self.target: RedisTarget = parse_redis_url(url)
        self.prefix = prefix
        self._ttl = ttl_micros(ttl)
        self._ttl_ms = "" if self._ttl is None else str(max(self._ttl // 1000, 1))
        self._owns_client = client is None
        self._options = connection_options
        self._client: Any = client
        self._loop: object = None
        # On a cluster the indexes live in other slots than the thread: maintain them here.
        self._index = "" if self.target.cluster else f"{prefix}:index:"
        self._closed = False

    @property
    def client(self) -> Any:
        """The ``redis.asyncio`` client for the running event loop (for maintenance and tests)."""
        self._bind()
        return self._client

    def _bind(self) -> None:
        """Use this store from the running event loop.

        redis.asyncio connections belong to the loop that opened them. A store the agent's
        ``run_sync`` uses from one short-lived loop after another gets fresh connections in each
        (the previous loop's are dropped), so scripts may create it once at import time.
        """
        import asyncio

        loop = asyncio.get_running_loop()
        if loop is self._loop:
            return
        self._loop = loop
        self._keeper: AsyncGenerator[None, None] | None = None
        if self._owns_client:
            self._client = connect(self.target, self._options)
        # Callers beyond the pool's size queue here (Sentinel and Cluster pools would refuse).
        limit = client_options(self.target, self._options)["max_connections"]
        self._limiter = anyio.CapacityLimiter(int(limit))
        self._scripts_lock = anyio.Lock()
        self._scripts_loaded = False

    def __repr__(self) -> str:
        return f"RedisStore({self.target.safe_url!r})"

    async def __aenter__(self) -> RedisStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (unless the client was passed in)."""
        if not self._closed:
            self._closed = True
            import asyncio

            # Connections of an earlier (finished) event loop cannot be closed from this one.
            same_loop = self._loop is asyncio.get_running_loop()
            if self._owns_client and self._client is not None and same_loop:
                await close_client(self._client)

    # ------------------------------------------------------------------ plumbing
    def _keys(self, thread_id: str) -> list[str]:
        """The thread's keys: info hash, message list, recent-operation ids."""
        base = f"{self.prefix}:{{{thread_id}}}:"
        return [base + "info", base + "messages", base + "ops"]

    def _index_key(self, owner: str | None) -> str:
        tail = "updated" if owner is None else f"owner:{owner}"
        return f"{self.prefix}:index:{tail}"

    def _unavailable(self, err: BaseException) -> StoreUnavailableError:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        password = self.target.password
        if password:
            reason = reason.replace(password, "***")
        return StoreUnavailableError(f"{self!r} is unreachable: {reason}")

    async def _call(self, coro_factory: Any, thread_id: str | None = None) -> Any:
        from redis import exceptions as rx

        if self._closed:
            raise StoreError(f"{self!r} is closed")
        if _INSIDE.get():  # nested (prune deleting threads): the outer call holds the slot
            return await coro_factory()
        self._bind()
        if self._owns_client and self._keeper is None:
            # Close this loop's connections when the loop shuts down (asyncio finalises
            # unfinished async generators then), so run_sync after run_sync leaks nothing.
            self._keeper = self._close_with_loop(self._client)
            await self._keeper.asend(None)
        try:
            async with self._limiter:
                token = _INSIDE.set(True)
                try:
                    return await coro_factory()
                finally:
                    _INSIDE.reset(token)
        except (rx.ConnectionError, rx.TimeoutError, OSError) as err:
            raise self._unavailable(err) from None
        except rx.ResponseError as err:
            if thread_id is not None and "WRONGTYPE" in str(err):
                raise CorruptThreadError(thread_id, "its Redis keys hold the wrong type") from None
            raise StoreError(f"{self!r} failed: {err}") from None
        except rx.RedisError as err:
            raise StoreError(f"{self!r} failed: {err}") from None

    async def _close_with_loop(self, client: Any) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            if not (self._closed and client is self._client):
                with anyio.CancelScope(shield=True):
                    await close_client(client)

    async def _script(self, script: _Script, keys: list[str], args: list[Any]) -> Any:
        from redis import exceptions as rx

        if not self._scripts_loaded:
            async with self._scripts_lock:
                if not self._scripts_loaded:
                    # Load once up front (on every primary of a cluster): a burst of first calls
                    # then never takes the NoScript fallback, which redis-py's cluster client
                    # does not survive under concurrency.
                    for each in (_APPEND, _LOAD, _DELETE):
                        await self._client.script_load(each.source)
                    self._scripts_loaded = True
        try:
            return await self._client.evalsha(script.sha, len(keys), *keys, *args)
        except rx.NoScriptError:
            return await self._client.eval(script.source, len(keys), *keys, *args)

    async def _server_micros(self) -> int:
        seconds, micros = await self._client.time()
        return int(seconds) * 1_000_000 + int(micros)

    def _info(self, thread_id: str, flat: Sequence[bytes]) -> ThreadInfo:
        fields = {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}
        try:
            metadata = {k[2:]: json.loads(v) for k, v in fields.items() if k.startswith("m:")}
            text = {k: fields[k].decode() for k in ("owner", "title", "model") if k in fields}
            return ThreadInfo(
                thread_id=thread_id,
                owner=text.get("owner") or None,
                title=text.get("title") or None,
                model=text.get("model") or None,
                created_at=from_micros(int(fields["created"])),
                updated_at=from_micros(int(fields["updated"])),
                metadata=metadata,
            )
        except (KeyError, ValueError, UnicodeError) as err:
            raise CorruptThreadError(thread_id, f"its info hash is unreadable ({err!r})") from None

    # ------------------------------------------------------------------ protocol
    async def load(
        self,
        thread_id: str,
        *,
        owner: str | None = None,
        last: int | None = None,
        since_summary: bool = False,
    ) -> Thread | None:
        """The thread (its last ``last`` messages, or those after its summary), or ``None`` if
        it does not exist (or expired). One script reads the info and the messages."""
        check_last(last)
        keys, start = self._keys(thread_id), -last if last else 0
        args = [start, "1" if since_summary else ""]
        flat, records, count = await self._call(lambda: self._script(_LOAD, keys, args), thread_id)
        if not flat:
            return None
        info = self._info(thread_id, flat)
        check_owner(info, owner)
        info.message_count = int(count)
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
        """Append one turn's messages atomically, creating the thread when it is new.

        ``expected_metadata`` values are compared by their JSON encoding (pass values as they
        were loaded).
        """
        check_thread_id(thread_id)
        records = encode_messages(messages)
        meta_set: list[str] = []
        meta_del: list[str] = []
        for key, value in (metadata or {}).items():
            if value is None:
                meta_del.append(key)
            else:
                meta_set += [key, encode_metadata(value)]
        expect: list[str] = []
        for key, value in (expected_metadata or {}).items():
            expect += [key, "" if value is None else encode_metadata(value)]
        args = [
            thread_id,
            owner or "",
            title or "",
            model or "",
            "" if expected_count is None else str(expected_count),
            self._ttl_ms,
            self._index,
            len(meta_set) // 2,
            len(meta_del),
            len(records),
            uuid.uuid4().hex,  # one id per call: a resend by the client is applied once
            len(expect) // 2,
            *expect,
            *meta_set,
            *meta_del,
            *records,
        ]
        keys = self._keys(thread_id)
        reply = await self._call(lambda: self._script(_APPEND, keys, args), thread_id)
        status = reply[0].decode()
        if status == "owner":
            raise ThreadAccessError(f"Thread {thread_id!r} belongs to another user")
        if status == "conflict":
            raise ConflictError(
                f"Thread {thread_id!r} changed concurrently: expected {expected_count} "
                f"messages, found {int(reply[1])}; reload and retry"
            )
        if status == "metadata":
            key = reply[1].decode()
            raise ConflictError(
                f"Thread {thread_id!r} changed concurrently: its {key!r} metadata is not what "
                "was loaded; reload and retry"
            )
        info = self._info(thread_id, reply[2])
        info.message_count = int(reply[1])
        if not self._index:
            await self._call(lambda: self._reindex(info))
        return info

    async def _reindex(self, info: ThreadInfo) -> None:
        from .base import to_micros

        score = to_micros(info.updated_at)
        # Plain commands, not a pipeline: the keys live on other nodes than the thread.
        await self._client.zadd(self._index_key(None), {info.thread_id: score})
        if info.owner:
            await self._client.zadd(self._index_key(info.owner), {info.thread_id: score})

    async def _trim(self, key: str) -> int | None:
        """Drop index entries of expired threads; returns the lowest live score."""
        if self._ttl is None:
            return None
        floor = await self._server_micros() - self._ttl
        await self._client.zremrangebyscore(key, "-inf", f"({floor}")
        return floor

    async def list_threads(
        self, *, owner: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> ThreadPage:
        """Threads newest first (by last update), optionally one owner's only."""
        after = decode_cursor(cursor) if cursor else None
        return await self._call(lambda: self._list(owner, max(limit, 0), after))  # type: ignore[no-any-return]

    async def _list(
        self, owner: str | None, limit: int, after: tuple[int, str] | None
    ) -> ThreadPage:
        key = self._index_key(owner)
        floor = await self._trim(key)
        low = "-inf" if floor is None else floor
        high: int | str = "+inf" if after is None else after[0]
        want = limit + 1
        batch = want + 8
        while True:
            raw = await self._client.zrange(
                key, high, low, desc=True, byscore=True, offset=0, num=batch, withscores=True
            )
            entries = [(int(score), member.decode()) for member, score in raw]
            if after is not None:
                # Equal scores come back in reverse member order, like the cursor's ordering.
                entries = [e for e in entries if e < after]
            if len(entries) >= want or len(raw) < batch:
                break
            batch *= 4
        pipe = self._client.pipeline(transaction=False)
        for _, thread_id in entries[:want]:
            keys = self._keys(thread_id)
            pipe.hgetall(keys[0])
            pipe.llen(keys[1])
        replies = await pipe.execute()
        infos: list[ThreadInfo] = []
        for index, (_, thread_id) in enumerate(entries[:want]):
            fields, length = replies[2 * index], replies[2 * index + 1]
            if not fields:
                continue  # deleted or expired since the index was read
            flat = [x for pair in fields.items() for x in pair]
            try:
                info = self._info(thread_id, flat)
            except CorruptThreadError:
                info = ThreadInfo(thread_id=thread_id, metadata={"corrupt": True})
            info.message_count = int(length)
            infos.append(info)
        page = infos[:limit]
        more = len(entries) > limit and bool(page)
        last = entries[limit - 1] if more else None
        return ThreadPage(page, encode_cursor(*last) if last else None)

    async def delete(self, thread_id: str, *, owner: str | None = None) -> bool:
        """Delete a thread; ``False`` if it did not exist."""
        return await self._delete(thread_id, owner or "", "")

    async def _delete(self, thread_id: str, owner: str, cutoff: str) -> bool:
        keys = self._keys(thread_id)
        args = [thread_id, owner, self._index, cutoff]
        reply = await self._call(lambda: self._script(_DELETE, keys, args), thread_id)
        status = reply[0].decode()
        if status == "owner":
            raise ThreadAccessError(f"Thread {thread_id!r} belongs to another user")
        if status != "deleted":
            return False
        if not self._index:
            stored = reply[1].decode() or None

            async def unindex() -> None:
                pipe = self._client.pipeline(transaction=False)
                pipe.zrem(self._index_key(None), thread_id)
                if stored:
                    pipe.zrem(self._index_key(stored), thread_id)
                await pipe.execute()

            await self._call(unindex)
        return True

    async def prune(self, older_than: timedelta) -> int:
        """Delete threads idle longer than ``older_than`` (found with ``SCAN``); returns how many.

        Also drops index entries of threads that Redis already expired.
        """
        return await self._call(lambda: self._prune(older_than))  # type: ignore[no-any-return]

    async def _prune(self, older_than: timedelta) -> int:
        cutoff = await self._server_micros() - int(older_than.total_seconds() * 1_000_000)
        head = f"{self.prefix}:{{"
        pattern = _glob_escape(head) + "*}:info"
        pruned = 0
        batch: list[str] = []

        async def flush() -> int:
            pipe = self._client.pipeline(transaction=False)
            for key in batch:
                pipe.hget(key, "updated")
            stamps = await pipe.execute()
            count = 0
            for key, stamp in zip(batch, stamps, strict=True):
                if stamp is None or int(stamp) >= cutoff:
                    continue
                thread_id = key[len(head) : -len("}:info")]
                # The script re-checks the time, so a thread updated meanwhile survives.
                count += await self._delete(thread_id, "", str(cutoff))
            batch.clear()
            return count

        async for raw in self._client.scan_iter(match=pattern, count=500, _type="HASH"):
            batch.append(raw.decode() if isinstance(raw, bytes) else raw)
            if len(batch) >= 500:
                pruned += await flush()
        if batch:
            pruned += await flush()
        await self._client.zremrangebyscore(self._index_key(None), "-inf", f"({cutoff}")
        return pruned

    async def count(self, *, owner: str | None = None) -> int:
        """How many threads (of one owner, when given)."""

        async def count() -> int:
            key = self._index_key(owner)
            await self._trim(key)
            return int(await self._client.zcard(key))

        return await self._call(count)  # type: ignore[no-any-return]


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)
