"""``RedisStore`` against the store contract on the real Redis server (database 13)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta

import anyio
import pytest

from aiops_core import Agent, open_store
from aiops_core.checkpoint import CheckpointStore, RedisStore
from aiops_core.errors import CorruptThreadError, StoreUnavailableError
from aiops_core.providers import FunctionModel

from .contract import StoreContract, StoreFactory, turn

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

DB = 13


async def _delete_prefix(url: str, prefix: str) -> None:
    store = RedisStore(url, prefix=prefix)
    try:
        keys = [k async for k in store.client.scan_iter(match=f"{prefix}:*", count=500)]
        if keys:
            await store.client.delete(*keys)
    finally:
        await store.aclose()


class TestRedisStore(StoreContract):
    cluster_indexing = False
    server_time = True

    @pytest.fixture(autouse=True)
    def _url(self, redis_url_factory: Callable[[int], str]) -> Iterator[None]:
        base = redis_url_factory(DB)
        self.prefix = f"cptest-{uuid.uuid4().hex[:10]}"
        self.store_url = f"{base}?prefix={self.prefix}"
        yield
        anyio.run(_delete_prefix, base, self.prefix)

    @pytest.fixture
    async def store_factory(self) -> AsyncIterator[StoreFactory]:
        made: list[RedisStore] = []

        def factory(**options: object) -> RedisStore:
            assert self.store_url is not None
            store = open_store(self.store_url, **options)
            assert isinstance(store, RedisStore)
            if self.cluster_indexing:
                # Exercise the Redis Cluster code path (indexes kept by the client) on one server.
                store._index = ""
            made.append(store)
            return store

        yield factory
        for store in made:
            await store.aclose()

    async def corrupt(self, store: CheckpointStore, thread_id: str) -> None:
        assert isinstance(store, RedisStore)
        await store.client.rpush(store._keys(thread_id)[1], b"\xff\xfe not json")


class TestRedisStoreClusterIndexing(TestRedisStore):
    """The contract again, with the listing indexes maintained outside the Lua scripts."""

    cluster_indexing = True


async def test_keys_follow_the_documented_layout(redis_url_factory: Callable[[int], str]) -> None:
    prefix = f"cptest-{uuid.uuid4().hex[:10]}"
    store = RedisStore(redis_url_factory(DB), prefix=prefix, ttl=timedelta(hours=1))
    try:
        await store.append("ticket-4711", turn("1"), owner="alice")
        keys = sorted([k.decode() async for k in store.client.scan_iter(match=f"{prefix}:*")])
        assert keys == [
            f"{prefix}:index:owner:alice",
            f"{prefix}:index:updated",
            f"{prefix}:{{ticket-4711}}:info",
            f"{prefix}:{{ticket-4711}}:messages",
            f"{prefix}:{{ticket-4711}}:ops",
        ]
        ttl = await store.client.pttl(f"{prefix}:{{ticket-4711}}:messages")
        assert 3_500_000 < ttl <= 3_600_000
        assert await store.client.llen(f"{prefix}:{{ticket-4711}}:messages") == 2
        assert await store.client.pttl(f"{prefix}:{{ticket-4711}}:ops") > 290_000
    finally:
        await _delete_prefix(redis_url_factory(DB), prefix)
        await store.aclose()


async def test_wrong_key_type_is_corruption_of_that_thread(
    redis_url_factory: Callable[[int], str],
) -> None:
    prefix = f"cptest-{uuid.uuid4().hex[:10]}"
    store = RedisStore(redis_url_factory(DB), prefix=prefix)
    try:
        await store.client.set(store._keys("odd")[1], b"a string, not a list")
        await store.client.hset(store._keys("odd")[0], mapping={"created": 1, "updated": 1})
        with pytest.raises(CorruptThreadError, match="'odd'"):
            await store.load("odd")
    finally:
        await _delete_prefix(redis_url_factory(DB), prefix)
        await store.aclose()


async def test_unreachable_redis_raises_store_unavailable_without_password() -> None:
    store = RedisStore("redis://:s3cret-pw@127.0.0.1:1/2", socket_connect_timeout=1)
    try:
        assert "s3cret-pw" not in repr(store)
        with pytest.raises(StoreUnavailableError) as caught:
            await store.append("t1", turn("1"))
        assert "s3cret-pw" not in str(caught.value)
        with pytest.raises(StoreUnavailableError):
            await Agent(FunctionModel(lambda r: "ok"), store=store).run("hi", thread_id="t1")
        degraded = await Agent(FunctionModel(lambda r: "ok"), store=store, degrade=True).run(
            "hi", thread_id="t1"
        )
        assert degraded.output == "ok"
        assert any("unavailable" in w for w in degraded.warnings)
    finally:
        await store.aclose()


async def test_a_resent_append_is_stored_once(redis_url_factory: Callable[[int], str]) -> None:
    from aiops_core.checkpoint import redis as module

    prefix = f"cptest-{uuid.uuid4().hex[:10]}"
    store = RedisStore(redis_url_factory(DB), prefix=prefix)
    try:
        await store.append("t1", turn("1"))
        # What redis-py does after losing a reply: send the very same EVALSHA again.
        keys = store._keys("t1")
        args = ["t1", "", "", "", "", "", store._index, 0, 0, 2, "op-1", 0, "r1", "r2"]
        first = await store._script(module._APPEND, keys, args)
        again = await store._script(module._APPEND, keys, args)
        assert int(first[1]) == int(again[1]) == 4
        assert await store.client.llen(keys[1]) == 4
        assert await store.delete("t1") is True
        assert await store.client.exists(*keys) == 0
    finally:
        await _delete_prefix(redis_url_factory(DB), prefix)
        await store.aclose()


def test_a_store_serves_one_event_loop_after_another(
    redis_url_factory: Callable[[int], str],
) -> None:
    """What ``Agent.run_sync`` does: each call runs in a new, short-lived event loop."""
    prefix = f"cptest-{uuid.uuid4().hex[:10]}"
    store = RedisStore(redis_url_factory(DB), prefix=prefix)
    agent = Agent(FunctionModel(lambda r: f"saw {len(r.messages)}"), store=store)
    assert agent.run_sync("one", thread_id="t1").output == "saw 1"
    assert agent.run_sync("two", thread_id="t1").output == "saw 3"

    async def finish() -> None:
        assert await store.delete("t1") is True
        await store.aclose()

    anyio.run(finish)
    anyio.run(_delete_prefix, redis_url_factory(DB), prefix)
