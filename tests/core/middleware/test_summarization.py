"""``summarization``: long histories are summarised; the last messages and tool pairs stay whole."""

from __future__ import annotations

from typing import Any

import pytest

from aiops_core import Agent, MiddlewareSpec
from aiops_core.checkpoint import MemoryStore
from aiops_core.errors import UserError
from aiops_core.messages import (
    AssistantMessage,
    SystemMessage,
    ToolCall,
    ToolResultMessage,
    UserMessage,
)
from aiops_core.middleware import resolve_specs
from aiops_core.middleware.summarization import split_point

from .conftest import Script

pytestmark = pytest.mark.anyio

LONG = "interface status line " * 40  # about 220 tokens


def summarization(**config: Any) -> MiddlewareSpec:
    return MiddlewareSpec("summarization", config=config)


async def _fill(store: MemoryStore, turns: int) -> None:
    history: list[Any] = []
    for i in range(turns):
        history += [
            UserMessage(content=f"question {i}: {LONG}"),
            AssistantMessage(content=f"answer {i}"),
        ]
    await store.append("t", history)


async def test_long_history_is_summarised_by_the_configured_model(
    scripted_provider: dict[str, Script],
) -> None:
    summariser = scripted_provider["small"] = Script("SUMMARY: 6 questions about interfaces")
    store = MemoryStore()
    await _fill(store, 6)
    main = Script("final")
    agent = Agent(
        main.model,
        system_prompt="You are a NOC assistant.",
        store=store,
        middleware=[summarization(model="scripted:small", max_tokens=500, keep_last=3)],
    )
    assert (await agent.run("and now?", thread_id="t")).output == "final"
    assert summariser.calls == 1
    summary_input = summariser.requests[0].messages[-1].text  # type: ignore[union-attr]
    assert "question 0" in summary_input and "answer 4" in summary_input
    sent = main.requests[0].messages
    assert isinstance(sent[0], SystemMessage)
    assert sent[0].content.startswith("You are a NOC assistant.")
    assert "SUMMARY: 6 questions about interfaces" in sent[0].content
    assert [m.content for m in sent[1:]][-1] == "and now?"
    assert len(sent) == 1 + 3
    # The stored history is untouched.
    thread = await store.load("t")
    assert thread is not None and len(thread.messages) == 14


async def test_short_conversations_are_left_alone(scripted_provider: dict[str, Script]) -> None:
    summariser = scripted_provider["small"] = Script("never")
    main = Script("ok")
    agent = Agent(main.model, middleware=[summarization(model="scripted:small")])
    await agent.run("hello")
    assert summariser.calls == 0 and len(main.requests[0].messages) == 1


async def test_without_a_model_the_runs_own_model_summarises() -> None:
    store = MemoryStore()
    await _fill(store, 6)
    main = Script(
        lambda r: "SUMMARY" if "Summarise the conversation" in str(r.messages[0]) else "final"
    )
    agent = Agent(main.model, store=store, middleware=[summarization(max_tokens=500, keep_last=2)])
    assert (await agent.run("next", thread_id="t")).output == "final"
    assert main.calls == 2
    answer_request = main.requests[1].messages
    assert isinstance(answer_request[0], SystemMessage) and "SUMMARY" in answer_request[0].content
    # keep_last=2 would start at "answer 5": the kept part starts at the user message before it.
    assert [type(m).__name__ for m in answer_request[1:]] == [
        "UserMessage",
        "AssistantMessage",
        "UserMessage",
    ]


def test_the_cut_starts_at_a_user_message_and_keeps_tool_pairs() -> None:
    calls = [ToolCall(id="a", name="x"), ToolCall(id="b", name="y")]
    turn = [
        AssistantMessage(tool_calls=calls),
        ToolResultMessage(tool_call_id="a", content="ra"),
        ToolResultMessage(tool_call_id="b", content="rb"),
        AssistantMessage(content="done"),
    ]
    messages = [
        UserMessage(content="q1"),
        AssistantMessage(content="a1"),
        UserMessage(content="q2"),
        *turn,
    ]
    # keep_last=2 would start at the result "rb": the cut moves back to the user message "q2".
    for keep in (2, 3, 4, 5):
        assert split_point(messages, keep) == 2
    assert split_point(messages, 10) == 0
    # One long turn without a later user message: tool pairs stay whole at least.
    long_turn = [UserMessage(content="q"), AssistantMessage(content="thinking"), *turn]
    assert split_point(long_turn, 2) == 2  # the call, not its results
    assert split_point(long_turn, 3) == 2


async def test_a_kept_tail_without_a_user_message_gets_one(
    scripted_provider: dict[str, Script],
) -> None:
    from aiops_core import tool

    @tool
    async def show_log(page: int) -> str:
        """A page of the log."""
        return f"page {page}: " + LONG

    scripted_provider["small"] = Script("S")
    pages = iter(range(100))

    def reply(request: Any) -> Any:
        page = next(pages)
        if page < 6:
            return AssistantMessage(
                tool_calls=[ToolCall(id=f"p{page}", name="show_log", arguments={"page": page})]
            )
        return "read them all"

    main = Script(reply)
    agent = Agent(
        main.model,
        tools=[show_log],
        middleware=[summarization(model="scripted:small", max_tokens=600, keep_last=4)],
    )
    assert (await agent.run("read the whole log")).output == "read them all"
    last = main.requests[-1].messages
    assert isinstance(last[0], SystemMessage) and "S" in last[0].content
    assert isinstance(last[1], UserMessage) and "summarised in the system message" in last[1].text
    assert isinstance(last[2], AssistantMessage) and last[2].tool_calls  # a call, then its result
    assert isinstance(last[3], ToolResultMessage)


async def test_the_summary_is_reused_within_a_run(scripted_provider: dict[str, Script]) -> None:
    from aiops_core import tool

    @tool
    async def ping() -> str:
        """Ping."""
        return "pong"

    summariser = scripted_provider["small"] = Script("S")
    store = MemoryStore()
    await _fill(store, 6)
    main = Script(AssistantMessage(tool_calls=[ToolCall(id="p", name="ping")]), "final")
    agent = Agent(
        main.model,
        tools=[ping],
        store=store,
        middleware=[summarization(model="scripted:small", max_tokens=500, keep_last=3)],
    )
    await agent.run("go", thread_id="t")
    assert main.calls == 2 and summariser.calls == 1


def test_config_errors_name_the_field() -> None:
    with pytest.raises(UserError, match=r"invalid config model: .*Unknown provider 'nosuch'"):
        resolve_specs([summarization(model="nosuch:model")])
    with pytest.raises(UserError, match="invalid config keep_last"):
        resolve_specs([summarization(keep_last=0)])


async def test_streamed_runs_are_summarised_too() -> None:
    from aiops_core.agent import TextDelta as AgentTextDelta

    store = MemoryStore()
    await _fill(store, 6)
    main = Script(
        lambda r: "SUMMARY" if "Summarise the conversation" in str(r.messages[0]) else "final"
    )
    agent = Agent(main.model, store=store, middleware=[summarization(max_tokens=500, keep_last=2)])
    text = "".join(
        [e.text async for e in agent.stream("next", thread_id="t") if isinstance(e, AgentTextDelta)]
    )
    assert text == "final"  # the summary request's text never reaches the user
    assert main.calls == 2 and "SUMMARY" in main.requests[1].messages[0].content  # type: ignore[union-attr]
