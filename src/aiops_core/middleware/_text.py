"""Text helpers shared by the guard-rail middleware: token estimates and streamed-text rewriting."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace

from ..messages import (
    AssistantMessage,
    DataPart,
    Message,
    TextPart,
    ToolResultMessage,
    UserMessage,
    content_text,
)
from ..providers.base import ModelStreamEvent, ResponseDone, TextDelta

__all__ = ["check_template", "estimate_tokens", "map_content", "message_text", "rewrite_stream"]


def message_text(message: Message) -> str:
    """The text of a message as a model would read it (tool-call arguments included)."""
    if isinstance(message, AssistantMessage):
        calls = "".join(f"{c.name}{json.dumps(c.arguments)}" for c in message.tool_calls)
        return message.content + calls
    return content_text(message.content)


def estimate_tokens(messages: Sequence[Message]) -> int:
    """A provider-neutral token estimate: about four characters per token plus framing."""
    return sum(len(message_text(m)) // 4 + 4 for m in messages)


def _map_data(part: DataPart, fn: Callable[[str], str]) -> DataPart | TextPart:
    """``fn`` applied to structured data as the model reads it: its JSON text.

    Patterns need the context around a value ("snmp-server community X", "password": "X"), so
    the JSON text is rewritten whole; it stays data when the result still parses, else it
    becomes text.
    """
    text = json.dumps(part.data, separators=(",", ":"), default=str)  # as content_text shows it
    new = fn(text)
    if new == text:
        return part
    try:
        return DataPart(data=json.loads(new))
    except ValueError:
        return TextPart(text=new)


def map_content(message: UserMessage | ToolResultMessage, fn: Callable[[str], str]) -> Message:
    """The message with ``fn`` applied to its text and data parts; the same object when
    nothing changed."""
    content = message.content
    if isinstance(content, str):
        new = fn(content)
        return message if new == content else message.model_copy(update={"content": new})
    parts = [
        TextPart(text=fn(p.text))
        if isinstance(p, TextPart)
        else _map_data(p, fn)
        if isinstance(p, DataPart)
        else p
        for p in content
    ]
    changed = any(a is not b and a != b for a, b in zip(parts, content, strict=True))
    return message.model_copy(update={"content": parts}) if changed else message


async def rewrite_stream(
    events: AsyncIterator[ModelStreamEvent], fn: Callable[[str], str]
) -> AsyncIterator[ModelStreamEvent]:
    """Apply ``fn`` to streamed text one complete line at a time.

    Text is held back until a newline (or the end of the answer), so a pattern that fits on one
    line is never split across two deltas; an open ``-----BEGIN ...`` block is held back until its
    ``-----END`` line, so a streamed private key is redacted whole. The final response's content is rewritten whole, so
    it equals the concatenated deltas for line-local patterns.
    """
    pending = ""
    async for event in events:
        if isinstance(event, TextDelta):
            pending += event.text
            head, sep, _ = pending.rpartition("\n")
            if not sep:
                continue
            ready = len(head) + 1
            begin = head.rfind("-----BEGIN ")
            if begin != -1 and head.find("-----END ", begin) == -1:
                # An open PEM block spans lines: hold it back until it ends (or the answer does).
                ready = head.rfind("\n", 0, begin) + 1
            if ready:
                yield TextDelta(fn(pending[:ready]))
                pending = pending[ready:]
        elif isinstance(event, ResponseDone):
            if pending:
                yield TextDelta(fn(pending))
                pending = ""
            message = event.response.message
            content = fn(message.content)
            if content != message.content:
                message = message.model_copy(update={"content": content})
                event = ResponseDone(replace(event.response, message=message))
            yield event
        else:
            yield event


def check_template(value: str, **names: str) -> str:
    """Validate a ``str.format`` template that may use only ``names`` (for config validators)."""
    try:
        value.format(**names)
    except (KeyError, IndexError, ValueError) as err:
        allowed = ", ".join("{" + n + "}" for n in names) or "no placeholders"
        raise ValueError(f"invalid template {value!r} ({err!r}); it may use {allowed}") from None
    return value
