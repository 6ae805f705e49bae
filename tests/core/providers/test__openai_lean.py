"""The lean transport of the ``openai`` handler: same wire as the SDK, its own HTTP and SSE code.

The shared behaviour (answers, streams, errors, pools, secrets) runs in the contract suite as
provider ``openai-lean``; this module covers what only the lean transport has.
"""

from __future__ import annotations

import contextlib
import io
import json
import pathlib
import sys
import textwrap
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx2
import pytest

from aiops_core.errors import BadRequestError, ServerError, UserError
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
from aiops_core.providers import ModelRequest, OutputSchema, ResponseDone, get_chat_model
from aiops_core.providers._openai_lean import OpenAILeanChatModel, iter_sse_data
from aiops_core.providers.openai import OpenAIChatModel
from aiops_core.tools import ToolDefinition
from tests.docs.examples import example
from tests.servers.llm import LLMServer, Recorded, Reply

from .conftest import KEY

pytestmark = pytest.mark.anyio

TOOL = ToolDefinition(
    "ping", "Ping a host.", {"type": "object", "properties": {"host": {"type": "string"}}}
)
OPTIONS: dict[str, Any] = {
    "temperature": 0.3,
    "max_tokens": 64,
    "stop": ["END"],
    "seed": 7,
    "tool_choice": "required",
    "parallel_tool_calls": True,
    "organization": "org-1",
    "project": "proj-1",
    "extra_headers": {"X-Team": "netops"},
}
HISTORY = [
    SystemMessage(content="You are terse."),
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
        tool_calls=[
            ToolCall(id="c1", name="ping", arguments={"host": "a"}),
            ToolCall(id="c2", name="ping", invalid_arguments='{"host": '),
        ],
    ),
    ToolResultMessage(tool_call_id="c1", name="ping", content="a: 1 ms"),
    ToolResultMessage(tool_call_id="c2", name="ping", content="bad arguments", is_error=True),
]
REQUESTS = {
    "history-tools": ModelRequest(HISTORY, tools=[TOOL], settings={"temperature": 0.1}),
    "structured": ModelRequest(
        [UserMessage(content="verdict?")],
        output_schema=OutputSchema(
            "Verdict", {"type": "object", "properties": {"up": {"type": "boolean"}}}
        ),
    ),
    "extra-setting": ModelRequest(
        [UserMessage(content="hi")],
        settings={"logprobs": True},  # type: ignore[typeddict-unknown-key]
    ),
}


def make(server: LLMServer, transport: str, **options: Any) -> Any:
    return get_chat_model(
        "openai:gpt-4o-mini",
        api_key=KEY,
        base_url=f"{server.url}/v1",
        transport=transport,
        **options,
    )


async def record(server: LLMServer, transport: str, request: ModelRequest) -> list[Recorded]:
    """The requests one transport sends for ``request``: one complete, one stream."""
    server.requests.clear()
    server.script(Reply(text="ok"), Reply(text="ok"))
    model = make(server, transport, **OPTIONS)
    await model.complete(request)
    [event async for event in model.stream(request)]
    await model.aclose()
    return list(server.requests)


# --------------------------------------------------------------------------- wire
def test_transport_selects_the_model_class() -> None:
    sdk = get_chat_model("openai:gpt-4o-mini", api_key=KEY)
    lean = get_chat_model("openai:gpt-4o-mini", api_key=KEY, transport="lean")
    assert type(sdk) is OpenAIChatModel
    assert type(lean) is OpenAILeanChatModel
    assert lean.name == "openai:gpt-4o-mini"


def test_unknown_transport_names_the_field() -> None:
    with pytest.raises(UserError, match="transport"):
        get_chat_model("openai:gpt-4o-mini", api_key=KEY, transport="fast")


def test_lean_transport_refuses_sdk_retries() -> None:
    with pytest.raises(UserError, match="max_retries=0"):
        get_chat_model("openai:gpt-4o-mini", api_key=KEY, transport="lean", max_retries=2)


@pytest.mark.parametrize("name", list(REQUESTS))
async def test_wire_bodies_equal_the_sdk(server: LLMServer, name: str) -> None:
    sdk = await record(server, "sdk", REQUESTS[name])
    lean = await record(server, "lean", REQUESTS[name])
    assert [r.body for r in lean] == [r.body for r in sdk]
    assert [r.path for r in lean] == [r.path for r in sdk] == ["/v1/chat/completions"] * 2
    assert lean[1].body["stream"] is True
    assert lean[1].body["stream_options"] == {"include_usage": True}
    assert "stream" not in lean[0].body
    for sent in (sdk[0], lean[0]):
        headers = sent.headers
        assert headers["authorization"] == f"Bearer {KEY}"
        assert headers["content-type"] == "application/json"
        assert headers["openai-organization"] == "org-1"
        assert headers["openai-project"] == "proj-1"
        assert headers["x-team"] == "netops"


async def test_default_base_url_from_the_environment(
    server: LLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", f"{server.url}/v1/")
    server.script(Reply(text="from env"))
    model = get_chat_model("openai:gpt-4o-mini", api_key=KEY, transport="lean")
    assert (await model.complete(ModelRequest([UserMessage(content="hi")]))).message.content == (
        "from env"
    )
    assert server.last.path == "/v1/chat/completions"
    await model.aclose()


async def test_the_sdk_is_not_imported(server: LLMServer) -> None:
    server.script(Reply(text="no sdk"), Reply(text="no sdk"))
    script = textwrap.dedent(
        f"""
        import sys, anyio
        from aiops_core.messages import UserMessage
        from aiops_core.providers import ModelRequest, get_chat_model

        async def main():
            model = get_chat_model(
                "openai:m", api_key="k", base_url="{server.url}/v1", transport="lean"
            )
            request = ModelRequest([UserMessage(content="hi")])
            print((await model.complete(request)).message.content)
            print([e async for e in model.stream(request)][-1].response.message.content)
            await model.aclose()

        anyio.run(main)
        print(sorted(m for m in ("openai", "anthropic", "ollama") if m in sys.modules))
        """
    )
    with anyio.fail_after(30):
        out = await anyio.run_process([sys.executable, "-c", script], check=True)
    assert out.stdout.decode().splitlines() == ["no sdk", "no sdk", "[]"]


def test_the_transports_share_the_wire_module_not_each_other() -> None:
    import ast

    from aiops_core.providers import _openai_lean, openai

    def imported(module: Any) -> set[str]:
        tree = ast.parse(pathlib.Path(module.__file__).read_text(encoding="utf-8"))
        return {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}

    assert "openai" not in imported(
        _openai_lean
    )  # no `from .openai import ...`, not even for types
    assert "_openai_wire" in imported(_openai_lean) and "_openai_wire" in imported(openai)
    assert _openai_lean.OpenAIConfig is openai.OpenAIConfig


def test_docs_example_runs() -> None:
    block = example("lean-transport")
    with LLMServer() as server:
        server.script(Reply(text="VLANs 10 and 20."))
        code = block.code.replace("http://127.0.0.1:8000", server.url)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, block.where, "exec"), {"__name__": "docs_example"})
        assert out.getvalue().strip() == "VLANs 10 and 20."
        assert server.last.body["model"] == "Qwen/Qwen2.5-7B-Instruct"
        assert server.last.headers["authorization"] == "Bearer not-needed"


# --------------------------------------------------------------------------- answers it must survive
def mock_model(handler: Any) -> tuple[OpenAILeanChatModel, httpx2.AsyncClient]:
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    model = get_chat_model(
        "openai:m",
        api_key=KEY,
        base_url="http://127.0.0.1:9/v1",
        transport="lean",
        http_client=client,
    )
    assert isinstance(model, OpenAILeanChatModel)
    return model, client


async def test_invalid_json_answer_is_a_server_error() -> None:
    model, client = mock_model(
        lambda request: httpx2.Response(
            200, content=b"<html>gateway</html>", headers={"x-request-id": "req-9"}
        )
    )
    with pytest.raises(ServerError, match="not valid JSON") as info:
        await model.complete(ModelRequest([UserMessage(content="hi")]))
    assert info.value.request_id == "req-9"
    await client.aclose()


async def test_answer_without_choices_is_a_server_error() -> None:
    model, client = mock_model(lambda request: httpx2.Response(200, json={"object": "error"}))
    with pytest.raises(ServerError, match="unexpected answer shape"):
        await model.complete(ModelRequest([UserMessage(content="hi")]))
    await client.aclose()


async def test_error_sent_with_200_ok_is_a_server_error() -> None:
    model, client = mock_model(
        lambda request: httpx2.Response(
            200, json={"error": {"message": f"upstream failed for {KEY}", "type": "server_error"}}
        )
    )
    with pytest.raises(ServerError, match="upstream failed for \\*\\*\\*"):
        await model.complete(ModelRequest([UserMessage(content="hi")]))
    await client.aclose()


async def test_error_body_that_is_not_json_keeps_its_text_and_hides_the_key() -> None:
    model, client = mock_model(
        lambda request: httpx2.Response(400, content=f"bad key {KEY}".encode())
    )
    with pytest.raises(BadRequestError) as info:
        await model.complete(ModelRequest([UserMessage(content="hi")]))
    assert info.value.message == "bad key ***"
    assert KEY not in repr(info.value)
    await client.aclose()


async def test_stream_in_odd_pieces_and_crlf() -> None:
    chunks = [
        {"model": "m", "choices": [{"index": 0, "delta": {"content": "Hel"}}]},
        {"choices": [{"index": 0, "delta": {"content": "lo"}, "finish_reason": "stop"}]},
        {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}},
    ]
    raw = (
        b": keep-alive\r\n\r\n"
        + b"".join(b"data: " + json.dumps(c).encode() + b"\r\n\r\n" for c in chunks)
        + b"data: [DONE]\r\n\r\n"
    )
    pieces = [raw[i : i + 7] for i in range(0, len(raw), 7)]  # splits lines and \r\n pairs

    class Body(httpx2.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            for piece in pieces:
                yield piece

    model, client = mock_model(
        lambda request: httpx2.Response(
            200, stream=Body(), headers={"content-type": "text/event-stream"}
        )
    )
    events = [e async for e in model.stream(ModelRequest([UserMessage(content="hi")]))]
    done = events[-1]
    assert isinstance(done, ResponseDone)
    assert done.response.message.content == "Hello"
    assert (done.response.usage.input_tokens, done.response.usage.output_tokens) == (3, 2)
    assert done.response.finish_reason == "stop"
    assert done.response.model == "m"
    await client.aclose()


# --------------------------------------------------------------------------- the SSE parser
async def sse(*chunks: bytes) -> list[str]:
    async def source() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    return [data async for data in iter_sse_data(source())]


async def test_sse_events_split_across_chunks() -> None:
    assert await sse(b"da", b'ta: {"a"', b": 1}\n", b"\ndata: [DONE]\n\n") == [
        '{"a": 1}',
        "[DONE]",
    ]


async def test_sse_line_endings_comments_and_fields() -> None:
    stream = b": ping\r\nevent: x\r\nid: 1\r\ndata: one\r\n\r\ndata:two\rdata: three\r\r"
    assert await sse(stream) == ["one", "two\nthree"]


async def test_sse_multibyte_character_split_across_chunks() -> None:
    raw = "data: Zürich → up\n\n".encode()
    cut = raw.index("→".encode()) + 1
    assert await sse(raw[:cut], raw[cut:]) == ["Zürich → up"]


async def test_sse_carriage_return_at_a_chunk_edge() -> None:
    assert await sse(b"data: a\r", b"\n\r", b"\ndata: b\r\n\r\n") == ["a", "b"]


async def test_sse_unterminated_last_event_is_delivered() -> None:
    assert await sse(b"data: a\n\ndata: b") == ["a", "b"]
    assert await sse(b"") == []
