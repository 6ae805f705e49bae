"""The ``ollama`` handler: object-valued arguments, base64 images, options, host from the environment."""

from __future__ import annotations

import httpx
import pytest

from aiops_core.errors import MessageError
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


async def test_injected_httpx_client(server: LLMServer) -> None:
    server.script(Reply(text="ok"))
    async with httpx.AsyncClient(headers={"X-Injected": "1"}) as client:
        m = get_chat_model("ollama:llama3.2", base_url=server.url, http_client=client)
        response = await m.complete(ModelRequest([UserMessage(content="hi")]))
        assert response.message.content == "ok"
        assert server.last.headers["x-injected"] == "1"
        await m.aclose()
        assert not client.is_closed
