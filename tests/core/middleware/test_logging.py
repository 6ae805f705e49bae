"""``logging``: one structured line per model and tool call; bodies only at DEBUG; no secrets."""

from __future__ import annotations

import logging

import pytest

from aiops_core import Agent, MiddlewareSpec, tool
from aiops_core.errors import ServerError
from aiops_core.messages import AssistantMessage, Usage
from aiops_core.providers import ModelResponse

from .conftest import Script, call

pytestmark = pytest.mark.anyio

LOGGER = "aiops_core.calls"


@tool
async def device_status(name: str) -> str:
    """Status of a device."""
    return f"{name} is up; enable secret 5 $1$abcd$efgh"


def records(caplog: pytest.LogCaptureFixture, event: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "aiops", {}).get("event") == event]


async def test_one_line_per_model_call_and_tool_call(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    script = Script(
        call("device_status", name="core-sw-01"),
        ModelResponse(
            AssistantMessage(content="It is up."), usage=Usage(input_tokens=40, output_tokens=5)
        ),
    )
    agent = Agent(script.model, tools=[device_status], middleware=[MiddlewareSpec("logging")])
    await agent.run("Is core-sw-01 up?", thread_id="t-1")
    models = records(caplog, "model_call")
    tools = records(caplog, "tool_call")
    assert len(models) == 2 and len(tools) == 1
    first, second = (r.aiops for r in models)  # type: ignore[attr-defined]
    assert first["model"] == "function:script" and first["tool_calls"] == "device_status"
    assert first["outcome"] == "ok" and first["latency_ms"] >= 0 and first["thread_id"] == "t-1"
    assert (
        second["input_tokens"] == 40
        and second["output_tokens"] == 5
        and second["tool_calls"] is None
    )
    assert tools[0].aiops["tool"] == "device_status" and tools[0].aiops["outcome"] == "ok"  # type: ignore[attr-defined]
    assert "model_call model=function:script" in models[0].getMessage()
    # No bodies at INFO.
    assert "core-sw-01 is up" not in caplog.text and "Is core-sw-01 up?" not in caplog.text


async def test_bodies_only_at_debug_and_never_secrets(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    script = Script(
        call("device_status", name="edge-1"), "done, api_key=sk-abcdefghijklmnopqrstuvwx"
    )
    agent = Agent(script.model, tools=[device_status], middleware=[MiddlewareSpec("logging")])
    await agent.run("check edge-1, my password: Hunter2!")
    text = caplog.text
    assert "edge-1 is up" in text  # tool result body at DEBUG
    assert "check edge-1" in text  # request body at DEBUG
    for secret in ("Hunter2!", "$1$abcd$efgh", "sk-abcdefghijklmnopqrstuvwx"):
        assert secret not in text


async def test_failed_calls_are_logged_with_their_error_type(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    agent = Agent(
        Script(ServerError("upstream", status_code=500)).model,
        middleware=[MiddlewareSpec("logging")],
    )
    with pytest.raises(ServerError):
        await agent.run("x")
    (line,) = records(caplog, "model_call")
    assert line.aiops["outcome"] == "error:ServerError"  # type: ignore[attr-defined]


async def test_streamed_calls_are_logged_with_first_token_latency(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    agent = Agent(Script("streamed").model, middleware=[MiddlewareSpec("logging")])
    _ = [e async for e in agent.stream("x")]
    (line,) = records(caplog, "model_call")
    assert line.aiops["stream"] is True and "first_token_ms" in line.aiops  # type: ignore[attr-defined]
