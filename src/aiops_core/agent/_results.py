"""Large tool results: the thread keeps them whole, each request carries them capped.

A tool result longer than ``max_tool_result_chars`` is stored in the thread as the tool returned
it; every model request sends it cut to the limit with a marker (see
:mod:`aiops_core.truncation`) naming the call id and the built-in tool
``read_tool_result(call_id, offset, length)``, which returns more of the stored result. That
tool is offered only in requests that carry a truncated result. Offsets count characters of the
result's text as :func:`~aiops_core.messages.content_text` flattens it (data parts as compact
JSON): exact for a text or a data result, approximate past an image of a mixed result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..context import RunContext
from ..errors import ModelRetry
from ..messages import Message, ToolResultMessage, content_text
from ..tools import Tool
from ..truncation import READ_TOOL_RESULT, content_size, truncate_content

__all__ = ["ResultCapper", "read_tool_result"]


class ResultCapper:
    """Caps the tool results of a run's requests, remembering each capped copy by call id."""

    __slots__ = ("_capped", "limit", "skip")

    def __init__(self, limit: int | None, skip: str | None = READ_TOOL_RESULT) -> None:
        self.limit = limit
        self.skip = skip  # the reads of the built-in tool: capped by the tool itself
        self._capped: dict[str, tuple[ToolResultMessage, ToolResultMessage]] = {}

    def cap(self, messages: Sequence[Message]) -> tuple[list[Message], bool]:
        """``messages`` with long tool results capped, and whether any was."""
        limit = self.limit
        if limit is None:
            return list(messages), False
        out: list[Message] = []
        truncated = False
        for message in messages:
            if isinstance(message, ToolResultMessage) and message.name != self.skip:
                known = self._capped.get(message.tool_call_id)
                if known is not None and known[0] is message:
                    out.append(known[1])
                    truncated = True
                    continue
                size = content_size(message.content)
                if size > limit:
                    content = truncate_content(message.content, limit, size, message.tool_call_id)
                    capped = message.model_copy(update={"content": content})
                    self._capped[message.tool_call_id] = (message, capped)
                    out.append(capped)
                    truncated = True
                    continue
            out.append(message)
        return out, truncated


_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "call_id": {"type": "string", "description": "the id of the truncated tool call"},
        "offset": {"type": "integer", "minimum": 0, "description": "first character to read"},
        "length": {"type": "integer", "minimum": 1, "description": "characters to read"},
    },
    "required": ["call_id", "offset"],
    "additionalProperties": False,
}


def _int(arguments: dict[str, Any], name: str, default: int, least: int) -> int:
    value = arguments.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ModelRetry(f"{name} must be an integer of at least {least}, got {value!r}")
    return value


def read_tool_result(messages: Callable[[], Iterable[Message]], limit: int) -> Tool:
    """The built-in tool that returns a slice of a stored tool result.

    Args:
        messages: the run's conversation (history and current turn), read at call time.
        limit: the most characters one read returns (``max_tool_result_chars``), so a read is
            never truncated itself.
    """

    async def handler(arguments: dict[str, Any], context: RunContext) -> str:
        call_id = arguments.get("call_id")
        if not isinstance(call_id, str):
            raise ModelRetry(f"call_id must be a string, got {call_id!r}")
        offset = _int(arguments, "offset", 0, 0)
        length = min(_int(arguments, "length", limit, 1), limit)
        found = next(
            (
                m
                for m in messages()
                if isinstance(m, ToolResultMessage) and m.tool_call_id == call_id
            ),
            None,
        )
        if found is None:
            raise ModelRetry(f"No tool result with call_id {call_id!r} in this conversation")
        text = content_text(found.content)
        if offset >= len(text):
            return f"[offset {offset:,} is past the end: the result has {len(text):,} characters]"
        end = min(offset + length, len(text))
        piece = text[offset:end]
        if end < len(text):
            piece += (
                f"\n[characters {offset:,}-{end:,} of {len(text):,}; continue with offset={end}]"
            )
        else:
            piece += f"\n[characters {offset:,}-{end:,} of {len(text):,}; the end]"
        return piece

    return Tool(
        READ_TOOL_RESULT,
        "Read more of a tool result that was truncated: the characters from offset, at most "
        f"length (up to {limit:,}) of the result of the tool call call_id.",
        _PARAMETERS,
        handler,
    )
