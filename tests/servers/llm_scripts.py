"""What a test scripts the local LLM server to answer, in a provider-neutral form."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Cut",
    "Drop",
    "Fail",
    "Hang",
    "Recorded",
    "Reply",
    "Script",
    "StreamError",
    "args_text",
    "pieces",
]


@dataclass
class Reply:
    """A model answer: text and/or tool calls (``(name, args)``; args a dict or raw text).

    ``thinking`` is the model's reasoning, rendered only where the request turned reasoning on
    (Anthropic ``thinking``, an OpenAI ``reasoning_effort`` or a reasoning model on the
    Responses API, Ollama ``think``), in that provider's form. ``redacted_thinking`` adds an
    Anthropic ``redacted_thinking`` block.
    """

    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any] | str]] = field(default_factory=list)
    input_tokens: int = 11
    output_tokens: int = 7
    cached_tokens: int = 0
    finish: str | None = None
    request_id: str = "req-test-1"
    chunk: int = 5
    """Characters per streamed text or argument piece."""
    thinking: str = ""
    redacted_thinking: bool = False
    reasoning_tokens: int = 0


@dataclass
class Fail:
    """An HTTP error with the provider's error body."""

    status: int
    message: str = "something failed"
    headers: dict[str, str] = field(default_factory=dict)
    request_id: str = "req-fail-1"


@dataclass
class Hang:
    """Wait ``seconds`` before answering with ``then`` (a client timeout should fire first)."""

    seconds: float
    then: Reply = field(default_factory=Reply)


@dataclass
class Drop:
    """Close the connection without answering."""


@dataclass
class Cut:
    """Start answering ``then`` (status line, headers, ``fraction`` of the body), then reset.

    The connection is closed with a TCP reset mid-body: a streamed answer stops mid-stream, a
    JSON answer arrives truncated. Without ``then``, the answer is the server's responder's.
    """

    then: Reply | None = None
    fraction: float = 0.5


@dataclass
class StreamError:
    """Start a streamed answer with ``text``, then send the provider's in-stream error event."""

    message: str = "the model is overloaded"
    text: str = "partial "
    kind: str = "overloaded_error"


Script = Reply | Fail | Hang | Drop | Cut | StreamError


@dataclass
class Recorded:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


def args_text(args: dict[str, Any] | str) -> str:
    """Tool-call arguments as JSON text (raw text as it is)."""
    return args if isinstance(args, str) else json.dumps(args)


def pieces(text: str, size: int) -> list[str]:
    """``text`` cut into streamed pieces of ``size`` characters."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]
