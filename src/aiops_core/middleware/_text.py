"""Text helpers shared by the guard-rail middleware: token estimates and streamed-text rewriting."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from typing import Any

from ..messages import (
    AssistantMessage,
    DataPart,
    Message,
    TextPart,
    ToolResultMessage,
    UserMessage,
    content_text,
)
from ..providers.base import (
    ModelResponse,
    ModelStreamEvent,
    ResponseDone,
    TextDelta,
    ThinkingDelta,
)

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
    """The text of a message as a model would read it (thinking and tool-call arguments too)."""
    if isinstance(message, AssistantMessage):
        calls = "".join(f"{c.name}{json.dumps(c.arguments)}" for c in message.tool_calls)
        if message.thinking:
            return f"{message.thinking_text}\n{message.content}{calls}"
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


class _Lines:
    """Streamed text held back to whole lines (and whole PEM blocks) before it is rewritten.

    Each character is scanned once, however long a line or a held-back block grows.
    """

    __slots__ = ("held", "lines_end", "pending")

    def __init__(self) -> None:
        self.pending = ""  # text not yet passed on
        self.lines_end = 0  # pending[:lines_end] is whole lines, already scanned for PEM markers
        self.held = -1  # start of the line of the first open "-----BEGIN " in pending[:lines_end]

    def feed(self, text: str) -> str:
        """Add ``text``; return what is ready to pass on ('' while a line is open)."""
        self.pending += text
        pending = self.pending
        last = pending.rfind("\n", self.lines_end)
        if last == -1:
            return ""
        # Markers hold no newline, so none straddles lines_end: scan only the new lines.
        line_start = self.lines_end
        held = self.held
        for mark in _PEM_MARK.finditer(pending, self.lines_end, last + 1):
            if mark[0] == "\n":
                line_start = mark.end()
            elif mark[0] == _PEM_BEGIN:
                if held == -1:  # an open PEM block: hold it back until it ends
                    held = line_start
            else:
                held = -1
        lines_end = last + 1
        ready = lines_end if held == -1 else held
        self.pending = pending[ready:]
        self.lines_end = lines_end - ready
        self.held = -1 if held == -1 else held - ready
        return pending[:ready]

    def flush(self) -> str:
        """Everything still held back (the text ended)."""
        rest = self.pending
        self.pending, self.lines_end, self.held = "", 0, -1
        return rest


async def rewrite_stream(
    events: AsyncIterator[ModelStreamEvent],
    fn: Callable[[str], str] | None,
    *,
    thinking: Callable[[str], str] | None = None,
) -> AsyncIterator[ModelStreamEvent]:
    """Apply ``fn`` to streamed text one complete line at a time.

    Text is held back until a newline (or the end of the answer), so a pattern that fits on one
    line is never split across two deltas; an open ``-----BEGIN ...`` block is held back until its
    ``-----END`` line, so a streamed private key is redacted whole. The final response's content
    is rewritten whole, so it equals the concatenated deltas for line-local patterns.

    ``thinking`` rewrites thinking deltas the same way (each thinking part apart; what is held
    back is let out before the next event of another kind), and the final response's thinking
    parts that carry no signature (see :func:`rewrite_response`). ``fn=None`` leaves the answer
    text as it streams.
    """
    text = _Lines()
    held: dict[int, _Lines] = {}  # thinking part index -> its held-back lines
    async for event in events:
        if isinstance(event, ThinkingDelta) and thinking is not None:
            ready = held.setdefault(event.index, _Lines()).feed(event.text)
            if ready:
                yield ThinkingDelta(thinking(ready), event.index)
            continue
        for index, lines in held.items():  # thinking ended: let the rest out first
            rest = lines.flush()
            if rest:
                yield ThinkingDelta(thinking(rest), index)  # type: ignore[misc]
        if isinstance(event, TextDelta) and fn is not None:
            ready = text.feed(event.text)
            if ready:
                yield TextDelta(fn(ready))
        elif isinstance(event, ResponseDone):
            rest = text.flush()
            if rest and fn is not None:
                yield TextDelta(fn(rest))
            changed = rewrite_response(event.response, fn, thinking=thinking)
            yield event if changed is None else ResponseDone(changed)
        else:
            yield event


def rewrite_response(
    response: ModelResponse,
    fn: Callable[[str], str] | None,
    *,
    thinking: Callable[[str], str] | None = None,
) -> ModelResponse | None:
    """The response with ``fn`` applied to its text; ``None`` when that changes nothing.

    ``thinking`` is applied to the text of its thinking parts, except signed ones (Anthropic
    verifies a thinking block's signature when it goes back: it must stay as it was).
    """
    message = response.message
    update: dict[str, Any] = {}
    if fn is not None:
        content = fn(message.content)
        if content != message.content:
            update["content"] = content
    if thinking is not None and message.thinking:
        parts = [
            part
            if part.signature is not None or not part.text
            else part.model_copy(update={"text": thinking(part.text)})
            for part in message.thinking
        ]
        if any(new.text != old.text for new, old in zip(parts, message.thinking, strict=True)):
            update["thinking"] = parts
    if not update:
        return None
    return replace(response, message=message.model_copy(update=update))
