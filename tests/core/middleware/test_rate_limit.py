"""``rate_limit``: token buckets per user or model; memory and real Redis backends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from aiops_core import Agent, MiddlewareSpec
from aiops_core.errors import UsageLimitExceeded, UserError
from aiops_core.messages import AssistantMessage, Usage
from aiops_core.middleware import resolve_specs
from aiops_core.middleware._redis import close_redis_clients, redis_client
from aiops_core.middleware.rate_limit_backends import MemoryBuckets, RedisBuckets
from aiops_core.providers import ModelResponse

from .conftest import Script

pytestmark = pytest.mark.anyio


def rate_limit(**config: Any) -> MiddlewareSpec:
    config.setdefault("key_prefix", f"test:{uuid.uuid4().hex}:")
    return MiddlewareSpec("rate_limit", config=config)


async def test_requests_beyond_the_budget_raise() -> None:
    agent = Agent(
        Script("ok").model, middleware=[rate_limit(requests_per_minute=2, on_limit="raise")]
    )
    await agent.run("1", user="alice")
    await agent.run("2", user="alice")
    with pytest.raises(UsageLimitExceeded, match="2 requests per minute; try again in"):
        await agent.run("3", user="alice")


async def test_buckets_are_per_user_by_default_and_per_model_when_asked() -> None:
    spec = rate_limit(requests_per_minute=1, on_limit="raise")
    agent = Agent(Script("ok").model, middleware=[spec])
    await agent.run("1", user="alice")
    await agent.run("1", user="bob")  # bob has his own bucket
    with pytest.raises(UsageLimitExceeded):
        await agent.run("2", user="alice")
    per_model = Agent(
        Script("ok").model,
        middleware=[rate_limit(requests_per_minute=1, key="model", on_limit="raise")],
    )
    await per_model.run("1", user="alice")
    with pytest.raises(UsageLimitExceeded):
        await per_model.run("1", user="bob")  # same model, shared bucket


async def test_waits_for_the_bucket_when_configured() -> None:
    # 1200 per minute refills one request every 50 ms: the third call waits briefly.
    spec = rate_limit(requests_per_minute=1200, on_limit="wait", max_wait=5)
    agent = Agent(Script("ok").model, middleware=[spec])
    buckets = MemoryBuckets()
    assert await buckets.take("k", 2, 20, 1) == 0
    assert await buckets.take("k", 2, 20, 1) == 0
    assert await buckets.take("k", 2, 20, 1) > 0
    for _ in range(3):
        assert (await agent.run("x", user="w")).output == "ok"


async def test_a_wait_longer_than_max_wait_raises() -> None:
    agent = Agent(Script("ok").model, middleware=[rate_limit(requests_per_minute=1, max_wait=0.5)])
    await agent.run("1")
    with pytest.raises(UsageLimitExceeded):
        await agent.run("2")


async def test_tokens_per_minute_charge_the_reported_usage() -> None:
    heavy = ModelResponse(
        AssistantMessage(content="long"), usage=Usage(input_tokens=900, output_tokens=200)
    )
    spec = rate_limit(requests_per_minute=None, tokens_per_minute=1000, on_limit="raise")
    agent = Agent(Script(heavy).model, middleware=[spec])
    await agent.run("first", user="t")  # estimated small, charged 1100: the bucket is in debt
    with pytest.raises(UsageLimitExceeded, match="1000 tokens per minute"):
        await agent.run("second", user="t")


def test_config_errors_name_the_field() -> None:
    with pytest.raises(UserError, match="set requests_per_minute or tokens_per_minute"):
        resolve_specs([rate_limit(requests_per_minute=None)])
    with pytest.raises(UserError, match="invalid config key"):
        resolve_specs([rate_limit(key="ip")])


@pytest.fixture
def redis_url(redis_url_factory: Any) -> Iterator[str]:
    url = redis_url_factory(14)
    yield url
    close_redis_clients()


@pytest.mark.redis
async def test_redis_buckets_are_shared_and_atomic(redis_url: str) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    spec = rate_limit(
        backend="redis", url=redis_url, key_prefix=prefix, requests_per_minute=3, on_limit="raise"
    )
    agent = Agent(Script("ok").model, middleware=[spec])
    for _ in range(3):
        await agent.run("x", user="alice")
    with pytest.raises(UsageLimitExceeded):
        await agent.run("x", user="alice")
    await agent.run("x", user="bob")
    client = redis_client(redis_url)
    keys = sorted(k.decode() for k in client.scan_iter(match=f"{prefix}*"))
    assert keys == [f"{prefix}-/alice:requests", f"{prefix}-/bob:requests"]
    assert 0 < client.ttl(keys[0]) <= 120
    client.delete(*keys)


@pytest.mark.redis
async def test_redis_bucket_script_reloads_after_a_flush(redis_url: str) -> None:
    buckets = RedisBuckets(redis_url)
    key = f"test:{uuid.uuid4().hex}"
    assert await buckets.take(key, 5, 1, 1) == 0
    redis_client(redis_url).script_flush()
    assert await buckets.take(key, 5, 1, 1) == 0
    redis_client(redis_url).delete(key)


async def test_a_dead_backend_fails_open_with_a_warning_or_closed() -> None:
    url = "redis://127.0.0.1:1/14"
    try:
        result = await Agent(
            Script("ok").model, middleware=[rate_limit(backend="redis", url=url)]
        ).run("x")
        assert any("'rate_limit' bypassed" in w for w in result.warnings)
        from aiops_core.errors import StoreUnavailableError

        closed = Agent(
            Script("ok").model, middleware=[rate_limit(backend="redis", url=url, fail_open=False)]
        )
        with pytest.raises(StoreUnavailableError):
            await closed.run("x")
    finally:
        close_redis_clients()


async def test_streamed_runs_take_from_the_same_buckets() -> None:
    spec = rate_limit(requests_per_minute=1, on_limit="raise")
    agent = Agent(Script("ok").model, middleware=[spec])
    _ = [e async for e in agent.stream("1", user="s")]
    with pytest.raises(UsageLimitExceeded):
        _ = [e async for e in agent.stream("2", user="s")]
