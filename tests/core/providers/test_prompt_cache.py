"""Prompt caching: Anthropic breakpoints, OpenAI ``prompt_cache_key``, cached tokens in usage,
byte-stable request prefixes, and the local server's caching rules that price them."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from aiops_core import Agent, tool
from aiops_core.checkpoint import MemoryStore
from aiops_core.context import RunContext
from aiops_core.messages import (
    AssistantMessage,
    SystemMessage,
    ToolCall,
    ToolResultMessage,
    UserMessage,
)
from aiops_core.providers import ModelRequest, ResponseDone, get_chat_model
from aiops_core.tools import ToolDefinition
from tests.servers.llm import LLMServer, Reply
from tests.servers.llm_cache import billed_input

from .conftest import KEY

pytestmark = pytest.mark.anyio

LONG_RULES = "Answer as a careful network engineer. " * 150  # about 1400 tokens
TOOLS = [
    ToolDefinition(
        name, f"{name} a host.", {"type": "object", "properties": {"h": {"type": "string"}}}
    )
    for name in ("ping", "trace")
]


_OPEN: list[Any] = []


@pytest.fixture(autouse=True)
async def _close_models() -> Any:
    yield
    while _OPEN:
        await _OPEN.pop().aclose()


def anthropic(server: LLMServer, **options: Any) -> Any:
    made = get_chat_model(
        "anthropic:claude-sonnet-test", api_key=KEY, base_url=server.url, **options
    )
    _OPEN.append(made)
    return made


def openai(server: LLMServer, **options: Any) -> Any:
    made = get_chat_model("openai:gpt-4o-mini", api_key=KEY, base_url=f"{server.url}/v1", **options)
    _OPEN.append(made)
    return made


def conversation(turns: int) -> list:
    """A system prompt and ``turns`` tool-using exchanges, ending with a user message."""
    messages: list = [SystemMessage(content=LONG_RULES), UserMessage(content="Check a.")]
    for n in range(turns):
        call = ToolCall(id=f"t{n}", name="ping", arguments={"h": f"h{n}"})
        messages += [
            AssistantMessage(content="", tool_calls=[call]),
            ToolResultMessage(tool_call_id=f"t{n}", name="ping", content=f"h{n}: up"),
        ]
    return messages


def marks(body: dict[str, Any]) -> list[str]:
    """Where the request's ``cache_control`` breakpoints are."""
    found = [f"tool:{t['name']}" for t in body.get("tools", []) if "cache_control" in t]
    system = body.get("system")
    if isinstance(system, list):
        found += ["system" for block in system if "cache_control" in block]
    for index, message in enumerate(body["messages"]):
        found += [f"message:{index}" for block in message["content"] if "cache_control" in block]
    return found


# ---------------------------------------------------------------------------------- Anthropic
async def test_anthropic_breakpoints_on_tools_system_previous_end_and_last_message() -> None:
    with LLMServer([Reply(text="ok")]) as server:
        await anthropic(server).complete(ModelRequest(conversation(2), tools=TOOLS))
        body = server.last.body
    # messages: user, assistant, user(result), assistant, user(result)
    assert marks(body) == ["tool:trace", "system", "message:2", "message:4"]
    assert body["system"][0]["text"] == LONG_RULES
    assert "cache_control" not in body["tools"][0]


async def test_anthropic_first_turn_has_three_breakpoints_and_switch_turns_them_off() -> None:
    with LLMServer([Reply(text="ok")]) as server:
        await anthropic(server).complete(ModelRequest(conversation(0), tools=TOOLS))
        assert marks(server.last.body) == ["tool:trace", "system", "message:0"]
        await anthropic(server, prompt_cache=False).complete(
            ModelRequest(conversation(2), tools=TOOLS)
        )
        assert marks(server.last.body) == []
        assert server.last.body["system"] == LONG_RULES


@pytest.mark.parametrize("stream", [False, True])
async def test_anthropic_cache_write_then_read_reported_in_usage(stream: bool) -> None:
    with LLMServer([Reply(text="ok")], caching=True) as server:
        model = anthropic(server)
        usages = []
        for turns in (1, 2):
            request = ModelRequest(conversation(turns), tools=TOOLS)
            if stream:
                events = [event async for event in model.stream(request)]
                assert isinstance(events[-1], ResponseDone)
                usages.append(events[-1].response.usage)
            else:
                usages.append((await model.complete(request)).usage)
        reported = server.usages
    first, second = usages
    assert first.cached_tokens == 0
    assert first.cache_write_tokens == first.input_tokens == reported[0].input_tokens
    # The second request reads everything the first one wrote and writes only the new turn.
    assert second.cached_tokens == first.input_tokens
    assert 0 < second.cache_write_tokens < 40
    assert second.input_tokens == reported[1].input_tokens
    billed = billed_input("anthropic", second.input_tokens, second.cached_tokens, 0)
    assert billed < 0.15 * second.input_tokens + second.cache_write_tokens


async def test_anthropic_short_prefix_is_not_cached() -> None:
    with LLMServer([Reply(text="ok")], caching=True) as server:
        model = anthropic(server)
        for _ in range(2):
            usage = (await model.complete(ModelRequest([UserMessage(content="hi")]))).usage
            assert (usage.cached_tokens, usage.cache_write_tokens) == (0, 0)


async def test_server_refuses_a_fifth_breakpoint_like_the_api() -> None:
    mark = {"cache_control": {"type": "ephemeral"}}
    blocks = [{"type": "text", "text": f"part {n}", **mark} for n in range(5)]
    body = {"model": "claude-x", "max_tokens": 9, "system": blocks[:2]}
    body["messages"] = [{"role": "user", "content": blocks[2:]}]
    with LLMServer([Reply(text="ok")]) as server:
        async with httpx.AsyncClient() as client:
            answer = await client.post(f"{server.url}/v1/messages", json=body)
    assert answer.status_code == 400
    assert "A maximum of 4 blocks with cache_control" in answer.json()["error"]["message"]


async def test_server_models_automatic_caching_with_a_slot_of_its_own() -> None:
    from tests.servers.llm_cache import PromptCache, check_breakpoints

    long = "device status line " * 400  # well above the 1,024-token minimum
    first = {"model": "claude-x", "cache_control": {"type": "ephemeral"}}
    first["messages"] = [{"role": "user", "content": long}]
    second = {**first, "messages": [*first["messages"], {"role": "user", "content": "more"}]}
    cache = PromptCache()
    written = cache.anthropic(first)
    assert written.cached_tokens == 0 and written.cache_write_tokens > 1000
    assert cache.anthropic(second).cached_tokens == written.cache_write_tokens
    assert cache.anthropic({**second, "cache_control": None}).cached_tokens == 0  # no marks
    mark = {"cache_control": {"type": "ephemeral"}}
    blocks = [{"type": "text", "text": f"part {n}", **mark} for n in range(4)]
    four = {"model": "claude-x", "messages": [{"role": "user", "content": blocks}]}
    assert check_breakpoints(four) == 4
    with pytest.raises(Exception, match="A maximum of 4 blocks"):
        check_breakpoints({**four, "cache_control": mark["cache_control"]})


# ---------------------------------------------------------------------------------- OpenAI
@pytest.mark.parametrize(
    "options",
    [{}, {"transport": "lean"}, {"api": "responses"}, {"api": "responses", "transport": "lean"}],
    ids=["chat", "chat-lean", "responses", "responses-lean"],
)
async def test_openai_prompt_cache_key_per_thread_and_cached_tokens(options: dict) -> None:
    with LLMServer([Reply(text="ok")], caching=True) as server:
        model = openai(server, **options)

        async def call(turns: int, thread: str | None) -> Any:
            context = RunContext(thread_id=thread)
            request = ModelRequest(conversation(turns), tools=TOOLS, context=context)
            return (await model.complete(request)).usage

        first = await call(1, "thread-a")
        key_a = server.last.body["prompt_cache_key"]
        second = await call(2, "thread-a")
        assert server.last.body["prompt_cache_key"] == key_a
        assert "thread-a" not in key_a  # the provider gets a hash, not the thread's name
        await call(1, "thread-b")
        assert server.last.body["prompt_cache_key"] != key_a
        await call(1, None)
        assert "prompt_cache_key" not in server.last.body
        await openai(server, prompt_cache=False, **options).complete(
            ModelRequest(conversation(1), context=RunContext(thread_id="thread-a"))
        )
        assert "prompt_cache_key" not in server.last.body
    assert first.cached_tokens == 0 and first.input_tokens > 1024
    assert second.cached_tokens >= 1024 and (second.cached_tokens - 1024) % 128 == 0
    assert second.input_tokens - 128 < second.cached_tokens <= first.input_tokens


async def test_openai_cache_is_keyed_by_prompt_cache_key() -> None:
    with LLMServer([Reply(text="ok")], caching=True) as server:
        model = openai(server)
        for thread in ("a", "b"):
            request = ModelRequest(conversation(1), context=RunContext(thread_id=thread))
            usage = (await model.complete(request)).usage
            assert usage.cached_tokens == 0  # another key: another cache


async def test_reordered_tools_miss_the_cache() -> None:
    with LLMServer([Reply(text="ok")], caching=True) as server:
        model = openai(server)
        context = RunContext(thread_id="t")
        await model.complete(ModelRequest(conversation(1), tools=TOOLS, context=context))
        request = ModelRequest(conversation(2), tools=TOOLS[::-1], context=context)
        assert (await model.complete(request)).usage.cached_tokens == 0


# ---------------------------------------------------------------------------------- stability
@tool
def ping(h: str) -> str:
    """Ping a host."""
    return f"{h}: up"


@tool
def trace(h: str) -> str:
    """Trace a route."""
    return f"{h}: 3 hops"


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


@pytest.mark.parametrize("provider", ["anthropic", "openai", "openai-lean"])
async def test_consecutive_turns_share_a_byte_identical_prefix(provider: str) -> None:
    turn = [Reply(tool_calls=[("ping", {"h": "a"})]), Reply(text="a is up")]
    with LLMServer(turn) as server:
        if provider == "anthropic":
            model = anthropic(server)
        else:
            model = openai(server, transport="lean" if provider.endswith("lean") else "sdk")
        agent = Agent(model, tools=[trace, ping], system_prompt=LONG_RULES, store=MemoryStore())
        await agent.run("Is a up?", thread_id="t1")
        await agent.run("And again?", thread_id="t1")
        first, second = server.requests[1].body, server.requests[2].body
    key = "messages" if "messages" in first else "input"
    assert json.dumps(first["tools"]) == json.dumps(second["tools"])
    assert first.get("system") == second.get("system")
    if provider != "anthropic":
        assert first["prompt_cache_key"] == second["prompt_cache_key"]
    # Everything the previous request sent comes back unchanged (cache markers aside: the
    # provider does not hash them) as the start of the next one.
    sent = json.dumps(_strip(first[key]))
    assert json.dumps(_strip(second[key][: len(first[key])])) == sent
