"""The OpenAI Responses API path (``api="responses"``): settings, reasoning items, both transports."""

from __future__ import annotations

from typing import Any

import pytest
from openai import AsyncOpenAI
from openai import BadRequestError as SDKBadRequest
from openai import NotFoundError as SDKNotFound

from aiops_core import Agent, tool
from aiops_core.errors import BadRequestError, UserError
from aiops_core.messages import (
    AssistantMessage,
    DataPart,
    ImagePart,
    SystemMessage,
    TextPart,
    ThinkingPart,
    ToolCall,
    ToolResultMessage,
    UserMessage,
)
from aiops_core.providers import (
    ModelRequest,
    OutputSchema,
    ResponseDone,
    TextDelta,
    ThinkingDelta,
    get_chat_model,
)
from aiops_core.providers._openai_responses import ENCRYPTED_REASONING, responses_input
from aiops_core.tools import ToolDefinition
from tests.servers.llm import LLMServer, Recorded, Reply

from .conftest import KEY

pytestmark = pytest.mark.anyio

TOOL = ToolDefinition(
    "ping", "Ping a host.", {"type": "object", "properties": {"host": {"type": "string"}}}
)
REASONING = {"reasoning_effort": "low", "reasoning_summary": "auto"}


def model(server: LLMServer, name: str = "gpt-5-mini", **config: Any) -> Any:
    return get_chat_model(
        f"openai:{name}", api_key=KEY, base_url=f"{server.url}/v1", api="responses", **config
    )


def ask(*messages: Any, **kwargs: Any) -> ModelRequest:
    return ModelRequest([SystemMessage(content="Be brief."), *messages], **kwargs)


# --------------------------------------------------------------------------- settings
@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"reasoning_summary": "auto"}, 'needs api="responses"'),
        ({"store": True}, 'store applies to api="responses"'),
        ({"api": "responses", "stop": ["x"]}, "has no stop"),
        ({"api": "responses", "seed": 1}, "has no seed"),
        ({"reasoning_effort": "enormous"}, "reasoning_effort"),
        ({"api": "assistants"}, "api"),
    ],
)
def test_invalid_settings_name_the_problem(config: dict[str, Any], problem: str) -> None:
    with pytest.raises(UserError, match=problem):
        get_chat_model("openai:gpt-5-mini", api_key=KEY, **config)


def test_azure_takes_the_same_settings() -> None:
    azure = get_chat_model(
        "azure_openai:ops-gpt-5",
        api_key=KEY,
        endpoint="https://example.invalid",
        api_version="2025-04-01-preview",
        api="responses",
        reasoning_effort="high",
    )
    assert azure.default_settings == {"reasoning_effort": "high"}  # type: ignore[attr-defined]
    with pytest.raises(UserError, match="reasoning_summary"):
        get_chat_model(
            "azure_openai:d",
            api_key=KEY,
            endpoint="https://x",
            api_version="v",
            reasoning_summary="auto",
        )


# --------------------------------------------------------------------------- request mapping
async def test_parameters_on_the_wire(server: LLMServer) -> None:
    server.script(Reply(text="ok"))
    chat = model(
        server,
        temperature=0.5,
        max_tokens=300,
        tool_choice="ping",
        parallel_tool_calls=False,
        **REASONING,
    )
    await chat.complete(ask(UserMessage(content="hi"), tools=[TOOL]))
    body = server.last.body
    assert server.last.path == "/v1/responses"
    assert body["model"] == "gpt-5-mini"
    assert body["store"] is False
    assert body["include"] == [ENCRYPTED_REASONING]
    assert body["reasoning"] == {"effort": "low", "summary": "auto"}
    assert body["max_output_tokens"] == 300
    assert body["temperature"] == 0.5
    assert body["tool_choice"] == {"type": "function", "name": "ping"}
    assert body["parallel_tool_calls"] is False
    assert body["tools"] == [
        {
            "type": "function",
            "name": "ping",
            "description": "Ping a host.",
            "parameters": TOOL.parameters,
            "strict": False,
        }
    ]
    await chat.aclose()


async def test_store_true_keeps_state_at_the_provider_and_sends_ids(server: LLMServer) -> None:
    # With store, reasoning needs no encrypted content: the provider finds it by id.
    @tool
    async def ping(host: str) -> str:
        """Ping a host."""
        return "1 ms"

    server.script(Reply(tool_calls=[("ping", {"host": "a"})], thinking="t"), Reply(text="ok"))
    agent = Agent(model(server, store=True, reasoning_effort="low"), tools=[ping])
    assert (await agent.run("ping a")).output == "ok"
    first, second = server.requests
    assert first.body["store"] is True and "include" not in first.body
    reasoning = second.body["input"][1]
    assert reasoning["type"] == "reasoning" and "encrypted_content" not in reasoning
    assert server.rejected == []
    await agent.aclose()


def test_user_content_parts_and_history() -> None:
    items = responses_input(
        [
            SystemMessage(content="rules"),
            UserMessage(
                content=[
                    TextPart(text="see"),
                    ImagePart(url="https://x/i.png"),
                    DataPart(data={"a": 1}),
                ]
            ),
            AssistantMessage(
                content="Checking.",
                tool_calls=[ToolCall(id="c1", name="ping", invalid_arguments='{"host": ')],
            ),
            ToolResultMessage(tool_call_id="c1", name="ping", content="bad", is_error=True),
        ],
        provider="openai",
        model="m",
        store=False,
    )
    assert items == [
        {"role": "system", "content": "rules"},
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "see"},
                {"type": "input_image", "image_url": "https://x/i.png", "detail": "auto"},
                {"type": "input_text", "text": '{"a": 1}'},
            ],
        },
        {"role": "assistant", "content": "Checking."},
        {"type": "function_call", "call_id": "c1", "name": "ping", "arguments": '{"host": '},
        {"type": "function_call_output", "call_id": "c1", "output": "bad"},
    ]


def test_reasoning_goes_back_only_where_it_can_be_read() -> None:
    def items(thinking: list[ThinkingPart], *, store: bool = False) -> list[dict[str, Any]]:
        message = AssistantMessage(
            content="a",
            item_id="msg_1",
            thinking=thinking,
            tool_calls=[ToolCall(id="c1", name="ping", item_id="fc_1")],
        )
        return responses_input(
            [UserMessage(content="q"), message], provider="openai", model="m", store=store
        )[1:]

    readable = ThinkingPart(text="s", encrypted="enc", id="rs_1", provider="openai")
    assert items([readable]) == [
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [{"type": "summary_text", "text": "s"}],
            "encrypted_content": "enc",
        },
        {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": "a", "annotations": []}],
        },
        {"type": "function_call", "call_id": "c1", "name": "ping", "arguments": "{}", "id": "fc_1"},
    ]
    plain = [
        {"role": "assistant", "content": "a"},
        {"type": "function_call", "call_id": "c1", "name": "ping", "arguments": "{}"},
    ]
    # No encrypted content and nothing stored: the API could not read it back (and the ids of
    # the items after it would point at a missing item).
    assert items([readable.model_copy(update={"encrypted": None})]) == plain
    # Another provider's reasoning, or chat-style reasoning text without an item id.
    assert items([readable.model_copy(update={"provider": "azure_openai"})]) == plain
    assert items([ThinkingPart(text="vLLM reasoning", provider="openai")]) == plain
    stored = items([readable.model_copy(update={"encrypted": None})], store=True)
    assert stored[0] == {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [{"type": "summary_text", "text": "s"}],
    }


# --------------------------------------------------------------------------- the server's rules
async def test_the_server_enforces_the_reasoning_item_rules(server: LLMServer) -> None:
    client = AsyncOpenAI(api_key=KEY, base_url=f"{server.url}/v1", max_retries=0)
    base: dict[str, Any] = {
        "model": "gpt-5-mini",
        "store": False,
        "include": [ENCRYPTED_REASONING],
        "reasoning": {"effort": "low"},
    }
    server.script(Reply(tool_calls=[("ping", {"host": "a"})], thinking="t"))
    first = await client.responses.create(**base, input="ping a")
    reasoning, call = (item.model_dump(exclude_none=True) for item in first.output)
    output = {"type": "function_call_output", "call_id": call["call_id"], "output": "ok"}
    question = {"role": "user", "content": "ping a"}
    with pytest.raises(SDKBadRequest, match="without its required 'reasoning' item"):
        await client.responses.create(**base, input=[question, call, output])
    with pytest.raises(SDKBadRequest, match="without its required following item"):
        await client.responses.create(**base, input=[question, reasoning, output])
    tampered = {**reasoning, "encrypted_content": reasoning["encrypted_content"][:-4] + "AAAA"}
    with pytest.raises(SDKBadRequest, match="could not be verified"):
        await client.responses.create(**base, input=[question, tampered, call, output])
    bare = {k: v for k, v in reasoning.items() if k != "encrypted_content"}
    with pytest.raises(SDKNotFound, match="not persisted when `store` is set to false"):
        await client.responses.create(**base, input=[question, bare, call, output])
    with pytest.raises(SDKBadRequest, match="No tool call found"):
        await client.responses.create(**base, input=[question, output])
    server.script(Reply(text="fine"))
    answer = await client.responses.create(**base, input=[question, reasoning, call, output])
    assert answer.output_text == "fine"
    await client.close()


async def test_reasoning_settings_need_a_reasoning_model(server: LLMServer) -> None:
    chat = model(server, name="gpt-4o-mini", reasoning_effort="low")
    with pytest.raises(BadRequestError, match="not supported with this model"):
        await chat.complete(ask(UserMessage(content="hi")))
    await chat.aclose()


# --------------------------------------------------------------------------- answers
async def test_answer_with_reasoning_summary_and_usage(server: LLMServer) -> None:
    server.script(
        Reply(
            text="up",
            thinking="Summary of thought.",
            reasoning_tokens=9,
            input_tokens=20,
            output_tokens=12,
            cached_tokens=4,
        )
    )
    chat = model(server, **REASONING)
    response = await chat.complete(ask(UserMessage(content="up?")))
    message = response.message
    [part] = message.thinking
    assert (part.text, part.provider, part.model) == ("Summary of thought.", "openai", "gpt-5-mini")
    assert part.id and part.id.startswith("rs_") and server.signer.unseal(part.encrypted)
    assert message.item_id and message.item_id.startswith("msg_")
    usage = response.usage
    assert (
        usage.input_tokens,
        usage.output_tokens,
        usage.cached_tokens,
        usage.reasoning_tokens,
    ) == (20, 12, 4, 9)
    assert response.finish_reason == "stop"
    await chat.aclose()


@pytest.mark.parametrize("transport", ["sdk", "lean"])
async def test_raw_reasoning_text_streams_as_thinking(server: LLMServer, transport: str) -> None:
    # Open-weight reasoning models (gpt-oss) return their reasoning text, not a summary.
    server.script(Reply(text="yes", thinking="Raw chain of thought.", chunk=4))
    chat = model(server, name="gpt-oss-120b", transport=transport, reasoning_effort="low")
    events = [e async for e in chat.stream(ask(UserMessage(content="ok?")))]
    thinking = [e.text for e in events if isinstance(e, ThinkingDelta)]
    assert len(thinking) > 2 and "".join(thinking) == "Raw chain of thought."
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "yes"
    done = events[-1]
    assert isinstance(done, ResponseDone)
    assert done.response.message.thinking_text == "Raw chain of thought."
    assert done.response.message.thinking[0].encrypted
    await chat.aclose()


async def test_length_limit_is_reported(server: LLMServer) -> None:
    server.script(Reply(text="cut", finish="length"))
    chat = model(server)
    assert (await chat.complete(ask(UserMessage(content="long")))).finish_reason == "length"
    await chat.aclose()


# --------------------------------------------------------------------------- transports
HISTORY_PART = {"text": "Ping a first.", "id": "rs_900", "provider": "openai"}


def history(server: LLMServer) -> list[Any]:
    encrypted = server.signer.seal({"id": "rs_900", "next": "fc_901"})
    server.responses.after["fc_901"] = "rs_900"
    thinking = ThinkingPart(**HISTORY_PART, encrypted=encrypted, model="gpt-5-mini")
    return [
        UserMessage(
            content=[TextPart(text="Ping a."), ImagePart(data="aGk=", media_type="image/png")]
        ),
        AssistantMessage(
            thinking=[thinking],
            tool_calls=[
                ToolCall(id="call_7", name="ping", arguments={"host": "a"}, item_id="fc_901")
            ],
        ),
        ToolResultMessage(tool_call_id="call_7", name="ping", content="1 ms"),
    ]


async def record(server: LLMServer, transport: str, request: ModelRequest) -> list[Recorded]:
    server.requests.clear()
    server.script(Reply(text="ok"), Reply(text="ok"))
    chat = model(server, transport=transport, organization="org-1", **REASONING)
    await chat.complete(request)
    [event async for event in chat.stream(request)]
    await chat.aclose()
    assert server.rejected == []
    return list(server.requests)


@pytest.mark.parametrize("kind", ["history", "structured", "extra"])
async def test_lean_sends_the_same_bodies_as_the_sdk(server: LLMServer, kind: str) -> None:
    request = {
        "history": lambda: ask(*history(server), tools=[TOOL], settings={"temperature": 1.0}),
        "structured": lambda: ask(
            UserMessage(content="up?"),
            output_schema=OutputSchema(
                "Verdict", {"type": "object", "properties": {"up": {"type": "boolean"}}}
            ),
        ),
        "extra": lambda: ask(UserMessage(content="hi"), settings={"top_logprobs": 2}),
    }[kind]()
    sdk = await record(server, "sdk", request)
    lean = await record(server, "lean", request)
    assert [r.body for r in lean] == [r.body for r in sdk]
    assert [r.path for r in lean] == ["/v1/responses"] * 2
    assert lean[1].body["stream"] is True and "stream_options" not in lean[1].body
    assert lean[0].headers["openai-organization"] == "org-1"
    if kind == "structured":
        assert lean[0].body["text"]["format"]["name"] == "Verdict"


async def test_azure_responses_route(server: LLMServer) -> None:
    server.script(Reply(text="from azure", thinking="t"))
    chat = get_chat_model(
        "azure_openai:ops-gpt-5-mini",
        api_key=KEY,
        endpoint=server.url,
        api_version="2025-04-01-preview",
        api="responses",
        **REASONING,
    )
    response = await chat.complete(ask(UserMessage(content="hi")))
    assert response.message.content == "from azure"
    assert response.message.thinking[0].provider == "azure_openai"
    assert server.last.path == "/openai/responses"
    assert server.last.query["api-version"] == "2025-04-01-preview"
    assert server.last.body["model"] == "ops-gpt-5-mini"
    await chat.aclose()
