"""``model_call_limit`` and ``tool_call_limit``: per run and per thread; end gracefully or raise."""

from __future__ import annotations

from typing import Any

import pytest

from aiops_core import Agent, MiddlewareSpec, tool
from aiops_core.agent import TextDelta as AgentTextDelta
from aiops_core.checkpoint import MemoryStore
from aiops_core.errors import UsageLimitExceeded, UserError
from aiops_core.messages import AssistantMessage, ToolCall, ToolResultMessage
from aiops_core.middleware import resolve_specs

from .conftest import Script, call

pytestmark = pytest.mark.anyio


@tool
async def ping(host: str = "a") -> str:
    """Ping a host."""
    return f"{host} ok"


@tool
async def traceroute(host: str = "a") -> str:
    """Trace a route."""
    return f"{host} 3 hops"


def loop_forever() -> Script:
    """A model that asks for one ping per step and never answers."""
    counter = iter(range(1000))
    return Script(lambda r: call("ping", f"c{next(counter)}", host="h"))


def model_limit(**config: Any) -> MiddlewareSpec:
    return MiddlewareSpec("model_call_limit", config=config)


def tool_limit(**config: Any) -> MiddlewareSpec:
    return MiddlewareSpec("tool_call_limit", config=config)


async def test_model_run_limit_ends_gracefully_with_the_message() -> None:
    script = loop_forever()
    agent = Agent(script.model, tools=[ping], middleware=[model_limit(run_limit=3)])
    result = await agent.run("x")
    assert script.calls == 3
    assert result.output == "I have reached the limit of model calls for this run, so I stop here."


async def test_model_run_limit_can_raise() -> None:
    agent = Agent(
        loop_forever().model, tools=[ping], middleware=[model_limit(run_limit=2, on_limit="raise")]
    )
    with pytest.raises(UsageLimitExceeded, match="2 per run"):
        await agent.run("x")


async def test_model_thread_limit_counts_the_history() -> None:
    store = MemoryStore()
    script = Script("answer")
    agent = Agent(
        script.model,
        store=store,
        middleware=[model_limit(run_limit=None, thread_limit=2, message="stop ({scope})")],
    )
    assert (await agent.run("1", thread_id="t")).output == "answer"
    assert (await agent.run("2", thread_id="t")).output == "answer"
    assert (await agent.run("3", thread_id="t")).output == "stop (conversation)"
    assert (await agent.run("1", thread_id="other")).output == "answer"
    assert script.calls == 3


async def test_model_limit_ends_a_streamed_run_too() -> None:
    agent = Agent(
        loop_forever().model, tools=[ping], middleware=[model_limit(run_limit=1, message="enough")]
    )
    text = "".join([e.text async for e in agent.stream("x") if isinstance(e, AgentTextDelta)])
    assert text == "enough"


async def test_tool_run_limit_returns_a_tool_error_to_the_model() -> None:
    script = Script(
        AssistantMessage(tool_calls=[ToolCall(id=f"c{i}", name="ping") for i in range(3)]), "done"
    )
    agent = Agent(script.model, tools=[ping], middleware=[tool_limit(run_limit=2)])
    result = await agent.run("x")
    results = [m for m in result.messages if isinstance(m, ToolResultMessage)]
    assert [r.is_error for r in results].count(True) == 1
    assert "tool call limit reached: 2 per run" in next(r.text for r in results if r.is_error)


async def test_per_tool_limits() -> None:
    script = Script(
        AssistantMessage(
            tool_calls=[
                ToolCall(id="a", name="ping"),
                ToolCall(id="b", name="ping"),
                ToolCall(id="c", name="traceroute"),
            ]
        ),
        "done",
    )
    agent = Agent(
        script.model,
        tools=[ping, traceroute],
        middleware=[tool_limit(per_tool_run_limit={"ping": 1})],
    )
    result = await agent.run("x")
    errors = {m.name for m in result.messages if isinstance(m, ToolResultMessage) and m.is_error}
    oks = [m.name for m in result.messages if isinstance(m, ToolResultMessage) and not m.is_error]
    assert errors == {"ping"} and sorted(oks) == ["ping", "traceroute"]


async def test_tool_thread_limit_counts_earlier_turns_and_can_raise() -> None:
    store = MemoryStore()
    counter = iter(range(100))

    def reply(request: Any) -> Any:
        last = request.messages[-1]
        return "done" if isinstance(last, ToolResultMessage) else call("ping", f"c{next(counter)}")

    agent = Agent(
        Script(reply).model,
        tools=[ping],
        store=store,
        middleware=[tool_limit(per_tool_thread_limit={"ping": 2}, on_limit="raise")],
    )
    await agent.run("1", thread_id="t")
    await agent.run("2", thread_id="t")
    with pytest.raises(UsageLimitExceeded, match="'ping': 2 per conversation"):
        await agent.run("3", thread_id="t")


def test_config_errors_name_the_field() -> None:
    with pytest.raises(UserError, match="invalid config run_limit"):
        resolve_specs([model_limit(run_limit=0)])
    with pytest.raises(UserError, match=r"invalid config message: .*may use \{scope\}"):
        resolve_specs([model_limit(message="stopped after {limit}")])
    with pytest.raises(UserError, match="invalid config on_limit"):
        resolve_specs([tool_limit(on_limit="explode")])
