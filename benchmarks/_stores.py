"""Checkpoint stores for the agent-turn benchmarks, opened by URL and cleaned up afterwards.

Stores whose backend is missing on this branch or machine are reported as skipped, with the
reason, instead of failing the scenario. Benchmarks use their own places: a temporary SQLite
file, the PostgreSQL database ``aiops_bench`` (created when missing), and Redis database 12.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

__all__ = ["POSTGRES_DB", "REDIS_DB", "STORE_URLS", "opened_store"]

POSTGRES_DB = "aiops_bench"
REDIS_DB = 12
REDIS_PORT = int(os.environ.get("NAUTOBOT_REDIS_PORT", "6379"))  # as the test suite
STORE_URLS: dict[str, str] = {
    "memory": "memory://",
    "sqlite": "sqlite:///{tmp}/bench.db",
    "postgres": f"postgresql://postgres@127.0.0.1:5432/{POSTGRES_DB}",
    "redis": f"redis://127.0.0.1:{REDIS_PORT}/{REDIS_DB}",
}
_PORTS = {"postgres": 5432, "redis": REDIS_PORT}


class StoreSkipped(Exception):
    """The store cannot be benchmarked here; the message says why."""


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _create_postgres_db() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (POSTGRES_DB,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{POSTGRES_DB}"')


async def _wipe(kind: str, store: Any) -> None:
    """Remove every thread the benchmark wrote (these places belong to the benchmarks)."""
    if kind == "redis":
        import redis.asyncio

        client = redis.asyncio.Redis.from_url(STORE_URLS["redis"])
        try:
            await client.flushdb()
        finally:
            await client.aclose()
    elif kind == "postgres":
        from datetime import timedelta

        await store.prune(timedelta(0))


@contextlib.asynccontextmanager
async def opened_store(kind: str) -> AsyncIterator[Any]:
    """Open the benchmark store of ``kind`` (a key of :data:`STORE_URLS`); wipe it after use.

    Raises:
        StoreSkipped: the store type, its driver or its server is not available.
    """
    from aiops_core.checkpoint import open_store

    if kind in _PORTS and not _answers(_PORTS[kind]):
        raise StoreSkipped(f"{kind} is not answering on 127.0.0.1:{_PORTS[kind]}")
    with tempfile.TemporaryDirectory(prefix="aiops-bench-") as tmp:
        url = STORE_URLS[kind].format(tmp=Path(tmp).as_posix())
        try:
            if kind == "postgres":
                _create_postgres_db()
            store: Any = open_store(url)
        except Exception as err:  # any missing piece: skip, with the reason
            raise StoreSkipped(f"{kind} store not available: {type(err).__name__}: {err}") from err
        async with contextlib.AsyncExitStack() as stack:
            if hasattr(store, "__aenter__"):
                store = await stack.enter_async_context(store)
            else:
                stack.push_async_callback(store.aclose)
            await _wipe(kind, store)
            try:
                yield store
            finally:
                await _wipe(kind, store)
