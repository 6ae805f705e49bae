"""Conversation summaries: the prompt, the request and how a summary joins a request.

Shared by the ``summarization`` middleware (a summary per run, under a token threshold) and the
agent's ``context_policy="summarize"`` (a summary when a request would not fit the context
window, kept in the thread's metadata). Both send the older messages as a plain-text transcript
(tool calls by name, tool results as text) to a model with :data:`DEFAULT_PROMPT`, and add the
summary to the system prompt of later requests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .errors import AiopsError
from .messages import AssistantMessage, Message, SystemMessage, ToolResultMessage, UserMessage
from .middleware._text import message_text
from .providers.base import ModelRequest, ModelResponse

if TYPE_CHECKING:
    from .context import RunContext

__all__ = [
    "CONTINUE",
    "DEFAULT_PROMPT",
    "SUMMARY_MAX_TOKENS",
    "summary_request",
    "summary_text",
    "transcript",
    "with_summary",
]

DEFAULT_PROMPT = (
    "Summarise the conversation below for an assistant that will continue it. Keep device "
    "names, addresses, ticket numbers, decisions, open questions and tool findings. Be concise."
)

CONTINUE = "(The earlier part of this task is summarised in the system message. Continue.)"
"""The user message that starts a kept tail that would otherwise not start with one."""

SUMMARY_MAX_TOKENS = 800
"""Default ``max_tokens`` of a summary request."""

_OMITTED = "[{} earlier characters of the conversation were left out]\n"


def transcript(messages: Sequence[Message]) -> str:
    """The messages as plain text, one line each (tool calls named, tool results as text)."""
    lines = []
    for m in messages:
        if isinstance(m, ToolResultMessage):
            lines.append(f"tool {m.name or m.tool_call_id}: {m.text}")
        elif isinstance(m, AssistantMessage):
            calls = ", ".join(c.name for c in m.tool_calls)
            text = m.content + (f" [called: {calls}]" if calls else "")
            lines.append(f"assistant: {text}")
        else:
            lines.append(f"{m.role}: {message_text(m)}")
    return "\n".join(lines)


def summary_request(
    messages: Sequence[Message],
    *,
    earlier: str = "",
    prompt: str = DEFAULT_PROMPT,
    max_tokens: int = SUMMARY_MAX_TOKENS,
    context: RunContext | None = None,
    max_chars: int | None = None,
) -> ModelRequest:
    """The request that summarises ``messages`` (continuing the summary ``earlier``, if any).

    ``max_chars`` bounds the transcript: past it, its oldest part is left out (with a note), so
    the request fits the summarising model's window.
    """
    text = transcript(messages)
    if max_chars is not None and len(text) > max_chars:
        cut = len(text) - max_chars
        text = _OMITTED.format(f"{cut:,}") + text[cut:]
    if earlier:
        text = f"Summary so far:\n{earlier}\n\nLater messages:\n{text}"
    return ModelRequest(
        messages=[SystemMessage(content=prompt), UserMessage(content=text)],
        settings={"max_tokens": max_tokens},
        context=context,
    )


def summary_text(response: ModelResponse) -> str:
    """The summary in a model's response; :class:`AiopsError` when it is empty."""
    summary = response.message.content.strip()
    if not summary:
        raise AiopsError("the summarising model returned an empty summary")
    return summary


def with_summary(system: Sequence[Message], summary: str) -> list[Message]:
    """The system messages with the summary added to the first (or as one of their own)."""
    note = f"Summary of the earlier conversation:\n{summary}"
    if system and isinstance(system[0], SystemMessage):
        return [SystemMessage(content=f"{system[0].content}\n\n{note}"), *system[1:]]
    return [SystemMessage(content=note), *system]
