"""The context budget (trim / refuse / unknown window) against the fake OpenAI server, and
large tool results kept whole in the thread and read back with ``read_tool_result``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from itertools import pairwise
from typing import Any

import pytest
from tests.servers.llm import LLMServer, Reply

from aiops_core import Agent, MemoryStore, tool
from aiops_core.agent._budget import estimate_tokens
from aiops_core.catalog import DEFAULT_CATALOG
from aiops_core.errors import ContextLimitError, UserError
from aiops_core.messages import AssistantMessage, ToolCall, ToolResultMessage
from aiops_core.providers import ChatModel, FunctionModel, ModelRequest, get_chat_model

pytestmark = pytest.mark.anyio

KEY = "sk-test-ctx"


@pytest.fixture
def server() -> Iterator[LLMServer]:
    with LLMServer() as srv:
        yield srv


@pytest.fixture
async def model(server: LLMServer) -> AsyncIterator[ChatModel]:
    chat = get_chat_model("openai:gpt-4o-mini", api_key=KEY, base_url=f"{server.url}/v1")
    yield chat
    await chat.aclose()


@tool
async def ping(host: str) -> str:
    """Ping a host."""
    return f"{host} answers " + "." * 400


async def _fill(agent: Agent, server: LLMServer, turns: int) -> None:
    """``turns`` turns of about 2,000 characters each; every other one calls a tool."""
    for i in range(turns):
        if i % 2:
            server.script(Reply(tool_calls=[("ping", {"host": f"sw{i}"})]), Reply(text=f"ok {i}"))
        else:
            server.script(Reply(text=f"ok {i}"))
        await agent.run(f"turn {i}: " + "x" * 2_000, thread_id="t")


def _sent(server: LLMServer) -> list[dict[str, Any]]:
    return list(server.last.body["messages"])


async def test_a_request_that_fits_is_sent_whole(server: LLMServer, model: ChatModel) -> None:
    store = MemoryStore()
    agent = Agent(model, tools=[ping], store=store, system_prompt="be brief")
    await _fill(agent, server, 4)
    server.script(Reply(text="done"))
    await agent.run("last", thread_id="t")
    thread = await store.load("t")
    assert thread is not None
    assert len(_sent(server)) == 1 + len(thread.messages) - 1  # system + all but the answer


@pytest.mark.parametrize("policy", ["trim", "refuse"])
async def test_a_request_past_the_window(server: LLMServer, model: ChatModel, policy: Any) -> None:
    store = MemoryStore()
    big = Agent(model, tools=[ping], store=store, system_prompt="be brief")
    await _fill(big, server, 6)
    before = await store.load("t")
    assert before is not None
    sent_before = len(server.requests)
    window = 3_000  # tokens: about half of the six turns fit
    agent = Agent(
        model,
        tools=[ping],
        store=store,
        system_prompt="be brief",
        context_window=window,
        max_output=100,
        context_policy=policy,
    )
    if policy == "refuse":
        with pytest.raises(ContextLimitError, match="context window of 3,000") as info:
            await agent.run("now", thread_id="t")
        assert info.value.estimate > info.value.limit == 2_900
        assert len(server.requests) == sent_before  # nothing reached the server
    else:
        server.script(Reply(text="done"))
        result = await agent.run("now", thread_id="t")
        assert result.output == "done"
        messages = _sent(server)
        assert messages[0] == {"role": "system", "content": "be brief"}
        assert messages[1]["role"] == "user"  # whole turns: the window starts on a user message
        assert messages[-1] == {"role": "user", "content": "now"}
        assert 3 < len(messages) < len(before.messages)
        calls = {c["id"] for m in messages for c in m.get("tool_calls") or []}
        answered = {m["tool_call_id"] for m in messages if m["role"] == "tool"}
        assert calls == answered and calls  # no call without its result, no orphan result
        # What was sent fits by the estimate.
        kept = result.history[-(len(messages) - 2) :]
        assert kept[0].role == "user"
        assert estimate_tokens(kept) < window - 100
    after = await store.load("t")
    assert after is not None
    grown = 2 if policy == "trim" else 0
    assert after.messages[: len(before.messages)] == before.messages  # the thread is untouched
    assert len(after.messages) == len(before.messages) + grown


async def test_a_turn_too_big_alone_is_refused_even_with_trim(
    server: LLMServer, model: ChatModel
) -> None:
    agent = Agent(model, context_window=500, max_output=10)
    with pytest.raises(ContextLimitError, match="this turn"):
        await agent.run("y" * 10_000)
    assert server.requests == []


async def test_an_unknown_window_changes_nothing(server: LLMServer, model: ChatModel) -> None:
    catalog = DEFAULT_CATALOG.with_entries({"openai:gpt-4o-mini": {"input_price": 1}})
    store = MemoryStore()
    agent = Agent(model, tools=[ping], store=store, catalog=catalog)
    assert agent.context_budget() is None
    await _fill(agent, server, 6)
    server.script(Reply(text="done"))
    await agent.run("now", thread_id="t")
    thread = await store.load("t")
    assert thread is not None
    assert len(_sent(server)) == len(thread.messages) - 1


async def test_the_catalog_window_and_the_overrides(server: LLMServer) -> None:
    gpt4o = get_chat_model("openai:gpt-4o", api_key=KEY, base_url=f"{server.url}/v1")
    budget = Agent(gpt4o, model_settings={"max_tokens": 1_000}).context_budget()
    assert budget is not None and (budget.window, budget.reserve) == (128_000, 1_000)
    budget = Agent(gpt4o, context_window=50_000).context_budget()
    assert budget is not None and (budget.window, budget.reserve) == (50_000, 16_384)
    assert Agent("test").context_budget() is None
    with pytest.raises(UserError, match="context_policy"):
        Agent("test", context_policy="shorten")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="context_window must be a positive"):
        Agent("test", context_window=0)


@tool
async def show_log(lines: int) -> str:
    """A device log."""
    return "".join(f"{i:06d} link flap on Ethernet1/1\n" for i in range(lines))


async def test_the_model_reads_more_of_a_truncated_result() -> None:
    requests: list[ModelRequest] = []

    def reply(request: ModelRequest) -> Any:
        requests.append(request)
        if len(requests) == 1:
            return AssistantMessage(
                tool_calls=[ToolCall(id="c1", name="show_log", arguments={"lines": 1_000})]
            )
        if len(requests) == 2:
            args = {"call_id": "c1", "offset": 1_000, "length": 64}
            return AssistantMessage(
                tool_calls=[ToolCall(id="c2", name="read_tool_result", arguments=args)]
            )
        return "done"

    store = MemoryStore()
    agent = Agent(FunctionModel(reply), tools=[show_log], store=store, max_tool_result_chars=1_000)
    result = await agent.run("show the log", thread_id="t")
    assert result.output == "done"
    full = "".join(f"{i:06d} link flap on Ethernet1/1\n" for i in range(1_000))
    first, second, third = requests
    assert [t.name for t in first.tools] == ["show_log"]  # offered only after a truncation
    assert [t.name for t in second.tools] == ["show_log", "read_tool_result"]
    capped = second.messages[-1]
    assert isinstance(capped, ToolResultMessage)
    assert capped.text.startswith(full[:1_000]) and len(capped.text) < 1_300
    assert "call read_tool_result(call_id='c1', offset=1000" in capped.text
    read = third.messages[-1]
    assert isinstance(read, ToolResultMessage) and not read.is_error
    assert read.text.startswith(full[1_000:1_064] + "\n[characters 1,000-1,064 of 32,000")
    thread = await store.load("t")
    assert thread is not None
    stored = [m for m in thread.messages if isinstance(m, ToolResultMessage)]
    assert stored[0].text == full  # the thread keeps the whole result


async def test_a_read_of_an_unknown_call_asks_the_model_again() -> None:
    calls = iter(
        [
            AssistantMessage(
                tool_calls=[ToolCall(id="c1", name="show_log", arguments={"lines": 100})]
            ),
            AssistantMessage(
                tool_calls=[
                    ToolCall(id="c2", name="read_tool_result", arguments={"call_id": "nope"})
                ]
            ),
        ]
    )
    seen: list[ModelRequest] = []

    def reply(request: ModelRequest) -> Any:
        seen.append(request)
        return next(calls, "done")

    await Agent(FunctionModel(reply), tools=[show_log], max_tool_result_chars=100).run("go")
    error = seen[-1].messages[-1]
    assert isinstance(error, ToolResultMessage) and error.is_error
    assert "No tool result with call_id 'nope'" in error.text


async def test_streaming_runs_are_trimmed_too(server: LLMServer, model: ChatModel) -> None:
    store = MemoryStore()
    await _fill(Agent(model, tools=[ping], store=store), server, 6)
    agent = Agent(model, tools=[ping], store=store, context_window=3_000, max_output=100)
    server.script(Reply(text="streamed"))
    text = "".join([t async for t in agent.stream_text("now", thread_id="t")])
    assert text == "streamed"
    messages = _sent(server)
    assert messages[0]["role"] == "user" and messages[-1] == {"role": "user", "content": "now"}
    assert 1 < len(messages) < 6 * 3


def test_trim_cuts_only_where_a_turn_starts() -> None:
    from aiops_core.agent._budget import ContextBudget
    from aiops_core.messages import UserMessage

    # A history that starts mid-turn (a tool result first): the cut goes to the next user message.
    history = [
        ToolResultMessage(tool_call_id="a", name="ping", content="r" * 400),
        AssistantMessage(content="a" * 400),
        UserMessage(content="u" * 400),
        AssistantMessage(tool_calls=[ToolCall(id="b", name="ping", arguments={})]),
        ToolResultMessage(tool_call_id="b", name="ping", content="r" * 400),
        AssistantMessage(content="done"),
    ]
    now = [UserMessage(content="now")]
    budget = ContextBudget("m", window=400, reserve=0, policy="trim")
    # history[0] is message 6 of the thread: the first cut allowed is past message 8 (TRIM_STEP).
    assert budget.fit([], history, now, [], first=6) == [*history[2:], *now]
    assert ContextBudget("m", 200, 0, "trim").fit([], history, now, [], first=6) == now
    # From the thread's start, no cut is allowed before message 8: all of it goes.
    assert budget.fit([], history, now, [], first=0) == now
    with pytest.raises(ContextLimitError):
        ContextBudget("m", 3, 0, "trim").fit([], history, now, [])


def test_the_trim_cut_stays_put_as_the_thread_grows() -> None:
    from aiops_core.agent._budget import TRIM_STEP, ContextBudget
    from aiops_core.messages import UserMessage

    def turn(n: int) -> list[Any]:
        return [UserMessage(content=f"{n} " + "u" * 200), AssistantMessage(content="a" * 200)]

    history: list[Any] = []
    budget = ContextBudget("m", window=2_000, reserve=0, policy="trim")
    starts = []
    for n in range(40):
        sent = budget.fit([], history, [UserMessage(content="now")], [])
        starts.append(history.index(sent[0]) if len(sent) > 1 else len(history))
        history += turn(n)
    trimmed = [s for s in starts if s]
    assert trimmed and all(s % TRIM_STEP == 0 for s in trimmed)
    changes = sum(1 for a, b in pairwise(trimmed) if a != b)
    assert changes <= len(trimmed) // 2  # the prefix stays the same for several turns
