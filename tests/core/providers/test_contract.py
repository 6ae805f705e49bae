"""One contract, every provider (openai on both transports and both APIs) against the wire server."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from pydantic import BaseModel

from aiops_core import Agent, tool
from aiops_core.agent.events import ToolCallFinished, ToolCallStarted
from aiops_core.errors import (
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    ModelNotFoundError,
    PermissionDeniedError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
)
from aiops_core.messages import AssistantMessage, SystemMessage, UserMessage
from aiops_core.providers import (
    ChatModel,
    ModelRequest,
    ResponseDone,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
)
from aiops_core.tools import ToolDefinition
from tests.servers.llm import Drop, Fail, Hang, LLMServer, Recorded, Reply, StreamError

from .conftest import KEY, PROVIDERS, RESPONSES, handler_name

pytestmark = pytest.mark.anyio

REPORTS_REQUEST_ID = {"openai", "openai-lean", "azure_openai", "anthropic", *RESPONSES}
"""Providers whose SDK exposes the request id of a successful response."""

STATUS_TOOL = ToolDefinition(
    "device_status",
    "Return the status of a device.",
    {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
)


def ask(text: str = "Is core-sw-01 up?", **kwargs: Any) -> ModelRequest:
    return ModelRequest(
        [SystemMessage(content="You are terse."), UserMessage(content=text)], **kwargs
    )


def wire_tool_results(provider: str, req: Recorded) -> list[tuple[str, str]]:
    """(call id or tool name, text) of the tool results in a recorded request."""
    if provider in RESPONSES:
        return [
            (item["call_id"], item["output"])
            for item in req.body["input"]
            if item.get("type") == "function_call_output"
        ]
    messages = req.body["messages"]
    if provider == "anthropic":
        return [
            (block["tool_use_id"], block["content"])
            for m in messages
            if m["role"] == "user" and isinstance(m["content"], list)
            for block in m["content"]
            if block["type"] == "tool_result"
        ]
    if provider == "ollama":
        return [(m["tool_name"], m["content"]) for m in messages if m["role"] == "tool"]
    return [(m["tool_call_id"], m["content"]) for m in messages if m["role"] == "tool"]


async def collect(model: ChatModel, request: ModelRequest) -> list[Any]:
    return [event async for event in model.stream(request)]


# --------------------------------------------------------------------------- answers
async def test_plain_answer(provider: str, server: LLMServer, make_model: Callable[..., ChatModel]):
    server.script(Reply(text="core-sw-01 is up.", input_tokens=31, output_tokens=9))
    model = make_model(provider)
    response = await model.complete(ask())
    assert response.message.content == "core-sw-01 is up."
    assert response.message.tool_calls == []
    assert response.finish_reason == "stop"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (31, 9)
    assert response.usage.requests == 1
    assert response.request_id == ("req-test-1" if provider in REPORTS_REQUEST_ID else None)
    assert model.name.startswith(f"{handler_name(provider)}:")
    assert isinstance(model, ChatModel)
    await model.aclose()


async def test_system_prompt_and_history_reach_the_wire(
    provider: str, server: LLMServer, make_model: Callable[..., ChatModel]
):
    server.script(Reply(text="ok"))
    model = make_model(provider)
    await model.complete(ask("second question"))
    body = server.last.body
    if provider == "anthropic":
        cached = {"cache_control": {"type": "ephemeral"}}  # prompt caching, on by default
        assert body["system"] == [{"type": "text", "text": "You are terse.", **cached}]
        assert body["messages"] == [
            {"role": "user", "content": [{"type": "text", "text": "second question", **cached}]}
        ]
    elif provider in RESPONSES:
        assert body["input"] == [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "second question"},
        ]
    else:
        assert body["messages"][0] == {"role": "system", "content": "You are terse."}
        assert body["messages"][1]["content"] == "second question"
    await model.aclose()


async def test_one_tool_call(
    provider: str, server: LLMServer, make_model: Callable[..., ChatModel]
):
    server.script(Reply(tool_calls=[("device_status", {"name": "core-sw-01"})]))
    model = make_model(provider)
    response = await model.complete(ask(tools=[STATUS_TOOL]))
    [call] = response.message.tool_calls
    assert call.name == "device_status"
    assert call.arguments == {"name": "core-sw-01"}
    assert call.id
    assert response.finish_reason == "tool_calls"
    names = [
        t["name"] if provider == "anthropic" or provider in RESPONSES else t["function"]["name"]
        for t in server.last.body["tools"]
    ]
    assert names == ["device_status"]
    await model.aclose()


async def test_two_parallel_tool_calls(
    provider: str, server: LLMServer, make_model: Callable[..., ChatModel]
):
    server.script(
        Reply(tool_calls=[("device_status", {"name": "a"}), ("device_status", {"name": "b"})])
    )
    model = make_model(provider)
    response = await model.complete(ask(tools=[STATUS_TOOL]))
    calls = response.message.tool_calls
    assert [c.arguments["name"] for c in calls] == ["a", "b"]
    assert len({c.id for c in calls}) == 2
    await model.aclose()


async def test_agent_turn_sends_tool_results_back(
    provider: str, server: LLMServer, make_model: Callable[..., ChatModel]
):
    @tool
    async def device_status(name: str) -> str:
        """Return the status of a device."""
        return f"{name} is up"

    server.script(
        Reply(tool_calls=[("device_status", {"name": "a"}), ("device_status", {"name": "b"})]),
        Reply(text="Both are up."),
    )
    agent = Agent(make_model(provider), tools=[device_status], system_prompt="Be brief.")
    result = await agent.run("Are a and b up?")
    assert result.output == "Both are up."
    assert result.usage.requests == 2
    assert len(server.requests) == 2
    results = wire_tool_results(provider, server.last)
    assert [text for _, text in results] == ["a is up", "b is up"]
    if provider != "ollama":  # Ollama pairs results by tool name, the others by call id
        first = result.messages[1]
        assert [cid for cid, _ in results] == [c.id for c in first.tool_calls]  # type: ignore[union-attr]
    await agent.aclose()


# --------------------------------------------------------------------------- streaming
async def test_stream_text(provider: str, server: LLMServer, make_model: Callable[..., ChatModel]):
    server.script(
        Reply(text="core-sw-01 is up and healthy.", chunk=4, input_tokens=5, output_tokens=6)
    )
    model = make_model(provider)
    events = await collect(model, ask())
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(deltas) > 3
    assert "".join(deltas) == "core-sw-01 is up and healthy."
    done = events[-1]
    assert isinstance(done, ResponseDone)
    assert done.response.message.content == "core-sw-01 is up and healthy."
    assert (done.response.usage.input_tokens, done.response.usage.output_tokens) == (5, 6)
    assert done.response.finish_reason == "stop"
    assert server.last.body["stream"] is True
    await model.aclose()


async def test_stream_tool_call_arguments(
    provider: str, server: LLMServer, make_model: Callable[..., ChatModel]
):
    server.script(
        Reply(
            tool_calls=[
                ("device_status", {"name": "core-sw-01"}),
                ("device_status", {"name": "b"}),
            ],
            chunk=3,
        )
    )
    model = make_model(provider)
    events = await collect(model, ask(tools=[STATUS_TOOL]))
    call_deltas = [e for e in events if isinstance(e, ToolCallDelta)]
    if provider != "ollama":  # Ollama sends each call whole
        assert len([d for d in call_deltas if d.index == 0 and d.arguments]) > 2
    first_args = "".join(d.arguments for d in call_deltas if d.index == 0)
    assert json.loads(first_args) == {"name": "core-sw-01"}
    done = events[-1]
    assert isinstance(done, ResponseDone)
    calls = done.response.message.tool_calls
    assert [c.arguments for c in calls] == [{"name": "core-sw-01"}, {"name": "b"}]
    assert done.response.finish_reason == "tool_calls"
    await model.aclose()


async def test_agent_stream(provider: str, server: LLMServer, make_model: Callable[..., ChatModel]):
    server.script(Reply(text="streamed answer", chunk=3))
    agent = Agent(make_model(provider))
    events = [e async for e in agent.stream("hi")]
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text == "streamed answer"
    await agent.aclose()


async def test_agent_stream_with_tool_calls(
    provider: str, server: LLMServer, make_model: Callable[..., ChatModel]
):
    @tool
    async def device_status(name: str) -> str:
        """Return the status of a device."""
        return f"{name} is up"

    server.script(
        Reply(tool_calls=[("device_status", {"name": "a"}), ("device_status", {"name": "b"})]),
        Reply(text="Both are up.", chunk=4),
    )
    agent = Agent(make_model(provider), tools=[device_status])
    events = [e async for e in agent.stream("Are a and b up?")]
    started = [e for e in events if isinstance(e, ToolCallStarted)]
    finished = [e for e in events if isinstance(e, ToolCallFinished)]
    assert [e.call.arguments for e in started] == [{"name": "a"}, {"name": "b"}]
    assert [e.result.text for e in finished] == ["a is up", "b is up"]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Both are up."
    assert [text for _, text in wire_tool_results(provider, server.last)] == ["a is up", "b is up"]
    await agent.aclose()


async def test_stream_abandoned_early_leaves_the_model_usable(
    provider: str, server: LLMServer, make_model: Callable[..., ChatModel]
):
    server.script(Reply(text="a long answer in many pieces", chunk=2), Reply(text="next"))
    model = make_model(provider)
    stream = model.stream(ask())
    async for event in stream:
        assert isinstance(event, TextDelta)
        break
    await stream.aclose()  # type: ignore[attr-defined]
    response = await model.complete(ask())
    assert response.message.content == "next"
    await model.aclose()


async def test_concurrent_first_calls_share_one_pool(
    provider: str, server: LLMServer, make_model: Callable[..., ChatModel]
):
    server.script(*[Reply(text=f"answer {i}") for i in range(6)])
    model = make_model(provider)
    answers: list[str] = []

    async def one() -> None:
        answers.append((await model.complete(ask())).message.content)

    async with anyio.create_task_group() as group:
        for _ in range(6):
            group.start_soon(one)
    assert sorted(answers) == [f"answer {i}" for i in range(6)]
    assert len(model._clients) == 1  # type: ignore[attr-defined]
    await model.aclose()


async def test_injected_http_client_is_used_and_left_open(
    provider: str, server: LLMServer, make_model: Callable[..., ChatModel]
):
    # ollama's SDK speaks httpx; the others httpx2.
    module = httpx if provider == "ollama" else httpx2
    server.script(Reply(text="ok"))
    async with module.AsyncClient(headers={"X-Injected": "yes"}) as client:
        model = make_model(provider, http_client=client)
        assert (await model.complete(ask())).message.content == "ok"
        assert server.last.headers["x-injected"] == "yes"
        await model.aclose()
        assert not client.is_closed


# --------------------------------------------------------------------------- settings
async def test_request_settings_override_config(
    provider: str, server: LLMServer, make_model: Callable[..., ChatModel]
):
    server.script(Reply(text="ok"))
    model = make_model(provider, temperature=0.7, top_p=0.9)
    await model.complete(ask(settings={"temperature": 0.1}))
    body = server.last.body
    params = body["options"] if provider == "ollama" else body
    assert params["temperature"] == 0.1
    assert params["top_p"] == 0.9
    await model.aclose()


# Ollama sends arguments as JSON objects: they cannot arrive as malformed text.
@pytest.mark.parametrize("provider", [p for p in PROVIDERS if p != "ollama"])
async def test_malformed_tool_arguments_become_invalid_arguments(
    provider: str, server: LLMServer, make_model: Callable[..., ChatModel]
):
    server.script(Reply(tool_calls=[("device_status", '{"name": "core-sw')]))
    model = make_model(provider)
    if provider == "anthropic":  # only a streamed input_json_delta can be cut short
        events = await collect(model, ask(tools=[STATUS_TOOL]))
        response = events[-1].response
    else:
        response = await model.complete(ask(tools=[STATUS_TOOL]))
    [call] = response.message.tool_calls
    assert call.invalid_arguments == '{"name": "core-sw'
    assert call.arguments == {}
    await model.aclose()


class Verdict(BaseModel):
    device: str
    up: bool


async def test_structured_output_end_to_end(
    provider: str, server: LLMServer, make_model: Callable[..., ChatModel]
):
    answer = {"device": "core-sw-01", "up": True}
    if provider == "anthropic":
        server.script(Reply(tool_calls=[("Verdict", answer)]))
    else:
        server.script(Reply(text=json.dumps(answer)))
    agent = Agent(make_model(provider), output_type=Verdict)
    result = await agent.run("Is core-sw-01 up?")
    assert result.output == Verdict(device="core-sw-01", up=True)
    body = server.last.body
    if provider == "anthropic":
        assert body["tool_choice"] == {"type": "tool", "name": "Verdict"}
        assert body["tools"][-1]["input_schema"]["properties"]["device"] == {
            "title": "Device",
            "type": "string",
        }
    elif provider == "ollama":
        assert body["format"]["properties"]["up"]["type"] == "boolean"
    elif provider in RESPONSES:
        assert body["text"]["format"]["type"] == "json_schema"
        assert body["text"]["format"]["name"] == "Verdict"
    elif provider == "huggingface":  # huggingface_hub sends TGI's grammar form
        assert body["response_format"]["type"] == "json_object"
        assert body["response_format"]["value"]["required"] == ["device", "up"]
    else:
        assert body["response_format"]["type"] == "json_schema"
        assert body["response_format"]["json_schema"]["name"] == "Verdict"
    await agent.aclose()


# --------------------------------------------------------------------------- errors
ERROR_CASES = [
    (Fail(401, "Incorrect API key provided"), AuthenticationError, 401),
    (Fail(403, "Project lacks access"), PermissionDeniedError, 403),
    (Fail(404, "The model does not exist"), ModelNotFoundError, 404),
    (Fail(429, "Rate limit reached", headers={"retry-after": "7"}), RateLimitError, 429),
    (Fail(400, "This model's maximum context length is 8192 tokens"), ContextLengthError, 400),
    (Fail(400, "prompt is too long: 250000 tokens > 200000 maximum"), ContextLengthError, 400),
    (Fail(400, "Invalid value for temperature"), BadRequestError, 400),
    (Fail(500, "The server had an error"), ServerError, 500),
    (Fail(503, "Overloaded"), ServerError, 503),
]


@pytest.mark.parametrize(
    ("script", "error", "status"), ERROR_CASES, ids=lambda v: getattr(v, "__name__", None)
)
async def test_http_errors_are_mapped(
    provider: str,
    server: LLMServer,
    make_model: Callable[..., ChatModel],
    script: Fail,
    error: type[ProviderError],
    status: int,
):
    server.script(script)
    model = make_model(provider)
    with pytest.raises(error) as info:
        await model.complete(ask())
    err = info.value
    assert err.status_code == status
    assert err.provider == handler_name(provider)
    assert script.message in err.message
    if provider != "ollama":  # the ollama SDK drops response headers
        assert err.request_id == "req-fail-1"
    if status == 429 and provider != "ollama":
        assert err.retry_after == 7.0  # type: ignore[attr-defined]
    await model.aclose()


async def test_error_while_streaming_is_mapped(
    provider: str, server: LLMServer, make_model: Callable[..., ChatModel]
):
    server.script(Fail(500, "stream broke"))
    model = make_model(provider)
    with pytest.raises(ServerError):
        await collect(model, ask())
    await model.aclose()


async def test_error_event_inside_a_stream_is_mapped(
    provider: str, server: LLMServer, make_model: Callable[..., ChatModel]
):
    server.script(StreamError("the model is overloaded"))
    model = make_model(provider)
    received: list[Any] = []
    with pytest.raises(ServerError, match="the model is overloaded") as info:
        async for event in model.stream(ask()):
            received.append(event)
    assert info.value.retryable
    assert any(isinstance(e, TextDelta) for e in received)  # it failed after it had started
    await model.aclose()


async def test_timeout(provider: str, server: LLMServer, make_model: Callable[..., ChatModel]):
    server.script(Hang(1.5))
    model = make_model(provider, timeout=0.2)
    with pytest.raises(ProviderTimeoutError) as info:
        await model.complete(ask())
    assert info.value.retryable
    await model.aclose()


async def test_dropped_connection(
    provider: str, server: LLMServer, make_model: Callable[..., ChatModel]
):
    server.script(Drop())
    model = make_model(provider)
    with pytest.raises(ProviderConnectionError) as info:
        await model.complete(ask())
    assert info.value.retryable
    await model.aclose()


async def test_connection_refused(
    provider: str, make_model: Callable[..., ChatModel], server: LLMServer
):
    model = make_model(provider)
    server.stop()
    with pytest.raises(ProviderConnectionError):
        await model.complete(ask())
    await model.aclose()


# --------------------------------------------------------------------------- secrets
async def test_key_never_leaks(
    provider: str,
    server: LLMServer,
    make_model: Callable[..., ChatModel],
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.DEBUG)
    server.script(Fail(401, f"Incorrect API key provided: {KEY}"), Reply(text="ok"))
    model = make_model(provider)
    assert KEY not in repr(model)
    assert KEY not in repr(vars(model))
    with pytest.raises(AuthenticationError) as info:
        await model.complete(ask())
    err = info.value
    assert KEY not in str(err)
    assert KEY not in repr(err)
    assert err.__cause__ is None or KEY not in str(err.__cause__)
    assert "***" in err.message
    await model.complete(ask())
    assert KEY not in caplog.text
    # The key did reach the server, as a header.
    headers = server.requests[-1].headers
    assert any(KEY in value for value in headers.values())
    await model.aclose()


async def test_a_key_with_a_trailing_newline_never_leaks(
    provider: str, server: LLMServer, make_model: Callable[..., ChatModel]
):
    """A key read from a file keeps its newline: the HTTP layer refuses it as an illegal header
    value and quotes it escaped (``b'Bearer sk-...\\n'``), in the message or a chained cause."""
    key = "sk-test-secret\n"
    server.script(Reply(text="never reached"))
    model = make_model(provider, api_key=key)
    with pytest.raises(ProviderError) as info:
        await model.complete(ask())
    shown = "".join(traceback.format_exception(info.value))
    assert "sk-test-secret" not in shown, shown
    await model.aclose()


# --------------------------------------------------------------------------- thinking
def _replayed(provider: str, body: dict[str, Any], message: AssistantMessage) -> None:
    """Assert that ``body`` carries the thinking of ``message`` as ``provider`` requires."""
    name = handler_name(provider)
    if provider in RESPONSES:
        items = body["input"]
        [part] = message.thinking
        reasoning = next(i for i in items if i.get("type") == "reasoning")
        assert (reasoning["id"], reasoning["encrypted_content"]) == (part.id, part.encrypted)
        following = items[items.index(reasoning) + 1]
        assert following["id"] == message.tool_calls[0].item_id  # paired by its id
        return
    if name == "anthropic":
        turn = next(m for m in body["messages"] if m["role"] == "assistant")
        [part] = message.thinking
        assert turn["content"][0] == {
            "type": "thinking",
            "thinking": part.text,
            "signature": part.signature,
        }
        return
    turn = next(m for m in body["messages"] if m["role"] == "assistant")
    if name == "ollama":
        assert turn["thinking"] == message.thinking_text
        return
    # Chat Completions has no field for reasoning: it stays out of the request.
    assert set(turn) <= {"role", "content", "tool_calls"}


@pytest.mark.parametrize("streamed", [False, True], ids=["plain", "streamed"])
async def test_thinking_tool_turn_is_stored_and_continued(
    provider: str,
    server: LLMServer,
    make_thinking_model: Callable[..., ChatModel],
    store: Any,
    streamed: bool,
):
    @tool
    async def device_status(name: str) -> str:
        """Return the status of a device."""
        return f"{name} is up"

    server.script(
        Reply(tool_calls=[("device_status", {"name": "a"})], thinking="Check a.", chunk=3),
        Reply(text="a is up.", thinking="The tool says up.", reasoning_tokens=4),
        Reply(tool_calls=[("device_status", {"name": "b"})], thinking="Now b.", chunk=3),
        Reply(text="b is up too.", thinking="Also up.", reasoning_tokens=2),
    )
    agent = Agent(make_thinking_model(provider), tools=[device_status], store=store)
    name = handler_name(provider)

    async def turn(text: str) -> Any:
        if not streamed:
            return await agent.run(text, thread_id="ticket-42")
        events = [e async for e in agent.stream(text, thread_id="ticket-42")]
        thinking = "".join(e.text for e in events if isinstance(e, ThinkingDelta))
        answer = "".join(e.text for e in events if isinstance(e, TextDelta))
        result = events[-1].result
        assert answer == result.output
        # Readable thinking arrives as its own events (a Responses summary, a reasoning text).
        assert "Check a." in thinking or "Now b." in thinking
        return result

    result = await turn("Is a up?")
    assert result.output == "a is up."
    assert server.rejected == []
    first = result.messages[1]
    assert isinstance(first, AssistantMessage)
    [part] = first.thinking
    assert (part.text, part.provider) == ("Check a.", name)
    if name != "ollama":  # Ollama reports no reasoning token count
        assert result.usage.reasoning_tokens == 4
    _replayed(provider, server.requests[1].body, first)

    thread = await store.load("ticket-42")
    assert thread is not None
    assert thread.messages[1] == first  # stored with its signature / encrypted content

    again = await turn("And b?")
    assert again.output == "b is up too."
    assert server.rejected == []
    # The second turn's requests carry the stored first turn back as the provider requires.
    _replayed(provider, server.requests[2].body, first)
    assert len((await store.load("ticket-42")).messages) == 8  # type: ignore[union-attr]
    await agent.aclose()


CROSS = [
    ("anthropic", "openai-responses"),
    ("openai-responses", "anthropic"),
    ("anthropic", "ollama"),
    ("ollama", "anthropic"),
    ("openai-responses-lean", "azure_openai-responses"),
    ("openai", "openai-responses"),
    ("anthropic", "openai"),
]


@pytest.mark.parametrize(("first", "then"), CROSS, ids=[f"{a}-to-{b}" for a, b in CROSS])
async def test_thread_continued_on_another_provider_strips_foreign_thinking(
    first: str, then: str, server: LLMServer, make_thinking_model: Callable[..., ChatModel]
):
    @tool
    async def device_status(name: str) -> str:
        """Return the status of a device."""
        return f"{name} is up"

    from aiops_core import MemoryStore

    store = MemoryStore()
    server.script(
        Reply(tool_calls=[("device_status", {"name": "a"})], thinking="Check a."),
        Reply(text="a is up.", thinking="Up."),
        Reply(tool_calls=[("device_status", {"name": "b"})], thinking="Check b."),
        Reply(text="b is up.", thinking="Up too."),
    )
    one = Agent(make_thinking_model(first), tools=[device_status], store=store)
    assert (await one.run("Is a up?", thread_id="t")).output == "a is up."
    two = Agent(make_thinking_model(then), tools=[device_status], store=store)
    result = await two.run("And b?", thread_id="t")
    assert result.output == "b is up."
    assert server.rejected == []
    body = json.dumps(server.requests[2].body)
    assert "Check a." not in body  # the first provider's thinking went nowhere
    assert "encrypted_content" not in body or then in RESPONSES
    stored = (await store.load("t")).messages  # type: ignore[union-attr]
    providers = [p.provider for m in stored if isinstance(m, AssistantMessage) for p in m.thinking]
    assert set(providers) == {handler_name(first), handler_name(then)}  # both kept in the thread
    await one.aclose()
    await two.aclose()


OWN_REASONING_KEYS = {
    "anthropic": {"thinking", "effort", "interleaved_thinking"},
    "openai": {"reasoning_effort", "reasoning_summary"},
    "azure_openai": {"reasoning_effort", "reasoning_summary"},
    "huggingface": {"reasoning_effort"},
    "ollama": {"think"},
}
ALL_REASONING_SETTINGS = {
    "thinking": {"type": "enabled", "budget_tokens": 2048},
    "effort": "high",
    "interleaved_thinking": True,
    "reasoning_effort": "high",
    "reasoning_summary": "auto",
    "think": True,
}


async def test_other_handlers_reasoning_settings_never_reach_the_wire(
    provider: str, server: LLMServer, make_model: Callable[..., ChatModel]
):
    # Request settings meant for another provider (a fallback between providers shares them).
    own = OWN_REASONING_KEYS[handler_name(provider)]
    foreign = {k: v for k, v in ALL_REASONING_SETTINGS.items() if k not in own}
    server.script(Reply(text="ok"))
    model = make_model(provider)
    response = await model.complete(ask(settings=foreign))  # type: ignore[arg-type]
    assert response.message.content == "ok"
    assert server.rejected == []
    sent = json.dumps(server.last.body)
    for key in foreign:
        assert f'"{key}"' not in sent
    await model.aclose()
