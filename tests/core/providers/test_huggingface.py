"""The ``huggingface`` handler: token rules and parameters the SDK has no argument for."""

from __future__ import annotations

import pytest

from aiops_core.errors import UserError
from aiops_core.messages import UserMessage
from aiops_core.providers import ModelRequest, get_chat_model
from aiops_core.tools import ToolDefinition
from tests.servers.llm import LLMServer, Reply

pytestmark = pytest.mark.anyio

TOOL = ToolDefinition(
    "ping", "Ping a host.", {"type": "object", "properties": {"host": {"type": "string"}}}
)


def test_token_required_without_own_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    with pytest.raises(UserError, match="HF_TOKEN"):
        get_chat_model("huggingface:meta-llama/Llama-3.1-8B-Instruct")


async def test_own_endpoint_without_token_and_env_token(
    server: LLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_env_token")
    server.script(Reply(text="ok"))
    m = get_chat_model("huggingface:tgi", base_url=f"{server.url}/v1")
    await m.complete(ModelRequest([UserMessage(content="hi")]))
    assert server.last.headers["authorization"] == "Bearer hf_env_token"
    await m.aclose()


async def test_parameters_on_the_wire(server: LLMServer) -> None:
    server.script(Reply(text="ok"))
    m = get_chat_model(
        "huggingface:tgi",
        base_url=f"{server.url}/v1",
        max_tokens=20,
        parallel_tool_calls=False,
        tool_choice="required",
        extra_headers={"X-Team": "netops"},
    )
    await m.complete(ModelRequest([UserMessage(content="hi")], tools=[TOOL]))
    body = server.last.body
    assert body["max_tokens"] == 20
    assert body["parallel_tool_calls"] is False
    assert body["tool_choice"] == "required"
    assert body["model"] == "tgi"
    assert server.last.headers["x-team"] == "netops"
    await m.aclose()


async def test_reasoning_effort_passes_through_the_router(server: LLMServer) -> None:
    server.script(Reply(text="ok", thinking="reasoned", reasoning_tokens=3))
    m = get_chat_model(
        "huggingface:openai/gpt-oss-120b",
        api_key="hf_x",
        base_url=f"{server.url}/v1",
        reasoning_effort="high",
    )
    response = await m.complete(ModelRequest([UserMessage(content="hi")]))
    assert server.last.body["reasoning_effort"] == "high"
    assert response.message.thinking_text == "reasoned"
    assert response.message.thinking[0].provider == "huggingface"
    assert response.usage.reasoning_tokens == 3
    await m.aclose()
