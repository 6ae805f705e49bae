"""Property-based tests (Hypothesis) of the parsers that meet untrusted input: the message
JSON codec, the lean transport's SSE parser, tool argument validation and the MCP server
config parser."""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiops_core import tool
from aiops_core.context import RunContext
from aiops_core.errors import MessageError, UserError
from aiops_core.mcp import MCPServerConfig
from aiops_core.messages import (
    AssistantMessage,
    ToolCall,
    ToolResultMessage,
    UserMessage,
    dump_message,
    load_message,
)
from aiops_core.providers._openai_lean import iter_sse_data
from aiops_core.tools import ToolInvocation, execute_tool

from .report import RESULTS

EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
"""Any text that is valid Unicode (lone surrogates are refused before they get here)."""
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)
calls = st.builds(
    ToolCall,
    id=st.text("abcdef0123456789", min_size=1, max_size=8),
    name=st.from_regex(r"[a-z_]{1,12}", fullmatch=True),
    arguments=st.dictionaries(text, json_values, max_size=4),
)
messages = st.one_of(
    st.builds(UserMessage, content=text),
    st.builds(AssistantMessage, content=text, tool_calls=st.lists(calls, max_size=3)),
    st.builds(
        ToolResultMessage,
        tool_call_id=st.text("abc123", min_size=1, max_size=6),
        name=st.from_regex(r"[a-z_]{1,12}", fullmatch=True),
        content=text,
        is_error=st.booleans(),
    ),
)


@EXAMPLES
@given(messages)
def test_every_message_survives_the_json_round_trip(message) -> None:
    assert load_message(dump_message(message)) == message
    RESULTS.add_inputs("codec: generated messages round-tripped", 1, "equal after the trip")


@EXAMPLES
@given(messages, st.data())
def test_a_truncated_record_fails_with_a_message_error(message, data) -> None:
    record = dump_message(message)
    cut = data.draw(st.integers(0, len(record) - 1))
    with pytest.raises(MessageError):
        load_message(record[:cut])
    RESULTS.add_inputs("codec: truncated records", 1, "MessageError")


@EXAMPLES
@given(messages, st.integers(3, 10**6))
def test_a_record_of_a_newer_format_names_the_version(message, version) -> None:
    record = json.loads(dump_message(message)) | {"v": version}
    with pytest.raises(MessageError, match=f"version {version}"):
        load_message(json.dumps(record))
    RESULTS.add_inputs("codec: unknown format versions", 1, "MessageError naming the version")


@EXAMPLES
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash_the_codec(raw) -> None:
    with contextlib.suppress(MessageError):
        load_message(raw)
    RESULTS.add_inputs("codec: arbitrary bytes", 1, "a message or MessageError")


async def _collect(chunks: list[bytes]) -> list[str]:
    async def source() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    return [data async for data in iter_sse_data(source())]


def _cut(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(body) + 1) for c in cuts} | {0, len(body)})
    return [body[a:b] for a, b in itertools.pairwise(points)]


sse_data = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\r\n"))


@EXAMPLES
@given(
    st.lists(sse_data, min_size=1, max_size=6),
    st.sampled_from([b"\n", b"\r\n", b"\r"]),
    st.lists(st.integers(0, 10_000), max_size=8),
)
def test_sse_events_arrive_whole_however_the_stream_is_cut(events, newline, cuts) -> None:
    body = b"".join(
        b": comment" + newline + b"data: " + event.encode() + newline + newline for event in events
    )
    assert anyio.run(_collect, _cut(body, cuts)) == events
    RESULTS.add_inputs("SSE parser: streams cut at random points", 1, "the same events")


@EXAMPLES
@given(st.binary(max_size=300), st.lists(st.integers(0, 400), max_size=5))
def test_sse_parser_takes_any_bytes(raw, cuts) -> None:
    body = b"data: " + raw + b"\n\n"  # invalid UTF-8 included
    events = anyio.run(_collect, _cut(body, cuts))
    assert events and all(isinstance(event, str) for event in events)
    RESULTS.add_inputs("SSE parser: arbitrary bytes", 1, "text events, no exception")


@tool
def configure(device: str, vlan: int, tags: list[str], shutdown: bool = False) -> str:
    """Configure a port."""
    return f"{device} {vlan} {tags} {shutdown}"


@EXAMPLES
@given(st.dictionaries(st.sampled_from(["device", "vlan", "tags", "shutdown", "x"]), json_values))
def test_any_tool_arguments_give_a_result_or_a_tool_error(arguments: dict[str, Any]) -> None:
    call = ToolCall(id="c1", name="configure", arguments=arguments)
    invocation = ToolInvocation(call=call, tool=configure, context=RunContext())
    result = anyio.run(execute_tool, invocation)
    if result.is_error:
        assert "configure" in result.text
    RESULTS.add_inputs("tool arguments: generated", 1, "a result or a tool error naming the tool")


@EXAMPLES
@given(
    st.dictionaries(
        st.sampled_from(["name", "transport", "command", "args", "url", "headers", "timeout", "x"]),
        json_values,
    )
)
def test_any_mcp_server_config_parses_or_says_what_to_fix(data: dict[str, Any]) -> None:
    try:
        MCPServerConfig.from_dict(data)
    except UserError as err:
        assert "Invalid MCP server configuration" in str(err) or str(err)
    RESULTS.add_inputs("MCP server configs: generated", 1, "a config or a UserError")
