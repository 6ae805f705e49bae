"""MCP tool results → aiops tool-result content.

Every MCP content type has one mapping:

============================  ==============================================================
MCP content                   aiops content part
============================  ==============================================================
text                          ``TextPart``
image                         ``ImagePart`` (base64 data, media type)
audio                         ``TextPart`` marker (no model here takes audio tool results)
embedded text resource        ``TextPart`` (the resource's text)
embedded blob resource        ``ImagePart`` for ``image/*``, else a ``TextPart`` marker
resource link                 ``DataPart`` ``{"type": "resource_link", "uri": ..., ...}``
structured content            ``DataPart`` (first), replacing text that only repeats it;
                              a plain value the SDK wrapped as ``{"result": v}`` stays text
============================  ==============================================================
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any

from ..messages import ContentPart, DataPart, ImagePart, TextPart

if TYPE_CHECKING:
    import mcp_types

__all__ = ["convert_content", "convert_resource_contents", "convert_result", "error_text"]


def _blob_size(data: str) -> int:
    try:
        return len(base64.b64decode(data, validate=False))
    except (binascii.Error, ValueError):
        return len(data)


def convert_content(item: Any) -> ContentPart:
    """Convert one MCP content block to a content part."""
    kind = getattr(item, "type", None)
    if kind == "text":
        return TextPart(text=item.text)
    if kind == "image":
        return ImagePart(data=item.data, media_type=item.mime_type or "image/png")
    if kind == "audio":
        return TextPart(text=f"[audio {item.mime_type}, {_blob_size(item.data)} bytes, omitted]")
    if kind == "resource":
        return convert_resource_contents(item.resource)
    if kind == "resource_link":
        link: dict[str, Any] = {"type": "resource_link", "uri": str(item.uri), "name": item.name}
        for key in ("title", "description", "mime_type"):
            value = getattr(item, key, None)
            if value:
                link[key] = value
        return DataPart(data=link)
    # A content type newer than this release: keep what it says, as data.
    dump = item.model_dump(mode="json", exclude_none=True) if hasattr(item, "model_dump") else item
    return DataPart(data=dump)


def convert_resource_contents(resource: Any) -> ContentPart:
    """Convert the contents of a resource (embedded in a result, or read) to a content part."""
    uri = str(resource.uri)
    text = getattr(resource, "text", None)
    if text is not None:
        return TextPart(text=text)
    mime = resource.mime_type or "application/octet-stream"
    if mime.startswith("image/"):
        return ImagePart(data=resource.blob, media_type=mime)
    return TextPart(text=f"[binary resource {uri} ({mime}, {_blob_size(resource.blob)} bytes)]")


def _repeats(text: str, structured: Any) -> bool:
    """Whether a text block is just the JSON of the structured content (servers send both)."""
    try:
        parsed = json.loads(text)
    except ValueError:
        return isinstance(structured, dict) and structured.get("result") == text
    if parsed == structured:
        return True
    return (
        isinstance(structured, dict)
        and set(structured) == {"result"}
        and (parsed == structured["result"])
    )


def convert_result(result: mcp_types.CallToolResult) -> list[ContentPart]:
    """Convert a successful ``CallToolResult`` to content parts (see the module table)."""
    structured = result.structured_content
    texts = [getattr(i, "text", "") for i in result.content if getattr(i, "type", None) == "text"]
    if _is_wrapped_scalar(structured) and any(_repeats(t, structured) for t in texts):
        structured = None  # the SDK wrapped a plain value: the text says it best
    parts: list[ContentPart] = []
    if structured is not None:
        parts.append(DataPart(data=structured))
    for item in result.content:
        text = getattr(item, "text", None) if getattr(item, "type", None) == "text" else None
        if structured is not None and text is not None and _repeats(text, structured):
            continue
        parts.append(convert_content(item))
    return parts


def _is_wrapped_scalar(structured: Any) -> bool:
    return (
        isinstance(structured, dict)
        and set(structured) == {"result"}
        and isinstance(structured["result"], str | int | float | bool | None)
    )


def error_text(result: mcp_types.CallToolResult) -> str:
    """The readable text of an error result (its text blocks, else a generic phrase)."""
    texts = [str(getattr(item, "text", "")) for item in result.content if item.type == "text"]
    return " ".join(t.strip() for t in texts if t.strip()) or "the tool reported an error"
