"""The ``ollama`` handler: object-valued arguments, base64 images, options, host from the environment."""

from __future__ import annotations

import pytest

from aiops_core.errors import BadRequestError, MessageError, UserError
from aiops_core.messages import (
    AssistantMessage,
    DataPart,
    ImagePart,
    TextPart,
    ThinkingPart,
    ToolCall,
    ToolResultMessage,
    UserMessage,
)
from aiops_core.providers import ModelRequest, ResponseDone, ThinkingDelta, get_chat_model
from aiops_core.providers.ollama import ollama_messages
from aiops_core.tools import ToolDefinition
from tests.servers.llm import LLMServer, Reply

pytestmark = pytest.mark.anyio

TOOL = ToolDefinition(
    "ping", "Ping a host.", {"type": "object", "properties": {"host": {"type": "string"}}}
)


def test_history_mapping() -> None:
    messages = ollama_messages(
        [
            UserMessage(
                content=[TextPart(text="Look"), ImagePart(data="aGk="), DataPart(data={"a": 1})]
            ),
            AssistantMessage(tool_calls=[ToolCall(id="c1", name="ping", arguments={"host": "a"})]),
            ToolResultMessage(tool_call_id="c1", name="ping", content="1 ms"),
        ]
    )
    assert messages == [
        {"role": "user", "content": 'Look\n{"a": 1}', "images": ["aGk="]},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"function": {"name": "ping", "arguments": {"host": "a"}}}],
        },
        {"role": "tool", "content": "1 ms", "tool_name": "ping"},
    ]


def test_image_urls_are_refused() -> None:
    with pytest.raises(MessageError, match="base64"):
        ollama_messages([UserMessage(content=[ImagePart(url="https://example.invalid/x.png")])])


async def test_host_from_environment_and_options(
    server: LLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", server.url)
    server.script(Reply(text="ok"), Reply(text="ok"))
    m = get_chat_model(
        "ollama:llama3.2",
        max_tokens=64,
        seed=1,
        num_ctx=8192,
        keep_alive="10m",
        options={"num_gpu": 1},
    )
    await m.complete(ModelRequest([UserMessage(content="hi")], tools=[TOOL]))
    body = server.last.body
    assert body["options"] == {"num_gpu": 1, "num_ctx": 8192, "num_predict": 64, "seed": 1}
    assert body["keep_alive"] == "10m"
    assert body["tools"][0]["function"]["name"] == "ping"
    assert "authorization" not in server.last.headers  # no key needed
    await m.complete(
        ModelRequest([UserMessage(content="hi")], tools=[TOOL], settings={"tool_choice": "none"})
    )
    assert not server.last.body.get("tools")
    await m.aclose()


async def test_generated_call_ids_are_unique(server: LLMServer) -> None:
    server.script(Reply(tool_calls=[("ping", {"host": "a"}), ("ping", {"host": "b"})]))
    m = get_chat_model("ollama:llama3.2", base_url=server.url)
    response = await m.complete(ModelRequest([UserMessage(content="hi")], tools=[TOOL]))
    ids = [c.id for c in response.message.tool_calls]
    assert len(set(ids)) == 2 and all(ids)
    await m.aclose()


# --------------------------------------------------------------------------- thinking
def test_own_thinking_goes_back_foreign_thinking_does_not() -> None:
    messages = ollama_messages(
        [
            UserMessage(content="q"),
            AssistantMessage(
                content="a",
                thinking=[
                    ThinkingPart(text="mine", provider="ollama"),
                    ThinkingPart(text="signed", signature="s", provider="anthropic"),
                ],
            ),
        ]
    )
    assert messages[1] == {"role": "assistant", "content": "a", "thinking": "mine"}


@pytest.mark.parametrize("think", [True, False, "high"])
async def test_think_reaches_the_wire(server: LLMServer, think: bool | str) -> None:
    server.script(Reply(text="ok", thinking="pondering"))
    m = get_chat_model("ollama:qwen3", base_url=server.url, think=think)
    response = await m.complete(ModelRequest([UserMessage(content="hi")]))
    assert server.last.body["think"] == think
    assert response.message.thinking_text == ("pondering" if think else "")
    await m.aclose()


async def test_thinking_streams_as_its_own_events(server: LLMServer) -> None:
    server.script(Reply(text="fine", thinking="Let me think about it.", chunk=4))
    m = get_chat_model("ollama:deepseek-r1", base_url=server.url, think=True)
    events = [e async for e in m.stream(ModelRequest([UserMessage(content="hi")]))]
    thinking = [e.text for e in events if isinstance(e, ThinkingDelta)]
    assert len(thinking) > 3 and "".join(thinking) == "Let me think about it."
    done = events[-1]
    assert isinstance(done, ResponseDone)
    [part] = done.response.message.thinking
    assert (part.text, part.provider, part.model) == (
        "Let me think about it.",
        "ollama",
        "deepseek-r1",
    )
    await m.aclose()


async def test_a_model_without_thinking_refuses_think(server: LLMServer) -> None:
    m = get_chat_model("ollama:llama3.2", base_url=server.url, think=True)
    with pytest.raises(BadRequestError, match="does not support thinking"):
        await m.complete(ModelRequest([UserMessage(content="hi")]))
    await m.aclose()


def test_invalid_think_names_the_field() -> None:
    with pytest.raises(UserError, match="think"):
        get_chat_model("ollama:qwen3", think="max")
