"""Token buckets for the ``rate_limit`` middleware: in process memory or in Redis.

A bucket holds up to ``capacity`` units and refills at ``rate`` units per second. ``take``
removes ``amount`` units when they are there and otherwise says how long to wait; with
``debt=True`` it always removes them (the level may go below zero, delaying later calls): that is
how tokens counted after a response are charged.

Buckets are process-wide per backend configuration (:func:`shared_bucket_backend`); the Redis
backend makes them cluster-wide, with one atomic Lua script per take and the Redis server's clock.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

from ._redis import redis_call, redis_client

__all__ = ["BucketBackend", "MemoryBuckets", "RedisBuckets", "shared_bucket_backend"]


class BucketBackend(Protocol):
    """Token buckets by key."""

    async def take(
        self, key: str, capacity: float, rate: float, amount: float, debt: bool = False
    ) -> float:
        """Take ``amount`` units; returns 0 when taken, else the seconds until they are there."""
        ...


class MemoryBuckets:
    """Buckets in a dict, safe across threads."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    async def take(
        self, key: str, capacity: float, rate: float, amount: float, debt: bool = False
    ) -> float:
        now = time.monotonic()
        with self._lock:
            level, stamp = self._buckets.get(key, (capacity, now))
            level = min(capacity, level + (now - stamp) * rate)
            if debt or level >= amount:
                self._buckets[key] = (level - amount, now)
                return 0.0
            self._buckets[key] = (level, now)
            return (amount - level) / rate

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()


_TAKE = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local amount = tonumber(ARGV[3])
local debt = ARGV[4] == '1'
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local data = redis.call('HMGET', KEYS[1], 'level', 'ts')
local level = tonumber(data[1])
local stamp = tonumber(data[2])
if level == nil then
  level = capacity
  stamp = now
end
level = math.min(capacity, level + (now - stamp) * rate)
local wait = 0
if debt or level >= amount then
  level = level - amount
else
  wait = (amount - level) / rate
end
redis.call('HSET', KEYS[1], 'level', tostring(level), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 60)
return tostring(wait)
"""


class RedisBuckets:
    """Buckets as Redis hashes, updated atomically by a Lua script."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._script: Any = None

    async def take(
        self, key: str, capacity: float, rate: float, amount: float, debt: bool = False
    ) -> float:
        if self._script is None:
            # A registered script runs by SHA and reloads itself after a server restart.
            self._script = redis_client(self.url).register_script(_TAKE)
        script = self._script
        args = [repr(float(capacity)), repr(float(rate)), repr(float(amount)), "1" if debt else "0"]
        value = await redis_call(self.url, lambda r: script(keys=[key], args=args, client=r))
        return float(value)

    def __repr__(self) -> str:
        return f"RedisBuckets({self.url.rsplit('@', 1)[-1]!r})"


_shared: dict[str, BucketBackend] = {}
_shared_lock = threading.Lock()


def shared_bucket_backend(backend: str, url: str = "") -> BucketBackend:
    """The process-wide bucket backend for one configuration."""
    key = f"redis:{url}" if backend == "redis" else "memory"
    with _shared_lock:
        found = _shared.get(key)
        if found is None:
            found = _shared[key] = RedisBuckets(url) if backend == "redis" else MemoryBuckets()
        return found
