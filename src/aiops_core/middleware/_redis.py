"""The Redis connection shared by the middleware backends (response cache, rate-limit buckets).

Backends are process-wide while runs come and go, each perhaps on its own event loop (every
``run_sync`` call starts one). An asyncio Redis connection belongs to the loop that opened it and
leaks when that loop ends, so the backends use one thread-safe synchronous client (with its
connection pool) per URL for the whole process, called from a worker thread: no connection is tied
to a loop, and the event loop never blocks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio.to_thread

from ..errors import UserError

__all__ = ["close_redis_clients", "redis_call", "redis_client", "redis_errors"]

T = TypeVar("T")

_clients: dict[str, Any] = {}
_lock = threading.Lock()


def redis_client(url: str) -> Any:
    """The process-wide synchronous ``redis.Redis`` client for ``url``."""
    with _lock:
        client = _clients.get(url)
        if client is None:
            try:
                import redis
            except ImportError as err:  # pragma: no cover - redis is installed in development
                raise UserError(
                    "The redis backend needs the redis package: pip install 'aiops[redis]'"
                ) from err
            client = _clients[url] = redis.Redis.from_url(
                url, socket_connect_timeout=2.0, socket_timeout=5.0, health_check_interval=30
            )
        return client


async def redis_call(url: str, fn: Callable[[Any], T]) -> T:
    """Run ``fn(client)`` in a worker thread."""
    client = redis_client(url)
    return await anyio.to_thread.run_sync(partial(fn, client), abandon_on_cancel=True)


def close_redis_clients() -> None:
    """Close every pooled connection (at shutdown, or between tests)."""
    with _lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        client.close()


def redis_errors() -> tuple[type[BaseException], ...]:
    """The exception types a Redis call raises when the server is unreachable or fails."""
    try:
        import redis.exceptions
    except ImportError:  # pragma: no cover - only the memory backends are usable then
        return (OSError,)
    return (redis.exceptions.RedisError, OSError)
