"""``SQLStore``: threads in SQLite (the embedded default) or PostgreSQL (production).

The store runs SQLAlchemy's synchronous engine in worker threads (``anyio.to_thread``), so the
event loop never blocks and no extra async driver is needed. Each append is one transaction: an
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` that locks and bumps the thread row, then one
multi-row insert of the new messages. Concurrent appends to a thread therefore queue on the row
lock and all land, in commit order.
"""

from __future__ import annotations

import functools
import threading
import zlib
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Engine, make_url

from .._extras import missing_extra
from ..errors import (
    ConflictError,
    CorruptThreadError,
    StoreError,
    StoreUnavailableError,
    ThreadAccessError,
    UserError,
)
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
from .sql_schema import CheckpointThread
from .sql_statements import INFO_COLUMNS, MESSAGE, THREAD, Statements

if TYPE_CHECKING:
    from sqlalchemy.engine import Row

__all__ = ["SQLStore"]

T = TypeVar("T")
_THREAD, _MESSAGE, _INFO_COLUMNS = THREAD, MESSAGE, INFO_COLUMNS
_TABLES = [_THREAD, _MESSAGE]


def normalise_url(url: str | URL) -> URL:
    """Map ``postgres://`` / ``postgresql://`` to psycopg 3 and check the backend is supported."""
    try:
        parsed = make_url(url)
    except sa_exc.ArgumentError:
        raise UserError(
            "Invalid SQL store URL; use sqlite:///path/to/file.db or "
            "postgresql://user:password@host:5432/database"
        ) from None
    backend = parsed.get_backend_name()
    if backend in ("postgres", "postgresql"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if parsed.host:  # sqlite://aiops.db: the file name landed in the host part
            raise UserError(
                f"Invalid SQLite URL 'sqlite://{parsed.host}{'/' + parsed.database if parsed.database else ''}': "
                "use three slashes for a relative path (sqlite:///aiops.db) or four for an "
                "absolute one (sqlite:////var/lib/aiops/threads.db)"
            )
        return parsed
    raise UserError(f"SQLStore supports sqlite and postgresql URLs, not {backend!r}")


_ALL = 2**31 - 1
"""``last`` of a full load (the largest INTEGER: every message)."""


class SQLStore:
    """A :class:`~aiops_core.checkpoint.base.CheckpointStore` in SQLite or PostgreSQL.

    Args:
        url: ``sqlite:///relative.db``, ``sqlite:////absolute/path.db``, ``sqlite://`` (in
            memory) or ``postgresql://user:password@host:5432/db`` (driven by psycopg 3).
        schema: PostgreSQL schema for the two tables (created when missing); default the
            connection's search path (normally ``public``).
        ttl: forget threads idle longer than this (a ``timedelta`` or seconds).
        create_schema: create the tables on first use (idempotent, safe from many processes).
        pool_size: connections kept open (PostgreSQL); at most this many calls run at once.
        durable: ``False`` lets a commit return before its WAL record reaches disk
            (PostgreSQL ``synchronous_commit=off``, SQLite ``synchronous=OFF``): a crash can
            lose the last fraction of a second of turns, never corrupt or reorder them. Appends
            get several times faster on busy disks.
        engine_options: extra keyword arguments for ``sqlalchemy.create_engine``.
        clock: the time source of the stored timestamps and the TTL (microseconds since the
            epoch); tests pass a fake one.

    The password in ``url`` never appears in ``repr()``, logs or error messages.
    """

    def __init__(
        self,
        url: str | URL,
        *,
        schema: str | None = None,
        ttl: timedelta | float | None = None,
        create_schema: bool = True,
        pool_size: int = 10,
        durable: bool = True,
        engine_options: Mapping[str, Any] | None = None,
        clock: Clock = now_micros,
    ) -> None:
        self.clock = clock
        self.url = normalise_url(url)
        self._sqlite = self.url.get_backend_name() == "sqlite"
        if schema is not None and self._sqlite:
            raise UserError(
                "The `schema` option is for PostgreSQL; SQLite keeps one schema per file"
            )
        self.schema = schema
        self._ttl = ttl_micros(ttl)
        self._create_schema = create_schema
        self._ready = False
        self._ready_lock = anyio.Lock()
        # SQLite has one writer per file: queueing writers here beats its busy-wait back-off.
        self._write_lock: threading.Lock | None = threading.Lock() if self._sqlite else None
        self._limiter = anyio.CapacityLimiter(1 if self._in_memory else pool_size)
        self.durable = durable
        self._engine = self._make_engine(pool_size, dict(engine_options or {}))
        self._sql = Statements(self._sqlite, schema)
        self._autocommit = self._engine.execution_options(isolation_level="AUTOCOMMIT")
        self._closed = False

    @property
    def _in_memory(self) -> bool:
        return self._sqlite and self.url.database in (None, "", ":memory:")

    def _make_engine(self, pool_size: int, options: dict[str, Any]) -> Engine:
        if self._sqlite:
            if self._in_memory:
                options.setdefault("poolclass", sa.pool.StaticPool)
            options.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        else:
            options.setdefault("pool_size", pool_size)
            options.setdefault("max_overflow", 0)
            options.setdefault("pool_pre_ping", False)
        try:
            engine = sa.create_engine(self.url, **options)
        except ModuleNotFoundError as err:
            raise missing_extra(err, f"The {self.url.get_backend_name()} store") from None
        except sa_exc.ArgumentError as err:
            raise UserError(f"{self!r}: {err}") from None
        if self.schema:
            engine = engine.execution_options(schema_translate_map={None: self.schema})
        if self._sqlite:
            sa.event.listen(engine, "connect", _sqlite_pragmas)
            if not self.durable:
                sa.event.listen(engine, "connect", _sqlite_fast)
        elif not self.durable:
            sa.event.listen(engine, "connect", _postgres_fast)
        return engine

    def __repr__(self) -> str:
        where = f", schema={self.schema!r}" if self.schema else ""
        return f"SQLStore({self.url.render_as_string(hide_password=True)!r}{where})"

    async def __aenter__(self) -> SQLStore:
        await self._ensure_ready()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        if not self._closed:
            self._closed = True
            await anyio.to_thread.run_sync(self._engine.dispose)

    # ------------------------------------------------------------------ plumbing
    async def _run(self, func: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise StoreError(f"{self!r} is closed")
        await self._ensure_ready()
        return await anyio.to_thread.run_sync(self._guard(func), *args, limiter=self._limiter)

    def _guard(self, func: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(func)
        def call(*args: Any) -> T:
            try:
                return func(*args)
            except (sa_exc.OperationalError, sa_exc.InterfaceError) as err:
                raise StoreUnavailableError(self._describe(err)) from None
            except sa_exc.SQLAlchemyError as err:
                raise StoreError(self._describe(err)) from None

        return call

    def _describe(self, err: sa_exc.SQLAlchemyError) -> str:
        text = str(getattr(err, "orig", None) or err).strip().splitlines()
        reason = text[0] if text else type(err).__name__
        password = self.url.password
        if password:
            reason = reason.replace(str(password), "***")
        return f"{self!r} failed: {reason}"

    async def _ensure_ready(self) -> None:
        if self._ready:
            return
        async with self._ready_lock:
            if self._ready:
                return
            if self._sqlite and not self._in_memory and self.url.database:
                # The CLI default lives in a data directory that may not exist yet.
                folder = anyio.Path(self.url.database).parent
                try:
                    await folder.mkdir(parents=True, exist_ok=True)
                except OSError as err:
                    raise StoreUnavailableError(
                        f"{self!r} cannot create its directory {str(folder)!r}: {err.strerror}"
                    ) from None
            if self._create_schema:
                await anyio.to_thread.run_sync(self._guard(self._create_tables))
            self._ready = True

    def _create_tables(self) -> None:
        with self._engine.begin() as conn:
            if not self._sqlite:
                # Serialise concurrent first starts: CREATE ... IF NOT EXISTS races in PostgreSQL.
                key = zlib.crc32(f"aiops-checkpoint:{self.schema}".encode())
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
                if self.schema:
                    conn.execute(sa.schema.CreateSchema(self.schema, if_not_exists=True))
            CheckpointThread.metadata.create_all(conn, tables=_TABLES, checkfirst=True)

    def _cutoff(self) -> int | None:
        return None if self._ttl is None else self.clock() - self._ttl

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
        it does not exist (or expired).

        A partial load reads only the rows of those messages (a range of the primary key).
        """
        check_last(last)
        return await self._run(self._load, thread_id, owner, last, since_summary)

    def _load(
        self, thread_id: str, owner: str | None, last: int | None, since_summary: bool
    ) -> Thread | None:
        if not self._sqlite:
            return self._load_postgres(thread_id, owner, last, since_summary)
        with self._engine.connect() as conn:
            row = conn.execute(self._sql.info, {"tid": thread_id}).first()
            info = self._live_info(thread_id, row, owner)
            if info is None:
                return None
            # Rows past the count belong to a turn committed after the thread row was read.
            count = info.message_count
            first = first_loaded(count, info.metadata, last, since_summary)
            params = {"tid": thread_id, "count": count, "first": first}
            records = conn.execute(self._sql.messages, params).scalars().all()
        return _thread(info, records, first)

    def _load_postgres(
        self, thread_id: str, owner: str | None, last: int | None, since_summary: bool
    ) -> Thread | None:
        params = {"tid": thread_id, "last": last or _ALL, "since": since_summary}
        try:
            with self._autocommit.connect() as conn:
                row = conn.execute(self._sql.pg_load, params).first()
        except sa_exc.DataError:
            if not since_summary:
                raise
            # The metadata is not JSON: a plain load reports the thread as corrupt.
            return self._load_postgres(thread_id, owner, last, False)
        info = self._live_info(thread_id, row, owner)
        if row is None or info is None:
            return None
        first = first_loaded(info.message_count, info.metadata, last, since_summary)
        return _thread(info, row.records, first)

    def _live_info(self, thread_id: str, row: Any, owner: str | None) -> ThreadInfo | None:
        """The thread's info from its row; ``None`` when absent or expired; the owner checked."""
        cutoff = self._cutoff()
        if row is None or (cutoff is not None and row.updated < cutoff):
            return None
        info = _info(thread_id, row)
        check_owner(info, owner)
        return info

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
        """Append one turn's messages in one transaction, creating the thread when it is new."""
        check_thread_id(thread_id)
        records = encode_messages(messages)
        meta = dict(metadata) if metadata else None
        if meta:
            encode_metadata(meta)  # refuse unserialisable metadata before touching the database
        expected = _Expected(expected_count, dict(expected_metadata or {}))
        return await self._run(
            self._append, thread_id, records, owner, title or None, model or None, meta, expected
        )

    def _append(
        self,
        thread_id: str,
        records: list[str],
        owner: str | None,
        title: str | None,
        model: str | None,
        metadata: dict[str, Any] | None,
        expected: _Expected,
    ) -> ThreadInfo:
        now, count = self.clock(), len(records)
        expected_count = expected.count
        if not self._sqlite and self._ttl is None and not metadata and expected.only_absent:
            info = self._append_postgres(thread_id, records, owner, title, model, expected)
            if info is not None:
                return info
        lock = self._write_lock or _NO_LOCK
        with lock, self._engine.begin() as conn:
            cutoff = self._cutoff()
            if cutoff is not None:
                conn.execute(self._sql.drop_expired, {"tid": thread_id, "cutoff": cutoff})
            params = {"tid": thread_id, "owner": owner, "title": title, "model": model}
            row = conn.execute(self._sql.upsert, {**params, "now": now, "n": count}).one()
            found = row.message_count - count
            info = _info(thread_id, row)
            if owner is not None and info.owner is not None and info.owner != owner:
                raise ThreadAccessError(f"Thread {thread_id!r} belongs to another user")
            if expected_count is not None and expected_count != found:
                raise ConflictError(
                    f"Thread {thread_id!r} changed concurrently: expected {expected_count} "
                    f"messages, found {found}; reload and retry"
                )
            check_expected_metadata(thread_id, info.metadata, expected.metadata)
            if records:
                conn.execute(
                    self._sql.add_messages,
                    [
                        {"thread_id": thread_id, "seq": found + i, "data": r}
                        for i, r in enumerate(records)
                    ],
                )
            if metadata:
                info.metadata = merge_metadata(info.metadata, metadata)
                data = {"tid": thread_id, "meta": encode_metadata(info.metadata)}
                conn.execute(self._sql.set_metadata, data)
        return info

    def _append_postgres(
        self,
        thread_id: str,
        records: list[str],
        owner: str | None,
        title: str | None,
        model: str | None,
        expected: _Expected,
    ) -> ThreadInfo | None:
        """One statement, one round trip; ``None`` sends the caller to the general path.

        Only for appends whose metadata preconditions all say "absent" (what every agent turn
        asks), which the statement checks on the locked row.
        """
        expected_count = expected.count
        params = {
            "tid": thread_id,
            "owner": owner,
            "title": title,
            "model": model,
            "now": self.clock(),
            "n": len(records),
            "expected": expected_count,
            "absent": list(expected.metadata),
            "records": records,
        }
        with self._autocommit.connect() as conn:
            row = conn.execute(self._sql.pg_append, params).first()
            if row is not None:
                return _info(thread_id, row)
            # Refused: say why (or let the general path sort out a race).
            current = conn.execute(self._sql.info, {"tid": thread_id}).first()
        if current is not None and owner and current.owner and current.owner != owner:
            raise ThreadAccessError(f"Thread {thread_id!r} belongs to another user")
        found = 0 if current is None else current.message_count
        if expected_count is not None and expected_count != found:
            raise ConflictError(
                f"Thread {thread_id!r} changed concurrently: expected {expected_count} "
                f"messages, found {found}; reload and retry"
            )
        return None

    async def list_threads(
        self, *, owner: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> ThreadPage:
        """Threads newest first (by last update), optionally one owner's only."""
        after = decode_cursor(cursor) if cursor else None
        return await self._run(self._list, owner, max(limit, 0), after)

    def _list(self, owner: str | None, limit: int, after: tuple[int, str] | None) -> ThreadPage:
        query = sa.select(_THREAD.c.thread_id, *_INFO_COLUMNS)
        if owner is not None:
            query = query.where(_THREAD.c.owner == owner)
        cutoff = self._cutoff()
        if cutoff is not None:
            query = query.where(_THREAD.c.updated >= cutoff)
        if after is not None:
            query = query.where(sa.tuple_(_THREAD.c.updated, _THREAD.c.thread_id) < after)
        query = query.order_by(_THREAD.c.updated.desc(), _THREAD.c.thread_id.desc())
        with self._engine.connect() as conn:
            rows = conn.execute(query.limit(limit + 1)).all()
        page = rows[:limit]
        more = len(rows) > limit and bool(page)
        cursor = encode_cursor(page[-1].updated, page[-1].thread_id) if more else None
        return ThreadPage([_listed_info(r.thread_id, r) for r in page], cursor)

    async def delete(self, thread_id: str, *, owner: str | None = None) -> bool:
        """Delete a thread and its messages; ``False`` if it did not exist."""
        return await self._run(self._delete, thread_id, owner)

    def _delete(self, thread_id: str, owner: str | None) -> bool:
        lock = self._write_lock or _NO_LOCK
        with lock, self._engine.begin() as conn:
            row = conn.execute(self._sql.info, {"tid": thread_id}).first()
            if row is None:
                return False
            check_owner(_info(thread_id, row), owner)
            conn.execute(self._sql.delete, {"tid": thread_id})
        return True

    async def prune(self, older_than: timedelta) -> int:
        """Delete threads idle longer than ``older_than``; returns how many."""
        cutoff = self.clock() - int(older_than.total_seconds() * 1_000_000)
        return await self._run(self._prune, cutoff)

    def _prune(self, cutoff: int) -> int:
        lock = self._write_lock or _NO_LOCK
        with lock, self._engine.begin() as conn:
            result = conn.execute(sa.delete(_THREAD).where(_THREAD.c.updated < cutoff))
            return int(result.rowcount)

    async def count(self, *, owner: str | None = None) -> int:
        """How many threads (of one owner, when given)."""
        return await self._run(self._count, owner)

    def _count(self, owner: str | None) -> int:
        query = sa.select(sa.func.count()).select_from(_THREAD)
        if owner is not None:
            query = query.where(_THREAD.c.owner == owner)
        cutoff = self._cutoff()
        if cutoff is not None:
            query = query.where(_THREAD.c.updated >= cutoff)
        with self._engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    # ------------------------------------------------------------------ maintenance
    async def drop_tables(self) -> None:
        """Drop the store's tables (tests and uninstall); the data is gone afterwards."""

        def drop() -> None:
            with self._engine.begin() as conn:
                CheckpointThread.metadata.drop_all(conn, tables=_TABLES, checkfirst=True)
                if self.schema:
                    conn.execute(sa.schema.DropSchema(self.schema, cascade=True, if_exists=True))

        await anyio.to_thread.run_sync(self._guard(drop))
        self._ready = False


class _Expected:
    """An append's preconditions: the message count and metadata values it expects."""

    __slots__ = ("count", "metadata", "only_absent")

    def __init__(self, count: int | None, metadata: dict[str, Any]) -> None:
        self.count = count
        self.metadata = metadata
        self.only_absent = all(v is None for v in metadata.values())


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NO_LOCK = _NoLock()


def _info(
    thread_id: str, row: Row[*tuple[Any, ...]], metadata: dict[str, Any] | None = None
) -> ThreadInfo:
    return ThreadInfo(
        thread_id=thread_id,
        owner=row.owner,
        title=row.title,
        model=row.model,
        created_at=from_micros(row.created),
        updated_at=from_micros(row.updated),
        message_count=row.message_count,
        metadata=decode_metadata(thread_id, row.metadata_json) if metadata is None else metadata,
    )


def _thread(info: ThreadInfo, records: Sequence[bytes | str], first: int) -> Thread:
    """A loaded thread (its messages from ``first`` on), refusing one whose rows do not match
    its count."""
    expected = info.message_count - first
    if len(records) != expected:
        raise CorruptThreadError(
            info.thread_id, f"{info.message_count} messages recorded, {len(records)} found"
        )
    return Thread(info, decode_messages(info.thread_id, records))


def _listed_info(thread_id: str, row: Row[*tuple[Any, ...]]) -> ThreadInfo:
    """Like :func:`_info`, but a thread with unreadable metadata still shows up in lists."""
    try:
        return _info(thread_id, row)
    except CorruptThreadError:
        return _info(thread_id, row, metadata={"corrupt": True})


def _sqlite_fast(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA synchronous=OFF")
    finally:
        cursor.close()


def _postgres_fast(dbapi_connection: Any, _record: Any) -> None:
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
    dbapi_connection.commit()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()
