"""``aiops_core.summary``: the request, transcript and placement shared by the summarization
middleware and ``context_policy="summarize"``."""

from __future__ import annotations

import pytest

from aiops_core.errors import AiopsError
from aiops_core.messages import (
    AssistantMessage,
    SystemMessage,
    ToolCall,
    ToolResultMessage,
    UserMessage,
)
from aiops_core.providers import ModelResponse
from aiops_core.summary import (
    DEFAULT_PROMPT,
    summary_request,
    summary_text,
    transcript,
    with_summary,
)

TURN = [
    UserMessage(content="Is core-sw-01 up?"),
    AssistantMessage(content="", tool_calls=[ToolCall(id="c1", name="status", arguments={})]),
    ToolResultMessage(tool_call_id="c1", name="status", content="up"),
    AssistantMessage(content="It is up."),
]


def test_the_transcript_names_calls_and_quotes_results() -> None:
    assert transcript(TURN).splitlines() == [
        "user: Is core-sw-01 up?",
        "assistant:  [called: status]",
        "tool status: up",
        "assistant: It is up.",
    ]


def test_the_request_continues_an_earlier_summary_and_fits_a_bound() -> None:
    request = summary_request(TURN, earlier="checked sw-00", max_tokens=300)
    system, user = request.messages
    assert isinstance(system, SystemMessage) and system.content == DEFAULT_PROMPT
    assert user.content.startswith("Summary so far:\nchecked sw-00\n\nLater messages:\nuser: Is")
    assert request.settings == {"max_tokens": 300}
    long = [UserMessage(content=f"question {n} " + "x" * 100) for n in range(50)]
    bounded = summary_request(long, max_chars=1_000).messages[1].content
    assert (
        bounded.startswith("[")
        and "earlier characters of the conversation were left out" in bounded
    )
    assert bounded.endswith("question 49 " + "x" * 100)  # the newest part is kept
    assert len(bounded) < 1_100


def test_the_summary_joins_the_system_prompt_or_becomes_one() -> None:
    joined = with_summary([SystemMessage(content="be brief")], "the gist")
    assert [m.content for m in joined] == [
        "be brief\n\nSummary of the earlier conversation:\nthe gist"
    ]
    alone = with_summary([], "the gist")
    assert [m.content for m in alone] == ["Summary of the earlier conversation:\nthe gist"]


def test_an_empty_summary_is_an_error() -> None:
    assert summary_text(ModelResponse(message=AssistantMessage(content=" gist \n"))) == "gist"
    with pytest.raises(AiopsError, match="empty summary"):
        summary_text(ModelResponse(message=AssistantMessage(content="  ")))
