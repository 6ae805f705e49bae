"""Anthropic extended thinking: settings, signed blocks sent back unmodified, streams, usage."""

from __future__ import annotations

import pytest
from anthropic import AsyncAnthropic
from anthropic import BadRequestError as SDKBadRequest

from aiops_core import Agent, tool
from aiops_core.errors import BadRequestError, UserError
from aiops_core.messages import (
    AssistantMessage,
    SystemMessage,
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
from aiops_core.providers.anthropic import INTERLEAVED_BETA, anthropic_messages
from aiops_core.tools import ToolDefinition
from tests.servers.llm import LLMServer, Reply

from .conftest import KEY

pytestmark = pytest.mark.anyio

TOOL = ToolDefinition(
    "ping", "Ping a host.", {"type": "object", "properties": {"host": {"type": "string"}}}
)
THINKING = {"type": "enabled", "budget_tokens": 2048}


def model(server: LLMServer, **config):
    return get_chat_model("anthropic:claude-local-test", api_key=KEY, base_url=server.url, **config)


def ask(*messages, **kwargs) -> ModelRequest:
    return ModelRequest([SystemMessage(content="Be brief."), *messages], **kwargs)


# --------------------------------------------------------------------------- settings
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2048, {"type": "enabled", "budget_tokens": 2048}),
        ("adaptive", {"type": "adaptive"}),
        ("disabled", {"type": "disabled"}),
        ({"type": "enabled", "budget_tokens": 1024, "display": "omitted"}, None),
    ],
)
def test_thinking_setting_forms(value, expected) -> None:
    chat = get_chat_model("anthropic:claude-x", api_key=KEY, thinking=value)
    assert chat._defaults["thinking"] == (expected or value)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"thinking": 512}, "greater than or equal to 1024"),
        ({"thinking": {"type": "enabled"}}, "needs budget_tokens"),
        ({"thinking": {"type": "adaptive", "budget_tokens": 2048}}, "applies to thinking type"),
        ({"thinking": 8192}, "less than max_tokens"),
        ({"thinking": 2048, "temperature": 0.2}, "temperature"),
        ({"thinking": "adaptive", "top_p": 0.5}, "top_p"),
        ({"thinking": 2048, "tool_choice": "required"}, "tool_choice"),
        ({"interleaved_thinking": True}, "interleaved_thinking needs thinking"),
        ({"thinking": "sometimes"}, "thinking"),
        ({"thinking": True}, "budget"),
        ({"effort": "extreme"}, "effort"),
    ],
)
def test_invalid_thinking_settings_name_the_problem(config, problem) -> None:
    with pytest.raises(UserError, match=problem):
        get_chat_model("anthropic:claude-x", api_key=KEY, **config)


def test_interleaved_thinking_may_budget_beyond_max_tokens() -> None:
    chat = get_chat_model(
        "anthropic:claude-x", api_key=KEY, thinking=8192, interleaved_thinking=True
    )
    assert chat._defaults["interleaved_thinking"] is True  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- wire mapping
def test_signed_thinking_goes_back_first_and_unmodified_foreign_thinking_never() -> None:
    mine = ThinkingPart(text="Ping a.", signature="sig-1", provider="anthropic", model="m1")
    hidden = ThinkingPart(encrypted="opaque", redacted=True, provider="anthropic", model="m1")
    foreign = ThinkingPart(text="o-series", encrypted="enc", id="rs_1", provider="openai")
    unsigned = ThinkingPart(text="no signature", provider="anthropic")
    _, messages = anthropic_messages(
        [
            UserMessage(content="Ping a."),
            AssistantMessage(
                content="Pinging.",
                thinking=[mine, hidden, foreign, unsigned],
                tool_calls=[ToolCall(id="t1", name="ping", arguments={"host": "a"})],
            ),
            ToolResultMessage(tool_call_id="t1", name="ping", content="1 ms"),
        ],
        model="m2",
    )
    assert messages[1]["content"] == [
        {"type": "thinking", "thinking": "Ping a.", "signature": "sig-1"},
        {"type": "redacted_thinking", "data": "opaque"},
        {"type": "text", "text": "Pinging."},
        {"type": "tool_use", "id": "t1", "name": "ping", "input": {"host": "a"}},
    ]


def test_earlier_turns_thinking_of_another_model_is_left_out() -> None:
    old = ThinkingPart(text="old", signature="s0", provider="anthropic", model="claude-old")
    same = ThinkingPart(text="same", signature="s1", provider="anthropic", model="claude-new")
    history = [
        UserMessage(content="one"),
        AssistantMessage(content="a", thinking=[old]),
        UserMessage(content="two"),
        AssistantMessage(content="b", thinking=[same]),
        UserMessage(content="three"),
    ]
    _, messages = anthropic_messages(history, model="claude-new")
    assert messages[1]["content"] == [{"type": "text", "text": "a"}]
    assert messages[3]["content"][0] == {"type": "thinking", "thinking": "same", "signature": "s1"}
    _, unfiltered = anthropic_messages(history)  # no model named: every Anthropic part
    assert unfiltered[1]["content"][0]["signature"] == "s0"


# --------------------------------------------------------------------------- against the server
async def test_thinking_tool_turn_sends_the_signed_block_back(server: LLMServer) -> None:
    @tool
    async def ping(host: str) -> str:
        """Ping a host."""
        return f"{host}: 1 ms"

    server.script(
        Reply(
            tool_calls=[("ping", {"host": "a"})], thinking="I should ping a.", reasoning_tokens=5
        ),
        Reply(text="a answers in 1 ms.", thinking="The ping worked.", reasoning_tokens=3),
    )
    agent = Agent(model(server, thinking=2048), tools=[ping])
    result = await agent.run("Is a reachable?")
    assert result.output == "a answers in 1 ms."
    assert server.rejected == []
    first = result.messages[1]
    assert isinstance(first, AssistantMessage)
    [part] = first.thinking
    assert (part.text, part.provider, part.model) == (
        "I should ping a.",
        "anthropic",
        "claude-local-test",
    )
    assert part.signature
    second = server.last.body
    assert second["thinking"] == THINKING
    assert second["messages"][1]["content"][0] == {
        "type": "thinking",
        "thinking": "I should ping a.",
        "signature": part.signature,
    }
    assert result.usage.reasoning_tokens == 8
    await agent.aclose()


async def test_the_server_refuses_a_changed_signature_or_a_missing_block(server: LLMServer) -> None:
    # The wire server enforces the API's rules: proved here with the raw SDK.
    client = AsyncAnthropic(api_key=KEY, base_url=server.url, max_retries=0)
    base = {"model": "claude-local-test", "max_tokens": 4096, "thinking": THINKING}
    call = {"type": "tool_use", "id": "toolu_0", "name": "ping", "input": {"host": "a"}}
    result = {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "toolu_0", "content": "ok"}],
    }
    tampered = {
        "type": "thinking",
        "thinking": "I should ping b.",
        "signature": server.signer.sign("x"),
    }
    with pytest.raises(SDKBadRequest, match="Invalid `signature`"):
        await client.messages.create(
            **base,
            messages=[
                {"role": "user", "content": "Ping a."},
                {"role": "assistant", "content": [tampered, call]},
                result,
            ],
        )
    with pytest.raises(SDKBadRequest, match="must start with a thinking block"):
        await client.messages.create(
            **base,
            messages=[
                {"role": "user", "content": "Ping a."},
                {"role": "assistant", "content": [call]},
                result,
            ],
        )
    await client.close()


async def test_a_changed_thinking_text_is_refused(server: LLMServer) -> None:
    server.script(Reply(tool_calls=[("ping", {"host": "a"})], thinking="Ping a."))
    chat = model(server, thinking=2048)
    first = (await chat.complete(ask(UserMessage(content="Ping a."), tools=[TOOL]))).message
    part = first.thinking[0].model_copy(update={"text": "Ping b."})
    edited = first.model_copy(update={"thinking": [part]})
    result = ToolResultMessage(tool_call_id=first.tool_calls[0].id, name="ping", content="ok")
    with pytest.raises(BadRequestError, match="Invalid `signature`"):
        await chat.complete(ask(UserMessage(content="Ping a."), edited, result, tools=[TOOL]))
    await chat.aclose()


async def test_a_turn_of_another_provider_is_answered_with_thinking_off(server: LLMServer) -> None:
    # A fallback moved the run here mid-turn: the answered calls came without Claude's thinking,
    # which the API would refuse with thinking enabled; the request goes without thinking.
    server.script(Reply(text="done", thinking="unused"))
    other = AssistantMessage(
        thinking=[ThinkingPart(text="x", encrypted="e", id="rs_1", provider="openai")],
        tool_calls=[ToolCall(id="call_1", name="ping", arguments={"host": "a"})],
    )
    result = ToolResultMessage(tool_call_id="call_1", name="ping", content="ok")
    chat = model(server, thinking=2048)
    response = await chat.complete(ask(UserMessage(content="Ping a."), other, result, tools=[TOOL]))
    assert response.message.content == "done"
    assert "thinking" not in server.last.body
    assert server.rejected == []
    await chat.aclose()


async def test_streamed_thinking_deltas_signature_and_redacted_block(server: LLMServer) -> None:
    server.script(
        Reply(text="up", thinking="Check the device status.", redacted_thinking=True, chunk=4)
    )
    chat = model(server, thinking=2048)
    events = [e async for e in chat.stream(ask(UserMessage(content="Is it up?")))]
    thinking = [e for e in events if isinstance(e, ThinkingDelta)]
    assert len(thinking) > 3
    assert "".join(e.text for e in thinking) == "Check the device status."
    assert {e.index for e in thinking} == {0}
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "up"
    # Thinking comes before the answer.
    assert events.index(thinking[-1]) < next(
        i for i, e in enumerate(events) if isinstance(e, TextDelta)
    )
    done = events[-1]
    assert isinstance(done, ResponseDone)
    signed, redacted = done.response.message.thinking
    assert server.signer.verify(signed.text, signed.signature)
    assert redacted.redacted and redacted.encrypted and not redacted.text
    await chat.aclose()


async def test_interleaved_thinking_sends_the_beta_header(server: LLMServer) -> None:
    server.script(Reply(text="ok", thinking="t"))
    chat = model(
        server, thinking=8192, interleaved_thinking=True, extra_headers={"anthropic-beta": "x"}
    )
    await chat.complete(ask(UserMessage(content="hi")))
    assert server.last.headers["anthropic-beta"] == f"x,{INTERLEAVED_BETA}"
    assert server.last.body["thinking"]["budget_tokens"] == 8192
    await chat.aclose()


async def test_adaptive_thinking_with_effort(server: LLMServer) -> None:
    server.script(Reply(text="ok", thinking="adaptive thought"))
    chat = model(server, thinking="adaptive", effort="high")
    response = await chat.complete(ask(UserMessage(content="hi")))
    assert server.last.body["thinking"] == {"type": "adaptive"}
    assert server.last.body["output_config"] == {"effort": "high"}
    assert response.message.thinking_text == "adaptive thought"
    await chat.aclose()


async def test_structured_output_with_thinking_uses_the_json_schema_format(
    server: LLMServer,
) -> None:
    server.script(Reply(text='{"up": true}', thinking="It is up."))
    chat = model(server, thinking=2048)
    schema = OutputSchema("Verdict", {"type": "object", "properties": {"up": {"type": "boolean"}}})
    response = await chat.complete(
        ask(UserMessage(content="Up?"), tools=[TOOL], output_schema=schema)
    )
    body = server.last.body
    assert body["output_config"]["format"] == {"type": "json_schema", "schema": schema.json_schema}
    assert "tool_choice" not in body  # forcing a tool and thinking exclude each other
    assert [t["name"] for t in body["tools"]] == ["ping"]
    assert response.message.content == '{"up": true}'
    await chat.aclose()


async def test_thinking_is_only_returned_when_turned_on(server: LLMServer) -> None:
    server.script(Reply(text="ok", thinking="hidden"))
    chat = model(server)
    response = await chat.complete(ask(UserMessage(content="hi")))
    assert response.message.thinking == []
    assert response.usage.reasoning_tokens == 0
    await chat.aclose()
