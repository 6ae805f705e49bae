"""``open_store``: URLs to stores, with passwords kept out of sight."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiops_core.checkpoint import MemoryStore, RedisStore, SQLStore, open_store
from aiops_core.checkpoint.url import default_store_url
from aiops_core.errors import UnknownNameError, UserError

pytestmark = pytest.mark.anyio


async def test_memory_url() -> None:
    store = open_store("memory://")
    assert isinstance(store, MemoryStore)
    assert open_store("memory://?ttl=5")._ttl == 5_000_000  # type: ignore[attr-defined]


async def test_sqlite_urls(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}?ttl=60")
    assert isinstance(store, SQLStore)
    assert store.url.database == str(tmp_path / "a.db")
    assert store._ttl == 60_000_000
    assert store.durable
    await store.aclose()
    fast = open_store(f"sqlite:///{tmp_path / 'a.db'}?durable=false")
    assert isinstance(fast, SQLStore) and not fast.durable
    await fast.aclose()
    with pytest.raises(UserError, match="durable"):
        open_store(f"sqlite:///{tmp_path / 'a.db'}?durable=maybe")
    memory = open_store("sqlite://")
    assert isinstance(memory, SQLStore) and memory._in_memory
    await memory.aclose()


async def test_postgres_urls_use_psycopg_and_take_a_schema() -> None:
    for url in ("postgresql://u:pw@db/x?schema=chat", "postgres://u:pw@db/x?schema=chat"):
        store = open_store(url)
        assert isinstance(store, SQLStore)
        assert store.url.drivername == "postgresql+psycopg"
        assert store.schema == "chat"
        assert "pw" not in repr(store)
        await store.aclose()
    store = open_store("postgresql+psycopg://u@db/x", pool_size=3)
    assert isinstance(store, SQLStore)
    await store.aclose()


async def test_redis_urls() -> None:
    store = open_store("redis://:pw@127.0.0.1:6379/5?prefix=cp&ttl=60")
    assert isinstance(store, RedisStore)
    assert (store.target.db, store.prefix, store._ttl) == (5, "cp", 60_000_000)
    assert repr(store) == "RedisStore('redis://***@127.0.0.1:6379/5')"
    await store.aclose()
    default = open_store("redis://localhost")
    assert isinstance(default, RedisStore) and default.target.db == 2
    await default.aclose()


async def test_options_win_over_the_url() -> None:
    store = open_store("memory://?ttl=5", ttl=7)
    assert store._ttl == 7_000_000  # type: ignore[attr-defined]


def test_unknown_or_malformed_urls_are_user_errors() -> None:
    with pytest.raises(UnknownNameError, match="Did you mean 'redis'"):
        open_store("rediz://localhost")
    with pytest.raises(UserError, match="Invalid store URL"):
        open_store("just-a-path.db")
    with pytest.raises(UserError, match="ttl"):
        open_store("memory://?ttl=soon")
    with pytest.raises(UserError) as caught:
        open_store("postgresql://u:topsecret@db/x?ttl=-1")
    assert "topsecret" not in str(caught.value)


def test_default_store_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_store_url() == f"sqlite:///{tmp_path}/aiops/threads.db"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_store_url() == f"sqlite:///{tmp_path}/home/.local/share/aiops/threads.db"
