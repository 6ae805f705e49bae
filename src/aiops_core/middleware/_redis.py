"""Redis clients for the middleware backends: one ``redis.asyncio`` client per URL and event loop.

A ``redis.asyncio`` connection belongs to the event loop that opened it, while cache and
rate-limit backends are process-wide. Each backend therefore asks for its client here on every
call and gets the one of the running loop.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from ..errors import UserError

__all__ = ["close_redis_clients", "redis_client", "redis_errors"]

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Any]] = (
    weakref.WeakKeyDictionary()
)


def redis_client(url: str) -> Any:
    """The ``redis.asyncio.Redis`` client for ``url`` on the running event loop."""
    try:
        import redis.asyncio as aioredis
    except ImportError as err:  # pragma: no cover - redis is installed in development
        raise UserError(
            "The redis backend needs the redis package: pip install 'aiops[redis]'"
        ) from err
    loop = asyncio.get_running_loop()
    per_loop = _clients.setdefault(loop, {})
    client = per_loop.get(url)
    if client is None:
        client = per_loop[url] = aioredis.Redis.from_url(url)
    return client


async def close_redis_clients() -> None:
    """Close the clients opened on the running loop (call before the loop ends)."""
    clients = _clients.pop(asyncio.get_running_loop(), {})
    for client in clients.values():
        await client.aclose()


def redis_errors() -> tuple[type[BaseException], ...]:
    """The exception types a Redis call raises when the server is unreachable or fails."""
    try:
        import redis.exceptions
    except ImportError:  # pragma: no cover - only the memory backends are usable then
        return (OSError,)
    return (redis.exceptions.RedisError, OSError)
