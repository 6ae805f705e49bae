"""Text helpers shared by the guard-rail middleware: token estimates and streamed-text rewriting."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace

from ..messages import (
    AssistantMessage,
    Message,
    TextPart,
    ToolResultMessage,
    UserMessage,
    content_text,
)
from ..providers.base import ModelResponse, ModelStreamEvent, ResponseDone, TextDelta

__all__ = [
    "estimate_tokens",
    "map_content",
    "message_text",
    "rewrite_response",
    "rewrite_stream",
]

_PEM_BEGIN = "-----BEGIN "
_PEM_MARK = re.compile(r"\n|-----BEGIN |-----END ")


def message_text(message: Message) -> str:
    """The text of a message as a model would read it (tool-call arguments included)."""
    if isinstance(message, AssistantMessage):
        calls = "".join(f"{c.name}{json.dumps(c.arguments)}" for c in message.tool_calls)
        return message.content + calls
    return content_text(message.content)


def estimate_tokens(messages: Sequence[Message]) -> int:
    """A provider-neutral token estimate: about four characters per token plus framing."""
    return sum(len(message_text(m)) // 4 + 4 for m in messages)


def map_content(message: UserMessage | ToolResultMessage, fn: Callable[[str], str]) -> Message:
    """The message with ``fn`` applied to its text parts; the same object when nothing changed."""
    content = message.content
    if isinstance(content, str):
        new = fn(content)
        return message if new == content else message.model_copy(update={"content": new})
    parts = [TextPart(text=fn(p.text)) if isinstance(p, TextPart) else p for p in content]
    changed = any(a is not b and a != b for a, b in zip(parts, content, strict=True))
    return message.model_copy(update={"content": parts}) if changed else message


async def rewrite_stream(
    events: AsyncIterator[ModelStreamEvent], fn: Callable[[str], str]
) -> AsyncIterator[ModelStreamEvent]:
    """Apply ``fn`` to streamed text one complete line at a time.

    Text is held back until a newline (or the end of the answer), so a pattern that fits on one
    line is never split across two deltas; an open ``-----BEGIN ...`` block is held back until its
    ``-----END`` line, so a streamed private key is redacted whole. The final response's content
    is rewritten whole, so it equals the concatenated deltas for line-local patterns.

    Each character is scanned once, however long a line or a held-back block grows.
    """
    pending = ""  # text not yet passed on
    lines_end = 0  # pending[:lines_end] is whole lines, already scanned for PEM markers
    held = -1  # start of the line of the first open "-----BEGIN " in pending[:lines_end]
    async for event in events:
        if isinstance(event, TextDelta):
            pending += event.text
            last = pending.rfind("\n", lines_end)
            if last == -1:
                continue
            # Markers hold no newline, so none straddles lines_end: scan only the new lines.
            line_start = lines_end
            for mark in _PEM_MARK.finditer(pending, lines_end, last + 1):
                if mark[0] == "\n":
                    line_start = mark.end()
                elif mark[0] == _PEM_BEGIN:
                    if held == -1:  # an open PEM block: hold it back until it ends
                        held = line_start
                else:
                    held = -1
            lines_end = last + 1
            ready = lines_end if held == -1 else held
            if ready:
                yield TextDelta(fn(pending[:ready]))
                pending = pending[ready:]
                lines_end -= ready
                held = -1 if held == -1 else held - ready
        elif isinstance(event, ResponseDone):
            if pending:
                yield TextDelta(fn(pending))
                pending, lines_end, held = "", 0, -1
            changed = rewrite_response(event.response, fn)
            yield event if changed is None else ResponseDone(changed)
        else:
            yield event


def rewrite_response(response: ModelResponse, fn: Callable[[str], str]) -> ModelResponse | None:
    """The response with ``fn`` applied to its text; ``None`` when that changes nothing."""
    message = response.message
    content = fn(message.content)
    if content == message.content:
        return None
    return replace(response, message=message.model_copy(update={"content": content}))
