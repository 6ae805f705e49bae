from __future__ import annotations

import json

import pytest

from aiops_core.errors import MessageError
from aiops_core.messages import (
    FORMAT_VERSION,
    AssistantMessage,
    DataPart,
    ImagePart,
    SystemMessage,
    TextPart,
    ThinkingPart,
    ToolCall,
    ToolResultMessage,
    Usage,
    UserMessage,
    content_text,
    dump_message,
    dump_messages,
    load_message,
    load_messages,
    parse_message,
    validate_history,
)

EVERY_KIND = [
    SystemMessage(content="You are helpful."),
    UserMessage(content="Is core-sw-01 up?"),
    UserMessage(
        content=[
            TextPart(text="What is in this picture?"),
            ImagePart(data="iVBORw0KGgo=", media_type="image/png"),
            ImagePart(url="https://example.invalid/a.jpg", media_type="image/jpeg"),
            DataPart(data={"site": "ams01", "vlans": [10, 20]}),
        ]
    ),
    AssistantMessage(content="Let me check."),
    AssistantMessage(
        tool_calls=[
            ToolCall(id="c1", name="get_device", arguments={"name": "core-sw-01"}),
            ToolCall(id="c2", name="ping", invalid_arguments='{"host": '),
        ]
    ),
    ToolResultMessage(tool_call_id="c1", name="get_device", content=[DataPart(data={"up": True})]),
    ToolResultMessage(tool_call_id="c2", name="ping", content="bad arguments", is_error=True),
    AssistantMessage(
        content="core-sw-01 is up.",
        thinking=[
            ThinkingPart(
                text="The user asks about core-sw-01.",
                signature="sig-abc",
                provider="anthropic",
                model="claude-sonnet-4-5",
            ),
            ThinkingPart(encrypted="opaque==", redacted=True, provider="anthropic"),
        ],
    ),
    AssistantMessage(
        item_id="msg_1",
        thinking=[ThinkingPart(text="summary", encrypted="gAAA", id="rs_1", provider="openai")],
        tool_calls=[ToolCall(id="call_1", name="ping", arguments={}, item_id="fc_1")],
    ),
]


@pytest.mark.parametrize("message", EVERY_KIND, ids=lambda m: m.role)
def test_every_message_round_trips_through_json(message):
    text = dump_message(message)
    assert json.loads(text)["v"] in (1, FORMAT_VERSION)
    assert load_message(text) == message


def test_records_carry_the_lowest_version_that_reads_them():
    # A release that predates thinking parts still reads every record that has none.
    plain = dump_message(AssistantMessage(content="hi", tool_calls=[ToolCall(id="a", name="t")]))
    assert plain.startswith('{"v":1,')
    assert "thinking" not in plain and "item_id" not in plain
    part = ThinkingPart(text="hm", signature="s", provider="anthropic")
    thinking = dump_message(AssistantMessage(content="hi", thinking=[part]))
    assert thinking.startswith('{"v":2,')
    assert json.loads(thinking)["thinking"] == [
        {"type": "thinking", "text": "hm", "signature": "s", "provider": "anthropic"}
    ]
    with_ids = dump_message(AssistantMessage(tool_calls=[ToolCall(id="a", name="t", item_id="fc")]))
    assert with_ids.startswith('{"v":2,')


def test_a_stored_version_1_thread_still_loads():
    # Records exactly as version 1 of the format wrote them (before thinking parts existed).
    stored = (
        '[{"v":1,"role":"user","content":"Is core-sw-01 up?"},'
        '{"v":1,"role":"assistant","content":"","tool_calls":[{"id":"call_1","name":"status",'
        '"arguments":{"name":"core-sw-01"},"invalid_arguments":null}]},'
        '{"v":1,"role":"tool","tool_call_id":"call_1","name":"status","content":"up",'
        '"is_error":false},'
        '{"v":1,"role":"assistant","content":"It is up.","tool_calls":[]}]'
    )
    messages = load_messages(stored)
    assert messages[1] == AssistantMessage(
        tool_calls=[ToolCall(id="call_1", name="status", arguments={"name": "core-sw-01"})]
    )
    assert messages[3].thinking == []  # type: ignore[union-attr]
    assert load_messages(dump_messages(messages)) == messages


def test_a_thinking_part_names_its_provider():
    with pytest.raises(ValueError, match="provider"):
        ThinkingPart(text="x")  # type: ignore[call-arg]
    message = AssistantMessage(
        thinking=[
            ThinkingPart(text="one", provider="ollama"),
            ThinkingPart(encrypted="x", redacted=True, provider="anthropic"),
            ThinkingPart(text="two", provider="ollama"),
        ]
    )
    assert message.thinking_text == "one\n\ntwo"


def test_message_lists_round_trip_and_keep_order():
    text = dump_messages(EVERY_KIND)
    assert load_messages(text) == EVERY_KIND


def test_a_record_without_version_is_read_as_version_1():
    assert load_message('{"role": "user", "content": "hi"}') == UserMessage(content="hi")


def test_a_newer_format_version_is_refused_with_a_clear_error():
    with pytest.raises(MessageError, match="newer than this release"):
        load_message(json.dumps({"v": FORMAT_VERSION + 1, "role": "user", "content": "hi"}))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"content": "x"}, "needs a 'role'"),
        ({"role": "", "content": "x"}, "unknown role ''"),
        ({"role": "robot", "content": "x"}, "unknown role 'robot'"),
        ({"role": "tool", "tool_call_id": "", "content": "x"}, "tool_call_id"),
        ({"role": "user"}, "content"),
        ({"role": "user", "content": "x", "extra": 1}, "extra"),
    ],
)
def test_invalid_messages_raise_message_error_naming_the_problem(data, expected):
    with pytest.raises(MessageError, match=expected):
        parse_message(data)


def test_non_json_records_raise_message_error():
    with pytest.raises(MessageError, match="not JSON"):
        load_message("{oops")
    with pytest.raises(MessageError, match="JSON array"):
        load_messages('{"role": "user"}')


def test_image_needs_url_or_data():
    with pytest.raises(ValueError, match="url"):
        ImagePart()


def test_tool_result_for_unknown_call_id_is_rejected():
    history = [UserMessage(content="q"), ToolResultMessage(tool_call_id="nope", content="x")]
    with pytest.raises(MessageError, match="unknown tool call id 'nope'"):
        validate_history(history)


def test_tool_result_answered_twice_is_rejected():
    call = ToolCall(id="a", name="t")
    history = [
        AssistantMessage(tool_calls=[call]),
        ToolResultMessage(tool_call_id="a", content="1"),
        ToolResultMessage(tool_call_id="a", content="2"),
    ]
    with pytest.raises(MessageError, match="answered twice"):
        validate_history(history)


def test_valid_history_passes():
    validate_history(EVERY_KIND)


def test_usage_adds_up():
    total = Usage(input_tokens=3, output_tokens=4, reasoning_tokens=3, requests=1) + Usage(
        input_tokens=10, output_tokens=1, cached_tokens=2, requests=1
    )
    assert total == Usage(
        input_tokens=13, output_tokens=5, cached_tokens=2, reasoning_tokens=3, requests=2
    )
    assert total.total_tokens == 18  # reasoning tokens are part of the output tokens


def test_content_text_flattens_parts():
    text = content_text([TextPart(text="a"), DataPart(data={"b": 1}), ImagePart(url="u")])
    assert text == 'a\n{"b":1}\n[image image/png]'


def test_messages_are_immutable():
    message = UserMessage(content="x")
    with pytest.raises(Exception, match="frozen"):
        message.content = "y"  # type: ignore[misc]
