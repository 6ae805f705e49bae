"""Response-cache backends: process memory and Redis.

Backends are shared by every run in the process that uses the same backend configuration
(:func:`shared_cache_backend`), so a cached answer outlives the run that stored it while the
middleware instances themselves stay per run.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from ._redis import redis_call

__all__ = ["CacheBackend", "MemoryCacheBackend", "RedisCacheBackend", "shared_cache_backend"]


class CacheBackend(Protocol):
    """Where cached responses live: opaque string values by key, each with a TTL."""

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, ttl: float) -> None: ...


class MemoryCacheBackend:
    """An LRU dict with per-entry expiry, safe across threads and event loops.

    Args:
        max_entries: entries kept; the least recently used go first.
        clock: seconds of a monotonic clock (``time.monotonic``); tests pass a fake one.
    """

    def __init__(
        self, max_entries: int = 1000, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_entries = max_entries
        self.clock = clock
        self._data: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    async def get(self, key: str) -> str | None:
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return None
            expires, value = entry
            if expires <= self.clock():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value

    async def set(self, key: str, value: str, ttl: float) -> None:
        with self._lock:
            self._data[key] = (self.clock() + ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


class RedisCacheBackend:
    """Values in Redis under ``key_prefix + key`` with ``SET ... PX``; shared by every worker."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def get(self, key: str) -> str | None:
        value = await redis_call(self.url, lambda r: r.get(key))
        return value.decode() if isinstance(value, bytes) else value

    async def set(self, key: str, value: str, ttl: float) -> None:
        ms = max(1, int(ttl * 1000))
        await redis_call(self.url, lambda r: r.set(key, value, px=ms))

    def __repr__(self) -> str:
        host = self.url.rsplit("@", 1)[-1]
        return f"RedisCacheBackend({host!r})"


_shared: dict[tuple[str, str | int], CacheBackend] = {}
_shared_lock = threading.Lock()


def shared_cache_backend(backend: str, *, url: str = "", max_entries: int = 1000) -> CacheBackend:
    """The process-wide backend for one configuration (created on first use)."""
    key: tuple[str, str | int] = ("redis", url) if backend == "redis" else ("memory", max_entries)
    with _shared_lock:
        found = _shared.get(key)
        if found is None:
            found = _shared[key] = (
                RedisCacheBackend(url) if backend == "redis" else MemoryCacheBackend(max_entries)
            )
        return found
