"""``ModelRetry``: a tool sends the model back with a correction, a bounded number of times."""

from __future__ import annotations

import pytest

from aiops_core import Agent, MemoryStore, ModelRetry, tool
from aiops_core.errors import ToolError, ToolRetriesExceeded, UserError
from aiops_core.messages import AssistantMessage, ToolCall, ToolResultMessage
from aiops_core.providers import FunctionModel, ModelRequest


def caller(*hosts: str):
    """A model that calls ``lookup`` with each host in turn, then repeats the last result."""
    queue = list(hosts)
    seen: list[ModelRequest] = []

    def reply(request: ModelRequest) -> str | AssistantMessage:
        seen.append(request)
        if not queue:
            return f"answer: {request.messages[-1].text}"
        host = queue.pop(0)
        return AssistantMessage(
            tool_calls=[ToolCall(id=f"c{len(seen)}", name="lookup", arguments={"host": host})]
        )

    return FunctionModel(reply), seen


@tool
def lookup(host: str) -> str:
    """Resolve a host.

    Args:
        host: a fully qualified name.
    """
    if "." not in host:
        raise ModelRetry(f"{host!r} is not fully qualified: add the domain, e.g. {host}.lab")
    return f"{host} is 10.0.0.1"


@pytest.mark.anyio
async def test_model_retry_sends_the_message_back_and_the_model_tries_again():
    model, seen = caller("r1", "r1.lab")
    result = await Agent(model, tools=[lookup]).run("where is r1?")
    retry = seen[1].messages[-1]
    assert isinstance(retry, ToolResultMessage) and retry.is_error
    assert retry.text == (
        "'r1' is not fully qualified: add the domain, e.g. r1.lab\n"
        "Fix the problem and call 'lookup' again."
    )
    assert result.output == "answer: r1.lab is 10.0.0.1"


@pytest.mark.anyio
async def test_retries_past_the_limit_fail_the_run_with_a_clear_error_and_store_nothing():
    store = MemoryStore()
    model, _ = caller("r1", "r2", "r3")
    agent = Agent(model, tools=[lookup], store=store)  # tool_retries=1 by default
    with pytest.raises(ToolRetriesExceeded) as caught:
        await agent.run("where?", thread_id="t1")
    err = caught.value
    assert isinstance(err, ToolError) and err.tool_name == "lookup"
    assert "Tool 'lookup' asked the model to retry 2 times in a row (at most 1" in str(err)
    assert "@tool(max_retries=...) or Agent(tool_retries=...)" in str(err)
    assert "'r2' is not fully qualified" in str(err)
    assert await store.load("t1") is None


@pytest.mark.anyio
async def test_the_agent_default_and_the_tools_own_max_retries():
    model, _ = caller("a", "b", "c", "d.lab")
    assert (await Agent(model, tools=[lookup], tool_retries=3).run("x")).output.startswith("answer")

    strict = tool(name="lookup", max_retries=0)(lookup_fn)
    model, _ = caller("a", "a.lab")
    with pytest.raises(ToolRetriesExceeded, match=r"retry 1 times in a row \(at most 0"):
        await Agent(model, tools=[strict], tool_retries=5).run("x")


def lookup_fn(host: str) -> str:
    """Resolve a host."""
    if "." not in host:
        raise ModelRetry("add the domain")
    return "ok"


@pytest.mark.anyio
async def test_a_success_resets_the_count_of_retries_in_a_row():
    model, _ = caller("a", "a.lab", "b", "b.lab")
    result = await Agent(model, tools=[lookup]).run("x")  # two retries, never two in a row
    assert result.output == "answer: b.lab is 10.0.0.1"


def test_bad_retry_settings_are_refused():
    with pytest.raises(UserError, match="tool_retries must be 0 or more"):
        Agent("test", tool_retries=-1)
    with pytest.raises(UserError, match="max_retries must be 0 or more"):
        tool(max_retries=-1)(lookup_fn)
