"""What the loop records: tool calls (server, outcome, size), failures, recorder failures."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from aiops_core import Agent, tool
from aiops_core.errors import RateLimitError
from aiops_core.messages import AssistantMessage, ToolCall
from aiops_core.providers import FunctionModel, ModelRequest, get_chat_model
from aiops_core.usage import MemoryRecorder, MultiRecorder, UsageRecorder
from tests.core.providers.conftest import model_spec
from tests.servers.llm import Fail, LLMServer

pytestmark = pytest.mark.anyio


@tool(metadata={"server": "netbox"})
async def lookup(name: str) -> str:
    """Look a device up."""
    return f"{name}: active"


@tool
async def broken(name: str) -> str:
    """Always fails."""
    raise RuntimeError("backend down")


def two_calls(request: ModelRequest) -> AssistantMessage:
    if request.messages[-1].role == "tool":
        return AssistantMessage(content="done")
    return AssistantMessage(
        tool_calls=[
            ToolCall(id="c1", name="lookup", arguments={"name": "sw1"}),
            ToolCall(id="c2", name="broken", arguments={"name": "sw1"}),
        ]
    )


async def test_tool_calls_are_recorded_with_server_outcome_and_size() -> None:
    recorder = MemoryRecorder()
    agent = Agent(FunctionModel(two_calls), tools=[lookup, broken], recorder=recorder)
    result = await agent.run("check sw1", user="alice", thread_id=None)
    records = {r.tool: r for r in recorder.tool_calls}
    assert records["lookup"].server == "netbox"
    assert records["lookup"].outcome == "ok"
    assert records["lookup"].result_chars == len("sw1: active")
    assert records["broken"].outcome == "tool_error" and records["broken"].server is None
    assert {r.run_id for r in recorder.tool_calls} == {result.run_id}
    assert [r.step for r in recorder.model_calls] == [1, 2]


async def test_a_failed_model_call_is_recorded_with_its_error_class(server: LLMServer) -> None:
    spec, options = model_spec("openai", server.url)
    model = get_chat_model(spec, **options)
    server.script(Fail(429, "slow down"))
    recorder = MemoryRecorder()
    with pytest.raises(RateLimitError):
        await Agent(model, recorder=recorder).run("hi")
    await model.aclose()
    (call,) = recorder.model_calls
    assert (call.outcome, call.usage.total_tokens) == ("RateLimitError", 0)
    assert recorder.runs[0].outcome == "RateLimitError"


class Exploding(UsageRecorder):
    async def model_call(self, record) -> None:  # type: ignore[no-untyped-def]
        raise OSError("disk full")


async def test_a_failing_recorder_never_fails_the_run(caplog: pytest.LogCaptureFixture) -> None:
    memory = MemoryRecorder()
    agent = Agent("test", recorder=MultiRecorder([memory, Exploding()]))
    with caplog.at_level(logging.ERROR, "aiops_core.usage"):
        result = await agent.run("hi")
    assert result.output
    assert "usage recorder MultiRecorder failed" in caplog.text
    assert len(memory.model_calls) == 1


async def test_no_recorder_means_no_observer() -> None:
    agent = Agent("test")
    assert agent._usage is None
    assert (await agent.run("hi")).output


async def test_memory_ledger_filters() -> None:
    recorder = MemoryRecorder()
    await Agent("test", recorder=recorder).run("hi", user="alice")
    since = recorder.model_calls[0].started_at
    assert await recorder.spent(since=since, user="alice") == Decimal(0)
    assert recorder.model_calls[0].cost == Decimal(0)  # the offline test model is free
