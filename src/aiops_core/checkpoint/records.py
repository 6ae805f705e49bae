"""How stores turn messages and metadata into records and back.

Every store keeps one record per message, written by :func:`~aiops_core.messages.dump_message`
(which carries the format version ``"v"``). Reading maps any unreadable record to
:class:`~aiops_core.errors.CorruptThreadError` naming the thread, so one bad thread never breaks
another.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ..errors import CorruptThreadError, MessageError, UserError
from ..messages import (
    FORMAT_VERSION,
    AssistantMessage,
    Message,
    SystemMessage,
    ToolResultMessage,
    UserMessage,
    dump_message,
    load_message,
)

__all__ = ["decode_messages", "decode_metadata", "encode_messages", "encode_metadata"]


_MESSAGE_TYPES = (SystemMessage, UserMessage, AssistantMessage, ToolResultMessage)
_MESSAGES: TypeAdapter[list[Message]] = TypeAdapter(list[Message])


def encode_messages(messages: Sequence[Message]) -> list[str]:
    """One JSON record per message.

    Raises:
        UserError: an item is not an aiops message (build one with ``parse_message``).
    """
    for message in messages:
        if not isinstance(message, _MESSAGE_TYPES):
            raise UserError(
                f"Only aiops messages can be stored, got {type(message).__name__}; "
                "convert dicts with aiops_core.messages.parse_message"
            )
    return [dump_message(m) for m in messages]


def decode_messages(thread_id: str, records: Sequence[str | bytes]) -> list[Message]:
    """Parse a thread's records in order.

    Raises:
        CorruptThreadError: a record is not valid JSON or not a message this release can read.
    """
    if not records:
        return []
    try:
        # One JSON parse and one validation of the whole thread: several times faster than a
        # load_message() per record. Records without a readable version take the general path.
        joined = b",".join(r if isinstance(r, bytes) else r.encode() for r in records)
        items = json.loads(b"[" + joined + b"]")
        if len(items) == len(records) and all(
            type(item) is dict
            and type(v := item.pop("v", None)) is int
            and 1 <= v <= FORMAT_VERSION
            for item in items
        ):
            return _MESSAGES.validate_python(items)
    except (ValueError, UnicodeError, ValidationError):
        pass
    messages = []
    for index, record in enumerate(records):
        try:
            messages.append(load_message(record))
        except (MessageError, UnicodeError) as err:
            raise CorruptThreadError(thread_id, f"message {index}: {err}") from None
    return messages


def encode_metadata(metadata: Mapping[str, Any]) -> str:
    """Metadata as compact JSON (it must be JSON-serialisable)."""
    try:
        return json.dumps(metadata, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as err:
        raise UserError(f"Thread metadata must be JSON-serialisable: {err}") from None


def decode_metadata(thread_id: str, text: str | bytes | None) -> dict[str, Any]:
    """Parse stored metadata, or :class:`CorruptThreadError`."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except (ValueError, UnicodeError) as err:
        raise CorruptThreadError(thread_id, f"metadata is not JSON ({err})") from None
    if not isinstance(value, dict):
        raise CorruptThreadError(thread_id, "metadata is not a JSON object")
    return value
