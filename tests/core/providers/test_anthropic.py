"""The ``anthropic`` handler: tool_use / tool_result pairing, role merging, forced-tool output."""

from __future__ import annotations

import json

import pytest

from aiops_core import Agent, tool
from aiops_core.errors import RateLimitError, UserError
from aiops_core.messages import (
    AssistantMessage,
    DataPart,
    ImagePart,
    SystemMessage,
    TextPart,
    ToolCall,
    ToolResultMessage,
    UserMessage,
)
from aiops_core.providers import ModelRequest, OutputSchema, ResponseDone, TextDelta, get_chat_model
from aiops_core.providers.anthropic import anthropic_messages
from aiops_core.tools import ToolDefinition
from tests.servers.llm import LLMServer, Reply, StreamError

from .conftest import KEY

pytestmark = pytest.mark.anyio

TOOL = ToolDefinition(
    "ping", "Ping a host.", {"type": "object", "properties": {"host": {"type": "string"}}}
)


def model(server: LLMServer, **options):
    return get_chat_model(
        "anthropic:claude-local-test", api_key=KEY, base_url=server.url, **options
    )


def test_tool_results_of_one_turn_go_in_one_user_message_in_order() -> None:
    system, messages = anthropic_messages(
        [
            SystemMessage(content="Rule one."),
            SystemMessage(content="Rule two."),
            UserMessage(content="Ping a and b."),
            AssistantMessage(
                content="Pinging.",
                tool_calls=[
                    ToolCall(id="t1", name="ping", arguments={"host": "a"}),
                    ToolCall(id="t2", name="ping", arguments={"host": "b"}),
                ],
            ),
            ToolResultMessage(tool_call_id="t2", name="ping", content="b: timeout", is_error=True),
            ToolResultMessage(tool_call_id="t1", name="ping", content="a: 1 ms"),
            UserMessage(content="And now?"),
            UserMessage(content="Hurry."),
        ]
    )
    assert system == "Rule one.\n\nRule two."
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == [
        {"type": "text", "text": "Pinging."},
        {"type": "tool_use", "id": "t1", "name": "ping", "input": {"host": "a"}},
        {"type": "tool_use", "id": "t2", "name": "ping", "input": {"host": "b"}},
    ]
    assert messages[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "t2", "content": "b: timeout", "is_error": True},
        {"type": "tool_result", "tool_use_id": "t1", "content": "a: 1 ms"},
        {"type": "text", "text": "And now?"},
        {"type": "text", "text": "Hurry."},
    ]


def test_images_data_and_empty_assistant_turns() -> None:
    _, messages = anthropic_messages(
        [
            UserMessage(
                content=[
                    TextPart(text="Look"),
                    ImagePart(url="https://example.invalid/a.png"),
                    ImagePart(data="aGk=", media_type="image/gif"),
                    DataPart(data=[1, 2]),
                ]
            ),
            AssistantMessage(content=""),
            ToolResultMessage(tool_call_id="x", content=[DataPart(data={"ok": True})]),
        ]
    )
    assert len(messages) == 1  # the empty assistant turn is dropped, the users merge
    assert messages[0]["content"][:4] == [
        {"type": "text", "text": "Look"},
        {"type": "image", "source": {"type": "url", "url": "https://example.invalid/a.png"}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/gif", "data": "aGk="}},
        {"type": "text", "text": "[1, 2]"},
    ]
    assert messages[0]["content"][4]["content"] == [{"type": "text", "text": '{"ok": true}'}]


async def test_parameters_on_the_wire(server: LLMServer) -> None:
    server.script(Reply(text="ok"), Reply(text="ok"), Reply(text="ok"))
    m = model(server, stop=["END"], seed=3, temperature=0.3)
    await m.complete(ModelRequest([UserMessage(content="hi")], tools=[TOOL]))
    body = server.last.body
    assert body["max_tokens"] == 4096
    assert body["stop_sequences"] == ["END"]
    assert body["temperature"] == 0.3
    assert "seed" not in body
    assert body["tools"] == [
        {
            "name": "ping",
            "description": "Ping a host.",
            "input_schema": TOOL.parameters,
            "cache_control": {"type": "ephemeral"},  # prompt caching is on by default
        }
    ]
    assert "tool_choice" not in body
    await m.complete(
        ModelRequest(
            [UserMessage(content="hi")],
            tools=[TOOL],
            settings={"parallel_tool_calls": False, "tool_choice": "required", "max_tokens": 9},
        )
    )
    assert server.last.body["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}
    assert server.last.body["max_tokens"] == 9
    await m.complete(
        ModelRequest([UserMessage(content="hi")], tools=[TOOL], settings={"tool_choice": "ping"})
    )
    assert server.last.body["tool_choice"] == {"type": "tool", "name": "ping"}
    await m.aclose()


async def test_cached_tokens(server: LLMServer) -> None:
    server.script(Reply(text="ok", cached_tokens=40), Reply(text="ok", cached_tokens=41))
    m = model(server)
    response = await m.complete(ModelRequest([UserMessage(content="hi")]))
    assert response.usage.cached_tokens == 40
    events = [e async for e in m.stream(ModelRequest([UserMessage(content="hi")]))]
    assert events[-1].response.usage.cached_tokens == 41
    await m.aclose()


async def test_structured_output_with_other_tools_keeps_them_callable(server: LLMServer) -> None:
    @tool
    async def ping(host: str) -> str:
        """Ping a host."""
        return f"{host}: 1 ms"

    server.script(
        Reply(tool_calls=[("ping", {"host": "a"})]),
        Reply(tool_calls=[("list", {"value": [1, 2]})]),
    )
    agent = Agent(model(server), tools=[ping], output_type=list[int])
    result = await agent.run("latencies?")
    assert result.output == [1, 2]
    body = server.last.body
    assert body["tool_choice"] == {"type": "any"}
    output_tool = body["tools"][-1]
    assert output_tool["name"] == "list"
    assert output_tool["input_schema"]["required"] == ["value"]  # non-object schemas are wrapped
    await agent.aclose()


async def test_streamed_structured_output_arrives_as_text(server: LLMServer) -> None:
    server.script(Reply(tool_calls=[("Answer", {"device": "sw1", "up": True})], chunk=4))
    m = model(server)
    schema = OutputSchema(
        "Answer",
        {"type": "object", "properties": {"device": {"type": "string"}, "up": {"type": "boolean"}}},
    )
    events = [
        e async for e in m.stream(ModelRequest([UserMessage(content="?")], output_schema=schema))
    ]
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert json.loads(text) == {"device": "sw1", "up": True}
    done = events[-1]
    assert isinstance(done, ResponseDone)
    assert json.loads(done.response.message.content) == {"device": "sw1", "up": True}
    assert done.response.message.tool_calls == []
    assert done.response.finish_reason == "stop"
    await m.aclose()


def test_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(UserError, match="ANTHROPIC_API_KEY"):
        get_chat_model("anthropic:claude-local-test")


async def test_key_from_environment(server: LLMServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "ant-env-key")
    server.script(Reply(text="ok"))
    m = get_chat_model("anthropic:claude-local-test", base_url=server.url)
    await m.complete(ModelRequest([UserMessage(content="hi")]))
    assert "ant-env-key" in (
        server.last.headers.get("x-api-key") or server.last.headers["authorization"]
    )
    await m.aclose()


async def test_rate_limit_event_inside_a_stream(server: LLMServer) -> None:
    server.script(StreamError("slow down", kind="rate_limit_error"))
    m = model(server)
    with pytest.raises(RateLimitError, match="slow down"):
        async for _ in m.stream(ModelRequest([UserMessage(content="hi")])):
            pass
    await m.aclose()
