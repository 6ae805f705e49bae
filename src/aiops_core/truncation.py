"""Capping tool results: a tool (or an MCP server) cannot flood the model's context.

A result longer than the limit keeps its first ``limit`` characters and ends with a marker that
tells the model it was truncated, how long it was and how much was cut, so it can ask for less.
Size is counted as the model would receive it: text as is, data parts as compact JSON, images by
their base64 data (or URL). A data part that does not fit becomes its JSON text cut to fit; an
image that does not fit is replaced by a one-line note.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from .messages import ContentPart, DataPart, ImagePart, TextPart

__all__ = [
    "DEFAULT_MAX_TOOL_RESULT_CHARS",
    "READ_TOOL_RESULT",
    "content_size",
    "truncate_content",
    "truncate_text",
]

DEFAULT_MAX_TOOL_RESULT_CHARS = 20_000
"""The agent's default ``max_tool_result_chars``: about 5,000 tokens, room for a page of
inventory or logs, small enough that a few calls per step leave the context usable."""


_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"), default=str)


def _json(data: object) -> str:
    return _COMPACT_JSON.encode(data)


def _part_size(part: ContentPart) -> int:
    if isinstance(part, TextPart):
        return len(part.text)
    if isinstance(part, DataPart):
        return len(_json(part.data))
    return len(part.data or part.url or "")


def content_size(content: str | Sequence[ContentPart]) -> int:
    """Characters of tool-result content, counted as described in the module docstring."""
    if isinstance(content, str):
        return len(content)
    return sum(_part_size(part) for part in content)


READ_TOOL_RESULT = "read_tool_result"
"""The built-in tool that reads more of a truncated tool result (see ``aiops_core.agent``)."""


def _marker(total: int, kept: int, limit: int, call_id: str | None = None) -> str:
    head = (
        f"[truncated: this tool result had {total:,} characters; {total - kept:,} were cut to "
        f"keep it within max_tool_result_chars={limit:,}."
    )
    if call_id is None:
        return f"{head} Ask for less (a filter, a smaller page) if you need the rest.]"
    return (
        f"{head} To read more, call {READ_TOOL_RESULT}(call_id={call_id!r}, offset={kept}, "
        f"length=...), or ask the tool for less (a filter, a smaller page).]"
    )


def truncate_text(text: str, limit: int, call_id: str | None = None) -> str:
    """``text`` cut to ``limit`` characters plus a marker, or unchanged when it fits.

    With ``call_id``, the marker tells the model how to read the rest with
    :data:`READ_TOOL_RESULT`.
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n{_marker(len(text), limit, limit, call_id)}"


def truncate_content(
    content: str | Sequence[ContentPart],
    limit: int,
    size: int | None = None,
    call_id: str | None = None,
) -> str | list[ContentPart]:
    """``content`` cut to ``limit`` characters plus a marker, or unchanged when it fits.

    Args:
        content: a tool result's content.
        limit: most characters kept (the marker comes on top).
        size: ``content_size(content)`` when the caller knows it already.
        call_id: the tool call's id, for a marker that says how to read more.
    """
    if isinstance(content, str):
        return truncate_text(content, limit, call_id)
    total = content_size(content) if size is None else size
    if total <= limit:
        return list(content)
    kept: list[ContentPart] = []
    budget = limit
    for part in content:
        needed = _part_size(part)
        if needed <= budget:
            kept.append(part)
            budget -= needed
            continue
        if isinstance(part, ImagePart):
            kept.append(
                TextPart(text=f"[image {part.media_type} of {needed:,} characters omitted]")
            )
        elif budget:
            text = part.text if isinstance(part, TextPart) else _json(part.data)
            kept.append(TextPart(text=text[:budget]))
            budget = 0
        break
    kept.append(TextPart(text=_marker(total, limit - budget, limit, call_id)))
    return kept
