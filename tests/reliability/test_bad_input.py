"""Bad input through the real wire and the stores: malformed and hostile tool arguments,
oversized and invalid text, deep nesting, another user's thread, a model that does not exist,
middleware config that fails its schema. Each is refused with a clear error or answered as a
tool error; no stored thread is ever left unreadable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aiops_core import Agent, MCPClientPool, MemoryStore, MiddlewareSpec, SQLStore
from aiops_core.errors import (
    ContextLimitError,
    ModelNotFoundError,
    ThreadAccessError,
    UnknownNameError,
    UserError,
)
from aiops_core.messages import ToolResultMessage, content_text
from aiops_core.providers import get_chat_model
from tests.mcp_servers.support import FAST, stdio_config
from tests.servers.llm import Fail, LLMServer, Reply

from .conftest import KEY
from .report import RESULTS

pytestmark = pytest.mark.anyio

DEEP = 50_000
"""Nesting depth of the deep JSON: far past Python's recursion limit."""

BAD_ARGUMENTS: dict[str, str | dict[str, Any]] = {
    "not JSON": '{"device": "core-sw-01"',
    "a JSON list": '["core-sw-01"]',
    "a JSON string": '"core-sw-01"',
    "JSON null": "null",
    "wrong type": {"device": 42},
    "missing field": {},
    "unknown field": {"device": "a", "drop_table": True},
    "deeply nested": '{"device": ' + "[" * DEEP + "]" * DEEP + "}",
    "nested past the limit, as a dict": "{" + '"a": {' * DEEP + "}" * DEEP + "}",
    "huge string (2 MB)": {"device": "x" * 2_000_000},
    "lone surrogate escape": '{"device": "\\ud800"}',
    "NUL and control characters": {"device": "core\x00sw\x1b[31m01"},
}


def status(device: str) -> str:
    """A device's status."""
    return f"{device} is up"


def text_of(result: ToolResultMessage) -> str:
    return content_text(result.content)


@pytest.mark.parametrize("kind", list(BAD_ARGUMENTS))
async def test_malformed_tool_arguments_from_the_model_become_tool_errors(
    kind, llm: LLMServer, make_model, tmp_path: Path
) -> None:
    llm.script(Reply(tool_calls=[("status", BAD_ARGUMENTS[kind])]), Reply(text="sorry"))
    store = SQLStore(f"sqlite:///{tmp_path / 'threads.db'}")
    agent = Agent(make_model(), tools=[status], store=store)
    if kind == "huge string (2 MB)":
        # 2 MB of arguments cannot go back to a 128k-token model with the turn: the context
        # budget refuses the next request before sending it, and the turn is not stored.
        with pytest.raises(ContextLimitError, match="context window"):
            await agent.run("status of core-sw-01?", thread_id="t")
        assert await store.load("t") is None
        await store.aclose()
        RESULTS.add_inputs(
            "malformed tool arguments from the model",
            1,
            "a tool error (or a valid call), turn stored",
        )
        return
    result = await agent.run("status of core-sw-01?", thread_id="t")
    assert result.output == "sorry"
    (tool_result,) = [m for m in result.messages if isinstance(m, ToolResultMessage)]
    thread = await store.load("t")  # the stored turn reads back
    assert thread is not None and len(thread.messages) == len(result.messages)
    await store.aclose()
    assert len(text_of(tool_result)) < 21_000  # nothing huge goes back to the model
    RESULTS.add_inputs(
        "malformed tool arguments from the model", 1, "a tool error (or a valid call), turn stored"
    )
    if kind == "NUL and control characters":
        assert not tool_result.is_error  # valid: a string is a string
        return
    assert tool_result.is_error, (kind, text_of(tool_result)[:200])
    assert "status" in text_of(tool_result)


async def test_oversized_tool_results_are_truncated_for_the_model(tmp_path: Path) -> None:
    mode = tmp_path / "mode"
    mode.write_text("normal")
    sizes = [1_000_000, 5_000_000]
    async with MCPClientPool([stdio_config("proc", mode)], **FAST) as pool:
        for size in sizes:
            with LLMServer() as llm:  # records what the model was sent
                llm.script(Reply(tool_calls=[("flood", {"chars": size})]), Reply(text="ok"))
                model = get_chat_model("openai:gpt-4o-mini", api_key=KEY, base_url=f"{llm.url}/v1")
                try:
                    agent = Agent(
                        model, tools=[pool], store=MemoryStore(), max_tool_result_chars=20_000
                    )
                    result = await agent.run("show everything", thread_id="big")
                finally:
                    await model.aclose()
                sent = llm.requests[-1].body["messages"]
            # The thread keeps the whole result; the model got 20k of it and how to read more.
            (tool_result,) = [m for m in result.messages if isinstance(m, ToolResultMessage)]
            assert len(text_of(tool_result)) >= size
            (capped,) = [m["content"] for m in sent if m["role"] == "tool"]
            text = capped if isinstance(capped, str) else "".join(p["text"] for p in capped)
            assert 20_000 <= len(text) < 21_000
            assert "truncated" in text and "read_tool_result" in text
    RESULTS.add_inputs(
        "oversized MCP tool results (1 MB, 5 MB)",
        len(sizes),
        "20k to the model, whole in the thread",
    )


async def test_oversized_and_odd_user_messages(llm: LLMServer, make_model) -> None:
    llm.responder = lambda route, body: Reply(text="fine")
    store = MemoryStore()
    agent = Agent(make_model(), store=store)
    odd = {
        "10 MB of text": "x" * 10_000_000,
        "lone surrogate": "abc\ud800def",
        "NUL bytes": "a\x00b",
        "right-to-left override": "\u202eedoc\u202c",
        "emoji and combining marks": "e\u0301\U0001f600" * 1000,
    }
    outcomes: dict[str, str] = {}
    for name, text in odd.items():
        try:
            await agent.run(text, thread_id=name)
        except (UserError, ContextLimitError) as err:
            outcomes[name] = f"refused: {err}"
            assert await store.load(name) is None
        else:
            thread = await store.load(name)
            assert thread is not None and content_text(thread.messages[0].content) == text
            outcomes[name] = "stored as sent"
    # A lone surrogate cannot be encoded as UTF-8 for the wire: a clear refusal, not a crash.
    assert outcomes["lone surrogate"].startswith("refused: The message is not valid Unicode")
    # 10 MB is about 2.9M tokens: refused by the context budget before anything is sent.
    assert "context window" in outcomes["10 MB of text"]
    refused = ("lone surrogate", "10 MB of text")
    assert all(v == "stored as sent" for k, v in outcomes.items() if k not in refused)
    RESULTS.add_inputs("oversized / odd user messages", len(odd), "answered or refused clearly")


async def test_a_thread_of_another_user_is_refused(llm: LLMServer, make_model) -> None:
    llm.responder = lambda route, body: Reply(text="fine")
    store = MemoryStore()
    agent = Agent(make_model(), store=store)
    await agent.run("mine", thread_id="t1", user="alice")
    with pytest.raises(ThreadAccessError, match="another user"):
        await agent.run("let me read it", thread_id="t1", user="mallory")
    thread = await store.load("t1")
    assert thread is not None and len(thread.messages) == 2
    RESULTS.add_inputs("a thread id of another user", 1, "ThreadAccessError, thread unchanged")


async def test_a_model_that_does_not_exist(llm: LLMServer, make_model) -> None:
    with pytest.raises(UnknownNameError, match="nonexistent"):
        Agent("nonexistent:model")
    llm.script(Fail(404, "The model `gpt-9` does not exist"))
    store = MemoryStore()
    agent = Agent(make_model(), store=store)
    with pytest.raises(ModelNotFoundError, match="gpt-9"):
        await agent.run("hello", thread_id="t")
    assert await store.load("t") is None
    RESULTS.add_inputs("a model that does not exist", 2, "UnknownNameError / ModelNotFoundError")


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": "many"}, "max_attempts"),
        ({"initial_delay": 5, "max_delay": 1}, "max_delay"),
        ({"no_such_option": 1}, "no_such_option"),
    ],
)
def test_middleware_config_that_fails_its_schema_names_the_field(config, named) -> None:
    with pytest.raises(UserError, match=named):
        Agent("test", middleware=[MiddlewareSpec("retry", config=config)])
    RESULTS.add_inputs("middleware config failing its schema", 1, "UserError naming the field")
