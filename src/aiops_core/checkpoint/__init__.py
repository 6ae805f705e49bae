"""Checkpoint stores: where conversations live.

``MemoryStore`` (one process), ``SQLStore`` (SQLite file or PostgreSQL) and ``RedisStore``
(single server, Sentinel or Cluster) share the :class:`CheckpointStore` protocol; ``open_store``
builds any of them from a URL. ``SQLStore`` and ``RedisStore`` import SQLAlchemy / redis only
when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from .base import CheckpointStore, Thread, ThreadInfo, ThreadPage
from .memory import MemoryStore

__all__ = [
    "CheckpointStore",
    "MemoryStore",
    "RedisStore",
    "SQLStore",
    "Thread",
    "ThreadInfo",
    "ThreadPage",
    "default_store_url",
    "open_store",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "SQLStore": "aiops_core.checkpoint.sql",
        "RedisStore": "aiops_core.checkpoint.redis",
        "default_store_url": "aiops_core.checkpoint.url",
        "open_store": "aiops_core.checkpoint.url",
    },
)


if TYPE_CHECKING:
    from .redis import RedisStore
    from .sql import SQLStore
    from .url import default_store_url, open_store
