"""``cache``: hits, scoping, TTL, no cached errors, streaming hits; memory and real Redis backends."""

from __future__ import annotations

import gc
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest

from aiops_core import Agent, MiddlewareSpec
from aiops_core.agent import TextDelta as AgentTextDelta
from aiops_core.errors import ServerError
from aiops_core.messages import SystemMessage, UserMessage
from aiops_core.middleware._redis import close_redis_clients, redis_client
from aiops_core.middleware.cache import cache_key
from aiops_core.middleware.cache_backends import MemoryCacheBackend
from aiops_core.providers import ModelRequest

from .conftest import Script

pytestmark = pytest.mark.anyio


def cache(**config: Any) -> MiddlewareSpec:
    # A fresh prefix per test: the memory backend is shared by the whole process.
    config.setdefault("key_prefix", f"test:{uuid.uuid4().hex}:")
    return MiddlewareSpec("cache", config=config)


def counting() -> Script:
    return Script(lambda r: f"answer {len(r.messages)}")


async def test_identical_requests_hit_the_cache_across_runs() -> None:
    script = counting()
    spec = cache()
    first = await Agent(script.model, middleware=[spec]).run("What is BGP?")
    second = await Agent(script.model, middleware=[spec]).run("What  is BGP? ")  # normalised
    assert first.output == second.output == "answer 1"
    assert script.calls == 1
    assert second.usage.input_tokens == 0 and second.usage.output_tokens == 0


async def test_different_requests_miss() -> None:
    script = counting()
    spec = cache()
    agent = Agent(script.model, middleware=[spec])
    await agent.run("one")
    await agent.run("two")
    await Agent(script.model, middleware=[spec], model_settings={"temperature": 0.9}).run("one")
    await Agent(script.model, middleware=[spec], system_prompt="be brief").run("one")
    assert script.calls == 4


async def test_entries_are_scoped_per_user_and_tenant() -> None:
    script = counting()
    agent = Agent(script.model, middleware=[cache()])
    await agent.run("q", user="alice")
    await agent.run("q", user="alice")
    await agent.run("q", user="bob")
    await agent.run("q", user="alice", tenant="acme")
    assert script.calls == 3
    shared = Agent(script.model, middleware=[cache(scope="global")])
    await shared.run("q", user="alice")
    await shared.run("q", user="bob")
    assert script.calls == 4


async def test_errors_are_never_cached() -> None:
    script = Script(ServerError("down", status_code=500), "recovered")
    spec = cache()
    with pytest.raises(ServerError):
        await Agent(script.model, middleware=[spec]).run("q")
    assert (await Agent(script.model, middleware=[spec]).run("q")).output == "recovered"
    assert script.calls == 2


async def test_entries_expire_after_the_ttl() -> None:
    now = [1000.0]
    backend = MemoryCacheBackend(clock=lambda: now[0])
    await backend.set("k", "v", ttl=60)
    now[0] += 59.9
    assert await backend.get("k") == "v"
    now[0] += 0.1
    assert await backend.get("k") is None


def test_memory_backend_evicts_least_recently_used() -> None:
    async def scenario() -> None:
        backend = MemoryCacheBackend(max_entries=2)
        await backend.set("a", "1", 60)
        await backend.set("b", "2", 60)
        await backend.get("a")
        await backend.set("c", "3", 60)
        assert await backend.get("b") is None and await backend.get("a") == "1"

    anyio.run(scenario)


def test_key_covers_model_messages_tools_and_settings() -> None:
    base = ModelRequest(messages=[SystemMessage(content="s"), UserMessage(content="q")])
    key = cache_key(base, model="m", scope="global")
    assert key == cache_key(base, model="m", scope="global")
    assert key != cache_key(base, model="other", scope="global")
    assert key != cache_key(base, model="m", scope="acme/alice")
    assert key != cache_key(base.replace(settings={"temperature": 0.1}), model="m", scope="global")
    assert key.startswith("global:")


async def test_a_streamed_run_is_answered_from_the_cache() -> None:
    calls = 0

    async def chunks(request: ModelRequest) -> AsyncIterator[str]:
        nonlocal calls
        calls += 1
        for part in ("cached ", "answer"):
            yield part

    from aiops_core.providers import FunctionModel

    agent = Agent(FunctionModel(stream_function=chunks), middleware=[cache()])
    first = "".join([e.text async for e in agent.stream("q") if isinstance(e, AgentTextDelta)])
    second = "".join([e.text async for e in agent.stream("q") if isinstance(e, AgentTextDelta)])
    assert first == second == "cached answer"
    assert calls == 1


# -- Redis ---------------------------------------------------------------------------------------


@pytest.fixture
def redis_url(redis_url_factory: Any) -> Iterator[str]:
    url = redis_url_factory(14)
    yield url
    close_redis_clients()


@pytest.mark.redis
async def test_redis_backend_shares_entries_and_sets_a_ttl(redis_url: str) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    spec = cache(backend="redis", url=redis_url, key_prefix=prefix, ttl=120)
    script = counting()
    await Agent(script.model, middleware=[spec]).run("q", user="u1")
    result = await Agent(script.model, middleware=[spec]).run("q", user="u1")
    assert result.output == "answer 1" and script.calls == 1
    client = redis_client(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}*"))
    assert len(keys) == 1 and keys[0].decode().startswith(f"{prefix}-/u1:")
    assert 0 < client.ttl(keys[0]) <= 120
    client.delete(*keys)


async def test_unreachable_redis_bypasses_the_cache_with_a_warning() -> None:
    spec = cache(backend="redis", url="redis://127.0.0.1:1/14")
    script = counting()
    try:
        result = await Agent(script.model, middleware=[spec]).run("q")
    finally:
        close_redis_clients()
    assert result.output == "answer 1"
    assert any("'cache' bypassed" in w for w in result.warnings)


@pytest.mark.redis
def test_redis_backend_serves_runs_on_separate_event_loops(redis_url: str) -> None:
    # Each run_sync starts and ends its own loop; no connection may be tied to (and leak with) one.
    prefix = f"test:{uuid.uuid4().hex}:"
    script = counting()
    agent = Agent(
        script.model, middleware=[cache(backend="redis", url=redis_url, key_prefix=prefix)]
    )
    outputs = [agent.run_sync("same question").output for _ in range(3)]
    gc.collect()
    assert outputs == ["answer 1"] * 3 and script.calls == 1
    client = redis_client(redis_url)
    client.delete(*client.scan_iter(match=f"{prefix}*"))
