"""``timeout``: deadlines per model call and per tool call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from aiops_core import Agent, MiddlewareSpec, tool
from aiops_core.errors import ProviderTimeoutError
from aiops_core.messages import ToolResultMessage
from aiops_core.middleware import retry as retry_module
from aiops_core.providers import FunctionModel, ModelRequest

from .conftest import Script, call

pytestmark = pytest.mark.anyio


def timeout(**config: Any) -> MiddlewareSpec:
    return MiddlewareSpec("timeout", config=config)


async def slow(request: ModelRequest) -> str:
    await anyio.sleep(10)
    return "too late"


async def test_a_slow_model_call_raises_a_retryable_timeout() -> None:
    agent = Agent(FunctionModel(slow), middleware=[timeout(model_timeout=0.05)])
    with pytest.raises(ProviderTimeoutError, match=r"longer than 0\.05s") as info:
        await agent.run("x")
    assert info.value.retryable


async def test_retry_outside_the_timeout_tries_again(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_sleep(delay: float) -> None:
        return None

    monkeypatch.setattr(retry_module, "sleep", no_sleep)
    attempts = 0

    async def first_slow(request: ModelRequest) -> str:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            await anyio.sleep(10)
        return "second try"

    agent = Agent(
        FunctionModel(first_slow),
        middleware=[MiddlewareSpec("retry", priority=10), timeout(model_timeout=0.05)],
    )
    assert (await agent.run("x")).output == "second try"
    assert attempts == 2


async def test_a_slow_stream_times_out() -> None:
    async def trickle(request: ModelRequest) -> AsyncIterator[str]:
        yield "a"
        await anyio.sleep(10)
        yield "b"

    agent = Agent(FunctionModel(stream_function=trickle), middleware=[timeout(model_timeout=0.05)])
    with pytest.raises(ProviderTimeoutError):
        _ = [e async for e in agent.stream("x")]


@tool
async def hang() -> str:
    """Never returns in time."""
    await anyio.sleep(10)
    return "late"


async def test_a_slow_tool_returns_a_tool_error() -> None:
    script = Script(call("hang"), "gave up")
    agent = Agent(
        script.model, tools=[hang], middleware=[timeout(tool_timeout=0.05)], tool_timeout=None
    )
    result = await agent.run("x")
    err = next(m for m in result.messages if isinstance(m, ToolResultMessage))
    assert err.is_error and "timed out after 0.05s" in err.text
    assert result.output == "gave up"


async def test_no_deadline_when_turned_off() -> None:
    async def quick(request: ModelRequest) -> str:
        await anyio.sleep(0.01)
        return "ok"

    agent = Agent(FunctionModel(quick), middleware=[timeout(model_timeout=None, tool_timeout=None)])
    assert (await agent.run("x")).output == "ok"
