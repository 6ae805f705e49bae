"""The benchmark's OpenAI wire-format server, driven by the real ``openai`` SDK."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx2
import openai
import pytest
from benchmarks._clients import TOOLS, aiops_agent, aiops_model, raw_stream_turn, raw_turn
from benchmarks._server import FINAL_TEXT, serve_openai


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve_openai(cpu=None) as url:
        yield url


def _client(url: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=url, api_key="test", max_retries=0)


@pytest.mark.anyio
async def test_first_call_asks_for_the_first_tool_with_schema_arguments(base_url: str) -> None:
    async with _client(base_url) as client:
        response = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "Is core-sw-01 up?"}], tools=TOOLS
        )
    choice = response.choices[0]
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls or []
    assert call.function.name == "device_status"
    assert json.loads(call.function.arguments) == {"name": "core-sw-01"}


@pytest.mark.anyio
async def test_a_tool_result_gets_the_final_text(base_url: str) -> None:
    messages = [
        {"role": "user", "content": "Is core-sw-01 up?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "device_status", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "up"},
    ]
    async with _client(base_url) as client:
        response = await client.chat.completions.create(model="m", messages=messages, tools=TOOLS)
    assert response.choices[0].message.content == FINAL_TEXT
    assert response.choices[0].finish_reason == "stop"
    assert response.usage is not None and response.usage.prompt_tokens > 0


@pytest.mark.anyio
async def test_raw_turns_plain_and_streamed_reach_the_final_text(base_url: str) -> None:
    async with _client(base_url) as client:
        assert await raw_turn(client)(1) == FINAL_TEXT
        assert await raw_stream_turn(client)(2) == FINAL_TEXT


@pytest.mark.anyio
async def test_an_agent_turn_calls_the_tool_and_answers(base_url: str) -> None:
    model, _, close = aiops_model(base_url)
    try:
        result = await aiops_agent(model).run("Is core-sw-01 up?")
    finally:
        await close()
    assert result.output == FINAL_TEXT
    assert [c.name for c in result.tool_calls] == ["device_status"]
    assert result.usage.requests == 2


@pytest.mark.anyio
async def test_unknown_paths_are_404(base_url: str) -> None:
    async with httpx2.AsyncClient() as http:
        response = await http.post(base_url + "/embeddings", json={})
    assert response.status_code == 404
