"""Typed conversation messages, content parts and usage, with one JSON round trip.

Every store, the CLI and the Nautobot app serialise messages with :func:`dump_message` /
:func:`load_message` (or the list variants). Each record carries a format version ``v``: the
lowest version that can read it, so a release that predates a feature still reads every record
that does not use it.

Format versions:

1. system, user, assistant (text and tool calls) and tool-result messages.
2. adds an assistant message's ``thinking`` parts and the provider's output-item ids
   (``AssistantMessage.item_id``, ``ToolCall.item_id``). Only records that use them are
   written as version 2.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from .errors import MessageError, format_validation_error

__all__ = [
    "FORMAT_VERSION",
    "AssistantMessage",
    "ContentPart",
    "DataPart",
    "ImagePart",
    "Message",
    "SystemMessage",
    "TextPart",
    "ThinkingPart",
    "ToolCall",
    "ToolResultMessage",
    "Usage",
    "UserMessage",
    "content_text",
    "dump_message",
    "dump_messages",
    "load_message",
    "load_messages",
    "parse_message",
    "record_version",
    "validate_history",
]

FORMAT_VERSION = 2
"""The newest record format this release reads and writes (see the module docstring)."""

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class TextPart(BaseModel):
    """Plain text content."""

    model_config = _FROZEN
    type: Literal["text"] = "text"
    text: str


class ImagePart(BaseModel):
    """An image, either by URL or as base64 data with a media type."""

    model_config = _FROZEN
    type: Literal["image"] = "image"
    url: str | None = None
    data: str | None = None
    media_type: str = "image/png"

    def model_post_init(self, __context: Any) -> None:
        if not self.url and not self.data:
            raise ValueError("an image needs either 'url' or base64 'data'")


class DataPart(BaseModel):
    """Structured (JSON-compatible) data, such as a tool's dict result."""

    model_config = _FROZEN
    type: Literal["data"] = "data"
    data: Any


ContentPart = Annotated[TextPart | ImagePart | DataPart, Field(discriminator="type")]


def _unset(value: Any) -> bool:
    return value is None or value == [] or value is False


class ThinkingPart(BaseModel):
    """Reasoning the model did before answering, as its provider returned it.

    Kept with the assistant message so that it can go back to the provider that wrote it, as
    that provider requires (Anthropic: signed ``thinking`` and ``redacted_thinking`` blocks,
    unmodified; OpenAI Responses: ``reasoning`` items with their encrypted content; Ollama: the
    ``thinking`` text). Another provider never receives it.

    Attributes:
        text: the readable thinking (or its summary); empty when the provider withheld it.
        signature: Anthropic's signature over ``text``.
        encrypted: opaque reasoning the provider can read back (Anthropic ``redacted_thinking``
            data, OpenAI ``encrypted_content``).
        redacted: the provider withheld the text (``encrypted`` holds it).
        provider: the handler that produced it (``anthropic``, ``openai``, ``ollama``, ...).
        model: the model that produced it, as the handler was configured.
        id: the provider's id of the reasoning item (OpenAI ``rs_...``).
    """

    model_config = _FROZEN
    type: Literal["thinking"] = "thinking"
    text: str = ""
    signature: str | None = Field(default=None, exclude_if=_unset)
    encrypted: str | None = Field(default=None, exclude_if=_unset)
    redacted: bool = Field(default=False, exclude_if=_unset)
    provider: str = Field(min_length=1)
    model: str | None = Field(default=None, exclude_if=_unset)
    id: str | None = Field(default=None, exclude_if=_unset)


class Usage(BaseModel):
    """Token and request counts; add two with ``+``.

    ``reasoning_tokens`` are the part of ``output_tokens`` the model spent thinking, where the
    provider reports it (OpenAI ``reasoning_tokens``, Anthropic ``thinking_tokens``); they are
    already counted in ``output_tokens``. Likewise ``input_tokens`` is the whole prompt, of
    which ``cached_tokens`` were read from the provider's prompt cache (OpenAI
    ``cached_tokens``, Anthropic ``cache_read_input_tokens``) and ``cache_write_tokens`` were
    written to it (Anthropic ``cache_creation_input_tokens``).
    """

    model_config = ConfigDict(frozen=True)
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    requests: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
            requests=self.requests + other.requests,
        )


class SystemMessage(BaseModel):
    """Instructions for the model."""

    model_config = _FROZEN
    role: Literal["system"] = "system"
    content: str


class UserMessage(BaseModel):
    """What the person asked: text, or a list of content parts (text and images)."""

    model_config = _FROZEN
    role: Literal["user"] = "user"
    content: str | list[ContentPart]

    @property
    def text(self) -> str:
        return content_text(self.content)


class ToolCall(BaseModel):
    """One tool call requested by the model.

    ``arguments`` is the parsed JSON object. When the model produced arguments that are not valid
    JSON, ``arguments`` is empty and ``invalid_arguments`` keeps the raw text so the loop can send
    the model a correctable tool error.
    """

    model_config = _FROZEN
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    arguments: dict[str, Any] = Field(default_factory=dict)
    invalid_arguments: str | None = None
    item_id: str | None = Field(default=None, exclude_if=_unset)
    """The provider's id of the output item that carried the call, when it has one apart from
    the call id (OpenAI Responses ``fc_...``); sent back beside the reasoning it followed."""


class AssistantMessage(BaseModel):
    """The model's answer: text, tool calls, or both, and the thinking that preceded them.

    ``thinking`` parts come before the text and the tool calls, in the order the provider
    returned them. ``item_id`` is the provider's id of the output item that carried the text
    (OpenAI Responses ``msg_...``).
    """

    model_config = _FROZEN
    role: Literal["assistant"] = "assistant"
    content: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    thinking: list[ThinkingPart] = Field(default_factory=list, exclude_if=_unset)
    item_id: str | None = Field(default=None, exclude_if=_unset)

    @property
    def thinking_text(self) -> str:
        """The readable thinking, parts separated by a blank line."""
        return "\n\n".join(part.text for part in self.thinking if part.text)


class ToolResultMessage(BaseModel):
    """The result of one tool call, sent back to the model."""

    model_config = _FROZEN
    role: Literal["tool"] = "tool"
    tool_call_id: str = Field(min_length=1)
    name: str = ""
    content: str | list[ContentPart]
    is_error: bool = False

    @property
    def text(self) -> str:
        return content_text(self.content)


Message = Annotated[
    SystemMessage | UserMessage | AssistantMessage | ToolResultMessage,
    Field(discriminator="role"),
]


@cache
def _adapter() -> TypeAdapter[Message]:
    # Built on first use: building it at import would cost every `import aiops_core` user.
    return TypeAdapter(Message)


def content_text(content: str | Sequence[TextPart | ImagePart | DataPart]) -> str:
    """Flatten content to text: text parts as-is, data parts as compact JSON, images as a marker."""
    if isinstance(content, str):
        return content
    out: list[str] = []
    for part in content:
        if isinstance(part, TextPart):
            out.append(part.text)
        elif isinstance(part, DataPart):
            out.append(json.dumps(part.data, separators=(",", ":"), default=str))
        else:
            out.append(f"[image {part.media_type}]")
    return "\n".join(out)


def _explain(err: ValidationError) -> str:
    first = err.errors()[0]
    if first["type"] == "union_tag_not_found":
        return "a message needs a 'role' of system, user, assistant or tool"
    if first["type"] == "union_tag_invalid":
        return (
            f"unknown role {first.get('input', {}).get('role')!r}; "
            "use system, user, assistant or tool"
        )
    return format_validation_error(err, root="message")


def parse_message(data: Any) -> Message:
    """Validate a dict (or a message) into a typed message, raising :class:`MessageError`."""
    if isinstance(data, BaseModel):
        return data  # type: ignore[return-value]
    if isinstance(data, dict) and "v" in data:
        data = {k: v for k, v in data.items() if k != "v"}
    try:
        return _adapter().validate_python(data)
    except ValidationError as err:
        raise MessageError(f"Invalid message: {_explain(err)}") from None


def record_version(message: Message) -> int:
    """The lowest format version that can read ``message``."""
    if isinstance(message, AssistantMessage) and (
        message.thinking or message.item_id or any(c.item_id for c in message.tool_calls)
    ):
        return 2
    return 1


def dump_message(message: Message) -> str:
    """Serialise one message to a JSON object string carrying its format version."""
    body = _adapter().dump_json(message).decode()
    return f'{{"v":{record_version(message)},' + body[1:]


def _from_record(data: Any) -> Message:
    if not isinstance(data, dict):
        raise MessageError("Invalid message record: expected a JSON object")
    version = data.get("v", 1)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise MessageError(
            f"Message format version {version!r} is newer than this release understands "
            f"({FORMAT_VERSION}); upgrade aiops"
        )
    return parse_message(data)


def load_message(text: str | bytes) -> Message:
    """Parse a string written by :func:`dump_message` (any supported format version)."""
    try:
        data = json.loads(text)
    except ValueError as err:
        raise MessageError(f"Invalid message record: not JSON ({err})") from None
    return _from_record(data)


def dump_messages(messages: Iterable[Message]) -> str:
    """Serialise messages as a JSON array of versioned records."""
    return "[" + ",".join(dump_message(m) for m in messages) + "]"


def load_messages(text: str | bytes) -> list[Message]:
    """Parse a JSON array written by :func:`dump_messages`."""
    try:
        items = json.loads(text)
    except ValueError as err:
        raise MessageError(f"Invalid message list: not JSON ({err})") from None
    if not isinstance(items, list):
        raise MessageError("Invalid message list: expected a JSON array")
    return [_from_record(item) for item in items]


def validate_history(messages: Sequence[Message]) -> None:
    """Check a conversation's structure.

    Raises:
        MessageError: a tool result answers an unknown call id, or a call id is answered twice.
    """
    open_calls: set[str] = set()
    answered: set[str] = set()
    for index, message in enumerate(messages):
        if isinstance(message, AssistantMessage):
            open_calls.update(call.id for call in message.tool_calls)
        elif isinstance(message, ToolResultMessage):
            cid = message.tool_call_id
            if cid not in open_calls:
                raise MessageError(
                    f"Message {index}: tool result for unknown tool call id {cid!r}; "
                    "a tool result must follow the assistant message that made the call"
                )
            if cid in answered:
                raise MessageError(f"Message {index}: tool call id {cid!r} answered twice")
            answered.add(cid)
