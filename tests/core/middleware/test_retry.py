"""``retry``: backoff on retryable provider errors, streaming retries invisible to the user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from aiops_core import Agent, MiddlewareSpec
from aiops_core.agent import TextDelta as AgentTextDelta
from aiops_core.errors import AuthenticationError, RateLimitError, ServerError, UserError
from aiops_core.middleware import resolve_specs
from aiops_core.middleware import retry as retry_module
from aiops_core.providers import FunctionModel, ModelRequest

from .conftest import Script

pytestmark = pytest.mark.anyio


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the waits instead of sleeping."""
    waits: list[float] = []

    async def fake_sleep(delay: float) -> None:
        waits.append(delay)

    monkeypatch.setattr(retry_module, "sleep", fake_sleep)
    return waits


def retry(**config: Any) -> MiddlewareSpec:
    return MiddlewareSpec("retry", config=config)


async def test_retryable_errors_are_retried_until_success(sleeps: list[float]) -> None:
    script = Script(
        ServerError("boom", status_code=503), ServerError("boom", status_code=502), "fine"
    )
    agent = Agent(script.model, middleware=[retry(max_attempts=3, initial_delay=1, jitter=False)])
    result = await agent.run("x")
    assert result.output == "fine"
    assert script.calls == 3
    assert sleeps == [1.0, 2.0]  # exponential


async def test_gives_up_after_max_attempts(sleeps: list[float]) -> None:
    script = Script(ServerError("down", status_code=500))
    agent = Agent(script.model, middleware=[retry(max_attempts=4, initial_delay=0.1)])
    with pytest.raises(ServerError, match="down"):
        await agent.run("x")
    assert script.calls == 4
    assert len(sleeps) == 3


async def test_non_retryable_errors_are_raised_at_once(sleeps: list[float]) -> None:
    script = Script(AuthenticationError("bad key", status_code=401), "never")
    agent = Agent(script.model, middleware=[retry()])
    with pytest.raises(AuthenticationError):
        await agent.run("x")
    assert script.calls == 1 and sleeps == []


async def test_jitter_stays_in_the_upper_half_and_delays_are_capped(sleeps: list[float]) -> None:
    script = Script(*[ServerError("x")] * 6, "ok")
    config = {"max_attempts": 7, "initial_delay": 1, "max_delay": 4, "max_total_delay": 100}
    agent = Agent(script.model, middleware=[retry(**config)])
    await agent.run("x")
    bases = [1, 2, 4, 4, 4, 4]
    assert len(sleeps) == 6
    assert all(base / 2 <= wait <= base for base, wait in zip(bases, sleeps, strict=True))


async def test_retry_after_is_honoured(sleeps: list[float]) -> None:
    script = Script(RateLimitError("slow down", retry_after=7.5, status_code=429), "ok")
    agent = Agent(script.model, middleware=[retry(initial_delay=0.1, jitter=False)])
    assert (await agent.run("x")).output == "ok"
    assert sleeps == [7.5]


async def test_max_total_delay_stops_retrying(sleeps: list[float]) -> None:
    script = Script(RateLimitError("slow down", retry_after=30), "ok")
    agent = Agent(script.model, middleware=[retry(max_total_delay=10)])
    with pytest.raises(RateLimitError):
        await agent.run("x")
    assert script.calls == 1 and sleeps == []


def test_config_errors_name_the_field() -> None:
    with pytest.raises(UserError, match="max_delay must be at least initial_delay"):
        resolve_specs([retry(initial_delay=5, max_delay=1)])
    with pytest.raises(UserError, match="invalid config multiplier"):
        resolve_specs([retry(multiplier=0.5)])


async def test_a_retry_before_the_first_token_is_invisible_in_a_stream(sleeps: list[float]) -> None:
    attempts = 0

    async def chunks(request: ModelRequest) -> AsyncIterator[str]:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise ServerError("overloaded", status_code=529)
        for part in ("all ", "good"):
            yield part

    agent = Agent(FunctionModel(stream_function=chunks), middleware=[retry(initial_delay=0.01)])
    events = [e async for e in agent.stream("x")]
    assert [e.text for e in events if isinstance(e, AgentTextDelta)] == ["all ", "good"]
    assert attempts == 2 and len(sleeps) == 1


async def test_a_failure_after_the_first_token_is_not_retried(sleeps: list[float]) -> None:
    attempts = 0

    async def chunks(request: ModelRequest) -> AsyncIterator[str]:
        nonlocal attempts
        attempts += 1
        yield "partial"
        raise ServerError("dropped", status_code=502)

    agent = Agent(FunctionModel(stream_function=chunks), middleware=[retry()])
    seen: list[str] = []
    with pytest.raises(ServerError):
        async for event in agent.stream("x"):
            if isinstance(event, AgentTextDelta):
                seen.append(event.text)
    assert seen == ["partial"] and attempts == 1 and sleeps == []
