"""The ``openai`` handler: config, credentials, wire mapping details, injected clients."""

from __future__ import annotations

import json

import pytest

from aiops_core.errors import BadRequestError, ServerError, UserError
from aiops_core.messages import (
    AssistantMessage,
    DataPart,
    ImagePart,
    TextPart,
    ToolCall,
    ToolResultMessage,
    UserMessage,
)
from aiops_core.providers import ModelRequest, get_chat_model
from aiops_core.providers.openai import OpenAIHandler
from aiops_core.tools import ToolDefinition
from tests.servers.llm import Fail, LLMServer, Reply

from .conftest import KEY

pytestmark = pytest.mark.anyio

TOOL = ToolDefinition(
    "ping", "Ping a host.", {"type": "object", "properties": {"host": {"type": "string"}}}
)


def model(server: LLMServer, **options):
    return get_chat_model("openai:gpt-4o-mini", api_key=KEY, base_url=f"{server.url}/v1", **options)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"temprature": 0.2}, "temprature: unknown key"),
        ({"temperature": 3}, "temperature"),
        ({"timeout": -1}, "timeout"),
        ({"max_retries": "many"}, "max_retries"),
        ({"top_p": 0}, "top_p"),
    ],
)
def test_invalid_config_names_the_field(options: dict, field: str) -> None:
    with pytest.raises(UserError, match=field):
        get_chat_model("openai:gpt-4o-mini", api_key=KEY, **options)


def test_config_schema_is_json_schema() -> None:
    schema = OpenAIHandler.config_schema()
    props = schema["properties"]
    assert {
        "base_url",
        "timeout",
        "max_retries",
        "extra_headers",
        "organization",
        "project",
    } <= set(props)
    assert {
        "temperature",
        "max_tokens",
        "top_p",
        "stop",
        "seed",
        "tool_choice",
        "parallel_tool_calls",
    } <= set(props)
    assert props["max_retries"]["default"] == 0
    assert props["temperature"]["anyOf"][0]["maximum"] == 2
    assert schema["additionalProperties"] is False
    json.dumps(schema)


async def test_key_from_environment(server: LLMServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    server.script(Reply(text="ok"), Reply(text="ok"))
    m = get_chat_model("openai:gpt-4o-mini", base_url=f"{server.url}/v1")
    await m.complete(ModelRequest([UserMessage(content="hi")]))
    assert server.last.headers["authorization"] == "Bearer sk-from-env"
    explicit = model(server)
    await explicit.complete(ModelRequest([UserMessage(content="hi")]))
    assert server.last.headers["authorization"] == f"Bearer {KEY}"
    await m.aclose()
    await explicit.aclose()


def test_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(UserError, match="OPENAI_API_KEY"):
        get_chat_model("openai:gpt-4o-mini")


def test_model_name_is_required() -> None:
    with pytest.raises(UserError, match="openai:<model>"):
        get_chat_model("openai", api_key=KEY)


async def test_parameters_on_the_wire(server: LLMServer) -> None:
    server.script(Reply(text="ok"), Reply(text="ok"))
    m = model(
        server,
        max_tokens=100,
        stop=["END"],
        seed=7,
        tool_choice="ping",
        parallel_tool_calls=False,
        organization="org-1",
        project="proj-1",
        extra_headers={"X-Team": "netops"},
    )
    await m.complete(ModelRequest([UserMessage(content="hi")], tools=[TOOL]))
    body, headers = server.last.body, server.last.headers
    assert body["max_completion_tokens"] == 100
    assert body["stop"] == ["END"] and body["seed"] == 7
    assert body["tool_choice"] == {"type": "function", "function": {"name": "ping"}}
    assert body["parallel_tool_calls"] is False
    assert body["tools"][0]["function"]["parameters"] == TOOL.parameters
    assert headers["openai-organization"] == "org-1"
    assert headers["openai-project"] == "proj-1"
    assert headers["x-team"] == "netops"
    # Without tools, tool_choice and parallel_tool_calls are left out (the API rejects them).
    await m.complete(ModelRequest([UserMessage(content="hi")], settings={"logprobs": True}))
    assert "tool_choice" not in server.last.body and "parallel_tool_calls" not in server.last.body
    assert server.last.body["logprobs"] is True  # unknown settings pass through
    await m.aclose()


async def test_content_parts_and_history(server: LLMServer) -> None:
    server.script(Reply(text="ok"))
    m = model(server)
    history = [
        UserMessage(
            content=[
                TextPart(text="What is on this port?"),
                ImagePart(url="https://example.invalid/port.png"),
                ImagePart(data="aGVsbG8=", media_type="image/jpeg"),
                DataPart(data={"port": "Gi0/1"}),
            ]
        ),
        AssistantMessage(
            content="Checking.",
            tool_calls=[ToolCall(id="c1", name="ping", invalid_arguments='{"host": ')],
        ),
        ToolResultMessage(tool_call_id="c1", name="ping", content="bad arguments", is_error=True),
    ]
    await m.complete(ModelRequest(history))
    user, assistant, result = server.last.body["messages"]
    assert user["content"] == [
        {"type": "text", "text": "What is on this port?"},
        {"type": "image_url", "image_url": {"url": "https://example.invalid/port.png"}},
        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,aGVsbG8="}},
        {"type": "text", "text": '{"port": "Gi0/1"}'},
    ]
    call = assistant["tool_calls"][0]
    assert call["function"]["arguments"] == '{"host": '  # what the model wrote, for its correction
    assert assistant["content"] == "Checking."
    assert result == {"role": "tool", "tool_call_id": "c1", "content": "bad arguments"}
    await m.aclose()


async def test_sdk_does_not_retry_by_default(server: LLMServer) -> None:
    server.script(Fail(500), Reply(text="would have succeeded"))
    m = model(server)
    with pytest.raises(ServerError):
        await m.complete(ModelRequest([UserMessage(content="hi")]))
    assert len(server.requests) == 1
    await m.aclose()


async def test_one_pool_reused_across_calls(server: LLMServer) -> None:
    server.script(Reply(text="1"), Reply(text="2"))
    m = model(server)
    await m.complete(ModelRequest([UserMessage(content="hi")]))
    first = await m._client()  # type: ignore[attr-defined]
    await m.complete(ModelRequest([UserMessage(content="hi")]))
    assert await m._client() is first  # type: ignore[attr-defined]
    await m.aclose()
    assert first.is_closed()


@pytest.mark.parametrize("provider", ["openai", "azure_openai", "huggingface"])
async def test_cached_tokens_where_reported(provider: str, server: LLMServer, make_model) -> None:
    server.script(Reply(text="ok", cached_tokens=12), Reply(text="ok", cached_tokens=13))
    m = make_model(provider)
    response = await m.complete(ModelRequest([UserMessage(content="hi")]))
    events = [e async for e in m.stream(ModelRequest([UserMessage(content="hi")]))]
    cached = (response.usage.cached_tokens, events[-1].response.usage.cached_tokens)
    assert cached == (12, 13)
    await m.aclose()


async def test_malformed_arguments_round_trip_through_the_agent(server: LLMServer) -> None:
    from aiops_core import Agent, tool

    @tool
    async def ping(host: str) -> str:
        """Ping a host."""
        return f"{host}: 1 ms"

    server.script(
        Reply(tool_calls=[("ping", '{"host": "a"')]),
        Reply(tool_calls=[("ping", {"host": "a"})]),
        Reply(text="a answers in 1 ms."),
    )
    agent = Agent(model(server), tools=[ping])
    result = await agent.run("ping a")
    assert result.output == "a answers in 1 ms."
    correction = server.requests[1].body["messages"]
    assert correction[-2]["tool_calls"][0]["function"]["arguments"] == '{"host": "a"'
    assert "JSON" in correction[-1]["content"]  # the tool error tells the model what to fix
    assert server.requests[2].body["messages"][-1]["content"] == "a: 1 ms"
    await agent.aclose()


# --------------------------------------------------------------------------- reasoning (chat)
@pytest.mark.parametrize("transport", ["sdk", "lean"])
async def test_reasoning_effort_and_reasoning_text_on_chat_completions(
    server: LLMServer, transport: str
) -> None:
    server.script(
        Reply(text="ok", thinking="vLLM-style reasoning", reasoning_tokens=6), Reply(text="again")
    )
    m = get_chat_model(
        "openai:gpt-5-mini",
        api_key=KEY,
        base_url=f"{server.url}/v1",
        transport=transport,
        reasoning_effort="minimal",
    )
    question = UserMessage(content="hi")
    response = await m.complete(ModelRequest([question]))
    assert server.last.body["reasoning_effort"] == "minimal"
    [part] = response.message.thinking
    assert (part.text, part.provider, part.id) == ("vLLM-style reasoning", "openai", None)
    assert response.usage.reasoning_tokens == 6
    # Chat Completions has no field for it: it does not go back (the server refuses extra keys).
    await m.complete(ModelRequest([question, response.message, UserMessage(content="more")]))
    assert server.last.body["messages"][1] == {"role": "assistant", "content": "ok"}
    assert server.rejected == []
    await m.aclose()


async def test_reasoning_effort_on_a_model_without_it_is_a_bad_request(server: LLMServer) -> None:
    m = model(server, reasoning_effort="low")
    with pytest.raises(BadRequestError, match="reasoning_effort"):
        await m.complete(ModelRequest([UserMessage(content="hi")]))
    await m.aclose()


def test_the_reasoning_field_name_of_other_servers_is_read() -> None:
    from aiops_core.providers._openai_lean import read_completion

    data = {
        "model": "m",
        "choices": [
            {"message": {"content": "ok", "reasoning": "router reasoning"}, "finish_reason": "stop"}
        ],
    }
    assert read_completion(data, None).message.thinking_text == "router reasoning"
