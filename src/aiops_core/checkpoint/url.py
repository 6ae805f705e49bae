"""``open_store(url)``: one way to configure a store everywhere."""

from __future__ import annotations

from typing import Any

from ..errors import UnknownNameError
from .base import CheckpointStore
from .memory import MemoryStore

__all__ = ["open_store"]


def open_store(url: str, **options: Any) -> CheckpointStore:
    """Turn a store URL into a store: ``memory://`` (more schemes arrive with their stores)."""
    scheme = url.partition("://")[0].lower()
    if scheme == "memory":
        return MemoryStore()
    raise UnknownNameError("store scheme", scheme, ["memory"])
