"""``context_policy="summarize"``: the older turns summarised when a request would not fit, the
summary stored with the turn, and later turns loading only the messages after it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import cycle
from typing import Any

import pytest
from tests.servers.llm import SUMMARY_MARK, LLMServer, Reply

from aiops_core import Agent, MemoryStore, MiddlewareSpec
from aiops_core.agent._budget import estimate_tokens
from aiops_core.checkpoint.base import Thread
from aiops_core.errors import ContextLimitError, ServerError, SummaryError, UserError
from aiops_core.messages import (
    AssistantMessage,
    Message,
    SystemMessage,
    ToolCall,
    ToolResultMessage,
    Usage,
    UserMessage,
)
from aiops_core.providers import FunctionModel, ModelRequest, ModelResponse, get_chat_model
from aiops_core.summary import DEFAULT_PROMPT
from aiops_core.tools import ToolDefinition
from aiops_core.usage import MemoryRecorder

pytestmark = pytest.mark.anyio

WINDOW, OUTPUT = 2_000, 100  # tokens: about three of the turns below fit


class CountingStore(MemoryStore):
    """A memory store that remembers what each load was asked and returned."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[tuple[dict[str, Any], int, int]] = []  # (options, returned, count)

    async def load(self, thread_id: str, **options: Any) -> Thread | None:
        thread = await super().load(thread_id, **options)
        if thread is not None:
            self.loads.append((options, len(thread.messages), thread.info.message_count))
        return thread


def ping(host: str) -> str:
    """Ping a host."""
    return f"{host} answers " + "." * 800


def is_summary_request(request: ModelRequest) -> bool:
    first = request.messages[0]
    return isinstance(first, SystemMessage) and first.content == DEFAULT_PROMPT


class Conversation:
    """A model that calls ``ping`` once per question, then answers; and writes summaries."""

    def __init__(self) -> None:
        self.requests: list[ModelRequest] = []
        self.summaries: list[ModelRequest] = []

    def __call__(self, request: ModelRequest) -> Any:
        if is_summary_request(request):
            self.summaries.append(request)
            return ModelResponse(
                message=AssistantMessage(content=f"SUMMARY {len(self.summaries)}"),
                usage=Usage(input_tokens=1_000, output_tokens=7, requests=1),
            )
        self.requests.append(request)
        usage = Usage(input_tokens=10, output_tokens=1, requests=1)
        if isinstance(request.messages[-1], UserMessage):
            call = ToolCall(id=f"c{len(self.requests)}", name="ping", arguments={"host": "sw"})
            return ModelResponse(message=AssistantMessage(tool_calls=[call]), usage=usage)
        return ModelResponse(message=AssistantMessage(content="ok " + "y" * 300), usage=usage)


def agent_for(model: Any, store: MemoryStore, **options: Any) -> Agent:
    return Agent(
        FunctionModel(model),
        tools=[ping],
        store=store,
        system_prompt="be brief",
        context_window=WINDOW,
        max_output=OUTPUT,
        context_policy="summarize",
        **options,
    )


def assert_pairs_intact(messages: Sequence[Message]) -> None:
    """Each tool call is answered right after it, and no result comes without its call."""
    called: set[str] = set()
    for index, message in enumerate(messages):
        if isinstance(message, AssistantMessage) and message.tool_calls:
            ids = [c.id for c in message.tool_calls]
            following = messages[index + 1 : index + 1 + len(ids)]
            assert [m.tool_call_id for m in following if isinstance(m, ToolResultMessage)] == ids
            called.update(ids)
        if isinstance(message, ToolResultMessage):
            assert message.tool_call_id in called


def fits(request: ModelRequest, tools: Sequence[ToolDefinition]) -> bool:
    return estimate_tokens(request.messages, tools) <= WINDOW - OUTPUT


async def test_a_long_tool_using_conversation_is_summarised_stored_and_loaded_from_its_end() -> (
    None
):
    model, store = Conversation(), CountingStore()
    agent = agent_for(model, store)
    tools = list(agent._definitions)
    turns = 10
    for n in range(turns):
        result = await agent.run(f"question {n}: " + "x" * 500, thread_id="t")
        assert result.output.startswith("ok")
    assert len(model.summaries) >= 2  # the conversation was summarised, more than once
    for request in model.requests:
        assert fits(request, tools)  # every request sent fits the window
        assert_pairs_intact(request.messages)
        assert isinstance(request.messages[1], UserMessage)  # the kept part: whole turns
    # The summary rides in the system prompt of the requests after it.
    last = model.requests[-1].messages[0]
    assert isinstance(last, SystemMessage)
    assert (
        last.content
        == f"be brief\n\nSummary of the earlier conversation:\nSUMMARY {len(model.summaries)}"
    )
    # The first summary read the oldest turns; a later one continues the summary so far.
    first_text = model.summaries[0].messages[1].content
    assert "question 0" in first_text and "called: ping" in first_text
    assert "tool ping: sw answers" in first_text
    assert "Summary so far:\nSUMMARY 1" in model.summaries[1].messages[1].content

    # Stored: every message of every turn, and the summary with the position it covers.
    whole = await store.load("t")
    assert whole is not None and len(whole.messages) == 4 * turns
    summary = whole.info.metadata["summary"]
    assert summary["text"] == f"SUMMARY {len(model.summaries)}"
    upto = summary["upto"]
    assert 0 < upto < 4 * turns and isinstance(whole.messages[upto], UserMessage)
    # What was summarised is what the requests left out: the last request's history starts at
    # the stored position.
    assert model.requests[-1].messages[1] == whole.messages[upto]

    # The next turn loads only the tail after the summary.
    store.loads.clear()
    await agent.run("one more", thread_id="t")
    [(options, returned, count)] = store.loads
    assert options["since_summary"] is True
    assert (returned, count) == (4 * turns - upto, 4 * turns)
    assert returned < 12  # bounded by the window, not by the thread


async def test_an_old_thread_without_a_summary_loads_whole_then_gets_one() -> None:
    model, store = Conversation(), CountingStore()
    trimmed = Agent(FunctionModel(model), tools=[ping], store=store)  # no budget, no summary
    for n in range(6):
        await trimmed.run(f"question {n}: " + "x" * 500, thread_id="old")
    assert model.summaries == []
    store.loads.clear()
    agent = agent_for(model, store)
    await agent.run("and now?", thread_id="old")
    assert store.loads[0][1:] == (24, 24)  # no summary yet: every message was read
    assert len(model.summaries) == 1  # then the older turns were summarised
    thread = await store.load("old", since_summary=True)
    assert thread is not None and thread.info.metadata["summary"]["text"] == "SUMMARY 1"
    assert len(thread.messages) < 24 + 4


@pytest.mark.parametrize("failure", ["error", "empty"])
async def test_a_failing_summary_fails_the_turn_and_stores_nothing(failure: str) -> None:
    model, store = Conversation(), MemoryStore()
    agent = agent_for(model, store)
    for n in range(3):
        await agent.run(f"question {n}: " + "x" * 500, thread_id="t")
    before = await store.load("t")
    assert before is not None and "summary" not in before.info.metadata

    def broken(request: ModelRequest) -> str:
        if failure == "error":
            raise ServerError("upstream overloaded", provider="function", status_code=503)
        return "  "

    summarizer = FunctionModel(broken, model_name="summarizer")
    agent = agent_for(model, store, summary_model=summarizer)
    with pytest.raises(SummaryError, match="'function:summarizer'") as info:
        await agent.run("question 3: " + "x" * 500, thread_id="t")
    assert info.value.model == "function:summarizer"
    if failure == "error":
        assert isinstance(info.value.__cause__, ServerError)
        assert info.value.retryable and info.value.status_code == 503
    else:
        assert "empty summary" in str(info.value)
    after = await store.load("t")
    assert after is not None
    assert after.messages == before.messages and after.info.metadata == before.info.metadata


async def test_the_summary_model_tokens_count_in_the_run_and_reach_the_recorder() -> None:
    model, store, recorder = Conversation(), MemoryStore(), MemoryRecorder()
    summaries: list[ModelRequest] = []

    def summarise(request: ModelRequest) -> ModelResponse:
        summaries.append(request)
        return ModelResponse(
            message=AssistantMessage(content="the gist"),
            usage=Usage(input_tokens=1_234, output_tokens=56, requests=1),
        )

    summarizer = FunctionModel(summarise, model_name="summarizer")
    agent = agent_for(model, store, summary_model=summarizer, recorder=recorder)
    results = [await agent.run(f"question {n}: " + "x" * 500, thread_id="t") for n in range(4)]
    assert len(summaries) == 1 and model.summaries == []  # the summary model wrote it
    [summarised] = [r for r in results if r.usage.input_tokens > 1_000]
    assert summarised.usage.input_tokens == 1_234 + 10 * summarised.steps
    assert summarised.usage.output_tokens == 56 + summarised.steps
    assert summarised.usage.requests == 1 + summarised.steps
    calls = [r for r in recorder.model_calls if r.model == "function:summarizer"]
    assert [(c.usage.input_tokens, c.usage.output_tokens) for c in calls] == [(1_234, 56)]
    assert calls[0].run_id == summarised.run_id and calls[0].outcome == "ok"
    [run] = [r for r in recorder.runs if r.run_id == summarised.run_id]
    assert run.usage.input_tokens == summarised.usage.input_tokens


async def test_when_even_the_summary_and_this_turn_do_not_fit_nothing_is_sent() -> None:
    model, store = Conversation(), MemoryStore()
    agent = agent_for(model, store)
    await agent.run("question 0", thread_id="t")
    sent = len(model.requests)
    with pytest.raises(
        ContextLimitError, match="a summary, the system prompt, tools and this turn"
    ) as info:
        await agent.run("y" * 8_000, thread_id="t")
    assert "context_window" in str(info.value)  # says what to change
    assert len(model.requests) == sent and model.summaries == []
    thread = await store.load("t")
    assert thread is not None and len(thread.messages) == 4


async def test_streaming_runs_summarise_too() -> None:
    model, store = Conversation(), MemoryStore()
    agent = agent_for(model, store)
    for n in range(5):
        async for _ in agent.stream(f"question {n}: " + "x" * 500, thread_id="t"):
            pass
    assert model.summaries
    thread = await store.load("t")
    assert thread is not None and thread.info.metadata["summary"]["text"].startswith("SUMMARY")


async def test_summary_options_are_checked() -> None:
    with pytest.raises(UserError, match='context_policy="summarize"'):
        Agent("test", summary_model="test")
    with pytest.raises(UserError, match='"trim", "refuse" or "summarize"'):
        Agent("test", context_policy="shorten")  # type: ignore[arg-type]
    async with Agent("test", context_policy="summarize", summary_model="test") as agent:
        assert agent.summary_model is not None and agent.summary_model.name == "test:test"


async def test_a_summary_longer_than_reserved_is_cut_so_the_request_still_fits() -> None:
    model, store = Conversation(), MemoryStore()
    verbose = FunctionModel(lambda request: "z" * 20_000, model_name="verbose")
    agent = agent_for(model, store, summary_model=verbose)
    for n in range(5):
        await agent.run(f"question {n}: " + "x" * 500, thread_id="t")
    tools = list(agent._definitions)
    assert all(fits(request, tools) for request in model.requests)
    thread = await store.load("t", since_summary=True)
    assert thread is not None
    text = thread.info.metadata["summary"]["text"]
    assert text.endswith("…") and len(text) <= (WINDOW - OUTPUT) // 4 * 4


async def test_over_the_wire_every_request_fits_and_keeps_its_tool_pairs() -> None:
    """The OpenAI SDK against the local server: what reaches the provider is valid and fits."""
    replies = cycle([Reply(tool_calls=[("ping", {"host": "sw"})]), Reply(text="ok " + "y" * 300)])

    def respond(route: str, body: dict[str, Any]) -> Reply:
        if SUMMARY_MARK in json.dumps(body):
            return Reply(text="the gist")
        return next(replies)

    store = MemoryStore()
    with LLMServer(responder=respond) as server:
        model = get_chat_model("openai:gpt-4o-mini", api_key="sk-test", base_url=f"{server.url}/v1")
        try:
            agent = Agent(
                model,
                tools=[ping],
                store=store,
                system_prompt="be brief",
                context_window=WINDOW,
                max_output=OUTPUT,
                context_policy="summarize",
            )
            for n in range(8):
                await agent.run(f"question {n}: " + "x" * 500, thread_id="t")
        finally:
            await model.aclose()
        bodies = [r.body for r in server.requests]
    summaries = [b for b in bodies if SUMMARY_MARK in json.dumps(b)]
    turns = [b for b in bodies if SUMMARY_MARK not in json.dumps(b)]
    assert summaries and all(b["max_completion_tokens"] <= WINDOW // 4 for b in summaries)
    for body in turns:
        messages = body["messages"]
        assert len(json.dumps(messages)) < (WINDOW - OUTPUT) * 4  # well within the window
        assert messages[1]["role"] == "user"
        for index, message in enumerate(messages):
            ids = [c["id"] for c in message.get("tool_calls") or []]
            if ids:
                answers = messages[index + 1 : index + 1 + len(ids)]
                assert [m.get("tool_call_id") for m in answers] == ids
    assert "Summary of the earlier conversation:\nthe gist" in turns[-1]["messages"][0]["content"]
    thread = await store.load("t")
    assert thread is not None and len(thread.messages) == 32


async def test_a_summary_written_before_a_pause_is_kept_and_the_resume_loads_after_it() -> None:
    model, store = Conversation(), CountingStore()
    agent = agent_for(model, store)
    for n in range(3):
        await agent.run(f"question {n}: " + "x" * 500, thread_id="t")
    approving = agent_for(
        model, store, middleware=[MiddlewareSpec("tool_approval", config={"tools": ["ping"]})]
    )
    paused = await approving.run("question 3: " + "x" * 1_500, thread_id="t")
    assert paused.status == "pending_approval" and len(model.summaries) == 1
    thread = await store.load("t")
    assert thread is not None and len(thread.messages) == 12  # the paused turn is not stored yet
    upto = thread.info.metadata["summary"]["upto"]
    assert thread.info.metadata["summary"]["text"] == "SUMMARY 1" and 0 < upto <= 12
    store.loads.clear()
    assert paused.pending is not None
    done = await approving.resume(
        thread_id="t", pause_id=paused.pending.pause_id, approve=[paused.pending.calls[0].id]
    )
    assert done.output.startswith("ok")
    assert store.loads[0][1] == 12 - upto  # the resume read only what the summary leaves
    thread = await store.load("t")
    assert thread is not None and len(thread.messages) == 16
    assert "pending_approval" not in thread.info.metadata
    assert thread.info.metadata["summary"]["upto"] >= upto
