"""Record encoding: versioned message records and corruption reporting."""

from __future__ import annotations

import pytest

from aiops_core.checkpoint.records import (
    decode_messages,
    decode_metadata,
    encode_messages,
    encode_metadata,
)
from aiops_core.errors import CorruptThreadError, UserError
from aiops_core.messages import AssistantMessage, ThinkingPart, UserMessage

from .contract import every_message_type


def test_records_carry_the_format_version_and_round_trip() -> None:
    messages = every_message_type()
    records = encode_messages(messages)
    assert all(r.startswith(('{"v":1,', '{"v":2,')) for r in records)
    assert any(r.startswith('{"v":2,') for r in records)  # the thinking parts
    assert decode_messages("t", records) == messages
    assert decode_messages("t", [r.encode() for r in records]) == messages
    assert decode_messages("t", []) == []


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("{truncated", "not JSON"),
        ('{"v":1,"role":"wizard","content":"x"}', "unknown role"),
        ('{"v":99,"role":"user","content":"x"}', "newer than this release"),
        ('{"v":1,"role":"user","content":"a"},{"v":1,"role":"user","content":"b"}', "message 2"),
    ],
)
def test_a_bad_record_names_the_thread_and_the_position(bad: str, problem: str) -> None:
    good = encode_messages([UserMessage(content="q"), AssistantMessage(content="a")])
    with pytest.raises(CorruptThreadError, match=problem) as caught:
        decode_messages("ticket-9", [*good, bad])
    assert caught.value.thread_id == "ticket-9"
    assert "ticket-9" in str(caught.value)


def test_only_messages_can_be_stored() -> None:
    with pytest.raises(UserError):
        encode_messages([{"role": "user", "content": "dict"}])  # type: ignore[list-item]


def test_metadata() -> None:
    assert decode_metadata("t", encode_metadata({"a": [1, {"b": None}]})) == {"a": [1, {"b": None}]}
    assert decode_metadata("t", None) == {}
    with pytest.raises(CorruptThreadError):
        decode_metadata("t", "[1]")
    with pytest.raises(CorruptThreadError):
        decode_metadata("t", "{")
    with pytest.raises(UserError):
        encode_metadata({"x": {1, 2}})


def test_records_of_an_older_format_version_take_the_general_path() -> None:
    # A record without "v" predates versioning; it is read as version 1 by load_message.
    records = ['{"role":"user","content":"old"}', *encode_messages([UserMessage(content="new")])]
    assert decode_messages("t", records) == [
        UserMessage(content="old"),
        UserMessage(content="new"),
    ]


def test_version_1_and_version_2_records_mix_in_one_thread() -> None:
    stored_v1 = '{"v":1,"role":"assistant","content":"old answer","tool_calls":[]}'
    part = ThinkingPart(text="t", signature="s", provider="anthropic")
    new = encode_messages([AssistantMessage(content="new", thinking=[part])])
    assert decode_messages("t", [stored_v1, *new]) == [
        AssistantMessage(content="old answer"),
        AssistantMessage(content="new", thinking=[part]),
    ]
